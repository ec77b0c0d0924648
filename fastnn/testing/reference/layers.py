"""Reference (layers family): filled by its issue."""
