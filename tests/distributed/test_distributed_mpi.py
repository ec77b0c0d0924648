"""fastnn.distributed for real: scripts launched with ``mpiexec -n 2``.

Skipped (with the reason) when mpi4py or an MPI launcher is missing;
``.ci/install-mpi.sh`` installs both.
"""
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

import fastnn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The ranks import the same fastnn as this test process (the source tree when
# built in place, site-packages when installed).
FASTNN_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))


def _mpiexec():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("mpi4py is not installed (run .ci/install-mpi.sh or pip install fastnn[mpi])")
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    exe = shutil.which("mpiexec", path=path) or shutil.which("mpirun", path=path)
    if exe is None:
        pytest.skip("no mpiexec/mpirun on PATH (run .ci/install-mpi.sh)")
    return exe


def run_mpi(tmp_path, code, n=2, timeout=90, common=True):
    """Runs ``code`` (after COMMON, unless common=False) on n ranks; returns (returncode, stdout, stderr).  The
    whole process group is killed if it outlives ``timeout`` seconds."""
    exe = _mpiexec()
    script = tmp_path / "script.py"
    script.write_text((COMMON if common else "") + textwrap.dedent(code))
    env = dict(os.environ)
    env["PYTHONPATH"] = FASTNN_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(OMP_NUM_THREADS="1", FASTNN_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1",
               PRTE_MCA_rmaps_default_mapping_policy=":oversubscribe")
    p = subprocess.Popen([exe, "-n", str(n), sys.executable, str(script)], cwd=str(tmp_path),
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        pytest.fail(f"mpiexec did not finish within {timeout} s\nstdout:\n{out}\nstderr:\n{err}")
    return p.returncode, out, err


COMMON = """
import numpy as np
import fastnn
import fastnn.distributed as dist
from fastnn import nn

rank, world = dist.init()
assert world == 2, world
fastnn.set_num_threads(1)


class SGD:
    # A self-contained SGD with momentum and a torch-style state dict.
    def __init__(self, params, lr, momentum=0.0):
        self.param_groups = [{"params": list(params), "lr": lr, "momentum": momentum}]
        self.state = {}

    def zero_grad(self):
        for g in self.param_groups:
            for p in g["params"]:
                p.grad = None

    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                d = p.grad
                if g["momentum"]:
                    buf = self.state.setdefault(id(p), {}).get("momentum_buffer")
                    buf = d.copy() if buf is None else buf * g["momentum"] + d
                    self.state[id(p)]["momentum_buffer"] = buf
                    d = buf
                p.data -= g["lr"] * d

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self):
        idx = {id(p): i for i, p in enumerate(self._params())}
        return {"state": {idx[k]: dict(v) for k, v in self.state.items()},
                "param_groups": [{"lr": g["lr"], "momentum": g["momentum"],
                                  "params": [idx[id(p)] for p in g["params"]]}
                                 for g in self.param_groups]}

    def load_state_dict(self, sd):
        ps = self._params()
        self.state = {id(ps[int(i)]): {k: np.array(v) for k, v in s.items()}
                      for i, s in sd["state"].items()}
        for g, sg in zip(self.param_groups, sd["param_groups"]):
            g["lr"], g["momentum"] = sg["lr"], sg["momentum"]


def make_model(seed):
    fastnn.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                         nn.Linear(32, 3))


def mse(out, y):
    d = out - fastnn.Tensor(y)
    return (d * d).mean()


def flat(model):
    return np.concatenate([p.data.ravel() for p in model.parameters()])


def same_on_all_ranks(a):
    a = np.asarray(a, np.float64)
    return np.array_equal(dist.allreduce(a, "max"), dist.allreduce(a, "min"))
"""


def test_equivalence_two_ranks_half_batch_equals_one_process(tmp_path):
    code = """
    B, STEPS = 16, 20
    rng = np.random.default_rng(0)
    X = rng.standard_normal((STEPS, B, 6)).astype(np.float32)
    Y = rng.standard_normal((STEPS, B, 3)).astype(np.float32)

    ref = make_model(100)                    # one process at batch B
    opt = SGD(ref.parameters(), lr=0.05, momentum=0.9)
    for s in range(STEPS):
        opt.zero_grad()
        mse(ref(fastnn.Tensor(X[s])), Y[s]).backward()
        opt.step()
    moved = np.abs(flat(ref) - flat(make_model(100))).max()
    assert moved > 1e-2, moved                   # training did change the weights

    for bucket_mb, overlap in [(0.002, True), (0.002, False), (64.0, True), (0.0, True)]:
        model = make_model(100 + rank)       # different on purpose: the broadcast fixes it
        dist.broadcast_parameters(model, root=0)
        np.testing.assert_array_equal(flat(model), flat(make_model(100)))
        dopt = dist.DistributedOptimizer(SGD(model.parameters(), lr=0.05, momentum=0.9),
                                         bucket_size_mb=bucket_mb, overlap=overlap)
        half = B // world
        for s in range(STEPS):
            dopt.zero_grad()
            lo = rank * half
            mse(model(fastnn.Tensor(X[s, lo:lo + half])), Y[s, lo:lo + half]).backward()
            dopt.step()
        assert same_on_all_ranks(flat(model)), "ranks diverged"
        dopt.remove_hooks()
        if bucket_mb == 0.002:
            assert len(dopt._buckets) > 2, len(dopt._buckets)
        st = dopt.stats
        assert st["steps"] == STEPS and st["buckets"] == STEPS * len(dopt._buckets)
        # From step 2 on, every bucket starts during the backward when overlapping.
        expect_early = (STEPS - 1) * len(dopt._buckets) if overlap else 0
        assert st["early_buckets"] == expect_early, (st, len(dopt._buckets))
        if rank == 0:
            print("buckets", bucket_mb, overlap, len(dopt._buckets))

        diff = np.abs(flat(ref) - flat(model)).max()
        assert diff < 2e-5, (bucket_mb, overlap, diff)
        if rank == 0:
            print("EQUIV OK", bucket_mb, overlap, diff)
    """
    rc, out, err = run_mpi(tmp_path, code)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert out.count("EQUIV OK") == 4, out


def test_shared_weights_and_gradient_accumulation(tmp_path):
    # A layer used twice and two backward passes per step: the overlap logic
    # must wait for every accumulation before sending a bucket.
    code = """
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 8, 6)).astype(np.float32)
    Y = rng.standard_normal((10, 8, 6)).astype(np.float32)

    def run(distributed):
        fastnn.manual_seed(5)
        fc = nn.Linear(6, 6)
        fc2 = nn.Linear(6, 6)
        params = list(fc.parameters()) + list(fc2.parameters())
        opt = SGD(params, lr=0.1)
        if distributed:
            opt = dist.DistributedOptimizer(opt, bucket_size_mb=0.0001)
        for s in range(10):
            opt.zero_grad()
            for micro in range(2):                      # gradient accumulation
                if distributed:
                    sl = slice(4 * micro + 2 * rank, 4 * micro + 2 * rank + 2)
                    scale = 0.5
                else:
                    sl = slice(4 * micro, 4 * micro + 4)
                    scale = 0.5
                out = fc2(fc(fc(fastnn.Tensor(X[s, sl])).relu()))
                (mse(out, Y[s, sl]) * scale).backward()
            opt.step()
        return np.concatenate([p.data.ravel() for p in params])

    a, b = run(False), run(True)
    d = np.abs(a - b).max()
    assert d < 2e-5, d
    assert same_on_all_ranks(b)
    if rank == 0:
        print("SHARED OK", d)
    """
    rc, out, err = run_mpi(tmp_path, code)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "SHARED OK" in out


def test_broadcast_collectives_metrics_sampler(tmp_path):
    code = """
    # broadcast_parameters: a Module (params + buffers) and a state dict.
    m = make_model(10 + rank)
    dist.broadcast_parameters(m, root=1)
    np.testing.assert_array_equal(flat(m), flat(make_model(11)))
    assert same_on_all_ranks(flat(m))

    # broadcast_optimizer_state: rank 0 has momentum buffers, rank 1 none.
    opt = SGD(m.parameters(), lr=0.1 if rank == 0 else 0.5, momentum=0.9)
    if rank == 0:
        opt.zero_grad()
        mse(m(fastnn.ones(2, 6)), np.zeros((2, 3), np.float32)).backward()
        opt.step()
    dist.broadcast_optimizer_state(opt, root=0)
    assert opt.param_groups[0]["lr"] == 0.1
    bufs = [opt.state[id(p)]["momentum_buffer"] for p in m.parameters()]
    assert len(bufs) == 6 and same_on_all_ranks(np.concatenate([b.ravel() for b in bufs]))

    # broadcast_object: nested, no pickle.
    obj = dist.broadcast_object({"a": [1, 2.5, "s", None], 3: (np.arange(4) * (rank + 1),)})
    assert obj["a"] == [1, 2.5, "s", None] and obj[3][0].tolist() == [0, 1, 2, 3]

    # allreduce ops.
    v = np.array([rank + 1.0, 10.0 * rank], np.float32)
    assert dist.allreduce(v, "sum").tolist() == [3.0, 10.0]
    assert dist.allreduce(v, "mean").tolist() == [1.5, 5.0]
    assert dist.allreduce(v, "max").tolist() == [2.0, 10.0]
    assert dist.allreduce(v, "min").tolist() == [1.0, 0.0]
    assert dist.allreduce(float(rank)) == 0.5

    # reduce_metrics: identical on every rank; weighted mean.
    r = dist.reduce_metrics({"val_loss": 1.0 + rank, "acc": 0.5 * rank})
    assert r == {"val_loss": 1.5, "acc": 0.25}, r
    r = dist.reduce_metrics({"val_loss": 1.0 + rank}, weight=[1, 3][rank])
    assert r == {"val_loss": 1.75}, r
    try:
        dist.reduce_metrics({"loss" if rank == 0 else "acc": 1.0})
        raise AssertionError("mismatched keys accepted")
    except ValueError as e:
        assert "different metric names" in str(e)

    # An EarlyStopping-style decision from reduced metrics agrees everywhere,
    # although each rank's own validation losses would disagree.
    best, wait, stop_at = np.inf, 0, None
    local = [[1.0, 0.9, 0.95, 0.97, 0.99], [1.0, 1.2, 0.7, 0.8, 0.9]][rank]
    for epoch, vl in enumerate(local):
        m_ = dist.reduce_metrics({"val_loss": vl})["val_loss"]
        if m_ < best - 1e-12:
            best, wait = m_, 0
        else:
            wait += 1
        if wait >= 2:
            stop_at = epoch
            break
    assert same_on_all_ranks([stop_at]), stop_at
    assert stop_at == 4, stop_at

    # DistributedSampler with the world's defaults: disjoint, covering, same length.
    S = dist.DistributedSampler(11, shuffle=True, seed=3)
    assert (S.num_replicas, S.rank) == (2, rank) and len(S) == 6
    for epoch in range(2):
        S.set_epoch(epoch)
        cover = np.zeros(11)
        np.add.at(cover, S.indices(), 1)
        total = dist.allreduce(cover, "sum")
        assert (total >= 1).all() and total.sum() == 12, total
    assert dist.is_main_process() == (rank == 0)
    dist.barrier()
    if rank == 0:
        print("COLLECTIVES OK")
    """
    rc, out, err = run_mpi(tmp_path, code)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "COLLECTIVES OK" in out


def test_failing_rank_aborts_job_instead_of_hanging(tmp_path):
    code = """
    import time
    import numpy as np
    import fastnn.distributed as dist
    rank, world = dist.init()
    if rank == 1:
        time.sleep(0.2)
        raise ValueError("bad data on rank 1")
    # Rank 0 waits in a collective that rank 1 never joins: without the
    # abort it would hang forever.
    dist.allreduce(np.ones(3))
    print("rank 0 should not get here")
    """
    rc, out, err = run_mpi(tmp_path, code, timeout=60, common=False)
    assert rc != 0
    assert "bad data on rank 1" in err
    assert "should not get here" not in out


def test_abort_on_exception_context_manager(tmp_path):
    code = """
    import numpy as np
    import fastnn.distributed as dist
    rank, world = dist.init()
    try:
        with dist.abort_on_exception(code=3):
            if rank == 0:
                raise RuntimeError("rank 0 failed inside the guard")
            dist.barrier()
    except RuntimeError:
        pass                      # swallowed here, but the guard already aborted
    dist.barrier()
    print("unreachable")
    """
    rc, out, err = run_mpi(tmp_path, code, timeout=60, common=False)
    assert rc != 0
    assert "rank 0 failed inside the guard" in err
    assert "unreachable" not in out


def test_example_train_distributed_runs_on_two_ranks(tmp_path):
    example = os.path.join(ROOT, "examples", "train_distributed.py")
    code = f"""
    import runpy, sys
    sys.argv = [{example!r}, "--epochs", "2", "--batch-size", "32"]
    runpy.run_path({example!r}, run_name="__main__")
    """
    rc, out, err = run_mpi(tmp_path, code, common=False)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "2 rank(s) x 1 thread(s)" in out
    lines = [l for l in out.splitlines() if l.startswith("epoch ")]
    assert len(lines) == 2 and "r0=" in lines[0] and "r1=" in lines[0]   # rank 0 prints alone
    assert "final val_acc" in out


def test_mismatched_models_raise_on_every_rank(tmp_path):
    code = """
    m = nn.Linear(4, 3 + rank)                       # ranks disagree on the shapes
    opt = dist.DistributedOptimizer(SGD(m.parameters(), lr=0.1))
    opt.zero_grad()
    m(fastnn.ones(2, 4)).sum().backward()
    try:
        opt.step()
        raise AssertionError("no error")
    except RuntimeError as e:
        assert "differ" in str(e), e
    try:
        dist.broadcast_parameters(m)
        raise AssertionError("no error")
    except ValueError as e:
        assert "models differ" in str(e), e
    dist.barrier()
    print(f"MISMATCH OK {rank}")
    """
    rc, out, err = run_mpi(tmp_path, code, timeout=60)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "MISMATCH OK 0" in out and "MISMATCH OK 1" in out


def test_trainer_make_distributed_same_decisions_on_every_rank(tmp_path):
    code = """
    import os
    from fastnn.data import DataLoader, TensorDataset
    from fastnn.train import EarlyStopping, ModelCheckpoint, Trainer

    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 6)).astype(np.float32)
    Y = np.argmax(X[:, :3] + 0.3 * rng.standard_normal((96, 3)), axis=1).astype(np.int64)
    # Each rank validates on different data: its own val_loss differs from the other's.
    Xv = (X[:32] + 0.5 * (rank + 1) * np.random.default_rng(rank + 7).standard_normal((32, 6))
          ).astype(np.float32)
    fastnn.manual_seed(rank)                        # different until the broadcast
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    es = EarlyStopping(monitor="val_loss", patience=0, min_delta=0.02)
    ck = ModelCheckpoint(f"ckpt_rank{rank}.fnn", monitor="val_loss")
    t = Trainer(model, "cross_entropy", fastnn.optim.SGD(model.parameters(), lr=0.2),
                callbacks=[es, ck], progress=False)
    dist.make_distributed(t, bucket_size_mb=0.001)
    assert isinstance(t.optimizer, dist.DistributedOptimizer)
    sampler = dist.DistributedSampler(len(X), seed=1)
    train = DataLoader(TensorDataset(X, Y), batch_size=8, sampler=sampler)
    h = t.fit(train, epochs=30, val_loader=DataLoader(TensorDataset(Xv, Y[:32]), batch_size=16))
    n = len(h.history["loss"])
    assert 1 < n < 30, n                            # stopped early
    assert sampler.epoch == n - 1
    assert same_on_all_ranks([n, es.stopped_epoch, es.best_epoch])
    for k, v in h.history.items():
        assert same_on_all_ranks(v), k              # reduced logs everywhere
    assert same_on_all_ranks(flat(model))
    ev = t.evaluate(DataLoader(TensorDataset(Xv, Y[:32]), batch_size=16))
    assert same_on_all_ranks(list(ev.values()))
    local = Trainer.evaluate(t, DataLoader(TensorDataset(Xv, Y[:32]), batch_size=16))
    assert not same_on_all_ranks([local["loss"]])   # the reduction is what made them agree
    assert abs(dist.allreduce(local["loss"]) - ev["loss"]) < 1e-9
    dist.barrier()
    assert os.path.exists("ckpt_rank0.fnn") and not os.path.exists("ckpt_rank1.fnn")
    if rank == 0:
        print("TRAINER OK", n, h.history["val_loss"][-1])
    """
    rc, out, err = run_mpi(tmp_path, code)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "TRAINER OK" in out


def test_equivalence_with_fastnn_optimizers_cnn_and_cross_entropy(tmp_path):
    # The library's own optimisers, loss and a small CNN (no BatchNorm).
    code = """
    import fastnn.nn.functional as F
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 8, 1, 8, 8)).astype(np.float32)
    Y = rng.integers(0, 4, (20, 8)).astype(np.int64)

    def make():
        fastnn.manual_seed(4)
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(64, 4))

    for name, mk in [("sgd", lambda ps: fastnn.optim.SGD(ps, lr=0.05, momentum=0.9)),
                     ("adam", lambda ps: fastnn.optim.Adam(ps, lr=1e-2))]:
        ref = make()
        opt = mk(ref.parameters())
        for s in range(20):
            opt.zero_grad()
            F.cross_entropy(ref(fastnn.Tensor(X[s])), fastnn.Tensor(Y[s])).backward()
            opt.step()
        model = make()
        dopt = dist.DistributedOptimizer(mk(model.parameters()), bucket_size_mb=0.0001)
        sl = slice(4 * rank, 4 * rank + 4)
        for s in range(20):
            dopt.zero_grad()
            F.cross_entropy(model(fastnn.Tensor(X[s, sl])), fastnn.Tensor(Y[s, sl])).backward()
            dopt.step()
        diff = np.abs(flat(model) - flat(ref)).max()
        assert diff < 2e-5, (name, diff)
        assert np.abs(flat(ref) - flat(make())).max() > 1e-2
        assert same_on_all_ranks(flat(model))
        assert dopt.stats["early_buckets"] > 0
        # A fresh optimiser on rank 1 takes rank 0's state (moments, step counts).
        target = dopt.optimizer if rank == 0 else mk(model.parameters())
        dist.broadcast_optimizer_state(target, root=0)
        st = target.state_dict()["state"]
        arrs = np.concatenate([np.asarray(v, np.float64).ravel() for k in sorted(st)
                               for v in st[k].values()])
        assert arrs.size > 0 and same_on_all_ranks(arrs)
        if rank == 0:
            print("REAL OK", name, diff)
    """
    rc, out, err = run_mpi(tmp_path, code)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert out.count("REAL OK") == 2, out
