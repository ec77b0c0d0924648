"""Differences a differential probe of the tensor ops against PyTorch found
(values, dtypes and error classes); each case runs the same call under both
libraries and compares."""
import warnings

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _run(lib, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(lib)


def _np(x):
    if isinstance(x, (tuple, list)):
        return [_np(v) for v in x]
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x)


def _same(a, b, tol64=1e-12):
    a, b = _np(a), _np(b)
    if isinstance(a, list):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v, tol64)
        return
    assert a.shape == b.shape and a.dtype == b.dtype, (a, b)
    tol = tol64 if a.dtype == np.float64 else 1e-6
    np.testing.assert_allclose(b, a, rtol=tol, atol=tol, equal_nan=True)


NANV = [3.0, float("nan"), -float("inf"), float("inf"), -1.0, 2.0, float("nan"), 0.5]
INFM = [[1.0, float("nan"), 3.0], [float("inf"), -1.0, 2.0], [0.5, 0.5, -float("inf")]]

VALUE_CASES = {
    # sign/sgn of NaN is 0 (PyTorch: (0 < x) - (x < 0)), -0.0 gives +0
    "sign_nan": lambda L: L.sign(L.tensor([1.0, float("nan"), -float("inf"), -0.0])),
    "sgn_nan": lambda L: L.tensor([float("nan"), -2.0]).sgn(),
    # quantile's lower/higher/nearest pick an element: an inf stays inf
    "quantile_lower_inf": lambda L: L.quantile(L.tensor(INFM), 0.3, dim=1,
                                               interpolation="lower"),
    "quantile_higher_inf": lambda L: L.quantile(L.tensor(INFM), L.tensor([0.1, 0.9]), dim=1,
                                                interpolation="higher"),
    "nanquantile_nearest_inf": lambda L: L.nanquantile(L.tensor(INFM), L.tensor([0.1, 0.9]),
                                                       dim=0, interpolation="nearest"),
    # each NaN is a distinct value for unique
    "unique_nan": lambda L: L.unique(L.tensor(NANV), return_inverse=True, return_counts=True),
    "unique_nan_values": lambda L: L.tensor(NANV).unique(),
    # in-place integer power with an integer tensor exponent
    # (negative integer exponents: NumPy refuses them, PyTorch computes them)
    "pow_inplace_int_tensor": lambda L: L.tensor([[1, 3, -2], [2, -1, 1]]).pow_(
        L.tensor([[-1, 3, 2], [-2, -3, 1]])),
    "pow_inplace_int_neg_exp": lambda L: L.tensor([1, -1, 2, 3]).pow_(L.tensor([-1, -3, -1, 0])),
    "ipow_int_tensor": lambda L: L.tensor([1, -1, 2]).__ipow__(L.tensor([-2, -1, 3])),
    # logit's eps clamp in the input's dtype (float32: 1 - 1e-6 rounds)
    "logit_eps_f32": lambda L: L.logit(L.tensor([0.0, 0.5, 1.0]), eps=1e-6),
    "logit_eps_f64": lambda L: L.logit(L.tensor([0.0, 0.5, 1.0], dtype=L.float64), eps=1e-6),
    # digamma(-0.0) = +inf, digamma(+0.0) = -inf
    "digamma_signed_zero": lambda L: L.digamma(L.tensor([-0.0, 0.0, 1.0])),
    # mvlgamma computes elements <= (p - 1) / 2 instead of refusing them
    "mvlgamma_small": lambda L: L.mvlgamma(L.tensor([-1.0, 0.2, 0.7, 3.0]), 2),
    # where() takes a uint8 condition (with PyTorch's deprecation warning)
    "where_uint8_cond": lambda L: L.where(L.tensor([1, 0, 2], dtype=L.uint8),
                                          L.tensor([1.0, 2.0, 3.0]), 0.0),
    # the size= keyword of the factories
    "zeros_size_kw": lambda L: L.zeros(size=(2, 3)),
    "ones_size_kw": lambda L: L.ones(size=[2], dtype=L.int64),
    "empty_size_kw": lambda L: L.empty(size=(0, 3)),
    "rand_size_kw": lambda L: L.rand(size=(4,)).shape,
    "randn_size_kw": lambda L: L.randn(size=(2, 1)).shape,
    # torch.*'s loss spellings: reduction omitted is 0 ('none')
    "torch_kl_div_default": lambda L: L.kl_div(L.tensor([[0.1, -0.3], [0.2, 0.4]]),
                                               L.tensor([[0.5, 0.5], [0.2, 0.8]])),
    "torch_hinge_default": lambda L: L.hinge_embedding_loss(L.tensor([0.3, -0.2, 1.5]),
                                                            L.tensor([1.0, -1.0, -1.0])),
    "torch_margin_ranking_default": lambda L: L.margin_ranking_loss(
        L.tensor([0.3, -0.2]), L.tensor([0.1, 0.5]), L.tensor([1.0, -1.0])),
    "torch_triplet_default": lambda L: L.triplet_margin_loss(
        L.tensor([[0.3, -0.2], [1.0, 2.0]]), L.tensor([[0.1, 0.5], [0.0, 1.0]]),
        L.tensor([[1.0, -1.0], [2.0, 2.0]])),
    "torch_cosine_embedding_default": lambda L: L.cosine_embedding_loss(
        L.tensor([[0.3, -0.2], [1.0, 2.0]]), L.tensor([[0.1, 0.5], [0.0, 1.0]]),
        L.tensor([1.0, -1.0])),
    # addcmul/addcdiv compute in the common dtype of all three tensors
    "addcmul_f64_input_f32_factors": lambda L: L.addcmul(
        L.tensor([0.1, 0.2, 0.3], dtype=L.float64), L.tensor([1.1, 2.3, -3.7]),
        L.tensor([0.7, -1.9, 2.2]), value=0.3),
    "addcdiv_f64_input_f32_factors": lambda L: L.addcdiv(
        L.tensor([0.1, 0.2, 0.3], dtype=L.float64), L.tensor([1.1, 2.3, -3.7]),
        L.tensor([0.7, -1.9, 2.2]), value=2),
    # the size/dims arguments of the varargs methods given by keyword
    "permute_dims_kw": lambda L: L.arange(6.0).reshape(2, 3).permute(dims=(1, 0)),
    "flip_dims_kw": lambda L: L.arange(6.0).reshape(2, 3).flip(dims=[1]),
    "reshape_shape_kw": lambda L: L.arange(6.0).reshape(shape=(3, 2)),
    "view_size_kw": lambda L: L.arange(6.0).view(size=(3, 2)),
    "view_dtype_kw": lambda L: L.arange(6.0).view(dtype=L.int32),
    "repeat_repeats_kw": lambda L: L.arange(3.0).repeat(repeats=(2, 1)),
    "expand_size_kw": lambda L: L.arange(3.0).expand(size=(2, 3)),
    "split_split_size_kw": lambda L: L.arange(6.0).reshape(2, 3).split(split_size=[1, 2], dim=1),
    "searchsorted_input_kw": lambda L: L.searchsorted(
        sorted_sequence=L.tensor([1.0, 2.0, 3.0]), input=L.tensor([2.5, 0.0]), right=True),
    # lgamma of a tiny negative number is -log|x| (its reflection lost it)
    "lgamma_tiny_negative_f64": lambda L: L.lgamma(L.tensor([-1e-30, -1e-300, -1e-20, -2.5,
                                                             -100.5, 0.3], dtype=L.float64)),
    "lgamma_tiny_negative_f32": lambda L: L.lgamma(L.tensor([-1e-30, -1e-20, -1e-38, -1e-40])),
    # shrinkage passes NaN through; hardshrink takes a negative lambd (keeps everything)
    "softshrink_nan": lambda L: L.nn.functional.softshrink(L.tensor([float("nan"), 0.2, -1.0])),
    "hardshrink_nan": lambda L: L.nn.functional.hardshrink(L.tensor([float("nan"), 0.2, -1.0])),
    "hardshrink_negative_lambd": lambda L: L.nn.functional.hardshrink(L.tensor([-1.0, 0.2]), -1),
    # polygamma/zeta of negative non-integers, with an infinity elsewhere in the tensor
    "polygamma1_negative_with_inf": lambda L: L.polygamma(1, L.tensor(
        [-19.5, -3.3, -0.5, 0.7, 5.0, -float("inf")], dtype=L.float64))[:5],
    "polygamma3_negative_with_inf": lambda L: L.polygamma(3, L.tensor(
        [-19.5, -3.3, -0.5, 0.7, -float("inf")], dtype=L.float64))[:4],
    "zeta_negative_q_with_inf": lambda L: L.special.zeta(
        L.tensor([2.0, 3.0, 4.0], dtype=L.float64),
        L.tensor([-3.3, -7.5, -float("inf")], dtype=L.float64))[:2],
    # erfinv of a 0-d tensor (its Newton step met a Python float)
    "erfinv_0d": lambda L: L.erfinv(L.tensor(0.5)),
    "erfinv_0d_f64": lambda L: L.tensor(-0.3, dtype=L.float64).erfinv(),
    # cat / concat / concatenate take NumPy's axis= as PyTorch does
    "cat_axis_kw": lambda L: L.cat([L.zeros(2, 1), L.ones(2, 2)], axis=1),
    "concatenate_axis_kw": lambda L: L.concatenate([L.zeros(1, 2), L.ones(2, 2)], axis=0),
    "vector_norm_inf_empty_output": lambda L: L.linalg.vector_norm(L.zeros(0, 3), float("inf"),
                                                                   dim=1),
    "vector_norm_2_empty": lambda L: L.linalg.vector_norm(L.zeros(2, 0), dim=1),
    "norm_nuc_two_dims": lambda L: L.norm(L.tensor([[1.0, 2.0], [3.0, 5.0]]), "nuc", dim=[0, 1]),
    # histogram's edges as torch.linspace's (values on an edge land in PyTorch's bin)
    "histogram_point": lambda L: L.histogram(L.tensor(0.7), bins=4),
    "histogram_tenths_f32": lambda L: L.histogram(L.tensor(
        np.round(np.random.RandomState(0).randn(500), 1).astype(np.float32)), bins=10),
    "histogram_tenths_f64": lambda L: L.histogram(L.tensor(
        np.round(np.random.RandomState(0).randn(500), 1)), bins=5),
    "histogram_tenths_range": lambda L: L.histogram(L.tensor(
        np.round(np.random.RandomState(1).randn(300), 1)), bins=4, range=(-0.3, 2.1)),
    "histogram_empty": lambda L: L.histogram(L.tensor([]), bins=2),
    "torch_kl_div_mean": lambda L: L.kl_div(L.tensor([[0.1, -0.3]]), L.tensor([[0.5, 0.5]]), 1),
}


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
def test_values_match_torch(name):
    fn = VALUE_CASES[name]
    expected = _run(torch, fn)
    got = _run(fastnn, fn)
    if isinstance(expected, torch.Size):
        assert tuple(got) == tuple(expected)
    else:
        # (the Euler-Maclaurin sums of zeta agree to ~1e-10, not to the last bit)
        _same(expected, got, 1e-8 if "gamma" in name or "zeta" in name else 1e-12)


