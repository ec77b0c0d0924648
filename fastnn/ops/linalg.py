"""Matrix products.  Every product goes through ``fnn_gemm`` (csrc/gemm.c);
a transposed view is passed to it as a transpose flag, not copied."""
import numpy as np

from .. import _core
from .._errors import ShapeError
from ..autograd.function import Function
from .._config import state as _state
from ._common import tensor as _t
from ._util import is_float, rows, unbroadcast, untracked
from .reduction import _sum_f


def mm(a, b, out=None, trans_a=False, trans_b=False, beta=0.0):
    """2-D product ``op(a) @ op(b)`` through fnn_gemm (float32/float64 only).

    ``out`` (C-contiguous) receives the result, accumulated as
    ``out = product + beta * out``.  A transposed view goes in as a
    transpose flag, any other non-contiguous operand as a copy
    (``_core.mm2d``, which does this in C).  A small product runs on one
    thread (the GEMM's result does not depend on the thread count): a team
    saves a few microseconds at best there, and on a busy machine can wait
    a scheduler slice for its second thread."""
    return _core.mm2d(a, b, out, trans_a, trans_b, beta, _state.threads, _GEMM_SERIAL_MACS)


# Products below this many multiply-adds run serially (the convolution's
# cut-off too).  Measured: the Linear(4096 -> 10) products of a batch of 8
# (327,680 multiply-adds) take 17-20 us on 1 thread and 11-17 us on 2.
_GEMM_SERIAL_MACS = 1 << 19


def _check(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul: both arguments need at least 1 dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                         f"multiplied ({ka} != {kb})")


def _stacked(x, batch):
    """x broadcast over ``batch`` as a C-contiguous (n, r, c) stack, and
    whether it is stored transposed: a stack of transposed matrices (a
    swapaxes view, as the backward passes) goes in as (n, c, r) with the
    transpose flag, not copied."""
    x = rows(np.broadcast_to(x, batch + x.shape[-2:]), lead=2)
    if x.flags.c_contiguous:
        return x, False
    xt = np.swapaxes(x, -1, -2)
    if xt.flags.c_contiguous:
        return xt, True
    return np.ascontiguousarray(x), False


def matmul_arrays(a, b):
    """NumPy ``matmul`` semantics (1-D, 2-D and broadcast batches), computed
    with fnn_gemm for float arrays."""
    _check(a, b)
    if not (is_float(a) and is_float(b)):
        if a.dtype.kind in "cUSOV" or b.dtype.kind in "cUSOV":
            raise TypeError(f"matmul: unsupported dtypes {a.dtype} and {b.dtype}")
        return np.matmul(a, b)  # integer products: NumPy (no float kernel applies)
    dt = np.result_type(a, b)
    a = a.astype(dt, copy=False)
    b = b.astype(dt, copy=False)
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    if a2.ndim == 2 and b2.ndim == 2:
        out = mm(a2, b2)
    else:
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        A, ta = _stacked(a2, batch)
        B, tb = _stacked(b2, batch)
        out = np.empty((A.shape[0], a2.shape[-2], b2.shape[-1]), dt)
        # one call for the whole batch: a Python call per matrix cost more
        # than the products themselves for capsules' or attention heads'
        # many small matrices (each product is still fnn_gemm's)
        _core.bmm3d(A, B, out, ta, tb, _state.threads, _GEMM_SERIAL_MACS)
        out = out.reshape(batch + out.shape[-2:])
    if a.ndim == 1:
        out = out.reshape(out.shape[:-2] + out.shape[-1:])
    if b.ndim == 1:
        out = out.reshape(out.shape[:-1])
    return out


