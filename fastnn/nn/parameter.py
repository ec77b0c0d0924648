"""``Parameter``: a Tensor that a Module registers as learnable; ``Buffer``:
one it registers as state (``self.x = nn.Buffer(t)``); the uninitialised
placeholders of the lazy modules (``UninitializedParameter``,
``UninitializedBuffer``), as ``torch.nn.parameter``.

An uninitialised parameter or buffer holds an empty array of its dtype and
no shape: ``materialize(shape)`` gives it an (uninitialised) array of that
shape and turns it, in place, into its ``cls_to_become`` (``Parameter`` or
``Tensor``), so every reference to it (an optimiser's, a state dict's made
with ``keep_vars``) sees the materialised tensor.
"""
import numpy as np

from .. import _defaults
from .._tensor import Tensor, _resolve_dtype, _to_array

__all__ = ["Parameter", "UninitializedParameter", "is_lazy", "Buffer", "UninitializedBuffer",
           "UninitializedTensorMixin"]


class Parameter(Tensor):
    """A leaf Tensor with ``requires_grad=True`` that Modules collect.

    Examples
    --------
    >>> import fastnn
    >>> p = fastnn.nn.Parameter(fastnn.zeros(3))
    >>> p.requires_grad
    True
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, _defaults.FLOAT)
        arr = _to_array(data)       # (fastnn's dtype rules; Tensor(...) is PyTorch's float32)
        super().__init__(arr, requires_grad=requires_grad, dtype=arr.dtype)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class _BufferMeta(type):
    # ``isinstance(t, Buffer)``: any Tensor that ``Buffer(...)`` marked (as
    # PyTorch's, Buffer returns the tensor itself, not a subclass instance).
    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and \
                bool(getattr(instance, "_is_buffer", False))
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A Tensor that a Module registers as a buffer on assignment.

    ``Buffer(data, persistent=True)`` returns ``data`` detached (sharing its
    memory, ``requires_grad`` kept) and marked, so ``self.x = nn.Buffer(t)``
    in a Module does ``self.register_buffer("x", t, persistent)``.
    Non-persistent buffers are left out of ``state_dict``.

    Examples
    --------
    >>> import fastnn
    >>> class M(fastnn.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.steps = fastnn.nn.Buffer(fastnn.zeros(2))
    >>> list(M().state_dict())
    ['steps']
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor._wrap(np.empty(0, _defaults.FLOAT))
        elif not isinstance(data, Tensor):
            data = Tensor._wrap(_to_array(data))
        t = data.detach()
        t._requires_grad = data.requires_grad
        t.persistent = persistent
        t._is_buffer = True
        return t


_SHAPE_ERROR = ("Can't access the shape of an uninitialized parameter or buffer. This error "
                "usually happens in `load_state_dict` when trying to load an uninitialized "
                "parameter into an initialized one. Call `forward` to initialize the "
                "parameters before accessing their attributes.")


class UninitializedTensorMixin:
    """What uninitialised parameters and buffers share: no shape until
    ``materialize``."""

    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Gives this tensor an uninitialised array of ``shape`` (its dtype,
        or ``dtype``) and makes it a ``cls_to_become`` in place."""
        if device is not None:
            from ..device import device as _device
            _device(device)                       # the CPU only (a clear error otherwise)
        dt = self._array.dtype if dtype is None else _resolve_dtype(dtype)
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        self._array = np.empty(tuple(int(s) for s in shape), dt)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(_SHAPE_ERROR)

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call "
                           "`forward` to initialize the parameters before calling "
                           "`module.share_memory()`.")

    def __repr__(self):
        return f"<{type(self).__name__}>"


def is_lazy(param):
    """Whether ``param`` is an ``UninitializedParameter`` or ``UninitializedBuffer``."""
    return isinstance(param, UninitializedTensorMixin)


def _empty(dtype, device):
    if device is not None:
        from ..device import device as _device
        _device(device)
    return np.empty(0, _resolve_dtype(dtype) or _defaults.FLOAT)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (the lazy modules' weights);
    ``materialize(shape)`` makes it a ``Parameter``.

    Examples
    --------
    >>> import fastnn
    >>> p = fastnn.nn.UninitializedParameter()
    >>> p.materialize((2, 3)); type(p).__name__, tuple(p.shape)
    ('Parameter', (2, 3))
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        Parameter.__init__(self, _empty(dtype, device), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (the lazy batch norms' running
    statistics); ``materialize(shape)`` makes it a ``Tensor``."""

    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        arr = _empty(dtype, device)
        Tensor.__init__(self, arr, requires_grad=requires_grad, dtype=arr.dtype)
        self.persistent = persistent
        self._is_buffer = True
