"""``fastnn.dtype``: PyTorch's dtype objects over NumPy's.

``fastnn.float32`` and ``x.dtype`` print as PyTorch's do (``torch.float32``,
so programs that compare or split the text, ``str(x.dtype) ==
'torch.float32'``, run unchanged), answer PyTorch's queries
(``is_floating_point``, ``is_signed``, ``itemsize``), and stand in for the
NumPy dtype everywhere NumPy takes one: each carries it as ``.dtype``, which
``np.dtype(...)``, ``dtype=`` arguments and ``astype`` read; it compares and
hashes equal to it (``x.dtype == np.float32`` holds, a dict keyed by NumPy
dtypes finds it; a string is not a dtype: ``x.dtype == 'float32'`` is False,
as in PyTorch), and NumPy's other attributes (``kind``, ``type``, ``name``,
``char``) pass through.  fastnn's internals keep working on NumPy dtypes;
only the public names and ``Tensor.dtype`` hand these out.
"""
import numpy as np


class dtype:
    """A tensor element type, as ``torch.dtype``; see the module docstring."""

    __slots__ = ("_np",)

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'torch.dtype' instances")

    @property
    def dtype(self):
        """The NumPy dtype (what NumPy reads when given this object)."""
        return self._np

    def __repr__(self):
        return "torch." + self._np.name

    __str__ = __repr__

    def __eq__(self, other):
        if isinstance(other, dtype):     # (bfloat16 is a dtype without a NumPy one)
            return type(other) is dtype and self._np == other._np
        if not isinstance(other, (np.dtype, type)):
            # (None, a Tensor, ... are not dtypes; nor is a string: PyTorch's
            # ``torch.float32 == 'float32'`` is False, NumPy's own dtypes aside)
            return NotImplemented
        try:
            return self._np == np.dtype(other)
        except (TypeError, ValueError):
            return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return hash(self._np)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._np, name)

    def __reduce__(self):
        return (of, (self._np.str,))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    @property
    def is_floating_point(self):
        return self._np.kind == "f"

    @property
    def is_complex(self):
        return self._np.kind == "c"

    @property
    def is_signed(self):
        return self._np.kind in "fic"

    @property
    def itemsize(self):
        return self._np.itemsize

    def to_real(self):
        return self

    def to_complex(self):
        raise RuntimeError(f"{self!r} has no complex counterpart in fastnn")


_BY_NP = {}


def of(np_dtype):
    """The ``fastnn.dtype`` of a NumPy dtype (or anything ``np.dtype`` takes)."""
    try:
        return _BY_NP[np_dtype]
    except (KeyError, TypeError):
        pass
    nd = np.dtype(np_dtype)
    if not nd.isnative:
        nd = nd.newbyteorder("=")
    d = _BY_NP.get(nd)
    if d is None:
        d = object.__new__(dtype)
        d._np = nd
        _BY_NP[nd] = d
    return d