class MatMulFn(Function):
    raw = True

    @staticmethod
    def _torch_name(ctx):
        """PyTorch's node for the product's ranks (mm, dot, mv, ...)."""
        return {(2, 2): "MmBackward0", (1, 1): "DotBackward0", (2, 1): "MvBackward0",
                (1, 2): "SqueezeBackward4"}.get(ctx.ranks, "UnsafeViewBackward0")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.ranks = (a.ndim, b.ndim)
        if (a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype and is_float(a)
                and a.shape[1] == b.shape[0]):
            return mm(a, b)
        return matmul_arrays(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype == g.dtype:
            return (mm(g, b, trans_b=True) if na else None,
                    mm(a, g, trans_a=True) if nb else None)
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        g2 = g
        if b.ndim == 1:                 # (the order matters for 1-D @ 1-D: g is 0-d)
            g2 = np.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        ga = gb = None
        if na:
            ga = matmul_arrays(g2, np.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if nb:
            gb = matmul_arrays(np.swapaxes(a2, -1, -2), g2)
            gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb


def _linear_fwd(x, weight, bias):
    """x @ weight.T + bias on arrays, with the checks of ``linear``."""
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{tuple(weight.shape)}")
    if x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape "
                         f"{tuple(x.shape)}) but weight expects {weight.shape[1]} (weight "
                         f"shape {tuple(weight.shape)})")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise ShapeError(f"linear: bias must have shape ({weight.shape[0]},), got "
                         f"{tuple(bias.shape)}")
    if not (is_float(x) and x.dtype == weight.dtype):
        raise TypeError(f"linear: input dtype {x.dtype} must be float32/float64 and match "
                        f"weight dtype {weight.dtype}")
    x2 = rows(x)
    out = np.empty((x2.shape[0], weight.shape[0]), x.dtype)
    if bias is not None:
        out[...] = bias
        mm(x2, weight, out=out, trans_b=True, beta=1.0)
    else:
        mm(x2, weight, out=out, trans_b=True)
    return out.reshape(x.shape[:-1] + (weight.shape[0],))


class LinearFn(Function):
    """y = x W^T + b with W of shape (out, in); x of shape (*, in).

    Forward: one fnn_gemm with W passed transposed (no copy) and the bias
    broadcast-added.  Backward: dx = g W, dW = g^T x (both fnn_gemm, the
    transposes as flags), db = sum of g over the batch."""
    raw = True

    @staticmethod
    def _torch_name(ctx):
        """PyTorch's addmm (mm without a bias) on 2-D input, a view of it else
        (whether or not the bias needs a gradient)."""
        bias = ctx.has_bias
        nd = len(ctx._out_meta[0][0])
        if nd != 2:
            return ("ViewBackward0" if bias else
                    "SqueezeBackward4" if nd == 1 else "UnsafeViewBackward0")
        return "AddmmBackward0" if bias else "MmBackward0"

    @staticmethod
    def _torch_edges(ctx, edges):
        """PyTorch's edges: addmm's (bias, input, weight.t()) order with a
        TBackward0 node before the weight; on other than 2-D input, one edge
        to that addmm (mm), whose input edge goes through a ViewBackward0
        (UnsqueezeBackward0 for 1-D input without bias)."""
        from ..autograd.graph import _cached_edges
        return _cached_edges(ctx, _linear_edges, edges)

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        out = _linear_fwd(x, weight, bias)
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        nx, nw, nb = (tuple(ctx.needs_input_grad) + (False,))[:3]
        g2 = rows(g, w.shape[0])
        gx = gw = gb = None
        if nx:
            gx = mm(g2, w).reshape(x.shape)
        if nw:
            gw = mm(g2, rows(x), trans_a=True)
        if nb:   # (float32 over many rows: blocked, as torch's cascade)
            gb = _sum_f(np.ascontiguousarray(g2), (0,), False)
        return gx, gw, gb


def _linear_edges(ctx, edges):
    from ..autograd.graph import _shown, _through
    ex, ew = edges[0], edges[1]
    bias = ctx.has_bias
    tw = _through("TBackward0", ew)
    nd = len(ctx._out_meta[0][0])
    if nd == 2:
        return (edges[2], ex, tw) if bias else (ex, tw)
    xin = _through("UnsqueezeBackward0" if nd == 1 and not bias else "ViewBackward0", ex)
    inner = (_shown("AddmmBackward0", (edges[2], xin, tw)) if bias
             else _shown("MmBackward0", (xin, tw)))
    return ((inner, 0),)


def linear_infer(x, weight, bias):
    """``linear`` straight on the arrays when nothing is to be recorded for
    backward (grad mode off, or no argument requires grad): no graph node,
    the same computation as the full path.  Returns a Tensor, or None when
    an argument is not a Tensor (the full path wraps it).  ``nn.Linear``
    tries it first."""
    T = untracked(x, weight, bias)
    if T is None:
        return None
    return T._wrap(_linear_fwd(x._array, weight._array, None if bias is None else bias._array))


# ----------------------------------------------------- products by name
def _same_dtype(op, a, b, names=("m1", "m2")):
    if a._array.dtype != b._array.dtype:
        raise RuntimeError(f"{op}: expected {names[0]} and {names[1]} to have the same dtype, "
                           f"but got: {a._array.dtype} != {b._array.dtype}")


def tensor_mm(input, mat2):
    """``fastnn.mm``: the product of two matrices (2-D only; ``matmul``
    broadcasts).  (``mm`` in this module is the ndarray-level GEMM.)"""
    a, b = _t(input), _t(mat2)
    if a._array.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._array.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    (m, k), (k2, n) = a._array.shape, b._array.shape
    if k != k2:
        raise ShapeError(f"mat1 and mat2 shapes cannot be multiplied ({m}x{k} and {k2}x{n})")
    _same_dtype("mm", a, b)
    return MatMulFn.apply(a, b)


def bmm(input, mat2):
    """Batched matrix product of (b, n, m) and (b, m, p) tensors."""
    a, b = _t(input), _t(mat2)
    if a._array.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b._array.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    sa, sb = a._array.shape, b._array.shape
    if sb[0] != sa[0] or sb[1] != sa[2]:
        raise ShapeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                         f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].")
    _same_dtype("bmm", a, b, ("batch1", "batch2"))
    return _core.name_node(MatMulFn.apply(a, b), a, "BmmBackward0")


