/* optim.h -- in-place optimiser steps (SGD, Adagrad, RMSprop, Adam/AdamW with
 * AMSGrad, Adadelta, Adamax, NAdam, RAdam).
 *
 * Every rule reproduces torch.optim's single-tensor formula, operation by
 * operation (see optim.inc for the per-element code and the formulas).  Each
 * rule has two entry points:
 *
 *   fnn_<rule>_step_<f32|f64>        one contiguous parameter buffer of n
 *                                    elements, its gradient and its state;
 *   fnn_<rule>_step_multi_<f32|f64>  n_tensors buffers given as arrays of
 *                                    pointers and sizes, updated in ONE
 *                                    parallel region whose threads split the
 *                                    concatenated elements evenly (a whole
 *                                    model's parameters in one call).
 *
 * Buffers are updated in place: param[i] and the state buffers are read and
 * written, grad[i] is only read.  The hyper-parameters are the same for every
 * tensor of a multi call (a caller groups tensors whose step counts or
 * first-step flags differ).  Scalars are given in double and rounded to the
 * buffer's type before use, as torch does with Python scalars.
 */
#ifndef FNN_OPTIM_H
#define FNN_OPTIM_H

#include "fnn_common.h"

typedef struct {
    double lr, momentum, dampening, weight_decay;
    int nesterov;
    int maximize;
    int init_buf;   /* 1 on the step that creates the momentum buffer: buf = g */
} fnn_sgd_hparams;

typedef struct {
    double lr, weight_decay, eps;
    double clr;     /* lr / (1 + (step - 1) * lr_decay), computed by the caller */
    int maximize;
} fnn_adagrad_hparams;

typedef struct {
    double lr, alpha, eps, weight_decay, momentum;
    int centered;
    int maximize;
} fnn_rmsprop_hparams;

typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    double step;    /* the step count including this step (>= 1) */
    int decoupled;  /* 1: AdamW, param *= 1 - lr * weight_decay */
    int maximize;
} fnn_adam_hparams;

typedef struct {
    double lr, rho, eps, weight_decay;
    int maximize;
} fnn_adadelta_hparams;

typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    double step;    /* the step count including this step (>= 1) */
    int maximize;
} fnn_adamax_hparams;

typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    double bias_correction2;  /* 1 - beta2^step */
    double grad_coef;         /* -lr (1 - mu_t) / (1 - mu_1 ... mu_t) */
    double avg_coef;          /* -lr mu_{t+1} / (1 - mu_1 ... mu_{t+1}) */
    int decoupled;            /* 1: param *= 1 - lr * weight_decay */
    int maximize;
} fnn_nadam_hparams;

typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    double step;    /* the step count including this step (>= 1) */
    int decoupled;  /* 1: param *= 1 - lr * weight_decay */
    int maximize;
} fnn_radam_hparams;

/* param, grad, buf: (n,).  buf may be NULL when momentum == 0. */
int fnn_sgd_step_f32(const fnn_sgd_hparams *hp, int64_t n, float *param, const float *grad,
                     float *buf, int n_threads);
int fnn_sgd_step_f64(const fnn_sgd_hparams *hp, int64_t n, double *param, const double *grad,
                     double *buf, int n_threads);
/* params[j], grads[j], bufs[j]: (sizes[j],); bufs may be NULL when momentum == 0. */
int fnn_sgd_step_multi_f32(const fnn_sgd_hparams *hp, int64_t n_tensors, const int64_t *sizes,
                           float *const *params, const float *const *grads,
                           float *const *bufs, int n_threads);
int fnn_sgd_step_multi_f64(const fnn_sgd_hparams *hp, int64_t n_tensors, const int64_t *sizes,
                           double *const *params, const double *const *grads,
                           double *const *bufs, int n_threads);

/* param, grad, sum: (n,) */
int fnn_adagrad_step_f32(const fnn_adagrad_hparams *hp, int64_t n, float *param,
                         const float *grad, float *sum, int n_threads);
