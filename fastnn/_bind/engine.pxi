# The autograd engine's hot loops, compiled: ``Function.apply`` (record one op
# in the graph) and ``run_backward`` (walk the graph once in reverse
# topological order).  The readable reference of both is the pure-Python
# engine in fastnn/autograd/{function,engine}.py, which behaves identically
# (tests run both); fastnn.autograd picks this one when it is present.
#
# Gradient stealing: the first gradient that reaches a leaf becomes its
# ``.grad`` without a copy when nobody else can hold it: a built-in (raw) op's
# backward returned it, it is an exact ndarray that owns its data (or is a
# full view of an otherwise unreferenced array), C-contiguous and writeable,
# and its reference count shows that only the engine holds it (an op that
# hands one array to several inputs, keeps it in a cache or in ctx, or returns
# a saved array fails that test and gets a copy, as before).
cimport cython
from cpython.ref cimport PyObject, Py_REFCNT
from cpython.tuple cimport PyTuple_GET_SIZE, PyTuple_GET_ITEM

cdef object _E_Tensor = None
cdef object _E_mode = None
cdef object _E_new = object.__new__
cdef object _E_asarray = np.asarray
cdef object _E_zeros = np.zeros
cdef object _E_array = np.array
cdef object _E_add = np.add
cdef str _E_FREED = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward(). Specify retain_graph=True if you "
    "need to backward through the graph a second time.")



@cython.auto_pickle(False)
cdef class Context:
    """State an op keeps from its forward for its backward (``ctx``); the
    graph node of the op's outputs.  Ops may set any attribute on it."""

    cdef public object needs_input_grad
    cdef public object _saved
    cdef public bint _freed
    cdef public object _fn
    cdef public object _parents
    cdef public object _out_meta
    cdef public object _retained
    cdef dict __dict__
    cdef object __weakref__

    def __cinit__(self):
        self.needs_input_grad = ()
        self._saved = ()
        self._parents = ()
        self._out_meta = ()

    def save_for_backward(self, *tensors):
        """Keeps tensors (or arrays) for the backward."""
        self._saved = tensors

    @property
    def saved_tensors(self):
        """What ``save_for_backward`` kept; an error once the graph is freed."""
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access "
                "saved tensors after they have already been freed). Saved intermediate "
                "values of the graph are freed when you call .backward(). Specify "
                "retain_graph=True if you need to backward through the graph a second time.")
        return self._saved

    def mark_non_differentiable(self, *tensors):
        """Accepted for PyTorch compatibility; integer outputs never get gradients."""
        self._non_diff = tensors

    @property
    def name(self):
        return self._fn.__name__ if self._fn is not None else "Function"

    def __repr__(self):
        return f"<{self.name}Backward>"


def _engine_setup(Tensor, mode):
    """Called once by fastnn.autograd with the classes the engine works on."""
    global _E_Tensor, _E_mode
    _E_Tensor = Tensor
    _E_mode = mode


cdef inline object _e_wrap(object arr):
    t = _E_new(_E_Tensor)
    t.data = arr if cnp.PyArray_CheckExact(arr) else _E_asarray(arr)
    return t


