"""Optimiser step throughput: one SGD-momentum or Adam step over 1M and 10M
float32 parameters (as 1 tensor or 100 tensors), fastnn vs NumPy in-place
ufuncs (``out=``) vs torch.optim (foreach) when installed; and the adaptive
rules (Adadelta, Adamax, NAdam, RAdam, Adam with AMSGrad) over 1M parameters,
fastnn vs torch.optim (its default single-tensor loop, and foreach).

Reported as time per step and effective bandwidth = bytes read + written per
step / time (SGD-momentum: p, g, buf read, p, buf written = 20 B/param;
Adam: p, g, m, v read, p, m, v written = 28 B/param), next to the machine's
copy bandwidth measured in the same run (a large ``np.copyto``: 2 x nbytes /
time).  Correctness is checked outside the timed region (fastnn's step
against NumPy's on the same inputs).

    pytest benchmarks/bench_optim.py --benchmark-only      (pytest-benchmark)
    python benchmarks/bench_optim.py [--quick] [--threads N] (a table of medians)
    python benchmarks/bench_optim.py --adaptive [--threads N] (the adaptive rules' table)
"""
import sys
import time

import numpy as np
import pytest

import fastnn

LR, MOM, B1, B2, EPS = 1e-3, 0.9, 0.9, 0.999, 1e-8
BYTES = {"sgd": 20, "adam": 28}
SIZES = [1_000_000, 10_000_000]
SPLITS = [1, 100]


