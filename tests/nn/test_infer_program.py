"""The inference program of nn.Sequential (fastnn/nn/fusion.py, csrc/infer.c):
under no_grad the layers it knows run back to back in C over chunks of the
batch.  Its output is bitwise the layer-by-layer forward's (the program
switched off), and to rounding with batch norm folded into the convolution
when asked; it does not depend
on the thread count; it follows every change to the modules (attributes,
hooks, modes, parameters changed or replaced); it runs layers it does not
know as called; and it agrees with PyTorch's eval forward."""
import copy

import numpy as np
import pytest

import fastnn
import fastnn._core as core
from fastnn import nn
from fastnn.nn import fusion

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def _cnn(dtype=np.float32, c=3):
    fastnn.manual_seed(0)
    m = nn.Sequential(
        nn.Conv2d(c, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 10))
    rng = np.random.default_rng(3)
    for bn in (m[1], m[5]):   # running statistics and affine parameters away from 0/1
        bn.running_mean.data[...] = rng.standard_normal(bn.num_features)
        bn.running_var.data[...] = rng.uniform(0.5, 2.0, bn.num_features)
        bn.weight.data[...] = rng.uniform(0.5, 1.5, bn.num_features)
        bn.bias.data[...] = rng.standard_normal(bn.num_features) * 0.1
    if dtype == np.float64:
        m.double()
    return m.eval()


def _x(shape, dtype=np.float32, seed=1):
    return fastnn.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def _both(m, x):
    """(program output, layer-by-layer output) under no_grad"""
    with fastnn.no_grad():
        got = m(x).numpy().copy()
        prev = fusion.set_inference_program(enabled=False)
        try:
            want = m(x).numpy().copy()
        finally:
            fusion.set_inference_program(**{"enabled": prev["enabled"]})
    return got, want


@pytest.fixture(autouse=True)
def _restore():
    prev = fusion.set_inference_program()
    threads = fastnn.get_num_threads()
    yield
    fusion.set_inference_program(prev["enabled"], prev["fold_batchnorm"])
    fastnn.set_num_threads(threads)


def _program_ran(m):
    plan = m.__dict__.get("_infer_plan")
    return plan is not None and any(
        isinstance(s[0], core.InferProgram) for steps in plan.cache.values()
        if isinstance(steps, list) for s in steps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N", [1, 3, 4, 8, 17, 64])
def test_equals_layer_by_layer(dtype, N):
    m = _cnn(dtype)
    got, want = _both(m, _x((N, 3, 16, 16), dtype))
    assert _program_ran(m)
    assert got.shape == (N, 10) and got.dtype == dtype
    # the same kernels (each chunk's convolutions on the method the whole
    # batch gets; the linear layer over the whole batch): the same numbers
    np.testing.assert_array_equal(got, want)
    P = m.__dict__["_infer_plan"].cache[((3, 16, 16), np.dtype(dtype))][0][0]
    assert (P.chunk(N) < N) == (N >= 8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thread_count_does_not_change_the_result(dtype):
    """Chunks shared out among 1, 2 or 3 threads (the parallel region of
    csrc/infer.inc), and one chunk with threaded layers: bitwise equal."""
    m = _cnn(dtype)
    for N in (1, 40):
        x = _x((N, 3, 16, 16), dtype)
        outs = []
        for nt in (1, 2, 3):
            fastnn.set_num_threads(nt)
            with fastnn.no_grad():
                outs.append(m(x).numpy().copy())
        for o in outs[1:]:
            np.testing.assert_array_equal(o, outs[0])


def test_chunks_are_fixed_by_the_batch_not_the_threads():
    # (activations of 16 KiB an image: a chunk of 4 fits in any L2 of
    # 256 KiB or more, whatever the machine's)
    P = core.InferProgram((3, 16, 16), np.float32)
    P.append(("conv", 16, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, True, None, True))
    P.append(("maxpool", 2, 2, 2, 2, 0, 0, 1, 1, False))
    batches = (0, 1, 2, 4, 5, 64, 1000)
    before = fastnn.get_num_threads()
    try:
        per_threads = []
        for t in (1, 2, 3):
            fastnn.set_num_threads(t)
            per_threads.append([P.chunk(n) for n in batches])
    finally:
        fastnn.set_num_threads(before)
    sizes = per_threads[0]
    assert per_threads[1] == sizes and per_threads[2] == sizes
    assert sizes[:3] == [0, 1, 2]                       # small batches: one chunk
    assert all(1 <= c <= n for c, n in zip(sizes[1:], batches[1:]))
    assert sizes[-1] < 1000                              # a big batch is chunked


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_folded_batchnorm(dtype):
    m = _cnn(dtype)
    x = _x((9, 3, 16, 16), dtype)
    fusion.set_inference_program(fold_batchnorm=True)
    got, want = _both(m, x)
    np.testing.assert_allclose(got, want, **TOL[dtype])
    # conv without bias, batch norm without affine parameters, folded too
    fastnn.manual_seed(1)
    m2 = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8, affine=False),
                       nn.ReLU(), nn.Flatten())
    m2[1].running_var.data[...] = 3.0
    if dtype == np.float64:
        m2.double()
    m2.eval()
    got, want = _both(m2, x)
    np.testing.assert_allclose(got, want, **TOL[dtype])
    assert len(m2.__dict__["_infer_plan"].cache[((3, 16, 16), np.dtype(dtype))][0][0]) == 1


