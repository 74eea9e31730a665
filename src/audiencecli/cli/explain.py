"""`audience explain` (issue #3; being written)."""
