"""``Linear`` and ``LazyLinear`` (``in_features`` from the first input)."""
import math

from ...ops.linalg import linear_infer
from ..._tensor import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module


class Linear(Module):
    """y = x W^T + b.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    device, dtype : device ignored (CPU); dtype of the parameters.

    Shape
    -----
    (*, in_features) -> (*, out_features); weight (out_features, in_features).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Linear(3, 2)(fastnn.ones(5, 3)).shape
    fastnn.Size([5, 2])
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()   # device: accepted, CPU only (as the other layers)
        for n, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"Linear: {n} must be a non-negative int, got {v!r}")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, i.e.
        U(-1/sqrt(in), 1/sqrt(in)), and the same bound for the bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        p = self._parameters   # (direct lookups: no __getattr__ fall-back)
        w = p["weight"] if "weight" in p else self.weight
        b = p["bias"] if "bias" in p else self.bias
        # nothing to record (inference): no graph node (None: take the full path)
        y = linear_infer(input, w, b)
        if y is not None:
            return y
        return F.linear(input, w, b)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """``Linear`` under the name PyTorch gives ``MultiheadAttention.out_proj``."""


class LazyLinear(LazyModuleMixin, Linear):
    """A ``Linear`` whose ``in_features`` is the last size of its first input.

    Until the first forward ``weight`` and ``bias`` are
    ``UninitializedParameter``s and ``in_features`` is 0; the first call
    materialises them, initialises them as ``Linear`` does and makes the
    module a ``Linear`` (see ``fastnn.nn.modules.lazy``).

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.LazyLinear(2)
    >>> m(fastnn.ones(5, 3)).shape, m
    (fastnn.Size([5, 2]), Linear(in_features=3, out_features=2, bias=True))
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        if isinstance(out_features, bool) or not isinstance(out_features, int) or \
                out_features < 0:
            raise ValueError(f"LazyLinear: out_features must be a non-negative int, got "
                             f"{out_features!r}")
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        """``Linear``'s initialisation, once the parameters have their shapes."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """in_features = input's last size; materialises and initialises."""
        if self.has_uninitialized_params():
            self.in_features = int(input.shape[-1])
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
        if self.in_features == 0:        # (parameters loaded: the input must fit them)
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(f"The in_features inferred from input: {input.shape[-1]} "
                                     "is not equal to in_features from self.weight: "
                                     f"{self.weight.shape[-1]}")
            self.in_features = int(input.shape[-1])
