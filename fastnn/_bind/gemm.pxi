# _bind/gemm.pxi -- binding of fnn_gemm_ex_f32/_f64 (csrc/gemm.c).

cdef extern from "fnn_cpu.h":
    ctypedef struct fnn_cache_level:
        int64_t size
        int ways
        int line
        int shared_by
    ctypedef struct fnn_cache_info:
        fnn_cache_level l[3]
        int source
        int amd
    int fnn_cpu_caches(fnn_cache_info *out)

cdef extern from "gemm.h":
    ctypedef struct fnn_gemm_opts:
        int isa
        int direct
    int64_t fnn_gemm_workspace_len_f32(int n_threads)
    int64_t fnn_gemm_workspace_len_f64(int n_threads)
    int fnn_gemm_ex_f32(const fnn_gemm_opts *opts, int trans_a, int trans_b, int64_t M,
                        int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                        const float *B, int64_t ldb, float beta, float *C, int64_t ldc,
                        float *ws, int n_threads) nogil
    int fnn_gemm_ex_f64(const fnn_gemm_opts *opts, int trans_a, int trans_b, int64_t M,
                        int64_t N, int64_t K, double alpha, const double *A, int64_t lda,
                        const double *B, int64_t ldb, double beta, double *C, int64_t ldc,
                        double *ws, int n_threads) nogil
    int fnn_gemm_resolve_isa(int isa)
    int fnn_gemm_cpu_best_isa()
    int fnn_gemm_get_blocking(int isa, int dtype, int64_t *out)
    int fnn_gemm_blocking_model(const fnn_cache_info *ci, int mr, int nr, int elem, int64_t *out)
    int fnn_gemm_set_blocking(int isa, int dtype, int64_t mc, int64_t kc, int64_t nc)
    int fnn_gemm_fma_probe(int isa, int64_t iters, int n_threads, int64_t *flops,
                           double *cpu_rate) nogil
    int fnn_gemm_set_isa(int isa)   # transitional: the path conv2d reads (gemm.h)

ISA_NAMES = ("portable", "avx2", "avx512", "avx512sim")

# The GEMM options every call passes down (fnn_gemm_opts): the kernel path
# (resolved for this CPU) and the direct-path switch.  Set from Python only.
cdef fnn_gemm_opts _gemm_opts
_gemm_opts.isa = fnn_gemm_set_isa(-1)
_gemm_opts.direct = 1


cdef int _isa_code(name, what) except -2:
    if name == "auto":
        return fnn_gemm_resolve_isa(-1)
    if name in ISA_NAMES:
        return ISA_NAMES.index(name)
    raise ValueError(f"{what}: unknown path {name!r}; expected one of {ISA_NAMES + ('auto',)}")


def gemm_set_isa(name):
    """Forces the GEMM kernel path ('portable', 'avx2', 'avx512' or 'auto').

    A path the CPU cannot run is lowered to the best it can; returns the name
    of the path in force.  'avx512sim' runs the AVX-512 kernels' code (its
    register block and blocking) compiled for AVX2: slow, only for testing
    the AVX-512 path on CPUs without AVX-512; never chosen by 'auto'.  The
    path applies to every later product (gemm, and the convolutions'
    micro-kernels)."""
    if name == "auto":
        code = -1
    elif name in ISA_NAMES:
        code = ISA_NAMES.index(name)
    else:
        raise ValueError(f"gemm_set_isa: unknown path {name!r}; expected one of {ISA_NAMES + ('auto',)}")
    _gemm_opts.isa = fnn_gemm_set_isa(code)
    return ISA_NAMES[_gemm_opts.isa]


def gemm_set_direct(on=None):
    """Switches the direct (unpacked) paths on (True, the default) or off
    (False: every product runs the packed path, A and B packed; for testing
    and timing it): the path for products with very few rows, columns or
    terms, and the packed path's A read in place when there are few column
    panels.  Returns the previous setting; with on=None only reports it."""
    old = bool(_gemm_opts.direct)
    if on is not None:
        _gemm_opts.direct = 1 if on else 0
    return old


def gemm_isa():
    """Name of the GEMM kernel path in force."""
    return ISA_NAMES[_gemm_opts.isa]


cdef int _dtype_code(dtype, what) except -1:
    cdef int code = 0 if np.dtype(dtype) == np.float32 else 1 if np.dtype(dtype) == np.float64 else -1
    if code < 0:
        raise TypeError(f"{what}: dtype must be float32 or float64, got {dtype}")
    return code


