"""`audience diff` (issue #3; being written)."""
