"""``gradcheck``: analytic gradients against central differences."""
import numpy as np

from .._errors import GradcheckError
from . import grad_mode


def _as_scalar_output(out):
    from .._tensor import Tensor
    if isinstance(out, (tuple, list)):
        total = None
        for o in out:
            if isinstance(o, Tensor) and o.requires_grad:
                s = o.sum()
                total = s if total is None else total + s
        if total is None:
            raise GradcheckError("gradcheck: fn returned no output that requires grad")
        return total
    if not isinstance(out, Tensor):
        raise GradcheckError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out if out._array.size == 1 else out.sum()


def _value(fn, inputs):
    from .._tensor import Tensor
    with grad_mode.no_grad():
        out = fn(*inputs)
    if isinstance(out, (tuple, list)):
        return float(sum(np.sum(o._array, dtype=np.float64) for o in out
                         if isinstance(o, Tensor) and o._array.dtype.kind == "f"))
    return float(np.sum(out._array, dtype=np.float64))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Checks the analytic gradient of ``fn(*inputs)`` against central differences.

    The output is summed to a scalar if it is not one.  Every input Tensor with
    ``requires_grad`` is checked element by element:
    ``|analytic - numeric| <= atol + rtol * |numeric|``.  Meant for float64.

    Parameters
    ----------
    fn : callable
        Takes ``*inputs`` and returns a Tensor (or a tuple of Tensors).
    inputs : Tensor or sequence of Tensors (other values are passed through)
    eps, atol, rtol : float

    Returns
    -------
    True

    Raises
    ------
    GradcheckError
        Naming the input, the worst element, both values and the relative error.

    Examples
    --------
    >>> import fastnn
    >>> x = fastnn.randn(3, 4, dtype="float64", requires_grad=True)
    >>> fastnn.gradcheck(lambda t: (t * t).sum(), [x])
    True
    """
    from .._tensor import Tensor
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise GradcheckError("gradcheck: no input requires grad")
    for i in checked:
        inputs[i].grad = None
    with grad_mode.enable_grad():
        out = _as_scalar_output(fn(*inputs))
        out.backward()
    for i in checked:
        t = inputs[i]
        analytic = np.zeros(t._array.shape, np.float64) if t._grad is None else \
            np.asarray(t._grad._array, np.float64)
        numeric = np.zeros(t._array.shape, np.float64)
        flat = t._array.reshape(-1)
        if not np.shares_memory(flat, t._array):
            raise GradcheckError(f"gradcheck: input {i} is not contiguous")
        nf = numeric.reshape(-1)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            fp = _value(fn, inputs)
            flat[k] = orig - eps
            fm = _value(fn, inputs)
            flat[k] = orig
            nf[k] = (fp - fm) / (2 * eps)
        diff = np.abs(analytic - numeric)
        bound = atol + rtol * np.abs(numeric)
        bad = ~(diff <= bound)
        if bad.any():
            k = int(np.argmax(np.where(bad, diff - bound, -np.inf)))
            idx = np.unravel_index(k, t._array.shape)
            a, n = float(analytic.reshape(-1)[k]), float(numeric.reshape(-1)[k])
            rel = abs(a - n) / max(abs(n), 1e-300)
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {tuple(t._array.shape)}) is wrong at "
                f"element {tuple(int(j) for j in idx)}: analytic {a:.8g}, numerical {n:.8g}, "
                f"relative error {rel:.3g} ({int(bad.sum())} of {bad.size} elements outside "
                f"atol={atol}, rtol={rtol})")
    for i in checked:
        inputs[i].grad = None
    return True


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
        return gradcheck(first, inputs + tuple(grad_outputs), eps, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
