# _bind/optim.pxi -- bindings for csrc/optim.c (in-place optimiser steps).
#
# Each binding takes LISTS of arrays (one entry per parameter tensor; a single
# ndarray is accepted as a list of one) and makes one multi-tensor C call:
# one parallel region over all the elements.  Checks: every array is a
# C-contiguous float32/float64 ndarray of the parameter's dtype and size, and
# every array the kernel writes is writeable.

cdef extern from "optim.h":
    ctypedef struct fnn_sgd_hparams:
        double lr, momentum, dampening, weight_decay
        int nesterov
        int maximize
        int init_buf
    ctypedef struct fnn_adagrad_hparams:
        double lr, weight_decay, eps, clr
        int maximize
    ctypedef struct fnn_rmsprop_hparams:
        double lr, alpha, eps, weight_decay, momentum
        int centered
        int maximize
    ctypedef struct fnn_adam_hparams:
        double lr, beta1, beta2, eps, weight_decay, step
        int decoupled
        int maximize
    ctypedef struct fnn_adadelta_hparams:
        double lr, rho, eps, weight_decay
        int maximize
    ctypedef struct fnn_adamax_hparams:
        double lr, beta1, beta2, eps, weight_decay, step
        int maximize
    ctypedef struct fnn_nadam_hparams:
        double lr, beta1, beta2, eps, weight_decay, bias_correction2, grad_coef, avg_coef
        int decoupled
        int maximize
    ctypedef struct fnn_radam_hparams:
        double lr, beta1, beta2, eps, weight_decay, step
        int decoupled
        int maximize

    int fnn_sgd_step_multi_f32(const fnn_sgd_hparams *hp, int64_t n_tensors, const int64_t *sizes,
                               float *const *params, const float *const *grads,
                               float *const *bufs, int n_threads) nogil
    int fnn_sgd_step_multi_f64(const fnn_sgd_hparams *hp, int64_t n_tensors, const int64_t *sizes,
                               double *const *params, const double *const *grads,
                               double *const *bufs, int n_threads) nogil
    int fnn_adagrad_step_multi_f32(const fnn_adagrad_hparams *hp, int64_t n_tensors,
                                   const int64_t *sizes, float *const *params,
                                   const float *const *grads, float *const *sums,
                                   int n_threads) nogil
    int fnn_adagrad_step_multi_f64(const fnn_adagrad_hparams *hp, int64_t n_tensors,
                                   const int64_t *sizes, double *const *params,
                                   const double *const *grads, double *const *sums,
                                   int n_threads) nogil
    int fnn_rmsprop_step_multi_f32(const fnn_rmsprop_hparams *hp, int64_t n_tensors,
                                   const int64_t *sizes, float *const *params,
                                   const float *const *grads, float *const *square_avgs,
                                   float *const *bufs, float *const *grad_avgs,
                                   int n_threads) nogil
    int fnn_rmsprop_step_multi_f64(const fnn_rmsprop_hparams *hp, int64_t n_tensors,
                                   const int64_t *sizes, double *const *params,
                                   const double *const *grads, double *const *square_avgs,
                                   double *const *bufs, double *const *grad_avgs,
                                   int n_threads) nogil
    int fnn_adam_step_multi_f32(const fnn_adam_hparams *hp, int64_t n_tensors,
                                const int64_t *sizes, float *const *params,
                                const float *const *grads, float *const *exp_avgs,
                                float *const *exp_avg_sqs, int n_threads) nogil
    int fnn_adam_step_multi_f64(const fnn_adam_hparams *hp, int64_t n_tensors,
                                const int64_t *sizes, double *const *params,
                                const double *const *grads, double *const *exp_avgs,
                                double *const *exp_avg_sqs, int n_threads) nogil
    int fnn_adam_amsgrad_step_multi_f32(const fnn_adam_hparams *hp, int64_t n_tensors,
                                        const int64_t *sizes, float *const *params,
                                        const float *const *grads, float *const *exp_avgs,
                                        float *const *exp_avg_sqs,
                                        float *const *max_exp_avg_sqs, int n_threads) nogil
    int fnn_adam_amsgrad_step_multi_f64(const fnn_adam_hparams *hp, int64_t n_tensors,
                                        const int64_t *sizes, double *const *params,
                                        const double *const *grads, double *const *exp_avgs,
                                        double *const *exp_avg_sqs,
                                        double *const *max_exp_avg_sqs, int n_threads) nogil
    int fnn_adadelta_step_multi_f32(const fnn_adadelta_hparams *hp, int64_t n_tensors,
                                    const int64_t *sizes, float *const *params,
                                    const float *const *grads, float *const *square_avgs,
                                    float *const *acc_deltas, int n_threads) nogil
    int fnn_adadelta_step_multi_f64(const fnn_adadelta_hparams *hp, int64_t n_tensors,
                                    const int64_t *sizes, double *const *params,
                                    const double *const *grads, double *const *square_avgs,
                                    double *const *acc_deltas, int n_threads) nogil
    int fnn_adamax_step_multi_f32(const fnn_adamax_hparams *hp, int64_t n_tensors,
                                  const int64_t *sizes, float *const *params,
                                  const float *const *grads, float *const *exp_avgs,
                                  float *const *exp_infs, int n_threads) nogil
    int fnn_adamax_step_multi_f64(const fnn_adamax_hparams *hp, int64_t n_tensors,
                                  const int64_t *sizes, double *const *params,
                                  const double *const *grads, double *const *exp_avgs,
                                  double *const *exp_infs, int n_threads) nogil
    int fnn_nadam_step_multi_f32(const fnn_nadam_hparams *hp, int64_t n_tensors,
                                 const int64_t *sizes, float *const *params,
                                 const float *const *grads, float *const *exp_avgs,
                                 float *const *exp_avg_sqs, int n_threads) nogil
    int fnn_nadam_step_multi_f64(const fnn_nadam_hparams *hp, int64_t n_tensors,
                                 const int64_t *sizes, double *const *params,
                                 const double *const *grads, double *const *exp_avgs,
                                 double *const *exp_avg_sqs, int n_threads) nogil
    int fnn_radam_step_multi_f32(const fnn_radam_hparams *hp, int64_t n_tensors,
                                 const int64_t *sizes, float *const *params,
                                 const float *const *grads, float *const *exp_avgs,
                                 float *const *exp_avg_sqs, int n_threads) nogil
    int fnn_radam_step_multi_f64(const fnn_radam_hparams *hp, int64_t n_tensors,
                                 const int64_t *sizes, double *const *params,
                                 const double *const *grads, double *const *exp_avgs,
                                 double *const *exp_avg_sqs, int n_threads) nogil


