"""Data-parallel scaling on one machine: training images/s of PERF.md's
``cnn_train`` (or ``mlp_train`` while convolutions are unavailable) with
1 rank x 2 threads against 2 ranks x 1 thread (``mpiexec -n 2``), at the
same global batch, plus the time each step spends in the gradient
allreduce.

Run as a script (it launches its own workers)::

    python benchmarks/bench_distributed.py [--steps 20] [--model auto|cnn|mlp]

or through pytest-benchmark: ``pytest benchmarks/bench_distributed.py``.
Needs mpi4py and an MPI launcher (``bash .ci/install-mpi.sh``).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------------ worker
def _cross_entropy(fastnn, logits, target):
    try:
        return fastnn.nn.functional.cross_entropy(logits, target)
    except NotImplementedError:
        m = fastnn.Tensor(logits.data.max(axis=1, keepdims=True))
        z = logits - m
        logp = z - z.exp().sum(dim=1, keepdim=True).log()
        onehot = np.zeros(logits.shape, np.float32)
        onehot[np.arange(len(onehot)), np.asarray(target.data)] = 1.0
        return -(logp * fastnn.Tensor(onehot)).sum() / float(len(onehot))


class _SGD:
    def __init__(self, params, lr, momentum):
        self.param_groups = [{"params": list(params), "lr": lr, "momentum": momentum}]
        self.bufs = {}

    def zero_grad(self):
        for p in self.param_groups[0]["params"]:
            p.grad = None

    def step(self):
        g = self.param_groups[0]
        for p in g["params"]:
            b = self.bufs.get(id(p))
            b = p.grad.numpy().copy() if b is None else b * g["momentum"] + p.grad
            self.bufs[id(p)] = b
            p.data -= g["lr"] * b


def _model(fastnn, kind):
    nn = fastnn.nn
    if kind in ("auto", "cnn"):
        try:
            m = nn.Sequential(
                nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(4096, 10))
            m(fastnn.zeros(2, 3, 32, 32))
            return m, "cnn_train", 64, (3, 32, 32)
        except NotImplementedError:
            if kind == "cnn":
                raise
    m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                      nn.Linear(256, 10))
    return m, "mlp_train", 128, (784,)


def worker(steps, kind):
    import fastnn
    import fastnn.distributed as dist
    rank, world = dist.init()
    fastnn.manual_seed(0)
    model, name, batch, shape = _model(fastnn, kind)
    dist.broadcast_parameters(model)
    try:
        inner = fastnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    except (AttributeError, NotImplementedError):
        inner = _SGD(model.parameters(), 0.01, 0.9)
    opt = dist.DistributedOptimizer(inner)
    local = batch // world
    rng = np.random.default_rng(rank)
    x = fastnn.Tensor(rng.standard_normal((local,) + shape).astype(np.float32))
    y = fastnn.Tensor(rng.integers(0, 10, local).astype(np.int64))

    def step():
        opt.zero_grad()
        loss = _cross_entropy(fastnn, model(x), y)
        loss.backward()
        opt.step()
        return float(loss.item())

    w0 = np.concatenate([p.data.ravel() for p in model.parameters()])
    for _ in range(3):
        last = step()
    w1 = np.concatenate([p.data.ravel() for p in model.parameters()])
    assert np.isfinite(last) and not np.array_equal(w0, w1), last
    # Replicas stay identical (checked outside the timed region).
    assert np.array_equal(dist.allreduce(w1, "max"), dist.allreduce(w1, "min"))
    opt.stats.update(steps=0, sync_seconds=0.0, buckets=0, early_buckets=0)
    times = []
    for _ in range(steps):
        dist.barrier()
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    step_s = float(np.median(times))
    # Bare allreduce of one gradient's worth of floats, for comparison.
    n_params = sum(p.data.size for p in model.parameters())
    ar = []
    if world > 1:
        buf = np.ones(n_params, np.float32)
        for _ in range(10):
            dist.barrier()
            t0 = time.perf_counter()
            dist._comm.world.comm.Allreduce(dist._comm.world.MPI.IN_PLACE, buf)
            ar.append(time.perf_counter() - t0)
    res = dict(workload=name, ranks=world, threads=fastnn.get_num_threads(), global_batch=batch,
               step_ms=step_s * 1e3, images_per_s=batch / step_s, params=int(n_params),
               buckets=len(opt._buckets),
               sync_ms_per_step=opt.stats["sync_seconds"] / max(opt.stats["steps"], 1) * 1e3,
               allreduce_ms=float(np.median(ar)) * 1e3 if ar else 0.0)
    step_max = dist.allreduce(step_s, op="max")
    res["slowest_rank_step_ms"] = step_max * 1e3
    if dist.is_main_process():
        print("RESULT " + json.dumps(res), flush=True)


# ------------------------------------------------------------------ driver
def _mpiexec():
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    return shutil.which("mpiexec", path=path) or shutil.which("mpirun", path=path)


def _fastnn_parent():
    """The directory holding the fastnn this driver imports (so the workers use it too)."""
    try:
        import fastnn
    except ImportError:
        sys.path.insert(0, ROOT)
        import fastnn
    return os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))


def run_config(ranks, threads, steps, kind, timeout=600):
    env = dict(os.environ, FASTNN_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               PYTHONPATH=_fastnn_parent() + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--steps", str(steps),
           "--model", kind]
    if ranks > 1:
        exe = _mpiexec()
        if exe is None:
            raise RuntimeError("no mpiexec/mpirun found (bash .ci/install-mpi.sh)")
        cmd = [exe, "-n", str(ranks)] + cmd
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def table(results):
    rows = ["| workload | ranks x threads | global batch | ms/step | images/s | "
            "allreduce wait ms/step | bare allreduce ms | buckets |",
            "|---|---|---|---|---|---|---|---|"]
    for r in results:
        rows.append(f"| {r['workload']} | {r['ranks']} x {r['threads']} | {r['global_batch']} | "
                    f"{r['step_ms']:.2f} | {r['images_per_s']:.0f} | "
                    f"{r['sync_ms_per_step']:.2f} | {r['allreduce_ms']:.2f} | {r['buckets']} |")
    return "\n".join(rows)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--model", default="auto", choices=["auto", "cnn", "mlp"])
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.steps, args.model)
    res = [run_config(1, 1, args.steps, args.model), run_config(1, 2, args.steps, args.model),
           run_config(2, 1, args.steps, args.model)]
    print(table(res))
    print(f"speed-up 2x1 over 1x2: {res[2]['images_per_s'] / res[1]['images_per_s']:.2f}")
    return res


def test_distributed_scaling(benchmark):
    import pytest
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (bash .ci/install-mpi.sh)")
    if _mpiexec() is None:
        pytest.skip("no mpiexec/mpirun found")
    res = benchmark.pedantic(lambda: [run_config(1, 2, 10, "auto"), run_config(2, 1, 10, "auto")],
                             rounds=1, iterations=1)
    for r in res:
        key = f"{r['ranks']}x{r['threads']}"
        benchmark.extra_info[f"{key}_images_per_s"] = r["images_per_s"]
        benchmark.extra_info[f"{key}_allreduce_ms"] = r["allreduce_ms"]
        benchmark.extra_info[f"{key}_sync_ms_per_step"] = r["sync_ms_per_step"]
        assert r["images_per_s"] > 0


if __name__ == "__main__":
    main()