def _tensors(n, k, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    ps = [rng.standard_normal(s, dtype=np.float32) for s in sizes]
    gs = [rng.standard_normal(s, dtype=np.float32) * 0.01 for s in sizes]
    return ps, gs


def make_fastnn(rule, n, k):
    ps, gs = _tensors(n, k)
    params = [fastnn.nn.Parameter(p) for p in ps]
    for p, g in zip(params, gs):
        p.grad = g
    opt = (fastnn.optim.SGD(params, lr=LR, momentum=MOM) if rule == "sgd"
           else fastnn.optim.Adam(params, lr=LR, betas=(B1, B2), eps=EPS))
    opt.step()                       # creates the state (the first step is special)
    return opt.step, [p._array for p in params]


def make_numpy(rule, n, k):
    ps, gs = _tensors(n, k)
    if rule == "sgd":
        bufs = [g.copy() for g in gs]            # torch's first step: buf = g
        tmp = [np.empty_like(p) for p in ps]
        for p, b in zip(ps, bufs):
            p += np.float32(-LR) * b

        def step():
            for p, g, b, t in zip(ps, gs, bufs, tmp):
                np.multiply(b, MOM, out=b)
                np.add(b, g, out=b)
                np.multiply(b, -LR, out=t)
                np.add(p, t, out=p)
        return step, ps
    ms = [np.zeros_like(p) for p in ps]
    vs = [np.zeros_like(p) for p in ps]
    tmp = [np.empty_like(p) for p in ps]
    count = [0]

    def step():
        count[0] += 1
        t = count[0]
        nss = np.float32(-LR / (1 - B1 ** t))
        bc2s = np.float32((1 - B2 ** t) ** 0.5)
        for p, g, m, v, d in zip(ps, gs, ms, vs, tmp):
            np.subtract(g, m, out=d)
            d *= np.float32(1 - B1)
            m += d                                   # m = lerp(m, g, 1 - b1)
            np.multiply(g, g, out=d)
            d *= np.float32(1 - B2)
            v *= np.float32(B2)
            v += d                                   # v = b2 v + (1 - b2) g^2
            np.sqrt(v, out=d)
            d /= bc2s
            d += np.float32(EPS)
            np.divide(m, d, out=d)
            d *= nss
            p += d
    step()
    return step, ps


def make_torch(rule, n, k):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(fastnn.get_num_threads())
    ps, gs = _tensors(n, k)
    params = [torch.nn.Parameter(torch.from_numpy(p)) for p in ps]
    for p, g in zip(params, gs):
        p.grad = torch.from_numpy(g)
    opt = (torch.optim.SGD(params, lr=LR, momentum=MOM, foreach=True) if rule == "sgd"
           else torch.optim.Adam(params, lr=LR, betas=(B1, B2), eps=EPS, foreach=True))
    opt.step()
    return opt.step, ps


MAKERS = {"fastnn": make_fastnn, "numpy": make_numpy, "torch": make_torch}


def check_fastnn_against_numpy(rule, n=200_003, k=7):
    """fastnn's step equals the NumPy baseline's on the same inputs."""
    fs, fp = make_fastnn(rule, n, k)
    ns, np_ = make_numpy(rule, n, k)
    for a, b in zip(fp, np_):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    fs()
    ns()
    for a, b in zip(fp, np_):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _times(step, reps):
    """Seconds of each of ``reps`` calls of step, after one warm-up call."""
    step()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
    return ts


def copy_bandwidth(nbytes=200_000_000, repeats=5):
    """Bytes read + written per second by a large np.copyto (GB/s)."""
    src = np.ones(nbytes // 4, np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best.append(time.perf_counter() - t0)
    return 2 * src.nbytes / np.median(best) / 1e9


# ---------------------------------------------------------- adaptive rules
# name -> (optimizer class name, kwargs, bytes moved per parameter)
ADAPTIVE = {
    "adadelta": ("Adadelta", dict(lr=1.0, weight_decay=1e-4), 28),
    "adamax": ("Adamax", dict(lr=2e-3), 28),
    "nadam": ("NAdam", dict(lr=2e-3), 28),
    "radam": ("RAdam", dict(lr=1e-3), 28),
    "amsgrad": ("Adam", dict(lr=1e-3, amsgrad=True), 36),
}


def make_adaptive(lib, rule, n, k, foreach=None):
    """(step, parameter arrays) of an adaptive rule after its first step."""
    name, kw, _ = ADAPTIVE[rule]
    ps, gs = _tensors(n, k)
    if lib == "fastnn":
        params = [fastnn.nn.Parameter(p) for p in ps]
        for p, g in zip(params, gs):
            p.grad = g
        opt = getattr(fastnn.optim, name)(params, **kw)
        arrays = [p._array for p in params]
    else:
        torch = pytest.importorskip("torch")
        torch.set_num_threads(fastnn.get_num_threads())
        params = [torch.nn.Parameter(torch.from_numpy(p)) for p in ps]
        for p, g in zip(params, gs):
            p.grad = torch.from_numpy(g)
        opt = getattr(torch.optim, name)(params, foreach=foreach, **kw)
        arrays = ps
    opt.step()
    return opt.step, arrays


def check_adaptive(rule, n=100_003, k=3):
    """Three fastnn steps equal the NumPy reference's (outside the timed region)."""
    from fastnn.testing import reference as R
    name, kw, _ = ADAPTIVE[rule]
    fn = {"adadelta": R.adadelta_step, "adamax": R.adamax_step, "nadam": R.nadam_step,
          "radam": R.radam_step, "amsgrad": R.adam_amsgrad_step}[rule]
    step, arrays = make_adaptive("fastnn", rule, n, k)
    step()
    step()
    ps, gs = _tensors(n, k)
    rk = {a: b for a, b in kw.items() if a != "amsgrad"}
    for p, g, a in zip(ps, gs, arrays):
        st, q = {}, p.astype(np.float64)
        for _ in range(3):
            q = fn(q, g.astype(np.float64), st, **rk)
        np.testing.assert_allclose(a, q, rtol=2e-4, atol=2e-6)


@pytest.mark.parametrize("rule", list(ADAPTIVE))
@pytest.mark.parametrize("k", SPLITS, ids=["1t", "100t"])
@pytest.mark.parametrize("lib", ["fastnn", "torch", "torch-foreach"])
def test_optim_step_adaptive(benchmark, rule, k, lib):
    check_adaptive(rule)
    n = 1_000_000
    step, _ = make_adaptive(lib.split("-")[0], rule, n, k,
                            foreach=True if lib == "torch-foreach" else None)
    benchmark.group = f"optim-{rule}-1M-{k}t"
    benchmark.pedantic(step, rounds=10, warmup_rounds=1)
    if benchmark.stats is not None:
        benchmark.extra_info["GB_per_s"] = ADAPTIVE[rule][2] * n / \
            benchmark.stats.stats.median / 1e9


def main_adaptive(reps):
    """A table of median step times of the adaptive rules, fastnn vs torch."""
    for rule in ADAPTIVE:
        check_adaptive(rule)
    print(f"{'rule':<9}{'tensors':>8}{'fastnn ms':>11}{'torch ms':>10}{'foreach ms':>12}"
          f"{'ratio':>7}{'ratio fe':>9}")
    rows = {}
    for lib in ("fastnn", "torch", "torch-foreach"):      # torch last (see main)
        for rule in ADAPTIVE:
            for k in SPLITS:
                try:
                    step, _ = make_adaptive(lib.split("-")[0], rule, 1_000_000, k,
                                            foreach=True if lib == "torch-foreach" else None)
                except pytest.skip.Exception:
                    continue
                rows[rule, k, lib] = float(np.median(_times(step, reps)))
    for rule in ADAPTIVE:
        for k in SPLITS:
            f = rows[rule, k, "fastnn"]
            t, fe = rows.get((rule, k, "torch")), rows.get((rule, k, "torch-foreach"))
            print(f"{rule:<9}{k:>8}{f * 1e3:>11.2f}"
                  + (f"{t * 1e3:>10.2f}{fe * 1e3:>12.2f}{f / t:>7.2f}{f / fe:>9.2f}"
                     if t else ""))


@pytest.mark.parametrize("rule", ["sgd", "adam"])
@pytest.mark.parametrize("n", SIZES, ids=["1M", "10M"])
@pytest.mark.parametrize("k", SPLITS, ids=["1t", "100t"])
@pytest.mark.parametrize("lib", ["fastnn", "numpy", "torch"])
def test_optim_step(benchmark, rule, n, k, lib):
    check_fastnn_against_numpy(rule)
    step, _ = MAKERS[lib](rule, n, k)
    benchmark.group = f"optim-{rule}-{n // 1_000_000}M-{k}t"
    benchmark.pedantic(step, rounds=10, warmup_rounds=1)
    if benchmark.stats is not None:              # None under --benchmark-disable
        benchmark.extra_info["GB_per_s"] = BYTES[rule] * n / benchmark.stats.stats.median / 1e9


def test_copy_bandwidth(benchmark):
    src = np.ones(50_000_000, np.float32)
    dst = np.empty_like(src)
    benchmark.pedantic(np.copyto, args=(dst, src), rounds=5, warmup_rounds=1)
    if benchmark.stats is not None:
        benchmark.extra_info["GB_per_s"] = 2 * src.nbytes / benchmark.stats.stats.median / 1e9


def main(quick=False):
    for rule in ("sgd", "adam"):
        check_fastnn_against_numpy(rule)
    bw = copy_bandwidth()
    print(f"threads {fastnn.get_num_threads()}, copy bandwidth (np.copyto, read+write) "
          f"{bw:.1f} GB/s")
    print(f"{'rule':<6}{'params':>6}{'tensors':>8}{'lib':>8}{'median ms':>11}{'GB/s':>7}"
          f"{'% copy':>8}{'best ms':>9}{'GB/s':>7}")
    reps = 3 if quick else 10
    # torch last: its own OpenMP runtime keeps worker threads spinning after a
    # call, which would steal the cores from the next fastnn / NumPy timing.
    rows = {}
    for lib, make in MAKERS.items():
        for rule in ("sgd", "adam"):
            for n in SIZES:
                for k in SPLITS:
                    try:
                        step, _ = make(rule, n, k)
                    except pytest.skip.Exception:
                        continue
                    ts = _times(step, reps)
                    rows[rule, n, k, lib] = (float(np.median(ts)), float(np.min(ts)))
                    del step
    for (rule, n, k, lib), (t, tb) in sorted(rows.items(), key=lambda r: (
            r[0][0] != "sgd", r[0][1], r[0][2], list(MAKERS).index(r[0][3]))):
        gbs = BYTES[rule] * n / t / 1e9
        print(f"{rule:<6}{n // 1_000_000:>5}M{k:>8}{lib:>8}{t * 1e3:>11.2f}"
              f"{gbs:>7.1f}{100 * gbs / bw:>7.0f}%{tb * 1e3:>9.2f}"
              f"{BYTES[rule] * n / tb / 1e9:>7.1f}")


if __name__ == "__main__":
    if "--threads" in sys.argv:
        fastnn.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]))
    if "--adaptive" in sys.argv:
        main_adaptive(3 if "--quick" in sys.argv else 10)
    else:
        main(quick="--quick" in sys.argv)
