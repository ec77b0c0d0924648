"""``MultiheadAttention`` (PyTorch's ``torch.nn.MultiheadAttention``, also
importable from ``fastnn.nn.modules.activation`` as in PyTorch): the packed
``in_proj_weight`` (3E, E) and ``in_proj_bias``, or ``q/k/v_proj_weight``
when kdim/vdim differ from embed_dim, and ``out_proj``.  The maths is in
``fastnn.ops.attention.mha``."""
from ...ops import attention as _A
from ..._tensor import empty
from .. import init
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention: softmax(Q K^T / sqrt(head_dim) + mask) V per head,
    heads concatenated and projected.

    Parameters
    ----------
    embed_dim, num_heads : int (embed_dim divisible by num_heads)
    dropout : float, on the attention weights in training
    bias : bool, in_proj_bias and out_proj.bias
    add_bias_kv : bool, learnt bias_k, bias_v appended to the keys and values
    add_zero_attn : bool, a zero key and value appended
    kdim, vdim : int, feature sizes of key and value (default embed_dim)
    batch_first : bool, (N, L, E) instead of (L, N, E)

    Shape
    -----
    query (L, N, E), key (S, N, kdim), value (S, N, vdim) (or unbatched
    (L, E)); key_padding_mask (N, S) (True or -inf: ignore); attn_mask (L, S)
    or (N*num_heads, L, S).  Returns (output (L, N, E), weights (N, L, S)
    averaged over heads, or (N, num_heads, L, S), or None).

    Examples
    --------
    >>> import fastnn
    >>> mha = fastnn.nn.MultiheadAttention(16, 4, batch_first=True)
    >>> x = fastnn.randn(2, 5, 16)
    >>> out, w = mha(x, x, x)
    >>> out.shape, w.shape
    (fastnn.Size([2, 5, 16]), fastnn.Size([2, 5, 5]))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's: xavier_uniform_ projections, zero biases, xavier_normal_
        bias_k/bias_v (out_proj.weight keeps Linear's initialisation)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        # the weights read as attributes (a parametrization or a tensor set
        # in place of a Parameter is used, as in PyTorch)
        p = {n: getattr(self, n) for n in ("in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                                           "q_proj_weight", "k_proj_weight", "v_proj_weight")}
        return _A.mha(query, key, value, self.embed_dim, self.num_heads, p["in_proj_weight"],
                      p["in_proj_bias"], p["bias_k"], p["bias_v"], self.add_zero_attn,
                      self.dropout, self.out_proj.weight, self.out_proj.bias,
                      training=self.training, key_padding_mask=key_padding_mask,
                      need_weights=need_weights, attn_mask=attn_mask,
                      use_separate_proj_weight=not self._qkv_same_embed_dim,
                      q_proj_weight=p["q_proj_weight"], k_proj_weight=p["k_proj_weight"],
                      v_proj_weight=p["v_proj_weight"],
                      average_attn_weights=average_attn_weights, is_causal=is_causal,
                      batch_first=self.batch_first)
