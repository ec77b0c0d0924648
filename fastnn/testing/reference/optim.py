"""Reference (optim family): the update rules, schedules and gradient
utilities written plainly in NumPy, one formula per line.

Each ``*_step`` takes the parameter ``p`` and gradient ``g`` (ndarrays) and
that parameter's ``state`` (a dict, empty on the first step, updated in
place) and returns the NEW parameter array; it never modifies ``p`` or
``g``.  The formulas are torch.optim's (see each docstring).
"""
import math

import numpy as np

__all__ = ["sgd_step", "adagrad_step", "rmsprop_step", "adam_step", "adadelta_step",
           "adamax_step", "nadam_step", "radam_step", "adam_amsgrad_step", "step_lr",
           "exponential_lr", "inverse_time_lr", "cosine_annealing_lr", "reduce_lr_on_plateau",
           "clip_grad_norm", "renorm"]


def _decay(p, g, lr, weight_decay, decoupled):
    """Weight decay: p (1 - lr wd) when decoupled (AdamW-style), else g + wd p."""
    if weight_decay != 0:
        if decoupled:
            return p * (1 - lr * weight_decay), g
        return p, g + weight_decay * p
    return p, g


def sgd_step(p, g, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
             maximize=False):
    """SGD: d = g + wd p;  b = d (first step) or momentum b + (1 - dampening) d;
    d = d + momentum b (Nesterov) or b;  p - lr d."""
    d = -g if maximize else g
    if weight_decay != 0:
        d = d + weight_decay * p
    if momentum != 0:
        if "momentum_buffer" not in state:
            buf = d.copy()
        else:
            buf = momentum * state["momentum_buffer"] + (1 - dampening) * d
        state["momentum_buffer"] = buf
        d = d + momentum * buf if nesterov else buf
    return p - lr * d


def adagrad_step(p, g, state, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
    """Adagrad: s = s + g^2;  p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)."""
    if not state:
        state["step"] = 0
        state["sum"] = np.full_like(p, initial_accumulator_value)
    state["step"] += 1
    if weight_decay != 0:
        g = g + weight_decay * p
    clr = lr / (1 + (state["step"] - 1) * lr_decay)
    state["sum"] = state["sum"] + g * g
    return p - clr * g / (np.sqrt(state["sum"]) + eps)


def rmsprop_step(p, g, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
    """RMSprop: v = alpha v + (1 - alpha) g^2;  d = sqrt(v [- a^2]) + eps;
    b = momentum b + g / d, p - lr b  (or p - lr g / d without momentum)."""
    if not state:
        state["step"] = 0
        state["square_avg"] = np.zeros_like(p)
        state["momentum_buffer"] = np.zeros_like(p)
        state["grad_avg"] = np.zeros_like(p)
    state["step"] += 1
    if weight_decay != 0:
        g = g + weight_decay * p
    v = alpha * state["square_avg"] + (1 - alpha) * g * g
    state["square_avg"] = v
    if centered:
        a = alpha * state["grad_avg"] + (1 - alpha) * g
        state["grad_avg"] = a
        denom = np.sqrt(v - a * a) + eps
    else:
        denom = np.sqrt(v) + eps
    if momentum > 0:
        b = momentum * state["momentum_buffer"] + g / denom
        state["momentum_buffer"] = b
        return p - lr * b
    return p - lr * g / denom


def adam_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              decoupled=False):
    """Adam (AdamW with decoupled=True):
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)."""
    b1, b2 = betas
    if not state:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(p)
        state["exp_avg_sq"] = np.zeros_like(p)
    state["step"] += 1
    t = state["step"]
    p, g = _decay(p, g, lr, weight_decay, decoupled)
    m = b1 * state["exp_avg"] + (1 - b1) * g
    v = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
    state["exp_avg"], state["exp_avg_sq"] = m, v
    m_hat_scale = lr / (1 - b1 ** t)
    denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps
    return p - m_hat_scale * m / denom


def adam_amsgrad_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                      decoupled=False):
    """Adam with AMSGrad: as adam_step with v replaced by vmax = max(vmax, v)."""
    b1, b2 = betas
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p),
                     max_exp_avg_sq=np.zeros_like(p))
    state["step"] += 1
    t = state["step"]
    p, g = _decay(p, g, lr, weight_decay, decoupled)
    state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * g
    state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
    state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], state["exp_avg_sq"])
    denom = np.sqrt(state["max_exp_avg_sq"]) / math.sqrt(1 - b2 ** t) + eps
    return p - lr / (1 - b1 ** t) * state["exp_avg"] / denom


