"""Random sampling from distributions given by tensors: ``multinomial``,
``bernoulli``, ``normal``, ``poisson`` and ``binomial`` (PyTorch's
``torch.*`` functions).

Every one takes ``generator=`` (a ``fastnn.Generator``) and otherwise draws
from the global state ``fastnn.manual_seed`` seeds, so a seed reproduces a
fastnn run (not PyTorch's numbers: the streams differ).  Argument checks and
their error types and messages follow PyTorch's.

* ``multinomial`` with replacement (or for one draw) inverts each row's
  cumulative sum (one ``searchsorted`` over all rows at once); without
  replacement it runs the
  exponential race (the ``num_samples`` largest ``w / E``, ``E ~ Exp(1)``,
  in decreasing order, which is sequential sampling without replacement).
  No Python loop over samples or rows.
* ``normal`` with tensor arguments is ``mean + std * eps`` built from
  fastnn's ops, so gradients reach a ``mean`` or ``std`` that requires grad
  (the reparameterised gradient: 1 for the mean, ``eps`` for the std).
* ``bernoulli``, ``poisson`` and ``binomial`` results carry no gradient.

Examples
--------
>>> import fastnn
>>> _ = fastnn.manual_seed(0)
>>> fastnn.multinomial(fastnn.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
tensor([1, 1])
>>> fastnn.bernoulli(fastnn.tensor([0.0, 1.0]))
tensor([0., 1.])
"""
import numbers

import numpy as np

from .. import _core
from .._core import TensorBase
from .._core import wrap as _wrap
from ..random import _numpy_generator

__all__ = ["multinomial", "bernoulli", "normal", "poisson", "binomial"]

_TORCH_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _tname(dt):
    return _TORCH_NAMES.get(str(dt), str(dt))


def _array_of(x, op, name="input"):
    if isinstance(x, TensorBase):
        return x._array
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")


def _check_int(v, op, name, pos):
    if isinstance(v, TensorBase) and v._array.size == 1 and v._array.dtype.kind in "iu":
        v = int(v._array.reshape(-1)[0])
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be int, not "
                        f"{type(v).__name__}")
    return int(v)


# --------------------------------------------------------------- multinomial
def _validate_multinomial(w, num_samples, replacement):
    """PyTorch's checks, in its order; returns the weights as float64 rows."""
    if w.dtype.kind != "f":
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{_tname(w.dtype)}")
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    k = w.shape[-1]
    if not replacement and num_samples > k:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if k > 1 << 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    rows = np.asarray(w, dtype=np.float64).reshape(-1, k)
    if rows.size == 0:
        return rows
    if not replacement or num_samples == 1:
        if not (np.isfinite(rows).all() and rows.min() >= 0):   # NaN fails isfinite
            raise RuntimeError("probability tensor contains either `inf`, `nan` or "
                               "element < 0")
    else:
        if (rows < 0).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry < 0)")
        if not np.isfinite(rows).all():
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry = infinity or NaN)")
    return rows


def _with_replacement(rows, n, rng):
    """Inverse CDF for every row at once: row i's normalised cumulative sum
    is shifted by i, so one ``searchsorted`` of ``u + i`` serves all rows."""
    r, k = rows.shape
    cdf = np.cumsum(rows, axis=1)
    cdf /= cdf[:, -1:]
    cdf[:, -1] = 1.0
    if r > 1:
        cdf += np.arange(r, dtype=np.float64)[:, None]
    u = rng.random((r, n))
    if r > 1:
        u += np.arange(r, dtype=np.float64)[:, None]
    idx = np.searchsorted(cdf.reshape(-1), u.reshape(-1), side="right").reshape(r, n)
    idx -= (np.arange(r, dtype=np.int64) * k)[:, None]
    # u + i can round up to i + 1 for large i: never past the last positive weight
    last = k - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)
    return np.minimum(idx, last[:, None])


