"""Recording one forward pass: every ``autograd.Function`` forward that runs,
with its arguments, its context and its outputs.

fastnn's ops are ``autograd.Function`` subclasses whose ``forward`` is a
Python function called by the compiled engine (``FunctionBase.apply``).  The
recorder installs a profile function (``sys.setprofile``, this thread only)
for the duration of one call of the model: on each ``call`` event of a
frame whose first argument is a ``Context`` (the ``ctx`` of a forward, after
``cls`` for class-method forwards) it keeps a copy of the frame's arguments,
and on the frame's ``return`` event the value it returns.  Nothing in the
engine or the ops changes, and nothing costs anything outside an export.

Arguments become :class:`Value` references in three ways, most reliable
first: the engine's own graph edge (``ctx._parents[i]``: the producing
context and output index of an input that requires grad); the identity of
the ndarray (an op's output array is the array behind its output Tensor);
else the argument is a constant, kept by value.  The exporter checks the
constants against a second recording (see ``_export``), so a value computed
from the input outside the recorded ops cannot be frozen silently.
"""
import os
import sys
import threading

import numpy as np

from .._core import Context

_FASTNN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_CO_VARARGS = 0x04
_CO_VARKEYWORDS = 0x08


class Value:
    """A tensor of the traced program: a graph input, a parameter or
    buffer, a constant, or output ``index`` of a recorded call."""

    __slots__ = ("kind", "name", "array", "call", "index", "shape", "dtype")

    def __init__(self, kind, array, name=None, call=None, index=0):
        self.kind = kind              # "input" | "param" | "const" | "node"
        self.array = array            # the traced value (for constants: the data)
        self.name = name              # graph name (inputs, parameters)
        self.call = call
        self.index = index
        self.shape = tuple(np.shape(array))
        self.dtype = np.asarray(array).dtype if not isinstance(array, np.ndarray) \
            else array.dtype

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"Value({self.kind}, {self.name or ''}, {self.shape}, {self.dtype})"


class Call:
    """One recorded ``Function.forward``: ``cls``, ``ctx``, the arguments in
    order (``pos``: the positional parameters, named by ``pos_names``, then
    the ``*args`` tuple, named ``var_name``, expanded), the keyword-only ones
    (``kw``), the returned value, the nesting depth and the enclosing call."""

    __slots__ = ("cls", "ctx", "pos", "pos_names", "var_name", "kw", "ret", "depth",
                 "parent", "outs", "code", "inlined", "site")

    def __init__(self, cls, ctx, got, depth, parent, code):
        self.cls, self.ctx = cls, ctx
        self.pos, self.pos_names, self.var_name, self.kw = got
        self.ret, self.depth, self.parent, self.code = None, depth, parent, code
        self.outs = None
        self.inlined = False
        self.site = None

    @property
    def name(self):
        return self.cls.__name__ if self.cls is not None else self.code.co_name

    def returned(self):
        """The returned arrays (a tuple; a single output as a 1-tuple)."""
        r = self.ret
        return tuple(r) if isinstance(r, (tuple, list)) else (r,)


def _arguments(frame):
    """(cls or None, ctx, positional values, positional names, *args name,
    {keyword-only name: value}) of a forward frame at its call event, or
    None when the frame is not a Function's forward."""
    co = frame.f_code
    n = co.co_argcount
    if n < 1:
        return None
    names = co.co_varnames
    loc = frame.f_locals
    first = loc.get(names[0])
    cls = None
    start = 1
    if not isinstance(first, Context):
        if n < 2 or not isinstance(first, type) or not isinstance(loc.get(names[1]), Context):
            return None
        cls, first, start = first, loc.get(names[1]), 2
    pos_names = list(names[start:n])
    pos = [loc[a] for a in pos_names]
    k = co.co_kwonlyargcount
    kw = {a: loc[a] for a in names[n:n + k]}
    extra = n + k
    var_name = None
    if co.co_flags & _CO_VARARGS:
        var_name = names[extra]
        pos.extend(loc.get(var_name, ()))
        extra += 1
    if co.co_flags & _CO_VARKEYWORDS:
        kw.update(loc.get(names[extra], {}))
    return cls, first, pos, pos_names, var_name, kw


