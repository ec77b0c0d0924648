"""Utilities for parameters and gradients: gradient clipping
(``clip_grad_norm_`` = ``get_total_norm`` + ``clip_grads_with_norm_``,
``clip_grad_value_``), the max-norm constraint, and flattening parameters to
one vector.

All of them work in place on the ndarrays behind the parameters (their
gradients for the clipping functions, their values for ``max_norm_`` and
``vector_to_parameters``), outside autograd, and keep each array's dtype.
"""
import math

import numpy as np

from ... import _defaults
from ..._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "max_norm_", "parameters_to_vector", "vector_to_parameters"]


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


def _arr(a):
    return a._array if isinstance(a, Tensor) else a


def _writable_grad(p):
    """The ndarray behind p.grad, made writable (a copy is assigned if not)."""
    g = _arr(p.grad)
    if not isinstance(g, np.ndarray) or not g.flags.writeable:
        p.grad = np.array(g)
        g = _arr(p.grad)
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


def _norm_type(norm_type):
    if isinstance(norm_type, str):
        if norm_type.lower() not in ("inf", "-inf"):
            raise ValueError(f"norm_type must be a number or 'inf', got {norm_type!r}")
    return float(norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the vector of the tensors' norms (the joint norm of all
    their elements), as a 0-d Tensor of their dtype (0.0 for no tensors).

    Parameters
    ----------
    tensors : Tensor or iterable of Tensor/ndarray
        Usually the gradients (``[p.grad for p in params]``).
    norm_type : float or 'inf'
    error_if_nonfinite : bool
        RuntimeError if the norm is NaN or infinite.
    foreach : ignored

    Examples
    --------
    >>> import fastnn
    >>> float(fastnn.nn.utils.get_total_norm([fastnn.tensor([3.0]), fastnn.tensor([4.0])]))
    5.0
    """
    op = "get_total_norm"
    norm_type = _norm_type(norm_type)
    if isinstance(tensors, (Tensor, np.ndarray)):
        tensors = [tensors]
    arrs = [np.asarray(_arr(t)) for t in tensors if t is not None]
    if not arrs:
        return Tensor._wrap(np.zeros((), _defaults.FLOAT))
    dtype = np.result_type(*arrs)
    if dtype.kind != "f":
        dtype = _defaults.FLOAT
    norms = np.array([_vector_norm(a, norm_type) for a in arrs], dtype=dtype)
    total = np.asarray(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"{op}: The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales the gradients in place by ``min(1, max_norm / (total_norm + 1e-6))``.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
    max_norm : float
    total_norm : Tensor or float
        As returned by ``get_total_norm``.
    foreach : ignored

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.zeros(2))
    >>> w.grad = fastnn.tensor([3.0, 4.0])
    >>> fastnn.nn.utils.clip_grads_with_norm_([w], 1.0, 5.0)
    >>> fastnn.tensor(w.grad).numpy().round(4)
    array([0.6, 0.8], dtype=float32)
    """
    ps = _param_list(parameters, "clip_grads_with_norm_")
    grads = [_writable_grad(p) for p in ps if p.grad is not None]
    if not grads:
        return
    total = np.asarray(_arr(total_norm))
    dtype = total.dtype if total.dtype.kind == "f" else _defaults.FLOAT
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = dtype.type(float(max_norm)) / (total.astype(dtype) + dtype.type(1e-6))
    coef = coef if np.isnan(coef) else min(coef, dtype.type(1.0))
    # an infinite gradient times a zero coefficient is NaN, silently as in
    # PyTorch (no RuntimeWarning from NumPy, which -W error would raise)
    with np.errstate(invalid="ignore", over="ignore"):
        for g in grads:
            np.multiply(g, g.dtype.type(coef), out=g)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients in place so that their joint norm is at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_``: the total norm is the norm of the
    vector of the per-parameter gradient norms (``get_total_norm``); every
    gradient is multiplied by ``min(1, max_norm / (total_norm + 1e-6))``
    (``clip_grads_with_norm_``).  Parameters without a gradient are ignored.

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
    >>> fastnn.tensor(w.grad).numpy().round(4)
    array([0.6, 0.8], dtype=float32)
    """
    ps = _param_list(parameters, "clip_grad_norm_")
    grads = [_writable_grad(p) for p in ps if p.grad is not None]
    if not grads:
        return Tensor._wrap(np.zeros((), _defaults.FLOAT))
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(ps, max_norm, total)
    return total


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
    >>> fastnn.tensor(w.grad).numpy()
    array([-1. ,  0.5,  1. ], dtype=float32)
    """
    # a negative clip_value is PyTorch's clamp(min=-v, max=v) with min > max:
    # every gradient becomes v (np.clip gives a_max there as well)
    clip_value = float(clip_value)
    for p in _param_list(parameters, "clip_grad_value_"):
        if p.grad is not None:
            g = _writable_grad(p)
            np.clip(g, -clip_value, clip_value, out=g)


def max_norm_(parameters, max_norm, dim=0, norm_type=2.0):
    """Max-norm constraint: renormalises in place every slice along ``dim``
    whose norm exceeds ``max_norm`` (``torch.renorm`` semantics).

    Each sub-tensor ``p.select(dim, i)`` (for a Linear weight
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
    >>> w.detach().numpy().round(4)
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
    fastnn.Size([8])
    """
    ps = _param_list(parameters, "parameters_to_vector")
    if not ps:
        return Tensor._wrap(np.zeros(0, _defaults.FLOAT))
    # (through the graph, as PyTorch's torch.cat of p.view(-1): a loss on
    # the vector reaches the parameters)
    from ...ops.shape import CatFn
    return CatFn.apply(*[p.reshape(-1) for p in ps], dim=0)


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
    >>> float(m.weight.sum())
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
        a = p._array
        a[...] = v[i:i + a.size].reshape(a.shape)
        i += a.size
