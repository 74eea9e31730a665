"""`audience validate` (issue #3; being written)."""
