"""fastnn.distributed in one process: the world of one, the sampler's
arithmetic, and the wrappers' pass-through behaviour."""
import subprocess
import sys

import numpy as np
import pytest

import fastnn
import fastnn.distributed as dist
from fastnn.distributed import DistributedSampler


def test_import_fastnn_does_not_import_mpi4py():
    code = ("import sys, fastnn, fastnn.distributed as d; d.init(); "
            "print('mpi4py' in sys.modules)")
    r = fastnn.testing.run_python(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_world_of_one():
    assert dist.init() == (0, 1)
    assert dist.init() == (0, 1)
    assert dist.is_initialized()
    assert dist.rank() == 0 and dist.size() == 1 and dist.is_main_process()
    dist.barrier()


def test_collectives_are_identity_in_world_of_one():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    for op in ("mean", "sum", "max", "min"):
        out = dist.allreduce(a, op=op)
        np.testing.assert_array_equal(out, a)
        assert out is not a and out.dtype == np.float32
    assert dist.allreduce(2.5) == 2.5
    assert dist.allreduce(np.array([1, 2]), op="mean").dtype == np.float64
    with pytest.raises(ValueError, match="op"):
        dist.allreduce(a, op="prod")
    assert dist.reduce_metrics({"loss": np.float32(0.25), "acc": 1}) == {"loss": 0.25, "acc": 1.0}
    assert dist.broadcast_object({"x": [1, 2]}) == {"x": [1, 2]}
    with pytest.raises(TypeError):
        dist.reduce_metrics([1.0])


def test_broadcast_parameters_is_noop_in_world_of_one():
    model = fastnn.nn.Linear(3, 2)
    before = model.weight.detach().numpy().copy()
    dist.broadcast_parameters(model)
    dist.broadcast_parameters(model.state_dict())
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)
    with pytest.raises(ValueError, match="root"):
        dist.broadcast_parameters(model, root=1)


def _shards(n, R, **kw):
    return [DistributedSampler(n, num_replicas=R, rank=r, **kw).indices() for r in range(R)]


