"""``Module``: the base class of layers and models, as ``torch.nn.Module``.

A Module holds Parameters, buffers (non-learnable state such as batch-norm
running statistics) and child Modules, registered by attribute assignment.
``state_dict`` keys are the dotted attribute paths, exactly as PyTorch names
them, so weights move between the two.

Hooks (``register_forward_pre_hook``, ``register_forward_hook``,
``register_full_backward_hook``, ``register_full_backward_pre_hook``, and
the global ``register_module_*`` forms for every module) run as in PyTorch.
Their dicts exist only on modules that have had a hook, and a per-instance
flag ``_call_hooks`` (whose class default is True only while a global hook
is registered) sends ``__call__`` to the hook-aware path: a module without
hooks costs one attribute test per call.

``load_state_dict`` checks every key and shape before it copies anything, so
a failed load leaves the module as it was (PyTorch copies the matching
entries first); the error text is PyTorch's.
"""
import functools
import weakref
from collections import OrderedDict, namedtuple
from types import MappingProxyType

import numpy as np

from ..._dtype import dtype as _FnnDtype
from ..._errors import ShapeError
from ..._tensor import Tensor, _wrap_data, from_numpy
from ...utils.hooks import BackwardHook, RemovableHandle, _hook_dict
from ..parameter import _SHAPE_ERROR, Parameter, UninitializedTensorMixin

__all__ = ["Module", "StateDictError", "register_module_forward_pre_hook",
           "register_module_forward_hook", "register_module_full_backward_hook",
           "register_module_full_backward_pre_hook"]

# Hook dicts (created on a module's first hook; see container._HOOK_ATTRS).
_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
               "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
               "_backward_hooks", "_backward_pre_hooks", "_state_dict_pre_hooks",
               "_state_dict_hooks", "_load_state_dict_pre_hooks",
               "_load_state_dict_post_hooks")
_MAIN_HOOK_DICTS = ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks",
                    "_backward_pre_hooks")
# Instance attributes that are the Module machinery, not the model's data
# (fastnn.save stores the registries itself and skips the rest).
_INTERNAL_ATTRS = frozenset(("_parameters", "_buffers", "_non_persistent", "_modules",
                             "training", "_call_hooks") + _HOOK_DICTS)
_EMPTY = MappingProxyType({})

# Global hooks (``register_module_*``): they run for every module's call,
# before the module's own hooks.  While one is registered the class default
# of the per-instance flag, ``Module._call_hooks``, is True, so every module
# takes the hook-aware path; with none, ``__call__`` costs what it did.
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_backward_hooks = OrderedDict()
_global_backward_pre_hooks = OrderedDict()
_GLOBAL_MAIN = (_global_forward_pre_hooks, _global_forward_hooks, _global_backward_hooks,
                _global_backward_pre_hooks)


def _update_global_flag():
    Module._call_hooks = any(_GLOBAL_MAIN)


def _add_global_hook(hooks, hook, flags=()):
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks, extra_dict=[d for d, _ in flags],
                             on_remove=_update_global_flag)
    hooks[handle.id] = hook
    for d, on in flags:
        if on:
            d[handle.id] = True
    Module._call_hooks = True
    return handle


def register_module_forward_pre_hook(hook):
    """``hook(module, args)`` before every module's ``forward`` (all modules,
    before their own pre-hooks); a returned value replaces the arguments.
    Returns a handle whose ``remove()`` deletes the hook."""
    return _add_global_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """``hook(module, args, output)`` (or ``hook(module, args, kwargs,
    output)``) after every module's ``forward``; a returned value replaces the
    output.  With ``always_call`` it also runs when ``forward`` raises."""
    return _add_global_hook(_global_forward_hooks, hook,
                            ((_global_forward_hooks_with_kwargs, with_kwargs),
                             (_global_forward_hooks_always_called, always_call)))


def register_module_full_backward_hook(hook):
    """``hook(module, grad_input, grad_output)`` for every module, before the
    module's own full backward hooks."""
    return _add_global_hook(_global_backward_hooks, hook)


def register_module_full_backward_pre_hook(hook):
    """``hook(module, grad_output)`` for every module, before the module's own
    backward pre-hooks."""
    return _add_global_hook(_global_backward_pre_hooks, hook)
