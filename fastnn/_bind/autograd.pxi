# The autograd engine, compiled: the bases that the Python classes subclass
# (as PyTorch's ``torch._C.TensorBase`` and ``_FunctionBase``), so every
# field the engine relies on is declared once, here, and typed.
#
#   TensorBase    ``fastnn.Tensor`` (fastnn/_tensor.py) subclasses it: the
#                 ndarray, the gradient, the graph link, the version counter.
#   Context       ``ctx``: what an op keeps from its forward for its backward;
#                 it is also the graph node of the op's outputs.
#   FunctionBase  ``fastnn.autograd.Function`` subclasses it: ``apply`` runs
#                 a forward and records the node.
#   run_backward  walks the graph once in reverse topological order.
#
# Grad mode lives in a C thread-local (one per Python thread, as PyTorch's).
# A readable pure-Python engine that computes the same gradients is kept only
# as a test oracle (fastnn/testing/oracle_engine.py); the tests compare them.
#
# Two calling conventions share the engine.  User Functions (``raw = False``,
# PyTorch's) see Tensors in forward (run with grad mode off) and in backward.
# Built-in ops set ``raw = True``: forward receives the ndarrays behind Tensor
# arguments and returns ndarrays; backward receives and returns ndarrays.
cimport cython
from cpython.ref cimport PyObject, Py_REFCNT
from cpython.tuple cimport PyTuple_GET_SIZE, PyTuple_GET_ITEM

cdef extern from *:
    """
    /* grad mode: one flag per thread (C11 thread-local storage) */
    static _Thread_local int fnn_grad_mode = 1;
    static int fnn_grad_get(void) { return fnn_grad_mode; }
    static void fnn_grad_set(int v) { fnn_grad_mode = v; }
    /* inside inference_mode(): the tensors made are inference tensors */
    /* how many saved_tensors_hooks pairs this thread has pushed */
    static _Thread_local int fnn_saved_hooks_n = 0;
    static int fnn_saved_hooks_get(void) { return fnn_saved_hooks_n; }
    static void fnn_saved_hooks_set(int v) { fnn_saved_hooks_n = v; }
    static _Thread_local int fnn_inference_mode = 0;
    static int fnn_inference_get(void) { return fnn_inference_mode; }
    static void fnn_inference_set(int v) { fnn_inference_mode = v; }
    /* Reference counts say who holds an object only on CPython with the GIL;
       on free-threaded builds and other interpreters the engine copies. */
    #if defined(Py_GIL_DISABLED) || defined(PYPY_VERSION)
    #define FNN_REFCOUNT_TRUSTED 0
    #else
    #define FNN_REFCOUNT_TRUSTED 1
    #endif
    """
    int fnn_grad_get()
    void fnn_grad_set(int v)
    int fnn_saved_hooks_get()
    void fnn_saved_hooks_set(int v)
    int fnn_inference_get()
    void fnn_inference_set(int v)
    int FNN_REFCOUNT_TRUSTED

cdef object _E_out_cls = None          # the Python Tensor class (see _out_cls)
cdef object _E_asarray = np.asarray
cdef object _E_zeros = np.zeros
cdef object _E_array = np.array
cdef object _E_add = np.add
cdef object _E_ndarray = np.ndarray
cdef str _E_FREED = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward.")


def is_grad_enabled():
    """True when operations are recorded for backward (in this thread)."""
    return fnn_grad_get() != 0


def set_grad_enabled_flag(bint enabled):
    """Sets this thread's grad mode; returns the previous one."""
    cdef int prev = fnn_grad_get()
    fnn_grad_set(1 if enabled else 0)
    return prev != 0


def is_inference_mode_enabled():
    """True inside ``inference_mode()`` (in this thread)."""
    return fnn_inference_get() != 0


def set_inference_flag(bint enabled):
    """Sets this thread's inference mode; returns the previous one."""
    cdef int prev = fnn_inference_get()
    fnn_inference_set(1 if enabled else 0)
    return prev != 0


def refcount_trusted():
    """Whether the engine may take over a gradient array by its reference
    count (CPython with the GIL) instead of copying it."""
    return FNN_REFCOUNT_TRUSTED != 0


@cython.final
@cython.auto_pickle(False)
cdef class _Version:
    """A tensor's version counter, shared by the views of one array: every
    in-place change bumps it, and a backward that needs a saved array
    checks that it did not move."""
    cdef public unsigned long long v


cdef inline _Version _vc(TensorBase t):
    if t._vc is None:
        t._vc = _Version.__new__(_Version)
    return t._vc


