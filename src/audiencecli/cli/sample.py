"""`audience sample` (issue #3; being written)."""
