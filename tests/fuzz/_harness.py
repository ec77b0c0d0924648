"""The differential checker behind the op fuzzer: one generated call, run in
fastnn and in PyTorch, compared forward and backward.

A *case* (built by a strategy in ``_opcases.py``) is a list of input
arguments and one function ``fn(L, *xs)`` written once against a small
namespace ``L`` (``L.F`` the functional module, ``L.T`` the top-level
module), so the same text runs on both libraries.  The rules:

* PyTorch accepts the call  -> fastnn must accept it and give the same
  values (shape, floating dtype, numbers within a tolerance keyed by dtype),
  and, with a random upstream gradient, the same gradients for every input.
* PyTorch raises           -> fastnn must raise an ``Exception`` (any
  subclass: a clear Python error, not a crash).  Where fastnn accepts what
  PyTorch refuses the case is recorded as *lenient*, not a failure: such
  differences are triaged by hand (see docs/fuzzing.md).

A crash (a segfault or an abort in the compiled core) cannot be caught
here; the runner (``_runner.py``) runs in a child process and writes each
case's description before running it, so the parent reports the case that
crashed.
"""
import types
import warnings

import numpy as np

import fastnn
import fastnn.nn.functional as fF

TOLS = {np.dtype(np.float32): (3e-4, 3e-5), np.dtype(np.float64): (1e-9, 1e-11)}

FAST = types.SimpleNamespace(F=fF, T=fastnn, name="fastnn")
_TORCH = None


def torch_ns():
    global _TORCH
    if _TORCH is None:
        import torch
        import torch.nn.functional as tF
        torch.set_num_threads(1)
        _TORCH = types.SimpleNamespace(F=tF, T=torch, name="torch")
    return _TORCH


class Finding(AssertionError):
    """A difference between fastnn and PyTorch on one generated case."""


class Arg:
    """One input.  ``base`` is the array the leaf tensor holds; ``view``
    says how the op's argument is derived from the leaf: None (the leaf
    itself), ``"T"`` (transpose of the last two dims) or ``("step", ax)``
    (every second element along axis ``ax``), so non-contiguous and
    transposed inputs reach the op through autograd views in both
    libraries."""

    def __init__(self, base, grad=False, view=None):
        self.base = base
        self.grad = bool(grad) and base.dtype.kind == "f"
        self.view = view

    def describe(self):
        v = "" if self.view is None else f" view={self.view}"
        g = " grad" if self.grad else ""
        return f"{self.base.dtype}{list(self.base.shape)}{v}{g}"

    def realise(self, L):
        if L.name == "torch":
            leaf = L.T.tensor(self.base.copy(), requires_grad=self.grad)
        else:
            leaf = fastnn.tensor(self.base.copy(), requires_grad=self.grad)
        x = leaf
        if self.view == "T":
            x = leaf.transpose(-1, -2)
        elif isinstance(self.view, tuple):
            ax = self.view[1]
            x = leaf[(slice(None),) * ax + (slice(None, None, 2),)]
        return leaf, x


class Case:
    def __init__(self, fn, args, kw=None, tol=1.0, grad_tol=None, check_grad=True,
                 note="", refuse_ok=False, skip_values=False):
        self.fn = fn
        self.args = args
        self.kw = kw or {}
        self.tol = tol
        self.grad_tol = tol if grad_tol is None else grad_tol
        self.check_grad = check_grad
        self.note = note
        # refuse_ok: fastnn may refuse this call although PyTorch accepts it
        # (a documented divergence, see docs/fuzzing.md); skip_values: PyTorch's
        # numbers for this call are not a usable oracle (e.g. it returns
        # uninitialised memory for an empty input).
        self.refuse_ok = refuse_ok
        self.skip_values = skip_values
        # PyTorch gives NaN for some reductions over nothing (the gradient of
        # a group-norm weight on an empty batch) where fastnn gives 0.
        self.empty = any(isinstance(a, Arg) and a.base.size == 0 for a in args)

    def describe(self):
        a = ", ".join(x.describe() if isinstance(x, Arg) else repr(x) for x in self.args)
        return f"args=({a}) kw={self.kw!r} {self.note}".strip()

    def run(self, L):
        leaves, xs = [], []
        for a in self.args:
            if isinstance(a, Arg):
                leaf, x = a.realise(L)
                leaves.append(leaf)
                xs.append(x)
            else:
                xs.append(a)
        return leaves, self.fn(L, *xs, **self.kw)


def _np(t):
    if t is None:
        return None
    if hasattr(t, "_array"):
        return np.asarray(t._array)
    if hasattr(t, "detach"):
        return t.detach().numpy()
    return np.asarray(t)


def _outputs(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_outputs(o))
        return res
    return [out]


