"""Dropout module (stub: implemented by its issue)."""
from .module import Module


class Dropout(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Dropout is not implemented yet")
