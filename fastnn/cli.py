"""The ``fastnn`` command: ``demo``, ``info`` and ``bench`` (and ``--version``).

``fastnn demo`` is the main job: it trains a small CNN on the bundled 8x8
handwritten digits (standardized, a fixed-seed 80/20 train/test split), shows
a progress bar, prints the test accuracy, the training time and images per
second, and saves the model with ``fastnn.save``.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

__all__ = ["main", "build_digits_cnn", "run_demo", "run_bench", "run_peak", "fma_peak"]


def build_digits_cnn():
    """conv(1->16, 3x3) - relu - maxpool 2 - conv(16->32, 3x3) - relu - maxpool 2 -
    linear(128->64) - relu - linear(64->10), for (N, 1, 8, 8) inputs."""
    from . import nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10))


def digits_split(seed=0, test_fraction=0.2):
    """Standardized digits split into train and test sets with a fixed seed."""
    from .data import Standardize, load_digits
    x, y = load_digits()
    perm = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    te, tr = perm[:n_test], perm[n_test:]
    scaler = Standardize().fit(x[tr])
    return scaler.transform(x[tr]), y[tr], scaler.transform(x[te]), y[te]


def run_demo(epochs=15, batch_size=32, lr=3e-3, seed=0, out="fastnn_digits_cnn.fnn",
             progress=True, out_stream=None, plots=None):
    """Trains the digits CNN; returns a dict of the figures it printed."""
    import fastnn
    from . import nn, optim
    from .data import DataLoader, TensorDataset
    from .train import Trainer
    say = (lambda s: print(s, file=out_stream or sys.stdout, flush=True))
    fastnn.manual_seed(seed)
    xtr, ytr, xte, yte = digits_split(seed)
    model = build_digits_cnn()
    say(f"fastnn {fastnn.__version__} demo: CNN on the 8x8 handwritten digits "
        f"({len(xtr)} train / {len(xte)} test images, {fastnn.get_num_threads()} threads)")
    opt = optim.Adam(model.parameters(), lr=lr)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, metrics=("accuracy",),
                      progress=progress)
    loader = DataLoader(TensorDataset(xtr, ytr), batch_size=batch_size, shuffle=True, seed=seed)
    t0 = time.perf_counter()
    history = trainer.fit(loader, epochs)
    train_time = time.perf_counter() - t0
    res = trainer.evaluate(DataLoader(TensorDataset(xte, yte), batch_size=512))
    ips = epochs * len(xtr) / train_time
    say(f"test accuracy: {100 * res['accuracy']:.2f}%")
    say(f"training time: {train_time:.2f} s ({epochs} epochs)")
    say(f"throughput: {ips:,.0f} images/s")
    if out:
        fastnn.save(model.state_dict(), out)
        say(f"saved model to {out}")
    if plots:
        for path in write_demo_plots(model, history, xte, yte, plots):
            say(f"wrote {path}")
    return {"accuracy": res["accuracy"], "train_time": train_time, "images_per_s": ips,
            "model": model}


def write_demo_plots(model, history, xte, yte, directory):
    """The demo's pictures: learning curves, first-layer filters and the
    saliency map of the first test image for its class, as PNG files."""
    import os
    from . import viz
    os.makedirs(directory, exist_ok=True)
    model.eval()
    paths = [os.path.join(directory, n) for n in ("curves.png", "filters.png", "saliency.png")]
    history.plot(paths[0])
    viz.filters(model[0].weight).savefig(paths[1], dpi=120)
    viz.saliency(model, xte[0], int(yte[0])).savefig(paths[2], dpi=120)
    return paths


# ------------------------------------------------------------------ bench
# Timings on a shared machine wander: another process takes a core for a few
# milliseconds, a thread team waits a scheduler slice for its second thread.
# So every figure is a median over ROUNDS rounds, the libraries measured in
# turn within each round (they share the machine's mood), each round's
# figure itself the median of several calls; the spread of the rounds is
# reported, and a row whose spread is over SPREAD_WARN is marked as not to
# be trusted.
ROUNDS = 5
SPREAD_WARN = 0.15


def _call_median(fn, budget, min_calls=3, max_calls=200):
    """Median seconds of one call of fn over about budget seconds."""
    ts = []
    t_end = time.perf_counter() + budget
    while len(ts) < min_calls or (len(ts) < max_calls and time.perf_counter() < t_end):
        s = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - s)
    return float(np.median(ts))


def spread_of(values):
    """Relative spread of repeated measurements: the interquartile range over
    the median (0 for fewer than two values)."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if v.size < 2 or np.median(v) <= 0:
        return 0.0
    q1, q3 = np.percentile(v, [25, 75])
    return float((q3 - q1) / np.median(v))


