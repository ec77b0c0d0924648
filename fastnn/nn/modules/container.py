"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``Identity``,
``ParameterList``, ``ParameterDict``."""
from collections import OrderedDict

from ..._core import TensorBase, is_grad_enabled
from ..._tensor import Tensor
from ..parameter import Parameter
from .module import Module, _addindent

_FUSION = []          # fastnn.nn.fusion, imported on first use (it imports the layers)


class _ModuleSequence:
    """What Sequential and ModuleList share: the modules in order under the
    keys "0", "1", ...; ``len``, iteration, ``append``."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def _renumber(self, mods):
        """The modules in ``mods`` as "0", "1", ... (PyTorch renumbers on
        insert and delete)."""
        self._modules.clear()
        for m in mods:
            self.append(m)

    def insert(self, index, module):
        mods = list(self._modules.values())
        n = len(mods)
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.insert: {type(module).__name__} is not a "
                            "Module")
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        mods.insert(index if index >= 0 else index + n, module)
        self._renumber(mods)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __delitem__(self, idx):
        mods = list(self._modules.values())
        del mods[idx]
        self._renumber(mods)

    def pop(self, idx=-1):
        m = self[idx]
        del self[idx]
        return m

    def __add__(self, other):
        if not isinstance(other, type(self)):
            raise ValueError(f"add operator supports only objects of {type(self).__name__} "
                             f"class, but {type(other)} is given.")
        return type(self)(*self, *other) if isinstance(self, Sequential) else \
            type(self)([*self, *other])

    def __iadd__(self, other):
        return self.extend(other)


class Sequential(_ModuleSequence, Module):
    """Modules applied in order; indexable, iterable, ``len``.

    Examples
    --------
    >>> import fastnn.nn as nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> len(net), type(net[1]).__name__
    (3, 'ReLU')
    """

    # the fusion plan cache is rebuilt on the next call (fastnn.save skips it)
    _transient_attrs = ("_fusion_plan", "_infer_plan")

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for k, m in args[0].items():
                self.add_module(k, m)
        else:
            for i, m in enumerate(args):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, not a Module")
                self.add_module(str(i), m)

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        n = len(items)
        if not -n <= idx < n:
            raise IndexError(f"Sequential: index {idx} is out of range for {n} modules")
        return items[idx % n][1]

    def __setitem__(self, idx, module):
        key = list(self._modules)[idx]
        self.add_module(key, module)

    def __mul__(self, other):
        if isinstance(other, bool) or not isinstance(other, int) or other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other!r} for Sequential")
        return Sequential(*(list(self) * other))

    __rmul__ = __mul__

    def __imul__(self, other):
        prod = self * other
        self._renumber(list(prod))
        return self

    def forward(self, input):
        """Each module in turn, through the fusion pass of ``fastnn.nn.fusion``:
        an ``nn.Conv2d`` or batch norm directly followed by ``nn.ReLU`` runs as
        one fused op (bitwise the same results, one pass less over the data)
        unless either module has hooks or a replaced forward.  Under no_grad
        the layers it knows run as inference programs (``fusion.infer``)."""
        if not _FUSION:
            from .. import fusion
            _FUSION.append(fusion)
        fusion = _FUSION[0]
        if fusion._INFER["enabled"] and not is_grad_enabled() and isinstance(input, TensorBase):
            y = fusion.infer(self, input)   # inference programs (fusion.py)
            if y is not None:
                return y
        mods = tuple(self._modules.values())
        cached = self.__dict__.get("_fusion_plan")
        if cached is None or cached[0] != mods:
            cached = (mods, fusion.plan(mods))
            object.__setattr__(self, "_fusion_plan", cached)
        return fusion.run(cached[1], input)


