# cython: language_level=3
"""fastnn._core -- the compiled core: Cython bindings over csrc/*.c.

The bindings are the memory-safety layer: every array that reaches C is
checked here for type, dtype, contiguity and size (the Python layer has
already produced friendly errors; these checks are the last line of
defence).  C status codes become Python exceptions.  The GIL is released
around each C call and only there.  Extern declarations live beside the
binding that uses them, in ``_bind/<op>.pxi``, so an op's C prototype and its
binding are read together.
"""
cimport numpy as cnp
import numpy as np
from libc.stdint cimport int64_t, uint64_t

cnp.import_array()

cdef extern from "fnn_common.h":
    int FNN_OK
    int FNN_EINVAL
    int FNN_ESHAPE
    int FNN_EINDEX
    int fnn_openmp_enabled()
    int fnn_num_procs()
    int fnn_parallel_sites(const char **sites, int64_t *counts, int max)
    void fnn_parallel_reset()


def openmp_enabled():
    """True when the extension was built with OpenMP (else kernels run serially)."""
    return bool(fnn_openmp_enabled())


def num_procs():
    """Processors OpenMP sees (1 in a serial build)."""
    return fnn_num_procs()


def parallel_regions():
    """``{"file.inc:line": count}``: how often each OpenMP region of the
    kernels was entered with a team of more than one thread (since the last
    ``parallel_regions_reset``).  The tests use it to prove that a
    thread-invariance test ran the parallel path."""
    cdef const char *sites[256]
    cdef int64_t counts[256]
    cdef int n = fnn_parallel_sites(sites, counts, 256)
    return {sites[i].decode(): counts[i] for i in range(min(n, 256))}


def parallel_regions_reset():
    """Zeroes the counts of ``parallel_regions``."""
    fnn_parallel_reset()


cdef int _check_status(int st, str op) except -1:
    if st == FNN_OK:
        return 0
    if st == FNN_EINDEX:
        raise IndexError(f"{op}: an index is out of range")
    if st == FNN_ESHAPE:
        raise ValueError(f"{op}: array sizes do not agree")
    raise ValueError(f"{op}: invalid argument (status {st})")


cdef int _kind(object a, str op, str name) except -1:
    """0 for float32, 1 for float64; raises for anything else."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{op}: {name} must be a numpy.ndarray, got {type(a).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"{op}: {name} must be C-contiguous")
    cdef int t = cnp.PyArray_TYPE(arr)
    if t == cnp.NPY_FLOAT32:
        return 0
    if t == cnp.NPY_FLOAT64:
        return 1
    raise TypeError(f"{op}: {name} must be float32 or float64, got {arr.dtype}")


cdef int _same(object a, int kind, str op, str name, Py_ssize_t size=-1) except -1:
    """Checks that a is a contiguous array of the given kind (and size)."""
    if _kind(a, op, name) != kind:
        raise TypeError(f"{op}: {name} has dtype {a.dtype}, expected "
                        f"{'float32' if kind == 0 else 'float64'}")
    if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a) and name.startswith("out"):
        raise ValueError(f"{op}: {name} is read-only")
    if size >= 0 and cnp.PyArray_SIZE(<cnp.ndarray>a) != size:
        raise ValueError(f"{op}: {name} has {cnp.PyArray_SIZE(<cnp.ndarray>a)} elements, expected {size}")
    return 0


cdef int _check_index(object a, str op, str name, Py_ssize_t size=-1) except -1:
    """Checks a contiguous int64 array (labels, argmax)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{op}: {name} must be a numpy.ndarray, got {type(a).__name__}")
    if cnp.PyArray_TYPE(<cnp.ndarray>a) != cnp.NPY_INT64:
        raise TypeError(f"{op}: {name} must be int64, got {a.dtype}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
        raise ValueError(f"{op}: {name} must be C-contiguous")
    if size >= 0 and cnp.PyArray_SIZE(<cnp.ndarray>a) != size:
        raise ValueError(f"{op}: {name} has {cnp.PyArray_SIZE(<cnp.ndarray>a)} elements, expected {size}")
    return 0


cdef inline void* _ptr(object a):
    return cnp.PyArray_DATA(<cnp.ndarray>a)


cdef void *_opt(object a, int kind, str op, str name, int64_t n) except? NULL:
    """The data pointer of an optional array (None gives NULL), checked as
    ``_same`` checks it."""
    if a is None:
        return NULL
    _same(a, kind, op, name, n)
    return _ptr(a)


cdef inline int64_t _size(object a):
    return cnp.PyArray_SIZE(<cnp.ndarray>a)


# Workspaces are cached per key and dtype and reused across calls, so a hot
# loop does not pay a fresh (page-faulting) allocation each step.  A buffer is
# taken out of the cache while in use: a concurrent caller simply allocates
# its own.
cdef dict _ws_cache = {}


cdef object _ws_take(str key, int kind, int64_t n):
    cdef object k = (key, kind)
    cdef object a = _ws_cache.pop(k, None)
    if a is None or _size(a) < n:
        a = np.empty(max(n, 1), dtype=np.float32 if kind == 0 else np.float64)
    return a


cdef void _ws_give(str key, int kind, object a):
    _ws_cache[(key, kind)] = a


def clear_workspaces():
    """Frees every cached kernel workspace."""
    _ws_cache.clear()


def workspace_info():
    """The kernel workspaces cached now: ``{(op, dtype name): bytes}``.
    A workspace is sized by the op's shape and the thread count, never by
    the batch (``tests/ops/test_conv_workspace.py``)."""
    return {(k[0], "float32" if k[1] == 0 else "float64"): a.nbytes
            for k, a in _ws_cache.items()}


include "_bind/gemm.pxi"
include "_bind/elementwise.pxi"
include "_bind/conv2d.pxi"
include "_bind/pool2d.pxi"
include "_bind/activation.pxi"
include "_bind/norm.pxi"
include "_bind/softmax.pxi"
include "_bind/loss.pxi"
include "_bind/xent.pxi"
include "_bind/resample.pxi"
include "_bind/fold.pxi"
include "_bind/batchnorm.pxi"
include "_bind/dropout.pxi"
include "_bind/optim.pxi"
include "_bind/rnn.pxi"
include "_bind/embedding.pxi"
include "_bind/attention.pxi"
include "_bind/ctc.pxi"
include "_bind/autograd.pxi"
include "_bind/infer.pxi"
include "_bind/buffer_cache.pxi"