def test_matches_torch_eval_forward():
    torch = pytest.importorskip("torch")
    m = _cnn()
    tm = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.BatchNorm2d(32),
        torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(512, 10))
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    tm.eval()
    x = _x((33, 3, 16, 16))
    for fold in (False, True):
        fusion.set_inference_program(fold_batchnorm=fold)
        with fastnn.no_grad():
            got = m(x).numpy()
        with torch.no_grad():
            want = tm(torch.from_numpy(x.numpy().copy())).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_options(dtype):
    """Strided, dilated, grouped and depthwise convolutions; max pooling
    with padding, dilation and ceil_mode; average pooling with every
    option; batch norm alone (2-D and 1-D) with ReLU; Dropout and Identity
    in eval; Linear + ReLU."""
    fastnn.manual_seed(2)
    m = nn.Sequential(
        nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=4),
        nn.BatchNorm2d(8), nn.ReLU(inplace=True),
        nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),
        nn.MaxPool2d(3, stride=2, padding=1, dilation=1, ceil_mode=True),
        nn.Dropout(0.5), nn.Identity(),
        nn.AvgPool2d(2, stride=1, padding=1, ceil_mode=True, count_include_pad=False),
        nn.AvgPool2d(2, divisor_override=3),
        nn.MaxPool2d(2, stride=1, dilation=2),
        nn.Flatten(), nn.Linear(8, 12), nn.ReLU(), nn.BatchNorm1d(12), nn.ReLU(),
        nn.Linear(12, 3, bias=False))
    m[3].running_mean.data[...] = 0.3
    m[15].running_var.data[...] = 2.0
    if dtype == np.float64:
        m.double()
    m.eval()
    for N in (1, 6, 33):
        x = _x((N, 4, 17, 19), dtype)
        got, want = _both(m, x)
        assert _program_ran(m)
        np.testing.assert_array_equal(got, want)


def test_unknown_layers_run_between_programs():
    """A Tanh in the middle and a Softmax at the end run as called; the
    layers on either side run as programs."""
    fastnn.manual_seed(3)
    m = nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU(), nn.Tanh(), nn.Conv2d(6, 6, 3),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 2 * 2, 5),
                      nn.Softmax(dim=1)).eval()
    x = _x((20, 3, 8, 8))
    got, want = _both(m, x)
    np.testing.assert_array_equal(got, want)
    cache = m.__dict__["_infer_plan"].cache
    steps = cache[((3, 8, 8), np.dtype(np.float32))]
    assert isinstance(steps[0][0], core.InferProgram) and steps[1][1] is m[2]
    later = [v for k, v in cache.items() if k[0] == "later"]
    assert later and any(isinstance(s[0], core.InferProgram)
                         for steps in later[0].values() for s in steps)


def test_follows_every_change_to_the_modules():
    m = _cnn()
    x = _x((9, 3, 16, 16))
    got, want = _both(m, x)
    np.testing.assert_array_equal(got, want)
    # parameters changed in place (an optimiser step)
    opt = fastnn.optim.SGD(m.parameters(), lr=0.5)
    m.train()
    m(x).sum().backward()
    opt.step()
    m.eval()
    got2, want2 = _both(m, x)
    assert not np.allclose(got2, got)
    np.testing.assert_array_equal(got2, want2)
    # running statistics written in place
    with fastnn.no_grad():
        m[1].running_mean.mul_(2.0)
    got3, want3 = _both(m, x)
    assert not np.allclose(got3, got2)
    np.testing.assert_array_equal(got3, want3)
    # an attribute (stride) changed: the next layer's input changes shape
    m[4].stride = (2, 2)
    m[9] = nn.Linear(32 * 2 * 2, 10)
    m.eval()
    got4, want4 = _both(m, x)
    assert got4.shape == (9, 10)
    np.testing.assert_array_equal(got4, want4)
    # a parameter replaced by another shape's, a bias removed
    m[9].weight = nn.Parameter(fastnn.randn(7, 128))
    m[9].bias = None
    got5, want5 = _both(m, x)
    assert got5.shape == (9, 7)
    np.testing.assert_array_equal(got5, want5)
    # a hook sees every call, and training mode runs batch statistics
    seen = []
    h = m[2].register_forward_hook(lambda mod, i, o: seen.append(o.shape))
    with fastnn.no_grad():
        m(x)
    assert seen == [(9, 16, 16, 16)]
    h.remove()
    m.train()
    got6, want6 = _both(m, x)
    np.testing.assert_array_equal(got6, want6)
    assert m[1].num_batches_tracked.item() >= 2


