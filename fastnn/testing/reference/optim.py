"""Reference (optim family): filled by its issue."""