# ------------------------------------------------------------------ tensors
@cython.auto_pickle(False)
cdef class TensorBase:
    """The fields of ``fastnn.Tensor`` that the engine reads and writes.

    ``_array`` is the ndarray (library code reads it directly); ``.data`` and
    ``.grad`` are Tensors, as in PyTorch.  Every Tensor the engine creates is
    a ``fastnn._tensor.Tensor`` (looked up on first use, see _out_cls)."""

    cdef public object _array
    cdef public object _grad
    cdef public bint _requires_grad
    cdef public object _grad_fn
    cdef public Py_ssize_t _out_idx
    cdef public _Version _vc
    cdef public object _base
    cdef public list _hooks
    cdef public list _post_accumulate_grad_hooks
    cdef public bint _inference         # made inside inference_mode()
    # a view made under autograd: 1 + the version of its storage when its
    # node was last set (0: not such a view); an in-place change of the
    # storage since then makes _apply re-derive the node from the base
    cdef public unsigned long long _vsnap
    cdef public bint _nograd_view       # a view made with grad mode off
    cdef dict __dict__
    cdef object __weakref__

    # --- autograd state ---------------------------------------------------
    @property
    def requires_grad(self):
        if self._vsnap != 0 and self._vc is not None and self._vsnap != self._vc.v + 1 and fnn_grad_get():
            _refresh_view(self)                    # (a view: as its base is now)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(bool(value))

    def requires_grad_(self, requires_grad=True):
        """Sets whether autograd records operations on this (leaf) tensor."""
        cdef bint r = bool(requires_grad)
        if r and self._array.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients, "
                               f"got {_dtype_name(self._array.dtype)}")
        if not r and self._grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. "
                               "If you want to use a computed variable in a subgraph that "
                               "doesn't require differentiation use var_no_grad = var.detach().")
        self._requires_grad = r
        return self

    def is_inference(self):
        """Whether this tensor was made inside ``inference_mode()``."""
        return self._inference

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        if self._vsnap != 0 and self._vc is not None and self._vsnap != self._vc.v + 1 and fnn_grad_get():
            _refresh_view(self)                    # (a view: as its base is now)
        g = self._grad_fn
        if g is not None and type(g) is _E_pending:
            _named_node(g)
        return g

    @property
    def _version(self):
        return 0 if self._vc is None else self._vc.v

    @property
    def grad(self):
        """The accumulated gradient: a Tensor of this tensor's shape, or None.
        Read on a non-leaf that does not retain its gradient, it warns (as
        PyTorch does): backward never fills it."""
        if self._grad is None and self._grad_fn is not None:
            ret = (<Context>self._grad_fn)._retained
            if not ret or ret.get(self._out_idx) is not self:
                import warnings
                warnings.warn(
                    "The .grad attribute of a Tensor that is not a leaf Tensor is being "
                    "accessed. Its .grad attribute won't be populated during "
                    "autograd.backward(). If you indeed want the .grad field to be populated "
                    "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
                    "access the non-leaf Tensor by mistake, make sure you access the leaf "
                    "Tensor instead.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is None:
            self._grad = None
            return
        if isinstance(value, TensorBase):
            g = (<TensorBase>value)._array
            t = value
        else:
            g = _E_asarray(value)
            if g.dtype != self._array.dtype and g.dtype.kind in "fiub":
                g = g.astype(self._array.dtype)
            t = None
        if g.dtype != self._array.dtype:
            raise RuntimeError(f"assigned grad has data of a different type "
                               f"({_dtype_name(g.dtype)} vs {_dtype_name(self._array.dtype)})")
        if g.shape != self._array.shape:
            raise RuntimeError(f"assigned grad has data of a different size: "
                               f"{tuple(g.shape)} vs {tuple(self._array.shape)}")
        self._grad = t if t is not None else _e_wrap(g)

    @property
    def data(self):
        """The same array as a Tensor that records no graph (its in-place
        changes are invisible to autograd, as in PyTorch)."""
        return _e_wrap(self._array)

    @data.setter
    def data(self, value):
        if isinstance(value, TensorBase):
            self._array = (<TensorBase>value)._array
        else:
            self._array = _E_asarray(value)

    # --- array facts --------------------------------------------------------
    @property
    def shape(self):
        return Size(self._array.shape)

    @property
    def ndim(self):
        return self._array.ndim

    def dim(self):
        return self._array.ndim

    def numel(self):
        return self._array.size

    def nelement(self):
        return self._array.size

    def element_size(self):
        return self._array.itemsize


class Size(tuple):
    """A tensor's shape: a tuple of ints (``torch.Size``)."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"fastnn.Size({list(self)})"

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r


cdef str _dtype_name(dt):
    return "fastnn." + str(dt)


cdef object _E_refresh_view = None     # fastnn._tensor._refresh_view (see _apply)


cdef object _refresh_view(TensorBase t):
    """Re-derives view ``t``'s node from its base after an in-place change of
    their storage (PyTorch regenerates a view's grad_fn likewise)."""
    global _E_refresh_view
    if _E_refresh_view is None:
        from fastnn._tensor import _refresh_view as f
        _E_refresh_view = f
    t._vsnap = t._vc.v + 1                     # (first: the re-derivation uses t's base)
    _E_refresh_view(t)


cdef object _out_cls():
    """The Python Tensor class, imported once (fastnn.tensor imports _core,
    so the engine pulls the class in when it first makes a Tensor)."""
    global _E_out_cls
    from fastnn._tensor import Tensor
    _E_out_cls = Tensor
    return Tensor


cdef inline TensorBase _e_wrap(object arr):
    cdef object cls = _E_out_cls if _E_out_cls is not None else _out_cls()
    cdef TensorBase t = TensorBase.__new__(cls)
    t._array = arr if cnp.PyArray_CheckExact(arr) else _E_asarray(arr)
    if fnn_inference_get():
        t._inference = True
    return t


def wrap(arr):
    """A Tensor (no graph) holding ``arr`` without a copy (an ndarray, or
    anything ``numpy.asarray`` accepts)."""
    return _e_wrap(arr)


# ----------------------------------------------------------------- contexts
@cython.auto_pickle(False)
cdef class Context:
    """State an op keeps from its forward for its backward (``ctx``), and the
    graph node of the op's outputs.  Ops may set any attribute on it."""

    cdef public object needs_input_grad
    cdef public tuple _saved
    cdef public tuple _saved_versions
    cdef public bint _freed
    cdef public object _fn
    cdef public list _parents
    cdef public tuple _out_meta
    cdef public dict _hooks       # output index -> [hook(grad) ...]
    cdef public dict _retained    # output index -> the Tensor keeping its .grad
    cdef public tuple _args       # a linear op's forward arguments (see _apply)
    cdef public tuple _non_diff   # what mark_non_differentiable named (None: nothing)
    cdef public tuple _dirty      # what mark_dirty named (None: nothing)
    cdef public bint _no_materialize   # set_materialize_grads(False)
    cdef public str _name         # the node's name when the caller's API decides it
    cdef public list _pre_hooks   # register_prehook: hook(grad_outputs)
    cdef public list _post_hooks  # register_hook: hook(grad_inputs, grad_outputs)
    cdef public unsigned long long _tmask   # bit i: argument i was a floating Tensor (0: unknown)
    cdef public tuple _packed     # saved_tensors_hooks: (unpack, ((kind, packed) ...)); None: none
    cdef dict __dict__
    cdef object __weakref__

    def __cinit__(self):
        self.needs_input_grad = ()
        self._saved = ()
        self._parents = []
        self._out_meta = ()

    def save_for_backward(self, *tensors):
        """Keeps tensors (or arrays) for the backward."""
        self._saved = tensors

    @property
    def saved_tensors(self):
        """What ``save_for_backward`` kept.  Raises once the graph is freed,
        or when one of them was changed in place since it was saved."""
        if self._freed:
            raise RuntimeError(_E_FREED)
        if self._packed is not None:
            return _unpack_saved(self)
        if self._saved_versions is not None:
            _check_versions(self)
        return self._saved

    def mark_non_differentiable(self, *tensors):
        """Outputs of this forward that have no gradient (indices, masks): they
        come back not requiring grad, and backward receives zeros for them
        (None after ``set_materialize_grads(False)``), as in PyTorch."""
        self._non_diff = tensors

    def mark_dirty(self, *tensors):
        """Inputs this forward changed in place.  Each must be returned too:
        ``apply`` hands back that same Tensor, its version bumped and, when
        the graph is recorded, re-bound to this node, so later uses of it
        differentiate through this Function's backward (PyTorch's rule)."""
        self._dirty = tensors

    def set_materialize_grads(self, value):
        """With False, backward receives None instead of zeros for the
        outputs that no gradient reached (a backward can then skip work)."""
        self._no_materialize = not value

    def name(self):
        """The node's name, as PyTorch's ``grad_fn.name()``: a built-in op's
        PyTorch node name ('MulBackward0', 'MmBackward0', ...), a user
        Function's class name with 'Backward' ('MyFnBackward')."""
        return _node_name(self)

    def name_(self):
        return _node_name(self)

    def __repr__(self):
        return f"<{_node_name(self)} object at {id(self):#x}>"

    @property
    def next_functions(self):
        """One ``(node, output index)`` pair per input of the op, as
        PyTorch's: the producing node of a computed input, an
        ``AccumulateGrad`` node for a leaf that requires grad, ``(None, 0)``
        for an input that needs no gradient."""
        out = []
        cdef Py_ssize_t i
        # PyTorch's arithmetic takes a Python number as a (wrapped) Tensor
        # argument, with its (None, 0) edge; other ops have none for it
        cdef bint numbers = self._name is None and getattr(self._fn, "_number_edges", False)
        for i in range(len(self._parents)):
            p = self._parents[i]
            if (p is None and self._tmask and not numbers and i < 64
                    and not (self._tmask >> i) & 1):
                continue                           # (not a Tensor argument: no edge)
            if p is None:
                out.append((None, 0))
            elif (<TensorBase>p)._grad_fn is None:
                out.append((_accumulate_node(<TensorBase>p), 0))
            else:
                out.append((_named_node((<TensorBase>p)._grad_fn), (<TensorBase>p)._out_idx))
        # an op that fuses what PyTorch records as several nodes may show
        # PyTorch's edges (in its order, through its intermediate nodes)
        shown = getattr(self._fn, "_torch_edges", None) if self._name is None else None
        if shown is not None:
            return shown(self, tuple(out))
        return tuple(out)

    def register_hook(self, hook):
        """``hook(grad_inputs, grad_outputs)`` after this node's backward
        (tuples of Tensors or None, one per forward input / output); a
        returned tuple replaces ``grad_inputs``.  Returns a handle with
        ``remove()``, as PyTorch's."""
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return _NodeHookHandle(self._post_hooks, hook)

    def register_prehook(self, hook):
        """``hook(grad_outputs)`` before this node's backward; a returned
        tuple replaces ``grad_outputs``.  Returns a handle with ``remove()``."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(hook)
        return _NodeHookHandle(self._pre_hooks, hook)

    @property
    def metadata(self):
        """A dict for the user's own annotations of this node (PyTorch's)."""
        d = getattr(self, "__dict__")
        m = d.get("_metadata")
        if m is None:
            m = d["_metadata"] = {}
        return m


class _NodeHookHandle:
    """``remove()`` takes a node hook out again."""
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


cdef tuple _as_tensors(seq):
    return tuple([None if g is None else (g if isinstance(g, TensorBase) else _e_wrap(g))
                  for g in seq])


cdef list _hook_grads(object r, Py_ssize_t n, str what):
    """A node hook's replacement gradients, checked: a tuple or list of n."""
    if not isinstance(r, (tuple, list)) or len(r) != n:
        raise RuntimeError(f"hook '{what}' has returned an incorrect number of values "
                           f"(got {len(r) if isinstance(r, (tuple, list)) else 1}, "
                           f"but expected {n})")
    return [None if g is None else ((<TensorBase>g)._array if isinstance(g, TensorBase)
                                    else _E_asarray(g)) for g in r]


# fastnn's op classes whose PyTorch node is spelled otherwise than
# '<class name without Fn>Backward0'; an op class may instead define
# ``_torch_name(ctx)`` when the name depends on the call (indexing, losses)
_TORCH_NODE_NAMES = {
    "MatMulFn": "MmBackward0", "LinearFn": "AddmmBackward0", "ReshapeFn": "ViewBackward0",
    "CastFn": "ToCopyBackward0", "CrossEntropyFn": "NllLossBackward0",
    "GELUFn": "GeluBackward0", "LeakyReLUFn": "LeakyReluBackward0", "SiLUFn": "SiluBackward0",
    "ELUFn": "EluBackward0", "SELUFn": "EluBackward0", "CELUFn": "EluBackward0",
    "PReLUFn": "PreluKernelBackward0", "RReLUFn": "RreluWithNoiseBackward0",
    "NormFn": "LinalgVectorNormBackward0", "LogSumExpFn": "LogsumexpBackward0",
    "PadNdFn": "ConstantPadNdBackward0", "Log1pFn": "Log1PBackward0",
    "BceWithLogitsFn": "BinaryCrossEntropyWithLogitsBackward0",
    "BatchNormFn": "NativeBatchNormBackward0", "LayerNormFn": "NativeLayerNormBackward0",
    "GroupNormFn": "NativeGroupNormBackward0", "Conv1dFn": "ConvolutionBackward0",
    "Conv2dFn": "ConvolutionBackward0", "ConvTranspose1dFn": "ConvolutionBackward0",
    "ConvTranspose2dFn": "ConvolutionBackward0", "MaxPool2dFn": "MaxPool2DWithIndicesBackward0",
    "AvgPool2dFn": "AvgPool2DBackward0", "SquareFn": "PowBackward0",
    "EinsumFn": "ViewBackward0", "LogCumSumExpFn": "LogcumsumexpBackward0",
    "UnfoldDimFn": "UnfoldBackward0", "LogAddExpFn": "LogaddexpBackward0",
    "LogAddExp2Fn": "Logaddexp2Backward0",
}


def name_node(out, src, str name):
    """Names the node that made ``out`` from ``src`` after the API that was
    called (``x.t()`` is PyTorch's 'TBackward0' where fastnn permutes);
    ``out`` is returned.  Nothing happens when no graph was recorded or when
    ``out`` is ``src`` itself."""
    if out is not src and isinstance(out, TensorBase):
        g = (<TensorBase>out)._grad_fn
        if g is not None and (src is None or g is not (<TensorBase>src)._grad_fn):
            (<Context>g)._name = name
    return out
_node_names = {}


# ``type(y.grad_fn).__name__`` is the node name, as in PyTorch: each name has
# its own (empty) subclass of Context, made on first use.  A node is made as
# a ``_PendingNode`` (the name of some ops depends on what their forward saw)
# and takes its named class only when Python code reaches it (``.grad_fn``,
# ``next_functions``), so the per-op cost is nothing beyond allocating a
# heap-type instance.
class _PendingNode(Context):
    __slots__ = ()


_PendingNode.__name__ = _PendingNode.__qualname__ = "Context"
cdef object _E_pending = _PendingNode
cdef dict _node_types = {}


cdef object _named_node(object node):
    """``node``, its class switched from the pending one to its name's."""
    if type(node) is _E_pending:
        name = _node_name(<Context>node)
        cls = _node_types.get(name)
        if cls is None:
            cls = type(name, (Context,), {"__slots__": (), "__module__": "builtins"})
            _node_types[name] = cls
        node.__class__ = cls
    return node


class AccumulateGrad:
    """The node that accumulates a leaf's gradient into its ``.grad``, as
    PyTorch's (it appears in ``next_functions``); ``variable`` is the leaf."""
    __slots__ = ("variable", "__weakref__")

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


cdef object _accumulate_node(TensorBase leaf):
    """The leaf's AccumulateGrad node (the same object while the leaf lives)."""
    d = getattr(leaf, "__dict__")
    node = d.get("_acc_node")
    if node is None:
        node = AccumulateGrad(leaf)
        d["_acc_node"] = node
    return node


cdef str _node_name(Context ctx):
    if ctx._name is not None:
        return ctx._name
    cls = ctx._fn
    if cls is None:
        return "Function"
    custom = getattr(cls, "_torch_name", None)
    if custom is not None:
        return custom(ctx)
    name = _node_names.get(cls)
    if name is None:
        base = cls.__name__
        if not (cls.__module__ or "").startswith("fastnn."):
            name = base + "Backward"               # a user Function, as PyTorch
        else:
            name = _TORCH_NODE_NAMES.get(base)
            if name is None:
                stem = base.lstrip("_")
                name = (stem[:-2] if stem.endswith("Fn") else stem) + "Backward0"
        _node_names[cls] = name
    return name


cdef int _check_versions(Context ctx) except -1:
    cdef _Version vc
    for item in ctx._saved_versions:
        vc = <_Version>item[0]
        if vc.v != <unsigned long long>item[1]:
            shape = tuple(item[2])
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: [Tensor {list(shape)}], which is input or output "
                f"of {_node_name(ctx)}, is at version {vc.v}; expected version {item[1]} instead. "
                "Hint: the operation that failed was simply the first one to use the "
                "modified tensor; replace the in-place operation (x.add_(...), x += ..., "
                "inplace=True) with its out-of-place form.")
    return 0