class ModuleList(_ModuleSequence, Module):
    """A list of Modules whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return list(self._modules.values())[idx]

    def __setitem__(self, idx, module):
        self.add_module(list(self._modules)[idx], module)

    def __repr__(self):
        """PyTorch's: runs of modules with the same repr are shown once,
        as ``(0-2): 3 x Linear(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []                       # [first index, last index, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = []
        for a, b, r in runs:
            head = f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x "
            lines.append(_addindent(head + r, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of Modules whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        for k, m in (modules or {}).items():
            self.add_module(k, m)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def __delitem__(self, key):
        del self._modules[key]

    def __contains__(self, key):
        return key in self._modules

    def pop(self, key):
        m = self._modules[key]
        del self._modules[key]
        return m

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self.add_module(k, m)


class Identity(Module):
    """Returns its input unchanged."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


def _as_parameter(value):
    """PyTorch's rule: a plain Tensor put in a ParameterList / ParameterDict
    becomes a Parameter (other values are stored as they are)."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _param_line(p, legacy_type=False):
    if not isinstance(p, Tensor):
        return f"Object of type: {type(p).__name__}"
    size = "x".join(str(s) for s in p.shape)
    # ParameterList shows torch.float32, ParameterDict torch.FloatTensor, as PyTorch
    kind = p.type() if legacy_type else p.dtype
    return f"Parameter containing: [{kind} of size {size}]"


def _param_repr(name, items, legacy_type=False):
    """As PyTorch's: one entry stays on the name's line, more go below it."""
    lines = [f"  ({k}): {_param_line(p, legacy_type)}" for k, p in items]
    if len(lines) <= 1:
        return name + "(" + "".join(lines) + ")"
    return name + "(\n" + "\n".join("  " + ln for ln in lines) + "\n)"


def _set_param_entry(module, key, value):
    """A Parameter (or a plain Tensor made one) registered under ``key``;
    another object set as an attribute (as PyTorch does)."""
    value = _as_parameter(value)
    if isinstance(value, Parameter) or value is None:
        module.register_parameter(key, value)
    else:
        module.__dict__.setdefault("_others", {})[key] = value


class ParameterList(Module):
    """A list of Parameters registered under the keys "0", "1", ...; plain
    Tensors appended become Parameters.

    Examples
    --------
    >>> import fastnn
    >>> pl = fastnn.nn.ParameterList([fastnn.nn.Parameter(fastnn.zeros(2))])
    >>> list(pl.append(fastnn.ones(3)).state_dict())
    ['0', '1']
    """

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def _key(self, idx):
        idx = int(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range")
        return str(idx % len(self))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(len(self))[idx]])
        key = self._key(idx)
        if key in self._parameters:
            return self._parameters[key]
        return self.__dict__["_others"][key]

    def __setitem__(self, idx, param):
        _set_param_entry(self, self._key(idx), param)

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value):
        """Appends ``value`` (a Tensor becomes a Parameter); returns self."""
        object.__setattr__(self, "_size", self._size + 1)
        _set_param_entry(self, str(self._size - 1), value)
        return self

    def extend(self, values):
        """Appends each of ``values``; returns self."""
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            + type(values).__name__)
        for v in values:
            self.append(v)
        return self

    def __repr__(self):
        return _param_repr(self._get_name(), ((i, p) for i, p in enumerate(self)))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of Parameters registered under their (string) keys; plain
    Tensors become Parameters.  A plain dict given to the constructor or
    ``update`` is added in sorted key order (as PyTorch does).

    Examples
    --------
    >>> import fastnn
    >>> pd = fastnn.nn.ParameterDict({"w": fastnn.zeros(2)})
    >>> list(pd.state_dict())
    ['w']
    """

    def __init__(self, parameters=None):
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    def _key(self, key):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__}")
        return key

    def __getitem__(self, key):
        if key in self._parameters:
            return self._parameters[key]
        if key in self.__dict__.get("_others", {}):
            return self.__dict__["_others"][key]
        raise KeyError(key)

    def __setitem__(self, key, value):
        self._keys[self._key(key)] = None
        _set_param_entry(self, key, value)

    def __delitem__(self, key):
        self[key]                       # KeyError when missing
        del self._keys[key]
        self._parameters.pop(key, None)
        self.__dict__.get("_others", {}).pop(key, None)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def __reversed__(self):
        return reversed(list(self._keys))

    def keys(self):
        return self._keys.keys()

    def values(self):
        return (self[k] for k in self._keys)

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def pop(self, key):
        """Removes ``key`` and returns its value."""
        v = self[key]
        del self[key]
        return v

    def popitem(self):
        k = next(reversed(self))
        return k, self.pop(k)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for k in list(self._keys):
            del self[k]

    def copy(self):
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys, default=None):
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters):
        """Adds the (key, value) pairs of a mapping (a plain dict in sorted
        key order) or of an iterable of pairs."""
        if isinstance(parameters, (ParameterDict, OrderedDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, dict):
            pairs = sorted(parameters.items())
        elif hasattr(parameters, "__iter__") and not isinstance(parameters, (str, bytes)):
            pairs = []
            for j, p in enumerate(parameters):
                if not hasattr(p, "__len__") or len(p) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{j} should be "
                                     f"of length 2")
                pairs.append(tuple(p))
        else:
            raise TypeError("ParametersDict.update should be called with an iterable of "
                            "key/value pairs, but got " + type(parameters).__name__)
        for k, v in pairs:
            self[k] = v

    def __or__(self, other):
        out = self.copy()
        out.update(other)
        return out

    def __repr__(self):
        return _param_repr(self._get_name(), self.items(), legacy_type=True)

    def __call__(self, input):
        raise RuntimeError("ParameterDict should not be called.")