def _without_replacement(rows, n, rng):
    """The exponential race: the n largest w / E (E ~ Exp(1)) in decreasing
    order are n draws without replacement."""
    r, k = rows.shape
    neg = rows / -rng.standard_exponential((r, k))
    if n < k:
        part = np.argpartition(neg, n - 1, axis=1)[:, :n]
        order = np.argsort(np.take_along_axis(neg, part, axis=1), axis=1, kind="stable")
        return np.take_along_axis(part, order, axis=1)
    return np.argsort(neg, axis=1, kind="stable")


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn from the categorical distributions in the rows of ``input``.

    Parameters
    ----------
    input : Tensor
        1-D or 2-D non-negative float weights (need not sum to one); each
        row must have a positive sum.
    num_samples : int
        Draws per row.  Without replacement at most ``input.size(-1)``;
        when a row has fewer positive weights than ``num_samples``, the
        remaining draws are zero-weight categories, as in PyTorch.
    replacement : bool
        Draw with replacement.
    generator : fastnn.Generator, optional

    Returns
    -------
    Tensor
        int64 of shape ``(num_samples,)`` or ``(rows, num_samples)``.

    Examples
    --------
    >>> import fastnn
    >>> g = fastnn.Generator().manual_seed(1)
    >>> sorted(fastnn.multinomial(fastnn.tensor([1.0, 1.0, 1.0]), 3, generator=g).tolist())
    [0, 1, 2]
    """
    w = _array_of(input, "multinomial")
    n = _check_int(num_samples, "multinomial", "num_samples", 2)
    rows = _validate_multinomial(w, n, bool(replacement))
    if rows.shape[0] == 0:
        return _wrap(np.empty(w.shape[:-1] + (n,), np.int64))
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _numpy_generator(generator)
    if replacement or n == 1:          # one draw: the same either way, and cheaper
        idx = _with_replacement(rows, n, rng)
    else:
        idx = _without_replacement(rows, n, rng)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    return _out(idx.reshape(w.shape[:-1] + (n,)), out)


def _out(arr, out):
    if out is None:
        return _wrap(arr)
    if tuple(out._array.shape) != arr.shape:
        out._array = np.empty(arr.shape, out._array.dtype)
    out._array[...] = arr
    return out


# ----------------------------------------------------------------- bernoulli
def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probabilities ``input`` (or the scalar ``p``), in
    ``input``'s float dtype; no gradient.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.bernoulli(fastnn.tensor([[1.0, 0.0]]))
    tensor([[1., 0.]])
    """
    a = _array_of(input, "bernoulli")
    if p is not None:
        if isinstance(p, TensorBase):
            pa = p._array
            if pa.size and not (np.all(pa >= 0) and np.all(pa <= 1)):
                raise RuntimeError("bernoulli_ expects p to be in [0, 1]")
            pv = pa
        else:
            if not isinstance(p, numbers.Real):
                raise TypeError(f"bernoulli(): argument 'p' must be float, not "
                                f"{type(p).__name__}")
            if not 0 <= p <= 1:
                raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
            pv = float(p)
        dt = a.dtype
        u = _numpy_generator(generator).random(a.shape)
        return _out((u < pv).astype(dt), out)
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for "
                                  f"'{_tname(a.dtype)}'")
    if a.size and not (np.all(a >= 0) and np.all(a <= 1)):      # NaN fails both
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    u = _numpy_generator(generator).random(a.shape)
    return _out((u < a).astype(a.dtype), out)


