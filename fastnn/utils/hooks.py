"""Hook handles and the module backward hooks (``torch.utils.hooks``).

``RemovableHandle`` is what ``Module.register_*_hook`` return: ``remove()``
deletes the hook (also as a context manager).  ``BackwardHook`` implements
``register_full_backward_hook`` / ``register_full_backward_pre_hook``: in
``Module.__call__`` the module's tensor inputs and outputs pass through
identity autograd Functions whose backward sees the gradients with respect
to them, as PyTorch does:

* the outputs' identity runs first in the backward: it calls the backward
  pre-hooks ``hook(module, grad_output)`` (a returned tuple replaces
  ``grad_output``) and remembers ``grad_output``;
* the inputs' identity runs once the gradients with respect to every input
  are summed: it calls ``hook(module, grad_input, grad_output)`` (a returned
  tuple replaces ``grad_input``).  When no input requires grad the hooks are
  called from the outputs' identity with ``grad_input`` all None (and
  PyTorch's warning).

``grad_input`` has one entry per positional argument of ``forward``: None
for an argument that is not a Tensor, zeros for a Tensor that does not
require grad (as PyTorch reports it).  ``grad_output`` has one per output
(a Tensor or a tuple's items).
"""
import itertools
import warnings
import weakref
from collections import OrderedDict

import numpy as np

from ..autograd import Function, is_grad_enabled

__all__ = ["RemovableHandle", "BackwardHook"]

_ids = itertools.count()


class RemovableHandle:
    """A handle that removes a hook: ``handle.remove()`` or ``with handle:``.

    Parameters
    ----------
    hooks_dict : dict
        The hooks by id (held weakly).
    extra_dict : dict or list of dict, optional
        Dicts whose entry for the same id is removed too.
    on_remove : callable, optional
        Called with no argument after a removal (held as given).
    """

    def __init__(self, hooks_dict, *, extra_dict=None, on_remove=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(_ids)
        if isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in (extra_dict or ()))
        self._on_remove = on_remove

    def remove(self):
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None:
                d.pop(self.id, None)
        if self._on_remove is not None:
            self._on_remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def __repr__(self):
        return f"<RemovableHandle id={self.id}>"


def _wrap(arr):
    from .._tensor import from_numpy
    return from_numpy(arr)


def _unwrap(g, like, who):
    if g is None:
        return None
    arr = getattr(g, "_array", g)
    if getattr(arr, "shape", None) != like.shape:
        raise RuntimeError(f"{who} returned a gradient of shape "
                           f"{tuple(getattr(arr, 'shape', ()))}, expected {tuple(like.shape)}")
    return arr


def _pack(index, grads, n, zeros=()):
    out = [None] * n
    for i, g in zip(index, grads):
        out[i] = _wrap(g)
    for i, shape, dtype in zeros:        # Tensor arguments that do not require grad
        out[i] = _wrap(np.zeros(shape, dtype))
    return tuple(out)


class _IdentityFn(Function):
    """Identity on arrays; the last argument is the call's ``BackwardHook``."""
    raw = True

    @staticmethod
    def forward(ctx, *args):
        ctx.hook = args[-1]
        return args[:-1] if len(args) > 2 else args[0]


class _InputsFn(_IdentityFn):
    """Identity on a module's inputs; its backward calls the full backward hooks."""

    @staticmethod
    def backward(ctx, *grads):
        hook = ctx.hook
        grad_inputs = _pack(hook.input_index, grads, hook.n_inputs, hook.input_zeros)
        grad_inputs = hook._call_full_hooks(grad_inputs, hook.grad_outputs)
        hook.grad_outputs = None
        out = [_unwrap(grad_inputs[i], g, "backward hook") for i, g in zip(hook.input_index, grads)]
        return tuple(out) + (None,)


class _OutputsFn(_IdentityFn):
    """Identity on a module's outputs; its backward calls the backward
    pre-hooks (and the full hooks when no input requires grad)."""

    @staticmethod
    def backward(ctx, *grads):
        hook = ctx.hook
        grad_outputs = _pack(hook.output_index, grads, hook.n_outputs)
        for pre in hook.user_pre_hooks:
            res = pre(hook.module, grad_outputs)
            if res is not None:
                if not isinstance(res, (tuple, list)) or len(res) != len(grad_outputs):
                    raise RuntimeError("Backward pre hook returned an invalid number of "
                                       f"grad_output, got {_len(res)}, but expected "
                                       f"{len(grad_outputs)}")
                grad_outputs = tuple(res)
        if hook.input_index is None:
            if hook.user_hooks:
                warnings.warn("Full backward hook is firing when gradients are computed with "
                              "respect to module outputs since no inputs require gradients.")
            hook._call_full_hooks((None,) * hook.n_inputs, grad_outputs, no_inputs=True)
        else:
            hook.grad_outputs = grad_outputs
        out = [_unwrap(grad_outputs[i], g, "backward pre hook")
               for i, g in zip(hook.output_index, grads)]
        return tuple(out) + (None,)


def _len(x):
    try:
        return len(x)
    except TypeError:
        return 1


def _tensor_positions(items):
    from .._tensor import Tensor
    return [i for i, a in enumerate(items) if isinstance(a, Tensor) and a.requires_grad]


def _apply_identity(fn, items, index, hook):
    outs = fn.apply(*[items[i] for i in index], hook)
    if not isinstance(outs, tuple):
        outs = (outs,)
    new = list(items)
    for i, o in zip(index, outs):
        new[i] = o
    return new


class BackwardHook:
    """One module call's backward hooks (see the module docstring)."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_index = None
        self.input_zeros = ()
        self.n_outputs = 0
        self.output_index = ()

    def _call_full_hooks(self, grad_inputs, grad_outputs, no_inputs=False):
        for h in self.user_hooks:
            res = h(self.module, grad_inputs, grad_outputs)
            if res is None:
                continue
            if no_inputs:
                if not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
                continue
            if not isinstance(res, (tuple, list)) or len(res) != len(grad_inputs):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {_len(res)}, but expected {len(grad_inputs)}")
            grad_inputs = tuple(res)
        return grad_inputs

    def setup_input_hook(self, args):
        """``args`` with the Tensors that require grad passed through the hook."""
        self.n_inputs = len(args)
        index = _tensor_positions(args) if is_grad_enabled() else []
        if not index:
            self.input_index = None
            return args
        self.input_index = index
        from .._tensor import Tensor
        # (PyTorch reports zeros for the Tensor arguments that do not require grad)
        self.input_zeros = [(i, a.shape, a.dtype) for i, a in enumerate(args)
                            if isinstance(a, Tensor) and i not in index]
        return tuple(_apply_identity(_InputsFn, args, index, self))

    def setup_output_hook(self, result):
        """``result`` (a Tensor or a tuple) with its Tensors passed through the hook."""
        is_tuple = isinstance(result, tuple)
        items = result if is_tuple else (result,)
        index = _tensor_positions(items) if is_grad_enabled() else []
        self.n_outputs = len(items)
        if not index:
            return result
        self.output_index = index
        new = _apply_identity(_OutputsFn, items, index, self)
        if not is_tuple:
            return new[0]
        if type(result) is tuple:
            return tuple(new)
        return type(result)(*new)      # a namedtuple


def _hook_dict(module, name):
    """The module's hook dict ``name``, created on first use."""
    d = module.__dict__.get(name)
    if d is None:
        d = OrderedDict()
        object.__setattr__(module, name, d)
    return d
