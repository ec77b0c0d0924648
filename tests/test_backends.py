"""What a PyTorch program's set-up code touches: the backends flags
(``torch.backends.cuda.matmul.allow_tf32 = True``, cudnn, mps, mkldnn,
openmp, cpu) with PyTorch's names and defaults, settable; the
torch.compiler pass-throughs; torch.utils.data.distributed's sampler."""
import pytest

import fastnn
from fastnn.testing import requires_torch


def test_cuda_flags_have_torch_defaults_and_can_be_set():
    torch = requires_torch()
    fb, tb = fastnn.backends.cuda, torch.backends.cuda
    for flag in ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction"):
        assert getattr(fb.matmul, flag) == getattr(tb.matmul, flag), flag
    assert fb.is_built() is False
    for kind in ("flash", "mem_efficient", "math", "cudnn"):
        assert getattr(fb, kind + "_sdp_enabled")() == getattr(tb, kind + "_sdp_enabled")()
    old = fb.matmul.allow_tf32
    try:
        fb.matmul.allow_tf32 = True
        fb.enable_flash_sdp(False)
        assert fastnn.backends.cuda.matmul.allow_tf32 is True
        assert fb.flash_sdp_enabled() is False
    finally:
        fb.matmul.allow_tf32 = old
        fb.enable_flash_sdp(True)


def test_cpu_openmp_mkldnn_mps():
    assert fastnn.backends.openmp.is_available() is fastnn.info()["openmp"]
    cap = fastnn.backends.cpu.get_cpu_capability()
    assert cap == {"avx512": "AVX512", "avx2": "AVX2"}.get(fastnn.info()["kernel_path"], "DEFAULT")
    assert fastnn.backends.mkldnn.is_available() is False
    assert fastnn.backends.mps.is_available() is False
    assert fastnn.backends.cudnn.is_available() is False


def test_seed_everything_program_runs():
    """The usual set_seed helper, run with fastnn as torch."""
    torch = fastnn
    torch.manual_seed(0)
    torch.cuda.manual_seed_all(0)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.use_deterministic_algorithms(True)
    torch.set_float32_matmul_precision("high")
    try:
        assert torch.get_float32_matmul_precision() == "high"
    finally:
        torch.set_float32_matmul_precision("highest")
        torch.use_deterministic_algorithms(False)
    with pytest.raises(AttributeError):
        fastnn.backends.no_such_backend


def test_compiler_pass_through():
    """``torch.compile`` gives back the model itself (fastnn runs eagerly), so
    ``torch.compiler.is_compiling()`` is False and ``disable`` is a no-op."""
    torch = requires_torch()
    m = fastnn.nn.Linear(3, 2)
    assert fastnn.compile(m) is m
    assert fastnn.compiler.is_compiling() is torch.compiler.is_compiling() is False
    assert fastnn.compiler.is_dynamo_compiling() is False

    @fastnn.compiler.disable(recursive=False)
    def g(a):
        return a * 2

    assert g(2) == 4 and fastnn.compiler.disable(g) is g


def test_utils_data_distributed_sampler_matches_torch_without_shuffle():
    torch = requires_torch()
    from fastnn.distributed import DistributedSampler
    from fastnn.utils.data.distributed import DistributedSampler as FS
    from torch.utils.data.distributed import DistributedSampler as TS
    assert FS is DistributedSampler
    data = list(range(11))
    for replicas, rank, drop in [(2, 0, False), (3, 2, False), (3, 1, True), (1, 0, False)]:
        f = FS(data, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop)
        t = TS(data, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop)
        assert list(f) == list(t) and len(f) == len(t)
    s = FS(data, shuffle=True, seed=3)          # a world of one: every index, reshuffled
    s.set_epoch(1)
    a = list(s)
    s.set_epoch(2)
    assert sorted(a) == data and sorted(s) == data and list(s) != a
