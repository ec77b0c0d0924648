# _bind/batchnorm.pxi -- bindings for csrc/batchnorm.c.
# x is viewed as (N, C, HW); every per-channel array has C elements.

cdef extern from "batchnorm.h":
    ctypedef struct fnn_batchnorm_desc:
        int64_t N, C, HW
        double eps
    int fnn_batchnorm_init(fnn_batchnorm_desc *d, int64_t N, int64_t C, int64_t HW,
                           double eps) nogil
    int fnn_batchnorm_fwd_train_f32(const fnn_batchnorm_desc *d, const float *x,
                                    const float *gamma, const float *beta, float *y,
                                    float *mean, float *var, float *invstd, int nt) nogil
    int fnn_batchnorm_fwd_train_f64(const fnn_batchnorm_desc *d, const double *x,
                                    const double *gamma, const double *beta, double *y,
                                    double *mean, double *var, double *invstd, int nt) nogil
    int fnn_batchnorm_fwd_eval_f32(const fnn_batchnorm_desc *d, const float *x,
                                   const float *rm, const float *rv, const float *gamma,
                                   const float *beta, float *y, float *invstd, int nt) nogil
    int fnn_batchnorm_fwd_eval_f64(const fnn_batchnorm_desc *d, const double *x,
                                   const double *rm, const double *rv, const double *gamma,
                                   const double *beta, double *y, double *invstd, int nt) nogil
    int fnn_batchnorm_bwd_f32(const fnn_batchnorm_desc *d, const float *x, const float *gy,
                              const float *mean, const float *invstd, const float *gamma,
                              int training, float *gx, float *dgamma, float *dbeta,
                              int nt) nogil
    int fnn_batchnorm_bwd_f64(const fnn_batchnorm_desc *d, const double *x, const double *gy,
                              const double *mean, const double *invstd, const double *gamma,
                              int training, double *gx, double *dgamma, double *dbeta,
                              int nt) nogil
    int fnn_batchnorm_relu_fwd_train_f32(const fnn_batchnorm_desc *d, const float *x,
                                         const float *gamma, const float *beta, float *y,
                                         float *mean, float *var, float *invstd, int nt) nogil
    int fnn_batchnorm_relu_fwd_train_f64(const fnn_batchnorm_desc *d, const double *x,
                                         const double *gamma, const double *beta, double *y,
                                         double *mean, double *var, double *invstd,
                                         int nt) nogil
    int fnn_batchnorm_relu_fwd_eval_f32(const fnn_batchnorm_desc *d, const float *x,
                                        const float *rm, const float *rv, const float *gamma,
                                        const float *beta, float *y, float *invstd,
                                        int nt) nogil
    int fnn_batchnorm_relu_fwd_eval_f64(const fnn_batchnorm_desc *d, const double *x,
                                        const double *rm, const double *rv,
                                        const double *gamma, const double *beta, double *y,
                                        double *invstd, int nt) nogil
    int fnn_batchnorm_relu_bwd_f32(const fnn_batchnorm_desc *d, const float *x,
                                   const float *y, const float *gy, const float *mean,
                                   const float *invstd, const float *gamma, int training,
                                   float *gx, float *dgamma, float *dbeta, int nt) nogil
    int fnn_batchnorm_relu_bwd_f64(const fnn_batchnorm_desc *d, const double *x,
                                   const double *y, const double *gy, const double *mean,
                                   const double *invstd, const double *gamma, int training,
                                   double *gx, double *dgamma, double *dbeta, int nt) nogil
    int fnn_batchnorm_update_running_f32(int64_t C, const float *mean, const float *var,
                                         double momentum, double unbias, float *rm,
                                         float *rv) nogil
    int fnn_batchnorm_update_running_f64(int64_t C, const double *mean, const double *var,
                                         double momentum, double unbias, double *rm,
                                         double *rv) nogil


cdef int _bn_desc(fnn_batchnorm_desc *d, x, str op, double eps) except -1:
    if x.ndim < 2:
        raise ValueError(f"{op}: input must be (N, C, ...), got shape {x.shape}")
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef int64_t HW = _size(x) // (N * C) if N * C > 0 else 0
    _check_status(fnn_batchnorm_init(d, N, C, HW, eps), op)
    return 0




