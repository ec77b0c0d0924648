"""The ``fastnn`` command: ``demo``, ``info`` and ``bench`` (and ``--version``).

``fastnn demo`` is the main job: it trains a small CNN on the bundled 8x8
handwritten digits (standardized, a fixed-seed 80/20 train/test split), shows
a progress bar, prints the test accuracy, the training time and images per
second, and saves the model with ``fastnn.save``.
"""
import argparse
import json
import sys
import time

import numpy as np

__all__ = ["main", "build_digits_cnn", "run_demo", "run_bench"]


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
def _time(fn, min_time=0.2, max_reps=200):
    fn()
    reps, t0 = 0, time.perf_counter()
    best = float("inf")
    while reps < max_reps and (time.perf_counter() - t0) < min_time or reps < 3:
        s = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - s)
        reps += 1
    return best


def run_bench(min_time=0.2, out_stream=None, small=False, use_torch=True):
    """A quick table: fastnn vs NumPy (and PyTorch when installed), best times in ms.

    ``small`` shrinks every shape (a smoke test); ``use_torch=False`` skips PyTorch."""
    import fastnn
    import fastnn.nn.functional as F
    say = (lambda s: print(s, file=out_stream or sys.stdout, flush=True))
    torch = None
    if use_torch:
        try:
            import torch
            torch.set_num_threads(fastnn.get_num_threads())
        except ImportError:
            torch = None
    d = 4 if small else 1
    rng = np.random.default_rng(0)
    rows = []

    def add(name, f_fn, np_fn, t_fn):
        rows.append((name, _time(f_fn, min_time), _time(np_fn, min_time) if np_fn else None,
                     _time(t_fn, min_time) if (torch is not None and t_fn) else None))

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

    pw = fastnn.Tensor(w, requires_grad=True)
    pb = fastnn.Tensor(bias, requires_grad=True)

    def f_fb():
        pw.grad = pb.grad = None
        F.linear(tx, pw, pb).relu().sum().backward()

    def np_fb():
        y = x @ w.T + bias
        g = (y > 0).astype(np.float32)
        return g.T @ x, g.sum(0), g @ w

    t_fb = None
    if torch is not None:
        qw = torch.from_numpy(w.copy()).requires_grad_()
        qb = torch.from_numpy(bias.copy()).requires_grad_()
        qx = torch.from_numpy(x)

        def t_fb():
            qw.grad = qb.grad = None
            torch.nn.functional.linear(qx, qw, qb).relu().sum().backward()
    add(f"linear fwd+bwd {bs}x{fi}->{fi}", f_fb, np_fb, t_fb)

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

    def ms(t):
        return f"{t * 1e3:9.3f}" if t is not None else f"{'-':>9}"
    say(f"fastnn {fastnn.__version__}, {fastnn.get_num_threads()} threads, kernel path "
        f"{fastnn.info()['kernel_path']}; best time in ms (lower is better)")
    head = f"{'op':<34} {'fastnn':>9} {'numpy':>9}" + (f" {'torch':>9}" if torch else "") + \
        f" {'numpy/fastnn':>13}"
    say(head)
    say("-" * len(head))
    for name, tf, tn, tt in rows:
        line = f"{name:<34} {ms(tf)} {ms(tn)}" + (f" {ms(tt)}" if torch else "")
        line += f" {tn / tf:12.2f}x" if tn else f" {'-':>13}"
        say(line)
    return rows


# -------------------------------------------------------------------- main
def main(argv=None):
    """Entry point of the ``fastnn`` console script and ``python -m fastnn``."""
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
    b.add_argument("--min-time", type=float, default=0.2, help="seconds per measurement")
    b.add_argument("--threads", type=int, default=None)
    b.add_argument("--small", action="store_true", help="small shapes (a smoke test)")
    b.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
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
            print(json.dumps(inf))
        else:
            for k, v in inf.items():
                print(f"{k:>14}: {v}")
    elif args.command == "bench":
        run_bench(min_time=args.min_time, small=args.small, use_torch=not args.no_torch)
    else:
        p.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
