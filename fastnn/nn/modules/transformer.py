"""Transformer layers (PyTorch's ``torch.nn.modules.transformer``):
``TransformerEncoderLayer``, ``TransformerEncoder``, ``TransformerDecoderLayer``,
``TransformerDecoder`` and ``Transformer``, with PyTorch's submodule names
(``self_attn``, ``linear1``, ``linear2``, ``norm1``, ``norm2``, ...), so state
dicts move both ways.
"""
import copy
import warnings

import numpy as np

from ... import _defaults
from .. import functional as F
from .. import init
from .normalization import LayerNorm
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
           "TransformerDecoder", "Transformer"]


def _activation(activation):
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


# ---------------------------------------------------------------- encoder
def _build_layer(layer, attns, n, d_model, nhead, dim_feedforward, dropout, activation, eps,
                 batch_first, norm_first, bias):
    """The submodules of an encoder or decoder layer, registered in PyTorch's
    order (so state dicts list the same keys in the same order)."""
    for name in attns:
        setattr(layer, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                batch_first=batch_first))
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias)
    layer.norm_first = norm_first
    for i in range(1, n + 1):
        setattr(layer, f"norm{i}", LayerNorm(d_model, eps=eps, bias=bias))
    for i in range(1, n + 1):
        setattr(layer, f"dropout{i}", Dropout(dropout))
    layer.activation = _activation(activation)
    # PyTorch's record of the activation (1 relu, 2 gelu, 0 another), which
    # decides whether the encoder's inference fast path applies
    from .activation import GELU, ReLU
    act = layer.activation
    layer.activation_relu_or_gelu = (1 if act is F.relu or isinstance(act, ReLU) else
                                     2 if act is F.gelu or isinstance(act, GELU) else 0)
    layer.batch_first = batch_first


class _SelfAttentionBlock:
    """The self-attention block of both layers (PyTorch's ``_sa_block``):
    ``dropout1(self_attn(x, x, x))``."""

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)


class TransformerEncoderLayer(_SelfAttentionBlock, Module):
    """Self-attention and a feed-forward block, each with dropout, a residual
    connection and layer norm (after, or before with ``norm_first``).

    Parameters
    ----------
    d_model, nhead : int
    dim_feedforward : int (2048)
    dropout : float (0.1)
    activation : 'relu', 'gelu' or a callable
    layer_norm_eps : float (1e-5)
    batch_first, norm_first, bias : bool

    Shape
    -----
    src (S, N, E) ((N, S, E) batch_first, or (S, E)); src_mask (S, S) or
    (N*nhead, S, S); src_key_padding_mask (N, S).  Output as src.

    Examples
    --------
    >>> import fastnn
    >>> layer = fastnn.nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
    >>> layer(fastnn.randn(2, 5, 16)).shape
    fastnn.Size([2, 5, 16])
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        _build_layer(self, ("self_attn",), 2, d_model, nhead, dim_feedforward, dropout,
                     activation, layer_norm_eps, batch_first, norm_first, bias)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


def _clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


# PyTorch's private helpers of this module, which code outside PyTorch
# imports (``from torch.nn.modules.transformer import _get_clones``)
_get_clones = _clones


def _get_activation_fn(activation):
    """'relu' -> F.relu, 'gelu' -> F.gelu (a RuntimeError otherwise)."""
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _get_seq_len(src, batch_first):
    """The sequence length of (S, E), (S, N, E) or (N, S, E) input."""
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _generate_square_subsequent_mask(sz, dtype=None):
    """(sz, sz) float mask: -inf above the diagonal, 0 elsewhere."""
    from ..._tensor import Tensor
    dt = _defaults.FLOAT if dtype is None else dtype
    return Tensor._wrap(np.triu(np.full((sz, sz), -np.inf, dtype=dt), 1))


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """PyTorch's rule: is_causal given, or a float mask equal to the square
    subsequent mask."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    m = mask._array if hasattr(mask, "_array") else np.asarray(mask)
    sz = size if size is not None else m.shape[-2]
    if m.shape != (sz, sz) or m.dtype.kind != "f":
        return False
    return bool(np.array_equal(m, np.triu(np.full((sz, sz), -np.inf, m.dtype), 1)))


