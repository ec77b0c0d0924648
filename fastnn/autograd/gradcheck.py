"""``gradcheck``: analytic Jacobians against central differences."""
import warnings

import numpy as np

from .._errors import GradcheckError
from . import grad_mode


def _diff_outputs(out):
    """The outputs gradcheck differentiates: the Tensors that require grad
    (an index output marked non-differentiable is left out)."""
    from .._tensor import Tensor
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if o is not None and not isinstance(o, Tensor):
            raise GradcheckError(f"gradcheck: fn must return Tensors, got "
                                 f"{type(o).__name__}")
    return [o for o in outs if isinstance(o, Tensor) and o.requires_grad]


def _values(fn, inputs, which):
    """The flattened float64 values of the outputs numbered ``which`` (all
    Tensor outputs when None)."""
    from .._tensor import Tensor
    with grad_mode.no_grad():
        out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    outs = [o for o in outs if isinstance(o, Tensor)]
    if which is not None:
        outs = [outs[k] for k in which]
    return [np.asarray(o._array, np.float64).reshape(-1).copy() for o in outs]


def _analytic(inputs, checked, outs, nondet_tol):
    """Per (output, input) pair the Jacobian (output elements x input
    elements) from one backward per output element; with ``nondet_tol`` the
    backward is run twice and must agree."""
    from . import grad as _grad
    jac = {}
    ins = [inputs[i] for i in checked]
    for j, o in enumerate(outs):
        n_out = int(o._array.size)
        cols = [np.zeros((n_out, int(inputs[i]._array.size))) for i in checked]
        for r in range(n_out):
            seed = np.zeros(o._array.shape, o._array.dtype)
            seed.reshape(-1)[r] = 1
            gs = []
            for _ in range(2 if nondet_tol >= 0 else 1):
                g = _grad([o], ins, [_wrap(seed)], retain_graph=True, allow_unused=True)
                gs.append([None if a is None else np.asarray(a._array, np.float64).reshape(-1)
                           for a in g])
            if len(gs) == 2:
                for a, b in zip(*gs):
                    if (a is None) != (b is None) or (
                            a is not None and np.abs(a - b).max(initial=0) > nondet_tol):
                        raise GradcheckError(
                            "Backward is not reentrant, i.e., running backward with same "
                            "input and grad_output multiple times gives different values, "
                            "although analytical gradient matches numerical gradient.The "
                            f"tolerance for nondeterminism was {nondet_tol}.")
            for k, a in enumerate(gs[0]):
                if a is not None:
                    cols[k][r] = a
        for k, i in enumerate(checked):
            jac[(j, i)] = cols[k]
    return jac


def _wrap(a):
    from .._tensor import Tensor
    return Tensor._wrap(a)


def _numerical(fn, inputs, checked, which, eps):
    """Per (output, input) pair the central-difference Jacobian."""
    base = _values(fn, inputs, which)
    jac = {}
    for i in checked:
        t = inputs[i]
        flat = t._array.reshape(-1)
        if not np.shares_memory(flat, t._array):
            raise GradcheckError(f"gradcheck: input {i} is not contiguous")
        cols = [np.zeros((b.size, flat.size)) for b in base]
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            fp = _values(fn, inputs, which)
            flat[k] = orig - eps
            fm = _values(fn, inputs, which)
            flat[k] = orig
            for j, (a, b) in enumerate(zip(fp, fm)):
                cols[j][:, k] = (a - b) / (2 * eps)
        for j in range(len(base)):
            jac[(j, i)] = cols[j]
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """Checks the analytic Jacobian of ``func(*inputs)`` against central
    differences, as ``torch.autograd.gradcheck``: for every output that
    requires grad and every input Tensor that requires grad, each element
    must satisfy ``|analytic - numerical| <= atol + rtol * |numerical|``.
    The analytic Jacobian comes from one backward per output element (run
    twice: the results must agree within ``nondet_tol``); with
    ``fast_mode=True`` only the projection ``u^T J v`` on random vectors is
    compared.  Meant for float64 inputs.

    Parameters
    ----------
    func : callable
        Takes ``*inputs`` and returns a Tensor or a tuple of Tensors.
    inputs : Tensor or sequence of Tensors (other values are passed through)
    eps, atol, rtol, raise_exception, nondet_tol, fast_mode : as PyTorch's
    check_undefined_grad, check_grad_dtypes, check_batched_grad, masked :
        accepted; the batched and forward-mode checks are not available.

    Returns
    -------
    True; False instead of raising when ``raise_exception=False``.

    Raises
    ------
    GradcheckError
        Naming the output, the input, the worst element, both values and the
        relative error.

    Examples
    --------
    >>> import fastnn
    >>> x = fastnn.randn(3, 4, dtype="float64", requires_grad=True)
    >>> fastnn.gradcheck(lambda t: (t * t).sum(), [x])
    True
    """
    from .._tensor import Tensor
    if check_batched_grad or check_batched_forward_grad or check_forward_ad:
        raise NotImplementedError("gradcheck: check_batched_grad, check_batched_forward_grad "
                                  "and check_forward_ad are not supported by fastnn")
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of the them have requires_grad=True.")
    for i in checked:
        if inputs[i]._array.dtype != np.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision "
                          "floating point or complex. This check will likely fail if all "
                          "the inputs are not of double precision floating point or complex. ")
    try:
        _check(func, inputs, checked, eps, atol, rtol, nondet_tol, check_grad_dtypes,
               check_backward_ad, fast_mode)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _check(func, inputs, checked, eps, atol, rtol, nondet_tol, check_grad_dtypes,
           check_backward_ad, fast_mode):
    from .._tensor import Tensor
    with grad_mode.enable_grad():
        out = func(*inputs)
    outs = _diff_outputs(out)
    all_outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,))
                if isinstance(o, Tensor)]
    which = [k for k, o in enumerate(all_outs) if any(o is d for d in outs)]
    if not outs:
        # no differentiable output: the numerical Jacobian must be zero
        num = _numerical(func, inputs, checked, None, eps)
        for (j, i), m in num.items():
            if not np.allclose(m, 0, rtol=rtol, atol=atol):
                raise GradcheckError(f"Numerical gradient for function expected to be zero "
                                     f"(output {j}, input {i})")
        return
    if not check_backward_ad:
        return
    if check_grad_dtypes:
        from . import grad as _grad
        for o in outs:
            gs = _grad([o], [inputs[i] for i in checked],
                       [_wrap(np.ones(o._array.shape, o._array.dtype))],
                       retain_graph=True, allow_unused=True)
            for i, g in zip(checked, gs):
                if g is not None and g._array.dtype != inputs[i]._array.dtype:
                    raise GradcheckError("Gradient has dtype mismatch")
    if fast_mode:
        _check_fast(func, inputs, checked, outs, which, eps, atol, rtol)
        return
    ana = _analytic(inputs, checked, outs, nondet_tol)
    num = _numerical(func, inputs, checked, which, eps)
    for j in range(len(outs)):
        for i in checked:
            a, n = ana[(j, i)], num[(j, i)]
            diff = np.abs(a - n)
            bound = atol + rtol * np.abs(n)
            bad = ~(diff <= bound)
            if bad.any():
                k = int(np.argmax(np.where(bad, diff - bound, -np.inf)))
                r, c = np.unravel_index(k, a.shape)
                av, nv = float(a[r, c]), float(n[r, c])
                rel = abs(av - nv) / max(abs(nv), 1e-300)
                raise GradcheckError(
                    f"Jacobian mismatch for output {j} with respect to input {i}: at output "
                    f"element {int(r)}, input element "
                    f"{tuple(int(x) for x in np.unravel_index(c, inputs[i]._array.shape))}: "
                    f"analytical {av:.8g}, numerical {nv:.8g}, relative error {rel:.3g} "
                    f"({int(bad.sum())} of {bad.size} entries outside atol={atol}, "
                    f"rtol={rtol})")