def gemm_blocking(dtype="float32", isa=None):
    """Blocking of the GEMM path in force (or of path ``isa``) for dtype:
    dict with mr, nr (register block), mc, kc, nc (cache blocks, chosen
    from this CPU's caches: cpu_caches(), gemm_blocking_model())."""
    cdef int64_t out[5]
    cdef int code = _dtype_code(dtype, "gemm_blocking")
    cdef int path = _gemm_opts.isa if isa is None else _isa_code(isa, "gemm_blocking")
    fnn_gemm_get_blocking(path, code, out)
    return {"mr": out[0], "nr": out[1], "mc": out[2], "kc": out[3], "nc": out[4]}


_CACHE_SOURCES = ("default", "cpuid", "sysconf")


def cpu_caches():
    """The data caches this CPU reports (cpuid leaf 4 / 0x8000001D, else
    sysconf, else assumed figures): dict with source, amd (an AMD or Hygon
    core, by cpuid's vendor string) and L1/L2/L3, each a dict of size
    (bytes), ways, line (bytes), shared_by (logical CPUs)."""
    cdef fnn_cache_info ci
    fnn_cpu_caches(&ci)
    out = {"source": _CACHE_SOURCES[ci.source] if 0 <= ci.source < 3 else "unknown",
           "amd": bool(ci.amd)}
    for i in range(3):
        out[f"L{i + 1}"] = {"size": ci.l[i].size, "ways": ci.l[i].ways,
                            "line": ci.l[i].line, "shared_by": ci.l[i].shared_by}
    return out


def gemm_blocking_model(caches, int mr, int nr, int elem=4):
    """The GEMM's cache-block model (csrc/gemm_kernels.c) for made-up caches:
    caches maps "L1", "L2", "L3" to dicts with size, ways, line, shared_by
    (missing keys: 0, unknown) and optionally "amd" to True (an AMD core:
    the B micro-panel may fill L1d); returns dict mc, kc, nc for an mr x nr
    register block of elem-byte (4 or 8) elements."""
    cdef fnn_cache_info ci
    cdef int64_t out[3]
    ci.source = 0
    ci.amd = 1 if caches.get("amd") else 0
    for i in range(3):
        lv = caches.get(f"L{i + 1}") or {}
        ci.l[i].size = int(lv.get("size", 0))
        ci.l[i].ways = int(lv.get("ways", 0))
        ci.l[i].line = int(lv.get("line", 0))
        ci.l[i].shared_by = int(lv.get("shared_by", 0))
    if fnn_gemm_blocking_model(&ci, mr, nr, elem, out) != 0:
        raise ValueError(f"gemm_blocking_model: bad register block {mr}x{nr} or elem {elem}")
    return {"mc": out[0], "kc": out[1], "nc": out[2]}


def gemm_set_blocking(isa, dtype="float32", int64_t mc=0, int64_t kc=0, int64_t nc=0):
    """Overrides the cache blocks of GEMM path isa for dtype (0: the model's
    figure; all 0 restores the model).  For tuning and benchmarks only:
    never while a product runs.  Returns the new gemm_blocking(dtype, isa)."""
    cdef int code = _dtype_code(dtype, "gemm_set_blocking")
    cdef int path = _isa_code(isa, "gemm_set_blocking")
    if fnn_gemm_set_blocking(path, code, mc, kc, nc) != 0:
        raise ValueError(f"gemm_set_blocking: invalid blocks mc={mc}, kc={kc}, nc={nc} for {isa} "
                         "(mc a multiple of mr, nc of nr, kc <= 256)")
    return gemm_blocking(dtype, isa)


def fma_probe(int64_t iters, int n_threads=1, isa=None):
    """Runs the register-only FMA loop of a kernel path (the path in force
    by default; 'avx512sim' runs the AVX2 loop) for iters iterations on
    n_threads threads; returns (flops done, wall seconds, flop/s from the
    threads' own CPU time).  flops / seconds is the machine's arithmetic
    peak for that path (fastnn bench --peak); the third figure is the same
    peak unaffected by waits for a busy core."""
    import time
    cdef int code = _gemm_opts.isa if isa is None else _isa_code(isa, "fma_probe")
    cdef int64_t flops = 0
    cdef double rate = 0
    cdef int st
    t0 = time.perf_counter()
    with nogil:
        st = fnn_gemm_fma_probe(code, iters, n_threads, &flops, &rate)
    dt = time.perf_counter() - t0
    _check_status(st, "fma_probe")
    return flops, dt, rate


def cpu_best_isa():
    """Best kernel path this CPU supports."""
    return ISA_NAMES[fnn_gemm_cpu_best_isa()]