def mv(input, vec):
    """Matrix (n, m) times vector (m,)."""
    a, v = _t(input), _t(vec)
    if a._array.ndim != 2 or v._array.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a._array.ndim}, "
                           f"{v._array.ndim}")
    if a._array.shape[1] != v._array.shape[0]:
        raise ShapeError(f"size mismatch, got input ({a._array.shape[0]}), mat "
                         f"({a._array.shape[0]}x{a._array.shape[1]}), vec ({v._array.shape[0]})")
    _same_dtype("mv", a, v, ("mat", "vec"))
    return MatMulFn.apply(a, v)


def dot(input, tensor):
    """The inner product of two 1-D tensors of the same size and dtype."""
    a, b = _t(input), _t(tensor)
    if a._array.ndim != 1 or b._array.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._array.ndim}D and "
                           f"{b._array.ndim}D tensors")
    if a._array.shape != b._array.shape:
        raise ShapeError(f"inconsistent tensor size, expected tensor [{a._array.size}] and src "
                         f"[{b._array.size}] to have the same number of elements, but got "
                         f"{a._array.size} and {b._array.size} elements respectively")
    if a._array.dtype != b._array.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{a._array.dtype} and {b._array.dtype}")
    return MatMulFn.apply(a, b)


vdot = dot


def outer(input, vec2):
    """The outer product of two 1-D tensors: (n,) x (m,) -> (n, m)."""
    a, b = _t(input), _t(vec2)
    if a._array.ndim != 1 or b._array.ndim != 1:
        raise RuntimeError("outer: expected 1-D tensors")
    return a.reshape(-1, 1) * b.reshape(1, -1)


ger = outer