def _check_fast(func, inputs, checked, outs, which, eps, atol, rtol):
    """u^T J v for random unit vectors u (per output) and v (per input)."""
    from . import grad as _grad
    rng = np.random.default_rng(0)
    us = []
    for o in outs:
        u = rng.standard_normal(o._array.size)
        us.append(u / np.linalg.norm(u))
    vs = {}
    for i in checked:
        v = rng.standard_normal(inputs[i]._array.size)
        vs[i] = v / np.linalg.norm(v)
    for j, (o, u) in enumerate(zip(outs, us)):
        gs = _grad([o], [inputs[i] for i in checked],
                   [_wrap(u.reshape(o._array.shape).astype(o._array.dtype))],
                   retain_graph=True, allow_unused=True)
        for i, g in zip(checked, gs):
            a = 0.0 if g is None else float(np.asarray(g._array, np.float64).reshape(-1) @ vs[i])
            t = inputs[i]
            flat = t._array.reshape(-1)
            orig = flat.copy()
            flat += (eps * vs[i]).astype(flat.dtype)
            fp = _values(func, inputs, [which[j]])[0]
            flat[:] = orig - (eps * vs[i]).astype(flat.dtype)
            fm = _values(func, inputs, [which[j]])[0]
            flat[:] = orig
            n = float(((fp - fm) / (2 * eps)) @ u)
            if not abs(a - n) <= atol + rtol * abs(n):
                raise GradcheckError(
                    f"Jacobian mismatch for output {j} with respect to input {i} (fast "
                    f"mode: u^T J v): analytical {a:.8g}, numerical {n:.8g}")


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **unused):
    """Checks second derivatives: ``gradcheck`` of the function that returns
    the gradients of ``func(*inputs)`` (``autograd.grad`` with
    ``create_graph=True``) with respect to the inputs that require grad,
    the grad_outputs (random when not given, as PyTorch's) taken as inputs
    too.  Returns True, or False when ``raise_exception=False`` and the
    check fails."""
    from .._tensor import Tensor
    from . import grad as _grad
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    n = len(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]

    def _outs(o):
        o = o if isinstance(o, (tuple, list)) else (o,)
        return [x for x in o if isinstance(x, Tensor) and x.requires_grad]

    if grad_outputs is None:
        rng = np.random.default_rng(0)
        with grad_mode.enable_grad():
            outs = _outs(func(*inputs))
        grad_outputs = tuple(Tensor._wrap(rng.standard_normal(o.shape).astype(o._array.dtype))
                             .requires_grad_() for o in outs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)

    def first(*args):
        ins, gos = args[:n], args[n:]
        with grad_mode.enable_grad():   # (gradcheck evaluates its differences without)
            gs = _grad(_outs(func(*ins)), [ins[i] for i in diff], list(gos), create_graph=True,
                       allow_unused=True)
        return tuple(g for g in gs if g is not None)

    try:
        return gradcheck(first, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
