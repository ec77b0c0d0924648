"""Sequence models (PERF.md / issue 15: lstm_train, gru_train, lstm_infer_b1,
transformer_train): fastnn against PyTorch with the same model and weights,
2 threads.  Correctness (the outputs agree) is asserted outside the timed
region.

    pytest benchmarks/bench_seq.py --benchmark-only      # pytest-benchmark groups
    python benchmarks/bench_seq.py [rounds]              # alternating runs, ratio table

The second form runs the two libraries alternately, round after round, and
prints each workload's medians and fastnn's time as a fraction of PyTorch's:
on a shared machine that is the fairer comparison."""
import os
import sys
import time
import warnings

import numpy as np
import pytest

import fastnn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_train import _lib  # noqa: E402,F401  (one library chooser)
from workloads import SEQ  # noqa: E402

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))   # PERF.md: 2 threads


def _model(L, w):
    nn = L.nn
    if w["model"] == "TransformerEncoder":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = nn.TransformerEncoderLayer(w["d_model"], w["nhead"], batch_first=True)
            kw = {"enable_nested_tensor": False} if L is not fastnn else {}
            return nn.TransformerEncoder(layer, w["layers"], **kw)
    return getattr(nn, w["model"])(w["input"], w["hidden"], w["layers"], batch_first=True)


def _input(L, w):
    f = w.get("input", w.get("d_model"))
    x = np.random.default_rng(0).standard_normal((w["batch"], w["seq"], f)).astype(np.float32)
    return L.tensor(x)


def build(name):
    """{lib: step()} for the workload, both models holding the same weights."""
    w = SEQ[name]
    T, F = _lib("torch"), _lib("fastnn")
    T.manual_seed(0)
    tm = _model(T, w)
    fm = _model(F, w)
    fm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    steps = {}
    for L, m in ((T, tm), (F, fm)):
        x = _input(L, w)
        if w["train"]:
            m.train()

            def step(m=m, x=x, L=L):
                for p in m.parameters():
                    p.grad = None
                y = m(x)
                y = y[0] if isinstance(y, tuple) else y
                y.sum().backward()
                return y
        else:
            m.eval()

            def step(m=m, x=x, L=L):
                with L.no_grad():
                    y = m(x)
                return y[0] if isinstance(y, tuple) else y
        steps["torch" if L is T else "fastnn"] = step
    return steps


def _check(name, steps):
    yt, yf = steps["torch"](), steps["fastnn"]()
    yt = yt.detach().numpy()
    yf = yf.detach().numpy()
    if name == "transformer_train":      # dropout differs: compare shapes and scale
        assert yt.shape == yf.shape and np.isfinite(yf).all()
    else:
        np.testing.assert_allclose(yf, yt, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("lib", ["fastnn", "torch"])
@pytest.mark.parametrize("name", sorted(SEQ))
def test_seq(benchmark, name, lib):
    pytest.importorskip("torch")
    benchmark.group = name
    steps = build(name)
    _check(name, steps)
    benchmark(steps[lib])


def alternating(names, rounds=15, inner=3):
    """{name: (torch median s, fastnn median s)}, the libraries run alternately."""
    out = {}
    for name in names:
        steps = build(name)
        _check(name, steps)
        times = {"torch": [], "fastnn": []}
        for lib in ("torch", "fastnn"):
            steps[lib]()
        for _ in range(rounds):
            for lib in ("torch", "fastnn"):
                t0 = time.perf_counter()
                for _ in range(inner):
                    steps[lib]()
                times[lib].append((time.perf_counter() - t0) / inner)
        out[name] = (float(np.median(times["torch"])), float(np.median(times["fastnn"])))
    return out


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    names = sys.argv[2:] or sorted(SEQ)
    res = alternating(names, rounds)
    print(f"| workload | PyTorch (ms) | fastnn (ms) | fastnn / PyTorch |  ({THREADS} threads, "
          f"medians of {rounds} alternating rounds)")
    print("|---|---|---|---|")
    for name, (t, f) in res.items():
        print(f"| {name} | {t * 1e3:.2f} | {f * 1e3:.2f} | {f / t:.2f} |")
