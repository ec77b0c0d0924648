# The autograd engine's hot loops, compiled: ``Function.apply`` (record one op
# in the graph) and ``run_backward`` (walk the graph once in reverse
# topological order).  The readable reference of both is the pure-Python
# engine in fastnn/autograd/{function,engine}.py, which behaves identically
# (tests run both); fastnn.autograd picks this one when it is present.
#
# Gradient stealing: the first gradient that reaches a leaf becomes its
# ``.grad`` without a copy when nobody else can hold it: a built-in (raw) op's
# backward returned it, it is an exact ndarray that owns its data (or is a
# full view of an otherwise unreferenced array), C-contiguous and writeable,
# and its reference count shows that only the engine holds it (an op that
# hands one array to several inputs, keeps it in a cache or in ctx, or returns
# a saved array fails that test and gets a copy, as before).
from cpython.ref cimport PyObject, Py_REFCNT
from cpython.tuple cimport PyTuple_GET_SIZE, PyTuple_GET_ITEM

cdef object _E_Tensor = None
cdef object _E_Context = None
cdef object _E_mode = None
cdef object _E_new = object.__new__
cdef object _E_asarray = np.asarray
cdef object _E_zeros = np.zeros
cdef object _E_array = np.array
cdef object _E_add = np.add
cdef str _E_FREED = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward(). Specify retain_graph=True if you "
    "need to backward through the graph a second time.")


def _engine_setup(Tensor, Context, mode):
    """Called once by fastnn.autograd with the classes the engine works on."""
    global _E_Tensor, _E_Context, _E_mode
    _E_Tensor = Tensor
    _E_Context = Context
    _E_mode = mode


cdef inline object _e_wrap(object arr):
    t = _E_new(_E_Tensor)
    t.data = arr if cnp.PyArray_CheckExact(arr) else _E_asarray(arr)
    return t


def function_apply(cls, *args, **kwargs):
    """``Function.apply``: runs cls.forward and records the graph node."""
    cdef object Tensor = _E_Tensor
    cdef bint record = _E_mode.enabled
    cdef Py_ssize_t n = PyTuple_GET_SIZE(args), i
    cdef bint any_grad = False
    cdef list needs = [False] * n
    cdef list fargs
    ctx = _E_Context()
    if cls.raw:
        fargs = list(args)
        for i in range(n):
            a = args[i]
            if isinstance(a, Tensor):
                fargs[i] = a.data
                if record and a.requires_grad:
                    needs[i] = True
                    any_grad = True
        ctx.needs_input_grad = needs
        out = cls.forward(ctx, *fargs, **kwargs)
    else:
        for i in range(n):
            a = args[i]
            if record and isinstance(a, Tensor) and a.requires_grad:
                needs[i] = True
                any_grad = True
        ctx.needs_input_grad = tuple(needs)
        _E_mode.enabled = False
        try:
            out = cls.forward(ctx, *args, **kwargs)
        finally:
            _E_mode.enabled = record
    cdef list parents
    if type(out) is not tuple:
        if not any_grad:
            return out if isinstance(out, Tensor) else _e_wrap(out)
        arr = out.data if isinstance(out, Tensor) else out
        t = _e_wrap(arr)
        arr = t.data
        ctx._fn = cls
        parents = [None] * n
        for i in range(n):
            if needs[i]:
                parents[i] = args[i]
        ctx._parents = parents
        ctx._out_meta = ((arr.shape, arr.dtype),)
        if arr.dtype.kind == "f":
            t.requires_grad = True
            t._grad_fn = ctx
        return t
    if not any_grad:
        return tuple([o if (o is None or isinstance(o, Tensor)) else _e_wrap(o) for o in out])
    ctx._fn = cls
    parents = [None] * n
    for i in range(n):
        if needs[i]:
            parents[i] = args[i]
    ctx._parents = parents
    cdef list wrapped = []
    cdef list meta = []
    cdef Py_ssize_t k = 0
    for o in out:
        if o is None:
            wrapped.append(None)
            meta.append(None)
            k += 1
            continue
        arr = o.data if isinstance(o, Tensor) else o
        t = _e_wrap(arr)
        arr = t.data
        if arr.dtype.kind == "f":
            t.requires_grad = True
            t._grad_fn = ctx
            t._out_idx = k
        meta.append((arr.shape, arr.dtype))
        wrapped.append(t)
        k += 1
    ctx._out_meta = tuple(meta)
    return tuple(wrapped)


cdef list _e_toposort(root):
    """Nodes reachable from root, parents before children (post-order)."""
    cdef list order = []
    cdef set seen = {root}
    cdef list stack = [root]
    cdef list idx = [0]
    cdef Py_ssize_t i, n, top
    cdef bint pushed
    while stack:
        top = len(stack) - 1
        node = stack[top]
        i = idx[top]
        parents = node._parents
        n = len(parents)
        pushed = False
        while i < n:
            p = parents[i]
            i += 1
            if p is not None:
                g = p._grad_fn
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