cdef list _as_list(object a):
    if isinstance(a, np.ndarray):
        return [a]
    return list(a)


cdef class _PtrTable:
    """Pointers to a list of arrays (kept alive here) and, for the parameter
    list, their sizes."""
    cdef object keep
    cdef object ptrs_arr
    cdef void **ptrs

    def __cinit__(self, list arrs, int kind, str op, str name, object sizes, bint write):
        cdef Py_ssize_t n = len(arrs), j
        cdef int64_t *sz = <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>sizes)
        self.keep = arrs
        self.ptrs_arr = np.empty(max(n, 1), dtype=np.uintp)
        self.ptrs = <void**>cnp.PyArray_DATA(<cnp.ndarray>self.ptrs_arr)
        for j in range(n):
            a = arrs[j]
            _same(a, kind, op, f"{name}[{j}]", sz[j])
            if write and not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a):
                raise ValueError(f"{op}: {name}[{j}] is read-only")
            self.ptrs[j] = _ptr(a)


cdef object _param_sizes(list params, str op, int *kind):
    """Checks the parameter list; returns the int64 array of sizes."""
    cdef Py_ssize_t n = len(params), j
    if n == 0:
        kind[0] = 0
        return np.zeros(1, dtype=np.int64)
    kind[0] = _kind(params[0], op, "params[0]")
    sizes = np.empty(n, dtype=np.int64)
    cdef int64_t *sz = <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>sizes)
    for j in range(n):
        _kind(params[j], op, f"params[{j}]")
        sz[j] = _size(params[j])
    return sizes


