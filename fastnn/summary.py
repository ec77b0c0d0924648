"""``fastnn.summary``: a Keras-style table of a model's layers.

The model runs once on a zero batch; every leaf module's ``forward`` is
wrapped for that call (instance attribute, removed afterwards) to record its
output shape.  Parameter counts come from each leaf's own parameters; the
total counts every parameter of the model once.
"""
import sys
import types

import numpy as np

from . import _defaults
from .autograd import no_grad
from ._tensor import Tensor, _wrap_data

__all__ = ["summary"]


def _shape_of(out):
    if isinstance(out, Tensor):
        return tuple(out.shape)
    if isinstance(out, np.ndarray):
        return out.shape
    if isinstance(out, (tuple, list)):
        return [_shape_of(o) for o in out]
    return type(out).__name__


def _count(params):
    return sum(int(p._array.size) for p in params)


def summary(model, input_shape, batch_size=1, dtype=None, print_fn=print):
    """Prints each layer's output shape and parameter count; returns the total.

    Parameters
    ----------
    model : fastnn.nn.Module
    input_shape : tuple of int
        One sample's shape, without the batch axis (e.g. ``(3, 32, 32)``).
    batch_size : int
        Rows of the zero batch used for the forward pass (shown as ``-1``).
    dtype : dtype, optional
        The batch's dtype (the default dtype, ``get_default_dtype()``, if None).
    print_fn : callable
        Receives each line of the table (``print`` by default).

    Returns
    -------
    int
        Total number of parameters.

    Examples
    --------
    >>> import fastnn, fastnn.nn as nn
    >>> fastnn.summary(nn.Linear(4, 2), (4,), print_fn=lambda s: None)
    10
    """
    from .nn.modules.module import Module
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a fastnn.nn.Module, got {type(model).__name__}")
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    input_shape = tuple(int(s) for s in input_shape)
    if any(s <= 0 for s in input_shape):
        raise ValueError(f"summary: input_shape must be positive sizes, got {input_shape}")

    rows = []
    wrapped = []
    for name, m in model.named_modules():
        if any(True for _ in m.children()):
            continue                      # containers: their leaves are listed
        orig = m.forward

        def hook(*args, __m=m, __name=name, __orig=orig, **kwargs):
            out = __orig(*args, **kwargs)
            rows.append((__name or type(__m).__name__, type(__m).__name__, _shape_of(out),
                         _count(__m.parameters(recurse=False))))
            return out
        object.__setattr__(m, "forward", hook)
        wrapped.append(m)

    was_training = model.training
    model.eval()
    try:
        with no_grad():
            out = model(_wrap_data(np.zeros((batch_size,) + input_shape,
                                            dtype=_defaults.FLOAT if dtype is None else dtype)))
    finally:
        for m in wrapped:
            m.__dict__.pop("forward", None)
        model.train(was_training)

    def fmt(shape):
        if isinstance(shape, tuple):
            return str((-1,) + shape[1:])
        return str(shape)

    total = _count(model.parameters())
    trainable = sum(int(p._array.size) for p in model.parameters() if p.requires_grad)
    table = [(f"{n} ({t})", fmt(s), f"{c:,}") for n, t, s, c in rows]
    w0 = max([len("Layer (type)")] + [len(r[0]) for r in table])
    w1 = max([len("Output Shape")] + [len(r[1]) for r in table])
    w2 = max([len("Param #")] + [len(r[2]) for r in table])
    width = w0 + w1 + w2 + 6
    print_fn("-" * width)
    print_fn(f"{'Layer (type)':<{w0}}   {'Output Shape':<{w1}}   {'Param #':>{w2}}")
    print_fn("=" * width)
    for a, b, c in table:
        print_fn(f"{a:<{w0}}   {b:<{w1}}   {c:>{w2}}")
    print_fn("=" * width)
    print_fn(f"Input shape: {fmt((batch_size,) + input_shape)}, output shape: "
             f"{fmt(_shape_of(out))}")
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    print_fn("-" * width)
    return total


class _CallableModule(types.ModuleType):
    """Importing ``fastnn.summary`` (the submodule) binds it as the package
    attribute ``fastnn.summary``; making the module callable keeps
    ``fastnn.summary(model, shape)`` working however it was first reached."""

    def __call__(self, *args, **kwargs):
        return summary(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