cdef void _record_versions(Context ctx, tuple args, list fargs, list outs, bint raw):
    """Remembers the version of every saved tensor (an input or an output),
    so an in-place change before the backward is an error, not a wrong
    gradient."""
    cdef list rec = []
    cdef Py_ssize_t i
    for s in ctx._saved:
        if isinstance(s, TensorBase):
            rec.append((_vc(<TensorBase>s), (<TensorBase>s)._vc.v, (<TensorBase>s)._array.shape))
            continue
        if not raw or not isinstance(s, _E_ndarray):
            continue
        for i in range(len(fargs)):
            if fargs[i] is s and isinstance(args[i], TensorBase):
                a = <TensorBase>args[i]
                rec.append((_vc(a), a._vc.v, s.shape))
                break
        else:
            for o in outs:
                if o is not None and (<TensorBase>o)._array is s:
                    rec.append((_vc(<TensorBase>o), 0, s.shape))
                    break
    ctx._saved_versions = tuple(rec) if rec else None


# ------------------------------------------------------ saved tensor hooks
# ``torch.autograd.graph.saved_tensors_hooks``: while a (pack, unpack) pair is
# on this thread's stack, every tensor a recorded op saves for its backward
# goes through pack (once per saved tensor, when the op is recorded), and the
# backward receives unpack(packed) in its place.  This one spot covers every
# op, built-in or user-defined; with no hooks ``_apply`` reads one C
# thread-local int.  As in PyTorch, the stack is per thread, and the version
# check is left to the hooks (what unpack returns is what the backward uses).
import threading as _threading
cdef object _E_hooks_tls = _threading.local()