def _close(name, got, want, dtype, scale, nan_ok=False):
    got = np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape:
        raise Finding(f"{name}: shape {got.shape} != torch's {want.shape}")
    if want.size == 0:
        return
    if want.dtype.kind in "biu":
        if not np.array_equal(got, want):
            raise Finding(f"{name}: integer values differ\n fastnn={got.ravel()[:8]}\n"
                          f" torch={want.ravel()[:8]}")
        return
    rtol, atol = TOLS.get(np.dtype(dtype), TOLS[np.dtype(np.float32)])
    rtol, atol = rtol * scale, atol * scale
    mag = float(np.nanmax(np.abs(np.where(np.isfinite(want), want, 0)))) if want.size else 0.0
    atol = atol * max(1.0, mag)
    with np.errstate(invalid="ignore"):
        ok = np.isclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol,
                        atol=atol, equal_nan=True)
    if nan_ok:
        ok |= np.isnan(want)
    if not ok.all():
        i = np.unravel_index(np.argmin(ok), ok.shape)
        raise Finding(f"{name}: values differ at {tuple(int(j) for j in i)}: fastnn={got[i]!r} "
                      f"torch={want[i]!r} ({int((~ok).sum())} of {ok.size} elements; "
                      f"rtol={rtol:g} atol={atol:g})")


def _float_dtype(case):
    dts = [a.base.dtype for a in case.args if isinstance(a, Arg) and a.base.dtype.kind == "f"]
    return np.float64 if dts and all(d == np.float64 for d in dts) else np.float32


def check(case, seed, lenient):
    """Runs one case in both libraries; raises Finding on a difference and
    appends to ``lenient`` where fastnn accepts what PyTorch refuses."""
    T = torch_ns()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            t_leaves, t_out = case.run(T)
            t_err = None
        except Exception as e:  # PyTorch refuses the call
            t_err = e
        try:
            f_leaves, f_out = case.run(FAST)
            f_err = None
        except Exception as e:
            f_err = e
    if t_err is not None:
        if f_err is None:
            lenient.append(f"{case.describe()} :: torch: {type(t_err).__name__}: "
                           f"{str(t_err).splitlines()[0][:160] if str(t_err) else ''}")
        return
    if f_err is not None:
        if case.refuse_ok:
            return
        raise Finding(f"fastnn raised {type(f_err).__name__}: {f_err} "
                      f"(PyTorch accepts the call)") from f_err
    t_outs, f_outs = _outputs(t_out), _outputs(f_out)
    if len(t_outs) != len(f_outs):
        raise Finding(f"{len(f_outs)} outputs, torch gives {len(t_outs)}")
    dt = _float_dtype(case)
    if case.skip_values:
        return
    for k, (fo, to) in enumerate(zip(f_outs, t_outs)):
        if not hasattr(to, "detach"):  # a Python number or None
            if to is None or fo is None:
                if (to is None) != (fo is None):
                    raise Finding(f"output {k}: fastnn {fo!r} torch {to!r}")
                continue
            _close(f"output {k}", np.asarray(_np(fo), dtype=np.float64),
                   np.asarray(float(to)), dt, case.tol)
            continue
        tn = _np(to)
        fn_ = _np(fo)
        if tn.dtype.kind == "f" and fn_.dtype != tn.dtype:
            raise Finding(f"output {k}: dtype {fn_.dtype}, torch gives {tn.dtype}")
        _close(f"output {k}", fn_, tn, dt, case.tol, nan_ok=case.empty)
    if not case.check_grad:
        return
    _check_backward(case, seed, t_leaves, t_outs, f_leaves, f_outs, dt)


def _check_backward(case, seed, t_leaves, t_outs, f_leaves, f_outs, dt):
    T = torch_ns()
    if not any(a.grad for a in case.args if isinstance(a, Arg)):
        return
    pairs = [(f, t) for f, t in zip(f_outs, t_outs)
             if hasattr(t, "requires_grad") and t.requires_grad and t.dtype.is_floating_point]
    if not pairs:
        return
    rng = np.random.default_rng(seed)
    t_loss, f_loss = 0, 0
    for f, t in pairs:
        g = rng.standard_normal(tuple(t.shape)).astype(_np(t).dtype)
        t_loss = t_loss + (t * T.T.from_numpy(g)).sum()
        f_loss = f_loss + (f * fastnn.tensor(g)).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            t_loss.backward()
            t_err = None
        except Exception as e:
            t_err = e
        try:
            f_loss.backward()
            f_err = None
        except Exception as e:
            f_err = e
    if t_err is not None:
        return  # PyTorch has no backward for this call (e.g. an integer path)
    if f_err is not None:
        raise Finding(f"backward: fastnn raised {type(f_err).__name__}: {f_err}") from f_err
    args = [a for a in case.args if isinstance(a, Arg)]
    for i, (a, tl, fl) in enumerate(zip(args, t_leaves, f_leaves)):
        if not a.grad:
            continue
        tg = _np(tl.grad)
        fg = _np(fl.grad)
        if tg is None:
            tg = np.zeros_like(a.base)
        if fg is None:
            fg = np.zeros_like(a.base)
        if fg.dtype != a.base.dtype:
            raise Finding(f"grad of input {i}: dtype {fg.dtype}, input is {a.base.dtype}")
        _close(f"grad of input {i}", fg, tg, dt, case.grad_tol, nan_ok=case.empty)
