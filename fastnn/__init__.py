"""fastnn: a fast CPU neural-network library.

A compiled core (C kernels behind one Cython extension, ``fastnn._core``)
under a PyTorch-style Python API: ``Tensor`` with autograd, ``nn``,
``optim``, ``utils.data``, ``data`` and ``train``.  ``import fastnn as torch``
runs the PyTorch programs that use what docs/api.md lists.

Examples
--------
>>> import fastnn
>>> x = fastnn.tensor(-2.0, requires_grad=True)
>>> y = fastnn.tensor(5.0, requires_grad=True)
>>> z = fastnn.tensor(-4.0, requires_grad=True)
>>> f = (x + y) * z
>>> f.backward()
>>> f.item(), x.grad.item(), y.grad.item(), z.grad.item()
(-12.0, -4.0, -4.0, 3.0)
"""
__version__ = "0.1.0"

import numpy as _np

from . import _config

_config.prepare_openmp_environment()      # before the OpenMP runtime loads

try:
    from . import _core  # noqa: E402
except ImportError:
    # An unbuilt source tree has no compiled core: say so, not "circular import".
    import os as _os
    from importlib.machinery import EXTENSION_SUFFIXES as _SUFFIXES
    _here = _os.path.dirname(_os.path.abspath(__file__))
    if any(_os.path.exists(_os.path.join(_here, "_core" + s)) for s in _SUFFIXES):
        raise   # built, but it does not load: the original error says why
    raise ImportError(
        f"fastnn is not built: its compiled core (fastnn._core) is missing from {_here}. "
        "Install fastnn with `pip install .` from the source tree, or build it in place "
        "with `python setup.py build_ext --inplace`.") from None
from ._config import get_num_threads, set_num_threads  # noqa: E402
from ._core import Size  # noqa: E402
from .storage import TypedStorage, UntypedStorage  # noqa: E402
from ._errors import (DTypeError, DTypeNotImplementedError, GradcheckError,  # noqa: E402
                      OutOfRangeError, ShapeError, ValueRangeError)
from . import autograd  # noqa: E402
from .autograd import (Function, enable_grad, gradcheck, inference_mode,  # noqa: E402
                       is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled)
from .autograd.anomaly_mode import (is_anomaly_check_nan_enabled,  # noqa: E402
                                   is_anomaly_enabled)
from ._layout import (jagged, layout, sparse_bsc, sparse_bsr, sparse_coo,  # noqa: E402
                      sparse_csc, sparse_csr, strided)
from .device import device  # noqa: E402
from ._tensor import (Tensor, abs, add, argmax, argmin, bool_, cat,  # noqa: E402
                     concat, concatenate, div, divide, exp, flatten, float32, float64, mul,
                     multiply, neg, negative, pow, sub, subtract, true_divide,
                     bincount, broadcast_tensors, broadcast_to, clone, eq, ge, greater,
                     greater_equal, gt, hstack, is_complex, is_floating_point, is_nonzero,
                     is_same_size, is_signed, le, less,
                     less_equal, log_softmax, lt, meshgrid, ne, not_equal, sgn, softmax,
                     vstack,
                     int8, int16, int32, int64, log, matmul, max, mean, min,
                     permute, relu, reshape, sigmoid, sqrt,
                     squeeze, stack, sum, tanh, transpose, uint8, unsqueeze)
from .ops.factories import (arange, as_tensor, empty, empty_like, eye,  # noqa: E402
                            from_numpy, full, full_like, linspace, logspace, ones, ones_like,
                            rand, rand_like, randint, randint_like, randn, randn_like, randperm,
                            scalar_tensor, tensor, zeros, zeros_like)
from .ops.pointwise import (acos, addcdiv, addcmul, allclose, arccos, arcsin,  # noqa: E402
                            arctan, asin, atan, bitwise_and, bitwise_not, bitwise_or,
                            bitwise_xor, ceil, clamp, clamp_max, clamp_min, clip, cos, cosh,
                            equal, erf, erfc, expm1, fix, floor, floor_divide, fmax, fmin, fmod,
                            frac, isclose, isfinite, isinf, isnan, isneginf, isposinf, lerp,
                            log1p, log2, log10, logical_and, logical_not, logical_or,
                            logical_xor, maximum, minimum, nan_to_num, reciprocal, remainder,
                            round, rsqrt, sign, signbit, sin, sinh, square, tan, trunc, where)
from .ops.reduction import (all, amax, amin, any, count_nonzero, cumprod,  # noqa: E402
                            cumsum, logsumexp, norm, prod, std, std_mean, var, var_mean)
from .ops.indexing import (argwhere, gather, index_add, index_select,  # noqa: E402
                           masked_fill, masked_select, nonzero, scatter, scatter_add, take,
                           take_along_dim)
