"""``LBFGS``: limited-memory BFGS with an optional strong-Wolfe line search
(torch.optim.LBFGS's algorithm and defaults).

The algorithm works on one flat vector: the gradients are gathered into a
contiguous array, the two-loop recursion runs over the stored (y, s) pairs
with NumPy's BLAS dot products and axpys, and a step writes ``t * d`` back
into each parameter's array through a flat view.  The line search and the
bookkeeping are scalar Python, like torch's (there is no element-wise kernel
to move to C: every vector operation is one BLAS call).
"""
import math

import numpy as np

from ..autograd import grad_mode
from .optimizer import Optimizer, _arr, _wrap, check_hparam, check_lr

__all__ = ["LBFGS"]


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped
    to ``bounds`` (default: the interval between the points); the midpoint
    when the cubic has no real minimiser."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 ** 2 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(disc)
    if x1 <= x2:
        m = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        m = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(m, lo), hi)


def _strong_wolfe(obj, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Line search along d from the parameters x (loss f, gradient g, slope
    gtd) for a step t satisfying the strong Wolfe conditions: a bracketing
    phase that grows t by cubic extrapolation, then a zoom phase that
    shrinks the bracket by cubic interpolation (minFunc's scheme, as torch).
    Returns (f_new, g_new, t, evaluations)."""
    d_norm = float(np.abs(d).max())
    f_new, g_new = obj(x, t, d)
    evals = 1
    gtd_new = float(np.dot(g_new, d))
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    it = 0
    br = br_f = br_g = br_gtd = None
    while it < max_ls:
        if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], \
                [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            br, br_f, br_g, done = [t], [f_new], [g_new], True
            break
        if gtd_new >= 0:
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], \
                [gtd_prev, gtd_new]
            break
        t_next = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                    bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = obj(x, t, d)
        evals += 1
        gtd_new = float(np.dot(g_new, d))
        it += 1
    if it >= max_ls:
        br, br_f, br_g = [0.0, t], [f, f_new], [g, g_new]
    return _zoom(obj, x, d, f, gtd, br, br_f, br_g, br_gtd, done, it, evals, d_norm, c1, c2,
                 tolerance_change, max_ls)


def _zoom(obj, x, d, f, gtd, br, br_f, br_g, br_gtd, done, it, evals, d_norm, c1, c2,
          tolerance_change, max_ls):
    """The zoom phase of the strong-Wolfe search over the bracket br."""
    insuf = False
    low, high = (0, 1) if br_f[0] <= br_f[-1] else (1, 0)
    while not done and it < max_ls:
        if abs(br[1] - br[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1])
        bmax, bmin = max(br), min(br)
        eps = 0.1 * (bmax - bmin)
        if min(bmax - t, t - bmin) < eps:
            # too close to an end: after a second time (or outside) step 10% inside
            if insuf or t >= bmax or t <= bmin:
                t = bmax - eps if abs(t - bmax) < abs(t - bmin) else bmin + eps
                insuf = False
            else:
                insuf = True
        else:
            insuf = False
        f_new, g_new = obj(x, t, d)
        evals += 1
        gtd_new = float(np.dot(g_new, d))
        it += 1
        if f_new > f + c1 * t * gtd or f_new >= br_f[low]:
            br[high], br_f[high], br_g[high], br_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if br_f[0] <= br_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (br[high] - br[low]) >= 0:
                br[high], br_f[high], br_g[high], br_gtd[high] = \
                    br[low], br_f[low], br_g[low], br_gtd[low]
            br[low], br_f[low], br_g[low], br_gtd[low] = t, f_new, g_new, gtd_new
    return br_f[low], br_g[low], br[low], evals


class LBFGS(Optimizer):
    """L-BFGS, torch.optim.LBFGS's algorithm: each ``step(closure)`` runs up
    to ``max_iter`` quasi-Newton iterations (``max_eval`` closure calls),
    the inverse Hessian approximated from the last ``history_size`` steps.

    Parameters
    ----------
    params : iterable of Tensor
        One parameter group only.
    lr : float
        Step length (default 1); the first iteration scales it by
        ``min(1, 1 / sum|g|)``.
    max_iter : int
        Iterations per ``step`` (default 20).
    max_eval : int, optional
        Closure evaluations per ``step`` (default ``max_iter * 5 // 4``).
    tolerance_grad : float
        Stop when ``max|g| <= tolerance_grad`` (default 1e-7).
    tolerance_change : float
        Stop when the loss or the step changes by less (default 1e-9).
    history_size : int
        Stored (y, s) pairs (default 100).
    line_search_fn : None or 'strong_wolfe'
        Fixed step ``lr`` (None) or a strong-Wolfe line search.

    Notes
    -----
    ``step`` requires a closure that zeroes the gradients, evaluates the
    loss, calls ``backward()`` and returns the loss.  The state (kept with
    the first parameter, as torch does) holds flat arrays over all
    parameters: ``d``, ``prev_flat_grad``, ``old_dirs``, ``old_stps``.

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0], dtype="float64"))
    >>> opt = fastnn.optim.LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - 3.0) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> w.detach().numpy().round(6)
    array([3., 3.])
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        check_lr("LBFGS", lr)
        for name, v in (("max_iter", max_iter), ("history_size", history_size)):
            check_hparam(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1,
                         "LBFGS", f"{name} must be a positive int, got {v!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        check_hparam(line_search_fn in (None, "strong_wolfe"), "LBFGS",
                     f"only 'strong_wolfe' is supported as line_search_fn, got {line_search_fn!r}")
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group):
        if getattr(self, "param_groups", None):
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ------------------------------------------------------- flat vectors
    def _dtype(self):
        return np.result_type(*[p._array for p in self._params])

    def _gather_flat_grad(self):
        views = []
        for p in self._params:
            g = _arr(p.grad)
            views.append(np.zeros(p._array.size, p._array.dtype) if g is None
                         else np.asarray(g).reshape(-1))
        return np.concatenate(views).astype(self._dtype(), copy=False)

    def _add_grad(self, t, d):
        """params += t * d (d flat over all parameters)."""
        o = 0
        t = float(t)
        for p in self._params:
            a = p._array
            n = a.size
            a += (d[o:o + n] * t).reshape(a.shape).astype(a.dtype, copy=False)
            p._bump()
            o += n

    def _clone_param(self):
        return [p._array.copy() for p in self._params]

    def _set_param(self, xs):
        for p, x in zip(self._params, xs):
            np.copyto(p._array, x)
            p._bump()

    def _evaluate(self, closure):
        with grad_mode.enable_grad():
            loss = closure()
        return loss

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(self._evaluate(closure))
        g = self._gather_flat_grad()
        self._set_param(x)
        return loss, g

    # ---------------------------------------------------------------- step
    def step(self, closure=None):
        """Runs up to ``max_iter`` L-BFGS iterations; returns the loss the
        closure gave at the starting point.

        Parameters
        ----------
        closure : callable
            Zeroes the gradients, evaluates the model, calls ``backward()``
            and returns the loss.  Required.
        """
        if closure is None or not callable(closure):
            raise TypeError("LBFGS.step() requires a closure that reevaluates the model and "
                            "returns the loss")
        state = self.state[self._params[0]]
        self._unpack(state)
        try:
            with grad_mode.no_grad():
                return self._run(closure)
        finally:
            self._pack(state)

    # The state holds Tensors, as torch's: the flat vectors and the (y, s)
    # history as 1-d Tensors, ``ro``, ``al`` and ``H_diag`` as 0-d ones (of the
    # parameters' dtype).  A step works on their arrays and Python floats.
    _VECTORS = ("d", "prev_flat_grad")
    _VECTOR_LISTS = ("old_dirs", "old_stps")
    _NUMBER_LISTS = ("ro", "al")

    @staticmethod
    def _num(v):
        return None if v is None else float(_arr(v))

    def _unpack(self, state):
        for k in self._VECTORS:
            if k in state:
                state[k] = _arr(state[k])
        for k in self._VECTOR_LISTS:
            if k in state:
                state[k] = [_arr(v) for v in state[k]]
        for k in self._NUMBER_LISTS:
            if k in state:
                state[k] = [self._num(v) for v in state[k]]
        if "H_diag" in state:
            state["H_diag"] = self._num(state["H_diag"])

    def _pack(self, state):
        dt = self._dtype()

        def num(v):
            return None if v is None else _wrap(np.array(v, dtype=dt))
        for k in self._VECTORS:
            if isinstance(state.get(k), np.ndarray):
                state[k] = _wrap(state[k])
        for k in self._VECTOR_LISTS:
            if k in state:
                state[k] = [_wrap(v) if isinstance(v, np.ndarray) else v for v in state[k]]
        for k in self._NUMBER_LISTS:
            if k in state:
                state[k] = [v if hasattr(v, "_array") else num(v) for v in state[k]]
        if "H_diag" in state and not hasattr(state["H_diag"], "_array"):
            state["H_diag"] = num(state["H_diag"])

    def _run(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        if not isinstance(lr, (int, float)):       # (a Tensor or NumPy lr)
            lr = float(lr)
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._gather_flat_grad()
        if np.abs(g).max() <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        prev_g, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1.0)
            else:
                d = self._direction(state, g, prev_g, d, t, group["history_size"])
            prev_g = g.copy()
            prev_loss = loss
            if state["n_iter"] == 1:
                s = float(np.abs(g).sum())
                t = min(1.0, 1.0 / s if s else math.inf) * lr
            else:
                t = lr
            gtd = float(np.dot(g, d))
            if gtd > -tol_change:
                break
            ls_evals = 0
            if group["line_search_fn"] is not None:
                x0 = self._clone_param()
                loss, g, t, ls_evals = _strong_wolfe(
                    lambda x, tt, dd: self._directional_evaluate(closure, x, tt, dd),
                    x0, t, d, loss, g, gtd, max_ls=max_eval - evals)
                self._add_grad(t, d)
                opt_cond = np.abs(g).max() <= tol_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:      # no evaluation after the last iteration
                    loss = float(self._evaluate(closure))
                    g = self._gather_flat_grad()
                    opt_cond = np.abs(g).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if (n_iter == max_iter or evals >= max_eval or opt_cond
                    or np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change):
                break
        state.update(d=d, t=t, prev_flat_grad=prev_g, prev_loss=prev_loss)
        return orig_loss

    @staticmethod
    def _direction(state, g, prev_g, d, t, history_size):
        """Updates the (y, s) history with the last step and returns the
        L-BFGS direction -H g by the two-loop recursion."""
        y = g - prev_g
        s = d * d.dtype.type(t)
        ys = float(np.dot(y, s))
        dirs, stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        if ys > 1e-10:
            if len(dirs) == history_size:
                dirs.pop(0)
                stps.pop(0)
                ro.pop(0)
            dirs.append(y)
            stps.append(s)
            ro.append(1.0 / ys)
            state["H_diag"] = ys / float(np.dot(y, y))
        al = state.setdefault("al", [None] * history_size)
        if len(al) < history_size:
            al.extend([None] * (history_size - len(al)))
        q = -g
        for i in range(len(dirs) - 1, -1, -1):
            al[i] = float(np.dot(stps[i], q)) * ro[i]
            q += dirs[i] * q.dtype.type(-al[i])
        r = q * q.dtype.type(state["H_diag"])
        for i in range(len(dirs)):
            be = float(np.dot(dirs[i], r)) * ro[i]
            r += stps[i] * r.dtype.type(al[i] - be)
        return r

    # ---------------------------------------------------------- state dict
    def _load_state_value(self, key, v, p):
        dt = self._dtype()

        def flat(a):
            a = _arr(a)
            if not isinstance(a, np.ndarray) and hasattr(a, "detach"):
                a = a.detach().cpu().numpy()
            return _wrap(np.array(a, dtype=dt).reshape(-1))

        def num(a):
            a = _arr(a)
            if a is None:
                return None
            if not isinstance(a, (np.ndarray, int, float)) and hasattr(a, "item"):
                return a.item()
            return float(np.asarray(a))

        def tensor0(a):
            a = num(a)
            return None if a is None else _wrap(np.array(a, dtype=dt))
        if key in self._VECTORS:
            return None if v is None else flat(v)
        if key in self._VECTOR_LISTS:
            return [flat(a) for a in v]
        if key in self._NUMBER_LISTS:
            return [tensor0(a) for a in v]
        if key in ("func_evals", "n_iter"):
            return int(num(v))
        if key == "H_diag":
            return tensor0(v)
        if key in ("t", "prev_loss"):
            # a Python number stays what it is (torch's t is the lr itself,
            # an int for the default lr=1, after the first iteration)
            return v if type(v) in (int, float) else num(v)
        return super()._load_state_value(key, v, p)