def test_where_uint8_condition_warns_as_torch():
    with pytest.warns(UserWarning, match="uint8 condition"):
        fastnn.where(fastnn.tensor([1, 0], dtype=fastnn.uint8), 1.0, 2.0)


ERROR_CASES = {
    # out-of-bounds indices: IndexError in PyTorch for these ...
    "index_select_oob": lambda L: L.zeros(3, 4).index_select(0, L.tensor([3])),
    "index_select_negative": lambda L: L.zeros(3, 4).index_select(0, L.tensor([-1])),
    "take_oob": lambda L: L.zeros(3, 4).take(L.tensor([12])),
    "take_negative_oob": lambda L: L.zeros(3, 4).take(L.tensor([-13])),
    "index_put_oob": lambda L: L.zeros(3, 4).index_put_((L.tensor([5]),), L.tensor(1.0)),
    # ... and RuntimeError for these
    "gather_oob": lambda L: L.zeros(3, 4).gather(1, L.tensor([[4]])),
    "scatter_oob": lambda L: L.zeros(3, 4).scatter(1, L.tensor([[4]]), 1.0),
    # reductions over an empty dim: IndexError with a dim, RuntimeError without
    "max_empty_dim": lambda L: L.zeros(0, 3).max(0),
    "min_empty_dim": lambda L: L.zeros(0, 3).min(0),
    "argmax_empty": lambda L: L.zeros(0, 3).argmax(),
    "amax_empty_dim": lambda L: L.zeros(0, 3).amax(0),
    "amax_empty_all": lambda L: L.zeros(0, 3).amax(),
    "amin_empty_all": lambda L: L.amin(L.zeros(0, 3)),
    "aminmax_empty_dim": lambda L: L.zeros(0, 3).aminmax(dim=0),
    "median_empty_dim": lambda L: L.zeros(0, 3).median(0),
    "mode_empty_dim": lambda L: L.zeros(0, 3).mode(0),
    "kthvalue_empty_dim": lambda L: L.zeros(0, 3).kthvalue(1, 0),
    # flatten: a dim out of range is an IndexError; start after end a RuntimeError
    "flatten_start_oob": lambda L: L.zeros(3, 4).flatten(2),
    "flatten_end_oob": lambda L: L.zeros(3, 4).flatten(0, 2),
    "flatten_fn_oob": lambda L: L.flatten(L.zeros(3, 4), -3),
    "flatten_start_after_end": lambda L: L.zeros(2, 3, 4).flatten(2, 1),
    # assigning a value of a shape that does not broadcast
    "setitem_bad_shape": lambda L: L.zeros(3, 4).__setitem__(0, L.ones(3)),
    # linalg on an integer matrix: RuntimeError
    "inv_int": lambda L: L.linalg.inv(L.eye(3, dtype=L.int64)),
    "det_int": lambda L: L.det(L.eye(3, dtype=L.int64)),
    "cholesky_int": lambda L: L.linalg.cholesky(L.eye(3, dtype=L.int64)),
    # one_hot of a class past num_classes, or negative: RuntimeError
    "one_hot_too_big": lambda L: L.nn.functional.one_hot(L.tensor([5]), 3),
    "one_hot_negative": lambda L: L.nn.functional.one_hot(L.tensor([-1])),
    # int()/float() of a tensor of several elements: ValueError
    "int_multi": lambda L: int(L.zeros(3)),
    "float_multi": lambda L: float(L.zeros(2, 2)),
    # addcdiv of two integer tensors (whatever the input): RuntimeError
    "addcdiv_int_factors": lambda L: L.addcdiv(L.tensor([1.0, 2.0]), L.tensor([1, 2]),
                                               L.tensor([3, 4])),
    # no kernel for the dtype: ~ of floats TypeError, bitwise ops NotImplementedError,
    # negating a bool tensor RuntimeError
    "invert_float": lambda L: ~L.ones(2),
    "bitwise_and_float": lambda L: L.ones(2) & L.ones(2),
    "bitwise_or_double": lambda L: L.bitwise_or(L.ones(2, dtype=L.float64), 1),
    "neg_bool": lambda L: -L.ones(2, dtype=L.bool),
    "neg_bool_method": lambda L: L.ones(2, dtype=L.bool).neg(),
    "neg_bool_inplace": lambda L: L.ones(2, dtype=L.bool).neg_(),
    "softshrink_negative_lambd": lambda L: L.nn.functional.softshrink(L.tensor([1.0]), -1),
    "stack_empty": lambda L: L.stack([]),
    "index_select_2d_index": lambda L: L.zeros(3, 4).index_select(0, L.tensor([[1]])),
    "diagonal_1d": lambda L: L.zeros(3).diagonal(),
    "diagonal_0d": lambda L: L.diagonal(L.tensor(1.0)),
    # the inf and negative norms of an empty reduction have no identity
    "vector_norm_inf_empty": lambda L: L.linalg.vector_norm(L.zeros(0), float("inf")),
    "vector_norm_neg_empty_dim": lambda L: L.linalg.vector_norm(L.zeros(2, 0), -1, dim=1),
    "norm_inf_empty": lambda L: L.zeros(0, 3).norm(float("inf"), dim=0),
    "norm_nuc_int_dim": lambda L: L.ones(3, 4).norm("nuc", dim=1),
    "norm_nuc_one_dim": lambda L: L.norm(L.ones(3, 4), "nuc", dim=(0,)),
    # matmul with a number: TypeError
    "matmul_number": lambda L: L.zeros(3, 4) @ 2,
    "rmatmul_number": lambda L: 2 @ L.zeros(3, 4),
}


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_error_class_matches_torch(name):
    fn = ERROR_CASES[name]
    with pytest.raises(Exception) as te:
        _run(torch, fn)
    # the exception fastnn raises is (a subclass of) the class PyTorch raises
    with pytest.raises(type(te.value).__mro__[0] if type(te.value).__module__ == "builtins"
                       else RuntimeError):
        _run(fastnn, fn)


