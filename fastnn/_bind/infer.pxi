# _bind/infer.pxi -- bindings for csrc/infer.c: an inference program (a chain
# of forward layers run in one C call over cache-sized chunks of the batch).
# fastnn/nn/fusion.py builds one for an eval-mode nn.Sequential.

from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memset

cdef extern from "infer.h":
    ctypedef struct fnn_infer_op:
        int kind
        int relu
        int64_t in_ "in"[3]
        int64_t out[3]
        fnn_conv2d_desc conv
        fnn_pool2d_desc pool
        const void *w
        const void *b
        const void *mean
        const void *var
        const void *gamma
        const void *beta
        double eps
    int FNN_INFER_CONV, FNN_INFER_BNORM, FNN_INFER_RELU, FNN_INFER_MAXPOOL
    int FNN_INFER_AVGPOOL, FNN_INFER_LINEAR
    int64_t fnn_infer_workspace_len_f32(const fnn_infer_op *ops, int n_ops, int64_t N,
                                        int n_threads)
    int64_t fnn_infer_workspace_len_f64(const fnn_infer_op *ops, int n_ops, int64_t N,
                                        int n_threads)
    int fnn_infer_run_f32(const fnn_infer_op *ops, int n_ops, int64_t N, const float *x,
                          float *y, float *ws, const fnn_gemm_opts *opts, int n_threads) nogil
    int fnn_infer_run_f64(const fnn_infer_op *ops, int n_ops, int64_t N, const double *x,
                          double *y, double *ws, const fnn_gemm_opts *opts,
                          int n_threads) nogil
    int64_t fnn_infer_chunk(const fnn_infer_op *ops, int n_ops, int64_t N, int elem_bytes)

DEF _INFER_MAX_OPS = 256


class InferMismatch(Exception):
    """The arrays given to ``InferProgram.run`` are not the ones the program
    was built for (a parameter replaced or removed): rebuild it."""