def _scaled_sum(input, prod, beta, alpha):
    p = prod if alpha == 1 else prod * alpha
    if beta == 0:
        return p
    return p + (_t(input) if beta == 1 else _t(input) * beta)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2); input broadcasts (beta=0 ignores it)."""
    return _scaled_sum(input, tensor_mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


# ---------------------------------------------------------------- einsum
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _einsum_parse(eq, shapes):
    """Expands an einsum equation for arrays of ``shapes``: ellipses become
    explicit letters (right-aligned, broadcast), the implicit output is made
    explicit.  Returns (input subscripts, output subscript, letter sizes)."""
    eq = eq.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): {'more' if len(shapes) > len(terms) else 'fewer'} "
                           "operands were provided than specified in the equation")
    for c in eq.replace("...", "").replace(",", "").replace("->", ""):
        if c not in _LETTERS:
            raise RuntimeError(f"einsum(): invalid subscript given at index "
                               f"{eq.index(c)} in the equation string, subscripts must be in "
                               "[a-zA-Z]")
    free = [c for c in _LETTERS if c not in eq]
    erank = 0
    for t, shp in zip(terms, shapes):
        n = len(t.replace("...", ""))
        if "..." in t:
            erank = max(erank, len(shp) - n)
            if len(shp) < n:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) "
                                   f"is more than the number of dimensions ({len(shp)}) for "
                                   f"operand {terms.index(t)}")
        elif n != len(shp):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) does "
                               f"not match the number of dimensions ({len(shp)}) for operand "
                               f"{terms.index(t)} and no ellipsis was given")
    ell = "".join(free[:erank])
    subs = []
    for t, shp in zip(terms, shapes):
        e = len(shp) - len(t.replace("...", ""))
        subs.append(t.replace("...", ell[erank - e:]) if "..." in t else t)
    if arrow:
        out = out.replace("...", ell)
    else:
        counts = {}
        for s in subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    sizes = {}
    for i, (s, shp) in enumerate(zip(subs, shapes)):
        for c, n in zip(s, shp):
            m = sizes.get(c)
            if m is None or m == 1:
                sizes[c] = n
            elif n != 1 and n != m:
                raise ShapeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                 f"does not broadcast with previously seen size {m}")
    for c in out:
        if c not in sizes:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation "
                               "for any input operand")
        if out.count(c) > 1:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the "
                               "output")
    return subs, out, sizes


def _einsum_arrays(subs, out, arrays, sizes):
    """np.einsum with size-1 dims broadcast to their letter's size."""
    ops = []
    for s, a in zip(subs, arrays):
        want = tuple(sizes[c] for c in s)
        ops.append(a if a.shape == want else np.broadcast_to(a, want))
    eq = ",".join(subs) + "->" + out
    return np.einsum(eq, *ops, optimize=len(ops) > 2 or "greedy")


class EinsumFn(Function):
    """Einstein summation; the gradient of each operand is the einsum of the
    upstream gradient with the other operands, placed back on repeated
    subscripts (diagonals), broadcast along subscripts only that operand
    has, and summed over broadcast size-1 dims."""
    raw = True

    @staticmethod
    def forward(ctx, equation, *arrays):
        dts = {a.dtype for a in arrays}
        if len(dts) > 1:
            names = sorted(str(d) for d in dts)
            raise RuntimeError(f"einsum(): expected all operands to have the same dtype, got "
                               f"{', '.join(names)}")
        subs, out, sizes = _einsum_parse(equation, [a.shape for a in arrays])
        ctx.meta = (subs, out, sizes)
        if any(ctx.needs_input_grad[1:]):
            ctx.save_for_backward(*arrays)
        return np.asarray(_einsum_arrays(subs, out, arrays, sizes))

    @staticmethod
    def backward(ctx, g):
        arrays = ctx.saved_tensors
        subs, out, sizes = ctx.meta
        grads = [None]
        for k, a in enumerate(arrays):
            if not ctx.needs_input_grad[k + 1]:
                grads.append(None)
                continue
            grads.append(_einsum_grad(k, g, arrays, subs, out, sizes))
        return tuple(grads)


