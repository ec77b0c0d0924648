"""2-D pooling (stub: implemented by its issue)."""


def max_pool2d(*args, **kwargs):
    raise NotImplementedError("max_pool2d is not implemented yet")


def avg_pool2d(*args, **kwargs):
    raise NotImplementedError("avg_pool2d is not implemented yet")