cdef list _hooks_stack():
    st = getattr(_E_hooks_tls, "stack", None)
    if st is None:
        st = _E_hooks_tls.stack = []
    return <list>st


def saved_hooks_push(pack_hook, unpack_hook):
    cdef list st = _hooks_stack()
    st.append((pack_hook, unpack_hook))
    fnn_saved_hooks_set(len(st))


def saved_hooks_pop():
    cdef list st = _hooks_stack()
    if st:
        st.pop()
    fnn_saved_hooks_set(len(st))


def saved_hooks_top():
    """This thread's innermost (pack, unpack) pair, or None."""
    cdef list st = _hooks_stack()
    return st[len(st) - 1] if st else None


cdef object _saved_as_tensor(object s, tuple args, list fargs, tuple outs_in, list outs):
    """The Tensor a raw op's saved ndarray stands for: the argument or output
    whose array it is, else a new Tensor over it (an intermediate)."""
    cdef Py_ssize_t i
    for i in range(len(fargs)):
        if fargs[i] is s and isinstance(args[i], TensorBase):
            return args[i]
    for i in range(len(outs)):
        o = outs[i]
        if isinstance(o, TensorBase) and ((<TensorBase>o)._array is s or outs_in[i] is s):
            return o
    return _e_wrap(s)


cdef int _pack_saved(Context ctx, tuple args, list fargs, tuple outs_in, list outs,
                     bint raw) except -1:
    cdef list st = _hooks_stack()
    pack, unpack = st[len(st) - 1]
    cdef list packed = []
    cdef int mode = fnn_grad_get()
    fnn_grad_set(0)                                # (PyTorch packs with grad mode off)
    try:
        _pack_each(ctx, pack, packed, args, fargs, outs_in, outs, raw)
    finally:
        fnn_grad_set(mode)
    ctx._packed = (unpack, tuple(packed))
    ctx._saved = ()                                # (only the packed values stay alive)
    return 0


cdef int _pack_each(Context ctx, object pack, list packed, tuple args, list fargs,
                    tuple outs_in, list outs, bint raw) except -1:
    cdef Py_ssize_t i
    for s in ctx._saved:
        if isinstance(s, TensorBase):
            t = s
            for i in range(len(outs_in)):
                if outs_in[i] is s and isinstance(outs[i], TensorBase):
                    t = outs[i]                    # the output the caller holds
                    break
            packed.append((0, pack(t)))
        elif raw and isinstance(s, _E_ndarray):
            packed.append((1, pack(_saved_as_tensor(s, args, fargs, outs_in, outs))))
        else:
            packed.append((2, s))                  # a shape, a number, None: kept as is
    return 0


cdef tuple _unpack_saved(Context ctx):
    unpack = ctx._packed[0]
    cdef list out = []
    for kind, p in ctx._packed[1]:
        if kind == 2:
            out.append(p)
            continue
        r = unpack(p)
        if not isinstance(r, TensorBase):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but "
                            f"got result of type {type(r).__name__}")
        out.append((<TensorBase>r)._array if kind == 1 else r)
    return tuple(out)