def function_apply(cls, *args, **kwargs):
    """``Function.apply``: runs cls.forward and records the graph node."""
    cdef object Tensor = _E_Tensor
    cdef bint record = _E_mode.enabled
    cdef Py_ssize_t n = PyTuple_GET_SIZE(args), i
    cdef bint any_grad = False
    cdef list needs = [False] * n
    cdef list fargs
    cdef Context ctx = Context.__new__(Context)
    if cls.raw:
        fargs = list(args)
        for i in range(n):
            a = args[i]
            if isinstance(a, Tensor):
                fargs[i] = a.data
                if record and a.requires_grad:
                    needs[i] = True
                    any_grad = True
        ctx.needs_input_grad = needs
        out = cls.forward(ctx, *fargs, **kwargs)
    else:
        for i in range(n):
            a = args[i]
            if record and isinstance(a, Tensor) and a.requires_grad:
                needs[i] = True
                any_grad = True
        ctx.needs_input_grad = tuple(needs)
        _E_mode.enabled = False
        try:
            out = cls.forward(ctx, *args, **kwargs)
        finally:
            _E_mode.enabled = record
    cdef list parents
    if type(out) is not tuple:
        if not any_grad:
            return out if isinstance(out, Tensor) else _e_wrap(out)
        arr = out.data if isinstance(out, Tensor) else out
        t = _e_wrap(arr)
        arr = t.data
        ctx._fn = cls
        parents = [None] * n
        for i in range(n):
            if needs[i]:
                parents[i] = args[i]
        ctx._parents = parents
        ctx._out_meta = ((arr.shape, arr.dtype),)
        if arr.dtype.kind == "f":
            t.requires_grad = True
            t._grad_fn = ctx
        return t
    if not any_grad:
        return tuple([o if (o is None or isinstance(o, Tensor)) else _e_wrap(o) for o in out])
    ctx._fn = cls
    parents = [None] * n
    for i in range(n):
        if needs[i]:
            parents[i] = args[i]
    ctx._parents = parents
    cdef list wrapped = []
    cdef list meta = []
    cdef Py_ssize_t k = 0
    for o in out:
        if o is None:
            wrapped.append(None)
            meta.append(None)
            k += 1
            continue
        arr = o.data if isinstance(o, Tensor) else o
        t = _e_wrap(arr)
        arr = t.data
        if arr.dtype.kind == "f":
            t.requires_grad = True
            t._grad_fn = ctx
            t._out_idx = k
        meta.append((arr.shape, arr.dtype))
        wrapped.append(t)
        k += 1
    ctx._out_meta = tuple(meta)
    return tuple(wrapped)


cdef list _e_toposort(root):
    """Nodes reachable from root, parents before children (post-order)."""
    cdef list order = []
    cdef set seen = {root}
    cdef list stack = [root]
    cdef list idx = [0]
    cdef Py_ssize_t i, n, top
    cdef bint pushed
    while stack:
        top = len(stack) - 1
        node = stack[top]
        i = idx[top]
        parents = node._parents
        n = len(parents)
        pushed = False
        while i < n:
            p = parents[i]
            i += 1
            if p is not None:
                g = p._grad_fn
                if g is not None and g not in seen:
                    seen.add(g)
                    idx[top] = i
                    stack.append(g)
                    idx.append(0)
                    pushed = True
                    break
        if not pushed:
            stack.pop()
            idx.pop()
            order.append(node)
    return order


cdef bint _e_owned(object g, Py_ssize_t refs):
    """True when ndarray g is held by exactly ``refs`` references, owns its
    memory (or fully views an array nobody else holds), and is C-contiguous
    and writeable: the engine may then keep it as a gradient without a copy."""
    if Py_REFCNT(g) != refs or not cnp.PyArray_CheckExact(g):
        return False
    cdef cnp.ndarray a = <cnp.ndarray>g
    if not (cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_ISWRITEABLE(a)):
        return False
    cdef PyObject* base = cnp.PyArray_BASE(a)
    if base == NULL:
        return cnp.PyArray_CHKFLAGS(a, cnp.NPY_ARRAY_OWNDATA)
    b = <object>base
    # b: one reference from g's base slot, one from this local
    if Py_REFCNT(b) != 2 or not cnp.PyArray_CheckExact(b):
        return False
    cdef cnp.ndarray ba = <cnp.ndarray>b
    return (cnp.PyArray_BASE(ba) == NULL and cnp.PyArray_CHKFLAGS(ba, cnp.NPY_ARRAY_OWNDATA)
            and cnp.PyArray_SIZE(ba) == cnp.PyArray_SIZE(a) and cnp.PyArray_ISWRITEABLE(ba))


cdef _e_accumulate(t, g, bint steal):
    data = t.data
    if g.shape != data.shape:
        raise RuntimeError(f"backward: gradient of shape {g.shape} does not match "
                           f"the tensor's shape {data.shape}")
    cur = t.grad
    if cur is None:
        t.grad = g if steal else _E_array(g, dtype=data.dtype, copy=True)
    else:
        cur += g
        t.grad = cur
    hooks = t._post_accumulate_grad_hooks
    if hooks:
        for hook in tuple(hooks):
            hook(t)


