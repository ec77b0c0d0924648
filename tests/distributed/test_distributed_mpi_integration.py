"""fastnn.distributed with the rest of the library, under ``mpiexec -n 2``:
Trainer (make_distributed), fastnn.optim and F.cross_entropy, the example
script, and errors for mismatched models.  Skipped without MPI.
"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_example_train_distributed_runs_on_two_ranks(run_mpi):
    example = os.path.join(ROOT, "examples", "train_distributed.py")
    code = f"""
    import runpy, sys
    sys.argv = [{example!r}, "--epochs", "2", "--batch-size", "32"]
    runpy.run_path({example!r}, run_name="__main__")
    """
    rc, out, err = run_mpi(code, common=False)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "2 rank(s) x 1 thread(s)" in out
    lines = [l for l in out.splitlines() if l.startswith("epoch ")]
    assert len(lines) == 2 and "r0=" in lines[0] and "r1=" in lines[0]   # rank 0 prints alone
    assert "final val_acc" in out


def test_mismatched_models_raise_on_every_rank(run_mpi):
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
    rc, out, err = run_mpi(code, timeout=60)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "MISMATCH OK 0" in out and "MISMATCH OK 1" in out


def test_trainer_make_distributed_same_decisions_on_every_rank(run_mpi):
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
    rc, out, err = run_mpi(code)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "TRAINER OK" in out


def test_equivalence_with_fastnn_optimizers_cnn_and_cross_entropy(run_mpi):
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
            F.cross_entropy(ref(fastnn.Tensor(X[s])), fastnn.from_numpy(Y[s])).backward()
            opt.step()
        model = make()
        dopt = dist.DistributedOptimizer(mk(model.parameters()), bucket_size_mb=0.0001)
        sl = slice(4 * rank, 4 * rank + 4)
        for s in range(20):
            dopt.zero_grad()
            F.cross_entropy(model(fastnn.Tensor(X[s, sl])),
                                fastnn.from_numpy(Y[s, sl])).backward()
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
    rc, out, err = run_mpi(code)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert out.count("REAL OK") == 2, out