int fnn_adagrad_step_f64(const fnn_adagrad_hparams *hp, int64_t n, double *param,
                         const double *grad, double *sum, int n_threads);
int fnn_adagrad_step_multi_f32(const fnn_adagrad_hparams *hp, int64_t n_tensors,
                               const int64_t *sizes, float *const *params,
                               const float *const *grads, float *const *sums, int n_threads);
int fnn_adagrad_step_multi_f64(const fnn_adagrad_hparams *hp, int64_t n_tensors,
                               const int64_t *sizes, double *const *params,
                               const double *const *grads, double *const *sums, int n_threads);

/* param, grad, square_avg: (n,); buf (momentum > 0) and grad_avg (centered)
 * may be NULL otherwise. */
int fnn_rmsprop_step_f32(const fnn_rmsprop_hparams *hp, int64_t n, float *param,
                         const float *grad, float *square_avg, float *buf, float *grad_avg,
                         int n_threads);
int fnn_rmsprop_step_f64(const fnn_rmsprop_hparams *hp, int64_t n, double *param,
                         const double *grad, double *square_avg, double *buf,
                         double *grad_avg, int n_threads);
int fnn_rmsprop_step_multi_f32(const fnn_rmsprop_hparams *hp, int64_t n_tensors,
                               const int64_t *sizes, float *const *params,
                               const float *const *grads, float *const *square_avgs,
                               float *const *bufs, float *const *grad_avgs, int n_threads);
int fnn_rmsprop_step_multi_f64(const fnn_rmsprop_hparams *hp, int64_t n_tensors,
                               const int64_t *sizes, double *const *params,
                               const double *const *grads, double *const *square_avgs,
                               double *const *bufs, double *const *grad_avgs, int n_threads);

/* param, grad, exp_avg, exp_avg_sq: (n,) */
int fnn_adam_step_f32(const fnn_adam_hparams *hp, int64_t n, float *param, const float *grad,
                      float *exp_avg, float *exp_avg_sq, int n_threads);
int fnn_adam_step_f64(const fnn_adam_hparams *hp, int64_t n, double *param,
                      const double *grad, double *exp_avg, double *exp_avg_sq, int n_threads);
int fnn_adam_step_multi_f32(const fnn_adam_hparams *hp, int64_t n_tensors, const int64_t *sizes,
                            float *const *params, const float *const *grads,
                            float *const *exp_avgs, float *const *exp_avg_sqs, int n_threads);
int fnn_adam_step_multi_f64(const fnn_adam_hparams *hp, int64_t n_tensors, const int64_t *sizes,
                            double *const *params, const double *const *grads,
                            double *const *exp_avgs, double *const *exp_avg_sqs, int n_threads);

/* AMSGrad (amsgrad=True): as Adam, max_exp_avg_sq (n,) keeps the running
 * maximum of exp_avg_sq, which replaces it in the denominator. */
int fnn_adam_amsgrad_step_f32(const fnn_adam_hparams *hp, int64_t n, float *param,
                              const float *grad, float *exp_avg, float *exp_avg_sq,
                              float *max_exp_avg_sq, int n_threads);
int fnn_adam_amsgrad_step_f64(const fnn_adam_hparams *hp, int64_t n, double *param,
                              const double *grad, double *exp_avg, double *exp_avg_sq,
                              double *max_exp_avg_sq, int n_threads);
int fnn_adam_amsgrad_step_multi_f32(const fnn_adam_hparams *hp, int64_t n_tensors,
                                    const int64_t *sizes, float *const *params,
                                    const float *const *grads, float *const *exp_avgs,
                                    float *const *exp_avg_sqs, float *const *max_exp_avg_sqs,
                                    int n_threads);
int fnn_adam_amsgrad_step_multi_f64(const fnn_adam_hparams *hp, int64_t n_tensors,
                                    const int64_t *sizes, double *const *params,
                                    const double *const *grads, double *const *exp_avgs,
                                    double *const *exp_avg_sqs, double *const *max_exp_avg_sqs,
                                    int n_threads);