cdef _PtrTable _table(object arrs, Py_ssize_t n, int kind, str op, str name, object sizes,
                      bint write):
    cdef list lst = _as_list(arrs)
    if len(lst) != n:
        raise ValueError(f"{op}: {name} has {len(lst)} arrays, expected {n}")
    return _PtrTable(lst, kind, op, name, sizes, write)


def sgd_step(params, grads, bufs, double lr, double momentum=0.0, double dampening=0.0,
             double weight_decay=0.0, bint nesterov=False, bint maximize=False,
             bint init_buf=False, int n_threads=1):
    """In-place SGD step over a list of parameter arrays (torch.optim.SGD's rule).

    bufs (momentum buffers) may be None when momentum == 0; with init_buf the
    buffers are written with the (decayed) gradient, as on torch's first step."""
    cdef str op = "sgd_step"
    cdef int kind
    cdef list P = _as_list(params)
    sizes = _param_sizes(P, op, &kind)
    cdef Py_ssize_t n = len(P)
    cdef _PtrTable tp = _PtrTable(P, kind, op, "params", sizes, True)
    cdef _PtrTable tg = _table(grads, n, kind, op, "grads", sizes, False)
    cdef _PtrTable tb = None
    if momentum != 0.0:
        if bufs is None:
            raise ValueError(f"{op}: momentum buffers are required when momentum != 0")
        tb = _table(bufs, n, kind, op, "bufs", sizes, True)
    cdef fnn_sgd_hparams hp
    hp.lr = lr; hp.momentum = momentum; hp.dampening = dampening
    hp.weight_decay = weight_decay; hp.nesterov = nesterov; hp.maximize = maximize
    hp.init_buf = init_buf
    cdef int64_t *sz = <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>sizes)
    cdef void **pb = tb.ptrs if tb is not None else NULL
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_sgd_step_multi_f32(&hp, n, sz, <float**>tp.ptrs, <const float**>tg.ptrs,
                                        <float**>pb, n_threads)
        else:
            st = fnn_sgd_step_multi_f64(&hp, n, sz, <double**>tp.ptrs, <const double**>tg.ptrs,
                                        <double**>pb, n_threads)
    _check_status(st, op)


def adagrad_step(params, grads, sums, double clr, double weight_decay=0.0, double eps=1e-10,
                 bint maximize=False, int n_threads=1):
    """In-place Adagrad step (torch.optim.Adagrad's rule); clr is the decayed lr."""
    cdef str op = "adagrad_step"
    cdef int kind
    cdef list P = _as_list(params)
    sizes = _param_sizes(P, op, &kind)
    cdef Py_ssize_t n = len(P)
    cdef _PtrTable tp = _PtrTable(P, kind, op, "params", sizes, True)
    cdef _PtrTable tg = _table(grads, n, kind, op, "grads", sizes, False)
    cdef _PtrTable ts = _table(sums, n, kind, op, "sums", sizes, True)
    cdef fnn_adagrad_hparams hp
    hp.lr = clr; hp.clr = clr; hp.weight_decay = weight_decay; hp.eps = eps
    hp.maximize = maximize
    cdef int64_t *sz = <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>sizes)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_adagrad_step_multi_f32(&hp, n, sz, <float**>tp.ptrs, <const float**>tg.ptrs,
                                            <float**>ts.ptrs, n_threads)
        else:
            st = fnn_adagrad_step_multi_f64(&hp, n, sz, <double**>tp.ptrs,
                                            <const double**>tg.ptrs, <double**>ts.ptrs,
                                            n_threads)
    _check_status(st, op)