def _why_no_nested_tensor(layer):
    """Why PyTorch's encoder cannot use nested tensors with ``layer`` ('' if
    it can); PyTorch's wording."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not layer.self_attn.batch_first:
        return (f"{name}.self_attn.batch_first was not True"
                "(use batch_first for better inference performance)")
    if not layer.self_attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if layer.self_attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not getattr(layer, "activation_relu_or_gelu", 0):
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (and an optional
    final ``norm``).

    Examples
    --------
    >>> import fastnn
    >>> layer = fastnn.nn.TransformerEncoderLayer(16, 4, 32)
    >>> fastnn.nn.TransformerEncoder(layer, 2)(fastnn.randn(5, 2, 16)).shape
    fastnn.Size([5, 2, 16])
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_no_nested_tensor(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why_not}", stacklevel=3)
            self.use_nested_tensor = False

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        seq_dim = 1 if getattr(self.layers[0], "batch_first", False) and src.ndim == 3 else 0
        is_causal = _detect_is_causal_mask(mask, is_causal, src.shape[seq_dim])
        pad = self._nested_padding(src, mask, src_key_padding_mask)
        if pad is not None:
            src_key_padding_mask = pad
        out = src
        for mod in self.layers:
            out = mod(out, src_mask=mask, is_causal=is_causal,
                      src_key_padding_mask=src_key_padding_mask)
        if pad is not None:
            out = out.masked_fill(pad.unsqueeze(-1), 0.0)
        if self.norm is not None:
            out = self.norm(out)
        return out

    def _nested_padding(self, src, mask, key_padding_mask):
        """PyTorch's inference fast path: in eval mode, with no graph to
        record, a batch-first padded batch (padding only at the ends, unless
        ``mask_check=False``) and no attention mask, PyTorch runs each
        sequence alone as a nested tensor and pads the result with zeros.
        Returns the padding (N, S) bool mask of that path (a sequence's first
        ``count of unpadded`` positions kept), or None when it does not apply."""
        from ...backends import mha
        from ..._tensor import Tensor
        from ...autograd import is_grad_enabled
        first = self.layers[0]
        if (not mha.get_fastpath_enabled() or not getattr(self, "use_nested_tensor", False)
                or first.training or src.ndim != 3 or key_padding_mask is None
                or mask is not None):
            return None
        kpm = key_padding_mask
        a = kpm._array if hasattr(kpm, "_array") else np.asarray(kpm)
        if a.shape != (src.shape[0], src.shape[1]) or a.dtype.kind not in "bf":
            return None                 # the layers report the bad mask
        keep = a == 0 if a.dtype.kind == "f" else ~a
        lengths = keep.sum(axis=1)
        left = np.arange(a.shape[1])[None, :] < lengths[:, None]
        if getattr(self, "mask_check", True) and not np.array_equal(left, keep):
            return None
        attn = first.self_attn
        args = (src, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight,
                attn.out_proj.bias, first.norm1.weight, first.norm1.bias, first.norm2.weight,
                first.norm2.bias, first.linear1.weight, first.linear1.bias,
                first.linear2.weight, first.linear2.bias)
        if is_grad_enabled() and any(getattr(t, "requires_grad", False) for t in args):
            return None
        return Tensor._wrap(~left)


# ---------------------------------------------------------------- decoder
class TransformerDecoderLayer(_SelfAttentionBlock, Module):
    """Self-attention, cross-attention over ``memory`` and a feed-forward
    block, each with dropout, a residual connection and layer norm.

    Shape
    -----
    tgt (T, N, E), memory (S, N, E) (batch first with ``batch_first``).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        _build_layer(self, ("self_attn", "multihead_attn"), 3, d_model, nhead, dim_feedforward,
                     dropout, activation, layer_norm_eps, batch_first, norm_first, bias)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer`` (and an optional
    final ``norm``)."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        seq_dim = 1 if getattr(self.layers[0], "batch_first", False) and tgt.ndim == 3 else 0
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, tgt.shape[seq_dim])
        out = tgt
        for mod in self.layers:
            out = mod(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            out = self.norm(out)
        return out


class Transformer(Module):
    """Encoder-decoder Transformer (PyTorch's ``nn.Transformer``): an encoder
    and a decoder stack, each with a final layer norm."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        for name, custom, layer_cls, stack_cls, n in (
                ("encoder", custom_encoder, TransformerEncoderLayer, TransformerEncoder,
                 num_encoder_layers),
                ("decoder", custom_decoder, TransformerDecoderLayer, TransformerDecoder,
                 num_decoder_layers)):
            if custom is None:
                layer = layer_cls(d_model, nhead, dim_feedforward, dropout, activation,
                                  layer_norm_eps, batch_first, norm_first, bias)
                custom = stack_cls(layer, n, LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
            setattr(self, name, custom)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first
        self._reset_parameters()

    def _reset_parameters(self):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        b = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[b] != tgt.shape[b]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """(sz, sz) float mask: -inf above the diagonal, 0 elsewhere."""
        return _generate_square_subsequent_mask(sz, dtype)