cdef int _gemm_raw(int kind, bint ta, bint tb, int64_t M, int64_t N, int64_t K,
                   double alpha, void *A, int64_t lda, void *B, int64_t ldb,
                   double beta, void *C, int64_t ldc, int n_threads) except -1:
    """GEMM on raw pointers, with a cached workspace (for other bindings)."""
    cdef int st
    cdef fnn_gemm_opts o = _gemm_opts
    cdef int64_t wl = (fnn_gemm_workspace_len_f32(n_threads) if kind == 0
                       else fnn_gemm_workspace_len_f64(n_threads))
    ws = _ws_take("gemm", kind, wl)
    cdef void *w = _ptr(ws)
    try:
        with nogil:
            if kind == 0:
                st = fnn_gemm_ex_f32(&o, ta, tb, M, N, K, <float>alpha, <const float*>A, lda,
                                     <const float*>B, ldb, <float>beta, <float*>C, ldc,
                                     <float*>w, n_threads)
            else:
                st = fnn_gemm_ex_f64(&o, ta, tb, M, N, K, alpha, <const double*>A, lda,
                                     <const double*>B, ldb, beta, <double*>C, ldc,
                                     <double*>w, n_threads)
    finally:
        _ws_give("gemm", kind, ws)
    return _check_status(st, "gemm")


def bmm3d(A, B, C, bint trans_a=False, bint trans_b=False, int n_threads=1,
          int64_t serial_macs=0):
    """C[i] = op(A[i]) @ op(B[i]) for every i: a batch of products through
    gemm in one call (the batch loop in C, the GIL released once), so that
    a matmul over many small matrices (attention heads, capsules) does not
    pay a Python call per matrix.  A, B and C are C-contiguous 3-D arrays of
    one float dtype with the same batch size; each product runs exactly as
    gemm() would run it (on n_threads threads if it has at least serial_macs
    multiply-adds, else on one), so the results do not depend on the
    batching.  Returns C."""
    for name, X in (("A", A), ("B", B), ("C", C)):
        if not isinstance(X, np.ndarray):
            raise TypeError(f"bmm3d: {name} must be numpy.ndarray, got {type(X).__name__}")
        if X.ndim != 3:
            from fastnn._errors import ShapeError
            raise ShapeError(f"bmm3d: {name} must be 3-D, got {X.ndim}-D")
        if not X.flags.c_contiguous:
            raise ValueError(f"bmm3d: {name} must be C-contiguous")
    if not C.flags.writeable:
        raise ValueError("bmm3d: C must be writeable")
    cdef int kind = _kind(A, "bmm3d", "A")
    _same(B, kind, "bmm3d", "B")
    _same(C, kind, "bmm3d", "out C")
    cdef int64_t nb = A.shape[0]
    cdef int64_t a1 = A.shape[1], a2 = A.shape[2], b1 = B.shape[1], b2 = B.shape[2]
    cdef int64_t M = a2 if trans_a else a1
    cdef int64_t K = a1 if trans_a else a2
    cdef int64_t KB = b2 if trans_b else b1
    cdef int64_t N = b1 if trans_b else b2
    if B.shape[0] != nb or C.shape[0] != nb or K != KB or C.shape[1] != M or C.shape[2] != N:
        from fastnn._errors import ShapeError
        raise ShapeError(f"bmm3d: shapes do not agree: A {tuple(A.shape)}, B {tuple(B.shape)}, "
                         f"C {tuple(C.shape)} (trans_a={trans_a}, trans_b={trans_b})")
    cdef int nt = n_threads if M * N * K >= serial_macs else 1
    cdef int64_t wl = (fnn_gemm_workspace_len_f32(nt) if kind == 0
                       else fnn_gemm_workspace_len_f64(nt))
    cdef fnn_gemm_opts o = _gemm_opts
    cdef char *pa = <char*>_ptr(A)
    cdef char *pb = <char*>_ptr(B)
    cdef char *pc = <char*>_ptr(C)
    cdef int64_t esz = 4 if kind == 0 else 8
    cdef int64_t sa = a1 * a2 * esz, sb = b1 * b2 * esz, sc = M * N * esz
    cdef int64_t i
    cdef int st = 0
    if nb == 0:
        return C
    ws = _ws_take("gemm", kind, wl)
    cdef void *w = _ptr(ws)
    try:
        with nogil:
            for i in range(nb):
                if kind == 0:
                    st = fnn_gemm_ex_f32(&o, trans_a, trans_b, M, N, K, 1.0,
                                         <const float*>(pa + i * sa), a2,
                                         <const float*>(pb + i * sb), b2, 0.0,
                                         <float*>(pc + i * sc), N, <float*>w, nt)
                else:
                    st = fnn_gemm_ex_f64(&o, trans_a, trans_b, M, N, K, 1.0,
                                         <const double*>(pa + i * sa), a2,
                                         <const double*>(pb + i * sb), b2, 0.0,
                                         <double*>(pc + i * sc), N, <double*>w, nt)
                if st != 0:
                    break
    finally:
        _ws_give("gemm", kind, ws)
    _check_status(st, "bmm3d")
    return C