def test_inplace_relu_first_changes_the_input_as_called():
    m = nn.Sequential(nn.ReLU(inplace=True), nn.Flatten()).eval()
    x = _x((2, 3, 4, 4))
    with fastnn.no_grad():
        y = m(x)
    assert (x.numpy() >= 0).all() and np.array_equal(y.numpy(), x.numpy().reshape(2, -1))


def test_other_ranks_and_dtypes_run_as_called():
    fastnn.manual_seed(4)
    m = nn.Sequential(nn.Linear(6, 4), nn.ReLU()).eval()
    x3 = _x((2, 5, 6))                 # Linear over the last dim of a 3-D input
    got, want = _both(m, x3)
    assert got.shape == (2, 5, 4)
    np.testing.assert_array_equal(got, want)
    xe = fastnn.zeros(0, 6)            # an empty batch
    with fastnn.no_grad():
        assert m(xe).shape == (0, 4)


def test_bad_input_raises_the_layers_error():
    m = _cnn()
    for bad in (_x((2, 4, 16, 16)), _x((2, 3, 12, 12))):   # channels; flattened size
        with fastnn.no_grad(), pytest.raises(Exception) as e1:
            m(bad)
        fusion.set_inference_program(enabled=False)
        with fastnn.no_grad(), pytest.raises(Exception) as e2:
            m(bad)
        fusion.set_inference_program(enabled=True)
        assert type(e1.value) is type(e2.value) and str(e1.value) == str(e2.value)


def test_copies_and_grad_mode():
    m = _cnn()
    x = _x((3, 3, 16, 16))
    with fastnn.no_grad():
        y = m(x).numpy().copy()
    m2 = copy.deepcopy(m)
    with fastnn.no_grad():
        np.testing.assert_array_equal(m2(x).numpy(), y)
    out = m(x)                          # grad mode: the graph is recorded
    assert out.grad_fn is not None
    np.testing.assert_array_equal(out.detach().numpy(), y)


def test_program_checks_its_arrays_and_ops():
    P = core.InferProgram((3, 8, 8), np.float32)
    with pytest.raises(ValueError):
        P.append(("conv", 4, 2, 3, 3, 1, 1, 0, 0, 1, 1, 1, False, None, False))  # 2 != 3 ch
    with pytest.raises(ValueError):
        P.append(("linear", 10, 2, False, False))          # 3*8*8 features, not 10
    with pytest.raises(ValueError):
        P.append(("maxpool", 9, 9, 1, 1, 0, 0, 1, 1, False))   # window past the image
    with pytest.raises(ValueError):
        P.append(("softmax",))
    assert P.append(("conv", 4, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1, True, None, True)) == (4, 6, 6)
    assert P.append(("linear", 144, 2, False, False)) == (2, 1, 1)
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    b = np.zeros(4, np.float32)
    lw = np.ones((2, 144), np.float32)
    y = P.run(x, [(w, b, None, None, None, None), (lw, None, None, None, None, None)], 1)
    ref = np.maximum(np.lib.stride_tricks.sliding_window_view(x, (3, 3), (2, 3)).sum(
        axis=(1, 4, 5)), 0)                               # (2, 6, 6), the same for each k
    np.testing.assert_allclose(y.reshape(2, 2), np.repeat(ref.reshape(2, -1).sum(1, keepdims=True)
                                                          * 4, 2, axis=1), rtol=1e-5)
    for bad in ([(w, None, None, None, None, None), (lw, None) + (None,) * 4],   # bias missing
                [(w[:2], b) + (None,) * 4, (lw,) + (None,) * 5],                 # wrong size
                [(w.astype(np.float64), b) + (None,) * 4, (lw,) + (None,) * 5],  # wrong dtype
                [(w, b) + (None,) * 4, (lw, b[:2]) + (None,) * 4]):              # extra bias
        with pytest.raises(core.InferMismatch):
            P.run(x, bad, 1)
    with pytest.raises(core.InferMismatch):
        P.run(x[:, :2].copy(), [(w, b) + (None,) * 4, (lw,) + (None,) * 5], 1)
    assert P.run(x[:0], [(w, b) + (None,) * 4, (lw,) + (None,) * 5], 1).shape == (0, 2, 1, 1)