def measure(fns, min_time=0.2, rounds=ROUNDS):
    """Times the callables of fns (name -> callable or None) in alternation:
    rounds rounds, in each every callable for about min_time / rounds
    seconds (at least 3 calls; one warm-up call first).  Returns name ->
    (median seconds over the rounds, spread) or None for a None callable."""
    live = {k: f for k, f in fns.items() if f is not None}
    for f in live.values():
        f()
    per = {k: [] for k in live}
    for _ in range(max(1, rounds)):
        for k, f in live.items():
            per[k].append(_call_median(f, min_time / max(1, rounds)))
    return {k: ((float(np.median(per[k])), spread_of(per[k])) if k in per else None)
            for k in fns}


def _torch(use_torch, threads):
    if not use_torch:
        return None
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def measure_apart(fns, min_time=0.2, rounds=ROUNDS, pause=0.3):
    """As ``measure``, but each callable's rounds on their own, in order, with
    a pause after each: the thread pools of NumPy's BLAS (OpenBLAS) and of
    PyTorch spin for a while after a call and hold the cores the next
    library's team runs on (a 256^3 product at two threads right after a
    NumPy one ran at a tenth of its speed)."""
    r = {}
    for k, f in fns.items():
        r.update(measure({k: f}, min_time, rounds))
        if f is not None:
            time.sleep(pause)
    return r


def _blas_limits(threads):
    """threadpoolctl's limit on NumPy's BLAS (a no-op without it)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads)


def numpy_blas():
    """The BLAS NumPy runs (threadpoolctl), e.g. 'openblas 0.3.31 SkylakeX'."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    for d in threadpool_info():
        if d.get("user_api") == "blas":
            return f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')}"
    return "unknown"


def _bench_linear_fwd_bwd(add, x, w, bias, torch):
    """``run_bench``'s linear forward+backward row (fastnn, NumPy by hand,
    PyTorch when given)."""
    import fastnn
    import fastnn.nn.functional as F
    bs, fi = x.shape
    tx = fastnn.Tensor(x)
    pw = fastnn.Tensor(w, requires_grad=True)
    pb = fastnn.Tensor(bias, requires_grad=True)

    def f_fb():
        pw.grad = pb.grad = None
        F.linear(tx, pw, pb).relu().sum().backward()

    def np_fb():
        y = x @ w.T + bias
        g = (y > 0).astype(np.float32)
        return g.T @ x, g.sum(0), g @ w

    add(f"linear fwd+bwd {bs}x{fi}->{fi}", f_fb, np_fb,
        _torch_linear_fwd_bwd(torch, x, w, bias) if torch is not None else None)


def _torch_linear_fwd_bwd(torch, x, w, bias):
    qw = torch.from_numpy(w.copy()).requires_grad_()
    qb = torch.from_numpy(bias.copy()).requires_grad_()
    qx = torch.from_numpy(x)

    def t_fb():
        qw.grad = qb.grad = None
        torch.nn.functional.linear(qx, qw, qb).relu().sum().backward()
    return t_fb


def _print_bench_table(say, rows, with_torch, rounds):
    """Prints ``run_bench``'s rows: one line per op, times in ms, the NumPy
    ratio and the spread of the rounds (flagged when too wide)."""
    import fastnn

    def ms(t):
        return f"{t * 1e3:9.3f}" if t is not None else f"{'-':>9}"
    say(f"fastnn {fastnn.__version__}, {fastnn.get_num_threads()} threads, kernel path "
        f"{fastnn.info()['kernel_path']}; median time in ms over {rounds} rounds, each "
        "library on its own (lower is better)")
    head = f"{'op':<34} {'fastnn':>9} {'numpy':>9}" + (f" {'torch':>9}" if with_torch else "") + \
        f" {'numpy/fastnn':>13} {'spread':>7}"
    say(head)
    say("-" * len(head))
    wide = False
    for name, tf, tn, tt, sp in rows:
        line = f"{name:<34} {ms(tf)} {ms(tn)}" + (f" {ms(tt)}" if with_torch else "")
        line += f" {tn / tf:12.2f}x" if tn else f" {'-':>13}"
        line += f" {100 * sp:6.0f}%" + (" ?" if sp > SPREAD_WARN else "")
        wide |= sp > SPREAD_WARN
        say(line)
    if wide:
        say(f"? the rounds of this row spread by more than {100 * SPREAD_WARN:.0f}% "
            "(interquartile range / median): the machine is busy; its figures are not "
            "to be trusted -- run again, with --min-time larger, on a quieter machine")