def rmsprop_step(params, grads, square_avgs, bufs, grad_avgs, double lr, double alpha=0.99,
                 double eps=1e-8, double weight_decay=0.0, double momentum=0.0,
                 bint centered=False, bint maximize=False, int n_threads=1):
    """In-place RMSprop step (torch.optim.RMSprop's rule).  bufs may be None
    when momentum == 0 and grad_avgs None when not centered."""
    cdef str op = "rmsprop_step"
    cdef int kind
    cdef list P = _as_list(params)
    sizes = _param_sizes(P, op, &kind)
    cdef Py_ssize_t n = len(P)
    cdef _PtrTable tp = _PtrTable(P, kind, op, "params", sizes, True)
    cdef _PtrTable tg = _table(grads, n, kind, op, "grads", sizes, False)
    cdef _PtrTable tv = _table(square_avgs, n, kind, op, "square_avgs", sizes, True)
    cdef _PtrTable tb = None
    cdef _PtrTable ta = None
    if momentum > 0.0:
        if bufs is None:
            raise ValueError(f"{op}: momentum buffers are required when momentum > 0")
        tb = _table(bufs, n, kind, op, "bufs", sizes, True)
    if centered:
        if grad_avgs is None:
            raise ValueError(f"{op}: grad_avgs are required when centered")
        ta = _table(grad_avgs, n, kind, op, "grad_avgs", sizes, True)
    cdef fnn_rmsprop_hparams hp
    hp.lr = lr; hp.alpha = alpha; hp.eps = eps; hp.weight_decay = weight_decay
    hp.momentum = momentum; hp.centered = centered; hp.maximize = maximize
    cdef int64_t *sz = <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>sizes)
    cdef void **pb = tb.ptrs if tb is not None else NULL
    cdef void **pa = ta.ptrs if ta is not None else NULL
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_rmsprop_step_multi_f32(&hp, n, sz, <float**>tp.ptrs,
                                            <const float**>tg.ptrs, <float**>tv.ptrs,
                                            <float**>pb, <float**>pa, n_threads)
        else:
            st = fnn_rmsprop_step_multi_f64(&hp, n, sz, <double**>tp.ptrs,
                                            <const double**>tg.ptrs, <double**>tv.ptrs,
                                            <double**>pb, <double**>pa, n_threads)
    _check_status(st, op)


def adam_step(params, grads, exp_avgs, exp_avg_sqs, double step, double lr=1e-3,
              double beta1=0.9, double beta2=0.999, double eps=1e-8, double weight_decay=0.0,
              bint decoupled=False, bint maximize=False, int n_threads=1,
              max_exp_avg_sqs=None):
    """In-place Adam / AdamW step (torch.optim.Adam's rule); step counts this
    step (1 on the first).  With max_exp_avg_sqs (the running maxima of
    exp_avg_sq, updated in place) the step is AMSGrad's."""
    cdef str op = "adam_step"
    cdef int kind
    if not step >= 1.0:
        raise ValueError(f"{op}: step must be >= 1, got {step}")
    cdef list P = _as_list(params)
    sizes = _param_sizes(P, op, &kind)
    cdef Py_ssize_t n = len(P)
    cdef _PtrTable tp = _PtrTable(P, kind, op, "params", sizes, True)
    cdef _PtrTable tg = _table(grads, n, kind, op, "grads", sizes, False)
    cdef _PtrTable tm = _table(exp_avgs, n, kind, op, "exp_avgs", sizes, True)
    cdef _PtrTable tv = _table(exp_avg_sqs, n, kind, op, "exp_avg_sqs", sizes, True)
    cdef _PtrTable tx = None
    if max_exp_avg_sqs is not None:
        tx = _table(max_exp_avg_sqs, n, kind, op, "max_exp_avg_sqs", sizes, True)
    cdef fnn_adam_hparams hp
    hp.lr = lr; hp.beta1 = beta1; hp.beta2 = beta2; hp.eps = eps
    hp.weight_decay = weight_decay; hp.step = step; hp.decoupled = decoupled
    hp.maximize = maximize
    cdef int64_t *sz = <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>sizes)
    cdef int st
    cdef void **px = tx.ptrs if tx is not None else NULL
    with nogil:
        if px != NULL:
            if kind == 0:
                st = fnn_adam_amsgrad_step_multi_f32(&hp, n, sz, <float**>tp.ptrs,
                                                     <const float**>tg.ptrs, <float**>tm.ptrs,
                                                     <float**>tv.ptrs, <float**>px, n_threads)
            else:
                st = fnn_adam_amsgrad_step_multi_f64(&hp, n, sz, <double**>tp.ptrs,
                                                     <const double**>tg.ptrs, <double**>tm.ptrs,
                                                     <double**>tv.ptrs, <double**>px, n_threads)
        elif kind == 0:
            st = fnn_adam_step_multi_f32(&hp, n, sz, <float**>tp.ptrs, <const float**>tg.ptrs,
                                         <float**>tm.ptrs, <float**>tv.ptrs, n_threads)
        else:
            st = fnn_adam_step_multi_f64(&hp, n, sz, <double**>tp.ptrs,
                                         <const double**>tg.ptrs, <double**>tm.ptrs,
                                         <double**>tv.ptrs, n_threads)
    _check_status(st, op)


