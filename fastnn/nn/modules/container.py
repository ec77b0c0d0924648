"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``Identity``."""
from collections import OrderedDict

from .activation import ReLU
from .conv import Conv2d
from .module import Module, _addindent
from .normalization import _BatchNorm

# Module attributes that would hold hooks (none exist today); a module with
# any of them non-empty is never fused, so its hooks see every call.
_HOOK_ATTRS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
               "_backward_pre_hooks", "_full_backward_hooks")
_HOOK_SET = frozenset(_HOOK_ATTRS)


def _plain(m):
    """m runs its class's own forward through Module.__call__, with no hooks."""
    d = m.__dict__
    if "forward" in d or "__call__" in d or type(m).__call__ is not Module.__call__:
        return False
    # (hook attributes normally do not exist at all: a C-level disjointness
    # test first, the per-attribute look only when one is present)
    return _HOOK_SET.isdisjoint(d) or not any(d.get(a) for a in _HOOK_ATTRS)


def _fuse_bn_relu(a, b):
    """a is a batch norm and b an nn.ReLU that can run as one fused op."""
    return (isinstance(a, _BatchNorm) and type(b) is ReLU
            and type(a).forward is _BatchNorm.forward and _plain(a) and _plain(b))


def _fuse_conv_relu(a, b):
    """a is an nn.Conv2d and b an nn.ReLU that can run as one fused op."""
    return (isinstance(a, Conv2d) and type(b) is ReLU
            and type(a).forward is Conv2d.forward and type(a)._forward is Conv2d._forward
            and _plain(a) and _plain(b))


def _fused(a, b):
    """a followed by b runs as one fused op (a._forward(x, True))."""
    # (the cheap test first: most pairs of a model end here)
    return type(b) is ReLU and (_fuse_bn_relu(a, b) or _fuse_conv_relu(a, b))


class Sequential(Module):
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

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def forward(self, x):
        """Each module in turn.  A batch norm or an ``nn.Conv2d`` directly
        followed by ``nn.ReLU`` runs as one fused op
        (``fastnn.ops.normalization.batch_norm_relu``,
        ``fastnn.ops.conv.conv2d_relu``: same results, forward and gradients,
        one pass less over the data) unless either module has hooks or a
        replaced forward."""
        mods = tuple(self._modules.values())
        plan = self.__dict__.get("_fusion_plan")
        if plan is None or plan[0] != mods:
            plan = (mods, _plan(mods))
            object.__setattr__(self, "_fusion_plan", plan)
        for m, r, kind in plan[1]:
            if r is None:
                x = m(x)
            elif _fusable(m, r, kind):
                x = m._forward(x, True)
            else:
                x = r(m(x))
        return x


def _fusable(a, b, kind):
    """``_fused(a, b)`` for a pair the plan found (kind 0: a batch norm,
    1: an nn.Conv2d; b an nn.ReLU), in one call."""
    ta = type(a)
    if kind == 0:
        if ta.forward is not _BatchNorm.forward:
            return False
    elif ta.forward is not Conv2d.forward or ta._forward is not Conv2d._forward:
        return False
    da, db = a.__dict__, b.__dict__
    return (type(b) is ReLU and "forward" not in da and "__call__" not in da
            and "forward" not in db and "__call__" not in db
            and ta.__call__ is Module.__call__ and ReLU.__call__ is Module.__call__
            and (_HOOK_SET.isdisjoint(da) or not any(da.get(k) for k in _HOOK_ATTRS))
            and (_HOOK_SET.isdisjoint(db) or not any(db.get(k) for k in _HOOK_ATTRS)))


def _plan(mods):
    """The modules of a Sequential as (module, next_relu, kind) triples:
    next_relu is the nn.ReLU that directly follows a batch norm (kind 0) or
    an nn.Conv2d (kind 1), which may fuse with it (checked again, with hooks
    and replaced forwards, on every call: ``_fusable``), else None.  Depends
    only on the modules' identities (a tuple of them keys the cache)."""
    plan = []
    i, n = 0, len(mods)
    while i < n:
        m = mods[i]
        if i + 1 < n and type(mods[i + 1]) is ReLU:
            kind = 0 if isinstance(m, _BatchNorm) else 1 if isinstance(m, Conv2d) else -1
            if kind >= 0:
                plan.append((m, mods[i + 1], kind))
                i += 2
                continue
        plan.append((m, None, -1))
        i += 1
    return tuple(plan)


class ModuleList(Module):
    """A list of Modules whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return list(self._modules.values())[idx]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

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
