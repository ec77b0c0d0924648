"""fastnn.optim (filled by its issue)."""
