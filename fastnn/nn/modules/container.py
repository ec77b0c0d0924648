"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``Identity``."""
from collections import OrderedDict

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
    _transient_attrs = ("_fusion_plan",)

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

    def forward(self, x):
        """Each module in turn, through the fusion pass of ``fastnn.nn.fusion``:
        an ``nn.Conv2d`` or batch norm directly followed by ``nn.ReLU`` runs as
        one fused op (bitwise the same results, one pass less over the data)
        unless either module has hooks or a replaced forward."""
        if not _FUSION:
            from .. import fusion
            _FUSION.append(fusion)
        fusion = _FUSION[0]
        mods = tuple(self._modules.values())
        cached = self.__dict__.get("_fusion_plan")
        if cached is None or cached[0] != mods:
            cached = (mods, fusion.plan(mods))
            object.__setattr__(self, "_fusion_plan", cached)
        return fusion.run(cached[1], x)


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

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

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


class Identity(Module):
    """Returns its input unchanged."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