cdef class InferProgram:
    """A chain of forward layers over images of one shape and dtype, built
    op by op with ``append`` (which checks the op against the current
    per-image shape and returns the next one), run by ``run``.  The ops
    (see csrc/infer.h):

    ``("conv", K, Cg, R, S, sh, sw, ph, pw, dh, dw, groups, has_bias, bn, relu)``
        bn: None, or ``(eps, affine)`` for a batch norm folded in;
    ``("bnorm", eps, affine, relu)``; ``("relu",)``;
    ``("maxpool", R, S, sh, sw, ph, pw, dh, dw, ceil_mode)``;
    ``("avgpool", R, S, sh, sw, ph, pw, ceil_mode, count_include_pad, divisor)``;
    ``("linear", in_features, out_features, has_bias, relu)`` (on the image
    flattened).

    ``run(x, arrays, n_threads)`` returns y (N, C, H, W) (a flat result is
    (N, F, 1, 1)) for x (N, *in_shape), C-contiguous, the program's dtype;
    ``arrays[i]`` is op i's (w, b, mean, var, gamma, beta), None for an
    array it has not (or None for all six).  Raises ``InferMismatch`` when
    an array is missing, unexpected, or of another size, dtype or layout."""
    cdef fnn_infer_op *ops
    cdef int n_ops, cap
    cdef int kind
    cdef readonly tuple in_shape, shape
    cdef list sizes       # per op: the expected element counts of its six arrays

    def __cinit__(self, in_shape, dtype):
        self.ops = NULL
        self.n_ops = self.cap = 0
        self.sizes = []

    def __init__(self, in_shape, dtype):
        self.kind = 0 if np.dtype(dtype) == np.float32 else 1
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError("InferProgram: dtype must be float32 or float64")
        s = tuple(int(v) for v in in_shape)
        if len(s) == 1:
            s = (s[0], 1, 1)
        if len(s) != 3 or min(s) < 1:
            raise ValueError(f"InferProgram: per-image shape must be (C, H, W) or (F,), got {in_shape}")
        self.in_shape = s
        self.shape = s

    def __dealloc__(self):
        free(self.ops)

    def __len__(self):
        return self.n_ops

    def append(self, spec):
        """Adds an op (see the class); returns the per-image output shape.
        ValueError when the op does not apply to the current shape."""
        if self.n_ops >= _INFER_MAX_OPS:
            raise ValueError("InferProgram: too many ops")
        cdef int cap
        cdef fnn_infer_op *grown
        if self.n_ops == self.cap:   # (grown by doubling: most programs have a few ops)
            cap = 8 if self.cap == 0 else min(2 * self.cap, _INFER_MAX_OPS)
            grown = <fnn_infer_op *>realloc(self.ops, cap * sizeof(fnn_infer_op))
            if grown == NULL:
                raise MemoryError()
            self.ops, self.cap = grown, cap
        cdef fnn_infer_op *op = &self.ops[self.n_ops]
        cdef fnn_pool2d_desc *p = &op.pool
        memset(op, 0, sizeof(fnn_infer_op))
        cdef int64_t C = self.shape[0], H = self.shape[1], W = self.shape[2]
        op.in_[0], op.in_[1], op.in_[2] = C, H, W
        name = spec[0]
        sizes = [0, 0, 0, 0, 0, 0]
        if name == "conv":
            K, Cg, R, S, sh, sw, ph, pw, dh, dw, G, has_b, bn, relu = spec[1:]
            if Cg * G != C or _conv_fill(&op.conv, 1, C, H, W, K, R, S, sh, sw, ph, pw, dh, dw,
                                         G) != FNN_OK:
                raise ValueError("conv does not apply")
            op.conv.winograd = _conv_winograd
            op.kind = FNN_INFER_CONV
            op.relu = bool(relu)
            op.out[0], op.out[1], op.out[2] = K, op.conv.OH, op.conv.OW
            sizes[0] = K * Cg * R * S
            sizes[1] = K if has_b else 0
            if bn is not None:
                op.eps = bn[0]
                sizes[2] = sizes[3] = K
                sizes[4] = sizes[5] = K if bn[1] else 0
        elif name == "bnorm":
            eps, affine, relu = spec[1:]
            op.kind = FNN_INFER_BNORM
            op.eps = eps
            op.relu = bool(relu)
            op.out[0], op.out[1], op.out[2] = C, H, W
            sizes[2] = sizes[3] = C
            sizes[4] = sizes[5] = C if affine else 0
        elif name == "relu":
            op.kind = FNN_INFER_RELU
            op.out[0], op.out[1], op.out[2] = C, H, W
        elif name == "maxpool" or name == "avgpool":
            op.kind = FNN_INFER_MAXPOOL if name == "maxpool" else FNN_INFER_AVGPOOL
            p.N, p.C, p.H, p.W = 1, C, H, W
            if name == "maxpool":
                p.R, p.S, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.ceil_mode = spec[1:]
            else:
                p.R, p.S, p.sh, p.sw, p.ph, p.pw, p.ceil_mode, count_pad, div = spec[1:]
                p.dh = p.dw = 1
                p.exclude_pad = not count_pad
                p.divisor = div or 0
            if fnn_pool2d_init(p) != FNN_OK:
                raise ValueError("pooling does not apply")
            op.out[0], op.out[1], op.out[2] = C, p.OH, p.OW
        elif name == "linear":
            F, O, has_b, relu = spec[1:]
            if F != C * H * W or O < 1:
                raise ValueError("linear does not apply")
            op.kind = FNN_INFER_LINEAR
            op.relu = bool(relu)
            op.in_[0], op.in_[1], op.in_[2] = F, 1, 1
            op.out[0], op.out[1], op.out[2] = O, 1, 1
            sizes[0] = F * O
            sizes[1] = O if has_b else 0
        else:
            raise ValueError(f"InferProgram: unknown op {name!r}")
        self.n_ops += 1
        self.sizes.append(sizes)
        self.shape = (op.out[0], op.out[1], op.out[2])
        return self.shape

    def chunk(self, int64_t N):
        """Images per chunk a batch of N runs in (csrc/infer.c)."""
        return fnn_infer_chunk(self.ops, self.n_ops, N, 4 if self.kind == 0 else 8)

    def run_sources(self, TensorBase x, list srcs, int n_threads, tuple after):
        """``run`` for the inference plan (fastnn/nn/fusion.py): x a Tensor,
        ``srcs[i]`` the op's arrays as six sources, each None or a pair
        (registry dict, name) naming the Tensor that holds the array (None
        when the registry holds None under the name); returns the output as
        a Tensor of shape (N, *after)."""
        cdef object a = x._array
        if not cnp.PyArray_Check(a):
            raise InferMismatch("x")
        if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
            a = np.ascontiguousarray(a)
        cdef list arrays = []
        cdef object t
        for op_src in srcs:
            if op_src is None:
                arrays.append(None)
                continue
            tup = []
            for src in <tuple>op_src:
                if src is None:
                    tup.append(None)
                    continue
                t = (<dict>(<tuple>src)[0]).get((<tuple>src)[1])
                if t is None:
                    tup.append(None)
                elif isinstance(t, TensorBase):
                    tup.append((<TensorBase>t)._array)
                else:
                    raise InferMismatch("a parameter is not a Tensor")
            arrays.append(tuple(tup))
        y = self.run(a, arrays, n_threads)
        return _e_wrap(y.reshape((y.shape[0],) + after))

    def run(self, x, list arrays, int n_threads=1):
        if self.n_ops == 0:
            raise ValueError("InferProgram: no ops")
        if len(arrays) != self.n_ops:
            raise InferMismatch("wrong number of array tuples")
        cdef int kind = self.kind
        cdef int tn = cnp.NPY_FLOAT32 if kind == 0 else cnp.NPY_FLOAT64
        if (not cnp.PyArray_Check(x) or cnp.PyArray_TYPE(<cnp.ndarray>x) != tn
                or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x)):
            raise InferMismatch("x")
        cdef int64_t per = self.in_shape[0] * self.in_shape[1] * self.in_shape[2]
        cdef int64_t N = x.shape[0] if x.ndim else 0
        if x.ndim < 1 or _size(x) != N * per:
            raise InferMismatch("x shape")
        # the call's own copy of the ops, with its arrays (the program may
        # run in several threads at once)
        cdef fnn_infer_op *ops = <fnn_infer_op *>malloc(self.n_ops * sizeof(fnn_infer_op))
        if ops == NULL:
            raise MemoryError()
        try:
            return self._run(x, arrays, n_threads, N, ops)
        finally:
            free(ops)

    cdef object _run(self, x, list arrays, int n_threads, int64_t N, fnn_infer_op *ops):
        cdef int kind = self.kind
        cdef object dt = np.float32 if kind == 0 else np.float64
        cdef int tn = cnp.NPY_FLOAT32 if kind == 0 else cnp.NPY_FLOAT64
        cdef int i, j
        cdef fnn_infer_op *op
        cdef const void **slots[6]
        memcpy(ops, self.ops, self.n_ops * sizeof(fnn_infer_op))
        for i in range(self.n_ops):
            op = &ops[i]
            sizes = self.sizes[i]
            arrs = arrays[i]
            slots[0], slots[1], slots[2] = &op.w, &op.b, &op.mean
            slots[3], slots[4], slots[5] = &op.var, &op.gamma, &op.beta
            for j in range(6):
                n = sizes[j]
                a = arrs[j] if arrs is not None else None
                if n == 0:
                    if a is not None:
                        raise InferMismatch(f"op {i} array {j}: not expected")
                    slots[j][0] = NULL
                    continue
                if (a is None or not cnp.PyArray_Check(a)
                        or cnp.PyArray_TYPE(<cnp.ndarray>a) != tn
                        or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) or _size(a) != n):
                    raise InferMismatch(f"op {i} array {j}")
                slots[j][0] = _ptr(a)
        so = self.shape
        y = np.empty((N, so[0], so[1], so[2]), dtype=dt)
        cdef int64_t wl = (fnn_infer_workspace_len_f32(ops, self.n_ops, N, n_threads)
                           if kind == 0 else
                           fnn_infer_workspace_len_f64(ops, self.n_ops, N, n_threads))
        if wl < 0:
            raise ValueError("InferProgram: invalid program")
        ws = _ws_take("infer", kind, wl)
        cdef void *px = _ptr(x)
        cdef void *py = _ptr(y)
        cdef void *pws = _ptr(ws)
        cdef fnn_gemm_opts o = _gemm_opts
        cdef int st
        cdef int n_ops = self.n_ops
        try:
            with nogil:
                if kind == 0:
                    st = fnn_infer_run_f32(ops, n_ops, N, <const float*>px, <float*>py,
                                           <float*>pws, &o, n_threads)
                else:
                    st = fnn_infer_run_f64(ops, n_ops, N, <const double*>px, <double*>py,
                                           <double*>pws, &o, n_threads)
        finally:
            _ws_give("infer", kind, ws)
        _check_status(st, "inference program")
        return y