cdef class _TwoState:
    """The checked pointer tables of a rule with two state buffers per
    parameter (params, grads, a, b) and the parameters' sizes."""
    cdef int kind
    cdef Py_ssize_t n
    cdef object sizes
    cdef _PtrTable tp, tg, ta, tb

    def __cinit__(self, str op, params, grads, a, str a_name, b, str b_name):
        cdef list P = _as_list(params)
        self.sizes = _param_sizes(P, op, &self.kind)
        self.n = len(P)
        self.tp = _PtrTable(P, self.kind, op, "params", self.sizes, True)
        self.tg = _table(grads, self.n, self.kind, op, "grads", self.sizes, False)
        self.ta = _table(a, self.n, self.kind, op, a_name, self.sizes, True)
        self.tb = _table(b, self.n, self.kind, op, b_name, self.sizes, True)


def adadelta_step(params, grads, square_avgs, acc_deltas, double lr=1.0, double rho=0.9,
                  double eps=1e-6, double weight_decay=0.0, bint maximize=False,
                  int n_threads=1):
    """In-place Adadelta step (torch.optim.Adadelta's rule)."""
    cdef _TwoState t = _TwoState("adadelta_step", params, grads, square_avgs, "square_avgs",
                                 acc_deltas, "acc_deltas")
    cdef fnn_adadelta_hparams hp
    hp.lr = lr; hp.rho = rho; hp.eps = eps; hp.weight_decay = weight_decay
    hp.maximize = maximize
    cdef int64_t *sz = <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>t.sizes)
    cdef int st
    with nogil:
        if t.kind == 0:
            st = fnn_adadelta_step_multi_f32(&hp, t.n, sz, <float**>t.tp.ptrs,
                                             <const float**>t.tg.ptrs, <float**>t.ta.ptrs,
                                             <float**>t.tb.ptrs, n_threads)
        else:
            st = fnn_adadelta_step_multi_f64(&hp, t.n, sz, <double**>t.tp.ptrs,
                                             <const double**>t.tg.ptrs, <double**>t.ta.ptrs,
                                             <double**>t.tb.ptrs, n_threads)
    _check_status(st, "adadelta_step")


def adamax_step(params, grads, exp_avgs, exp_infs, double step, double lr=2e-3,
                double beta1=0.9, double beta2=0.999, double eps=1e-8, double weight_decay=0.0,
                bint maximize=False, int n_threads=1):
    """In-place Adamax step (torch.optim.Adamax's rule); step counts this step."""
    if not step >= 1.0:
        raise ValueError(f"adamax_step: step must be >= 1, got {step}")
    cdef _TwoState t = _TwoState("adamax_step", params, grads, exp_avgs, "exp_avgs",
                                 exp_infs, "exp_infs")
    cdef fnn_adamax_hparams hp
    hp.lr = lr; hp.beta1 = beta1; hp.beta2 = beta2; hp.eps = eps
    hp.weight_decay = weight_decay; hp.step = step; hp.maximize = maximize
    cdef int64_t *sz = <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>t.sizes)
    cdef int st
    with nogil:
        if t.kind == 0:
            st = fnn_adamax_step_multi_f32(&hp, t.n, sz, <float**>t.tp.ptrs,
                                           <const float**>t.tg.ptrs, <float**>t.ta.ptrs,
                                           <float**>t.tb.ptrs, n_threads)
        else:
            st = fnn_adamax_step_multi_f64(&hp, t.n, sz, <double**>t.tp.ptrs,
                                           <const double**>t.tg.ptrs, <double**>t.ta.ptrs,
                                           <double**>t.tb.ptrs, n_threads)
    _check_status(st, "adamax_step")


