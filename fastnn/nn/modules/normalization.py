"""Batch-norm modules (stub: implemented by its issue)."""
from .module import Module


class BatchNorm1d(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("BatchNorm1d is not implemented yet")


class BatchNorm2d(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("BatchNorm2d is not implemented yet")