def test_max_min_empty_dim_still_runtime_errors():
    # (the fuzz regression's RuntimeError and PyTorch's IndexError, both)
    with pytest.raises(RuntimeError):
        fastnn.zeros(2, 0).max(dim=1)
    with pytest.raises(IndexError):
        fastnn.zeros(2, 0).max(dim=1)


def test_error_classes_are_exported():
    # (both of PyTorch's classes, so code written for either catches them)
    assert issubclass(fastnn.OutOfRangeError, IndexError)
    assert issubclass(fastnn.OutOfRangeError, RuntimeError)
    assert issubclass(fastnn.DTypeError, TypeError) and issubclass(fastnn.DTypeError, RuntimeError)
    assert issubclass(fastnn.DTypeNotImplementedError, NotImplementedError)
    assert issubclass(fastnn.ValueRangeError, ValueError)
    with pytest.raises(fastnn.OutOfRangeError):
        fastnn.zeros(3).index_select(0, fastnn.tensor([3]))



def test_eq_with_a_string_or_container_is_pythons_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (fastnn, torch):
        x = lib.ones(2)
        assert (x == "a") is False and (x != "a") is True
        assert (x == [1, 1]) is False and (x != (1, 1)) is True
    assert bool((fastnn.ones(2) == 1).all())