def run_backward(root_tensor, grad, bint retain_graph=False):
    """Backpropagates ``grad`` (an ndarray of the root's shape) from root_tensor."""
    cdef object Tensor = _E_Tensor
    root = root_tensor._grad_fn
    if root is None:
        _e_accumulate(root_tensor, grad, False)
        return
    cdef list order = _e_toposort(root)
    cdef dict pending = {}
    cdef list slots = [None] * len(root._out_meta)
    slots[root_tensor._out_idx] = grad
    pending[root] = slots
    slots = None
    grad = None
    cdef Py_ssize_t j, i, nparents, nres, kk
    cdef bint raw, steal, same
    cdef list gouts
    cdef tuple res
    cdef Context node
    prev = _E_mode.enabled
    _E_mode.enabled = False
    try:
        for j in range(len(order) - 1, -1, -1):
            node = order[j]
            gouts = pending.pop(node, None)
            if gouts is None:
                continue
            if node._freed:
                raise RuntimeError(_E_FREED)
            meta = node._out_meta
            for i in range(len(gouts)):
                if gouts[i] is None and meta[i] is not None:
                    shape, dtype = meta[i]
                    gouts[i] = _E_zeros(shape, dtype)
            retained = node._retained
            if retained is not None:
                for i2, t in retained.items():
                    _e_accumulate(t, gouts[i2], False)
            fn = node._fn
            raw = fn.raw
            if raw:
                r = fn.backward(node, *gouts)
            else:
                r = fn.backward(node, *[_e_wrap(g) for g in gouts])
            gouts = None
            parents = node._parents
            nparents = len(parents)
            if type(r) is tuple:
                res = <tuple>r
            elif isinstance(r, tuple):
                res = tuple(r)
            else:
                res = (r,)
            r = None
            nres = PyTuple_GET_SIZE(res)
            if nres < nparents:
                for i in range(nres, nparents):
                    if parents[i] is not None:
                        raise RuntimeError(
                            f"function {fn.__name__}.backward returned {nres} gradients, "
                            f"expected {nparents} (one per forward input)")
                nparents = nres
            for i in range(nparents):
                parent = parents[i]
                if parent is None:
                    continue
                g = res[i]
                if g is None:
                    continue
                steal = raw
                if isinstance(g, Tensor):
                    g = g.data
                    steal = False
                elif not cnp.PyArray_Check(g):
                    g = _E_asarray(g)
                pdata = parent.data
                pdt = pdata.dtype
                gdt = g.dtype
                if gdt is not pdt and gdt != pdt:
                    g = g.astype(pdt)
                pnode = parent._grad_fn
                if pnode is None:
                    # references: g, plus res's slot if g is still that object
                    if steal:
                        same = (<PyObject*>g) == PyTuple_GET_ITEM(res, i)
                        steal = _e_owned(g, 2 if same else 1)
                    _e_accumulate(parent, g, steal)
                    continue
                if g.shape != pdata.shape:
                    raise RuntimeError(
                        f"{node.name}.backward returned a gradient of shape {g.shape} "
                        f"for an input of shape {pdata.shape}")
                slots = pending.get(pnode)
                if slots is None:
                    slots = [None] * len(pnode._out_meta)
                    pending[pnode] = slots
                kk = parent._out_idx
                s = slots[kk]
                if s is None:
                    slots[kk] = g
                else:
                    # s: held by slots and this local; sum in place when only
                    # the engine holds it, else into a new array
                    if _e_owned(s, 2) and s.dtype is g.dtype:
                        _E_add(s, g, out=s)
                    else:
                        slots[kk] = s + g
                    s = None
                slots = None
            res = None
            if not retain_graph:
                node._freed = True
                node._saved = ()
    finally:
        _E_mode.enabled = prev


