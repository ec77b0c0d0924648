"""fastnn.data (filled by its issue)."""