def _pseudo(module, qualname):
    return type(qualname, (), {"__module__": module, "__qualname__": qualname, "raw": True})


# Tensor operations that are not autograd Functions (they have no gradient:
# comparisons, logic) but that a graph needs, recorded as calls of a
# stand-in class; found by their code's file and name
PSEUDO = {
    (_FASTNN_DIR + "_tensor.py", "_cmp"): _pseudo("fastnn._tensor", "Tensor._cmp"),
    (os.path.join(_FASTNN_DIR, "ops", "pointwise.py"), "op"):
        _pseudo("fastnn.ops.pointwise", "_logic.<locals>.op"),
}
_PSEUDO_QUALNAMES = {"Tensor._cmp", "_logic.<locals>.op", "_bitwise.<locals>.op"}


def _pseudo_class(co):
    """The stand-in class of a pseudo-op's code, or None."""
    cls = PSEUDO.get((co.co_filename, co.co_name))
    if cls is None:
        return None
    q = getattr(co, "co_qualname", None)          # Python 3.11+
    if q is not None:
        return cls if q in _PSEUDO_QUALNAMES else None
    return cls if co.co_name == "_cmp" or {"fn", "name"} <= set(co.co_freevars) else None


def _pseudo_arguments(frame):
    co = frame.f_code
    loc = frame.f_locals
    names = list(co.co_varnames[:co.co_argcount])
    free = {k: loc[k] for k in co.co_freevars if k in loc}
    return [loc[a] for a in names], names, None, free


def _site(frame):
    """'file:line (function)' of the nearest caller outside fastnn, for messages."""
    f = frame.f_back
    while f is not None and f.f_code.co_filename.startswith(_FASTNN_DIR):
        f = f.f_back
    if f is None:
        return None
    return f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno} ({f.f_code.co_name})"


class Recorder:
    """Context manager: records the Function forwards run in this thread."""

    def __init__(self):
        self.calls = []
        self._stack = []
        self._prev = None
        self._thread = None

    def _profile(self, frame, event, arg):
        if event == "call":
            co = frame.f_code
            if co.co_name == "forward":
                got = _arguments(frame)
                if got is None:
                    return
            else:
                cls = _pseudo_class(co)
                if cls is None:
                    return
                got = (cls, None) + _pseudo_arguments(frame)
            parent = self._stack[-1][1] if self._stack else None
            call = Call(got[0], got[1], got[2:], len(self._stack), parent, co)
            call.site = _site(frame)
            self.calls.append(call)
            self._stack.append((frame, call))
        elif event == "return" and self._stack and self._stack[-1][0] is frame:
            self._stack.pop()[1].ret = arg

    def __enter__(self):
        self._prev = sys.getprofile()
        self._thread = threading.get_ident()
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(self._prev)
        self._stack = []
        return False


def function_class(call, code_map):
    """The Function class of a recorded call: the engine's record when the
    node was recorded, else the ``cls`` argument, else the class whose
    forward has this code (None when ambiguous)."""
    fn = call.ctx._fn if call.ctx is not None else None
    if fn is not None:
        return fn
    if call.cls is not None:
        return call.cls
    owners = code_map.get(call.code)
    return owners[0] if owners and len(owners) == 1 else None


def forward_code_map():
    """{forward code object: [Function subclasses defining it]}."""
    from ..autograd.function import Function
    out = {}
    seen = set()
    todo = list(Function.__subclasses__())
    while todo:
        c = todo.pop()
        if c in seen:
            continue
        seen.add(c)
        todo.extend(c.__subclasses__())
        f = c.__dict__.get("forward")
        f = getattr(f, "__func__", f)
        code = getattr(f, "__code__", None)
        if code is not None:
            out.setdefault(code, []).append(c)
    return out