/* param, grad, square_avg, acc_delta: (n,) */
int fnn_adadelta_step_f32(const fnn_adadelta_hparams *hp, int64_t n, float *param,
                          const float *grad, float *square_avg, float *acc_delta,
                          int n_threads);
int fnn_adadelta_step_f64(const fnn_adadelta_hparams *hp, int64_t n, double *param,
                          const double *grad, double *square_avg, double *acc_delta,
                          int n_threads);
int fnn_adadelta_step_multi_f32(const fnn_adadelta_hparams *hp, int64_t n_tensors,
                                const int64_t *sizes, float *const *params,
                                const float *const *grads, float *const *square_avgs,
                                float *const *acc_deltas, int n_threads);
int fnn_adadelta_step_multi_f64(const fnn_adadelta_hparams *hp, int64_t n_tensors,
                                const int64_t *sizes, double *const *params,
                                const double *const *grads, double *const *square_avgs,
                                double *const *acc_deltas, int n_threads);

/* param, grad, exp_avg, exp_inf: (n,) */
int fnn_adamax_step_f32(const fnn_adamax_hparams *hp, int64_t n, float *param,
                        const float *grad, float *exp_avg, float *exp_inf, int n_threads);
int fnn_adamax_step_f64(const fnn_adamax_hparams *hp, int64_t n, double *param,
                        const double *grad, double *exp_avg, double *exp_inf, int n_threads);
int fnn_adamax_step_multi_f32(const fnn_adamax_hparams *hp, int64_t n_tensors,
                              const int64_t *sizes, float *const *params,
                              const float *const *grads, float *const *exp_avgs,
                              float *const *exp_infs, int n_threads);
int fnn_adamax_step_multi_f64(const fnn_adamax_hparams *hp, int64_t n_tensors,
                              const int64_t *sizes, double *const *params,
                              const double *const *grads, double *const *exp_avgs,
                              double *const *exp_infs, int n_threads);

/* param, grad, exp_avg, exp_avg_sq: (n,) */
int fnn_nadam_step_f32(const fnn_nadam_hparams *hp, int64_t n, float *param,
                       const float *grad, float *exp_avg, float *exp_avg_sq, int n_threads);
int fnn_nadam_step_f64(const fnn_nadam_hparams *hp, int64_t n, double *param,
                       const double *grad, double *exp_avg, double *exp_avg_sq, int n_threads);
int fnn_nadam_step_multi_f32(const fnn_nadam_hparams *hp, int64_t n_tensors,
                             const int64_t *sizes, float *const *params,
                             const float *const *grads, float *const *exp_avgs,
                             float *const *exp_avg_sqs, int n_threads);
int fnn_nadam_step_multi_f64(const fnn_nadam_hparams *hp, int64_t n_tensors,
                             const int64_t *sizes, double *const *params,
                             const double *const *grads, double *const *exp_avgs,
                             double *const *exp_avg_sqs, int n_threads);

/* param, grad, exp_avg, exp_avg_sq: (n,) */
int fnn_radam_step_f32(const fnn_radam_hparams *hp, int64_t n, float *param,
                       const float *grad, float *exp_avg, float *exp_avg_sq, int n_threads);
int fnn_radam_step_f64(const fnn_radam_hparams *hp, int64_t n, double *param,
                       const double *grad, double *exp_avg, double *exp_avg_sq, int n_threads);
int fnn_radam_step_multi_f32(const fnn_radam_hparams *hp, int64_t n_tensors,
                             const int64_t *sizes, float *const *params,
                             const float *const *grads, float *const *exp_avgs,
                             float *const *exp_avg_sqs, int n_threads);
int fnn_radam_step_multi_f64(const fnn_radam_hparams *hp, int64_t n_tensors,
                             const int64_t *sizes, double *const *params,
                             const double *const *grads, double *const *exp_avgs,
                             double *const *exp_avg_sqs, int n_threads);

#endif