def test_one_program_in_several_threads_at_once():
    """Python threads running the same Sequential (its programs shared,
    each call with its own copy of the ops and its own arrays)."""
    import threading
    m = _cnn()
    xs = [_x((n, 3, 16, 16), seed=n) for n in (1, 5, 9, 33)]
    with fastnn.no_grad():
        want = [m(x).numpy().copy() for x in xs]
    errors = []

    def work(i):
        try:
            for _ in range(15):
                with fastnn.no_grad():
                    np.testing.assert_array_equal(m(xs[i]).numpy(), want[i])
        except Exception as e:   # reported below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("relu", [True, False])
def test_batchnorm_and_pooling_in_chunks(dtype, relu):
    """In chunks, an eval batch norm (+ ReLU) followed by 2x2 max pooling
    (the values-only pooling kernel on the chunk's buffers): the values of
    the layers one by one, NaN and infinities included, odd sizes (the last
    row and column dropped), with and without affine parameters."""
    rng = np.random.default_rng(6)
    for affine, W in ((True, 9), (False, 16)):
        fastnn.manual_seed(5)
        layers = [nn.BatchNorm2d(5, affine=affine)] + ([nn.ReLU()] if relu else []) + [
            nn.MaxPool2d(2), nn.Conv2d(5, 4, 1), nn.BatchNorm2d(4), nn.MaxPool2d(2)]
        m = nn.Sequential(*layers)
        m[0].running_mean.data[...] = rng.standard_normal(5)
        m[0].running_var.data[...] = rng.uniform(0.2, 3.0, 5)
        if affine:
            m[0].weight.data[...] = rng.standard_normal(5)
        if dtype == np.float64:
            m.double()
        m.eval()
        a = rng.standard_normal((24, 5, 11, W)).astype(dtype)
        a.flat[rng.integers(0, a.size, 40)] = np.nan
        a.flat[rng.integers(0, a.size, 40)] = np.inf
        a.flat[rng.integers(0, a.size, 40)] = -np.inf
        got, want = _both(m, fastnn.tensor(a))
        P = m.__dict__["_infer_plan"].cache[((5, 11, W), np.dtype(dtype))][0][0]
        assert P.chunk(24) < 24                      # chunked
        np.testing.assert_array_equal(got, want)     # NaN where the layers give NaN
        assert np.isnan(got).any() and np.isfinite(got).any()


# (in, out, kernel, stride, padding, dilation, groups, H, W): the methods a
# convolution can take -- Winograd (3 x 3 stride 1 on a larger plane), the
# rows (small planes), the direct and packed implicit GEMMs, space to
# depth (stride 2), 1 x 1, 5 x 5, a 7 x 7 stem, grouped, dilated and
# depthwise -- each followed by an eval batch norm in the same call
_CONV_BN_CASES = [
    (3, 16, 3, 1, 1, 1, 1, 20, 20), (13, 21, 3, 1, 1, 1, 1, 16, 16),
    (8, 16, 3, 1, 1, 1, 1, 6, 6), (3, 16, 3, 1, 1, 1, 1, 32, 32),
    (16, 32, 3, 2, 1, 1, 1, 15, 15), (16, 32, 1, 1, 0, 1, 1, 9, 9),
    (6, 24, 5, 1, 2, 1, 1, 14, 14), (3, 10, 7, 2, 3, 1, 1, 23, 23),
    (8, 12, 3, 1, 2, 2, 4, 12, 12), (8, 8, 3, 1, 1, 1, 8, 10, 10),
    (4, 6, 2, 2, 0, 1, 1, 12, 12), (9, 40, 3, 1, 0, 1, 1, 11, 7),
    (3, 20, 3, 1, 1, 1, 1, 33, 64), (2, 7, 5, 1, 2, 1, 1, 9, 32),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(_CONV_BN_CASES)))
