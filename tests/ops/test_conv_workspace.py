"""The convolution's scratch memory is bounded by the threads and one image,
never by the batch (PERF.md, footprint)."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import _core


def _conv_ws_bytes(N, C, H, W, K, R, stride, padding, threads, dtype=np.float32):
    rng = np.random.default_rng(N)
    x = fastnn.tensor(rng.standard_normal((N, C, H, W)).astype(dtype), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal((K, C, R, R)).astype(dtype), requires_grad=True)
    b = fastnn.tensor(rng.standard_normal(K).astype(dtype), requires_grad=True)
    before = fastnn.get_num_threads()
    fastnn.set_num_threads(threads)
    try:
        _core.clear_workspaces()
        y = F.conv2d(x, w, b, stride=stride, padding=padding)
        y.sum().backward()
        assert x.grad is not None and w.grad is not None
        info = _core.workspace_info()
    finally:
        fastnn.set_num_threads(before)
    return sum(v for (op, _), v in info.items() if op == "conv2d"), y.shape


@pytest.mark.parametrize("geom", [
    (3, 32, 32, 32, 3, 1, 1),    # conv_first-like
    (16, 16, 16, 24, 3, 1, 1),
    (8, 15, 15, 8, 5, 2, 2),     # strided: the packed (col2im) path
    (16, 8, 8, 16, 1, 1, 0),     # 1x1
])
@pytest.mark.parametrize("threads", [1, 2])
def test_conv_workspace_does_not_grow_with_batch(geom, threads):
    C, H, W, K, R, s, p = geom
    # a small batch may run serially (less scratch); past that the batch
    # size changes nothing
    small, shp = _conv_ws_bytes(40, C, H, W, K, R, s, p, threads)
    large, _ = _conv_ws_bytes(96, C, H, W, K, R, s, p, threads)
    assert large == small
    # per thread: at most one image's im2col columns (or one padded image)
    # plus the GEMM's packed panels; never a term in N
    OH, OW = shp[2], shp[3]
    one_image = max(C * R * R * OH * OW, C * (H + 2 * p) * (W + 2 * p)) * 4
    gemm_panels = 4 << 20
    assert small <= threads * (one_image + gemm_panels), (small, one_image)


def test_workspace_info_reports_and_clears():
    x = fastnn.randn(2, 3, 8, 8)
    w = fastnn.randn(4, 3, 3, 3)
    F.conv2d(x, w, padding=1)
    assert any(op == "conv2d" for op, _ in _core.workspace_info())
    _core.clear_workspaces()
    assert _core.workspace_info() == {}
