"""fastnn.train (filled by its issue)."""
