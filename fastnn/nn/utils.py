"""Utilities for parameters and gradients (filled by the optimiser issue)."""
