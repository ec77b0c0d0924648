"""Activation modules."""
from .. import functional as F
from .module import Module


class ReLU(Module):
    """max(x, 0)."""

    def __init__(self, inplace=False):
        super().__init__()

    def forward(self, x):
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


class LeakyReLU(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("LeakyReLU is not implemented yet")


class Softmax(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Softmax is not implemented yet")


class LogSoftmax(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("LogSoftmax is not implemented yet")