cdef bint _e_owned(object g, Py_ssize_t refs):
    """True when ndarray g is held by exactly ``refs`` references, owns its
    memory (or fully views an array nobody else holds), and is C-contiguous
    and writeable: the engine may then keep it as a gradient without a copy."""
    if Py_REFCNT(g) != refs or not cnp.PyArray_CheckExact(g):
        return False
    cdef cnp.ndarray a = <cnp.ndarray>g
    if not (cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_ISWRITEABLE(a)):
        return False
    cdef PyObject* base = cnp.PyArray_BASE(a)
    if base == NULL:
        return True
    b = <object>base
    # b: one reference from g's base slot, one from this local
    if Py_REFCNT(b) != 2 or not cnp.PyArray_CheckExact(b):
        return False
    cdef cnp.ndarray ba = <cnp.ndarray>b
    return (cnp.PyArray_BASE(ba) == NULL and cnp.PyArray_SIZE(ba) == cnp.PyArray_SIZE(a)
            and cnp.PyArray_ISWRITEABLE(ba))


cdef _e_accumulate(t, g, bint steal):
    data = t.data
    if g.shape != data.shape:
        raise RuntimeError(f"backward: gradient of shape {g.shape} does not match "
                           f"the tensor's shape {data.shape}")
    cur = t.grad
    if cur is None:
        t.grad = g if steal else _E_array(g, dtype=data.dtype, copy=True)
    else:
        cur += g
        t.grad = cur
    hooks = t._post_accumulate_grad_hooks
    if hooks:
        for hook in tuple(hooks):
            hook(t)


def run_backward(root_tensor, grad, bint retain_graph=False):
    """Backpropagates ``grad`` (an ndarray of the root's shape) from root_tensor."""
    cdef object Tensor = _E_Tensor
    root = root_tensor._grad_fn
    if root is None:
        _e_accumulate(root_tensor, grad, False)
        return
    cdef list order = _e_toposort(root)
    cdef dict pending = {}
    cdef list slots = [None] * len(root._out_meta)
    slots[root_tensor._out_idx] = grad
    pending[root] = slots
    slots = None
    grad = None
    cdef Py_ssize_t j, i, nparents, nres, kk
    cdef bint raw, steal, same
    cdef list gouts
    cdef tuple res
    prev = _E_mode.enabled
    _E_mode.enabled = False
    try:
        for j in range(len(order) - 1, -1, -1):
            node = order[j]
            gouts = pending.pop(node, None)
            if gouts is None:
                continue
            if node._freed:
                raise RuntimeError(_E_FREED)
            meta = node._out_meta
            for i in range(len(gouts)):
                if gouts[i] is None and meta[i] is not None:
                    shape, dtype = meta[i]
                    gouts[i] = _E_zeros(shape, dtype)
            retained = node._retained
            if retained is not None:
                for i2, t in retained.items():
                    _e_accumulate(t, gouts[i2], False)
            fn = node._fn
            raw = fn.raw
            if raw:
                r = fn.backward(node, *gouts)
            else:
                r = fn.backward(node, *[_e_wrap(g) for g in gouts])
            gouts = None
            parents = node._parents
            nparents = len(parents)
            if type(r) is tuple:
                res = <tuple>r
            elif isinstance(r, tuple):
                res = tuple(r)
            else:
                res = (r,)
            r = None
            nres = PyTuple_GET_SIZE(res)
            if nres < nparents:
                for i in range(nres, nparents):
                    if parents[i] is not None:
                        raise RuntimeError(
                            f"function {fn.__name__}.backward returned {nres} gradients, "
                            f"expected {nparents} (one per forward input)")
                nparents = nres
            for i in range(nparents):
                parent = parents[i]
                if parent is None:
                    continue
                g = res[i]
                if g is None:
                    continue
                steal = raw
                if isinstance(g, Tensor):
                    g = g.data
                    steal = False
                elif not cnp.PyArray_Check(g):
                    g = _E_asarray(g)
                pdata = parent.data
                pdt = pdata.dtype
                gdt = g.dtype
                if gdt is not pdt and gdt != pdt:
                    g = g.astype(pdt)
                pnode = parent._grad_fn
                if pnode is None:
                    # references: g, plus res's slot if g is still that object
                    if steal:
                        same = (<PyObject*>g) == PyTuple_GET_ITEM(res, i)
                        steal = _e_owned(g, 2 if same else 1)
                    _e_accumulate(parent, g, steal)
                    continue
                if g.shape != pdata.shape:
                    raise RuntimeError(
                        f"{node.name}.backward returned a gradient of shape {g.shape} "
                        f"for an input of shape {pdata.shape}")
                slots = pending.get(pnode)
                if slots is None:
                    slots = [None] * len(pnode._out_meta)
                    pending[pnode] = slots
                kk = parent._out_idx
                s = slots[kk]
                if s is None:
                    slots[kk] = g
                else:
                    # s: held by slots and this local; sum in place when only
                    # the engine holds it, else into a new array
                    if _e_owned(s, 2) and s.dtype is g.dtype:
                        _E_add(s, g, out=s)
                    else:
                        slots[kk] = s + g
                    s = None
                slots = None
            res = None
            if not retain_graph:
                node._freed = True
                node._saved = ()
    finally:
        _E_mode.enabled = prev
