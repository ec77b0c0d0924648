"""Reference (conv family): filled by its issue."""
