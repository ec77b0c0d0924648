"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their cells, with
PyTorch's signatures, parameter names, shapes and default initialisation
(every weight and bias uniform in +-1/sqrt(hidden_size)), so state dicts move
both ways.  The maths is in ``fastnn.ops.rnn`` (one compiled node per layer).
"""
import math
import numbers
import warnings

from ...ops import rnn as _R
from ..._tensor import empty
from .. import init
from .._rnn_utils import PackedSequence
from ..parameter import Parameter
from .module import Module, _changed_repr

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def _positive_int(owner, name, v):
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} should be of type int, got: {type(v).__name__}")
    if v <= 0:
        raise ValueError(f"{name} must be greater than zero")


def _arr(t):
    return None if t is None else t._array


class RNNBase(Module):
    """Base class of ``RNN``, ``LSTM`` and ``GRU`` (PyTorch's ``RNNBase``).

    Parameters are registered per layer and direction in PyTorch's order:
    ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``,
    ``weight_hr_l{k}`` (with ``proj_size``), with the suffix ``_reverse`` for
    the second direction."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if mode not in _R.MODES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if (isinstance(dropout, bool) or not isinstance(dropout, numbers.Number)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        _positive_int(self, "input_size", input_size)
        _positive_int(self, "hidden_size", hidden_size)
        _positive_int(self, "num_layers", num_layers)
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size > 0 and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        D = 2 if bidirectional else 1
        gate = _R.GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        dt = dtype if dtype is not None else None
        for layer in range(num_layers):
            for direction in range(D):
                n_in = input_size if layer == 0 else real_hidden * D
                sfx = "_reverse" if direction == 1 else ""
                shapes = [(f"weight_ih_l{layer}{sfx}", (gate, n_in)),
                          (f"weight_hh_l{layer}{sfx}", (gate, real_hidden))]
                if bias:
                    shapes += [(f"bias_ih_l{layer}{sfx}", (gate,)),
                               (f"bias_hh_l{layer}{sfx}", (gate,))]
                if proj_size > 0:
                    shapes += [(f"weight_hr_l{layer}{sfx}", (proj_size, hidden_size))]
                for name, shape in shapes:
                    setattr(self, name, Parameter(empty(*shape, dtype=dt)))
                names = [n for n, _ in shapes]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: every parameter uniform in +-1/sqrt(hidden_size)."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def flatten_parameters(self):
        """Accepted for PyTorch compatibility (the weights are used in place)."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def _weights(self):
        """[w_ih, w_hh, b_ih, b_hh, w_hr] per layer and direction (None where absent)."""
        out = []
        # read as attributes, not from _parameters: a weight replaced by a
        # plain tensor (AWD-LSTM's WeightDrop) or computed by a
        # parametrization (weight_norm) is used, as PyTorch's _flat_weights do
        for names in self._all_weights:
            byk = {n.split("_l")[0]: getattr(self, n) for n in names}
            out.append([byk["weight_ih"], byk["weight_hh"], byk.get("bias_ih"),
                        byk.get("bias_hh"), byk.get("weight_hr")])
        return out

    def _run(self, input, hx):
        """(output, h_n, c_n) with PackedSequence input and output handled."""
        packed = isinstance(input, PackedSequence)
        kw = {}
        if packed:
            data, bs, si, ui = input
            kw = dict(batch_sizes=bs._array, sorted_indices=_arr(si), unsorted_indices=_arr(ui))
            input = data
        out, h, c = _R.rnn(self.mode, input, hx, self._weights(), self.num_layers,
                           self.dropout, self.training, self.bidirectional, self.batch_first,
                           self.proj_size, **kw)
        if packed:
            out = PackedSequence(out, bs, si, ui)
        return out, h, c

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        s += _changed_repr(self, (("proj_size", 0), ("num_layers", 1), ("bias", True),
                                  ("batch_first", False), ("dropout", 0),
                                  ("bidirectional", False)))
        return s


def _no_proj_size(proj_size):
    """PyTorch's RNN and GRU refuse a proj_size keyword (any value) with a ValueError."""
    if proj_size is not None:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act
    tanh or relu.

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int (1)
    nonlinearity : 'tanh' or 'relu'
    bias, batch_first, bidirectional : bool
    dropout : float, between layers in training

    Shape
    -----
    input (T, B, I) ((B, T, I) batch_first, (T, I) unbatched, or a
    PackedSequence); h_0 (L*D, B, H).  Returns (output (T, B, D*H), h_n).

    Examples
    --------
    >>> import fastnn
    >>> out, h = fastnn.nn.RNN(4, 8)(fastnn.randn(5, 3, 4))
    >>> out.shape, h.shape
    (fastnn.Size([5, 3, 8]), fastnn.Size([1, 3, 8]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 *, proj_size=None):
        _no_proj_size(proj_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        out, h, _ = self._run(input, (hx,))
        return out, h


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gates and formulas (i, f, g, o), with
    an optional projection of h (``proj_size``).

    Shape
    -----
    input (T, B, I) ((B, T, I) batch_first, (T, I) unbatched, or a
    PackedSequence); hx = (h_0 (L*D, B, HO), c_0 (L*D, B, H)), HO = proj_size
    or hidden_size.  Returns (output (T, B, D*HO), (h_n, c_n)).

    Examples
    --------
    >>> import fastnn
    >>> out, (h, c) = fastnn.nn.LSTM(4, 8, num_layers=2)(fastnn.randn(5, 3, 4))
    >>> out.shape, h.shape, c.shape
    (fastnn.Size([5, 3, 8]), fastnn.Size([2, 3, 8]), fastnn.Size([2, 3, 8]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        out, h, c = self._run(input, tuple(hx) if hx is not None else (None, None))
        return out, (h, c)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gates (r, z, n) and
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).

    Shape
    -----
    As ``RNN``.  Returns (output (T, B, D*H), h_n (L*D, B, H)).

    Examples
    --------
    >>> import fastnn
    >>> out, h = fastnn.nn.GRU(4, 8, batch_first=True)(fastnn.randn(3, 5, 4))
    >>> out.shape
    fastnn.Size([3, 5, 8])
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, *, proj_size=None):
        _no_proj_size(proj_size)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        out, h, _ = self._run(input, (hx,))
        return out, h


class RNNCellBase(Module):
    """Base of the cells: ``weight_ih`` (G, I), ``weight_hh`` (G, H),
    ``bias_ih``, ``bias_hh`` (G), G = chunks * hidden_size."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        _positive_int(self, "input_size", input_size)
        _positive_int(self, "hidden_size", hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        G = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(G, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(G, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(G, dtype=dtype))
            self.bias_hh = Parameter(empty(G, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _step(self, input, hx):
        """One step through the layer node: (h', c') (c' None unless LSTM)."""
        return _R.cell(self._mode, input, hx, [self.weight_ih, self.weight_hh, self.bias_ih,
                                               self.bias_hh, None], type(self).__name__)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One Elman step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Shape
    -----
    input (B, I) or (I,); hx (B, H) or (H,) (zeros when omitted) -> h'.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.RNNCell(4, 8)(fastnn.randn(3, 4)).shape
    fastnn.Size([3, 8])
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, input, hx=None):
        return self._step(input, (hx,))[0]


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c').

    Shape
    -----
    input (B, I) or (I,); hx = (h (B, H), c (B, H)) or None -> (h', c').

    Examples
    --------
    >>> import fastnn
    >>> h, c = fastnn.nn.LSTMCell(4, 8)(fastnn.randn(3, 4))
    >>> h.shape, c.shape
    (fastnn.Size([3, 8]), fastnn.Size([3, 8]))
    """

    _mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTMCell: hx must be a tuple (h, c)")
        return self._step(input, tuple(hx) if hx is not None else (None, None))


class GRUCell(RNNCellBase):
    """One GRU step: h' = n + z * (h - n).

    Shape
    -----
    input (B, I) or (I,); hx (B, H) or (H,) -> h'.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.GRUCell(4, 8)(fastnn.randn(3, 4)).shape
    fastnn.Size([3, 8])
    """

    _mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step(input, (hx,))[0]