# ------------------------------------------------------------ buffer cache
# Large fresh arrays cost page faults on every step (glibc hands big blocks
# back to the system on free and faults them in again; measured ~4 us per
# 4 KiB page here, a quarter of a cnn_train step).  NumPy lets a program
# install its own data allocator (PyDataMem_SetHandler): this one keeps
# freed blocks of at least ``min_bytes`` in a small FIFO cache (bounded in
# count and bytes) and hands them out again for requests of the same size
# (up to 25% larger), so a training loop that allocates the same shapes every
# step reuses the same, already mapped memory.  np.zeros still gets zeros (a
# reused block is cleared).  Each array keeps the handler that allocated it,
# so switching the cache off later is safe.
cdef extern from *:
    """
    #include <stdlib.h>
    #include <string.h>
    #include <pthread.h>
    #include <stdint.h>
    #ifdef __linux__
    #include <sys/mman.h>
    #endif
    #define FNN_POOL_HDR 64
    #define FNN_POOL_SLOTS 64
    static size_t fnn_pool_min = 256 * 1024;
    static size_t fnn_pool_cap = (size_t)512 << 20;
    static void *fnn_pool_blk[FNN_POOL_SLOTS];
    static size_t fnn_pool_sz[FNN_POOL_SLOTS];
    static int fnn_pool_n = 0;
    static size_t fnn_pool_bytes = 0;
    static size_t fnn_pool_hits = 0, fnn_pool_misses = 0;
    static pthread_mutex_t fnn_pool_mu = PTHREAD_MUTEX_INITIALIZER;

    /* Like NumPy's own allocator: ask for transparent huge pages on big
       blocks (fewer faults and TLB misses where the system allows it). */
    static void fnn_pool_hugepages(void *h, size_t n) {
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (n >= ((size_t)1 << 22)) {
            uintptr_t a = ((uintptr_t)h + 4095u) & ~(uintptr_t)4095u;
            uintptr_t e = ((uintptr_t)h + n + FNN_POOL_HDR) & ~(uintptr_t)4095u;
            if (e > a) madvise((void *)a, (size_t)(e - a), MADV_HUGEPAGE);
        }
    #else
        (void)h; (void)n;
    #endif
    }

    /* A block is [header: usable size][data...]; returns a header or NULL. */
    static void *fnn_pool_take(size_t n) {
        void *h = NULL;
        int bi = -1;
        size_t bs = 0;
        pthread_mutex_lock(&fnn_pool_mu);
        for (int i = 0; i < fnn_pool_n; i++) {
            size_t s = fnn_pool_sz[i];
            if (s >= n && s - n <= n / 4 && (bi < 0 || s < bs)) { bi = i; bs = s; }
        }
        if (bi >= 0) {
            h = fnn_pool_blk[bi];
            fnn_pool_bytes -= bs;
            memmove(&fnn_pool_blk[bi], &fnn_pool_blk[bi + 1], (size_t)(fnn_pool_n - bi - 1) * sizeof(void *));
            memmove(&fnn_pool_sz[bi], &fnn_pool_sz[bi + 1], (size_t)(fnn_pool_n - bi - 1) * sizeof(size_t));
            fnn_pool_n--;
            fnn_pool_hits++;
        } else {
            fnn_pool_misses++;
        }
        pthread_mutex_unlock(&fnn_pool_mu);
        return h;
    }

    static void *fnn_pool_malloc(void *ctx, size_t n) {
        void *h = NULL;
        (void)ctx;
        if (n == 0) n = 1;
        if (n >= fnn_pool_min) h = fnn_pool_take(n);
        if (h == NULL) {
            if (n > (size_t)-1 - FNN_POOL_HDR) return NULL;
            h = malloc(n + FNN_POOL_HDR);
            if (h == NULL) return NULL;
            *(size_t *)h = n;
            fnn_pool_hugepages(h, n);
        }
        return (char *)h + FNN_POOL_HDR;
    }

    static void *fnn_pool_calloc(void *ctx, size_t nelem, size_t elsize) {
        size_t n;
        void *h = NULL;
        (void)ctx;
        if (elsize != 0 && nelem > ((size_t)-1 - FNN_POOL_HDR) / elsize) return NULL;
        n = nelem * elsize;
        if (n == 0) n = 1;
        if (n >= fnn_pool_min) h = fnn_pool_take(n);
        if (h != NULL) {
            memset((char *)h + FNN_POOL_HDR, 0, n);
        } else {
            h = calloc(1, n + FNN_POOL_HDR);
            if (h == NULL) return NULL;
            *(size_t *)h = n;
            fnn_pool_hugepages(h, n);
        }
        return (char *)h + FNN_POOL_HDR;
    }

    static void *fnn_pool_realloc(void *ctx, void *p, size_t n) {
        void *h;
        if (p == NULL) return fnn_pool_malloc(ctx, n);
        if (n == 0) n = 1;
        h = (char *)p - FNN_POOL_HDR;
        if (n <= *(size_t *)h) return p;
        if (n > (size_t)-1 - FNN_POOL_HDR) return NULL;
        h = realloc(h, n + FNN_POOL_HDR);
        if (h == NULL) return NULL;
        *(size_t *)h = n;
        return (char *)h + FNN_POOL_HDR;
    }

    static void fnn_pool_free(void *ctx, void *p, size_t size) {
        void *h, *evict[FNN_POOL_SLOTS];
        int ne = 0;
        size_t s;
        (void)ctx; (void)size;
        if (p == NULL) return;
        h = (char *)p - FNN_POOL_HDR;
        s = *(size_t *)h;
        if (s < fnn_pool_min || s > fnn_pool_cap) { free(h); return; }
        pthread_mutex_lock(&fnn_pool_mu);
        while (fnn_pool_n > 0 && (fnn_pool_n == FNN_POOL_SLOTS || fnn_pool_bytes + s > fnn_pool_cap)) {
            evict[ne++] = fnn_pool_blk[0];
            fnn_pool_bytes -= fnn_pool_sz[0];
            memmove(&fnn_pool_blk[0], &fnn_pool_blk[1], (size_t)(fnn_pool_n - 1) * sizeof(void *));
            memmove(&fnn_pool_sz[0], &fnn_pool_sz[1], (size_t)(fnn_pool_n - 1) * sizeof(size_t));
            fnn_pool_n--;
        }
        fnn_pool_blk[fnn_pool_n] = h;
        fnn_pool_sz[fnn_pool_n] = s;
        fnn_pool_n++;
        fnn_pool_bytes += s;
        pthread_mutex_unlock(&fnn_pool_mu);
        for (int i = 0; i < ne; i++) free(evict[i]);
    }

    static void fnn_pool_clear(void) {
        void *evict[FNN_POOL_SLOTS];
        int ne;
        pthread_mutex_lock(&fnn_pool_mu);
        ne = fnn_pool_n;
        memcpy(evict, fnn_pool_blk, (size_t)ne * sizeof(void *));
        fnn_pool_n = 0;
        fnn_pool_bytes = 0;
        pthread_mutex_unlock(&fnn_pool_mu);
        for (int i = 0; i < ne; i++) free(evict[i]);
    }

    static PyDataMem_Handler fnn_pool_handler = {
        "fastnn_buffer_cache", 1,
        {NULL, fnn_pool_malloc, fnn_pool_calloc, fnn_pool_realloc, fnn_pool_free}
    };
    static PyObject *fnn_pool_capsule(void) {
        return PyCapsule_New(&fnn_pool_handler, "mem_handler", NULL);
    }
    """
    size_t fnn_pool_min
    size_t fnn_pool_cap
    int fnn_pool_n
    size_t fnn_pool_bytes
    size_t fnn_pool_hits
    size_t fnn_pool_misses
    void fnn_pool_clear()
    object fnn_pool_capsule()

