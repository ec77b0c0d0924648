"""Utilities for parameters and gradients: gradient clipping, the max-norm
constraint, and flattening parameters to one vector.

All of them work in place on the ndarrays behind the parameters (``.grad``
for the clipping functions, ``.data`` for ``max_norm_`` and
``vector_to_parameters``), outside autograd, and keep each array's dtype.
"""
import math

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "max_norm_", "parameters_to_vector",
           "vector_to_parameters"]


def _param_list(parameters, op):
    if isinstance(parameters, Tensor):
        return [parameters]
    try:
        ps = list(parameters)
    except TypeError:
        raise TypeError(f"{op}: parameters must be a Tensor or an iterable of Tensors, got "
                        f"{type(parameters).__name__}") from None
    for i, p in enumerate(ps):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameters[{i}] is a {type(p).__name__}, not a Tensor")
    return ps


def _writable_grad(p):
    """The ndarray of p's gradient, made writeable (copied) if it is not."""
    g = p._grad._array
    if not g.flags.writeable:
        g = g.copy()
        p.grad = g
    return g


def _vector_norm(a, norm_type):
    """The norm_type-norm of all elements of a, accumulated in float64."""
    x = np.abs(np.asarray(a, dtype=np.float64)).ravel()
    if x.size == 0:
        return 0.0
    if norm_type == math.inf:
        return float(x.max())
    if norm_type == -math.inf:
        return float(x.min())
    if norm_type == 0:
        return float(np.count_nonzero(x))
    if norm_type == 2.0:
        return float(np.sqrt(np.dot(x, x)))
    if norm_type == 1.0:
        return float(x.sum())
    return float(np.sum(x ** norm_type) ** (1.0 / norm_type))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients in place so that their joint norm is at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_``: the total norm is the norm of the
    vector of the per-parameter gradient norms; every gradient is multiplied
    by ``min(1, max_norm / (total_norm + 1e-6))``.  Parameters without a
    gradient are ignored.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
    max_norm : float
        The largest allowed norm.
    norm_type : float
        The p of the p-norm; ``inf`` (or ``'inf'``) for the largest absolute value.
    error_if_nonfinite : bool
        Raise RuntimeError if the total norm is NaN or infinite.
    foreach : ignored
        Accepted for PyTorch compatibility.

    Returns
    -------
    Tensor
        The total norm of the gradients before clipping (a scalar of the
        gradients' dtype).

    Shape
    -----
    Any; gradients keep their shapes.

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.zeros(2))
    >>> w.grad = fastnn.tensor([3.0, 4.0])
    >>> float(fastnn.nn.utils.clip_grad_norm_([w], max_norm=1.0))
    5.0
    >>> w.grad
    tensor([0.6, 0.8])
    """
    op = "clip_grad_norm_"
    ps = _param_list(parameters, op)
    norm_type = float(norm_type)
    max_norm = float(max_norm)
    grads = [_writable_grad(p) for p in ps if p.grad is not None]
    if not grads:
        return Tensor(np.zeros((), np.float32))
    dtype = np.result_type(*grads)
    if dtype.kind != "f":
        dtype = np.dtype(np.float32)
    norms = np.array([_vector_norm(g, norm_type) for g in grads], dtype=dtype)
    total = dtype.type(_vector_norm(norms, norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"{op}: the total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = dtype.type(max_norm) / (total + dtype.type(1e-6))
    coef = min(coef, dtype.type(1.0)) if not np.isnan(coef) else coef
    for g in grads:
        np.multiply(g, g.dtype.type(coef), out=g)
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient element to ``[-clip_value, clip_value]`` in place.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
    clip_value : float
        The largest allowed absolute value (>= 0).
    foreach : ignored

    Shape
    -----
    Any; gradients keep their shapes.

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.zeros(3))
    >>> w.grad = fastnn.tensor([-2.0, 0.5, 3.0])
    >>> fastnn.nn.utils.clip_grad_value_([w], 1.0)
    >>> w.grad
    tensor([-1. ,  0.5,  1. ])
    """
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _param_list(parameters, "clip_grad_value_"):
        if p.grad is not None:
            g = _writable_grad(p)
            np.clip(g, -clip_value, clip_value, out=g)


