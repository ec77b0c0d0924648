"""Pooling modules (stub: implemented by its issue)."""
from .module import Module


class MaxPool2d(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("MaxPool2d is not implemented yet")


class AvgPool2d(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("AvgPool2d is not implemented yet")
