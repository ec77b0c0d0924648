# The NumPy data allocator behind ``fastnn._core.buffer_cache``, applied by
# ``fastnn/__init__.py`` from the FASTNN_BUFFER_CACHE setting.
#
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
    /* A block from malloc is [slack][n][h][data...]: data 64-byte aligned
       (a cache line: glibc's large blocks start 16 bytes into a page, and
       every 64-byte vector store into such an array straddled two lines;
       the GEMM's output stores ran up to a third slower for it), the
       usable size n and the block's start h in the 16 bytes before it.
       FNN_POOL_HDR bytes of slack cover the header and the alignment. */
    #define FNN_POOL_HDR 128
    static inline char *fnn_pool_data(void *h) {
        return (char *)(((uintptr_t)h + 16 + 63) & ~(uintptr_t)63);
    }
    static inline void *fnn_pool_block(void *p) { return ((void **)p)[-1]; }
    static inline size_t fnn_pool_size(void *p) { return ((size_t *)p)[-2]; }
    static inline void *fnn_pool_mark(void *h, size_t n) {
        char *p = fnn_pool_data(h);
        ((void **)p)[-1] = h;
        ((size_t *)p)[-2] = n;
        return p;
    }
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

    /* A cached block of at least n bytes (its start), or NULL. */
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
            fnn_pool_hugepages(h, n);
            return fnn_pool_mark(h, n);
        }
        return fnn_pool_data(h);   /* a cached block keeps its size */
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
            memset(fnn_pool_data(h), 0, n);
            return fnn_pool_data(h);
        }
        h = calloc(1, n + FNN_POOL_HDR);
        if (h == NULL) return NULL;
        fnn_pool_hugepages(h, n);
        return fnn_pool_mark(h, n);
    }

    static void *fnn_pool_realloc(void *ctx, void *p, size_t n) {
        void *h;
        if (p == NULL) return fnn_pool_malloc(ctx, n);
        if (n == 0) n = 1;
        size_t old = fnn_pool_size(p);
        if (n <= old) return p;
        if (n > (size_t)-1 - FNN_POOL_HDR) return NULL;
        h = fnn_pool_block(p);
        size_t off = (size_t)((char *)p - (char *)h);
        h = realloc(h, n + FNN_POOL_HDR);
        if (h == NULL) return NULL;
        /* the moved block may start at another offset from a line */
        if (fnn_pool_data(h) != (char *)h + off)
            memmove(fnn_pool_data(h), (char *)h + off, old);
        return fnn_pool_mark(h, n);
    }

    static void fnn_pool_free(void *ctx, void *p, size_t size) {
        void *h, *evict[FNN_POOL_SLOTS];
        int ne = 0;
        size_t s;
        (void)ctx; (void)size;
        if (p == NULL) return;
        h = fnn_pool_block(p);
        s = fnn_pool_size(p);
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

cdef object _pool = None
cdef object _pool_prev = None


def buffer_cache(enable=True, max_bytes=None, min_bytes=None):
    """Turns the large-array cache on or off for NumPy allocations made in
    this thread's context (fastnn turns it on at import unless
    ``FASTNN_BUFFER_CACHE=0``).  ``max_bytes`` bounds the memory it keeps
    (default 512 MiB), ``min_bytes`` is the smallest block it keeps (default
    256 KiB).  Returns whether the cache is now installed."""
    global _pool, _pool_prev, fnn_pool_cap, fnn_pool_min
    if max_bytes is not None:
        fnn_pool_cap = <size_t>max(int(max_bytes), 0)
    if min_bytes is not None:
        fnn_pool_min = <size_t>max(int(min_bytes), 1)
    if enable:
        if _pool is None:
            _pool = fnn_pool_capsule()
        cur = PyDataMem_GetHandler()
        if cur is not _pool:
            _pool_prev = PyDataMem_SetHandler(_pool)
        return True
    if PyDataMem_GetHandler() is _pool and _pool is not None:
        PyDataMem_SetHandler(_pool_prev)
    fnn_pool_clear()
    return False


def buffer_cache_info():
    """The cache's state: blocks and bytes held, hits and misses so far."""
    return {"installed": _pool is not None and PyDataMem_GetHandler() is _pool,
            "blocks": fnn_pool_n, "bytes": fnn_pool_bytes, "hits": fnn_pool_hits,
            "misses": fnn_pool_misses, "max_bytes": fnn_pool_cap, "min_bytes": fnn_pool_min}


def buffer_cache_clear():
    """Frees every block the cache holds."""
    fnn_pool_clear()
