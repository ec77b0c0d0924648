"""``Muon`` (torch.optim.Muon's rule, PyTorch 2.9+): momentum SGD for the 2-D
weights of hidden layers whose update is orthogonalised by a few
Newton-Schulz iterations (Keller Jordan's Muon).

PyTorch runs the Newton-Schulz iterations in bfloat16.  fastnn has no
bfloat16 arithmetic, so the iteration here is a NumPy emulation of it: each
intermediate the bfloat16 version stores (the cast gradient, its norm, the
normalised matrix, each Gram matrix, each polynomial update) is computed in
higher precision and rounded to bfloat16 (round to nearest even), as
PyTorch's CPU kernels round their float accumulators once per output.  The
update then matches PyTorch's to the bit for most elements (an element
whose float accumulator lands next to a rounding boundary can differ by one
bfloat16 unit).  A NumPy update (one parameter at a time, in place).
"""
import math

import numpy as np

from .adafactor import _lerp_
from .optimizer import Optimizer, _wrap, check_hparam

__all__ = ["Muon"]

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _bf16(a):
    """``a`` rounded to bfloat16 (nearest, ties to even), as float32 values."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    u = a.view(np.uint32).astype(np.uint64)
    u = ((u + (((u >> 16) & 1) + 0x7FFF)) & 0xFFFF0000).astype(np.uint32)
    out = u.view(np.float32).reshape(a.shape)
    nan = np.isnan(a)
    if nan.any():
        out = np.where(nan, np.float32(np.nan), out)
    return out


def _mm(a, b):
    """A bfloat16 matrix product: float accumulation, one rounding."""
    return np.matmul(a.astype(np.float64), b.astype(np.float64))


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """The Newton-Schulz orthogonalisation of a 2-D gradient, PyTorch's
    bfloat16 iteration emulated (see the module docstring); returns float32
    values that are bfloat16 numbers."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (float(v) for v in ns_coefficients)
    x = _bf16(grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = np.ascontiguousarray(x.T)
    norm = _bf16(np.float32(math.sqrt(float(np.sum(x.astype(np.float64) ** 2)))))
    norm = max(norm, _bf16(np.float32(eps)))          # clamp(min=eps), in bfloat16
    x = _bf16(x / norm)
    for _ in range(ns_steps):
        gram = _bf16(_mm(x, x.T))
        g64 = gram.astype(np.float64)
        upd = _bf16(b * g64 + c * _mm(gram, gram))     # addmm(gram, gram, gram, b, c)
        x = _bf16(a * x.astype(np.float64) + _mm(upd, x))   # addmm(x, upd, x, beta=a)
    return x.T if tall else x


def _adjust_lr(lr, adjust_lr_fn, shape):
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    r"""Muon, torch.optim.Muon's update (for 2-D parameters only).

    For each parameter p (rows x cols) with gradient g::

        B = lerp(B, g, 1 - momentum)                    (momentum_buffer)
        u = lerp(g, B, momentum) if nesterov else B
        O = NS(u)                                       (Newton-Schulz, bfloat16)
        p = p * (1 - lr * weight_decay)
        p = p - lr * r * O,   r = sqrt(max(1, rows / cols))   ('original')
                              r = 0.2 * sqrt(max(rows, cols)) ('match_rms_adamw')

    Biases, norms and embeddings belong in another optimiser (AdamW).

    Parameters
    ----------
    params : iterable of 2-D Tensors or dicts
    lr : float (default 1e-3)
    weight_decay : float (default 0.1), decoupled
    momentum : float (default 0.95)
    nesterov : bool (default True)
    ns_coefficients : (a, b, c) of the quintic iteration
    eps : float, lower bound of the norm the gradient is divided by
    ns_steps : int (default 5, < 100)
    adjust_lr_fn : None, 'original' or 'match_rms_adamw'

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([[1.0, -2.0], [0.5, 3.0]]))
    >>> opt = fastnn.optim.Muon([w], lr=0.02)
    >>> (w * w).sum().backward(); opt.step()
    >>> sorted(opt.state[w])
    ['momentum_buffer']
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                        nesterov=nesterov, ns_coefficients=ns_coefficients, eps=eps,
                        ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        self._validate_group(defaults)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def _validate_group(self, g):
        lr = g["lr"]
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        check_hparam(float(lr) >= 0.0, "Muon", f"Learning rate should be >= 0 but is: {lr}")
        check_hparam(float(g["momentum"]) >= 0.0, "Muon",
                     f"momentum should be >= 0 but is: {g['momentum']}")
        check_hparam(float(g["weight_decay"]) >= 0.0, "Muon",
                     f"weight decay should be >= 0 but is: {g['weight_decay']}")
        fn = g["adjust_lr_fn"]
        check_hparam(fn is None or fn in ("original", "match_rms_adamw"), "Muon",
                     f"Adjust learning rate function {fn} is not supported")

    def _update(self, group, params, datas, grads, n_threads):
        lr, wd = float(group["lr"]), float(group["weight_decay"])
        mom = float(group["momentum"])
        for p, x, g in zip(params, datas, grads):
            if g.ndim != 2:
                raise ValueError("Param gradient must be a 2D matrix")
            st = self.state[p]
            buf = st.get("momentum_buffer")
            if buf is None:
                buf = st["momentum_buffer"] = _wrap(np.zeros_like(g))
            elif not hasattr(buf, "_array"):
                buf = st["momentum_buffer"] = _wrap(np.array(buf, dtype=g.dtype))
            b = buf._array
            _lerp_(b, g, 1 - mom)
            if group["nesterov"]:
                u = g.copy()
                _lerp_(u, b, mom)
            else:
                u = b
            o = _zeropower_via_newtonschulz(u, group["ns_coefficients"], group["ns_steps"],
                                            float(group["eps"]))
            step = _adjust_lr(lr, group["adjust_lr_fn"], x.shape)
            x *= 1 - lr * wd
            x += x.dtype.type(-step) * o.astype(x.dtype)