from .ops.sorting import argsort, kthvalue, msort, sort, topk, unique  # noqa: E402
from .ops.shape import (chunk, diag, diagonal, flip, fliplr, flipud, movedim,  # noqa: E402
                        narrow, repeat_interleave, roll, select, split, tensor_split, tile,
                        trace, tril, triu, unbind)
from .ops.linalg import (addmm, addmv, baddbmm, bmm, dot, einsum, ger, inner,  # noqa: E402
                         mv, outer, tensordot, vdot)
from .ops.linalg import tensor_mm as mm  # noqa: E402
from .ops.linalg_lu import lu_unpack, torch_lu as lu, torch_lu_solve as lu_solve  # noqa: E402
from .ops.linalg_solve import (cholesky_inverse, cholesky_solve, det, logdet,  # noqa: E402
                               torch_cholesky as cholesky, torch_slogdet as slogdet)
from .ops.linalg_solve import inv as inverse  # noqa: E402
from .ops.linalg_expm import matrix_exp  # noqa: E402
from .ops.linalg_func import (chain_matmul, geqrf, matrix_power,  # noqa: E402
                              nuclear_norm, ormqr, pinverse, triangular_solve)
from .ops.linalg_func import householder_product as orgqr  # noqa: E402
from .ops.linalg_func import torch_qr as qr, torch_svd as svd  # noqa: E402
from .ops.linalg import tensor_mm as spmm  # noqa: E402  (dense: no sparse tensors)
from . import nn, optim, data, train  # noqa: E402
from ._torch_aliases import *  # noqa: E402,F401,F403
from .ops.pointwise import (acosh, arccosh, arcsinh, arctan2, arctanh, asinh,  # noqa: E402
                            atan2, atanh, erfinv, exp2, isin)
from .ops.shape import diag_embed  # noqa: E402
from .ops.factories import (bartlett_window, blackman_window, hamming_window,  # noqa: E402
                            hann_window, kaiser_window, range)
from .ops.shape import (split_with_sizes, unsafe_chunk, unsafe_split,  # noqa: E402
                        unsafe_split_with_sizes)
from ._tensor import broadcast_shapes  # noqa: E402
from .random import (Generator, default_generator, get_rng_state, initial_seed,  # noqa: E402
                     manual_seed, seed, set_rng_state)

from . import _dtype as _dtypes  # noqa: E402  (PyTorch's dtype objects over NumPy's)
from . import _defaults  # noqa: E402  (the default float dtype)
float32, float64, int64, int32, int16, int8, uint8, bool_ = (
    _dtypes.of(_d) for _d in (float32, float64, int64, int32, int16, int8, uint8, bool_))
float = float32
double = float64
long = int64
int = int32
short = int16
bool = bool_
dtype = _dtypes.dtype
from ._memory_format import finfo, iinfo  # noqa: E402  (torch's: Python numbers)
moveaxis = movedim
detach = Tensor.detach
detach_ = Tensor.detach_

# --- random sampling, legacy tensor types, print/matmul settings, constants, mixed
# precision (autocast, GradScaler) ---
from .ops.sampling import bernoulli, binomial, multinomial, normal, poisson  # noqa: E402
from . import _legacy  # noqa: E402
from ._legacy import (BoolTensor, ByteTensor, CharTensor, DoubleTensor,  # noqa: E402
                      FloatTensor, IntTensor, LongTensor, ShortTensor)
from ._settings_api import (get_float32_matmul_precision,  # noqa: E402
                            set_float32_matmul_precision, set_printoptions)
from . import amp, cpu  # noqa: E402
from .amp import (autocast, get_autocast_dtype, is_autocast_available,  # noqa: E402
                  is_autocast_enabled)
from .amp.autocast_mode import bfloat16, float16  # noqa: E402
float16 = _dtypes.of(float16)
half = float16
inf = _np.inf
nan = _np.nan
pi = 3.141592653589793
e = 2.718281828459045
newaxis = None
# --- end of the block ---

# The settings read from the environment, applied here, explicitly.
_core.gemm_set_isa(_config.settings.isa)
_core.conv2d_set_winograd(_config.settings.winograd)
_core.buffer_cache(_config.settings.buffer_cache)


def info():
    """Build and run-time facts: version, OpenMP, kernel path, threads."""
    return {
        "version": __version__,
        "openmp": _core.openmp_enabled(),
        "kernel_path": _core.gemm_isa(),
        "winograd": _core.conv2d_set_winograd(None),
        "cpu_best_path": _core.cpu_best_isa(),
        "num_threads": get_num_threads(),
        "num_procs": _core.num_procs(),
    }


def get_default_dtype():
    """The default floating dtype (``float32`` unless ``set_default_dtype``
    changed it): what factories, ``tensor(1.5)``, layers' parameters and
    integer-by-float arithmetic give when no dtype is named."""
    return _dtypes.of(_defaults.FLOAT)