@pytest.mark.parametrize("n,R", [(10, 2), (11, 2), (7, 3), (3, 4), (1, 2), (100, 7)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_sampler_padding_covers_everything_with_equal_lengths(n, R, shuffle):
    shards = _shards(n, R, shuffle=shuffle, seed=3)
    lens = {len(s) for s in shards}
    assert lens == {-(-n // R)}
    allidx = np.concatenate(shards)
    assert set(allidx.tolist()) == set(range(n))           # covers the data set
    assert len(allidx) - n == (-n) % R                      # only the padding repeats
    assert len(DistributedSampler(n, num_replicas=R, rank=0)) == -(-n // R)


@pytest.mark.parametrize("n,R", [(10, 2), (11, 2), (7, 3), (100, 7), (3, 4)])
def test_sampler_drop_last_disjoint(n, R):
    shards = _shards(n, R, shuffle=True, drop_last=True)
    assert {len(s) for s in shards} == {n // R}
    allidx = np.concatenate(shards)
    assert len(set(allidx.tolist())) == len(allidx) == (n // R) * R   # disjoint


def test_sampler_matches_torch_round_robin_without_shuffle():
    assert list(DistributedSampler(5, num_replicas=2, rank=0, shuffle=False)) == [0, 2, 4]
    assert list(DistributedSampler(5, num_replicas=2, rank=1, shuffle=False)) == [1, 3, 0]
    assert list(DistributedSampler(5, num_replicas=2, rank=1, shuffle=False,
                                   drop_last=True)) == [1, 3]


def test_sampler_reshuffles_per_epoch_with_shared_seed():
    s0 = DistributedSampler(50, num_replicas=2, rank=0, seed=7)
    s1 = DistributedSampler(50, num_replicas=2, rank=1, seed=7)
    e0 = (s0.indices(), s1.indices())
    assert not set(e0[0]) & set(e0[1])                      # disjoint in epoch 0
    s0.set_epoch(1)
    s1.set_epoch(1)
    e1 = (s0.indices(), s1.indices())
    assert not set(e1[0]) & set(e1[1])
    assert not np.array_equal(e0[0], e1[0])                 # a new order
    again = DistributedSampler(50, num_replicas=2, rank=0, seed=7)
    again.set_epoch(1)
    np.testing.assert_array_equal(again.indices(), e1[0])   # deterministic
    other = DistributedSampler(50, num_replicas=2, rank=0, seed=8)
    assert not np.array_equal(other.indices(), e0[0])


def test_sampler_accepts_sized_dataset_and_defaults_to_world():
    s = DistributedSampler(list(range(9)))
    assert s.num_replicas == 1 and s.rank == 0 and len(s) == 9
    assert sorted(s) == list(range(9))


@pytest.mark.parametrize("kw", [dict(num_replicas=0), dict(num_replicas=2, rank=2),
                                dict(num_replicas=2, rank=-1)])
def test_sampler_rejects_bad_arguments(kw):
    with pytest.raises(ValueError):
        DistributedSampler(10, **kw)
    with pytest.raises(TypeError):
        DistributedSampler(object())


def test_sampler_batches_give_equal_step_counts():
    # The loop a DataLoader(sampler=...) runs: every rank gets the same number of batches.
    X = np.arange(23, dtype=np.float32)
    steps = []
    for r in range(3):
        idx = DistributedSampler(len(X), num_replicas=3, rank=r, seed=1).indices()
        batches = [X[idx[i:i + 4]] for i in range(0, len(idx), 4)]
        steps.append(len(batches))
    assert len(set(steps)) == 1


class _SGD:
    def __init__(self, params, lr):
        self.param_groups = [{"params": list(params), "lr": lr}]
        self.state = {}
        self.defaults = {"lr": lr}
        self.steps = 0

    def zero_grad(self):
        for p in self.param_groups[0]["params"]:
            p.grad = None

    def step(self):
        self.steps += 1
        for p in self.param_groups[0]["params"]:
            if p.grad is not None:
                p.data -= self.param_groups[0]["lr"] * p.grad

    def state_dict(self):
        return {"state": {}, "param_groups": [{"lr": self.param_groups[0]["lr"]}]}

    def load_state_dict(self, sd):
        self.param_groups[0]["lr"] = sd["param_groups"][0]["lr"]


def test_distributed_optimizer_world_of_one_is_plain_step():
    fastnn.manual_seed(0)
    model = fastnn.nn.Linear(4, 2)
    inner = _SGD(model.parameters(), lr=0.1)
    opt = dist.DistributedOptimizer(inner, bucket_size_mb=0.001)
    assert opt.param_groups is inner.param_groups and opt.state is inner.state
    assert opt.defaults == {"lr": 0.1} and opt.state_dict()["param_groups"][0]["lr"] == 0.1
    w0 = model.weight.detach().numpy().copy()
    x = fastnn.ones(3, 4)
    opt.zero_grad()
    model(x).sum().backward()
    g = model.weight.grad.numpy().copy()
    opt.step()
    np.testing.assert_allclose(model.weight.detach().numpy(), w0 - 0.1 * g, rtol=1e-6)
    assert inner.steps == 1
    with opt.skip_synchronize():
        opt.step()
    assert inner.steps == 2
    dist.broadcast_optimizer_state(opt)     # no-op, must not fail
    with pytest.raises(TypeError, match="state_dict"):
        dist.broadcast_optimizer_state(object())


def test_distributed_optimizer_validates():
    with pytest.raises(TypeError):
        dist.DistributedOptimizer(object())
    with pytest.raises(ValueError, match="op"):
        dist.DistributedOptimizer(_SGD([], 0.1), op="max")
    with pytest.raises(ValueError, match="bucket_size_mb"):
        dist.DistributedOptimizer(_SGD([], 0.1), bucket_size_mb=-1)


def test_abort_on_exception_reraises_in_world_of_one():
    with pytest.raises(KeyError):
        with dist.abort_on_exception():
            raise KeyError("x")


def test_post_accumulate_grad_hook_fires_once_on_the_total():
    # as PyTorch's AccumulateGrad: once per backward, after both uses summed
    w = fastnn.nn.Parameter(np.ones(3, np.float32))
    seen = []
    w._post_accumulate_grad_hooks = [lambda t: seen.append(t.grad.numpy().copy())]
    ((w * 2.0).sum() + (w * 3.0).sum()).backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[-1], np.full(3, 5.0))


def test_example_runs_as_world_of_one():
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    example = os.path.join(root, "examples", "train_distributed.py")
    r = fastnn.testing.run_python(
        f"import runpy, sys; sys.argv = [{example!r}, '--epochs', '2', '--threads', '1']; "
        f"runpy.run_path({example!r}, run_name='__main__')")
    assert r.returncode == 0, r.stderr
    assert "1 rank(s) x 1 thread(s)" in r.stdout and "final val_acc" in r.stdout
    acc = float(r.stdout.strip().splitlines()[-1].split()[-1])
    assert acc > 0.3            # learns something in two epochs (chance is 0.1)


def test_sampler_drives_dataloader():
    DataLoader = getattr(fastnn.data, "DataLoader", None)
    TensorDataset = getattr(fastnn.data, "TensorDataset", None)
    if DataLoader is None or TensorDataset is None:
        pytest.skip("fastnn.data.DataLoader has not landed yet (feat/data)")
    X = np.arange(22, dtype=np.float32).reshape(11, 2)
    Y = np.arange(11, dtype=np.int64)
    seen, steps = [], []
    for r in range(2):
        s = DistributedSampler(len(Y), num_replicas=2, rank=r, seed=4)
        s.set_epoch(1)
        dl = DataLoader(TensorDataset(X, Y), batch_size=4, sampler=s)
        ys = [yb.detach().numpy().copy() for _, yb in dl]
        steps.append(len(ys))
        assert len(dl) == len(ys)
        got = np.concatenate(ys)
        np.testing.assert_array_equal(got, s.indices())           # the sampler's order
        seen.append(got)
    assert steps[0] == steps[1] == 2
    assert set(np.concatenate(seen).tolist()) == set(range(11))


def test_object_description_keeps_tensors_and_0d_arrays():
    """An optimiser's state_dict (Tensors, a 0-d step) goes through the
    broadcast's description and comes back with its types and shapes."""
    import json

    from fastnn.distributed import _comm
    sd = {"state": {0: {"step": fastnn.tensor(3.0), "exp_avg": fastnn.ones(2)}},
          "param_groups": [{"lr": 0.1, "params": [0]}], "nd": np.ones(()), "t": (1, "a")}
    arrays = []
    tree = json.loads(json.dumps(_comm._encode(sd, arrays)))
    specs = []
    _comm._collect_specs(tree, specs)
    assert [tuple(s[2]) for s in specs] == [(), (2,), ()]
    back = _comm._decode(tree, arrays)
    st = back["state"][0]
    assert isinstance(st["step"], fastnn.Tensor) and st["step"].shape == () and float(st["step"]) == 3
    assert isinstance(st["exp_avg"], fastnn.Tensor) and st["exp_avg"].tolist() == [1.0, 1.0]
    assert isinstance(back["nd"], np.ndarray) and back["nd"].shape == ()
    assert back["param_groups"] == [{"lr": 0.1, "params": [0]}] and back["t"] == (1, "a")
