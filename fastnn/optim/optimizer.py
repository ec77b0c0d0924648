"""``Optimizer``: the base class of every fastnn optimiser (torch.optim's design).

An optimiser holds ``param_groups`` (a list of dicts: ``'params'`` plus that
group's hyper-parameters, filled from ``defaults``; ``'param_names'`` too when
it was given ``named_parameters()``) and ``state`` (a dict keyed by parameter
holding that parameter's buffers as torch.optim does: Tensors of the
parameter's dtype and shape, and ``'step'`` as a 0-d float32 Tensor).  The
buffer Tensors share their arrays with the compiled kernels, which update
them in place; ``step()`` updates every parameter that has a gradient with
one compiled call per group (one parallel region over all the group's
elements).

``state_dict()`` has torch's layout: ``{'state': {index: {...}},
'param_groups': [{..., 'params': [index, ...]}]}`` where the indices number
the parameters in group order.  The Tensors in it are copies (torch returns
references; a copy cannot be changed behind the caller's back by later
steps), so a checkpoint taken mid-run and loaded into a fresh optimiser
continues the run bit for bit.  ``load_state_dict`` takes Tensors, NumPy
arrays (fastnn's older checkpoints) and torch tensors.
"""
import functools
import warnings
from collections import OrderedDict, defaultdict

import numpy as np

from .. import _core, _defaults
from ..autograd import grad_mode
from .._tensor import Tensor
from ..ops._util import nthreads

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]

_GLOBAL_PRE = OrderedDict()     # hooks run around every optimiser's step
_GLOBAL_POST = OrderedDict()


def _handle(d, hook):
    from ..utils.hooks import RemovableHandle
    h = RemovableHandle(d)
    d[h.id] = hook
    return h


def register_optimizer_step_pre_hook(hook):
    """``hook(optimizer, args, kwargs)`` before every optimiser's step; it may
    return new ``(args, kwargs)``."""
    return _handle(_GLOBAL_PRE, hook)


def register_optimizer_step_post_hook(hook):
    """``hook(optimizer, args, kwargs)`` after every optimiser's step."""
    return _handle(_GLOBAL_POST, hook)


def _with_step_hooks(step):
    """``step`` running the global and the optimiser's step hooks around it
    (once per call: a subclass's step calling its base's runs them once)."""
    if getattr(step, "_step_hooked", False):
        return step

    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        # as PyTorch's, the hooks see args with the optimiser first
        self = args[0]
        if self.__dict__.get("_in_step"):
            return step(*args, **kwargs)
        pre = list(_GLOBAL_PRE.values()) + list(self.__dict__.get("_step_pre_hooks",
                                                                  {}).values())
        for hook in pre:
            r = hook(self, args, kwargs)
            if r is not None:
                if not (isinstance(r, tuple) and len(r) == 2):
                    raise RuntimeError(f"{hook} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {r}.")
                args, kwargs = r
        self.__dict__["_in_step"] = True
        try:
            out = step(*args, **kwargs)
        finally:
            self.__dict__["_in_step"] = False
        for hook in list(_GLOBAL_POST.values()) + list(self.__dict__.get("_step_post_hooks",
                                                                         {}).values()):
            hook(self, args, kwargs)
        return out

    wrapper._step_hooked = True
    return wrapper


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def check_hparam(ok, opt, message):
    """Raises ValueError(f"{opt}: {message}") unless ok."""
    if not ok:
        raise ValueError(f"{opt}: {message}")


def _number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def check_nonneg(opt, name, value, what=None):
    """ValueError naming the argument unless value is a number >= 0."""
    v = _number(value)
    check_hparam(v >= 0.0, opt, f"Invalid {what or name} value: {value!r} "
                                f"({name} must be >= 0)")


def _arr(a):
    """The ndarray behind a Tensor (an ndarray passes through)."""
    return a._array if isinstance(a, Tensor) else a


_wrap = _core.wrap


def scalar(v):
    """A 0-d Tensor holding v: torch's per-parameter scalars (``'step'``,
    NAdam's ``'mu_product'``, ASGD's ``'eta'`` and ``'mu'``), float32, or
    float64 when that is the default dtype (torch's ``_get_scalar_dtype``)."""
    return _wrap(np.array(v, dtype=_defaults.FLOAT))