_DEVICE_NAMES = frozenset(("cpu", "cuda", "mps", "xpu", "meta", "hpu", "xla", "ipu", "mtia"))


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: ``(missing_keys, unexpected_keys)``."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class StateDictError(KeyError, RuntimeError):
    """A state dict is missing keys or has unexpected ones (``strict=True``)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _arr(t):
    """The ndarray behind a Tensor (or an ndarray/torch tensor as given)."""
    if isinstance(t, Tensor):
        return t._array
    if isinstance(t, np.ndarray):
        return t
    if hasattr(t, "detach") and hasattr(t, "cpu"):   # a torch.Tensor
        return np.asarray(t.detach().cpu())
    return None


def _set_array(t, arr):
    """Points Tensor t at ndarray arr (in place: t keeps its identity)."""
    t._array = arr


def _size_str(shape):
    return f"torch.Size({list(shape)})"


class _LoadContext:
    """One ``load_state_dict`` call: the keys the modules looked for and the
    copies staged until every module has been checked."""

    def __init__(self, assign):
        self.assign = assign
        self.expected = set()
        self.todo = []
        self.sizes = False

    def apply(self):
        for step in self.todo:
            step()


_LOADING = []     # the load_state_dict calls in progress (innermost last)


def _copy_in(m, reg, name, target, src, assign):
    """Puts src into module m's parameter or buffer ``name``."""
    if isinstance(target, UninitializedTensorMixin):
        target.materialize(src.shape)
    if assign:                 # the checkpoint's array itself, as PyTorch
        if reg == "_parameters":
            m._parameters[name] = Parameter(from_numpy(src), requires_grad=target.requires_grad)
        else:
            m._buffers[name] = from_numpy(src)
    else:
        np.copyto(target._array, src, casting="unsafe")


def _check_name(kind, name):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


def _changed_repr(m, defaults):
    """The ``", name=value"`` parts of an ``extra_repr`` for each (name,
    default) whose value on m is not the default: tested with ``is not``
    for a True/False/None default (as PyTorch's reprs do), ``!=``
    otherwise."""
    s = ""
    for name, default in defaults:
        v = getattr(m, name)
        if (v is not default) if default is None or isinstance(default, bool) else v != default:
            s += f", {name}={v}"
    return s


def _addindent(s, n):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


def _float_dtype(dtype, who):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{who}: unsupported dtype {dtype!r}") from None
    if dt == np.float16:
        raise NotImplementedError(f"{who}: fastnn has no float16 (half) tensors; keep "
                                  "float32 or use double()")
    if dt.kind != "f":
        raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got "
                        f"desired dtype={dt}")
    return dt


def _check_device(device, who):
    name = device if isinstance(device, str) else getattr(device, "type", None)
    if name is None:
        name = str(device)
    if name.split(":")[0] != "cpu":
        raise RuntimeError(f"{who}: device {str(device)!r} is not available; fastnn runs on "
                           "the CPU only")


def _py_scalars(v):
    """v with NumPy scalars (also inside tuples and lists) as Python ones."""
    if isinstance(v, np.generic) and not isinstance(v, np.ndarray):
        return v.item()
    if type(v) in (tuple, list):
        return type(v)(_py_scalars(e) for e in v)
    return v


def _numpy_scalar_args(init):
    """A layer's __init__ that takes NumPy scalars for its sizes and rates as
    PyTorch's layers do (``nn.Linear(np.prod(shape), 512)``,
    ``nn.Dropout(np.float32(0.5))``): they are made Python scalars first, so
    the argument checks and everything stored see ints and floats."""
    @functools.wraps(init)
    def wrapped(self, *args, **kwargs):
        if any(isinstance(a, (np.generic, tuple, list)) for a in args) or \
                any(isinstance(a, (np.generic, tuple, list)) for a in kwargs.values()):
            args = tuple(_py_scalars(a) for a in args)
            kwargs = {k: _py_scalars(a) for k, a in kwargs.items()}
        return init(self, *args, **kwargs)
    return wrapped