def nadam_step(params, grads, exp_avgs, exp_avg_sqs, double bias_correction2,
               double grad_coef, double avg_coef, double lr=2e-3, double beta1=0.9,
               double beta2=0.999, double eps=1e-8, double weight_decay=0.0,
               bint decoupled=False, bint maximize=False, int n_threads=1):
    """In-place NAdam step (torch.optim.NAdam's rule).  The caller computes the
    scalars of this step: bias_correction2 = 1 - beta2^t, grad_coef =
    -lr (1 - mu_t) / (1 - prod mu), avg_coef = -lr mu_{t+1} / (1 - prod mu * mu_{t+1})."""
    cdef _TwoState t = _TwoState("nadam_step", params, grads, exp_avgs, "exp_avgs",
                                 exp_avg_sqs, "exp_avg_sqs")
    cdef fnn_nadam_hparams hp
    hp.lr = lr; hp.beta1 = beta1; hp.beta2 = beta2; hp.eps = eps
    hp.weight_decay = weight_decay; hp.bias_correction2 = bias_correction2
    hp.grad_coef = grad_coef; hp.avg_coef = avg_coef
    hp.decoupled = decoupled; hp.maximize = maximize
    cdef int64_t *sz = <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>t.sizes)
    cdef int st
    with nogil:
        if t.kind == 0:
            st = fnn_nadam_step_multi_f32(&hp, t.n, sz, <float**>t.tp.ptrs,
                                          <const float**>t.tg.ptrs, <float**>t.ta.ptrs,
                                          <float**>t.tb.ptrs, n_threads)
        else:
            st = fnn_nadam_step_multi_f64(&hp, t.n, sz, <double**>t.tp.ptrs,
                                          <const double**>t.tg.ptrs, <double**>t.ta.ptrs,
                                          <double**>t.tb.ptrs, n_threads)
    _check_status(st, "nadam_step")


def radam_step(params, grads, exp_avgs, exp_avg_sqs, double step, double lr=1e-3,
               double beta1=0.9, double beta2=0.999, double eps=1e-8, double weight_decay=0.0,
               bint decoupled=False, bint maximize=False, int n_threads=1):
    """In-place RAdam step (torch.optim.RAdam's rule); step counts this step."""
    if not step >= 1.0:
        raise ValueError(f"radam_step: step must be >= 1, got {step}")
    cdef _TwoState t = _TwoState("radam_step", params, grads, exp_avgs, "exp_avgs",
                                 exp_avg_sqs, "exp_avg_sqs")
    cdef fnn_radam_hparams hp
    hp.lr = lr; hp.beta1 = beta1; hp.beta2 = beta2; hp.eps = eps
    hp.weight_decay = weight_decay; hp.step = step; hp.decoupled = decoupled
    hp.maximize = maximize
    cdef int64_t *sz = <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>t.sizes)
    cdef int st
    with nogil:
        if t.kind == 0:
            st = fnn_radam_step_multi_f32(&hp, t.n, sz, <float**>t.tp.ptrs,
                                          <const float**>t.tg.ptrs, <float**>t.ta.ptrs,
                                          <float**>t.tb.ptrs, n_threads)
        else:
            st = fnn_radam_step_multi_f64(&hp, t.n, sz, <double**>t.tp.ptrs,
                                          <const double**>t.tg.ptrs, <double**>t.ta.ptrs,
                                          <double**>t.tb.ptrs, n_threads)
    _check_status(st, "radam_step")