# ---------------------------------------------------------------- functions
@cython.auto_pickle(False)
cdef class FunctionBase:
    """The engine's half of ``fastnn.autograd.Function``: ``apply``."""

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs ``cls.forward`` and records the graph node when any Tensor
        argument requires grad and grad mode is on."""
        return _apply(cls, args, kwargs)


cdef object _apply(object cls, tuple args, dict kwargs):
    cdef bint record = fnn_grad_get() != 0
    cdef Py_ssize_t n = PyTuple_GET_SIZE(args), i
    cdef bint any_grad = False
    cdef unsigned long long tmask = 0
    cdef bint raw = cls.raw
    cdef list needs = [False] * n
    cdef list fargs = list(args)
    cdef Context ctx
    for i in range(n):
        a = args[i]
        if isinstance(a, TensorBase):
            if (record and (<TensorBase>a)._vsnap != 0 and (<TensorBase>a)._vc is not None
                    and (<TensorBase>a)._vsnap != (<TensorBase>a)._vc.v + 1):
                _refresh_view(<TensorBase>a)       # its storage changed in place since
            arr = (<TensorBase>a)._array
            if i < 64 and (not cnp.PyArray_Check(arr) or cnp.PyArray_ISFLOAT(<cnp.ndarray>arr)
                           or cnp.PyArray_ISCOMPLEX(<cnp.ndarray>arr)):
                # (an integer or bool Tensor, an index or mask, is no edge)
                tmask |= (<unsigned long long>1) << i
            if raw:
                fargs[i] = (<TensorBase>a)._array
            if record and (<TensorBase>a)._requires_grad:
                needs[i] = True
                any_grad = True
    ctx = Context.__new__(_E_pending if any_grad else Context)
    if raw:
        ctx.needs_input_grad = needs
        out = cls.forward(ctx, *fargs, **kwargs)
    else:
        ctx.needs_input_grad = tuple(needs)
        fnn_grad_set(0)
        try:
            out = cls.forward(ctx, *args, **kwargs)
        finally:
            fnn_grad_set(1 if record else 0)
    cdef bint single = type(out) is not tuple
    cdef tuple outs_in = (out,) if single else <tuple>out
    cdef list outs = []
    cdef list meta = []
    cdef TensorBase t
    cdef TensorBase src = None
    cdef tuple dirty = ctx._dirty
    cdef tuple nondiff = ctx._non_diff
    if cls._view and n and isinstance(args[0], TensorBase):
        src = <TensorBase>args[0]
    for o in outs_in:
        if o is None:
            outs.append(None)
            meta.append(None)
            continue
        if not raw and not isinstance(o, TensorBase):
            # a user forward's other outputs (ints, strings, arrays) come back
            # as they are and have no gradient: backward receives None for them
            outs.append(o)
            meta.append(None)
            continue
        if dirty is not None and _holds(dirty, o):
            t = <TensorBase>o                      # changed in place: the Tensor itself
        else:
            t = _e_wrap((<TensorBase>o)._array if isinstance(o, TensorBase) else o)
            if src is not None and t._array.base is not None:
                t._vc = _vc(src)                   # a view shares its base's counter
                t._base = src if src._base is None else src._base
                if record:
                    t._vsnap = t._vc.v + 1         # a differentiable view (see _apply)
                else:
                    t._nograd_view = True          # (Tensor._inplace refuses it under grad)
                if src._inference:
                    t._inference = True            # a view of an inference tensor is one
        outs.append(t)
        meta.append((t._array.shape, t._array.dtype))
    if dirty is not None:
        _dirty_outputs(dirty, args, outs_in, outs, any_grad)
    if any_grad:
        ctx._fn = cls
        ctx._tmask = tmask
        ctx._parents = _edges(args, needs, n)
        if cls._keep_args:
            # a linear op's other arguments, for its differentiable backward
            # (fastnn/autograd/_higher.py): the inputs needing grad left out
            ctx._args = tuple([None if needs[i] else fargs[i] for i in range(n)])
        ctx._out_meta = tuple(meta)
        for i in range(len(outs)):
            o = outs[i]
            if not isinstance(o, TensorBase):
                continue
            if nondiff is not None and _holds(nondiff, outs_in[i]):
                continue                           # stays outside the graph
            t = <TensorBase>o
            if dirty is not None and t is outs_in[i]:      # an input changed in place
                _rebind_dirty(ctx, t, i)
            elif t._array.dtype.kind == "f":
                t._requires_grad = True
                t._grad_fn = ctx
                t._out_idx = i
        if ctx._saved:
            if fnn_saved_hooks_get():              # (one thread-local read)
                _pack_saved(ctx, args, fargs, outs_in, outs, raw)
            else:
                _record_versions(ctx, args, fargs, outs, raw)
    if single:
        return outs[0]
    return tuple(outs)


cdef inline bint _holds(tuple items, object o):
    """Whether ``o`` itself (not an equal value) is one of ``items``."""
    for x in items:
        if x is o:
            return True
    return False


cdef _dirty_outputs(tuple dirty, tuple args, tuple outs_in, list outs, bint any_grad):
    """Checks what ``mark_dirty`` named and bumps the version of each (PyTorch
    counts the Function's in-place change once more on top of the forward's
    own ops, so a backward that saved the old value raises).  Without a
    graph, a dirty Tensor that requires grad comes back as a detached alias
    (grad mode is off: the result must not require grad), as in PyTorch."""
    cdef TensorBase d, a
    cdef _Version vc
    cdef Py_ssize_t j
    for x in dirty:
        if not _holds(outs_in, x):
            raise RuntimeError("Some elements marked as dirty during the forward method were "
                               "not returned as output. The inputs that are modified inplace "
                               "must all be outputs of the Function.")
        if not _holds(args, x):
            import warnings
            warnings.warn("ctx.mark_dirty() received a tensor that was not an input: only "
                          "the inputs that forward changed in place belong there",
                          UserWarning)     # (apply adds no frame: the caller's line)
        if not isinstance(x, TensorBase):
            continue
        d = <TensorBase>x
        vc = _vc(d)
        vc.v += 1
        if not any_grad and d._requires_grad:
            a = _e_wrap(d._array)
            a._vc = d._vc
            a._base = d._base
            for j in range(len(outs)):
                if outs[j] is d:
                    outs[j] = a


cdef _rebind_dirty(Context ctx, TensorBase t, Py_ssize_t i):
    """Makes input ``t``, changed in place by the forward, output ``i`` of
    ``ctx`` (its edge in ``ctx._parents`` already points at what it was
    before).  A leaf that requires grad cannot take a node (its ``.grad``
    would describe a value that no longer exists): PyTorch's error.  A view
    is re-bound the way fastnn's own in-place ops re-bind one
    (``Tensor._inplace_view``): its base records the new values as an index
    assignment, so the base's later uses see this node too."""
    if t._requires_grad and t._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                           "operation.")
    if t._array.dtype.kind != "f":
        return                                     # (integer outputs have no gradient)
    if t._base is None:
        t._requires_grad = True
        t._grad_fn = ctx
        t._out_idx = i
        return
    cdef TensorBase new = _e_wrap(t._array)
    new._vc = t._vc
    new._requires_grad = True
    new._grad_fn = ctx
    new._out_idx = i
    t._inplace_view(lambda cur: new, False)