# -------------------------------------------------------------------- normal
def _normal_tensor_arg(x, name):
    a = x._array
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for "
                                  f"'{_tname(a.dtype)}'")
    return a


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           layout=None, device=None, pin_memory=False, requires_grad=False):
    """Normal samples, with PyTorch's overloads.

    * ``normal(mean: Tensor, std: Tensor)``: one sample per element of the
      broadcast shape;
    * ``normal(mean: Tensor, std=1.0)`` and ``normal(mean: float, std: Tensor)``:
      the tensor's shape;
    * ``normal(mean: float, std: float, size)``: the given shape (float32
      unless ``dtype``).

    With tensor arguments the result is ``mean + std * eps``, so a ``mean``
    or ``std`` that requires grad receives the reparameterised gradient.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.normal(fastnn.zeros(2, 1), fastnn.ones(3)).shape
    fastnn.Size([2, 3])
    >>> fastnn.normal(0.0, 1.0, (2, 3)).dtype
    torch.float32
    """
    from .factories import _float_dtype, _finish, _shape_args
    rng = _numpy_generator(generator)
    mt, st = isinstance(mean, TensorBase), isinstance(std, TensorBase)
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: "
                            "normal(float mean, float std) needs a size")
        for v, nm in ((mean, "mean"), (std, "std")):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"normal(): argument '{nm}' must be float, not "
                                f"{type(v).__name__}")
        if not std >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        dt = _float_dtype("normal_kernel_cpu", dtype)
        shape = _shape_args(tuple(size) if isinstance(size, (tuple, list)) else (size,))
        arr = rng.normal(float(mean), float(std), shape).astype(dt)
        return _out(arr, out) if out is not None else _finish(arr, requires_grad, device)
    if size is not None:
        raise TypeError("normal() received an invalid combination of arguments: size is "
                        "only taken with a float mean and a float std")
    if st:
        sa = _normal_tensor_arg(std, "std")
        if sa.size and not np.all(sa >= 0):          # NaN fails too
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif isinstance(std, bool) or not isinstance(std, numbers.Real):
        raise TypeError(f"normal(): argument 'std' must be float, not {type(std).__name__}")
    elif not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if mt:
        ma = _normal_tensor_arg(mean, "mean")
    elif isinstance(mean, bool) or not isinstance(mean, numbers.Real):
        raise TypeError(f"normal(): argument 'mean' must be float, not {type(mean).__name__}")
    shapes = [t._array.shape for t in (mean, std) if isinstance(t, TensorBase)]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        a, b = shapes
        raise RuntimeError(f"normal: the size of mean {tuple(a)} must match or broadcast "
                           f"with the size of std {tuple(b)}") from None
    dts = [t._array.dtype for t in (mean, std) if isinstance(t, TensorBase)]
    dt = np.result_type(*dts)
    eps = rng.standard_normal(shape).astype(dt)
    if _core.is_grad_enabled() and ((mt and mean._requires_grad) or
                                    (st and std._requires_grad)):
        res = _wrap(eps) * std + mean           # records the graph
        return res if out is None else _out(res._array, out)
    arr = eps * (sa if st else dt.type(std)) + (ma if mt else dt.type(mean))
    arr = np.ascontiguousarray(arr, dtype=dt)
    return _wrap(arr) if out is None else _out(arr, out)


# ------------------------------------------------------------------- poisson
def poisson(input, generator=None):
    """Poisson samples with rates ``input`` (non-negative floats), in its
    dtype; no gradient.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.poisson(fastnn.zeros(3))
    tensor([0., 0., 0.])
    """
    a = _array_of(input, "poisson")
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{_tname(a.dtype)}'")
    if a.size and not np.all(a >= 0):            # NaN fails too
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return _wrap(_numpy_generator(generator).poisson(a).astype(a.dtype))


def binomial(count, prob, generator=None):
    """Binomial samples: successes in ``count`` trials of probability
    ``prob`` (floating tensors of one dtype, broadcast), in that dtype; no
    gradient.  As PyTorch: a count is floored and a negative one gives 0, a
    probability is clipped to [0, 1], a NaN one gives NaN.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.binomial(fastnn.tensor([0.0, 5.0]), fastnn.tensor([0.3, 1.0]))
    tensor([0., 5.])
    """
    n = _array_of(count, "binomial", "count")
    p = _array_of(prob, "binomial", "prob")
    if n.dtype.kind != "f":
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{_tname(n.dtype)}")
    if p.dtype != n.dtype:
        raise RuntimeError(f"Found dtype {_tname(p.dtype)} but expected {_tname(n.dtype)}")
    try:
        n, p = np.broadcast_arrays(n, p)
    except ValueError:
        raise RuntimeError(f"binomial: the shapes of count {tuple(n.shape)} and prob "
                           f"{tuple(p.shape)} cannot be broadcast together") from None
    bad = np.isnan(n) | np.isnan(p)
    trials = np.floor(np.clip(np.where(bad, 0, n), 0, np.iinfo(np.int64).max // 2))
    out = np.array(_numpy_generator(generator).binomial(
        trials.astype(np.int64), np.clip(np.where(bad, 0, p), 0.0, 1.0)), dtype=n.dtype)
    out[bad] = np.nan
    return _wrap(out)
