"""The everyday-op table: every op against PyTorch (values, dtypes and
gradients with a random upstream gradient, float32 and float64), on edge
shapes (0-d, empty, size-1) and non-contiguous inputs, and gradcheck in
float64.  Each op is one line: ``lambda m, *xs`` runs on fastnn and torch."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

from ._table import F, Arr, Distinct, Idx, Mask, Op, Pos, compare, make_arrays

LOOSE = {np.float32: dict(rtol=1e-4, atol=1e-5)}
EDGE = [(), (0,), (1,), (1, 1), (2, 1, 3)]

OPS = [
    # ----------------------------------------------------------- pointwise
    Op("sign", lambda m, x: x.sign(), [F(3, 4)], elementwise=True),
    Op("floor", lambda m, x: m.floor(x * 3), [F(3, 4)], elementwise=True),
    Op("ceil", lambda m, x: x.mul(3).ceil(), [F(3, 4)], elementwise=True),
    Op("trunc", lambda m, x: (x * 3).trunc(), [F(3, 4)], elementwise=True),
    Op("frac", lambda m, x: (x * 3).frac(), [F(3, 4)], elementwise=True),
    Op("round", lambda m, x: (x * 3).round(), [F(3, 4)], elementwise=True),
    Op("round_decimals", lambda m, x: m.round(x, decimals=2), [F(3, 4)], elementwise=True),
    Op("rsqrt", lambda m, x: x.rsqrt(), [Pos(3, 4)], elementwise=True),
    Op("reciprocal", lambda m, x: m.reciprocal(x), [Pos(3, 4)], elementwise=True),
    Op("square", lambda m, x: x.square(), [F(3, 4)], elementwise=True),
    Op("log1p", lambda m, x: m.log1p(x), [Pos(3, 4)], elementwise=True),
    Op("expm1", lambda m, x: x.expm1(), [F(3, 4)], elementwise=True),
    Op("log2", lambda m, x: x.log2(), [Pos(3, 4)], elementwise=True),
    Op("log10", lambda m, x: m.log10(x), [Pos(3, 4)], elementwise=True),
    Op("sin", lambda m, x: m.sin(x), [F(3, 4)], elementwise=True),
    Op("cos", lambda m, x: x.cos(), [F(3, 4)], elementwise=True),
    Op("tan", lambda m, x: x.tan(), [F(3, 4, lo=-1.2, hi=1.2)], elementwise=True),
    Op("sinh", lambda m, x: x.sinh(), [F(3, 4)], elementwise=True),
    Op("cosh", lambda m, x: x.cosh(), [F(3, 4)], elementwise=True),
    Op("asin", lambda m, x: x.asin(), [F(3, 4, lo=-0.9, hi=0.9)], elementwise=True),
    Op("acos", lambda m, x: m.acos(x), [F(3, 4, lo=-0.9, hi=0.9)], elementwise=True),
    Op("atan", lambda m, x: x.atan(), [F(3, 4)], elementwise=True),
    Op("erf", lambda m, x: m.erf(x), [F(3, 4)], elementwise=True),
    Op("erfc", lambda m, x: x.erfc(), [F(3, 4)], elementwise=True),
    Op("exp", lambda m, x: m.exp(x), [F(3, 4)], elementwise=True),
    Op("log", lambda m, x: m.log(x), [Pos(3, 4)], elementwise=True),
    Op("sqrt", lambda m, x: m.sqrt(x), [Pos(3, 4)], elementwise=True),
    Op("abs", lambda m, x: m.abs(x), [F(3, 4)], elementwise=True),
    Op("sigmoid", lambda m, x: m.sigmoid(x), [F(3, 4)], elementwise=True),
    Op("tanh", lambda m, x: m.tanh(x), [F(3, 4)], elementwise=True),
    Op("neg", lambda m, x: -x, [F(3, 4)], elementwise=True),
    Op("pow_scalar", lambda m, x: x.pow(3), [F(3, 4)], elementwise=True),
    Op("pow_tensor", lambda m, x, y: m.pow(x, y), [Pos(3, 4), F(3, 4)], elementwise=True),
    Op("rpow", lambda m, x: 2.0 ** x, [F(3, 4)], elementwise=True),
    Op("clamp", lambda m, x: x.clamp(-0.5, 0.7), [F(3, 4)], elementwise=True),
    Op("clamp_min", lambda m, x: m.clamp(x, min=0.1), [F(3, 4)], elementwise=True),
    Op("clamp_max", lambda m, x: x.clamp_max(0.1), [F(3, 4)], elementwise=True),
    Op("clip", lambda m, x: m.clip(x, -0.2, 0.2), [F(3, 4)], elementwise=True),
    Op("clamp_tensor", lambda m, x, lo, hi: x.clamp(lo, hi),
       [F(3, 4), F(4, lo=-1, hi=-0.1), F(3, 1, lo=0.1, hi=1)], noncontig=False),
    Op("where", lambda m, c, x, y: m.where(c, x, y), [Mask(3, 4), F(3, 4), F(3, 4)],
       elementwise=True),
    Op("where_bcast", lambda m, c, x, y: m.where(c, x, y), [Mask(3, 1), F(4), F(3, 4)]),
    Op("where_scalar", lambda m, c, x: m.where(c, x, 0.5), [Mask(3, 4), F(3, 4)]),
    Op("where_method", lambda m, c, x, y: x.where(c, y), [Mask(3, 4), F(3, 4), F(1, 4)]),
    Op("maximum", lambda m, x, y: m.maximum(x, y), [F(3, 4), F(3, 4)], elementwise=True),
    Op("minimum", lambda m, x, y: m.minimum(x, y), [F(3, 4), F(1, 4)]),
    Op("maximum_ties", lambda m, x, y: m.maximum(x, y),
       [Arr([[1.0, 2.0, 3.0]]), Arr([[1.0, 0.0, 3.0]])]),
    Op("max_binary", lambda m, x, y: m.max(x, y), [F(3, 4), F(4)]),
    Op("min_method_binary", lambda m, x, y: x.min(y), [F(3, 4), F(3, 4)]),
    Op("remainder", lambda m, x, y: m.remainder(x, y), [F(3, 4), Pos(3, 4)]),
    Op("mod_op", lambda m, x: x % 0.7, [F(3, 4)]),
    Op("fmod", lambda m, x, y: m.fmod(x, y), [F(3, 4), Pos(4)]),
    Op("floor_divide", lambda m, x: x // 0.3, [F(3, 4)], grad=False),
    Op("lerp", lambda m, x, y: m.lerp(x, y, 0.3), [F(3, 4), F(3, 4)], elementwise=True),
    Op("lerp_tensor_weight", lambda m, x, y, w: x.lerp(y, w), [F(3, 4), F(3, 4), F(4)]),
    Op("addcmul", lambda m, x, a, b: m.addcmul(x, a, b, value=0.5), [F(3, 4), F(3, 4), F(4)]),
    Op("addcdiv", lambda m, x, a, b: x.addcdiv(a, b, value=2), [F(3, 4), F(3, 4), Pos(3, 4)]),
    Op("nan_to_num", lambda m, x: m.nan_to_num(x.log()), [F(3, 4, lo=-1, hi=2)],
       gradcheck=False),
    Op("div_rounding", lambda m, x: x.div(0.3, rounding_mode="floor"), [F(3, 4)], grad=False),
    # ---------------------------------------------------------- reductions
    Op("sum_tuple", lambda m, x: x.sum(dim=(0, 2)), [F(2, 3, 4)]),
    Op("sum_dtype", lambda m, x: x.sum(1, dtype=m.float64), [F(3, 4)]),
    Op("mean_tuple_keep", lambda m, x: x.mean((-1, 0), keepdim=True), [F(2, 3, 4)]),
    Op("std", lambda m, x: x.std(), [F(3, 4)], tol=LOOSE),
    Op("std_dim", lambda m, x: x.std(dim=1, keepdim=True), [F(3, 4)], tol=LOOSE),
    Op("std_unbiased_false", lambda m, x: m.std(x, 0, False), [F(3, 4)], tol=LOOSE),
    Op("var_correction", lambda m, x: x.var(dim=(0, 1), correction=0), [F(2, 3, 4)], tol=LOOSE),
    Op("var", lambda m, x: m.var(x, 1), [F(3, 4)], tol=LOOSE),
    Op("var_mean", lambda m, x: m.var_mean(x, 1), [F(3, 4)], tol=LOOSE),
    Op("std_mean", lambda m, x: m.std_mean(x), [F(3, 4)], tol=LOOSE),
    Op("norm", lambda m, x: x.norm(), [F(3, 4)], tol=LOOSE),
    Op("norm_p1_dim", lambda m, x: x.norm(p=1, dim=1), [F(3, 4)], tol=LOOSE),
    Op("norm_p3_keep", lambda m, x: m.norm(x, 3, dim=0, keepdim=True), [F(3, 4)], tol=LOOSE),
    Op("norm_inf", lambda m, x: x.norm(float("inf"), dim=1), [F(3, 4)], tol=LOOSE),
    Op("norm_ninf", lambda m, x: x.norm(float("-inf")), [F(3, 4)], tol=LOOSE),
    Op("norm_fro_dims", lambda m, x: x.norm("fro", dim=(0, 1)), [F(3, 4)], tol=LOOSE),
    Op("norm_p0", lambda m, x: x.norm(0), [F(3, 4)], gradcheck=False),
    Op("linalg_vector_norm", lambda m, x: m.linalg.vector_norm(x, 3, dim=(0, 1)), [F(2, 3, 4)],
       tol=LOOSE),
    Op("linalg_norm", lambda m, x: m.linalg.norm(x), [F(3, 4)], tol=LOOSE),
    Op("linalg_norm_dim", lambda m, x: m.linalg.norm(x, 1, dim=1), [F(3, 4)], tol=LOOSE),
    Op("linalg_norm_fro", lambda m, x: m.linalg.norm(x, "fro"), [F(3, 4)], tol=LOOSE),
    Op("matrix_norm_1", lambda m, x: m.linalg.matrix_norm(x, 1), [F(2, 3, 4)], tol=LOOSE),
    Op("matrix_norm_inf", lambda m, x: m.linalg.matrix_norm(x, float("inf"), keepdim=True),
       [F(3, 4)], tol=LOOSE),
    Op("matrix_norm_ninf", lambda m, x: m.linalg.norm(x, -float("inf")), [F(3, 4)], tol=LOOSE),
    Op("prod", lambda m, x: x.prod(), [Pos(3, 4)], tol=LOOSE),
    Op("prod_dim", lambda m, x: m.prod(x, 1, keepdim=True), [F(3, 4)], tol=LOOSE),
    Op("prod_zeros", lambda m, x: x.prod(0), [Arr([[0.0, 2.0], [3.0, 0.0], [0.0, 4.0]])]),
    Op("prod_all_zero", lambda m, x: x.prod(), [Arr([[1.5, 0.0], [3.0, 2.0]])]),
    Op("cumsum", lambda m, x: x.cumsum(1), [F(3, 4)]),
    Op("cumsum_neg", lambda m, x: m.cumsum(x, dim=-3), [F(2, 3, 4)]),
    Op("cumprod", lambda m, x: x.cumprod(0), [F(3, 4)], tol=LOOSE),
    Op("cumprod_zeros", lambda m, x: m.cumprod(x, 1),
       [Arr([[2.0, 0.0, 3.0, 0.0, 5.0], [1.0, 2.0, 3.0, 4.0, 0.0], [1.5, 2.0, -1.0, 3.0, 2.0]])]),
    Op("logsumexp", lambda m, x: x.logsumexp(1), [F(3, 4)], tol=LOOSE),
    Op("logsumexp_tuple", lambda m, x: m.logsumexp(x * 100, dim=(0, 2), keepdim=True),
       [F(2, 3, 4)], tol=LOOSE),
    Op("amax", lambda m, x: x.amax(1), [F(3, 4)]),
    Op("amin_ties", lambda m, x: m.amin(x, dim=(0, 1)), [Arr([[1.0, 1.0], [2.0, 1.0]])],
       gradcheck=False),
    Op("max_all", lambda m, x: x.max(), [Distinct(3, 4)]),
    Op("max_dim", lambda m, x: x.max(dim=1), [Distinct(3, 4)]),
    Op("min_dim_keep", lambda m, x: m.min(x, 0, keepdim=True), [Distinct(3, 4)]),
    Op("argmax", lambda m, x: x.argmax(dim=1, keepdim=True), [Distinct(3, 4)], grad=False),
    Op("argmin", lambda m, x: m.argmin(x), [Distinct(3, 4)], grad=False),
    Op("any_dim", lambda m, x: (x > 1).any(dim=1), [F(3, 4)], grad=False),
    Op("all", lambda m, x: m.all(x > -1), [F(3, 4)], grad=False),
    Op("count_nonzero", lambda m, x: m.count_nonzero(x > 0, dim=0), [F(3, 4)], grad=False),
    # ------------------------------------------------------------ indexing
    Op("gather", lambda m, x, i: x.gather(1, i), [F(3, 4), Idx((3, 5), 4)]),
    Op("gather_small", lambda m, x, i: m.gather(x, 0, i), [F(3, 4), Idx((2, 2), 3)]),
    Op("scatter", lambda m, x, i, s: x.scatter(1, i, s),
       [F(3, 4), Idx((3, 2), 4, unique_along=1), F(3, 2)]),
    Op("scatter_src_larger", lambda m, x, i, s: x.scatter(1, i, s),
       [F(3, 4), Idx((3, 2), 4, unique_along=1), F(3, 3, grad=False)]),
    Op("scatter_value", lambda m, x, i: m.scatter(x, 0, i, 1.5),
       [F(3, 4), Idx((2, 4), 3, unique_along=0)]),
    Op("scatter_add", lambda m, x, i, s: x.scatter_add(1, i, s),
       [F(3, 4), Idx((3, 6), 4), F(3, 6)]),
    Op("index_select", lambda m, x, i: x.index_select(1, i), [F(3, 4), Idx((5,), 4)]),
    Op("index_add", lambda m, x, i, s: x.index_add(0, i, s, alpha=2.0),
       [F(3, 4), Idx((5,), 3), F(5, 4)]),
    Op("masked_fill", lambda m, x, k: x.masked_fill(k, -1.5), [F(3, 4), Mask(3, 4)]),
    Op("masked_fill_bcast", lambda m, x, k: m.masked_fill(x, k, 0.0), [F(3, 4), Mask(4)]),
    Op("masked_select", lambda m, x, k: x.masked_select(k), [F(3, 4), Mask(3, 4)]),
    Op("masked_select_bcast", lambda m, x, k: m.masked_select(x, k), [F(3, 4), Mask(3, 1)]),
    Op("take", lambda m, x, i: m.take(x, i), [F(3, 4), Idx((2, 3), 12)]),
    Op("take_along_dim", lambda m, x, i: m.take_along_dim(x, i, dim=1),
       [F(3, 4), Idx((3, 6), 4)]),
    Op("take_along_dim_bcast", lambda m, x, i: m.take_along_dim(x, i, 0),
       [F(3, 4), Idx((2, 1), 3)]),
    Op("take_along_dim_flat", lambda m, x, i: m.take_along_dim(x, i), [F(3, 4), Idx((5,), 12)],
       noncontig=False),
    Op("getitem_adv", lambda m, x, i: x[i], [F(4, 3), Idx((5,), 4)]),
    Op("getitem_mask", lambda m, x, k: x[k], [F(3, 4), Mask(3, 4)]),
    Op("getitem_basic", lambda m, x: x[1:, None, ::2], [F(4, 5)]),
    Op("nonzero", lambda m, x: m.nonzero(x > 0), [F(3, 4)], grad=False),
    Op("nonzero_tuple", lambda m, x: (x > 0).nonzero(as_tuple=True), [F(3, 4)], grad=False),
    Op("where_cond_only", lambda m, x: m.where(x > 0), [F(3, 4)], grad=False),
    # -------------------------------------------------------------- sorting
    Op("sort", lambda m, x: x.sort(), [Distinct(3, 5)]),
    Op("sort_desc_dim0", lambda m, x: m.sort(x, dim=0, descending=True), [Distinct(3, 5)]),
    Op("sort_stable_ties", lambda m, x: x.sort(stable=True, descending=True),
       [Arr([[1.0, 2.0, 1.0, 2.0, 0.0]])], gradcheck=False),
    Op("argsort", lambda m, x: x.argsort(dim=0, descending=True), [Distinct(3, 5)], grad=False),
    Op("topk", lambda m, x: x.topk(2), [Distinct(3, 5)]),
    Op("topk_smallest_dim0", lambda m, x: m.topk(x, 2, dim=0, largest=False), [Distinct(3, 5)]),
    Op("kthvalue", lambda m, x: x.kthvalue(2, dim=1), [Distinct(3, 5)]),
    Op("msort", lambda m, x: m.msort(x), [Distinct(3, 5)]),
    # ---------------------------------------------------------------- shape
    Op("chunk", lambda m, x: x.chunk(3, dim=1), [F(3, 7)]),
    Op("split_int", lambda m, x: m.split(x, 2), [F(5, 3)]),
    Op("split_list", lambda m, x: x.split([1, 3], dim=1), [F(3, 4)]),
    Op("split_partial_use", lambda m, x: x.split(2)[1] * 3, [F(5, 3)]),
    Op("tensor_split", lambda m, x: m.tensor_split(x, 3, dim=1), [F(3, 7)]),
    Op("tensor_split_idx", lambda m, x: x.tensor_split([1, 4]), [F(6, 2)]),
    # a 1-D Tensor of indices / a 0-d Tensor of sections (raised TypeError)
    Op("tensor_split_tensor_idx", lambda m, x: x.tensor_split(m.tensor([1, 3]), dim=1),
       [F(3, 4)]),
    Op("tensor_split_tensor_n", lambda m, x: m.tensor_split(x, m.tensor(3)), [F(7, 2)]),
    Op("unbind", lambda m, x: x.unbind(1), [F(3, 4)]),
    Op("narrow", lambda m, x: x.narrow(1, 1, 2), [F(3, 4)]),
    Op("narrow_neg", lambda m, x: m.narrow(x, 0, -2, 2), [F(3, 4)]),
    Op("select", lambda m, x: x.select(1, -1), [F(3, 4)]),
    Op("flip", lambda m, x: x.flip(0, 2), [F(2, 3, 4)]),
    Op("flip_fn", lambda m, x: m.flip(x, dims=(1,)), [F(3, 4)]),
    Op("fliplr", lambda m, x: m.fliplr(x), [F(3, 4)]),
    Op("roll", lambda m, x: x.roll(1, 1), [F(3, 4)]),
    Op("roll_multi", lambda m, x: m.roll(x, (1, -2), (0, 1)), [F(3, 4)]),
    Op("roll_flat", lambda m, x: x.roll(5), [F(3, 4)]),
    Op("tril", lambda m, x: x.tril(), [F(4, 4)]),
    Op("triu_k", lambda m, x: m.triu(x, 1), [F(2, 3, 4)]),
    Op("tril_neg", lambda m, x: x.tril(-1), [F(3, 5)]),
    Op("repeat", lambda m, x: x.repeat(2, 3), [F(3, 4)]),
    Op("repeat_newdims", lambda m, x: x.repeat(2, 1, 3), [F(3, 4)]),
    Op("tile", lambda m, x: m.tile(x, (2,)), [F(3, 4)]),
    Op("repeat_interleave", lambda m, x: x.repeat_interleave(2, dim=0), [F(3, 4)]),
    Op("repeat_interleave_flat", lambda m, x: m.repeat_interleave(x, 3), [F(3, 4)]),
    Op("repeat_interleave_tensor", lambda m, x, r: x.repeat_interleave(r, dim=1),
       [F(3, 4), Arr([1, 0, 2, 3])]),
    Op("diagonal", lambda m, x: x.diagonal(), [F(4, 4)]),
    Op("diagonal_offset", lambda m, x: m.diagonal(x, 1, 0, 2), [F(3, 2, 4)]),
    Op("unfold_windows", lambda m, x: x.unfold(0, 10, 1).mean(1), [F(40)]),   # DQN's plot
    Op("unfold_overlap", lambda m, x: x.unfold(1, 3, 2), [F(3, 8)]),
    Op("unfold_gaps", lambda m, x: x.unfold(-1, 2, 3) * 2, [F(2, 3, 8)]),
    Op("unfold_whole", lambda m, x: x.unfold(0, 4, 1), [F(4, 2)]),
    Op("diag_matrix", lambda m, x: m.diag(x, -1), [F(4, 3)]),
    Op("diag_vector", lambda m, x: x.diag(1), [F(3)]),
    Op("trace", lambda m, x: m.trace(x), [F(3, 4)]),
    Op("movedim", lambda m, x: x.movedim(0, -1), [F(2, 3, 4)]),
    Op("moveaxis_multi", lambda m, x: m.moveaxis(x, (0, 1), (2, 0)), [F(2, 3, 4)]),
    Op("expand", lambda m, x: x.expand(2, 3, 4), [F(3, 1)]),
    Op("expand_as", lambda m, x, y: x.expand_as(y), [F(1, 4), F(3, 4)]),
    Op("view_as", lambda m, x, y: x.view_as(y), [F(3, 4), F(4, 3)], noncontig=False),
    Op("reshape_as", lambda m, x, y: x.reshape_as(y), [F(3, 4), F(2, 6)]),
    Op("t", lambda m, x: x.t(), [F(3, 4)]),
    Op("t_fn", lambda m, x: m.t(x), [F(3)]),
    Op("contiguous", lambda m, x: x.contiguous() * 2, [F(3, 4)]),
    Op("unflatten", lambda m, x: x.unflatten(1, (2, 2)), [F(3, 4)]),
    # --------------------------------------------------------------- linalg
    Op("mm", lambda m, a, b: m.mm(a, b), [F(3, 4), F(4, 5)]),
    Op("mm_method", lambda m, a, b: a.mm(b), [F(1, 4), F(4, 1)]),
    Op("bmm", lambda m, a, b: m.bmm(a, b), [F(2, 3, 4), F(2, 4, 5)]),
    Op("mv", lambda m, a, v: a.mv(v), [F(3, 4), F(4)]),
    Op("dot", lambda m, a, b: m.dot(a, b), [F(5), F(5)]),
    Op("outer", lambda m, a, b: m.outer(a, b), [F(3), F(4)]),
    Op("inner", lambda m, a, b: m.inner(a, b), [F(2, 4), F(3, 4)]),
    Op("addmm", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2), [F(4), F(3, 2), F(2, 4)]),
    Op("baddbmm", lambda m, c, a, b: c.baddbmm(a, b), [F(2, 3, 4), F(2, 3, 5), F(2, 5, 4)]),
    Op("addmv", lambda m, c, a, v: m.addmv(c, a, v, alpha=3), [F(3), F(3, 4), F(4)]),
    Op("tensordot", lambda m, a, b: m.tensordot(a, b, dims=([1, 0], [0, 2])),
       [F(3, 4, 2), F(4, 5, 3)]),
    Op("einsum_mm", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [F(3, 4), F(4, 5)]),
    Op("einsum_bmm", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [F(2, 3, 4), F(2, 4, 5)]),
    Op("einsum_outer", lambda m, a, b: m.einsum("i,j->ij", a, b), [F(3), F(4)]),
    Op("einsum_rowdot", lambda m, a, b: m.einsum("bi,bi->b", a, b), [F(3, 4), F(3, 4)]),
    Op("einsum_diag", lambda m, a: m.einsum("ii->i", a), [F(4, 4)]),
    Op("einsum_trace", lambda m, a: m.einsum("ii", a), [F(4, 4)]),
    Op("einsum_sum_axis", lambda m, a: m.einsum("ij->i", a), [F(3, 4)]),
    Op("einsum_implicit", lambda m, a, b: m.einsum("ij,kj", a, b), [F(3, 4), F(5, 4)]),
    Op("einsum_ellipsis", lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
       [F(2, 3, 4), F(4, 5)]),
    Op("einsum_list", lambda m, a, b: m.einsum("bhqd,bhkd->bhqk", [a, b]),
       [F(2, 2, 3, 4), F(2, 2, 5, 4)]),
    Op("einsum_three", lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c),
       [F(2, 3), F(3, 4), F(4, 2)]),
    Op("einsum_bcast", lambda m, a, b: m.einsum("...i,...i->...", a, b), [F(3, 1, 4), F(2, 4)]),
    # ------------------------------------------- dense linear algebra (LAPACK)
    Op("linalg_inv", lambda m, x: m.linalg.inv(x + 3 * m.eye(3)), [F(2, 3, 3)], tol=LOOSE),
    Op("inverse_method", lambda m, x: (x + 3 * m.eye(3)).inverse(), [F(3, 3)], tol=LOOSE),
    Op("linalg_det", lambda m, x: m.linalg.det(x), [F(2, 3, 3)], tol=LOOSE),
    Op("linalg_slogdet", lambda m, x: m.linalg.slogdet(x + 3 * m.eye(3)), [F(2, 3, 3)],
       tol=LOOSE),
    Op("logdet", lambda m, x: m.logdet(x @ x.mT + m.eye(3)), [F(3, 3)], tol=LOOSE),
    Op("linalg_solve", lambda m, a, b: m.linalg.solve(a + 3 * m.eye(3), b),
       [F(2, 3, 3), F(3, 2)], tol=LOOSE),
    Op("linalg_solve_vec", lambda m, a, b: m.linalg.solve(a + 3 * m.eye(3), b),
       [F(2, 3, 3), F(2, 3)], tol=LOOSE),
    Op("linalg_solve_triangular", lambda m, a, b: m.linalg.solve_triangular(
        a + 3 * m.eye(3), b, upper=False, left=False), [F(3, 3), F(2, 4, 3)], tol=LOOSE),
    Op("linalg_cholesky", lambda m, x: m.linalg.cholesky(x @ x.mT + m.eye(3)), [F(2, 3, 3)],
       tol=LOOSE),
    Op("cholesky_solve", lambda m, b, x: m.cholesky_solve(b, m.linalg.cholesky(
        x @ x.mT + m.eye(3))), [F(3, 2), F(3, 3)], tol=LOOSE),
    Op("linalg_eigvalsh", lambda m, x: m.linalg.eigvalsh(x + x.mT), [F(2, 3, 3)], tol=LOOSE),
    Op("linalg_svdvals", lambda m, x: m.linalg.svdvals(x), [F(2, 4, 3)], tol=LOOSE),
    Op("linalg_qr", lambda m, x: m.linalg.qr(x), [F(4, 3)], tol=LOOSE),
    Op("linalg_pinv", lambda m, x: m.linalg.pinv(x), [F(4, 3)], tol=LOOSE),
    Op("linalg_matrix_exp", lambda m, x: m.linalg.matrix_exp(x), [F(2, 3, 3)], tol=LOOSE),
    Op("matrix_power", lambda m, x: x.matrix_power(3), [F(3, 3)], tol=LOOSE),
    Op("linalg_multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
       [F(3), F(3, 4), F(4, 2)], tol=LOOSE),
    Op("linalg_matrix_norm_2", lambda m, x: m.linalg.matrix_norm(x, 2), [F(2, 4, 3)],
       tol=LOOSE),
    Op("einsum_self_only", lambda m, a, b: m.einsum("ij,k->ik", a, b), [F(3, 4), F(2)]),
    Op("meshgrid_ij", lambda m, a, b: m.meshgrid(a, b, indexing="ij"), [F(3), F(4)]),
    Op("meshgrid_xy", lambda m, a, b, c: m.meshgrid([a, b, c], indexing="xy"),
       [F(3), F(4), F(2)]),
    Op("broadcast_tensors", lambda m, a, b: m.broadcast_tensors(a, b), [F(3, 1), F(4)]),
    Op("broadcast_to", lambda m, a: m.broadcast_to(a, (2, 3, 4)), [F(3, 1)]),
    Op("hstack", lambda m, a, b: m.hstack([a, b]), [F(3, 2), F(3, 4)]),
    Op("vstack", lambda m, a, b: m.vstack((a, b)), [F(4), F(2, 4)]),
    Op("comparisons_fn", lambda m, a, b: (m.eq(a, b), m.ne(a, 0.5), m.gt(a, b), m.lt(a, b),
                                           m.ge(a, b), m.le(a, 0.0), m.greater(a, b)),
       [F(3, 4), F(4)], grad=False),
    Op("clone_fn", lambda m, a: m.clone(a) * 2, [F(3, 4)]),
    Op("softmax_fn", lambda m, a: m.softmax(a, 1) + m.log_softmax(a, dim=0), [F(3, 4)],
       tol=LOOSE),
    Op("sgn", lambda m, a: (m.sgn(a) + a.sgn()) * a, [F(3, 4)]),
    Op("bincount", lambda m, i: m.bincount(i, minlength=7), [Idx((9,), 5)], grad=False),
    Op("bincount_weights", lambda m, i, w: m.bincount(i, w.detach()), [Idx((6,), 4), F(6)],
       grad=False),
    # --------------------------------------------------------- conversions
    Op("type_as", lambda m, x, y: x.type_as(y) * 2, [F(3, 4), Arr([1], grad=False)],
       grad=False),
    Op("type_as_float", lambda m, x, y: x.type_as(y) * 2, [F(3, 4), Arr([1.0], grad=False)]),
    Op("to_dtype", lambda m, x: x.to(m.float64).exp(), [F(3, 4)]),
    Op("to_cpu", lambda m, x: x.to("cpu") * 2, [F(3, 4)]),
    Op("int_casts", lambda m, x: (x * 3).int(), [F(3, 4)], grad=False),
    Op("long_bool", lambda m, x: ((x * 3).long(), x.bool()), [F(3, 4)], grad=False),
    Op("softmax_method", lambda m, x: x.softmax(1), [F(3, 4)], tol=LOOSE),
    Op("log_softmax_method", lambda m, x: x.log_softmax(dim=0), [F(3, 4)], tol=LOOSE),
]

BY_NAME = {op.name: op for op in OPS}
assert len(BY_NAME) == len(OPS), "duplicate op names"
ALL = sorted(BY_NAME)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ALL)
def test_values_dtypes_and_grads_match_torch(name, dtype):
    requires_torch()
    op = BY_NAME[name]
    arrays = make_arrays(op, dtype)
    compare(op, arrays, op.inputs, dtype, grad=op.grad)


@pytest.mark.parametrize("name", [n for n in ALL if BY_NAME[n].noncontig and any(
    isinstance(m, F) and len(m.shape) >= 2 for m in BY_NAME[n].inputs)])
def test_non_contiguous_inputs_match_torch(name):
    requires_torch()
    op = BY_NAME[name]
    arrays = make_arrays(op, np.float64, seed=3)
    compare(op, arrays, op.inputs, np.float64, grad=op.grad, noncontig=True)


@pytest.mark.parametrize("shape", EDGE, ids=str)
@pytest.mark.parametrize("name", [n for n in ALL if BY_NAME[n].elementwise])
def test_edge_shapes_match_torch(name, shape):
    requires_torch()
    op = BY_NAME[name]
    inputs = [F(*shape, lo=m.lo, hi=m.hi) if isinstance(m, F) else Mask(*shape)
              for m in op.inputs]
    arrays = make_arrays(op, np.float64, seed=5, inputs=inputs)
    compare(op, arrays, inputs, np.float64, grad=op.grad)


@pytest.mark.parametrize("name", [n for n in ALL if BY_NAME[n].grad and BY_NAME[n].gradcheck])
def test_gradcheck_float64(name):
    op = BY_NAME[name]
    arrays = make_arrays(op, np.float64, seed=11)
    xs = [fastnn.tensor(a, requires_grad=(a.dtype.kind == "f" and getattr(m, "grad", False)))
          for a, m in zip(arrays, op.inputs)]
    if not any(x.requires_grad for x in xs):
        pytest.skip("no differentiable input")
    outs = op.fn(fastnn, *xs)
    outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
    rng = np.random.default_rng(2)
    ups = [fastnn.tensor(rng.standard_normal(o.shape)) if o.requires_grad else None
           for o in outs]

    def scalar(*ts):
        res = op.fn(fastnn, *ts)
        res = list(res) if isinstance(res, (tuple, list)) else [res]
        total = None
        for o, u in zip(res, ups):
            if u is not None:
                s = (o * u).sum()
                total = s if total is None else total + s
        return total

    assert fastnn.gradcheck(scalar, xs)


def test_table_covers_the_issue_list():
    """Every everyday op named in the issue has a row (or a dedicated test)."""
    names = " ".join(ALL)
    for want in ["clamp", "where", "maximum", "max_binary", "sign", "pow", "rsqrt", "log1p",
                 "expm1", "sin", "cos", "erf", "floor", "ceil", "round", "std", "var", "norm",
                 "prod", "cumsum", "logsumexp", "gather", "scatter", "scatter_add",
                 "index_select", "masked_fill", "masked_select", "take_along_dim", "topk",
                 "sort", "argsort", "chunk", "split", "flip", "roll", "tril", "triu", "repeat",
                 "expand", "view_as", "reshape_as", "narrow", "unbind", "bmm", "einsum",
                 "outer", "mm", "mv", "t", "contiguous", "type_as", "to_dtype", "int_casts"]:
        assert want in names, want