cdef list _edges(tuple args, list needs, Py_ssize_t n):
    """The node's parents: each input that requires grad, as it is now.  A
    leaf is kept itself; a computed tensor as a snapshot of its link (same
    array, node and output index), so an in-place op that later re-binds the
    tensor to a new node does not re-route this node's gradient (PyTorch's
    edges likewise point at the node, not at the tensor)."""
    cdef list parents = [None] * n
    cdef Py_ssize_t i
    cdef TensorBase a, s
    for i in range(n):
        if needs[i]:
            a = <TensorBase>args[i]
            if a._grad_fn is None:
                parents[i] = a
            else:
                s = TensorBase.__new__(type(a))
                s._array = a._array
                s._grad_fn = a._grad_fn
                s._out_idx = a._out_idx
                s._requires_grad = True
                s._vc = a._vc
                parents[i] = s
    return parents


# ------------------------------------------------------------------ backward
cdef list _e_toposort(list roots, dict leaf_uses=None):
    """Nodes reachable from the roots, parents before children (post-order).
    With ``leaf_uses``, also counts the edges into each leaf that has hooks:
    ``{id(leaf): [leaf, None, edges]}``."""
    cdef list order = []
    cdef set seen = set()
    cdef list stack
    cdef list idx
    cdef Py_ssize_t i, n, top
    cdef bint pushed
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [root]
        idx = [0]
        while stack:
            top = len(stack) - 1
            node = stack[top]
            i = idx[top]
            parents = (<Context>node)._parents
            n = len(parents)
            pushed = False
            while i < n:
                p = parents[i]
                i += 1
                if p is not None:
                    g = (<TensorBase>p)._grad_fn
                    if (g is None and leaf_uses is not None and
                            ((<TensorBase>p)._hooks or
                             (<TensorBase>p)._post_accumulate_grad_hooks)):
                        u = leaf_uses.get(id(p))
                        if u is None:
                            leaf_uses[id(p)] = [p, None, 1]
                        else:
                            (<list>u)[2] += 1
                    if g is not None and g not in seen:
                        seen.add(g)
                        idx[top] = i
                        stack.append(g)
                        idx.append(0)
                        pushed = True
                        break
            if not pushed:
                stack.pop()
                idx.pop()
                order.append(node)
    return order


# Taking over a gradient without a copy.  The first gradient that reaches a
# leaf becomes its ``.grad`` without a copy when nobody else can hold it: a
# built-in (raw) op's backward returned it, it is an exact ndarray that owns
# its data (or fully views an otherwise unreferenced array), C-contiguous and
# writeable, and its reference count shows that only the engine holds it.  An
# op that hands one array to several inputs, keeps it in a cache or in ctx, or
# returns a saved array fails that test and gets a copy.  Gradients meeting at
# a node are summed in place under the same test.  PyTorch's gradient
# accumulation makes the same decision from its use count.  Where reference
# counts cannot be trusted (FNN_REFCOUNT_TRUSTED == 0) the engine always
# copies.  This is the only place that reads reference counts
# (tests/autograd/test_engine.py::test_steal_*).
cdef bint _e_owned(object g, Py_ssize_t refs):
    """True when ndarray g is held by exactly ``refs`` references, owns its
    memory (or fully views an array nobody else holds), and is C-contiguous
    and writeable: the engine may then keep it as a gradient without a copy."""
    if not FNN_REFCOUNT_TRUSTED:
        return False
    if Py_REFCNT(g) != refs or not cnp.PyArray_CheckExact(g):
        return False
    cdef cnp.ndarray a = <cnp.ndarray>g
    if not (cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_ISWRITEABLE(a)):
        return False
    cdef PyObject* base = cnp.PyArray_BASE(a)
    if base == NULL:
        return cnp.PyArray_CHKFLAGS(a, cnp.NPY_ARRAY_OWNDATA)
    b = <object>base
    # b: one reference from g's base slot, one from this local
    if Py_REFCNT(b) != 2 or not cnp.PyArray_CheckExact(b):
        return False
    cdef cnp.ndarray ba = <cnp.ndarray>b
    return (cnp.PyArray_BASE(ba) == NULL and cnp.PyArray_CHKFLAGS(ba, cnp.NPY_ARRAY_OWNDATA)
            and cnp.PyArray_SIZE(ba) == cnp.PyArray_SIZE(a) and cnp.PyArray_ISWRITEABLE(ba))


cdef inline object _e_writeable(object g):
    if g is None or not cnp.PyArray_Check(g) or cnp.PyArray_ISWRITEABLE(<cnp.ndarray>g):
        return g
    return g.copy()


cdef object _run_hooks(list hooks, object g):
    """Tensor hooks: each sees the gradient as a Tensor and may return a
    replacement; returns the (possibly new) ndarray."""
    g = _e_writeable(g)      # a hook may write into it (a root's gradient is read-only)
    for hook in tuple(hooks):
        # (None: an output no gradient reached, under set_materialize_grads(False))
        r = hook(None if g is None else _e_wrap(g))
        if r is not None:
            g = (<TensorBase>r)._array if isinstance(r, TensorBase) else _E_asarray(r)
    return g


cdef _e_accumulate(TensorBase t, object g, bint steal):
    data = t._array
    if g.shape != data.shape:
        raise RuntimeError(f"backward: gradient of shape {g.shape} does not match "
                           f"the tensor's shape {data.shape}")
    if t._hooks:
        g2 = _run_hooks(t._hooks, g)
        if g2 is not g:
            g = g2
            steal = False
    cur = t._grad
    if cur is None:
        t._grad = _e_wrap(g if steal else _E_array(g, dtype=data.dtype, copy=True))
    else:
        arr = (<TensorBase>cur)._array
        if (cnp.PyArray_CheckExact(arr) and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>arr)
                and arr.shape == g.shape):
            _E_add(arr, g, out=arr, casting="unsafe")
        else:
            t._grad = _e_wrap(_E_array(arr + g, dtype=data.dtype))
    hooks = t._post_accumulate_grad_hooks
    if hooks:
        for hook in tuple(hooks):
            hook(t)


