"""Activation modules (as ``torch.nn``'s: names, arguments, reprs).

Each holds its hyper-parameters and calls the functional form, which checks
them.  ``inplace=True`` is accepted and shown in the repr as PyTorch does;
the result is computed out of place.
"""
import warnings

import numpy as np

from ... import _defaults
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def _inplace_text(inplace, lead=", "):
    return f"{lead}inplace=True" if inplace else ""


class _Pointwise(Module):
    """An activation without hyper-parameters: forward is ``_fn(x)``."""
    _fn = None

    def forward(self, input):
        return type(self)._fn(input)


class _InplaceAct(_Pointwise):
    """An activation whose only argument is ``inplace`` (shown in the repr as
    PyTorch does; with it the input is overwritten and returned)."""
    _show_inplace = True

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        if self.inplace:
            return type(self)._fn(input, inplace=True)
        return type(self)._fn(input)

    def extra_repr(self):
        return _inplace_text(self.inplace, "") if self._show_inplace else ""


class _ParamAct(Module):
    """An activation with hyper-parameters: the attributes named in
    ``_args`` are passed to ``_fn`` in order after the input and shown in
    the repr (then ``inplace=True`` when set), as PyTorch's reprs read."""
    _fn = None
    _args = ()

    def forward(self, input):
        args = [getattr(self, a) for a in self._args]
        if getattr(self, "inplace", False):
            return type(self)._fn(input, *args, inplace=True)
        return type(self)._fn(input, *args)

    def extra_repr(self):
        text = ", ".join(f"{a}={getattr(self, a)!r}" for a in self._args)
        return text + _inplace_text(getattr(self, "inplace", False))


class ReLU(_InplaceAct):
    """max(x, 0)."""
    _fn = staticmethod(F.relu)


class Sigmoid(_Pointwise):
    """1 / (1 + exp(-x))."""
    _fn = staticmethod(F.sigmoid)


class Tanh(_Pointwise):
    """tanh(x)."""
    _fn = staticmethod(F.tanh)


class LeakyReLU(_ParamAct):
    """Leaky rectifier: x if x > 0 else negative_slope * x.

    Parameters
    ----------
    negative_slope : float (default 0.01)

    Shape
    -----
    Any shape; output the same.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.LeakyReLU(0.1)(fastnn.tensor([-1.0, 2.0])).numpy()
    array([-0.1,  2. ], dtype=float32)
    """
    _fn = staticmethod(F.leaky_relu)
    _args = ("negative_slope",)

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
            raise ValueError(f"LeakyReLU: negative_slope must be a number, got "
                             f"{negative_slope!r}")
        self.negative_slope = float(negative_slope)
        self.inplace = inplace


def _check_dim(name, dim):
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
        raise ValueError(f"{name}: dim must be an int or None, got {dim!r}")
    return dim



class RReLU(_ParamAct):
    """Randomized leaky rectifier: in training ``x * a`` for ``x <= 0`` with
    ``a ~ U(lower, upper)`` per element, in evaluation ``leaky_relu`` with
    slope ``(lower + upper) / 2`` (``F.rrelu``).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.RReLU(0.25, 0.75).eval()(fastnn.tensor([-2.0, 3.0])).numpy()
    array([-1.,  3.], dtype=float32)
    """
    _args = ("lower", "upper")

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

class _DimAct(_ParamAct):
    _args = ("dim",)

    def __init__(self, dim=None):
        super().__init__()
        self.dim = _check_dim(type(self).__name__, dim)


class Softmax(_DimAct):
    """Softmax along ``dim`` (PyTorch's legacy rule when dim is None).

    Shape
    -----
    Any shape; output the same, summing to one along ``dim``.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Softmax(dim=1)(fastnn.zeros(1, 4)).numpy()
    array([[0.25, 0.25, 0.25, 0.25]], dtype=float32)
    """
    _fn = staticmethod(F.softmax)


