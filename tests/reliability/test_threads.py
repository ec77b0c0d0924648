"""Python threads sharing fastnn: grad mode per thread, concurrent inference
on one model while another trains, set_num_threads from another thread, and
the buffer / workspace caches under concurrent use.  The kernels release the
GIL, so these threads really run C code at the same time (with OpenMP teams
of their own).  Results must be bitwise those of the same work run alone.
(tests/autograd/test_engine_oracle.py::test_grad_mode_is_thread_local has
the basic no_grad case.)"""
import threading

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn import _core

TIMEOUT = 120   # a deadlock fails the test instead of hanging the run


def _run_threads(targets):
    """Runs each callable in its own thread, started together; re-raises the
    first exception any of them raised."""
    errors = []
    start = threading.Barrier(len(targets))

    def wrap(fn):
        def run():
            try:
                start.wait(TIMEOUT)
                fn()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
        return run

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


def test_grad_mode_is_per_thread_both_ways():
    """Each thread has its own grad mode: disabling it in a worker leaves the
    main thread recording, disabling it in the main thread leaves a worker
    recording, and a new thread starts with grad enabled."""
    x = fastnn.ones(3, requires_grad=True)
    stage = [threading.Event() for _ in range(4)]
    seen = {}

    def worker():
        seen["fresh"] = fastnn.is_grad_enabled()
        with fastnn.no_grad():
            stage[0].set()                       # main checks it still records
            stage[1].wait(TIMEOUT)
            seen["worker_off"] = (x * 2).requires_grad
        stage[2].wait(TIMEOUT)                   # main has grad off now
        seen["worker_on"] = (x * 2).requires_grad
        with fastnn.set_grad_enabled(False):
            seen["nested"] = fastnn.is_grad_enabled()
        seen["restored"] = fastnn.is_grad_enabled()
        stage[3].set()

    with fastnn.no_grad():                        # the main thread's mode is not inherited
        t = threading.Thread(target=worker)
        t.start()
        assert stage[0].wait(TIMEOUT)
    assert fastnn.is_grad_enabled() and (x * 2).requires_grad
    stage[1].set()
    with fastnn.no_grad():
        stage[2].set()
        assert stage[3].wait(TIMEOUT)
        assert not (x * 2).requires_grad
    t.join(TIMEOUT)
    assert seen == {"fresh": True, "worker_off": False, "worker_on": True, "nested": False,
                    "restored": True}


def test_inference_mode_is_per_thread():
    x = fastnn.ones(3, requires_grad=True)
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def worker():
        inside.wait(TIMEOUT)
        seen["enabled"] = fastnn.is_grad_enabled()
        seen["records"] = (x + 1).requires_grad
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    with fastnn.inference_mode():
        inside.set()
        assert done.wait(TIMEOUT)
        assert not fastnn.is_grad_enabled() and not (x + 1).requires_grad
    t.join(TIMEOUT)
    assert seen == {"enabled": True, "records": True}


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))


def _train(model, xs, ys, steps):
    opt = fastnn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for i in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(xs[i % len(xs)]), ys[i % len(ys)])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_concurrent_inference_on_a_shared_model_while_another_trains():
    fastnn.set_num_threads(2)
    rng = np.random.default_rng(0)
    fastnn.manual_seed(0)
    shared = _cnn().eval()
    trained = _cnn()
    start_state = {k: v.clone() for k, v in trained.state_dict().items()}
    # per inference thread: its own batches (sizes differ between threads so
    # the workspace and buffer caches see different shapes at once)
    batches = [[fastnn.tensor(rng.standard_normal((8 + 8 * t, 1, 16, 16)).astype(np.float32))
                for _ in range(3)] for t in range(4)]
    xs = [fastnn.tensor(rng.standard_normal((32, 1, 16, 16)).astype(np.float32)) for _ in range(4)]
    ys = [fastnn.tensor(rng.integers(0, 10, 32)) for _ in range(4)]
    steps = 12

    # alone, one after another
    with fastnn.no_grad():
        want = [[shared(b).numpy().copy() for b in bs] for bs in batches]
    want_losses = _train(trained, xs, ys, steps)
    want_params = {k: v.numpy().copy() for k, v in trained.state_dict().items()}
    trained.load_state_dict(start_state)

    got_losses = []

    def infer(t):
        def run():
            for _ in range(4):
                for b, w in zip(batches[t], want[t]):
                    if t % 2:   # two threads record a graph (and drop it), two do not
                        out = shared(b).detach().numpy()
                    else:
                        with fastnn.no_grad():
                            out = shared(b).numpy()
                    np.testing.assert_array_equal(out, w)
        return run

    def train():
        got_losses.extend(_train(trained, xs, ys, steps))

    _run_threads([infer(t) for t in range(4)] + [train])
    assert got_losses == want_losses
    for k, v in trained.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), want_params[k], err_msg=k)
    # the shared model was only read
    assert not any(p.grad is not None for p in shared.parameters())


