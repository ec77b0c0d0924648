"""``torch.nn.attention.sdpa_kernel`` and ``torch.backends.cuda.sdp_kernel``:
the backend switches for scaled_dot_product_attention, against PyTorch."""
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.nn.attention import SDPBackend, sdpa_kernel

Q = np.random.default_rng(0).standard_normal((1, 2, 4, 8)).astype(np.float32)


def _flags(lib):
    c = lib.backends.cuda
    return (c.math_sdp_enabled(), c.flash_sdp_enabled(), c.mem_efficient_sdp_enabled(),
            c.cudnn_sdp_enabled())


def _run(lib, mod, choice):
    """(flags inside, output or the error's type and first words, flags after)"""
    q = lib.from_numpy(Q)
    B = mod.SDPBackend
    backends = {"math": B.MATH, "flash": B.FLASH_ATTENTION,
                "both": [B.MATH, B.FLASH_ATTENTION], "efficient": B.EFFICIENT_ATTENTION,
                "cudnn": B.CUDNN_ATTENTION, "none": []}[choice]
    with mod.sdpa_kernel(backends):
        inside = _flags(lib)
        try:
            out = lib.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
            out = np.array(out.numpy())
        except RuntimeError as e:
            out = str(e)[:40]
    return inside, out, _flags(lib)


@pytest.mark.parametrize("choice", ["math", "flash", "both", "efficient", "cudnn", "none"])
def test_sdpa_kernel_matches_torch(choice):
    torch = pytest.importorskip("torch")
    import torch.nn.attention as tattn
    import fastnn.nn.attention as fattn
    got, want = _run(fastnn, fattn, choice), _run(torch, tattn, choice)
    assert got[0] == want[0] and got[2] == want[2] == (True, True, True, True)
    if isinstance(want[1], str):
        assert got[1] == want[1]
    else:
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6)


def test_sdpa_backend_enum_as_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.attention import SDPBackend as TB
    assert [(m.name, m.value) for m in SDPBackend] == [(m, v.value) for m, v in
                                                       TB.__members__.items()]
    assert repr(SDPBackend.MATH) == repr(TB.MATH) and str(SDPBackend.MATH) == str(TB.MATH)
    assert int(SDPBackend.FLASH_ATTENTION) == int(TB.FLASH_ATTENTION) == 1


def test_sdpa_kernel_decorator_and_bad_backend():
    @sdpa_kernel(SDPBackend.MATH)
    def inside():
        return fastnn.backends.cuda.flash_sdp_enabled()

    assert inside() is False and fastnn.backends.cuda.flash_sdp_enabled() is True
    with pytest.raises(TypeError, match="SDPBackend"):
        with sdpa_kernel("math"):
            pass
    with pytest.raises(AssertionError):      # what PyTorch raises
        with sdpa_kernel(0):
            pass
    import fastnn as torch_like
    assert torch_like.nn.attention.sdpa_kernel is sdpa_kernel


def test_deprecated_sdp_kernel_warns_and_switches():
    q = fastnn.from_numpy(Q)
    with pytest.warns(FutureWarning, match="sdpa_kernel"):
        with fastnn.backends.cuda.sdp_kernel(enable_flash=False, enable_math=False):
            with pytest.raises(RuntimeError, match="No viable backend"):
                F.scaled_dot_product_attention(q, q, q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fastnn.backends.cuda.sdp_kernel(enable_flash=False):
            assert F.scaled_dot_product_attention(q, q, q).shape == (1, 2, 4, 8)
    assert fastnn.backends.cuda.math_sdp_enabled() and fastnn.backends.cuda.flash_sdp_enabled()