cdef class _Capture:
    """autograd.grad: the gradients flowing into chosen tensors, summed,
    instead of accumulating into leaves' ``.grad``."""
    cdef dict leaf        # id(tensor) -> slot
    cdef dict inner       # (node, output index) -> slot
    cdef list grads


cdef void _capture_add(_Capture cap, Py_ssize_t k, object g):
    cur = cap.grads[k]
    cap.grads[k] = g if cur is None else cur + g


def run_backward(roots, grads, bint retain_graph=False, inputs=None):
    """Backpropagates ``grads`` (ndarrays of the roots' shapes) from ``roots``
    (Tensors).  With ``inputs`` (Tensors), returns the gradients reaching
    them, as ``autograd.grad`` does, and leaves every ``.grad`` untouched;
    without, accumulates into the ``.grad`` of the leaves."""
    cdef list root_list = list(roots)
    cdef list grad_list = list(grads)
    cdef _Capture cap = None
    cdef Py_ssize_t k
    cdef TensorBase rt
    if inputs is not None:
        cap = _Capture.__new__(_Capture)
        cap.leaf = {}
        cap.inner = {}
        cap.grads = [None] * len(inputs)
        for k in range(len(inputs)):
            rt = <TensorBase>inputs[k]
            if rt._grad_fn is None:
                cap.leaf[id(rt)] = k
            else:
                cap.inner[(rt._grad_fn, rt._out_idx)] = k
    cdef dict pending = {}
    cdef list nodes = []
    cdef list slots
    for k in range(len(root_list)):
        rt = <TensorBase>root_list[k]
        g = grad_list[k]
        if rt._grad_fn is None:
            if cap is None:
                _e_accumulate(rt, g, False)
            elif id(rt) in cap.leaf:
                _capture_add(cap, cap.leaf[id(rt)], g)
            continue
        node = rt._grad_fn
        slots = pending.get(node)
        if slots is None:
            slots = [None] * len((<Context>node)._out_meta)
            pending[node] = slots
            nodes.append(node)
        cur = slots[rt._out_idx]
        slots[rt._out_idx] = g if cur is None else cur + g
    root_list = grad_list = None
    if not nodes:
        return None if cap is None else cap.grads
    cdef dict leaf_uses = {} if cap is None else None
    cdef list order = _e_toposort(nodes, leaf_uses)
    cdef set capture_only = None
    if cap is not None:
        order, capture_only = _e_needed(order, cap)
    if leaf_uses:
        pending[None] = leaf_uses
    cdef int prev = fnn_grad_get()
    fnn_grad_set(0)
    try:
        for k in range(len(order) - 1, -1, -1):
            _e_node(<Context>order[k], pending, retain_graph, cap,
                    capture_only is not None and order[k] in capture_only)
        leaves = pending.pop(None, None)
        if leaves is not None:
            for item in (<dict>leaves).values():      # (edges no gradient came along)
                if (<list>item)[1] is not None:
                    _e_accumulate(<TensorBase>(<list>item)[0], (<list>item)[1], False)
        if cap is not None:
            # a captured leaf's hooks see (and may replace) its summed gradient
            for k in range(len(inputs)):
                rt = <TensorBase>inputs[k]
                if rt._grad_fn is None and rt._hooks and cap.grads[k] is not None:
                    cap.grads[k] = _run_hooks(rt._hooks, cap.grads[k])
    finally:
        fnn_grad_set(prev)
    return None if cap is None else cap.grads


cdef tuple _e_needed(list order, _Capture cap):
    """For ``autograd.grad``: the nodes of ``order`` (parents first) to
    visit, and which of them only deliver a captured gradient.  As in
    PyTorch, only the nodes on a path to an input run (and are freed); the
    graph below the inputs is left untouched, so it can be backpropagated
    later (first-order MAML's inner steps, then the meta-loss)."""
    cdef set needed = set()
    cdef set captured = {key[0] for key in cap.inner}
    cdef list keep = []
    for node in order:
        for p in (<Context>node)._parents:
            if p is None:
                continue
            g = (<TensorBase>p)._grad_fn
            if g is None:
                if id(p) in cap.leaf:
                    needed.add(node)
                    break
            elif g in needed or (g, (<TensorBase>p)._out_idx) in cap.inner:
                needed.add(node)
                break
        if node in needed or node in captured:
            keep.append(node)
    return keep, captured - needed


cdef _e_node(Context node, dict pending, bint retain_graph, _Capture cap,
             bint capture_only=False):
    """Calls one node's backward with the summed gradients of its outputs
    and sends the results on to its parents (with ``capture_only``, only
    hands the gradients of its outputs to ``autograd.grad``)."""
    cdef list gouts = pending.pop(node, None)
    if gouts is None:
        return
    if node._freed and not capture_only:
        raise RuntimeError(_E_FREED)
    cdef tuple meta = node._out_meta
    cdef Py_ssize_t i, nparents, nres
    # hooks, retain_grad and autograd.grad see what reached each output: None
    # for an output no gradient reached (its hooks are called with None and
    # its .grad stays None, as PyTorch's)
    if node._hooks is not None:
        for i2, hooks in node._hooks.items():
            gouts[i2] = _run_hooks(hooks, gouts[i2])
    if node._retained is not None:
        for i2, t in node._retained.items():
            if gouts[i2] is not None:
                # (summed over backward calls, as a leaf's .grad is)
                cur = (<TensorBase>t)._grad
                (<TensorBase>t)._grad = _e_wrap(
                    _E_array(gouts[i2], copy=True) if cur is None
                    else (<TensorBase>cur)._array + gouts[i2])
    if node._pre_hooks:
        for hook in tuple(node._pre_hooks):
            r = hook(_as_tensors(gouts))
            if r is not None:
                gouts = _hook_grads(r, len(gouts), getattr(hook, "__name__", "hook"))
    if cap is not None and cap.inner:
        for i in range(len(gouts)):
            kk = cap.inner.get((node, i))
            if kk is not None and gouts[i] is not None:
                _capture_add(cap, kk, gouts[i])
    if capture_only:
        return
    if not node._no_materialize:
        # then the backward gets zeros for a Tensor output no gradient
        # reached; a non-Tensor output (meta None) keeps None
        for i in range(len(gouts)):
            if gouts[i] is None and meta[i] is not None:
                shape, dtype = meta[i]
                gouts[i] = _E_zeros(shape, dtype)
    fn = node._fn
    cdef bint raw = fn.raw
    gouts_seen = tuple(gouts) if node._post_hooks else None
    if raw:
        r = fn.backward(node, *gouts)
    else:
        # a user's backward may write into its gradient Tensors: a root's
        # gradient (the caller's array, read-only) is copied for it
        r = fn.backward(node, *[None if g is None else _e_wrap(_e_writeable(g))
                                for g in gouts])
    gouts = None
    cdef tuple res
    if type(r) is tuple:
        res = <tuple>r
    elif isinstance(r, (tuple, list)):
        res = tuple(r)
    else:
        res = (r,)
    r = None
    cdef list parents = node._parents
    nparents = len(parents)
    if node._post_hooks:
        res = _node_post_hooks(node, res, nparents, gouts_seen)
    gouts_seen = None
    nres = PyTuple_GET_SIZE(res)
    if nres < nparents:
        for i in range(nres, nparents):
            if parents[i] is not None:
                raise RuntimeError(
                    f"function {_node_name(node)} returned an incorrect number of gradients "
                    f"(expected {nparents}, got {nres})")
        nparents = nres
    for i in range(nparents):
        parent = parents[i]
        if parent is not None and res[i] is not None:
            _e_send(node, <TensorBase>parent, res, i, raw, pending, cap)
    res = None
    if not retain_graph:
        node._freed = True
        node._saved = ()
        node._packed = None


