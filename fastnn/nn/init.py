"""Weight initialisation (``fastnn.nn.init``), in place, seeded by
``fastnn.manual_seed`` (or drawn from ``generator=``, a
``numpy.random.Generator``).  Formulas, defaults and errors as PyTorch's:
fan_in/fan_out from the weight shape (dims 1 and 0 times the receptive
field), the gain per nonlinearity, ``trunc_normal_`` on ``[a, b]``,
``orthogonal_`` from the QR decomposition of a Gaussian matrix with the
signs fixed by R's diagonal, ``dirac_`` identity convolution kernels.

Each function writes the array behind the tensor (its dtype kept) and
returns the tensor.
"""
import math
import warnings

import numpy as np

from ..random import _numpy_generator

from .._config import rng
from .._tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_"]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """Recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for
    tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope
    ``param``, default 0.01), 3/4 for selu.

    Examples
    --------
    >>> import fastnn
    >>> round(fastnn.nn.init.calculate_gain("leaky_relu", 0.2), 4)
    1.3868
    """
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _arr(tensor, op):
    if isinstance(tensor, Tensor):
        return tensor._array
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")


def _gen(generator):
    """The numpy Generator to draw from (a fastnn.Generator, or None for the
    global state)."""
    return _numpy_generator(generator)


def _fill(tensor, values, op="init"):
    a = _arr(tensor, op)
    a[...] = values
    return tensor


def _calculate_fan_in_and_fan_out(tensor):
    shape = _arr(tensor, "init").shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (shape {tuple(shape)})")
    rf = 1
    for s in shape[2:]:
        rf *= s
    return shape[1] * rf, shape[0] * rf


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower() if isinstance(mode, str) else mode
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def zeros_(tensor):
    """Fills with 0."""
    return _fill(tensor, 0, "zeros_")


def ones_(tensor):
    """Fills with 1."""
    return _fill(tensor, 1, "ones_")


def constant_(tensor, val):
    """Fills with ``val``."""
    return _fill(tensor, val, "constant_")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fills with draws from U(a, b)."""
    a_ = _arr(tensor, "uniform_")
    return _fill(tensor, _gen(generator).uniform(a, b, a_.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fills with draws from N(mean, std^2)."""
    a_ = _arr(tensor, "normal_")
    return _fill(tensor, _gen(generator).normal(mean, std, a_.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fills with draws from N(mean, std^2) truncated to [a, b] (redrawing
    the values outside; like PyTorch, a warning when ``mean`` is more than 2
    std from the interval).

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.init.trunc_normal_(fastnn.empty(1000), std=0.02, a=-0.04, b=0.04)
    >>> bool((abs(w.numpy()) <= 0.04).all())
    True
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    arr = _arr(tensor, "trunc_normal_")
    g = _gen(generator)
    out = g.normal(mean, std, arr.size)
    bad = (out < a) | (out > b)
    for _ in range(100):                      # rejection: the exact truncated law
        if not bad.any():
            break
        out[bad] = g.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, np.clip(out, a, b).reshape(arr.shape))


def eye_(tensor):
    """Fills a 2-D tensor with the identity matrix (ones on the diagonal)."""
    a = _arr(tensor, "eye_")
    if a.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    a[...] = np.eye(*a.shape)
    return tensor


def dirac_(tensor, groups=1):
    """Fills a 3-, 4- or 5-D convolution weight with the Dirac delta: each
    of the first ``min(out/groups, in)`` channels of every group passes its
    input channel through unchanged."""
    a = _arr(tensor, "dirac_")
    if a.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if groups < 1 or a.shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per = a.shape[0] // groups
    a[...] = 0
    centre = tuple(s // 2 for s in a.shape[2:])
    for g in range(groups):
        for d in range(min(per, a.shape[1])):
            a[(g * per + d, d) + centre] = 1
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-b, b) with ``b = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))`` (Glorot)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-b, b) with ``b = gain * sqrt(3 / fan)`` (He), fan by ``mode``.

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.init.kaiming_uniform_(fastnn.empty(64, 32), nonlinearity="relu")
    >>> bool((abs(w.numpy()) <= (6 / 32) ** 0.5).all())
    True
    """
    if 0 in _arr(tensor, "kaiming_uniform_").shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with ``std = gain / sqrt(fan)`` (He), fan by ``mode``."""
    if 0 in _arr(tensor, "kaiming_normal_").shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix (the trailing dims flattened), scaled by
    ``gain``: the Q of a Gaussian matrix's QR decomposition, signs fixed by
    the diagonal of R.

    Examples
    --------
    >>> import numpy as np, fastnn
    >>> w = fastnn.nn.init.orthogonal_(fastnn.empty(3, 5)).numpy()
    >>> np.allclose(w @ w.T, np.eye(3), atol=1e-6)
    True
    """
    a = _arr(tensor, "orthogonal_")
    if a.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if a.size == 0:
        return tensor
    rows = a.shape[0]
    cols = a.size // rows
    flat = _gen(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    a[...] = (q * gain).reshape(a.shape)
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A sparse 2-D matrix: N(0, std^2) entries with a fraction ``sparsity``
    of each column set to zero."""
    a = _arr(tensor, "sparse_")
    if a.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = a.shape
    g = _gen(generator)
    nz = int(math.ceil(sparsity * rows))
    vals = g.normal(0.0, std, a.shape)
    for c in range(cols):
        vals[g.permutation(rows)[:nz], c] = 0
    a[...] = vals
    return tensor


def _make_deprecated(fn):
    """The pre-0.4 name of an initialiser (``xavier_uniform`` for
    ``xavier_uniform_``), still found in old tutorials: it warns as PyTorch's
    (FutureWarning) and initialises in place."""
    new_name = fn.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)
    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    deprecated_init.__doc__ = f"{old_name}(...): deprecated, use ``{new_name}``."
    return deprecated_init


uniform = _make_deprecated(uniform_)
normal = _make_deprecated(normal_)
constant = _make_deprecated(constant_)
eye = _make_deprecated(eye_)
dirac = _make_deprecated(dirac_)
xavier_uniform = _make_deprecated(xavier_uniform_)
xavier_normal = _make_deprecated(xavier_normal_)
kaiming_uniform = _make_deprecated(kaiming_uniform_)
kaiming_normal = _make_deprecated(kaiming_normal_)
orthogonal = _make_deprecated(orthogonal_)
sparse = _make_deprecated(sparse_)