cdef extern from "numpy/arrayobject.h":
    object PyDataMem_SetHandler(object handler)
    object PyDataMem_GetHandler()

cdef object _E_pool = None
cdef object _E_pool_prev = None


def buffer_cache(enable=True, max_bytes=None, min_bytes=None):
    """Turns the large-array cache on or off for NumPy allocations made in
    this thread's context (fastnn turns it on at import unless
    ``FASTNN_BUFFER_CACHE=0``).  ``max_bytes`` bounds the memory it keeps
    (default 512 MiB), ``min_bytes`` is the smallest block it keeps (default
    256 KiB).  Returns whether the cache is now installed."""
    global _E_pool, _E_pool_prev, fnn_pool_cap, fnn_pool_min
    if max_bytes is not None:
        fnn_pool_cap = <size_t>max(int(max_bytes), 0)
    if min_bytes is not None:
        fnn_pool_min = <size_t>max(int(min_bytes), 1)
    if enable:
        if _E_pool is None:
            _E_pool = fnn_pool_capsule()
        cur = PyDataMem_GetHandler()
        if cur is not _E_pool:
            _E_pool_prev = PyDataMem_SetHandler(_E_pool)
        return True
    if PyDataMem_GetHandler() is _E_pool and _E_pool is not None:
        PyDataMem_SetHandler(_E_pool_prev)
    fnn_pool_clear()
    return False


def buffer_cache_info():
    """The cache's state: blocks and bytes held, hits and misses so far."""
    return {"installed": _E_pool is not None and PyDataMem_GetHandler() is _E_pool,
            "blocks": fnn_pool_n, "bytes": fnn_pool_bytes, "hits": fnn_pool_hits,
            "misses": fnn_pool_misses, "max_bytes": fnn_pool_cap, "min_bytes": fnn_pool_min}


def buffer_cache_clear():
    """Frees every block the cache holds."""
    fnn_pool_clear()
