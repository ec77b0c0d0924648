"""``fastnn.nn.utils.parametrizations``: ``spectral_norm`` and
``weight_norm`` on the ``parametrize`` mechanism, with PyTorch's state-dict
keys (``parametrizations.<name>.original`` and ``...0._u`` / ``...0._v``
for spectral_norm; ``parametrizations.<name>.original0`` (g) and
``...original1`` (v) for weight_norm; ``...original`` and ``...0.base`` for
orthogonal), so checkpoints move between PyTorch and fastnn.  The hook-style ``fastnn.nn.utils.weight_norm``
(``<name>_g`` / ``<name>_v``) is PyTorch's legacy form and stays separate."""
import fastnn

from ..modules.module import Module
from .parametrize import register_parametrization
from .spectral_norm import _parametrized_spectral_norm as spectral_norm  # noqa: F401
from .spectral_norm import _SpectralNorm  # noqa: F401
from .weight_norm import _norm_except_dim

__all__ = ["orthogonal", "weight_norm", "spectral_norm"]


class _WeightNorm(Module):
    """``w = g * v / ||v||`` (the norm over every dim but ``dim``; over the
    whole tensor for dim None / -1), from the originals (g, v)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Weight normalisation of ``module.<name>`` as a parametrization
    (PyTorch's ``torch.nn.utils.parametrizations.weight_norm``): the
    originals ``parametrizations.<name>.original0`` (g, the norms) and
    ``original1`` (v); returns the module.  A legacy state dict (keys
    ``<name>_g`` / ``<name>_v``) still loads, renamed as PyTorch does.

    Examples
    --------
    >>> import fastnn
    >>> m = weight_norm(fastnn.nn.Linear(4, 3))
    >>> list(m.state_dict())
    ['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
    """
    # PyTorch registers this parametrization unsafe (g and v are two tensors
    # of other shapes than the weight) and renames the legacy keys on load.
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,
                     unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_compat_hook)
    return module


# ----------------------------------------------------------------- orthogonal
_ORTH_MAPS = ("matrix_exp", "cayley", "householder")


def _qr_orthogonal(a):
    """The Q of A = QR with R's diagonal positive (Householder QR)."""
    h, tau = fastnn.geqrf(a)
    q = fastnn.linalg.householder_product(h, tau)
    return q * h.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _has_orthonormal_columns(q):
    n, k = q.shape[-2], q.shape[-1]
    eps = 10 * n * fastnn.finfo(q.dtype).eps
    return bool(fastnn.allclose(q.mT @ q, fastnn.eye(k, dtype=q.dtype), atol=eps))


class _Orthogonal(Module):
    """Maps an unconstrained matrix (or batch) X to one with orthonormal
    columns (rows, when it is wide), as PyTorch's ``orthogonal``:

    * ``matrix_exp``: ``exp(A)`` and ``cayley``: ``(I - A/2)^-1 (I + A/2)``,
      for the skew-symmetric ``A = L - L^T`` built from the lower triangle L
      of X (padded with zero columns to a square); the first k columns;
    * ``householder``: the product of the Householder reflectors stored
      below X's diagonal (``tau = 2 / (1 + ||v||^2)``), each column's sign
      taken from X's (integer-truncated) diagonal.

    With ``use_trivialization`` the result is ``base @ map(X)``: assigning a
    matrix stores its orthogonalisation (completed to a square by random
    columns when rectangular) in the buffer ``base`` and sets X to -I, the
    point the maps send to the identity, so optimisation moves around the
    assigned matrix."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        wide = n < k
        if wide:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map == "householder":
            v = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (v * v).sum(dim=-2))
            Q = fastnn.linalg.householder_product(v, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).long().to(X.dtype).unsqueeze(-2)
        else:
            L = X.tril()
            if n != k:
                L = fastnn.cat([L, fastnn.zeros(*L.shape[:-1], n - k, dtype=L.dtype)], dim=-1)
            A = L - L.mT
            if self.orthogonal_map == "matrix_exp":
                Q = fastnn.linalg.matrix_exp(A)
            else:
                eye = fastnn.eye(n, dtype=A.dtype)
                Q = fastnn.linalg.solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        if getattr(self, "base", None) is not None:
            Q = self.base @ Q
        return Q.mT if wide else Q

    def right_inverse(self, Q):
        if tuple(Q.shape) != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {tuple(Q.shape)}.")
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        if n < k:
            Q = Q.mT
            n, k = k, n
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False.")
            # X with Q = householder(X): the reflectors of Q's QR, the diagonal
            # +-1 giving each column's sign
            h, tau = fastnn.geqrf(Q)
            diag = h.diagonal(dim1=-2, dim2=-1)
            sign = diag.sgn()
            sign = fastnn.where(tau == 0, -sign, sign)
            h = h.tril(diagonal=-1)
            h.diagonal(dim1=-2, dim2=-1).copy_(sign)
            return h.mT if Q_init.shape[-2] < Q_init.shape[-1] else h
        if n == k:
            Q = Q.clone() if _has_orthonormal_columns(Q) else _qr_orthogonal(Q)
        else:
            extra = fastnn.randn(*Q.shape[:-1], n - k, dtype=Q.dtype)
            Q = _qr_orthogonal(fastnn.cat([Q, extra], dim=-1))
        self.base = Q
        neg_eye = fastnn.zeros_like(Q_init)
        neg_eye.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_eye


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrains ``module.<name>`` (a matrix or a batch of them) to have
    orthonormal columns, or rows when it is wide, as PyTorch's
    ``torch.nn.utils.parametrizations.orthogonal``.  ``orthogonal_map`` is
    'matrix_exp', 'cayley' or 'householder' (default: 'matrix_exp' for a
    square matrix, 'householder' otherwise).  The weight's current value is
    kept, made orthogonal when it is not.  State-dict keys are PyTorch's:
    ``parametrizations.<name>.original`` and, with ``use_trivialization``
    (the default), the buffer ``parametrizations.<name>.0.base``.

    Examples
    --------
    >>> import fastnn
    >>> m = orthogonal(fastnn.nn.Linear(4, 4))
    >>> list(m.state_dict())
    ['bias', 'parametrizations.weight.original', 'parametrizations.weight.0.base']
    >>> w = m.weight
    >>> bool(fastnn.allclose(w @ w.T, fastnn.eye(4), atol=1e-5))
    True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, fastnn.Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _ORTH_MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    register_parametrization(module, name,
                             _Orthogonal(weight, orthogonal_map,
                                         use_trivialization=use_trivialization),
                             unsafe=True)
    return module