def adadelta_step(p, g, state, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    """Adadelta: v = rho v + (1 - rho) g^2;  d = sqrt(u + eps) / sqrt(v + eps) g;
    u = rho u + (1 - rho) d^2;  p - lr d."""
    if not state:
        state.update(square_avg=np.zeros_like(p), acc_delta=np.zeros_like(p))
    if weight_decay != 0:
        g = g + weight_decay * p
    v = rho * state["square_avg"] + (1 - rho) * g * g
    d = np.sqrt(state["acc_delta"] + eps) / np.sqrt(v + eps) * g
    state["square_avg"] = v
    state["acc_delta"] = rho * state["acc_delta"] + (1 - rho) * d * d
    return p - lr * d


def adamax_step(p, g, state, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """Adamax: m = b1 m + (1 - b1) g;  u = max(b2 u, |g| + eps);
    p - lr / (1 - b1^t) m / u."""
    b1, b2 = betas
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(p), exp_inf=np.zeros_like(p))
    state["step"] += 1
    if weight_decay != 0:
        g = g + weight_decay * p
    state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * g
    state["exp_inf"] = np.maximum(b2 * state["exp_inf"], np.abs(g) + eps)
    return p - lr / (1 - b1 ** state["step"]) * state["exp_avg"] / state["exp_inf"]


def nadam_step(p, g, state, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
               momentum_decay=4e-3, decoupled_weight_decay=False):
    """NAdam: mu_t = b1 (1 - 0.96^(t psi) / 2), P_t = prod mu;  m, v as Adam;
    d = sqrt(v / (1 - b2^t)) + eps;
    p - lr (1 - mu_t) / (1 - P_t) g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) m / d.
    (mu_product in double here; fastnn and torch keep it in float32.)"""
    b1, b2 = betas
    if not state:
        state.update(step=0, mu_product=1.0, exp_avg=np.zeros_like(p),
                     exp_avg_sq=np.zeros_like(p))
    state["step"] += 1
    t = state["step"]
    p, g = _decay(p, g, lr, weight_decay, decoupled_weight_decay)
    mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    state["mu_product"] *= mu
    P = state["mu_product"]
    state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * g
    state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
    d = np.sqrt(state["exp_avg_sq"] / (1 - b2 ** t)) + eps
    p = p - lr * (1 - mu) / (1 - P) * g / d
    return p - lr * mu_next / (1 - P * mu_next) * state["exp_avg"] / d


def radam_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
               decoupled_weight_decay=False):
    """RAdam: m, v as Adam; rho_inf = 2 / (1 - b2) - 1,
    rho_t = rho_inf - 2 t b2^t / (1 - b2^t); if rho_t > 5:
    p - lr m / (1 - b1^t) * r sqrt(1 - b2^t) / (sqrt(v) + eps), else p - lr m / (1 - b1^t)."""
    b1, b2 = betas
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
    state["step"] += 1
    t = state["step"]
    p, g = _decay(p, g, lr, weight_decay, decoupled_weight_decay)
    state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * g
    state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
    m_hat = state["exp_avg"] / (1 - b1 ** t)
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
    if rho_t <= 5:
        return p - lr * m_hat
    r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return p - lr * m_hat * r * math.sqrt(1 - b2 ** t) / (np.sqrt(state["exp_avg_sq"]) + eps)


# ------------------------------------------------------------ schedules
def step_lr(lr0, step_size, gamma, t):
    """lr at epoch t: lr0 * gamma ** (t // step_size)."""
    return lr0 * gamma ** (t // step_size)


def exponential_lr(lr0, gamma, t):
    """lr at epoch t: lr0 * gamma ** t."""
    return lr0 * gamma ** t


def inverse_time_lr(lr0, k, t):
    """lr at epoch t: lr0 / (1 + k t)."""
    return lr0 / (1 + k * t)


def cosine_annealing_lr(lr0, T_max, t, eta_min=0.0):
    """lr at epoch t: eta_min + (lr0 - eta_min) (1 + cos(pi t / T_max)) / 2."""
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


def reduce_lr_on_plateau(lr0, metrics, factor=0.1, patience=10, threshold=1e-4, cooldown=0,
                         min_lr=0.0, mode="min", threshold_mode="rel", eps=1e-8):
    """The lr after each metric (a list), by ReduceLROnPlateau's rules."""
    lr, best, bad, cool, out = lr0, (math.inf if mode == "min" else -math.inf), 0, 0, []
    for x in metrics:
        if mode == "min":
            better = x < (best * (1 - threshold) if threshold_mode == "rel" else best - threshold)
        else:
            better = x > (best * (1 + threshold) if threshold_mode == "rel" else best + threshold)
        if better:
            best, bad = x, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cool, bad = cooldown, 0
        out.append(lr)
    return out


# ----------------------------------------------------- gradient utilities
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """(clipped copies of grads, total norm): total = norm of all elements
    together; each grad times min(1, max_norm / (total + 1e-6))."""
    flat = np.concatenate([np.asarray(g, np.float64).ravel() for g in grads])
    if norm_type == math.inf:
        total = np.abs(flat).max()
    else:
        total = (np.abs(flat) ** norm_type).sum() ** (1.0 / norm_type)
    coef = min(1.0, max_norm / (total + 1e-6))
    return [g * coef for g in grads], total


def renorm(w, max_norm, dim=0):
    """Each slice w.take(i, axis=dim) with L2 norm n > max_norm scaled to max_norm
    (times max_norm / (n + 1e-7), torch.renorm); returns a new array."""
    out = np.array(w, copy=True)
    for i in range(w.shape[dim]):
        sl = [slice(None)] * w.ndim
        sl[dim] = i
        n = np.sqrt(np.sum(np.asarray(w[tuple(sl)], np.float64) ** 2))
        if n > max_norm:
            out[tuple(sl)] = w[tuple(sl)] * (max_norm / (n + 1e-7))
    return out
