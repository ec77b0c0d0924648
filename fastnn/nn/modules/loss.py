"""Loss modules (stub: implemented by its issue)."""
from .module import Module


class CrossEntropyLoss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("CrossEntropyLoss is not implemented yet")


class NLLLoss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("NLLLoss is not implemented yet")


class MSELoss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("MSELoss is not implemented yet")


class BCELoss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("BCELoss is not implemented yet")


class BCEWithLogitsLoss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("BCEWithLogitsLoss is not implemented yet")