def set_default_dtype(d):
    """Makes ``d`` the default floating dtype, as ``torch.set_default_dtype``:
    ``float32`` (the default) or ``float64``.  Non-floating dtypes raise
    PyTorch's TypeError; float16 / bfloat16, which PyTorch accepts, raise a
    TypeError too, fastnn holding no tensors of those dtypes.  See
    ``fastnn._defaults``."""
    if not isinstance(d, (_dtypes.dtype, _np.dtype, type(bfloat16))):
        raise TypeError("invalid dtype object: only floating-point types are supported as "
                        "the default type")
    if d is bfloat16 or d == float16:
        raise TypeError(f"fastnn: set_default_dtype({d}) is not supported: fastnn's tensors "
                        "are float32 or float64 (PyTorch also allows float16 and bfloat16)")
    nd = _np.dtype(d)
    if nd.kind != "f":
        raise TypeError("only floating-point types are supported as the default type")
    _defaults.set_float(nd)


def set_default_tensor_type(t):
    """Deprecated (PyTorch's warning): the default dtype from a legacy tensor
    type, ``fastnn.DoubleTensor`` / ``FloatTensor`` or its name
    (``"torch.DoubleTensor"``); see ``set_default_dtype``."""
    import warnings
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    from ._legacy import _LegacyTensorType
    if isinstance(t, str):
        name = t[6:] if t.startswith("torch.") else t
        t = getattr(_legacy, name, None) if name.endswith("Tensor") else None
        if not isinstance(t, _LegacyTensorType):
            raise TypeError(f"invalid type: '{name}'")
    if not isinstance(t, _LegacyTensorType):
        raise TypeError("invalid type object: only floating-point types are supported as the "
                        "default type")
    if t.dtype.kind != "f":
        raise TypeError("only floating-point types are supported as the default type")
    _defaults.set_float(t.dtype)


def get_default_device():
    """The CPU, where fastnn makes every tensor."""
    return device("cpu")


def set_default_device(d):
    """Accepts the CPU (``"cpu"``, ``device("cpu")``) or None; any other
    device is a clear error, as ``device()`` gives."""
    if d is not None:
        device(d)


def is_tensor(obj):
    return isinstance(obj, Tensor)


from ._runtime_flags import (are_deterministic_algorithms_enabled,  # noqa: E402
                             get_autocast_cpu_dtype, get_deterministic_debug_mode,
                             get_num_interop_threads, is_autocast_cpu_enabled,
                             is_deterministic_algorithms_warn_only_enabled,
                             is_warn_always_enabled, set_anomaly_enabled,
                             set_deterministic_debug_mode, set_flush_denormal,
                             set_num_interop_threads, set_warn_always,
                             use_deterministic_algorithms)


_LAZY_EXTRA = ("compiler", "_dynamo")  # torch.compiler / torch._dynamo stand-ins


def compile(model=None, **kwargs):
    """``torch.compile`` stand-in: fastnn runs eagerly, so nothing is compiled.
    A module comes back wrapped as PyTorch wraps it (an
    ``fastnn._dynamo.OptimizedModule`` holding it as ``_orig_mod``, so the
    state_dict keys carry PyTorch's ``_orig_mod.`` prefix); a function comes
    back unchanged; without ``model``, a decorator."""
    if model is None:
        def decorate(m):
            if m is None:
                raise RuntimeError("Model can't be None")
            return compile(m, **kwargs)
        return decorate
    if kwargs.get("mode") is not None and kwargs.get("options") is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    from .nn.modules.module import Module
    if isinstance(model, Module):
        from ._dynamo import OptimizedModule
        return OptimizedModule(model)
    return model


from ._memory_format import (channels_last, channels_last_3d, contiguous_format,  # noqa: E402
                             memory_format, preserve_format)
_LAZY_MODULES = ("tune", "distributed", "sklearn", "testing", "utils", "cuda", "accelerator",
                 "backends", "random", "serialization", "onnx", "viz", "linalg", "distributions",
                 "profiler", "jit", "multiprocessing", "version")


def __getattr__(name):
    # Heavier, optional pieces load on first use so ``import fastnn`` stays light.
    if name in ("save", "load"):
        from . import serialization
        return getattr(serialization, name)
    if name == "summary":
        from .summary import summary
        return summary
    if name == "vmap":                   # torch.vmap is torch.func.vmap
        from .func import vmap
        return vmap
    if name in _LAZY_MODULES or name in _LAZY_EXTRA:
        import importlib
        return importlib.import_module(f"fastnn.{name}")
    raise AttributeError(f"module 'fastnn' has no attribute {name!r}")


