"""Names programs use around training: torch.multiprocessing (spawn),
torch.distributed's process-group API on fastnn's MPI world (one process
here), nn.parallel.DistributedDataParallel, memory formats, finfo/iinfo."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch


_WORKERS = """
def square(i, q):
    q.put((i, i * i))


def fail(i):
    1 / 0
"""


def test_multiprocessing_spawn_and_errors(tmp_path, monkeypatch):
    # the workers live in a module of their own: spawned children import it by
    # name (sys.path travels with the spawn), whatever the test runner's layout
    (tmp_path / "fnn_mp_workers.py").write_text(_WORKERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import fnn_mp_workers as w
    mp = fastnn.multiprocessing
    ctx = mp.get_context("spawn")
    q = ctx.SimpleQueue()
    mp.spawn(w.square, args=(q,), nprocs=2)
    got = sorted(q.get() for _ in range(2))
    assert got == [(0, 0), (1, 1)]
    with pytest.raises(mp.ProcessRaisedException, match="ZeroDivisionError"):
        mp.spawn(w.fail, nprocs=1)


def test_process_group_api_in_one_process():
    dist = fastnn.distributed
    assert dist.is_available()
    dist.init_process_group(backend="gloo", world_size=1, rank=0)
    try:
        assert dist.get_rank() == 0 and dist.get_world_size() == 1
        t = fastnn.tensor([1.0, 2.0])
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
        w = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
        assert w.wait()
        dist.broadcast(t, src=0)
        out = [fastnn.zeros(2)]
        dist.all_gather(out, t)
        np.testing.assert_array_equal(out[0].numpy(), [1.0, 2.0])
        dist.barrier()
        with pytest.raises(ValueError, match="world_size=4"):
            dist.destroy_process_group()
            dist.init_process_group(world_size=4)
    finally:
        dist.destroy_process_group()
    with pytest.raises(ValueError, match="not been initialized"):
        dist.get_rank()


def test_ddp_wraps_and_trains_like_the_module():
    torch = requires_torch()
    fastnn.distributed.init_process_group()
    try:
        fastnn.manual_seed(0)
        net = fastnn.nn.Linear(3, 2)
        ddp = fastnn.nn.parallel.DistributedDataParallel(net)
        x = fastnn.randn(4, 3)
        np.testing.assert_array_equal(ddp(x).detach().numpy(), net(x).detach().numpy())
        assert list(ddp.state_dict()) == ["module.weight", "module.bias"]
        with ddp.no_sync():
            ddp(x).sum().backward()
        assert net.weight.grad is not None
    finally:
        fastnn.distributed.destroy_process_group()
    assert torch.nn.parallel.DistributedDataParallel.__name__ == \
        fastnn.nn.parallel.DistributedDataParallel.__name__


def test_memory_format_and_finfo_match_torch():
    torch = requires_torch()
    for M in (torch, fastnn):
        x = M.randn(2, 3, 4, 5)
        assert x.is_contiguous() and x.is_contiguous(memory_format=M.contiguous_format)
        y = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)   # NHWC strides
        assert y.is_contiguous(memory_format=M.channels_last)
        assert not x.is_contiguous(memory_format=M.channels_last)
        m = M.nn.Conv2d(3, 4, 3).to(memory_format=M.channels_last)
        assert m(x).shape == (2, 4, 2, 3)
    for a, b in ((fastnn.finfo(fastnn.float32), torch.finfo(torch.float32)),
                 (fastnn.finfo(fastnn.float64), torch.finfo(torch.float64))):
        for k in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
            assert getattr(a, k) == getattr(b, k) and type(getattr(a, k)) is type(getattr(b, k))
    assert fastnn.iinfo(fastnn.int32).max == torch.iinfo(torch.int32).max
    with pytest.raises(TypeError):
        fastnn.finfo(fastnn.int64)


def test_cuda_queries_answer_as_a_cpu_build_of_torch():
    torch = requires_torch()
    for name in ("memory_allocated", "max_memory_allocated", "memory_reserved",
                 "device_count", "is_bf16_supported", "is_initialized", "is_available"):
        assert getattr(fastnn.cuda, name)() == getattr(torch.cuda, name)()
    for name in ("current_device", "get_device_name", "synchronize"):
        with pytest.raises(AssertionError, match="not compiled with CUDA"):
            getattr(torch.cuda, name)()
        if name != "synchronize":                # (fastnn: nothing to wait for)
            with pytest.raises(AssertionError, match="not compiled with CUDA"):
                getattr(fastnn.cuda, name)()
    assert fastnn.version.cuda is None and fastnn.version.__version__ == fastnn.__version__
