"""Op implementations as autograd Functions (one family per module)."""