# --- torch.* maths: order statistics, binning, distances, special functions,
# --- assorted ops (ops/stats.py, ops/misc.py, ops/special_math.py, cdist in
# --- ops/distance.py); ``fastnn.special`` loads on first use.
from .ops.stats import (bucketize, histc, histogram, median, nanmedian,  # noqa: E402
                        nanquantile, quantile, searchsorted, unique_consecutive)
from .ops.distance import cdist  # noqa: E402
from .ops.misc import (cross, diagflat, fill, kron, rsub,  # noqa: E402
                       scatter_reduce)
from .ops.special_math import (digamma, i0, lgamma, logit, mvlgamma,  # noqa: E402
                               polygamma, sinc, xlogy)


def index_put(input, indices, values, accumulate=False):
    """``input.index_put(indices, values, accumulate)``."""
    return input.index_put(indices, values, accumulate)


def index_put_(input, indices, values, accumulate=False):
    """``input.index_put_(indices, values, accumulate)``."""
    return input.index_put_(indices, values, accumulate)


_LAZY_MODULES = _LAZY_MODULES + ("special", "func")
# --- end of torch.* maths


# --- torch.* maths gaps (branch mathgaps): more pointwise maths, scans and
# --- finite differences, statistics, rearranging, scatters, strided views,
# --- tensors from memory and dtype queries (ops/pointwise_more.py, scan.py,
# --- stats_more.py, arrange.py, scatter_more.py, strided.py).
from .ops.pointwise_more import (angle, bitwise_left_shift,  # noqa: E402
                                 bitwise_right_shift, conj, conj_physical, copysign, deg2rad,
                                 float_power, frexp, gcd, heaviside, hypot, imag, isreal, lcm,
                                 ldexp, logaddexp, logaddexp2, nextafter, positive, rad2deg,
                                 real, resolve_conj, resolve_neg)
from .ops.scan import (cummax, cummin, cumulative_trapezoid, diff, gradient,  # noqa: E402
                       logcumsumexp, trapezoid, trapz)
from .ops.stats_more import (addbmm, addr, aminmax, corrcoef, cov, mode,  # noqa: E402
                             nanmean, nansum, renorm)
from .ops.arrange import (adjoint, atleast_1d, atleast_2d, atleast_3d,  # noqa: E402
                          block_diag, cartesian_prod, column_stack, combinations, dsplit, dstack,
                          hsplit, narrow_copy, nonzero_static, ravel, rot90, row_stack,
                          tril_indices, triu_indices, unflatten, unravel_index, vander, vsplit)
from .ops.scatter_more import (diagonal_scatter, index_copy, index_fill,  # noqa: E402
                               index_reduce, masked_scatter, put, select_scatter, slice_scatter)
from .ops.strided import (as_strided, asarray, can_cast, empty_strided,  # noqa: E402
                          frombuffer, promote_types, result_type)


def get_device(input):
    """-1: fastnn's tensors live on the CPU (``torch.get_device``)."""
    return input.get_device()


def _inplace_fn(name):
    def f(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``input.{name}(...)`` (``torch.{name}``)."
    return f


(ldexp_, gcd_, lcm_, deg2rad_, rad2deg_, as_strided_, resize_as_, conj_physical_, clamp_,
 clamp_max_, clamp_min_, i0_, logit_, sinc_, xlogy_) = (_inplace_fn(n) for n in (
     "ldexp_", "gcd_", "lcm_", "deg2rad_", "rad2deg_", "as_strided_", "resize_as_",
     "conj_physical_", "clamp_", "clamp_max_", "clamp_min_", "i0_", "logit_", "sinc_", "xlogy_"))
from .ops.pointwise_more import igamma, igammac  # noqa: E402
from .ops.stats_more import (dist, embedding_renorm_, histogramdd,  # noqa: E402
                             norm_except_dim)
from .ops.strided import (as_strided_scatter, empty_permuted, from_dlpack,  # noqa: E402
                          from_file)
from .ops.arrange import (alias_copy, as_strided_copy, detach_copy,  # noqa: E402
                          diagonal_copy, expand_copy, permute_copy, select_copy, slice_copy,
                          split_copy, split_with_sizes_copy, squeeze_copy, t_copy,
                          transpose_copy, unbind_copy, unfold_copy, unsqueeze_copy, view_copy)
(is_conj, is_neg, is_inference) = (
    _inplace_fn(n) for n in ("is_conj", "is_neg", "is_inference"))
pdist = nn.functional.pdist
pairwise_distance = nn.functional.pairwise_distance


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """``F.binary_cross_entropy_with_logits`` in ``torch.*``'s argument order,
    with PyTorch's integer ``reduction`` (0 'none' by default here, 1 'mean', 2 'sum')."""
    from ._torch_aliases import _reduction
    return nn.functional.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction, "binary_cross_entropy_with_logits"),
        pos_weight=pos_weight)


def init_num_threads():
    """Accepted: fastnn passes its thread count to every kernel call."""
# --- end of torch.* maths gaps
