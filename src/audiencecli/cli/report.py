"""`audience report` (issue #3; being written)."""
