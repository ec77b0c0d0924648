"""Long runs: the digits CNN (``fastnn demo``'s model) trained for 2,000 steps
holds its memory flat.  Process RSS after step 200 stays within 5% to the
end, every step's autograd graph (each node's context and the arrays it
saved) dies as soon as the step's tensors are dropped -- with the cyclic
garbage collector off, so a reference cycle would show -- and the buffer
cache stays within its bound.  The same with DataLoader(num_workers=2).

Marked ``slow`` (about a minute together): still part of the default run and
of CI, kept out of the sanitizer job."""
import gc
import os
import weakref

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import _core
from fastnn.cli import build_digits_cnn, digits_split
from fastnn.data import DataLoader, TensorDataset

PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def _step(model, opt, xb, yb, params):
    """One training step; returns weak references to every graph node's
    context and to every array the nodes saved (parameters excepted: they
    outlive the step by design)."""
    refs = []
    h = xb
    opt.zero_grad()
    for layer in model:
        h = layer(h)
        if h.grad_fn is not None:
            refs.append(weakref.ref(h.grad_fn))
            for a in h.grad_fn._saved or ():
                if isinstance(a, np.ndarray) and not any(a is p for p in params):
                    refs.append(weakref.ref(a))
    loss = F.cross_entropy(h, yb)
    refs.append(weakref.ref(loss.grad_fn))
    loss.backward()
    opt.step()
    value = loss.item()
    del h, loss
    return refs, value


def _soak(loader, steps, warm):
    fastnn.manual_seed(0)
    model = build_digits_cnn()
    opt = fastnn.optim.Adam(model.parameters(), lr=1e-3)
    params = [p._array for p in model.parameters()]
    losses = np.empty(steps)
    rss = {}
    cache = []
    n = 0
    gc.collect()
    gc.disable()
    try:
        while n < steps:
            for xb, yb in loader:
                refs, losses[n] = _step(model, opt, xb, yb, params)
                del xb, yb
                alive = [r() for r in refs if r() is not None]
                assert not alive, f"step {n}: graph objects outlive the step: " \
                                  f"{[type(a).__name__ for a in alive][:5]}"
                n += 1
                if n % 50 == 0 or n == warm:
                    rss[n] = _rss()
                    cache.append(_core.buffer_cache_info())
                if n == steps:
                    break
            gc.collect()         # whatever else cycles per epoch (loader iterators)
    finally:
        gc.enable()
    return losses, rss, cache


def _check(losses, rss, cache, warm):
    assert np.isfinite(losses).all()
    assert losses[-50:].mean() < losses[:50].mean()          # it did train
    base = rss[warm]
    late = {k: v for k, v in rss.items() if k >= warm}
    worst = max(late.values())
    assert worst <= 1.05 * base, \
        f"RSS grew from {base / 2**20:.1f} MiB at step {warm} to {worst / 2**20:.1f} MiB: " \
        + ", ".join(f"{k}: {v / 2**20:.1f}" for k, v in sorted(late.items()))
    for info in cache:
        assert 0 <= info["bytes"] <= info["max_bytes"]
        assert 0 <= info["blocks"] <= 64


@pytest.mark.slow
def test_cnn_soak_2000_steps_memory_flat():
    xtr, ytr, _, _ = digits_split()
    loader = DataLoader(TensorDataset(xtr, ytr), batch_size=16, shuffle=True, seed=0)
    losses, rss, cache = _soak(loader, 2000, 200)
    _check(losses, rss, cache, 200)


@pytest.mark.slow
def test_cnn_soak_with_worker_processes():
    xtr, ytr, _, _ = digits_split()
    loader = DataLoader(TensorDataset(xtr, ytr), batch_size=16, shuffle=True, seed=0,
                        num_workers=2)
    losses, rss, cache = _soak(loader, 600, 100)
    _check(losses, rss, cache, 100)
