"""Every exportable op, one table: exported with a dynamic batch axis, run
in ONNX Runtime at batch 2 and 5, re-imported; all outputs match fastnn's
to 1e-5 (float32)."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F

from ._util import Fn, check, op_types, randn


def x4(c=3, h=6, w=6, scale=1.0):
    return lambda b: [randn(b, c, h, w, scale=scale)]


def x2(f=5, scale=1.0):
    return lambda b: [randn(b, f, scale=scale)]


def x3(t=4, f=6):
    return lambda b: [randn(b, t, f)]


def pos4(c=3, h=6, w=6):
    return lambda b: [np.abs(randn(b, c, h, w)) + 0.5]


def two(shape_a, shape_b):
    return lambda b: [randn(b, *shape_a), randn(b, *shape_b, seed=7)]


def fn(f, **parts):
    return Fn(lambda self, *xs: f(*xs), **parts)


def _set_first(x):
    y = x * 1.0
    y[:, 0] = 0.0
    y[..., 1:3] = x[..., 3:5] * 2.0
    y[:, -1, 2] = fastnn.tensor(5.0)
    y[:, 2, 1:4] = x[:, 0, :1]
    y[:, :, -1] += fastnn.tensor(np.arange(4, dtype=np.float32))
    return y


_CONST = fastnn.tensor(np.linspace(-1, 1, 3, dtype=np.float32).reshape(3, 1, 1))

# (id, module factory, inputs factory)
CASES = [
    # arithmetic and broadcasting
    ("add", lambda: fn(lambda a, b: a + b), two((3, 4), (3, 4))),
    ("sub_broadcast", lambda: fn(lambda a, b: a - b[:, :1]), two((3, 4), (3, 4))),
    ("mul", lambda: fn(lambda a, b: a * b), two((3, 4), (3, 4))),
    ("div", lambda: fn(lambda a, b: a / (b.abs() + 1.0)), two((3, 4), (3, 4))),
    ("scalars", lambda: fn(lambda x: (2.0 * x + 1.5) / 3.0 - 0.25), x2()),
    ("rsub_rdiv", lambda: fn(lambda x: 1.0 - 2.0 / (x.abs() + 1.0)), x2()),
    ("pow", lambda: fn(lambda x: x ** 2 + x.abs() ** 1.5), x2()),
    ("const_tensor", lambda: fn(lambda x: x * _CONST + _CONST), x4()),
    ("neg_exp_log", lambda: fn(lambda x: (-x).exp() + (x.abs() + 1).log()), x2()),
    ("sqrt_abs", lambda: fn(lambda x: x.abs().sqrt()), x2()),
    ("residual", lambda: fn(lambda x: F.relu(x) + x), x4()),
    ("inplace_on_input", lambda: fn(lambda x: x.mul_(2.0).add_(1.0).relu_()), x4()),
    ("setitem", lambda: fn(lambda x: _set_first(x)), x3()),
    ("clamp", lambda: fn(lambda x: x.clamp(-0.5, 0.7)), x2()),
    ("clamp_min", lambda: fn(lambda x: x.clamp(min=0.1)), x2()),
    ("maximum", lambda: fn(lambda a, b: fastnn.maximum(a, b)), two((4,), (4,))),
    ("where", lambda: fn(lambda a, b: fastnn.where(a > b, a, b * 2.0)), two((4,), (4,))),
    ("erf_sin", lambda: fn(lambda x: fastnn.erf(x) + fastnn.sin(x) * fastnn.cos(x)), x2()),
    ("rsqrt_recip", lambda: fn(lambda x: fastnn.rsqrt(x.abs() + 1) + fastnn.reciprocal(
        x.abs() + 1)), x2()),
    ("square_log1p", lambda: fn(lambda x: fastnn.square(x) + fastnn.log1p(x.abs())), x2()),
    # activations
    ("relu", lambda: nn.ReLU(), x4()),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), x4()),
    ("sigmoid", lambda: nn.Sigmoid(), x4()),
    ("tanh", lambda: nn.Tanh(), x4()),
    ("gelu", lambda: nn.GELU(), x4(scale=3.0)),
    ("gelu_tanh", lambda: nn.GELU(approximate="tanh"), x4(scale=3.0)),
    ("silu", lambda: nn.SiLU(), x4()),
    ("mish", lambda: nn.Mish(), x4()),
    ("elu", lambda: nn.ELU(0.7), x4()),
    ("selu", lambda: nn.SELU(), x4()),
    ("celu", lambda: nn.CELU(1.5), x4()),
    ("softplus", lambda: nn.Softplus(), x4(scale=5.0)),
    ("softplus_beta", lambda: nn.Softplus(beta=2.0, threshold=3.0), x4(scale=5.0)),
    ("logsigmoid", lambda: nn.LogSigmoid(), x4(scale=5.0)),
    ("hardtanh", lambda: nn.Hardtanh(-0.5, 0.8), x4()),
    ("relu6", lambda: nn.ReLU6(), x4(scale=5.0)),
    ("hardswish", lambda: nn.Hardswish(), x4(scale=4.0)),
    ("hardsigmoid", lambda: nn.Hardsigmoid(), x4(scale=4.0)),
    ("softsign", lambda: nn.Softsign(), x4()),
    ("threshold", lambda: nn.Threshold(0.1, -2.0), x4()),
    ("prelu_one", lambda: nn.PReLU(), x4()),
    ("prelu_channels", lambda: nn.PReLU(3, init=0.1), x4()),
    ("softmax", lambda: nn.Softmax(dim=1), x4()),
    ("softmax_last", lambda: fn(lambda x: F.softmax(x, -1)), x3()),
    ("log_softmax", lambda: nn.LogSoftmax(dim=-1), x2(scale=4.0)),
    ("softmin", lambda: nn.Softmin(dim=1), x2()),
    ("dropout_eval", lambda: nn.Sequential(nn.Linear(5, 4), nn.Dropout(0.5)), x2()),
    # reductions
    ("sum_dim", lambda: fn(lambda x: x.sum(1)), x4()),
    ("sum_keep", lambda: fn(lambda x: x.sum((2, 3), keepdim=True)), x4()),
    ("mean_dims", lambda: fn(lambda x: x.mean((1, -1))), x4()),
    ("max_dim", lambda: fn(lambda x: x.max(1)[0]), x4()),
    ("max_dim_indices", lambda: fn(lambda x: x.max(-1)), x3()),
    ("amax", lambda: fn(lambda x: x.amax((2, 3))), x4()),
    ("var_std", lambda: fn(lambda x: x.var(1) + x.std(1, keepdim=True).sum(1)), x3()),
    ("logsumexp", lambda: fn(lambda x: x.logsumexp(-1)), x3()),
    ("norm", lambda: fn(lambda x: x.norm(dim=-1) + x.norm(p=3, dim=-1) + x.norm(p=1, dim=-1)),
     x3()),
    # shapes
    ("flatten", lambda: nn.Flatten(), x4()),
    ("view", lambda: fn(lambda x: x.view(x.size(0), -1)), x4()),
    ("reshape_inner", lambda: fn(lambda x: x.reshape(x.shape[0], 3, 2, 18)), x4()),
    ("permute", lambda: fn(lambda x: x.permute(0, 2, 3, 1)), x4()),
    ("transpose", lambda: fn(lambda x: x.transpose(1, 2)), x3()),
    ("unsqueeze_squeeze", lambda: fn(lambda x: x.unsqueeze(1).squeeze(1).unsqueeze(-1)), x3()),
    ("cat", lambda: fn(lambda a, b: fastnn.cat([a, b, a], dim=1)), two((3, 4), (2, 4))),
    ("stack", lambda: fn(lambda a, b: fastnn.stack([a, b], dim=1)), two((3, 4), (3, 4))),
    ("slice", lambda: fn(lambda x: x[:, 1:3, ::2]), x3()),
    ("slice_neg", lambda: fn(lambda x: x[..., -3:] + x[:, :, :3]), x3()),
    ("index_int", lambda: fn(lambda x: x[:, 0] + x[:, -1]), x3()),
    ("index_none", lambda: fn(lambda x: x[:, None, 1:]), x3()),
    ("index_array", lambda: fn(lambda x: x[:, :, np.array([0, 2, 2, 5])]), x3()),
    ("expand", lambda: fn(lambda x: x[:, :, :1].expand(-1, -1, 5)), x3()),
    ("repeat", lambda: fn(lambda x: x.repeat(1, 2, 3)), x3()),
    ("flip", lambda: fn(lambda x: x.flip(-1)), x3()),
    ("chunk", lambda: fn(lambda x: x.chunk(2, dim=-1)[1] * 2.0), x3()),
    ("split_sizes", lambda: fn(lambda x: fastnn.split(x, [1, 2, 3], dim=-1)), x3()),
    ("clone_contiguous", lambda: fn(lambda x: x.transpose(1, 2).contiguous().clone()), x3()),
    ("tril", lambda: fn(lambda x: fastnn.tril(x[:, :4, :4])), x3()),
    ("erfc_trunc_frac", lambda: fn(lambda x: fastnn.erfc(x) + fastnn.trunc(x * 3.0) +
                                   fastnn.frac(x * 3.0)), x2()),
    ("remainder_fmod", lambda: fn(lambda x: fastnn.remainder(x * 3.0, 0.7) +
                                  fastnn.fmod(x * 3.0, 0.7)), x2()),
    ("roll", lambda: fn(lambda x: x.roll(2, -1) + x.roll((1, -1), (1, 2))), x3()),
    ("repeat_interleave", lambda: fn(lambda x: x.repeat_interleave(2, dim=1)), x3()),
    ("topk", lambda: fn(lambda x: x.topk(3, dim=-1)), x3()),
    ("sort", lambda: fn(lambda x: x.sort(dim=1, descending=True)[0]), x3()),
    ("take_along_dim", lambda: fn(lambda x: fastnn.take_along_dim(
        x, fastnn.tensor(np.array([[[0, 5, 1, 1, 2, 3]] * 4] * 1)).expand(x.shape[0], -1, -1),
        dim=2)), x3()),
    ("normalize", lambda: fn(lambda x: F.normalize(x, dim=-1) + F.normalize(x, p=1.0, dim=1)),
     x3()),
    ("cosine_similarity", lambda: fn(lambda a, b: F.cosine_similarity(a, b, dim=-1)),
     two((3, 4), (3, 4))),
    ("pairwise_distance", lambda: fn(lambda a, b: F.pairwise_distance(a, b)),
     two((4,), (4,))),
    # products
    ("matmul", lambda: fn(lambda a, b: a @ b), two((3, 4), (4, 2))),
    ("matmul_weight", lambda: Fn(lambda s, x: x @ s.w, w=nn.Parameter(fastnn.randn(6, 3))),
     x3()),
    ("linear_3d", lambda: nn.Linear(6, 4), x3()),
    ("linear_nobias", lambda: nn.Linear(5, 3, bias=False), x2()),
    ("einsum", lambda: fn(lambda a, b: fastnn.einsum("bij,bjk->bik", a, b)),
     two((3, 4), (4, 2))),
    # layers
    ("mlp", lambda: nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)), x2()),
    ("conv", lambda: nn.Conv2d(3, 4, 3), x4()),
    ("conv_stride_pad", lambda: nn.Conv2d(3, 5, 3, stride=2, padding=1), x4(h=7, w=7)),
    ("conv_rect", lambda: nn.Conv2d(3, 2, (1, 3), padding=(0, 1)), x4()),
    ("conv_relu_fused", lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()), x4()),
    ("maxpool", lambda: nn.MaxPool2d(2), x4()),
    ("maxpool_stride_pad", lambda: nn.MaxPool2d(3, stride=2, padding=1), x4(h=7, w=7)),
    ("maxpool_ceil", lambda: nn.MaxPool2d(2, ceil_mode=True), x4(h=7, w=7)),
    ("maxpool_dilation", lambda: nn.MaxPool2d(2, stride=1, dilation=2), x4()),
    ("maxpool1d", lambda: nn.MaxPool1d(2), x3()),
    ("avgpool", lambda: nn.AvgPool2d(2), x4()),
    ("avgpool_pad", lambda: nn.AvgPool2d(3, stride=2, padding=1), x4(h=7, w=7)),
    ("avgpool_pad_exclude", lambda: nn.AvgPool2d(3, stride=2, padding=1,
                                                 count_include_pad=False), x4(h=7, w=7)),
    ("avgpool_ceil", lambda: nn.AvgPool2d(2, ceil_mode=True), x4(h=7, w=7)),
    ("avgpool_divisor", lambda: nn.AvgPool2d(2, divisor_override=3), x4()),
    ("avgpool1d", lambda: nn.AvgPool1d(3, stride=2), x3(t=4, f=9)),
    ("global_avgpool", lambda: nn.AdaptiveAvgPool2d(1), x4()),
    ("adaptive_avg_2", lambda: nn.AdaptiveAvgPool2d(2), x4()),
    ("adaptive_avg_uneven", lambda: nn.AdaptiveAvgPool2d((4, 5)), x4(h=7, w=9)),
    ("adaptive_max_uneven", lambda: nn.AdaptiveMaxPool2d(3), x4(h=7, w=8)),
    ("adaptive_max_global", lambda: nn.AdaptiveMaxPool2d((1, 1)), x4()),
    ("adaptive_avg_1d", lambda: nn.AdaptiveAvgPool1d(3), x3(t=4, f=7)),
    ("batchnorm2d", lambda: _trained_bn(nn.BatchNorm2d(3), (8, 3, 4, 4)), x4()),
    ("batchnorm1d", lambda: _trained_bn(nn.BatchNorm1d(5), (8, 5)), x2()),
    ("batchnorm_noaffine", lambda: _trained_bn(nn.BatchNorm2d(3, affine=False),
                                               (8, 3, 4, 4)), x4()),
    ("batchnorm_relu", lambda: nn.Sequential(_trained_bn(nn.BatchNorm2d(3), (8, 3, 4, 4)),
                                             nn.ReLU()), x4()),
    ("batchnorm_batch_stats", lambda: nn.BatchNorm2d(3, track_running_stats=False), x4()),
    ("layernorm", lambda: _affine_random(nn.LayerNorm(6)), x3()),
    ("layernorm_2d", lambda: _affine_random(nn.LayerNorm((6, 6))), x4()),
    ("groupnorm", lambda: _affine_random(nn.GroupNorm(2, 4)), x4(c=4)),
    ("instancenorm", lambda: nn.InstanceNorm2d(3, affine=True), x4()),
    ("upsample_nearest", lambda: nn.Upsample(scale_factor=2, mode="nearest"), x4(h=4, w=5)),
    ("upsample_bilinear", lambda: nn.Upsample(scale_factor=2, mode="bilinear"), x4(h=4, w=5)),
    ("upsample_align", lambda: nn.Upsample(size=(7, 9), mode="bilinear", align_corners=True),
     x4(h=4, w=5)),
    ("upsample_size_nearest", lambda: fn(lambda x: F.interpolate(x, size=(5, 7))),
     x4(h=4, w=5)),
    ("pixel_shuffle", lambda: nn.PixelShuffle(2), x4(c=8, h=3, w=4)),
    ("pixel_unshuffle", lambda: nn.PixelUnshuffle(2), x4(c=2, h=4, w=6)),
]


def _trained_bn(bn, shape):
    bn.train()
    for s in range(3):
        bn(fastnn.tensor(randn(*shape, seed=s, scale=2.0) + 0.5))
    return bn


def _affine_random(m):
    with fastnn.no_grad():
        m.weight.data = fastnn.tensor(randn(*m.weight.shape, seed=3) + 1.0)
        m.bias.data = fastnn.tensor(randn(*m.bias.shape, seed=4))
    return m


@pytest.mark.parametrize("name,make,inputs", CASES, ids=[c[0] for c in CASES])
def test_op_exports_and_matches(name, make, inputs):
    fastnn.manual_seed(0)
    check(make(), inputs)


@pytest.mark.parametrize("opset", [13, 15, 18, 20, 21])
@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "layernorm", "groupnorm", "mish",
                                  "mean_dims", "sum_keep", "batchnorm2d", "split_sizes",
                                  "adaptive_avg_uneven"])
def test_opsets(name, opset):
    _, make, inputs = next(c for c in CASES if c[0] == name)
    fastnn.manual_seed(0)
    check(make(), inputs, opset=opset)


def test_native_ops_where_the_opset_has_them():
    fastnn.manual_seed(0)
    ln = _affine_random(nn.LayerNorm(6))
    assert "LayerNormalization" in op_types(check(ln, x3(), opset=17))
    assert "LayerNormalization" not in op_types(check(ln, x3(), opset=13))
    assert "Gelu" in op_types(check(nn.GELU(), x4(), opset=20))
    assert "Erf" in op_types(check(nn.GELU(), x4(), opset=17))
    gn = _affine_random(nn.GroupNorm(2, 4))
    assert "GroupNormalization" in op_types(check(gn, x4(c=4), opset=21))
    assert "InstanceNormalization" in op_types(check(gn, x4(c=4), opset=18))


def test_linear_is_one_gemm():
    proto = check(nn.Linear(5, 3), x2())
    assert op_types(proto) == ["Gemm"]


def test_static_shapes_without_dynamic_axes():
    proto = check(nn.Sequential(nn.Flatten(), nn.Linear(108, 2)), x4(), dynamic=False)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [2, 3, 6, 6]


def _needs(make):
    """The module, or a skip when this fastnn lacks the layer or option
    (groups, dilation, transposed and 1-D convolutions, padding modes)."""
    try:
        return make()
    except (TypeError, ValueError, NotImplementedError, AttributeError) as e:
        pytest.skip(f"not available in this fastnn: {e}")


CONV_CASES = [
    ("conv_groups", lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2), x4(c=4)),
    ("conv_depthwise", lambda: nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4), x4(c=4)),
    ("conv_dilation", lambda: nn.Conv2d(3, 4, 3, padding=2, dilation=2), x4(h=8, w=8)),
    ("conv_same_even", lambda: nn.Conv2d(3, 4, 4, padding="same"), x4()),
    ("conv_reflect", lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), x4()),
    ("conv_replicate", lambda: nn.Conv2d(3, 4, 3, padding=2, padding_mode="replicate"), x4()),
    ("conv_circular", lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"), x4()),
    ("conv1d", lambda: nn.Conv1d(4, 6, 3, padding=1, stride=2), x3(t=4, f=9)),
    ("conv1d_groups_dil", lambda: nn.Conv1d(4, 4, 3, padding=2, dilation=2, groups=2),
     x3(t=4, f=9)),
    ("conv_transpose", lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1,
                                                  output_padding=1), x4(h=5, w=5)),
    ("conv_transpose_groups", lambda: nn.ConvTranspose2d(4, 6, 4, stride=2, groups=2,
                                                         dilation=1), x4(c=4, h=4, w=4)),
    ("conv_transpose_dil", lambda: nn.ConvTranspose2d(3, 2, 3, stride=1, padding=1,
                                                      dilation=2), x4(h=5, w=5)),
    ("conv_transpose1d", lambda: nn.ConvTranspose1d(4, 3, 3, stride=2), x3(t=4, f=6)),
]


@pytest.mark.parametrize("name,make,inputs", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_options_export(name, make, inputs):
    fastnn.manual_seed(0)
    model = _needs(make)
    try:
        model(fastnn.tensor(inputs(1)[0]))
    except NotImplementedError as e:
        pytest.skip(f"not available in this fastnn: {e}")
    check(model, inputs)