class Module:
    """Base class of every layer and model.

    Examples
    --------
    >>> import fastnn
    >>> class Net(fastnn.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = fastnn.nn.Linear(4, 2)
    ...     def forward(self, x):
    ...         return self.fc(x).relu()
    >>> sorted(Net().state_dict())
    ['fc.bias', 'fc.weight']
    >>> Net()
    Net(
      (fc): Linear(in_features=4, out_features=2, bias=True)
    )
    """

    training: bool
    # True on a module with hooks (an instance attribute then): __call__'s one test.
    _call_hooks = False
    # Empty, read-only stand-ins until a module gets its first hook.
    _forward_pre_hooks = _forward_hooks = _backward_hooks = _backward_pre_hooks = _EMPTY
    # Attributes fastnn.save skips: caches a subclass rebuilds on its own
    # (each class lists its own; the lists of its bases count too).
    _transient_attrs = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # fastnn's own layers only: a user's __init__ gets its arguments as given
        if cls.__module__.startswith("fastnn.") and "__init__" in cls.__dict__:
            cls.__init__ = _numpy_scalar_args(cls.__dict__["__init__"])

    def __init__(self, *args, **kwargs):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        if self._call_hooks:
            return self._call_impl(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_impl(self, args, kwargs):
        d = self.__dict__
        pre = d.get("_forward_pre_hooks")
        if _global_forward_pre_hooks:           # (the global hooks first, as PyTorch)
            pre = OrderedDict((*_global_forward_pre_hooks.items(), *(pre or _EMPTY).items()))
        if pre:
            with_kw = d.get("_forward_pre_hooks_with_kwargs") or _EMPTY
            for hid, hook in tuple(pre.items()):
                if hid in with_kw:
                    res = hook(self, args, kwargs)
                    if res is not None:
                        if not (isinstance(res, tuple) and len(res) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple "
                                               f"of (new_args, new_kwargs), but got {res}.")
                        args, kwargs = res
                else:
                    res = hook(self, args)
                    if res is not None:
                        args = res if isinstance(res, tuple) else (res,)
        bw_hooks, bw_pre = d.get("_backward_hooks"), d.get("_backward_pre_hooks")
        if _global_backward_hooks:
            bw_hooks = (*_global_backward_hooks.values(), *(bw_hooks or _EMPTY).values())
        elif bw_hooks:
            bw_hooks = tuple(bw_hooks.values())
        if _global_backward_pre_hooks:
            bw_pre = (*_global_backward_pre_hooks.values(), *(bw_pre or _EMPTY).values())
        elif bw_pre:
            bw_pre = tuple(bw_pre.values())
        bw = None
        if bw_hooks or bw_pre:
            bw = BackwardHook(self, bw_hooks or (), bw_pre or ())
            args = bw.setup_input_hook(args)
        fwd = d.get("_forward_hooks")
        with_kw = d.get("_forward_hooks_with_kwargs") or _EMPTY
        always = d.get("_forward_hooks_always_called") or _EMPTY
        if _global_forward_hooks:
            fwd = OrderedDict((*_global_forward_hooks.items(), *(fwd or _EMPTY).items()))
            with_kw = {**_global_forward_hooks_with_kwargs, **with_kw}
            always = {**_global_forward_hooks_always_called, **always}
        called = set()
        result = None
        try:
            result = self.forward(*args, **kwargs)
            if fwd:
                for hid, hook in tuple(fwd.items()):
                    called.add(hid)
                    res = (hook(self, args, kwargs, result) if hid in with_kw
                           else hook(self, args, result))
                    if res is not None:
                        result = res
            if bw is not None:
                result = bw.setup_output_hook(result)
        except Exception:
            for hid, hook in tuple((fwd or _EMPTY).items()):
                if hid in always and hid not in called:
                    try:
                        res = (hook(self, args, kwargs, result) if hid in with_kw
                               else hook(self, args, result))
                        if res is not None:
                            result = res
                    except Exception as e:   # the forward's error is the one to raise
                        import warnings
                        warnings.warn("forward hook with ``always_call=True`` raised an "
                                      "exception that was silenced as another error was "
                                      f"raised in forward: {e}")
            raise
        return result

    # --------------------------------------------------------------- hooks
    def _update_call_hooks(self):
        d = self.__dict__
        if any(d.get(n) for n in _MAIN_HOOK_DICTS):
            object.__setattr__(self, "_call_hooks", True)
        else:           # the class default again (True while a global hook is registered)
            d.pop("_call_hooks", None)

    def _add_hook(self, name, hook, prepend, flags=()):
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        hooks = _hook_dict(self, name)
        extras = [_hook_dict(self, f) for f, on in flags]
        ref = weakref.ref(self)

        def on_remove():
            m = ref()
            if m is not None:
                m._update_call_hooks()
        handle = RemovableHandle(hooks, extra_dict=extras, on_remove=on_remove)
        hooks[handle.id] = hook
        for (f, on), extra in zip(flags, extras):
            if on:
                extra[handle.id] = True
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        object.__setattr__(self, "_call_hooks", True)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` (or ``hook(module, args, kwargs)``) before
        ``forward``; a returned value replaces the arguments.  Returns a
        handle whose ``remove()`` deletes the hook."""
        return self._add_hook("_forward_pre_hooks", hook, prepend,
                              (("_forward_pre_hooks_with_kwargs", with_kwargs),))

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """``hook(module, args, output)`` (or ``hook(module, args, kwargs,
        output)``) after ``forward``; a returned value replaces the output.
        With ``always_call`` the hook also runs when ``forward`` raises."""
        return self._add_hook("_forward_hooks", hook, prepend,
                              (("_forward_hooks_with_kwargs", with_kwargs),
                               ("_forward_hooks_always_called", always_call)))

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` once the gradients with
        respect to the module's inputs are computed; a returned tuple replaces
        ``grad_input``.  See ``fastnn.utils.hooks``."""
        return self._add_hook("_backward_hooks", hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` once the gradients with respect to the
        module's outputs are computed; a returned tuple replaces ``grad_output``."""
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    # ------------------------------------------------------------ registry
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError("cannot assign attributes before Module.__init__() is called")
        params, bufs, mods = d["_parameters"], d["_buffers"], d["_modules"]
        if isinstance(value, Parameter):
            bufs.pop(name, None)
            mods.pop(name, None)
            d.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            bufs.pop(name, None)
            d.pop(name, None)
            mods[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(fastnn.nn.Parameter or None expected)")
            params[name] = None
        elif name in bufs:
            if isinstance(value, Tensor) and value.__dict__.get("_is_buffer"):   # nn.Buffer
                self.register_buffer(name, value, bool(getattr(value, "persistent", True)))
            else:
                bufs[name] = (value if (value is None or isinstance(value, Tensor))
                              else _wrap_data(value))
        elif name in mods:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (fastnn.nn.Module or None expected)")
            mods[name] = None
        elif isinstance(value, Tensor) and value.__dict__.get("_is_buffer"):
            # self.x = nn.Buffer(t, persistent=...) registers a buffer, as PyTorch 2.5+
            self.register_buffer(name, value, bool(getattr(value, "persistent", True)))
        else:
            object.__setattr__(self, name, value)

    @property
    def _non_persistent_buffers_set(self):
        """PyTorch's name for the set of non-persistent buffer names: code
        written for PyTorch (checkpoint loaders, Hugging Face's) reads and
        edits it, so it is the registry itself."""
        return self.__dict__["_non_persistent"]

    @_non_persistent_buffers_set.setter
    def _non_persistent_buffers_set(self, value):
        self.__dict__["_non_persistent"] = value

    def __getattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            reg = d.get(key)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d[key]:
                del d[key][name]
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def _check_new_name(self, kind, name, registry):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if kind == "module":           # (PyTorch's order and wording for modules)
            if not isinstance(name, str):
                raise TypeError(f"module name should be a string. Got {type(name).__name__}")
            if hasattr(self, name) and name not in registry:
                raise KeyError(f"attribute '{name}' already exists")
            if "." in name:
                raise KeyError(f'module name can\'t contain ".", got: {name}')
            if name == "":
                raise KeyError('module name can\'t be empty string ""')
            return
        _check_name(kind, name)
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Adds a Parameter (or None) under ``name``."""
        self._check_new_name("parameter", name, self.__dict__.get("_parameters", ()))
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (fastnn.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Adds a buffer (a Tensor, or an ndarray made one; or None).

        Non-persistent buffers are left out of ``state_dict``."""
        self._check_new_name("buffer", name, self.__dict__.get("_buffers", ()))
        if tensor is not None and not isinstance(tensor, Tensor):
            if not isinstance(tensor, np.ndarray):
                raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                                f"'{name}' (fastnn Tensor or None required)")
            tensor = _wrap_data(tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Adds a child module (or None) under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new_name("module", name, self.__dict__.get("_modules", ()))
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at dotted path ``target`` ("" is the module itself)."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if item not in mod._modules:
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = mod._modules[item]
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def _get_member(self, target, check, what):
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if not check(mod, name):
            raise AttributeError(f"`{name}` is not {what}")
        return getattr(mod, name)

    def get_parameter(self, target):
        """The Parameter at dotted path ``target``."""
        return self._get_member(target, lambda m, n: isinstance(getattr(m, n), Parameter),
                                "an nn.Parameter")

    def get_buffer(self, target):
        """The buffer at dotted path ``target``."""
        return self._get_member(target, lambda m, n: n in m._buffers, "a buffer")

    # ----------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every descendant."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                       remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        memo = set()
        for name, m in self._modules.items():
            if m is not None and m not in memo:
                memo.add(m)
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, attr, prefix, recurse, remove_duplicate):
        memo = set()      # ids: a Tensor's == is elementwise
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                if recurse else [(prefix, self)])
        for mp, m in mods:
            for name, v in getattr(m, attr).items():
                if v is None or id(v) in memo:
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (f"{mp}.{name}" if mp else name), v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs; a shared Parameter once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, buffer) pairs."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---------------------------------------------------------------- modes
    def train(self, mode=True):
        """Sets training mode on this module and (through their ``train``)
        its children; returns the module."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        object.__setattr__(self, "training", mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Drops (or, with ``set_to_none=False``, zeroes) every parameter's gradient."""
        for p in self.parameters():
            p.__dict__.pop("_sparse_rows", None)        # (an Embedding(sparse=True)'s rows)
            if set_to_none:
                p.grad = None
            else:
                g = _arr(p.grad)
                if g is not None:
                    g[...] = 0

    def apply(self, fn):
        """Calls ``fn`` on every child (recursively), then on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def share_memory(self):
        return self

    # ------------------------------------------------------- dtype / device
    def _cast(self, dtype):
        dtype = np.dtype(dtype)
        for m in self.modules():
            for p in m._parameters.values():
                a = _arr(p)
                if a is None or a.dtype.kind != "f" or a.dtype == dtype:
                    continue
                _set_array(p, a.astype(dtype))
                g = p.grad
                if g is not None:
                    ga = _arr(g).astype(dtype)
                    p.grad = from_numpy(ga) if isinstance(g, Tensor) else ga
            for b in m._buffers.values():
                a = _arr(b)
                if a is not None and a.dtype.kind == "f" and a.dtype != dtype:
                    _set_array(b, a.astype(dtype))
        return self

    def float(self):
        """Casts floating parameters and buffers to float32 (in place)."""
        return self._cast(np.float32)

    def double(self):
        """Casts floating parameters and buffers to float64 (in place)."""
        return self._cast(np.float64)

    def half(self):
        raise NotImplementedError("Module.half: fastnn has no float16 (half) tensors; keep "
                                  "float32 or use double()")

    def bfloat16(self):
        raise NotImplementedError("Module.bfloat16: fastnn has no bfloat16 tensors; keep "
                                  "float32 or use double()")

    def type(self, dst_type):
        return self._cast(_float_dtype(dst_type, "Module.type"))

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``:
        the device must be the CPU; a floating dtype casts parameters and
        buffers in place (Parameters keep their identity)."""
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument {next(iter(kwargs))!r}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, bool):
                continue                       # non_blocking given positionally
            elif isinstance(a, (np.dtype, type, _FnnDtype)):
                dtype = a
            elif isinstance(a, str):
                if a.split(":")[0] in _DEVICE_NAMES:
                    device = a
                else:
                    dtype = a
            elif hasattr(a, "type"):           # a device object
                device = a
            else:
                dtype = a
        if device is not None:
            _check_device(device, "Module.to")
        if dtype is not None:
            self._cast(_float_dtype(dtype, "Module.to"))
        return self

    def cpu(self):
        return self

    def cuda(self, device=None):
        raise RuntimeError("Module.cuda: CUDA is not available; fastnn runs on the CPU only")

    def _apply(self, fn, recurse=True):
        """``fn`` applied to every parameter (its data replaced in place: the
        Parameter keeps its identity, as PyTorch's) and buffer."""
        if recurse:
            for m in self.children():
                m._apply(fn)
        for name, p in self._parameters.items():
            if p is not None:
                new = fn(p.detach())
                p._array = new._array if isinstance(new, Tensor) else np.asarray(new)
                if p._grad is not None:
                    g = fn(p._grad)
                    p._grad = g if isinstance(g, Tensor) else Tensor(g)
        for name, b in self._buffers.items():
            if b is not None:
                self._buffers[name] = fn(b)
        return self

    def to_empty(self, *, device=None, recurse=True):
        """Every parameter and buffer given new, uninitialised memory of the
        same shape and dtype (PyTorch's use: materialising a meta-device
        model before loading its weights)."""
        return self._apply(lambda t: Tensor._wrap(np.empty_like(t._array)), recurse)

    def set_submodule(self, target, module, strict=False):
        """Replaces (or with strict=False, adds) the submodule at the dotted
        path ``target``."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        *path, leaf = target.split(".")
        parent = self.get_submodule(".".join(path)) if path else self
        if strict and leaf not in parent._modules:
            raise AttributeError(f"{parent._get_name()} has no attribute `{leaf}`")
        if leaf in parent.__dict__ or leaf in parent._parameters or leaf in parent._buffers:
            raise AttributeError(f"`{leaf}` is not an nn.Module")
        setattr(parent, leaf, module)

    def compile(self, *args, **kwargs):
        """Accepted for PyTorch compatibility (``torch.compile`` in place):
        fastnn runs the module as it is."""

    # ----------------------------------------------------------- state dict
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by dotted name, in an OrderedDict
        (detached Tensors sharing memory, or the Parameters with ``keep_vars``),
        plus ``_extra_state`` of modules defining ``get_extra_state``."""
        if args:       # PyTorch's deprecated positional form
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        d = self.__dict__
        for hook in tuple((d.get("_state_dict_pre_hooks") or _EMPTY).values()):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".",
                             keep_vars=keep_vars)
        for hook, must_be_none in tuple((d.get("_state_dict_hooks") or _EMPTY).values()):
            r = hook(self, destination, prefix, {})
            if r is not None:
                if must_be_none:
                    raise RuntimeError("state_dict post-hook must return None")
                destination = r
        return destination

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """This module's own entries (not its children's) into destination."""
        for name, p in self._parameters.items():
            if p is not None:      # (a lazy module's uninitialised parameter: itself)
                destination[prefix + name] = (p if keep_vars or
                                              isinstance(p, UninitializedTensorMixin)
                                              else p.detach())
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                destination[prefix + name] = (b if keep_vars or
                                              isinstance(b, UninitializedTensorMixin)
                                              else b.detach())
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def get_extra_state(self):
        """Extra state for the state dict (override with set_extra_state)."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called.")

    def set_extra_state(self, state):
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called.")

    # ------------------------------------------------------------ state hooks
    def register_state_dict_pre_hook(self, hook):
        """``hook(module, prefix, keep_vars)`` before ``state_dict`` saves this
        module's entries."""
        return self._add_state_hook("_state_dict_pre_hooks", hook)

    def register_state_dict_post_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata)`` (returning
        None) after ``state_dict`` saved this module and its children."""
        return self._add_state_hook("_state_dict_hooks", (hook, True))

    def _register_state_dict_hook(self, hook):
        """The older form: the hook may return a new state dict."""
        return self._add_state_hook("_state_dict_hooks", (hook, False))

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict,
        missing_keys, unexpected_keys, error_msgs)`` before this module's
        entries load; it may change the state dict (a copy) in place."""
        return self._add_state_hook("_load_state_dict_pre_hooks", (hook, True))

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        return self._add_state_hook("_load_state_dict_pre_hooks", (hook, with_module))

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys)`` after loading; it may edit the
        missing / unexpected key lists in place (before strict checks them)."""
        return self._add_state_hook("_load_state_dict_post_hooks", hook)

    def _add_state_hook(self, name, entry):
        hooks = _hook_dict(self, name)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = entry
        return handle

    # --------------------------------------------------------------- loading
    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Loads this module's own entries (not its children's) from
        state_dict; inside ``load_state_dict`` the copies are staged and
        made only once every module checked out (nothing changes on error).
        Subclasses may override it (e.g. to rename old keys) and call it."""
        ctx = _LOADING[-1] if _LOADING else _LoadContext(assign=False)
        local = [(n, "_parameters", t) for n, t in self._parameters.items() if t is not None]
        local += [(n, "_buffers", t) for n, t in self._buffers.items()
                  if t is not None and n not in self._non_persistent]
        for name, reg, target in local:
            key = prefix + name
            ctx.expected.add(key)
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if isinstance(value, UninitializedTensorMixin):
                if isinstance(target, UninitializedTensorMixin):
                    continue             # uninitialised into uninitialised: nothing to copy
                raise RuntimeError(_SHAPE_ERROR)   # (PyTorch's error: the source has no shape)
            src = _arr(value)
            if src is None:
                src = np.asarray(value)
                if src.dtype.kind not in "biuf":
                    raise TypeError(f"While copying the parameter named \"{key}\", expected "
                                    "a Tensor or Tensor-like object from checkpoint but "
                                    f"received {type(value)}")
            if not isinstance(target, UninitializedTensorMixin):
                tshape = target.shape
                if len(tshape) == 0 and src.ndim == 1 and src.shape[0] == 1:
                    src = src[0:1].reshape(())
                if src.shape != tshape:
                    error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                      f"{_size_str(src.shape)} from checkpoint, the shape in "
                                      f"current model is {_size_str(tshape)}.")
                    ctx.sizes = True
                    continue
            ctx.todo.append(functools.partial(_copy_in, self, reg, name, target, src,
                                              ctx.assign))
        if type(self).set_extra_state is not Module.set_extra_state:
            key = prefix + "_extra_state"
            ctx.expected.add(key)
            if key in state_dict:
                ctx.todo.append(functools.partial(self.set_extra_state, state_dict[key]))
            elif strict:
                missing_keys.append(key)
        if not _LOADING:
            ctx.apply()

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copies (or with ``assign``, assigns) values into this module's
        parameters and buffers.

        Values may be Tensors, ndarrays or PyTorch tensors.  Returns
        ``(missing_keys, unexpected_keys)``.  With ``strict``, missing or
        unexpected keys raise ``StateDictError`` (a KeyError and
        RuntimeError); a shape mismatch always raises ``ShapeError`` (a
        RuntimeError), both with PyTorch's text.  Nothing is changed when
        an error is raised.  An uninitialised parameter or buffer (a lazy
        module's) is materialised with the loaded entry's shape.  Each
        module's ``_load_from_state_dict`` and the load hooks run as in
        PyTorch (on a copy of ``state_dict``)."""
        if not hasattr(state_dict, "items") or not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        # (a PyTorch state_dict's per-module versions, as PyTorch passes them on)
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        missing, unexpected, errors = [], [], []
        ctx = _LoadContext(assign)
        _LOADING.append(ctx)
        try:
            self._load_tree(state_dict, "", missing, unexpected, errors, strict, metadata)
        finally:
            _LOADING.pop()
        unexpected.extend(k for k in state_dict.keys() if k not in ctx.expected)
        result = _IncompatibleKeys(missing, unexpected)
        for _, m in self.named_modules():
            for hook in tuple((m.__dict__.get("_load_state_dict_post_hooks") or _EMPTY)
                              .values()):
                if hook(m, result) is not None:
                    raise RuntimeError("load_state_dict post-hook must return None")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " +
                              ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " +
                              ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            text = (f"Error(s) in loading state_dict for {self._get_name()}:\n\t" +
                    "\n\t".join(errors))
            raise (ShapeError if ctx.sizes else StateDictError)(text)
        ctx.apply()
        return result

    def _load_tree(self, state_dict, prefix, missing, unexpected, errors, strict,
                   metadata=None):
        local = dict(metadata.get(prefix[:-1], {})) if metadata is not None else {}
        for hook, with_module in tuple((self.__dict__.get("_load_state_dict_pre_hooks") or
                                        _EMPTY).values()):
            args = (state_dict, prefix, local, strict, missing, unexpected, errors)
            hook(self, *args) if with_module else hook(*args)
        self._load_from_state_dict(state_dict, prefix, local, True, missing, unexpected,
                                   errors)
        for name, m in self._modules.items():
            if m is not None:
                m._load_tree(state_dict, prefix + name + ".", missing, unexpected, errors,
                             strict, metadata)

    # ------------------------------------------------------------------ repr
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The module's own settings, shown inside its repr (override it)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(m), 2) for key, m in self._modules.items()]
        lines = extra_lines + child_lines
        s = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                s += extra_lines[0]
            else:
                s += "\n  " + "\n  ".join(lines) + "\n"
        return s + ")"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))