cdef tuple _node_post_hooks(Context node, tuple res, Py_ssize_t nparents, tuple gouts):
    """Runs ``register_hook`` hooks: each sees (grad_inputs, grad_outputs) as
    Tensors, one grad_input per forward input (None where none flows), and
    may return replacement grad_inputs."""
    cdef list gin = [res[i] if i < PyTuple_GET_SIZE(res) and node._parents[i] is not None
                     else None for i in range(nparents)]
    gout = _as_tensors(gouts)
    for hook in tuple(node._post_hooks):
        r = hook(_as_tensors(gin), gout)
        if r is not None:
            gin = _hook_grads(r, nparents, getattr(hook, "__name__", "hook"))
    return tuple(gin)


cdef _e_send(Context node, TensorBase parent, tuple res, Py_ssize_t i, bint raw,
             dict pending, _Capture cap):
    """Routes gradient res[i] to ``parent``: a leaf's ``.grad`` (or the
    capture), or the pending sum of the node that made it."""
    g = res[i]
    cdef bint steal = raw
    if isinstance(g, TensorBase):
        g = (<TensorBase>g)._array
        steal = False
    elif not cnp.PyArray_Check(g):
        g = _E_asarray(g)
        steal = False
    pdata = parent._array
    pdt = pdata.dtype
    gdt = g.dtype
    if gdt is not pdt and gdt != pdt:
        g = g.astype(pdt)
    pnode = parent._grad_fn
    if pnode is None:
        if cap is not None:
            k = cap.leaf.get(id(parent))
            if k is not None:
                if g.shape != pdata.shape:
                    raise RuntimeError(f"backward: gradient of shape {g.shape} does not "
                                       f"match the tensor's shape {pdata.shape}")
                _capture_add(cap, k, g)
            return
        if parent._hooks or parent._post_accumulate_grad_hooks:
            # a leaf with hooks: its contributions are summed first and the
            # hooks run once on the total (PyTorch's AccumulateGrad node), as
            # soon as the last edge into it has delivered (so that hooks
            # such as DDP's all-reduce overlap the rest of the backward)
            leaves = pending.get(None)
            if leaves is None:
                leaves = pending[None] = {}
            cur = leaves.get(id(parent))
            if cur is None:
                cur = leaves[id(parent)] = [parent, None, 0]     # (uncounted: at the end)
            if (<list>cur)[1] is None:
                (<list>cur)[1] = g
            else:
                if (<list>cur)[1].shape != g.shape:
                    raise RuntimeError(f"backward: gradient of shape {g.shape} does not "
                                       f"match the tensor's shape {pdata.shape}")
                (<list>cur)[1] = (<list>cur)[1] + g
            (<list>cur)[2] -= 1
            if (<list>cur)[2] == 0:
                g = (<list>cur)[1]
                (<list>cur)[1] = None
                _e_accumulate(parent, g, False)
            return
        # references to g: this local, plus res's slot if g is still that object
        if steal:
            steal = _e_owned(g, 2 if (<PyObject*>g) == PyTuple_GET_ITEM(res, i) else 1)
        _e_accumulate(parent, g, steal)
        return
    if g.shape != pdata.shape:
        raise RuntimeError(f"{node.name()} returned a gradient of shape {g.shape} "
                           f"for an input of shape {pdata.shape}")
    cdef list slots = pending.get(pnode)
    if slots is None:
        slots = [None] * len((<Context>pnode)._out_meta)
        pending[pnode] = slots
    cdef Py_ssize_t kk = parent._out_idx
    s = slots[kk]
    if s is None:
        slots[kk] = g
    else:
        # s: held by slots and this local; sum in place when only the engine
        # holds it, else into a new array
        if _e_owned(s, 2) and s.dtype is g.dtype:
            _E_add(s, g, out=s)
        else:
            slots[kk] = s + g


# ------------------------------------------------------------- optimisers
def params_with_grad(list params, str name):
    """``Optimizer._params_with_grad`` in one compiled loop: the parameters of
    ``params`` that have a gradient, with their data arrays (checked
    C-contiguous and writeable, for the in-place update) and their gradient
    arrays (C-contiguous, in the data's dtype): (params, datas, grads)."""
    cdef list ps = [], ds = [], gs = []
    cdef TensorBase p
    cdef cnp.ndarray d
    cdef object g
    for o in params:
        p = <TensorBase?>o
        g = p._grad
        if g is None:
            continue
        d = p._array
        if not (cnp.PyArray_IS_C_CONTIGUOUS(d) and cnp.PyArray_ISWRITEABLE(d)):
            raise ValueError(f"{name}: parameter of shape {p._array.shape} has non-contiguous or "
                             "read-only data; the in-place update needs a C-contiguous, "
                             "writeable array")
        if isinstance(g, TensorBase):
            g = (<TensorBase>g)._array
        if (not isinstance(g, _E_ndarray) or g.dtype != d.dtype
                or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>g)):
            g = np.ascontiguousarray(g, dtype=d.dtype)
        if (<cnp.ndarray>g).size != d.size:
            raise ValueError(f"{name}: gradient of shape {g.shape} does not match its "
                             f"parameter of shape {p._array.shape}")
        ps.append(p)
        ds.append(d)
        gs.append(g)
    return ps, ds, gs


def bump_versions(list tensors):
    """Adds one to the version counter of each Tensor (an optimiser's in-place
    update: a backward that saved one of them then raises, as PyTorch's)."""
    cdef _Version vc
    for o in tensors:
        vc = _vc(<TensorBase?>o)
        vc.v += 1