def as_scalar(v):
    """A state scalar (a Python number, ndarray, Tensor or torch tensor) as a
    fresh 0-d Tensor (float32; float64 under a float64 default dtype)."""
    if isinstance(v, Tensor):
        v = v._array
    elif not isinstance(v, np.ndarray) and hasattr(v, "detach"):     # a torch tensor
        v = v.detach().cpu().numpy()
    return scalar(float(np.asarray(v)))


def bump_scalar(t, by=1.0):
    """Adds ``by`` to a 0-d state Tensor in place; returns the new value as a
    Python float (the value the tensor holds, e.g. float32's rounding)."""
    a = t._array
    a[()] = float(a) + by
    return float(a)


def state_array(st, key, like, fill=0.0):
    """The array of the state Tensor st[key], created like the parameter
    array ``like`` (filled with ``fill``) if missing; an ndarray or torch
    tensor put there by hand becomes a Tensor of the parameter's dtype."""
    b = st.get(key)
    if b is None:
        a = np.full(like.shape, fill, dtype=like.dtype)
    elif isinstance(b, Tensor):
        return b._array
    else:
        if not isinstance(b, np.ndarray) and hasattr(b, "detach"):
            b = b.detach().cpu().numpy()
        a = np.ascontiguousarray(b, dtype=like.dtype)
        if a.shape != like.shape and a.size == like.size:
            a = a.reshape(like.shape)
    st[key] = _wrap(a)
    return a


def compat_flags(foreach=None, maximize=False, capturable=False, differentiable=False,
                 fused=None, keys=("foreach", "maximize", "capturable", "differentiable",
                                   "fused")):
    """The implementation switches torch.optim takes (``foreach``,
    ``capturable``, ``differentiable``, ``fused``) as group defaults: accepted
    and stored like torch's (the update is always the one compiled in-place
    call); ``maximize`` is a real switch."""
    vals = dict(foreach=foreach, maximize=bool(maximize), capturable=bool(capturable),
                differentiable=bool(differentiable), fused=fused)
    return {k: vals[k] for k in keys}


def betas_tuple(betas):
    """betas as torch stores them in a group: a list or tuple becomes a tuple
    (anything else is kept for check_betas to refuse)."""
    return tuple(betas) if isinstance(betas, (list, tuple)) else betas


def check_betas(opt, betas):
    """ValueError unless betas is a pair of floats in [0, 1)."""
    try:
        b1, b2 = (float(b) for b in betas)
    except (TypeError, ValueError):
        raise ValueError(f"{opt}: betas must be a pair of floats, got {betas!r}") from None
    check_hparam(0.0 <= b1 < 1.0, opt, f"Invalid beta parameter at index 0: {b1} "
                                       "(betas[0] must be in [0, 1))")
    check_hparam(0.0 <= b2 < 1.0, opt, f"Invalid beta parameter at index 1: {b2} "
                                       "(betas[1] must be in [0, 1))")


def check_adam_family(opt, g):
    """The checks of the Adam-like rules' group: lr, eps, betas, weight_decay."""
    check_lr(opt, g["lr"])
    check_nonneg(opt, "eps", g["eps"], "epsilon")
    check_betas(opt, g["betas"])
    check_nonneg(opt, "weight_decay", g["weight_decay"])


def adam_kw(group):
    """The keyword arguments the Adam-like _core steps share, from a group."""
    beta1, beta2 = (float(b) for b in group["betas"])
    return dict(lr=float(group["lr"]), beta1=beta1, beta2=beta2, eps=float(group["eps"]),
                weight_decay=float(group["weight_decay"]),
                maximize=bool(group.get("maximize", False)))


def check_lr(opt, lr):
    v = _number(lr)
    check_hparam(v >= 0.0, opt, f"Invalid learning rate: {lr!r} (lr must be >= 0)")