def gemm(A, B, C, bint trans_a=False, bint trans_b=False, double alpha=1.0,
         double beta=0.0, int n_threads=1):
    """C = alpha * op(A) @ op(B) + beta * C, in place in C (all C-contiguous 2-D,
    one dtype).  op(X) is X.T when trans_x.  Returns C."""
    return _gemm_checked(A, B, C, trans_a, trans_b, alpha, beta, n_threads)


def mm2d(a, b, out=None, bint trans_a=False, bint trans_b=False, double beta=0.0,
         int n_threads=1, int64_t serial_macs=0):
    """op(a) @ op(b) for 2-D arrays of one float dtype, through gemm: into a
    new C-contiguous array, or accumulated into ``out`` (C-contiguous) as
    out = product + beta * out.  An operand that is not C-contiguous goes in
    transposed (its flag flipped) when it is F-contiguous, else copied; a
    product of fewer than serial_macs multiply-adds runs on one thread.
    (The ndarray-level product of fastnn.ops.linalg.mm, in C: a tiny
    product's call costs about what NumPy's matmul does.)"""
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        raise TypeError(f"mm2d: a and b must be numpy.ndarray, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    cdef cnp.ndarray A = <cnp.ndarray>a, B = <cnp.ndarray>b
    if cnp.PyArray_NDIM(A) != 2 or cnp.PyArray_NDIM(B) != 2:
        from fastnn._errors import ShapeError
        raise ShapeError(f"mm2d: a and b must be 2-D, got {a.ndim}-D and {b.ndim}-D")
    cdef bint ta = trans_a, tb = trans_b
    cdef int64_t M = cnp.PyArray_DIM(A, 1 if trans_a else 0)
    cdef int64_t K = cnp.PyArray_DIM(A, 0 if trans_a else 1)
    cdef int64_t N = cnp.PyArray_DIM(B, 0 if trans_b else 1)
    if not cnp.PyArray_IS_C_CONTIGUOUS(A):
        if cnp.PyArray_IS_F_CONTIGUOUS(A):
            A, ta = A.T, not ta
        else:
            A = np.ascontiguousarray(A)
    if not cnp.PyArray_IS_C_CONTIGUOUS(B):
        if cnp.PyArray_IS_F_CONTIGUOUS(B):
            B, tb = B.T, not tb
        else:
            B = np.ascontiguousarray(B)
    cdef cnp.npy_intp dims[2]
    if out is None:
        dims[0] = M
        dims[1] = N
        out = cnp.PyArray_EMPTY(2, dims, cnp.PyArray_TYPE(<cnp.ndarray>a), 0)
        beta = 0.0
    return _gemm_checked(A, B, out, ta, tb, 1.0, beta,
                         n_threads if M * N * K >= serial_macs else 1)


cdef object _gemm_checked(A, B, C, bint trans_a, bint trans_b, double alpha, double beta,
                          int n_threads):
    cdef int kind = _kind(A, "gemm", "A")
    _same(B, kind, "gemm", "B")
    _same(C, kind, "gemm", "out C")
    # (checked arrays: their dimensions read in C, not as Python tuples --
    # a tenth of a tiny product's call)
    cdef cnp.ndarray a = <cnp.ndarray>A, b = <cnp.ndarray>B, c = <cnp.ndarray>C
    if cnp.PyArray_NDIM(a) != 2 or cnp.PyArray_NDIM(b) != 2 or cnp.PyArray_NDIM(c) != 2:
        from fastnn._errors import ShapeError
        raise ShapeError(f"gemm: A, B and C must be 2-D, got {A.ndim}-D, {B.ndim}-D, {C.ndim}-D")
    cdef int64_t a0 = cnp.PyArray_DIM(a, 0), a1 = cnp.PyArray_DIM(a, 1)
    cdef int64_t b0 = cnp.PyArray_DIM(b, 0), b1 = cnp.PyArray_DIM(b, 1)
    cdef int64_t M = a1 if trans_a else a0
    cdef int64_t K = a0 if trans_a else a1
    cdef int64_t KB = b1 if trans_b else b0
    cdef int64_t N = b0 if trans_b else b1
    if K != KB or cnp.PyArray_DIM(c, 0) != M or cnp.PyArray_DIM(c, 1) != N:
        from fastnn._errors import ShapeError
        raise ShapeError(f"gemm: shapes do not agree: op(A) {M}x{K}, op(B) {KB}x{N}, C {tuple(C.shape)}")
    _gemm_raw(kind, trans_a, trans_b, M, N, K, alpha, _ptr(A), a1, _ptr(B), b1, beta, _ptr(C),
              N, n_threads)
    return C