def batchnorm_fwd_train(x, gamma, beta, y, mean, var, invstd, double eps, int n_threads=1,
                        bint relu=False, running_mean=None, running_var=None,
                        double momentum=0.0):
    """Training forward over x (N, C, ...): batch statistics into mean, var
    (biased) and invstd (C), normalised + affine output into y (followed by
    ReLU when relu).  gamma/beta may be None.  running_mean / running_var
    (C, x's dtype, writeable; each may be None) are then updated in place
    with ``momentum`` and the unbiased variance (PyTorch's rule,
    fnn_batchnorm_update_running)."""
    cdef str op = "batch_norm"
    cdef int kind = _kind(x, op, "input")
    cdef fnn_batchnorm_desc d
    _bn_desc(&d, x, op, eps)
    if d.N * d.HW < 1:
        raise ValueError(f"{op}: no values per channel")
    _same(y, kind, op, "out y", _size(x))
    _same(mean, kind, op, "out mean", d.C)
    _same(var, kind, op, "out var", d.C)
    _same(invstd, kind, op, "out invstd", d.C)
    cdef void *pgm = _opt(gamma, kind, op, "weight", d.C)
    cdef void *pbt = _opt(beta, kind, op, "bias", d.C)
    cdef void *prm = _opt(running_mean, kind, op, "out running_mean", d.C)
    cdef void *prv = _opt(running_var, kind, op, "out running_var", d.C)
    cdef int64_t M = d.N * d.HW
    cdef double unbias = <double>M / <double>(M - 1) if M > 1 else 1.0
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef void *pm = _ptr(mean)
    cdef void *pv = _ptr(var)
    cdef void *pi = _ptr(invstd)
    cdef int st
    with nogil:
        if kind == 0 and relu:
            st = fnn_batchnorm_relu_fwd_train_f32(&d, <const float*>px, <const float*>pgm,
                                                  <const float*>pbt, <float*>py, <float*>pm,
                                                  <float*>pv, <float*>pi, n_threads)
        elif kind == 0:
            st = fnn_batchnorm_fwd_train_f32(&d, <const float*>px, <const float*>pgm,
                                             <const float*>pbt, <float*>py, <float*>pm,
                                             <float*>pv, <float*>pi, n_threads)
        elif relu:
            st = fnn_batchnorm_relu_fwd_train_f64(&d, <const double*>px, <const double*>pgm,
                                                  <const double*>pbt, <double*>py,
                                                  <double*>pm, <double*>pv, <double*>pi,
                                                  n_threads)
        else:
            st = fnn_batchnorm_fwd_train_f64(&d, <const double*>px, <const double*>pgm,
                                             <const double*>pbt, <double*>py, <double*>pm,
                                             <double*>pv, <double*>pi, n_threads)
        if st == FNN_OK and (prm != NULL or prv != NULL):
            if kind == 0:
                st = fnn_batchnorm_update_running_f32(d.C, <const float*>pm,
                                                      <const float*>pv, momentum, unbias,
                                                      <float*>prm, <float*>prv)
            else:
                st = fnn_batchnorm_update_running_f64(d.C, <const double*>pm,
                                                      <const double*>pv, momentum, unbias,
                                                      <double*>prm, <double*>prv)
    _check_status(st, op)
    return y