from cpython.dict cimport PyDict_Next
from cpython.ref cimport PyObject


def same_attrs(tuple mods, tuple snaps):
    """True when every module's attribute values are, by identity and in
    order, those of its snapshot (``tuple(m.__dict__.values())``): the
    inference plan's test that no module changed since it was built."""
    cdef Py_ssize_t i, j, pos
    cdef PyObject *k
    cdef PyObject *v
    cdef dict d
    cdef tuple snap
    if len(mods) != len(snaps):
        return False
    for i in range(len(mods)):
        d = mods[i].__dict__
        snap = snaps[i]
        if len(d) != len(snap):
            return False
        pos = 0
        j = 0
        while PyDict_Next(d, &pos, &k, &v):
            if <object>v is not snap[j]:
                return False
            j += 1
    return True


def infer_fast(plan, modules, TensorBase x, int fold, int n_threads):
    """The common case of fastnn.nn.fusion.infer in one call: ``plan`` (a
    fusion._Plan) still describes the Sequential (its modules, in order, and
    every module's attributes as snapshot; the same fold setting), the
    input's per-image shape and dtype are those of the plan's last call
    (``plan.last``), and that call ran one program over all the layers.
    Returns the output Tensor, or None for the general path to decide."""
    cdef tuple mods = plan.mods
    cdef Py_ssize_t i = 0
    if plan.fold != fold or len(modules) != len(mods):
        return None
    for v in modules.values():   # (an OrderedDict: its own order)
        if v is not mods[i]:
            return None
        i += 1
    if not same_attrs(mods, plan.snap):
        return None
    last = plan.last
    if last is None:
        return None
    a = x._array
    if not cnp.PyArray_Check(a):
        return None
    cdef tuple shape = (<tuple>last)[0]
    cdef cnp.ndarray arr = <cnp.ndarray>a
    cdef int nd = cnp.PyArray_NDIM(arr)
    if nd != len(shape) + 1 or cnp.PyArray_TYPE(arr) != <int>(<tuple>last)[1]:
        return None
    for i in range(1, nd):
        if cnp.PyArray_DIM(arr, i) != <cnp.npy_intp>shape[i - 1]:
            return None
    step = (<tuple>last)[2]
    try:
        return (<InferProgram>step[0]).run_sources(x, step[1], n_threads, step[2])
    except InferMismatch:
        return None