class Optimizer:
    """Base class: parameter groups, state, ``zero_grad``, ``state_dict``.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        The parameters to optimise, or dicts each with a ``'params'`` entry
        and per-group hyper-parameters.
    defaults : dict
        Default hyper-parameters for groups that do not set them.

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.ones(3))
    >>> opt = fastnn.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.detach().numpy()
    array([0.8, 0.8, 0.8], dtype=float32)
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _with_step_hooks(cls.__dict__["step"])

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` before each ``step``; it may return
        new ``(args, kwargs)``.  Returns a handle whose ``remove()`` drops it."""
        return _handle(self.__dict__.setdefault("_step_pre_hooks", OrderedDict()), hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after each ``step``."""
        return _handle(self.__dict__.setdefault("_step_post_hooks", OrderedDict()), hook)

    def _add_hook(self, attr, hook, prepend):
        d = self.__dict__.setdefault(attr, OrderedDict())
        h = _handle(d, hook)
        if prepend:
            d.move_to_end(h.id, last=False)
        return h

    def _hooks(self, attr):
        return tuple(self.__dict__.get(attr, {}).values())

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` before ``state_dict()`` builds the dict."""
        return self._add_hook("_optimizer_state_dict_pre_hooks", hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` after ``state_dict()``; a dict it
        returns is returned instead."""
        return self._add_hook("_optimizer_state_dict_post_hooks", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` before ``load_state_dict`` (given a
        shallow copy); a dict it returns is loaded instead."""
        return self._add_hook("_optimizer_load_state_dict_pre_hooks", hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` after ``load_state_dict``."""
        return self._add_hook("_optimizer_load_state_dict_post_hooks", hook, prepend)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)
        self.param_groups = []
        name = type(self).__name__
        if isinstance(params, (Tensor, np.ndarray)):
            raise TypeError(f"{name}: params argument given to the optimizer should be an "
                            f"iterable of Tensors or dicts, but got {type(params).__name__}")
        if isinstance(params, dict):
            params = [params]
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(f"{name}: optimizer got an empty parameter list (params)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def _init_checked(self, params, hparams, flags, **after):
        """``__init__`` of the concrete optimizers: the defaults are
        ``hparams``, then torch's switches ``flags`` (a dict, in the order
        torch.optim stores them for that optimizer; normalised as
        compat_flags does), then ``after``; checked once by _validate_group
        before any group is added."""
        defaults = dict(hparams, **compat_flags(**flags, keys=tuple(flags)), **after)
        self._validate_group(defaults)
        Optimizer.__init__(self, params, defaults)

    # ------------------------------------------------------------- groups
    def _validate_group(self, group):
        """Hook: subclasses check a group's hyper-parameters (ValueError)."""

    def add_param_group(self, param_group):
        """Adds a group of parameters (a dict with ``'params'`` -- Tensors, or
        ``(name, Tensor)`` pairs as ``named_parameters()`` gives, whose names
        go to the group's ``'param_names'`` -- and optional hyper-parameters;
        the others come from ``defaults``)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: param_group must be a dict, got "
                            f"{type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: optimizer parameters need to be organized in ordered "
                            "collections, but the ordering of tensors in sets will change "
                            "between runs. Please use a list instead.")
        else:
            params = list(params) if params is not None else []
        # an empty group is allowed, as in PyTorch (a "no weight decay" group
        # of a model without biases); only an empty params argument is not
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(f"{name}: all optimizer params should be with/without names. "
                                 "Some param names are missing")
            params = [p[1] for p in params]
            group["param_names"] = names
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: optimizer can only optimize Tensors, but params[{i}] "
                                f"is a {type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (params[{i}])")
            if p._array.dtype.kind != "f":
                raise TypeError(f"{name}: params[{i}] has dtype {p._array.dtype}; only float32 "
                                "and float64 parameters can be optimized")
        if len({id(p) for p in params}) != len(params):
            # (torch warns; each listing of the parameter is updated in turn, as in torch)
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          UserWarning, stacklevel=3)
        group["params"] = params
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required "
                                 f"optimization parameter {k}")
            group.setdefault(k, v)
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                raise ValueError(f"{name}: all optimizer param groups should be with/without "
                                 "names. cannot add param group "
                                 f"{'with' if 'param_names' in group else 'without'} names to "
                                 "the optimizer")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self._validate_group(group)
        self.param_groups.append(group)

    # --------------------------------------------------------------- grads
    def zero_grad(self, set_to_none=True):
        """Resets the gradients of all parameters (to None by default, else to zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                p.__dict__.pop("_sparse_rows", None)    # (an Embedding(sparse=True)'s rows)
                ga = _arr(g)
                if set_to_none:
                    p.grad = None
                elif isinstance(ga, np.ndarray) and ga.flags.writeable:
                    ga.fill(0)
                else:
                    p.grad = np.zeros_like(p._array)

    def _params_with_grad(self, group):
        """The group's parameters that have a gradient, with their data and
        gradient arrays checked for the compiled update: (params, datas, grads)."""
        return _core.params_with_grad(group["params"], type(self).__name__)

    def _buffer(self, p, key, fill=0.0):
        """The array of state[p][key], created (filled with ``fill``) if
        missing; the state holds it as a Tensor sharing that array (an
        ndarray put there by hand is converted once)."""
        return state_array(self.state[p], key, p._array, fill)

    def _step_tensor(self, st):
        """st['step'] as a 0-d Tensor (see ``scalar``) (created at 0, or converted from
        a number put there by hand)."""
        s = st.get("step")
        if not isinstance(s, Tensor):
            s = st["step"] = scalar(0.0) if s is None else as_scalar(s)
        return s

    def _stepped_buckets(self, params, datas, grads, names):
        """Advances each parameter's ``'step'`` (creating ``'step'`` and the
        zero buffers ``names`` on its first step, in that order, as torch) and
        groups the parameters by step count, since the hyper-parameters of one
        compiled call are shared: ``{step: (datas, grads, [buffers of names[0]],
        ...)}``."""
        by_step = {}
        state = self.state
        sts = [state[p] for p in params]
        try:
            steps = [st["step"]._array for st in sts]
        except (KeyError, AttributeError):          # a first step, or state set by hand
            steps = []
            for p, st in zip(params, sts):
                if not isinstance(st.get("step"), Tensor):
                    self._step_tensor(st)
                    for k in names:
                        self._buffer(p, k)
                steps.append(st["step"]._array)
        for s, d, g, st in zip(steps, datas, grads, sts):
            t = float(s) + 1.0
            s[()] = t
            b = by_step.get(t)
            if b is None:
                b = by_step[t] = ([], [], [])
            b[0].append(d)
            b[1].append(g)
            b[2].append(st)
        # the buffers' arrays, a list per name (one pass per name is cheaper
        # than a loop over the names for each parameter)
        buckets = {}
        for t, (ds, gs, sts) in by_step.items():
            lists = [ds, gs]
            for k in names:
                try:
                    lists.append([st[k]._array for st in sts])
                except (KeyError, AttributeError):  # a buffer missing or set by hand
                    lists.append([state_array(st, k, d) for st, d in zip(sts, ds)])
            buckets[t] = tuple(lists)
        return buckets

    # ---------------------------------------------------------------- step
    def step(self, closure=None):
        """One update of every parameter with a gradient.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss (called with
            gradients enabled before the update).

        Returns
        -------
        The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        n_threads = nthreads()
        for group in self.param_groups:
            ps, ds, gs = self._params_with_grad(group)
            if ps:
                if self._has_duplicates(group):
                    self._update_rounds(group, ps, ds, gs, n_threads)
                else:
                    self._update(group, ps, ds, gs, n_threads)
                # changed in place: as PyTorch's, a backward that saved p now raises
                _core.bump_versions(ps)
        return loss

    def _has_duplicates(self, group):
        """Whether the group lists a parameter twice (cached per params list
        and length, so a step pays a dict lookup, not a set of ids)."""
        ps = group["params"]
        cache = self.__dict__.setdefault("_dups", {})
        c = cache.get(id(group))
        if c is None or c[0] is not ps or c[1] != len(ps):
            c = cache[id(group)] = (ps, len(ps), len({id(p) for p in ps}) != len(ps))
        return c[2]

    @staticmethod
    def _rounds(params, datas, grads):
        """(params, datas, grads) of the first listings of the parameters, then
        of the second ones, ..."""
        rounds, seen = [], {}
        for p, d, g in zip(params, datas, grads):
            k = seen.get(id(p), 0)
            seen[id(p)] = k + 1
            if k == len(rounds):
                rounds.append(([], [], []))
            for lst, v in zip(rounds[k], (p, d, g)):
                lst.append(v)
        return rounds

    def _update_rounds(self, group, params, datas, grads, n_threads):
        """A group listing a parameter more than once (torch warns, then
        updates it once per listing, in order): the k-th listings of the
        parameters are updated together, round after round, so no compiled
        call sees one array twice."""
        for ps, ds, gs in self._rounds(params, datas, grads):
            self._update(group, ps, ds, gs, n_threads)

    def _update(self, group, params, datas, grads, n_threads):
        raise NotImplementedError

    # ---------------------------------------------------------- state dict
    def state_dict(self):
        """The optimiser's state in torch.optim's layout (its Tensors by
        reference, as PyTorch's), through the state-dict hooks."""
        for hook in self._hooks("_optimizer_state_dict_pre_hooks"):
            hook(self)
        sd = self._state_dict()
        for hook in self._hooks("_optimizer_state_dict_post_hooks"):
            r = hook(self, sd)
            if r is not None:
                sd = r
        return sd

    def _state_dict(self):
        """torch.optim's layout: each parameter's state is the optimizer's own
        dict (its Tensors by reference, as PyTorch's: later steps show
        through), keyed by the parameter's index; the groups are new dicts."""
        index = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                if id(p) not in index:
                    index[id(p)] = len(index)
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p, st in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = st
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Loads a ``state_dict()`` (Tensors or arrays, copied and cast to each
        parameter's dtype; the step counts as 0-d float32 Tensors; the groups'
        hyper-parameters are taken from it), through the load hooks."""
        if isinstance(state_dict, dict):
            state_dict = state_dict.copy()      # shallow, as PyTorch's, for the hooks
        for hook in self._hooks("_optimizer_load_state_dict_pre_hooks"):
            r = hook(self, state_dict)
            if r is not None:
                state_dict = r
        self._load_state_dict(state_dict)
        for hook in self._hooks("_optimizer_load_state_dict_post_hooks"):
            hook(self)

    def _load_state_dict(self, state_dict):
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError(f"{name}: state_dict must be a dict with 'state' and "
                             "'param_groups'")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{name}: loaded state dict has a different number of parameter "
                             f"groups ({len(saved)}) than the optimizer ({len(self.param_groups)})")
        for g, s in zip(self.param_groups, saved):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"{name}: loaded state dict contains a parameter group that "
                                 f"doesn't match the size of optimizer's group "
                                 f"({len(s['params'])} vs {len(g['params'])})")
        id_map = {}
        for g, s in zip(self.param_groups, saved):
            for i, p in zip(s["params"], g["params"]):
                id_map[int(i)] = p
        new_state = defaultdict(dict)
        for k, st in state_dict.get("state", {}).items():
            p = id_map.get(int(k))
            if p is None:
                continue
            new_state[p] = {key: self._load_state_value(key, v, p) for key, v in st.items()}
        new_groups = []
        for g, s in zip(self.param_groups, saved):
            ng = {k: (tuple(v) if isinstance(v, list) and k == "betas" else v)
                  for k, v in s.items() if k != "params"}
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            new_groups.append(ng)
        self.state = new_state
        self.param_groups = new_groups

    def _load_state_value(self, key, value, p):
        """One entry of a loaded per-parameter state, converted for ``p``
        (a Tensor holding a copy cast to its dtype and shape; the scalars as
        0-d float32 Tensors)."""
        return _load_value(key, value, p, type(self).__name__)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, st):
        self.__dict__.update(st)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            if i:
                lines.append("")        # a blank line between groups, as PyTorch
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


Optimizer.step = _with_step_hooks(Optimizer.step)


_SCALARS = ("step", "mu_product", "eta", "mu")     # 0-d tensors in torch (``scalar``)


def _load_value(key, v, p, name):
    if key in _SCALARS:
        return as_scalar(v)
    if v is None or isinstance(v, (int, float, str, bool)):
        return v
    if isinstance(v, Tensor):
        v = v._array
    elif not isinstance(v, np.ndarray) and hasattr(v, "detach"):  # e.g. a torch checkpoint
        v = v.detach().cpu().numpy()
    v = np.asarray(v)
    d = p._array
    a = np.array(v, dtype=d.dtype if v.dtype.kind == "f" else None, copy=True, order="C")
    if a.ndim and a.size == d.size and a.shape != d.shape:
        a = a.reshape(d.shape)
    if a.ndim and a.shape != d.shape:
        raise ValueError(f"{name}: state {key!r} of shape {a.shape} does not match its "
                         f"parameter of shape {d.shape}")
    return _wrap(a)       # (a C-contiguous copy; 0-d stays 0-d)
