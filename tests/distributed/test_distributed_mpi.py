"""fastnn.distributed for real: scripts launched with ``mpiexec -n 2``
(equivalence with one process, collectives, abort on a failing rank).

Skipped (with the reason) when mpi4py or an MPI launcher is missing;
``.ci/install-mpi.sh`` installs both.  The ``run_mpi`` fixture and the
COMMON prelude of the scripts are in conftest.py.
"""


def test_equivalence_two_ranks_half_batch_equals_one_process(run_mpi):
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
    rc, out, err = run_mpi(code)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert out.count("EQUIV OK") == 4, out


def test_shared_weights_and_gradient_accumulation(run_mpi):
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
        return np.concatenate([p.detach().numpy().ravel() for p in params])

    a, b = run(False), run(True)
    d = np.abs(a - b).max()
    assert d < 2e-5, d
    assert same_on_all_ranks(b)
    if rank == 0:
        print("SHARED OK", d)
    """
    rc, out, err = run_mpi(code)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "SHARED OK" in out


def test_broadcast_collectives_metrics_sampler(run_mpi):
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
    rc, out, err = run_mpi(code)
    assert rc == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "COLLECTIVES OK" in out


def test_failing_rank_aborts_job_instead_of_hanging(run_mpi):
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
    rc, out, err = run_mpi(code, timeout=60, common=False)
    assert rc != 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "bad data on rank 1" in err, f"rc={rc}\nstdout:\n{out}\nstderr:\n{err}"
    assert "should not get here" not in out


def test_abort_on_exception_context_manager(run_mpi):
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
    rc, out, err = run_mpi(code, timeout=60, common=False)
    assert rc != 0
    assert "rank 0 failed inside the guard" in err
    assert "unreachable" not in out