class LogSoftmax(_DimAct):
    """log(softmax(x)) along ``dim``, computed stably.

    Shape
    -----
    Any shape; output the same.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.LogSoftmax(dim=0)(fastnn.zeros(2)).numpy()
    array([-0.6931472, -0.6931472], dtype=float32)
    """
    _fn = staticmethod(F.log_softmax)


class Softmin(_DimAct):
    """``softmax(-x)`` along ``dim``."""
    _fn = staticmethod(F.softmin)


class GELU(_ParamAct):
    """Gaussian error linear unit, ``x * Phi(x)``; ``approximate='tanh'`` for
    the tanh form.

    Shape
    -----
    Any shape; output the same.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.GELU()(fastnn.tensor([0.0, 1.0])).numpy().round(4)
    array([0.    , 0.8413], dtype=float32)
    """
    _fn = staticmethod(F.gelu)
    _args = ("approximate",)

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate argument must be either 'none' or 'tanh', "
                             f"got {approximate!r}")
        self.approximate = approximate


class SiLU(_InplaceAct):
    """``x * sigmoid(x)``."""
    _fn = staticmethod(F.silu)


class Mish(_InplaceAct):
    """``x * tanh(softplus(x))``."""
    _fn = staticmethod(F.mish)


class SELU(_InplaceAct):
    """``scale * elu(x, alpha)``, PyTorch's constants."""
    _fn = staticmethod(F.selu)


class Hardswish(_InplaceAct):
    """``x * relu6(x + 3) / 6``."""
    _fn = staticmethod(F.hardswish)
    _show_inplace = False


class Hardsigmoid(_InplaceAct):
    """``relu6(x + 3) / 6``."""
    _fn = staticmethod(F.hardsigmoid)
    _show_inplace = False


class Softsign(_Pointwise):
    """``x / (1 + |x|)``."""
    _fn = staticmethod(F.softsign)


class LogSigmoid(_Pointwise):
    """``log(sigmoid(x))``."""
    _fn = staticmethod(F.logsigmoid)


class ELU(_ParamAct):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    _fn = staticmethod(F.elu)
    _args = ("alpha",)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace


class CELU(ELU):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    _fn = staticmethod(F.celu)


class Hardtanh(_ParamAct):
    """``clamp(x, min_val, max_val)``."""
    _fn = staticmethod(F.hardtanh)
    _args = ("min_val", "max_val")

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None,
                 max_value=None):
        super().__init__()
        for old, new, v in (("min_value", "min_val", min_value),
                            ("max_value", "max_val", max_value)):
            if v is not None:   # PyTorch's deprecated spellings
                warnings.warn(f"keyword argument `{old}` is deprecated and renamed to "
                              f"`{new}`", FutureWarning, stacklevel=2)
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val "
                             f"({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_text(self.inplace, "")


class Softplus(_ParamAct):
    """``log(1 + exp(beta * x)) / beta`` (linear above ``threshold``)."""
    _fn = staticmethod(F.softplus)
    _args = ("beta", "threshold")

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold


class Threshold(_ParamAct):
    """``value`` where ``x <= threshold``, else ``x``."""
    _fn = staticmethod(F.threshold)
    _args = ("threshold", "value")

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace


class PReLU(Module):
    """``x`` where positive, ``weight * x`` elsewhere, with a learnt weight
    (one, or one per channel: ``num_parameters``), initialised to ``init``.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.PReLU()
    >>> m(fastnn.tensor([-2.0, 3.0])).detach().numpy(), list(m.state_dict())
    (array([-0.5,  3. ], dtype=float32), ['weight'])
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) or \
                num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got "
                             f"{num_parameters!r}")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(np.empty(num_parameters, dtype=_defaults.FLOAT))
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: every weight ``init``."""
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


from .attention import MultiheadAttention  # noqa: E402,F401  (PyTorch's module path)
