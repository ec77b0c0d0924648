"""Data-parallel training over MPI with fastnn.distributed.

Launch one process per rank::

    mpirun -n 2 python examples/train_distributed.py
    # as root with Open MPI: mpirun --allow-run-as-root --oversubscribe -n 2 ...

(``pip install fastnn[mpi]`` brings mpi4py; ``pip install mpich`` or your
system's MPI brings ``mpirun``.)  Run with plain ``python`` it trains as a
world of one.

Threads: ranks on one machine share its cores, so give each rank
``cores // ranks`` threads (``dist.suggested_num_threads()`` computes it):
2 ranks x 1 thread on a 2-core machine, not 2 x 2, which would oversubscribe.

Each rank trains a replica of an MLP on its own shard of every batch (the
global batch ``--batch-size`` split evenly across ranks), the gradients are
averaged before each step, validation metrics are averaged across ranks,
and only rank 0 prints and writes.  The data are the 8x8 digits when
``fastnn.data.load_digits`` is available, else a synthetic 10-class problem.
"""
import argparse
import time

import numpy as np

import fastnn
import fastnn.distributed as dist
from fastnn import nn


def load_data(seed=0):
    """(x_train, y_train, x_val, y_val, name), standardised float32 / int64."""
    try:
        images, labels = fastnn.data.load_digits()
        x = np.asarray(images, np.float32).reshape(len(images), -1)
        y = np.asarray(labels, np.int64)
        name = "digits"
    except (AttributeError, NotImplementedError, OSError):
        rng = np.random.default_rng(1234)          # the same data on every rank
        teacher = rng.standard_normal((64, 10)).astype(np.float32)
        x = rng.standard_normal((1800, 64)).astype(np.float32)
        y = np.argmax(x @ teacher + 0.5 * rng.standard_normal((1800, 10)), axis=1)
        name = "synthetic"
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order].astype(np.int64)
    n_val = len(x) // 5
    mean, std = x[n_val:].mean(0), x[n_val:].std(0) + 1e-6
    x = ((x - mean) / std).astype(np.float32)
    return x[n_val:], y[n_val:], x[:n_val], y[:n_val], name


def cross_entropy(logits, target):
    """Mean cross-entropy (F.cross_entropy when available)."""
    try:
        return fastnn.nn.functional.cross_entropy(logits, target)
    except NotImplementedError:
        m = fastnn.Tensor(logits.detach().numpy().max(axis=1, keepdims=True))
        z = logits - m
        logp = z - z.exp().sum(dim=1, keepdim=True).log()
        onehot = np.zeros(logits.shape, np.float32)
        onehot[np.arange(len(onehot)), target.numpy()] = 1.0
        return -(logp * fastnn.Tensor(onehot)).sum() / float(len(onehot))


class _SGD:
    """Plain momentum SGD, used when fastnn.optim.SGD is not available."""

    def __init__(self, params, lr, momentum=0.0):
        self.param_groups = [{"params": list(params), "lr": lr, "momentum": momentum}]
        self.state = {}

    def zero_grad(self):
        for p in self.param_groups[0]["params"]:
            p.grad = None

    def step(self):
        g = self.param_groups[0]
        for p in g["params"]:
            if p.grad is None:
                continue
            buf = self.state.get(id(p))
            buf = p.grad.numpy().copy() if buf is None else buf * g["momentum"] + p.grad
            self.state[id(p)] = buf
            p.data -= g["lr"] * buf


def make_optimizer(params, lr, momentum):
    try:
        return fastnn.optim.SGD(params, lr=lr, momentum=momentum)
    except (AttributeError, NotImplementedError):
        return _SGD(params, lr, momentum)


class _ShardLoader:
    """What DataLoader(TensorDataset(x, y), batch_size, sampler=sampler) yields,
    for builds without fastnn.data.DataLoader."""

    def __init__(self, x, y, batch_size, sampler):
        self.x, self.y, self.batch_size, self.sampler = x, y, batch_size, sampler

    def __iter__(self):
        idx = np.fromiter(iter(self.sampler), np.int64)
        for i in range(0, len(idx), self.batch_size):
            j = idx[i:i + self.batch_size]
            yield fastnn.Tensor(self.x[j]), fastnn.from_numpy(self.y[j])