def test_set_num_threads_from_another_thread_while_kernels_run():
    """Results are bitwise independent of the thread count, so whatever count
    a kernel picks up while another thread changes it, the result is the
    same; and nothing crashes."""
    rng = np.random.default_rng(1)
    x = fastnn.tensor(rng.standard_normal((8, 16, 24, 24)).astype(np.float32))
    w = fastnn.tensor(rng.standard_normal((32, 16, 3, 3)).astype(np.float32) * 0.1)
    a = fastnn.tensor(rng.standard_normal((256, 300)).astype(np.float32))
    b = fastnn.tensor(rng.standard_normal((300, 200)).astype(np.float32))

    def work():
        y = F.conv2d(x, w, padding=1)
        return [y.numpy().copy(), F.softmax(y, 1).numpy().copy(), (a @ b).numpy().copy(),
                F.batch_norm(y, None, None, training=True).numpy().copy()]

    fastnn.set_num_threads(1)
    want = work()
    fastnn.set_num_threads(2)
    assert all(np.array_equal(u, v) for u, v in zip(work(), want))
    done = threading.Event()

    def toggle():
        n = 0
        while not done.is_set():
            fastnn.set_num_threads(1 + n % 2)
            n += 1
        assert n > 1

    def compute():
        try:
            for _ in range(6):
                for u, v in zip(work(), want):
                    np.testing.assert_array_equal(u, v)
        finally:
            done.set()

    _run_threads([toggle, compute, compute])


@pytest.fixture
def cache():
    was = _core.buffer_cache_info()["installed"]
    yield
    _core.buffer_cache(was)


def test_buffer_and_workspace_caches_under_concurrent_threads(cache):
    """Four threads allocate, fill and free large arrays through the buffer
    cache (installed in each thread's context) and run cached-workspace
    kernels (conv, gemm, layer norm) on shapes that collide between threads:
    every result is the one computed alone, and the cache stays within its
    bound."""
    rng = np.random.default_rng(2)
    shapes = [(4, 8, 20, 20), (4, 8, 20, 20), (2, 8, 28, 28), (6, 8, 16, 16)]
    xs = [fastnn.tensor(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    w = fastnn.tensor(rng.standard_normal((16, 8, 3, 3)).astype(np.float32) * 0.1)
    m = fastnn.tensor(rng.standard_normal((300, 400)).astype(np.float32))

    def work(x):
        y = F.conv2d(x, w, padding=1)
        z = F.layer_norm(y, y.shape[-2:])
        g = m @ m.T
        big = np.full(300_000 + x.shape[0], float(x.shape[0]), np.float32)   # > min_bytes
        return [y.numpy().copy(), z.numpy().copy(), g.numpy().copy(), float(big.sum())]

    _core.buffer_cache(True)
    want = [work(x) for x in xs]
    info0 = _core.buffer_cache_info()

    def run(t):
        def go():
            _core.buffer_cache(True)       # the handler is per context: install it here too
            assert _core.buffer_cache_info()["installed"]
            for _ in range(8):
                got = work(xs[t])
                for u, v in zip(got[:3], want[t][:3]):
                    np.testing.assert_array_equal(u, v)
                assert got[3] == want[t][3]
                # a freshly allocated block comes back zeroed from np.zeros
                assert not np.zeros(70_000, np.float64).any()
        return go

    _run_threads([run(t) for t in range(4)])
    info = _core.buffer_cache_info()
    assert info["hits"] > info0["hits"]          # the cache was used concurrently
    assert 0 <= info["bytes"] <= info["max_bytes"]
    assert 0 <= info["blocks"] <= 64


def test_buffer_cache_blocks_are_cache_line_aligned(cache):
    """Every array the cache hands out starts on a 64-byte line (fresh,
    zeroed, reused and grown blocks alike), keeps its contents when NumPy
    grows it in place, and a reused block still comes back zeroed from
    np.zeros.  (glibc's large blocks start 16 bytes into a page: every
    vector store of a kernel's output then straddled two lines.)"""
    _core.buffer_cache(True)
    sizes = [1, 10, 1000, 70_000, 300_000, 1 << 20, 5 << 20]
    for n in sizes:
        for make in (np.empty, np.zeros):
            a = make(n, np.float32)
            assert a.ctypes.data % 64 == 0, (n, make)
        big = np.full(n, 3.0, np.float32)
        del big
        again = np.zeros(n, np.float32)          # may reuse the block just freed
        assert again.ctypes.data % 64 == 0 and not again.any()
    r = np.arange(1000, dtype=np.float64)
    r.resize(400_000, refcheck=False)            # the allocator's realloc
    assert r.ctypes.data % 64 == 0
    np.testing.assert_array_equal(r[:1000], np.arange(1000, dtype=np.float64))
    y = fastnn.randn(300, 500) @ fastnn.randn(500, 200)   # a kernel's output
    assert y.numpy().ctypes.data % 64 == 0