def max_norm_(parameters, max_norm, dim=0, norm_type=2.0):
    """Max-norm constraint: renormalises in place every slice along ``dim``
    whose norm exceeds ``max_norm`` (``torch.renorm`` semantics).

    Each sub-tensor ``p.data.select(dim, i)`` (for a Linear weight
    ``(out, in)`` with ``dim=0``: the incoming weights of output unit i; for
    a conv weight ``(K, C, R, S)``: filter i) with norm ``n > max_norm`` is
    multiplied by ``max_norm / (n + 1e-7)``; the others are left unchanged.
    Call it after ``optimizer.step()``.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Usually the weights only (a 1-D bias would be clipped element-wise).
    max_norm : float
        The largest allowed norm of a slice (>= 0).
    dim : int
        The dimension indexing the slices (default 0).
    norm_type : float
        The p of the p-norm (default 2).

    Shape
    -----
    Any with at least one dimension; the data keeps its shape and dtype.

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([[3.0, 4.0], [0.3, 0.4]]))
    >>> fastnn.nn.utils.max_norm_([w], max_norm=1.0)
    >>> w.data.round(4)
    array([[0.6, 0.8],
           [0.3, 0.4]], dtype=float32)
    """
    op = "max_norm_"
    max_norm = float(max_norm)
    if not max_norm >= 0:
        raise ValueError(f"{op}: max_norm must be >= 0, got {max_norm}")
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"{op}: norm_type must be > 0, got {norm_type}")
    for p in _param_list(parameters, op):
        d = p._array
        if d.ndim == 0:
            raise ValueError(f"{op}: cannot renormalise a 0-dimensional parameter")
        if not -d.ndim <= dim < d.ndim:
            raise IndexError(f"{op}: dim {dim} is out of range for a parameter of "
                             f"{d.ndim} dimensions")
        if d.size == 0:
            continue
        moved = np.moveaxis(d, dim, 0).reshape(d.shape[dim], -1).astype(np.float64)
        if norm_type == math.inf:
            norms = np.abs(moved).max(axis=1)
        elif norm_type == 2.0:
            norms = np.sqrt(np.einsum("ij,ij->i", moved, moved))
        else:
            norms = (np.abs(moved) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(d.dtype)
        shape = [1] * d.ndim
        shape[dim] = d.shape[dim]
        if not d.flags.writeable:
            raise ValueError(f"{op}: parameter data is read-only")
        np.multiply(d, scale.reshape(shape), out=d)


def parameters_to_vector(parameters):
    """Concatenates the parameters' data into one 1-D Tensor (a copy).

    Shape
    -----
    parameters of sizes n_i -> (sum n_i,)

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.Linear(3, 2)
    >>> fastnn.nn.utils.parameters_to_vector(m.parameters()).shape
    (8,)
    """
    ps = _param_list(parameters, "parameters_to_vector")
    if not ps:
        return Tensor(np.zeros(0, np.float32))
    return Tensor(np.concatenate([p._array.ravel() for p in ps]))


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of ``vec`` into the parameters' data, in place.

    Shape
    -----
    vec (sum n_i,) -> parameters of sizes n_i

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.Linear(3, 2)
    >>> fastnn.nn.utils.vector_to_parameters(fastnn.zeros(8), m.parameters())
    >>> float(m.weight.data.sum())
    0.0
    """
    op = "vector_to_parameters"
    v = vec._array if isinstance(vec, Tensor) else np.asarray(vec)
    if v.ndim != 1:
        raise ValueError(f"{op}: vec must be 1-D, got shape {v.shape}")
    ps = _param_list(parameters, op)
    total = sum(p._array.size for p in ps)
    if v.size != total:
        raise ValueError(f"{op}: vec has {v.size} elements, the parameters have {total}")
    i = 0
    for p in ps:
        n = p._array.size
        p._array[...] = v[i:i + n].reshape(p._array.shape)
        i += n
