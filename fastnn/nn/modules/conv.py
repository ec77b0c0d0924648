"""Convolution modules (stub: implemented by its issue)."""
from .module import Module


class Conv2d(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Conv2d is not implemented yet")