def _einsum_grad(k, g, arrays, subs, out, sizes):
    sk = subs[k]
    uniq = "".join(dict.fromkeys(sk))
    others = [s for i, s in enumerate(subs) if i != k]
    avail = set(out).union(*others) if others else set(out)
    have = "".join(c for c in uniq if c in avail)
    r = _einsum_arrays([out] + others, have, [g] + [a for i, a in enumerate(arrays) if i != k],
                       sizes)
    if len(have) != len(uniq):
        # letters only operand k has: the gradient is constant along them
        cur = have
        for c in uniq:
            if c not in cur:
                r = np.expand_dims(r, len(cur))
                cur += c
        r = np.transpose(r, [cur.index(c) for c in uniq])
        r = np.broadcast_to(r, tuple(sizes[c] for c in uniq))
    a = arrays[k]
    full = tuple(sizes[c] for c in sk)
    if len(uniq) == len(sk):
        gk = np.array(r, dtype=g.dtype)
    else:
        gk = np.zeros(full, g.dtype)
        st = [sum(gk.strides[i] for i, c2 in enumerate(sk) if c2 == c) for c in uniq]
        np.lib.stride_tricks.as_strided(gk, r.shape, st)[...] = r
    axes = tuple(i for i, (n, m) in enumerate(zip(a.shape, full)) if n == 1 and m != 1)
    if axes:
        gk = gk.sum(axis=axes, keepdims=True)
    return gk


def einsum(equation, *operands):
    """Einstein summation over the operands (``'ij,jk->ik'``, ``'bi,bi->b'``,
    ``'ii->i'``, ellipses, implicit output), with gradients for every operand.
    Also PyTorch's sublist form, ``einsum(a, [0, 1], b, [1, 2], [0, 2])``
    (subscripts 0-51, ``...`` as Ellipsis)."""
    if not isinstance(equation, str):
        equation, operands = _einsum_sublists((equation,) + tuple(operands))
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return EinsumFn.apply(equation, *[_t(o) for o in operands])


def _einsum_sublists(args):
    """(equation, operands) of einsum's sublist form: operand, sublist,
    operand, sublist, ..., [output sublist]."""
    def letters(sub):
        if not isinstance(sub, (list, tuple)):
            raise TypeError("einsum(): the equation must be a string, or each operand "
                            "followed by a list of its subscripts")
        out = []
        for v in sub:
            if v is Ellipsis:
                out.append("...")
            elif isinstance(v, (int, np.integer)) and not isinstance(v, bool) \
                    and 0 <= v < len(_LETTERS):
                out.append(_LETTERS[int(v)])
            else:
                raise ValueError(f"einsum(): subscript in subscript list is not within the "
                                 f"valid range [0, {len(_LETTERS)}), got {v!r}")
        return "".join(out)
    ops, subs = list(args[0::2]), list(args[1::2])
    out = None
    if len(ops) > len(subs):          # an odd count: the last is the output sublist
        out = ops.pop()
    if not ops:
        raise ValueError("einsum(): must provide at least one operand")
    eq = ",".join(letters(s) for s in subs)
    if out is not None:
        eq += "->" + letters(out)
    return eq, ops


def tensordot(a, b, dims=2):
    """Contracts the last ``dims`` dims of a with the first of b (or the
    listed pairs of dims), via einsum."""
    x, y = _t(a), _t(b)
    nx, ny = x._array.ndim, y._array.ndim
    if isinstance(dims, (int, np.integer)):
        da, db = list(range(nx - dims, nx)), list(range(dims))
    else:
        da, db = ([dims[0]] if isinstance(dims[0], int) else list(dims[0]),
                  [dims[1]] if isinstance(dims[1], int) else list(dims[1]))
    la, lb = list(_LETTERS[:nx]), list(_LETTERS[nx:nx + ny])
    for i, j in zip(da, db):
        lb[j % ny] = la[i % nx]
    out = [c for i, c in enumerate(la) if i not in [d % nx for d in da]] + \
        [c for j, c in enumerate(lb) if j not in [d % ny for d in db]]
    return einsum(f"{''.join(la)},{''.join(lb)}->{''.join(out)}", x, y)


def inner(input, other):
    """The sum of products over the last dims."""
    return tensordot(input, other, ([-1], [-1]))
