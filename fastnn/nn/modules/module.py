"""``Module``: the base class of layers and models, as ``torch.nn.Module``.

A Module holds Parameters, buffers (non-learnable state such as batch-norm
running statistics) and child Modules, registered by attribute assignment.
``state_dict`` keys are the dotted attribute paths, exactly as PyTorch names
them, so weights move between the two.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from ..._errors import ShapeError
from ...tensor import Tensor
from ..parameter import Parameter

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class StateDictError(KeyError, RuntimeError):
    """A state dict is missing keys or has unexpected ones (``strict=True``)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _as_array(v):
    if isinstance(v, Tensor):
        return v._array
    if isinstance(v, np.ndarray):
        return v
    if hasattr(v, "detach") and hasattr(v, "cpu"):   # a torch.Tensor
        return np.asarray(v.detach().cpu())
    return np.asarray(v)


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
    """

    training: bool

    def __init__(self, *args, **kwargs):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

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
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                "(fastnn.nn.Parameter or None expected)")
            params[name] = None
        elif name in bufs:
            bufs[name] = value if (value is None or isinstance(value, Tensor)) else Tensor(value)
        elif name in mods:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r}")
            mods[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            reg = d.get(key)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[key]:
                del self.__dict__[key][name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(tensor)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} is not a Module")
        self._modules[name] = module

    register_module = add_module

    # ----------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix=""):
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, attr, prefix, recurse):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mp, m in mods:
            for name, v in getattr(m, attr).items():
                if v is None or id(v) in seen:
                    continue
                seen.add(id(v))
                yield (f"{mp}.{name}" if mp else name), v

    def named_parameters(self, prefix="", recurse=True):
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---------------------------------------------------------------- modes
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad._array[...] = 0

    def apply(self, fn):
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _cast(self, dtype):
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None and p._array.dtype.kind == "f":
                    p._array = p._array.astype(dtype)
                    if p.grad is not None:
                        p.grad = p.grad._array.astype(dtype)
            for b in m._buffers.values():
                if b is not None and b._array.dtype.kind == "f":
                    b._array = b._array.astype(dtype)
        return self

    def float(self):
        return self._cast(np.float32)

    def double(self):
        return self._cast(np.float64)

    def to(self, *args, **kwargs):
        dtype = kwargs.get("dtype")
        for a in args:
            if not isinstance(a, str):
                dtype = a
        return self if dtype is None else self._cast(np.dtype(dtype))

    def cpu(self):
        return self

    # ----------------------------------------------------------- state dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by dotted name (Tensors sharing memory)."""
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copies values into this module's parameters and buffers, in place.

        Values may be Tensors, ndarrays or PyTorch tensors.  With ``strict``,
        missing or unexpected keys raise ``StateDictError`` (a KeyError and
        RuntimeError); a shape mismatch always raises ``ShapeError``."""
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        name = type(self).__name__
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
            if unexpected:
                parts.append("Unexpected key(s) in state_dict: " +
                             ", ".join(f'"{k}"' for k in unexpected))
            raise StateDictError(f"Error(s) in loading state_dict for {name}:\n\t" +
                                 ".\n\t".join(parts) + ".")
        for k, target in own.items():
            if k not in state_dict:
                continue
            src = _as_array(state_dict[k])
            if src.shape != target._array.shape:
                raise ShapeError(f"Error(s) in loading state_dict for {name}: size mismatch for "
                                 f"{k}: copying a param with shape {tuple(src.shape)} from "
                                 f"checkpoint, the shape in current model is "
                                 f"{tuple(target._array.shape)}.")
            np.copyto(target._array, src, casting="unsafe")
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for name, m in self._modules.items():
            r = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {r}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))
