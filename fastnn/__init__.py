"""fastnn: a fast CPU neural-network library.

A compiled core (C kernels behind one Cython extension, ``fastnn._core``)
under a PyTorch-style Python API: ``Tensor`` with autograd, ``nn``,
``optim``, ``data`` and ``train``.

Examples
--------
>>> import fastnn
>>> x = fastnn.tensor(-2.0, requires_grad=True)
>>> y = fastnn.tensor(5.0, requires_grad=True)
>>> z = fastnn.tensor(-4.0, requires_grad=True)
>>> f = (x + y) * z
>>> f.backward()
>>> float(f), float(x.grad), float(y.grad), float(z.grad)
(-12.0, -4.0, -4.0, 3.0)
"""
__version__ = "0.1.0"

import os as _os

# libgomp spins ~300k iterations before a waiting thread sleeps; on a shared or
# busy machine that burns the other core between every parallel region.  A
# shorter spin keeps wake-ups fast on a quiet machine without the waste
# (an explicit GOMP_SPINCOUNT or OMP_WAIT_POLICY from the user wins).
if "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ.setdefault("GOMP_SPINCOUNT", "20000")

try:
    from . import _core
except ImportError:
    # An unbuilt source tree has no compiled core: say so, not "circular import".
    from importlib.machinery import EXTENSION_SUFFIXES as _SUFFIXES
    _here = _os.path.dirname(_os.path.abspath(__file__))
    if any(_os.path.exists(_os.path.join(_here, "_core" + s)) for s in _SUFFIXES):
        raise   # built, but it does not load: the original error says why
    raise ImportError(
        f"fastnn is not built: its compiled core (fastnn._core) is missing from {_here}. "
        "Install fastnn with `pip install .` from the source tree, or build it in place "
        "with `python setup.py build_ext --inplace`.") from None
from ._config import get_num_threads, manual_seed, set_num_threads
from ._errors import GradcheckError, ShapeError
from . import autograd
from .autograd import Function, enable_grad, gradcheck, is_grad_enabled, no_grad
from .tensor import (Tensor, abs, arange, argmax, cat, empty, exp, flatten, float32, float64,
                     from_numpy, full, int64, log, matmul, max, mean, min, ones, ones_like,
                     permute, rand, randint, randn, relu, reshape, sigmoid, sqrt, squeeze, stack,
                     sum, tanh, tensor, transpose, unsqueeze, zeros, zeros_like)
from . import nn, optim, data, train

float = float32
double = float64
long = int64
Size = tuple

if _os.environ.get("FASTNN_ISA"):
    _core.gemm_set_isa(_os.environ["FASTNN_ISA"])
else:
    _core.gemm_set_isa("auto")
if _os.environ.get("FASTNN_WINOGRAD", "1").strip() == "0":
    _core.conv2d_set_winograd(False)


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


def __getattr__(name):
    # Heavier, optional pieces load on first use so ``import fastnn`` stays light.
    if name in ("save", "load"):
        from . import serialization
        return getattr(serialization, name)
    if name == "summary":
        from .summary import summary
        return summary
    if name in ("tune", "distributed", "sklearn", "testing"):
        import importlib
        return importlib.import_module(f"fastnn.{name}")
    raise AttributeError(f"module 'fastnn' has no attribute {name!r}")
