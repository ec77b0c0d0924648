"""What a PyTorch program's set-up code touches: the backends flags
(``torch.backends.cuda.matmul.allow_tf32 = True``, cudnn, mps, mkldnn,
openmp, cpu) with PyTorch's names and defaults, settable; the
torch.compiler pass-throughs; torch.utils.data.distributed's sampler."""
import copy

import numpy as np
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
    """``torch.compile`` runs the model as it is (fastnn runs eagerly), so
    ``torch.compiler.is_compiling()`` is False and ``disable`` is a no-op;
    a function comes back unchanged."""
    torch = requires_torch()
    f = lambda a: a + 1      # noqa: E731
    assert fastnn.compile(f) is f
    assert fastnn.compiler.is_compiling() is torch.compiler.is_compiling() is False
    assert fastnn.compiler.is_dynamo_compiling() is False

    @fastnn.compiler.disable(recursive=False)
    def g(a):
        return a * 2

    assert g(2) == 4 and fastnn.compiler.disable(g) is g


def _compiled_net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 2)
            self.bn = lib.nn.BatchNorm1d(2)
            self.scale = 2.0

        def forward(self, x):
            return self.bn(self.fc(x)) * self.scale
    net = Net()
    return net, lib.compile(net)


def test_compile_wraps_a_module_as_torch():
    """``torch.compile(model)`` is an ``OptimizedModule`` holding the model
    as ``_orig_mod``: its state_dict keys carry the ``_orig_mod.`` prefix
    (the checkpoints that programs strip it from), attributes, train/eval
    and the call reach the original, and the numbers are the model's."""
    torch = requires_torch()
    seen = {}
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for lib in (torch, fastnn):
        net, c = _compiled_net(lib)
        with lib.no_grad():
            for i, p in enumerate(net.parameters()):
                p.copy_(lib.tensor(np.linspace(-1, 1, p.numel()).reshape(tuple(p.shape))
                                   .astype(np.float32) + i))
        assert c._orig_mod is net and c.fc is net.fc and c.scale == 2.0
        c.scale = 3.0
        assert net.scale == 3.0 and "scale" not in c.__dict__
        c.eval()
        assert not net.training and not net.bn.training and not c.training
        c.train()
        assert net.bn.training
        out = c(lib.tensor(x)).detach().numpy()
        dup = copy.deepcopy(c)
        seen[lib.__name__] = (type(c).__name__, list(c.state_dict()),
                              [n for n, _ in c.named_modules()], out,
                              list(dup.state_dict()), dup._orig_mod is not net)
        assert isinstance(c, lib.nn.Module) and not isinstance(c, type(net))
    t, f = seen["torch"], seen["fastnn"]
    assert f[0] == t[0] == "OptimizedModule"
    assert f[1] == t[1] and f[1][0] == "_orig_mod.fc.weight"
    assert f[2] == t[2] and f[4] == t[4] and f[5] and t[5]
    np.testing.assert_allclose(f[3], t[3], rtol=1e-5, atol=1e-6)
    assert isinstance(fastnn.compile(fastnn.nn.Linear(2, 2)),
                      fastnn._dynamo.eval_frame.OptimizedModule)
    assert len(fastnn.compile(fastnn.nn.Sequential(fastnn.nn.ReLU()))) == 1
    fastnn._dynamo.config.suppress_errors = True        # a notebook's line, accepted


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