def batchnorm_fwd_eval(x, running_mean, running_var, gamma, beta, y, invstd, double eps,
                       int n_threads=1, bint relu=False):
    """Eval forward with running statistics (followed by ReLU when relu);
    invstd (C) receives 1/sqrt(running_var + eps)."""
    cdef str op = "batch_norm"
    cdef int kind = _kind(x, op, "input")
    cdef fnn_batchnorm_desc d
    _bn_desc(&d, x, op, eps)
    _same(y, kind, op, "out y", _size(x))
    _same(running_mean, kind, op, "running_mean", d.C)
    _same(running_var, kind, op, "running_var", d.C)
    _same(invstd, kind, op, "out invstd", d.C)
    cdef void *pgm = _opt(gamma, kind, op, "weight", d.C)
    cdef void *pbt = _opt(beta, kind, op, "bias", d.C)
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef void *pm = _ptr(running_mean)
    cdef void *pv = _ptr(running_var)
    cdef void *pi = _ptr(invstd)
    cdef int st
    with nogil:
        if kind == 0 and relu:
            st = fnn_batchnorm_relu_fwd_eval_f32(&d, <const float*>px, <const float*>pm,
                                                 <const float*>pv, <const float*>pgm,
                                                 <const float*>pbt, <float*>py, <float*>pi,
                                                 n_threads)
        elif kind == 0:
            st = fnn_batchnorm_fwd_eval_f32(&d, <const float*>px, <const float*>pm,
                                            <const float*>pv, <const float*>pgm,
                                            <const float*>pbt, <float*>py, <float*>pi, n_threads)
        elif relu:
            st = fnn_batchnorm_relu_fwd_eval_f64(&d, <const double*>px, <const double*>pm,
                                                 <const double*>pv, <const double*>pgm,
                                                 <const double*>pbt, <double*>py,
                                                 <double*>pi, n_threads)
        else:
            st = fnn_batchnorm_fwd_eval_f64(&d, <const double*>px, <const double*>pm,
                                            <const double*>pv, <const double*>pgm,
                                            <const double*>pbt, <double*>py, <double*>pi,
                                            n_threads)
    _check_status(st, op)
    return y


def batchnorm_bwd(x, gy, mean, invstd, gamma, bint training, gx, dgamma, dbeta,
                  int n_threads=1, out=None):
    """dx (into gx, unless gx is None), dgamma and dbeta (C) of batch norm;
    of batch norm + ReLU when out (the fused forward's output) is given:
    gy is then masked by out > 0."""
    cdef str op = "batch_norm_backward"
    cdef int kind = _kind(x, op, "input")
    cdef fnn_batchnorm_desc d
    _bn_desc(&d, x, op, 0.0)
    _same(gy, kind, op, "grad_output", _size(x))
    _same(mean, kind, op, "mean", d.C)
    _same(invstd, kind, op, "invstd", d.C)
    _same(dgamma, kind, op, "out dgamma", d.C)
    _same(dbeta, kind, op, "out dbeta", d.C)
    cdef void *pgx = NULL
    if gx is not None:
        _same(gx, kind, op, "out gx", _size(x))
        pgx = _ptr(gx)
    cdef void *pout = NULL
    if out is not None:
        _same(out, kind, op, "output", _size(x))
        pout = _ptr(out)
    cdef void *pgm = _opt(gamma, kind, op, "weight", d.C)
    cdef void *px = _ptr(x)
    cdef void *pgy = _ptr(gy)
    cdef void *pm = _ptr(mean)
    cdef void *pi = _ptr(invstd)
    cdef void *pdg = _ptr(dgamma)
    cdef void *pdb = _ptr(dbeta)
    cdef int tr = training
    cdef int st
    with nogil:
        if kind == 0 and pout != NULL:
            st = fnn_batchnorm_relu_bwd_f32(&d, <const float*>px, <const float*>pout,
                                            <const float*>pgy, <const float*>pm,
                                            <const float*>pi, <const float*>pgm, tr,
                                            <float*>pgx, <float*>pdg, <float*>pdb, n_threads)
        elif pout != NULL:
            st = fnn_batchnorm_relu_bwd_f64(&d, <const double*>px, <const double*>pout,
                                            <const double*>pgy, <const double*>pm,
                                            <const double*>pi, <const double*>pgm, tr,
                                            <double*>pgx, <double*>pdg, <double*>pdb,
                                            n_threads)
        elif kind == 0:
            st = fnn_batchnorm_bwd_f32(&d, <const float*>px, <const float*>pgy,
                                       <const float*>pm, <const float*>pi, <const float*>pgm,
                                       tr, <float*>pgx, <float*>pdg, <float*>pdb, n_threads)
        else:
            st = fnn_batchnorm_bwd_f64(&d, <const double*>px, <const double*>pgy,
                                       <const double*>pm, <const double*>pi, <const double*>pgm,
                                       tr, <double*>pgx, <double*>pdg, <double*>pdb, n_threads)
    _check_status(st, op)
    return gx