def make_loader(x, y, batch_size, sampler):
    try:
        from fastnn.data import DataLoader, TensorDataset
    except ImportError:
        return _ShardLoader(x, y, batch_size, sampler)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, sampler=sampler)


def evaluate(model, x, y, rank, world):
    """Loss and accuracy over the whole validation set, each rank scoring a
    disjoint slice; the weighted mean across ranks is the exact global one."""
    lo, hi = len(x) * rank // world, len(x) * (rank + 1) // world
    with fastnn.no_grad():
        logits = model(fastnn.Tensor(x[lo:hi]))
        loss = float(cross_entropy(logits, fastnn.from_numpy(y[lo:hi])).item())
    acc = float((logits.detach().numpy().argmax(1) == y[lo:hi]).mean())
    return dist.reduce_metrics({"val_loss": loss, "val_acc": acc}, weight=hi - lo)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=64, help="global batch, split across ranks")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=None, help="per rank (default cores // ranks)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--patience", type=int, default=3)
    args = ap.parse_args(argv)

    rank, world = dist.init()
    threads = args.threads or dist.suggested_num_threads()
    fastnn.set_num_threads(threads)
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} must be a multiple of the "
                         f"{world} ranks")
    local_batch = args.batch_size // world

    x_tr, y_tr, x_val, y_val, name = load_data(args.seed)
    fastnn.manual_seed(args.seed + rank)          # deliberately different ...
    model = nn.Sequential(nn.Linear(x_tr.shape[1], 128), nn.ReLU(), nn.Linear(128, 10))
    dist.broadcast_parameters(model, root=0)      # ... until rank 0's weights win
    opt = dist.DistributedOptimizer(make_optimizer(model.parameters(), args.lr, 0.9))
    if hasattr(opt.optimizer, "state_dict"):          # e.g. after loading a checkpoint on rank 0
        dist.broadcast_optimizer_state(opt, root=0)
    sampler = dist.DistributedSampler(len(x_tr), shuffle=True, seed=args.seed)
    loader = make_loader(x_tr, y_tr, local_batch, sampler)

    if dist.is_main_process():
        print(f"{name}: {len(x_tr)} train / {len(x_val)} val; {world} rank(s) x {threads} "
              f"thread(s); global batch {args.batch_size} = {world} x {local_batch}; "
              f"{len(sampler)} samples per rank per epoch", flush=True)

    best, wait = np.inf, 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        t0 = time.perf_counter()
        total, steps = 0.0, 0
        for xb, yb in loader:
            opt.zero_grad()
            loss = cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total += float(loss.item())
            steps += 1
        dt = time.perf_counter() - t0
        # Each rank's own mean training loss, collected on every rank.
        per_rank = np.zeros(world)
        per_rank[rank] = total / max(steps, 1)
        per_rank = dist.allreduce(per_rank, op="sum")
        m = evaluate(model, x_val, y_val, rank, world)
        img_s = dist.allreduce(steps * local_batch / dt, op="sum")
        # Time per step spent finishing the gradient allreduce (incl. waiting for the slowest rank).
        sync_ms = opt.stats["sync_seconds"] / max(opt.stats["steps"], 1) * 1e3
        if dist.is_main_process():
            ranks = " ".join(f"r{r}={v:.4f}" for r, v in enumerate(per_rank))
            print(f"epoch {epoch + 1}: train_loss {per_rank.mean():.4f} ({ranks})  "
                  f"val_loss {m['val_loss']:.4f}  val_acc {m['val_acc']:.4f}  "
                  f"{img_s:.0f} img/s  grad sync {sync_ms:.2f} ms/step",
                  flush=True)
        # Early stopping on the reduced metric: the same decision on every rank.
        if m["val_loss"] < best - 1e-4:
            best, wait = m["val_loss"], 0
        else:
            wait += 1
            if wait >= args.patience:
                if dist.is_main_process():
                    print(f"early stop after epoch {epoch + 1}")
                break
    if dist.is_main_process():
        print(f"final val_acc {m['val_acc']:.4f}")
    return m


if __name__ == "__main__":
    main()