def test_convolution_and_batchnorm_in_one_call(dtype, case):
    """A Conv2d followed by an eval BatchNorm2d (+ ReLU) and a 2 x 2 max
    pooling runs as one call, the batch norm's scale and shift (and the
    pooling, where the method can) in the convolution's epilogue: bitwise
    the layers one by one, for every method a convolution can take, odd
    sizes, with and without bias, affine parameters and ReLU, NaN and
    infinities in the input, at 1, 2 and 3 threads and at batches that run
    whole or in chunks."""
    C, K, k, s, p, d, g, H, W = _CONV_BN_CASES[case]
    rng = np.random.default_rng(case)
    for variant, (bias, affine, relu) in enumerate(
            ((True, True, True), (False, True, False), (True, False, True))):
        fastnn.manual_seed(case)
        layers = [nn.Conv2d(C, K, k, stride=s, padding=p, dilation=d, groups=g, bias=bias),
                  nn.BatchNorm2d(K, affine=affine)] + ([nn.ReLU()] if relu else [])
        # (2 x 2 pooling after it: pooled in the convolution's epilogue
        # where its method can, else as called)
        m = nn.Sequential(*(layers + [nn.MaxPool2d(2, ceil_mode=variant == 1)]))
        bn = m[1]
        bn.running_mean.data[...] = rng.standard_normal(K)
        bn.running_var.data[...] = rng.uniform(0.2, 3.0, K)
        if affine:
            bn.weight.data[...] = rng.standard_normal(K)
            bn.bias.data[...] = rng.standard_normal(K)
        if dtype == np.float64:
            m.double()
        m.eval()
        for N in (1, 5, 24):
            a = rng.standard_normal((N, C, H, W)).astype(dtype)
            a.flat[rng.integers(0, a.size, 3)] = np.nan
            a.flat[rng.integers(0, a.size, 3)] = np.inf
            for nt in (1, 2, 3):
                fastnn.set_num_threads(nt)
                got, want = _both(m, fastnn.tensor(a))
                assert _program_ran(m)
                np.testing.assert_array_equal(got, want, err_msg=f"{variant} N={N} nt={nt}")
            assert np.isfinite(got).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_convolution_batchnorm_pass_in_threads(dtype):
    """A convolution whose method has no epilogue for the batch norm
    (depthwise; space to depth) applies it in a pass over its output, in
    threads above the serial cut-off: bitwise the layers at 1 and 2
    threads."""
    rng = np.random.default_rng(8)
    for conv, H in ((nn.Conv2d(16, 16, 3, padding=1, groups=16), 72),
                    (nn.Conv2d(4, 24, 3, stride=2, padding=1), 130)):
        fastnn.manual_seed(9)
        m = nn.Sequential(conv, nn.BatchNorm2d(conv.out_channels), nn.ReLU())
        m[1].running_mean.data[...] = rng.standard_normal(conv.out_channels)
        m[1].running_var.data[...] = rng.uniform(0.2, 3.0, conv.out_channels)
        if dtype == np.float64:
            m.double()
        m.eval()
        a = rng.standard_normal((1, conv.in_channels, H, H)).astype(dtype)
        outs = []
        for nt in (1, 2):
            fastnn.set_num_threads(nt)
            got, want = _both(m, fastnn.tensor(a))
            assert _program_ran(m)
            np.testing.assert_array_equal(got, want)
            outs.append(got)
        np.testing.assert_array_equal(outs[0], outs[1])
        assert (outs[0] == 0).any() and (outs[0] > 0).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_convolution_relu_pooling_without_batchnorm(dtype):
    """Conv2d + ReLU + 2 x 2 max pooling, no batch norm between (the digits
    CNN, and the same on 16 x 16 and 32 x 32 planes: rows, Winograd and the
    direct implicit GEMM): pooled in the convolution's epilogue where the
    method can, bitwise the layers at every thread count."""
    from fastnn.cli import build_digits_cnn
    rng = np.random.default_rng(11)
    for H, make in ((8, build_digits_cnn),
                    (16, lambda: nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                                               nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                                               nn.ReLU(), nn.MaxPool2d(2))),
                    (32, lambda: nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
                                               nn.MaxPool2d(2)))):
        fastnn.manual_seed(3)
        m = make()
        if dtype == np.float64:
            m.double()
        m.eval()
        for N in (1, 5, 64):
            a = rng.standard_normal((N, 1, H, H)).astype(dtype)
            a.flat[rng.integers(0, a.size, 2)] = np.nan
            for nt in (1, 2):
                fastnn.set_num_threads(nt)
                got, want = _both(m, fastnn.tensor(a))
                assert _program_ran(m)
                np.testing.assert_array_equal(got, want)
