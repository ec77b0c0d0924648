"""``Linear`` layer."""
import math

from ...ops.linalg import linear_infer
from ..._tensor import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
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

    def forward(self, x):
        p = self._parameters   # (direct lookups: no __getattr__ fall-back)
        w = p["weight"] if "weight" in p else self.weight
        b = p["bias"] if "bias" in p else self.bias
        # nothing to record (inference): no graph node (None: take the full path)
        y = linear_infer(x, w, b)
        if y is not None:
            return y
        return F.linear(x, w, b)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """``Linear`` under the name PyTorch gives ``MultiheadAttention.out_proj``."""