def run_bench(min_time=0.2, out_stream=None, small=False, use_torch=True, rounds=ROUNDS):
    """A quick table: fastnn vs NumPy (and PyTorch when installed), median
    times in ms over rounds (each library's on their own), with their spread.

    ``small`` shrinks every shape (a smoke test); ``use_torch=False`` skips
    PyTorch.  Returns rows (name, fastnn, numpy, torch, spread), times in
    seconds (None where not measured)."""
    import fastnn
    import fastnn.nn.functional as F
    say = (lambda s: print(s, file=out_stream or sys.stdout, flush=True))
    torch = _torch(use_torch, fastnn.get_num_threads())
    d = 4 if small else 1
    rng = np.random.default_rng(0)
    rows = []

    def add(name, f_fn, np_fn, t_fn):
        r = measure_apart({"f": f_fn, "n": np_fn, "t": t_fn if torch is not None else None},
                          min_time, rounds)
        sp = max(v[1] for v in r.values() if v is not None)
        rows.append((name, r["f"][0], r["n"][0] if r["n"] else None,
                     r["t"][0] if r["t"] else None, sp))

    n = 512 // d
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    ta, tb = fastnn.Tensor(a), fastnn.Tensor(b)
    add(f"gemm {n}x{n}x{n}", lambda: ta @ tb, lambda: a @ b,
        (lambda: torch.from_numpy(a) @ torch.from_numpy(b)) if torch else None)

    bs, fi = 256 // d, 1024 // d
    x = rng.standard_normal((bs, fi), dtype=np.float32)
    w = rng.standard_normal((fi, fi), dtype=np.float32) * 0.03
    bias = np.zeros(fi, np.float32)
    tx, tw, tbias = fastnn.Tensor(x), fastnn.Tensor(w), fastnn.Tensor(bias)
    add(f"linear fwd {bs}x{fi}->{fi}", lambda: F.linear(tx, tw, tbias), lambda: x @ w.T + bias,
        (lambda: torch.nn.functional.linear(torch.from_numpy(x), torch.from_numpy(w),
                                            torch.from_numpy(bias))) if torch else None)

    _bench_linear_fwd_bwd(add, x, w, bias, torch)

    try:
        nb, hw = 32 // d, 32 // d
        xi = rng.standard_normal((nb, 16, hw, hw), dtype=np.float32)
        wc = rng.standard_normal((32, 16, 3, 3), dtype=np.float32) * 0.1
        txi, twc = fastnn.Tensor(xi), fastnn.Tensor(wc)
        F.conv2d(txi, twc, padding=1)

        def np_conv():
            xp = np.pad(xi, ((0, 0), (0, 0), (1, 1), (1, 1)))
            cols = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
            return np.einsum("nchwij,kcij->nkhw", cols, wc, optimize=True)
        add(f"conv2d fwd {nb}x16x{hw}x{hw}, 32x3x3", lambda: F.conv2d(txi, twc, padding=1), np_conv,
            (lambda: torch.nn.functional.conv2d(torch.from_numpy(xi), torch.from_numpy(wc),
                                                padding=1)) if torch else None)
    except NotImplementedError:
        pass

    xr = rng.standard_normal((1 << 20) // d, dtype=np.float32)
    txr = fastnn.Tensor(xr)
    add(f"relu {xr.size}", lambda: txr.relu(), lambda: np.maximum(xr, 0),
        (lambda: torch.relu(torch.from_numpy(xr))) if torch else None)

    _print_bench_table(say, rows, torch is not None, rounds)
    return rows


# The GEMMs of ``fastnn bench --peak``: (name, M, N, K, trans_a, trans_b);
# the conv-shaped ones are the products of a 3x3 convolution of 64 channels
# over a batch of 64 32x32 images (benchmarks/workloads.py).
PEAK_GEMMS = [("256", 256, 256, 256, False, False), ("512", 512, 512, 512, False, False),
              ("1024", 1024, 1024, 1024, False, False), ("2048", 2048, 2048, 2048, False, False),
              ("conv fwd", 65536, 64, 576, False, True),
              ("conv bwd data", 65536, 576, 64, False, False),
              ("conv bwd weight", 64, 576, 65536, True, False),
              ("linear 128x256x784", 128, 256, 784, False, True)]
PEAK_GEMMS_SMALL = [("64", 64, 64, 64, False, False), ("128", 128, 128, 128, False, False),
                    ("256", 256, 256, 256, False, False),
                    ("conv fwd /64", 1024, 64, 576, False, True),
                    ("conv bwd weight /64", 64, 576, 1024, True, False)]


def fma_peak(threads, min_time=0.1, tries=5):
    """The machine's arithmetic peak for the kernel path in force, GFLOP/s:
    the best of `tries` runs of the register-only FMA probe (fastnn._core.
    fma_probe) on `threads` threads, each about min_time / tries seconds,
    each timed by the threads' own CPU time (a thread the machine
    deschedules does not count as slow).  Best, not median: the probe can
    only be slowed down, never sped up."""
    from . import _core
    iters, best = 20000, 0.0
    for _ in range(tries):
        while True:
            flops, dt, rate = _core.fma_probe(iters, threads)
            if dt >= min_time / tries / 2 or iters > 1 << 30:
                break
            iters *= 4
        best = max(best, (rate or flops / dt) / 1e9)
    return best


_TORCH_PEAK_SRC = """
import json, sys, numpy as np, torch
from fastnn.cli import measure
gemms, nt, min_time, rounds = json.loads(sys.argv[1])
torch.set_num_threads(nt)
rng = np.random.default_rng(0)
out = {}
for name, M, N, K, ta, tb in gemms:
    A = torch.from_numpy(rng.standard_normal((K, M) if ta else (M, K), dtype=np.float32))
    B = torch.from_numpy(rng.standard_normal((N, K) if tb else (K, N), dtype=np.float32))
    A, B = (A.t() if ta else A), (B.t() if tb else B)
    C = torch.empty((M, N))
    out[name] = measure({"t": lambda: torch.mm(A, B, out=C)}, min_time, rounds)["t"]
print(json.dumps(out))
"""


def _torch_peak_times(gemms, threads, min_time, rounds):
    """PyTorch's median seconds and spread per GEMM (name -> (median,
    spread)), measured in a child process at `threads` threads; None when
    PyTorch is not installed or the child fails."""
    import importlib.util
    import subprocess
    if importlib.util.find_spec("torch") is None:
        return None
    env = dict(os.environ)
    parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = parent + os.pathsep + env.get("PYTHONPATH", "")
    args = json.dumps([gemms, threads, min_time, rounds])
    try:
        r = subprocess.run([sys.executable, "-c", _TORCH_PEAK_SRC, args], env=env,
                           capture_output=True, text=True, timeout=600)
        return {k: tuple(v) for k, v in json.loads(r.stdout.strip().splitlines()[-1]).items()}
    except (subprocess.SubprocessError, ValueError, IndexError, OSError):
        return None


def _on_lines(shape, rng=None):
    """A float32 array starting on a 64-byte line, as fastnn's tensors do
    (NumPy's allocator puts a large array 16 bytes into a page, and every
    vector store of a product's output then straddles two lines: the
    Linear product 128 x 256 x 784 measured 76% of the peak there against
    88% on its own tensors); standard normal values when rng is given."""
    n = int(np.prod(shape))
    raw = np.empty(4 * n + 64, np.uint8)
    off = -raw.ctypes.data % 64
    out = raw[off:off + 4 * n].view(np.float32).reshape(shape)
    if rng is not None:
        out[...] = rng.standard_normal(shape, dtype=np.float32)
    return out


def _peak_row(name, M, N, K, ta_, tb_, nt, peak, rng, min_time, rounds, torch_times):
    """One GEMM of ``run_peak`` measured: its row (GFLOP/s per library, spread)
    and the printed line.  fastnn and NumPy get the same arrays, on 64-byte
    lines as fastnn's tensors are (_on_lines)."""
    from . import _core
    a = _on_lines((K, M) if ta_ else (M, K), rng)
    b = _on_lines((N, K) if tb_ else (K, N), rng)
    c = _on_lines((M, N))
    A, B = (a.T if ta_ else a), (b.T if tb_ else b)
    with _blas_limits(nt):   # (fastnn, then NumPy: not alternated)
        r = measure_apart({"fastnn": lambda: _core.gemm(a, b, c, ta_, tb_, 1.0, 0.0, nt),
                           "numpy": lambda: np.matmul(A, B, out=c)}, min_time, rounds)
    r["torch"] = torch_times.get(name) if torch_times else None
    flops = 2.0 * M * N * K
    row = {"name": name, "M": M, "N": N, "K": K, "threads": nt, "peak": peak,
           "spread": max(v[1] for v in r.values() if v is not None)}
    line = f"{name + f' {M}x{N}x{K}':<34}"
    for lib in ("fastnn", "numpy", "torch"):
        if r[lib] is None:
            row[lib] = None
            continue
        g = flops / r[lib][0] / 1e9
        row[lib] = g
        line += f" {g:8.1f} {100 * g / peak:3.0f}%"
    line += f" {100 * row['spread']:6.0f}%" + (" ?" if row["spread"] > SPREAD_WARN
                                                else "")
    return row, line


def run_peak(min_time=1.0, out_stream=None, small=False, use_torch=True, threads=(1, 2),
             rounds=ROUNDS):
    """``fastnn bench --peak``: the FMA peak of the kernel path in force at each
    thread count, and each GEMM's GFLOP/s as a percentage of it, for fastnn,
    NumPy (its BLAS pinned to the thread count with threadpoolctl) and
    PyTorch when installed (in a child process, measured before).  Medians
    over rounds (each library on its own), spread reported.  Returns a list of dict rows."""
    import fastnn
    from . import _core
    say = (lambda s: print(s, file=out_stream or sys.stdout, flush=True))
    gemms = PEAK_GEMMS_SMALL if small else PEAK_GEMMS
    path = _core.gemm_isa()
    bl = _core.gemm_blocking("float32")
    say(f"fastnn {fastnn.__version__}, kernel path {path} (CPU best: {_core.cpu_best_isa()}), "
        f"blocking MR={bl['mr']} NR={bl['nr']} MC={bl['mc']} KC={bl['kc']} NC={bl['nc']}")
    say(f"NumPy BLAS: {numpy_blas()}" + "".join(
        f"; {k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        if k in os.environ))
    rng = np.random.default_rng(0)
    rows = []
    old_threads = fastnn.get_num_threads()
    try:
        for nt in threads:
            fastnn.set_num_threads(nt)
            # PyTorch runs in a child process: its OpenMP threads and
            # fastnn's, both spinning for a while after each product, slow
            # each other down badly at 2 threads when they share a process
            torch_times = _torch_peak_times(gemms, nt, min_time, rounds) if use_torch else None
            torch = torch_times is not None
            # (a pause first: a probe taken straight after the child's
            # products read 20% low at one thread; the best of two probes)
            time.sleep(0.5)
            peak = max(fma_peak(nt), fma_peak(nt))
            say(f"\n{nt} thread{'s' if nt > 1 else ''}: FMA probe peak {peak:.1f} GFLOP/s "
                f"({path}); GFLOP/s and % of that peak, medians of {rounds} rounds")
            head = (f"{'gemm (MxNxK)':<34} {'fastnn':>8} {'%':>4} {'numpy':>8} {'%':>4}" +
                    (f" {'torch':>8} {'%':>4}" if torch else "") + f" {'spread':>7}")
            say(head)
            say("-" * len(head))
            for name, M, N, K, ta_, tb_ in gemms:
                row, line = _peak_row(name, M, N, K, ta_, tb_, nt, peak, rng, min_time,
                                      rounds, torch_times)
                say(line)
                rows.append(row)
    finally:
        fastnn.set_num_threads(old_threads)
    if any(r["spread"] > SPREAD_WARN for r in rows):
        say(f"? rounds spread by more than {100 * SPREAD_WARN:.0f}% (interquartile range / "
            "median): the machine is busy; those rows are not to be trusted -- run again on a "
            "quieter machine")
    return rows


def gemm_info():
    """The GEMM's blocking on this machine (fastnn info): the kernel path, its
    register block and cache blocks (float32 and float64), and the data
    caches they were chosen from."""
    from . import _core
    out = {"gemm_path": _core.gemm_isa()}
    for dt in ("float32", "float64"):
        bl = _core.gemm_blocking(dt)
        out[f"gemm_{dt}"] = (f"MR={bl['mr']} NR={bl['nr']} MC={bl['mc']} KC={bl['kc']} "
                             f"NC={bl['nc']}")
    ci = _core.cpu_caches()

    def size(b):
        return f"{b // 1048576} MiB" if b >= 1048576 and b % 1048576 == 0 else f"{b // 1024} KiB"
    out["cpu_caches"] = ", ".join(
        f"{lv} {size(ci[lv]['size'])}" + (f" {ci[lv]['ways']}-way" if ci[lv]["ways"] else "") +
        (f" shared by {ci[lv]['shared_by']}" if ci[lv]["shared_by"] > 1 else "")
        for lv in ("L1", "L2", "L3")) + f" ({ci['source']}" + (", AMD" if ci.get("amd") else "") + ")"
    return out


# -------------------------------------------------------------------- main
def _parser():
    """The ``fastnn`` command line: demo, info, bench."""
    from . import __version__
    p = argparse.ArgumentParser(prog="fastnn", description="fastnn: a fast CPU neural-network "
                                "library. Commands: demo, info, bench.")
    p.add_argument("--version", action="version", version=f"fastnn {__version__}")
    sub = p.add_subparsers(dest="command", metavar="{demo,info,bench}")
    d = sub.add_parser("demo", help="train a small CNN on the bundled digits")
    d.add_argument("--epochs", type=int, default=15)
    d.add_argument("--batch-size", type=int, default=32)
    d.add_argument("--lr", type=float, default=3e-3)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--threads", type=int, default=None, help="kernel threads")
    d.add_argument("--out", "--save", dest="out", default="fastnn_digits_cnn.fnn",
                   help="where to save the trained model ('' to skip)")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")
    d.add_argument("--plots", metavar="DIR", default=None,
                   help="write curves.png, filters.png and saliency.png into DIR "
                        "(needs matplotlib)")
    i = sub.add_parser("info", help="version, build and thread count")
    i.add_argument("--json", action="store_true")
    b = sub.add_parser("bench", help="quick benchmark table vs NumPy (and PyTorch)")
    b.add_argument("--min-time", type=float, default=None,
                   help="seconds per measurement, shared by its rounds (default 0.2; "
                        "1.0 with --peak)")
    b.add_argument("--rounds", type=int, default=ROUNDS,
                   help=f"rounds per measurement (default {ROUNDS})")
    b.add_argument("--threads", type=int, default=None,
                   help="threads (with --peak: only this count instead of 1 and 2)")
    b.add_argument("--small", action="store_true", help="small shapes (a smoke test)")
    b.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    b.add_argument("--peak", action="store_true",
                   help="the machine's FMA peak and GEMM GFLOP/s as a percentage of it")
    return p


def main(argv=None):
    """Entry point of the ``fastnn`` console script and ``python -m fastnn``."""
    p = _parser()
    args = p.parse_args(argv)
    import fastnn
    if getattr(args, "threads", None):
        fastnn.set_num_threads(args.threads)
    if args.command == "demo":
        if args.epochs < 1 or args.batch_size < 1:
            p.error("--epochs and --batch-size must be >= 1")
        run_demo(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                 out=args.out or None, progress=not args.no_progress, plots=args.plots)
    elif args.command == "info":
        inf = fastnn.info()
        if args.json:
            inf["gemm"] = gemm_info()
            print(json.dumps(inf))
        else:
            for k, v in inf.items():
                print(f"{k:>14}: {v}")
            for k, v in gemm_info().items():
                print(f"{k:>14}: {v}")
    elif args.command == "bench":
        if args.rounds < 1 or (args.min_time is not None and args.min_time <= 0):
            p.error("--rounds and --min-time must be positive")
        if args.peak:
            run_peak(min_time=args.min_time or 1.0, small=args.small,
                     use_torch=not args.no_torch, rounds=args.rounds,
                     threads=(args.threads,) if args.threads else (1, 2))
        else:
            run_bench(min_time=args.min_time or 0.2, small=args.small,
                      use_torch=not args.no_torch, rounds=args.rounds)
    else:
        p.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
