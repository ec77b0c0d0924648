"""A/B of one convolution shape between two builds, in one process: both
trees' compiled cores are loaded side by side (each under its own handle),
and their passes run in alternation, round after round, so that a change in
the machine's load hits both alike.  On the shared 2-core guests, separate
processes of the same build differed by up to 1.6x in a layer's time; in one
process the two builds' ratio held to a few percent.

    python benchmarks/ab_inprocess.py BASE_TREE HEAD_TREE N C H W K R STRIDE PAD [ROUNDS]

(each tree built in place: ``python setup.py build_ext --inplace``; for
example ``git worktree add /tmp/base HEAD~1`` for the base).  Prints, per
pass (forward, input gradient, weight gradient) at 1 thread (the thread's
CPU time) and 2 threads (wall time), the median over rounds of each round's
median, the ratio head / base, and the largest difference of the answers.
FASTNN_ISA (avx2, avx512, ...) sets both cores' kernel path, as it sets
fastnn's."""
import glob
import importlib.machinery
import importlib.util
import os
import sys
import time

import numpy as np


def load_core(tree):
    """The compiled core of the fastnn tree ``tree``, as a module of its own."""
    paths = glob.glob(os.path.join(tree, "fastnn", "_core*.so"))
    if not paths:
        sys.exit(f"no compiled core in {tree}/fastnn: build it in place first")
    loader = importlib.machinery.ExtensionFileLoader("_core", paths[0])
    spec = importlib.util.spec_from_file_location("_core", paths[0], loader=loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def aligned(shape, dtype=np.float32):
    """An empty array starting on a 64-byte line, as fastnn's allocator
    gives (NumPy's own puts a large block 16 bytes into a page, and each
    vector store of a kernel's output then straddles two lines)."""
    n = int(np.prod(shape))
    raw = np.empty(n * np.dtype(dtype).itemsize + 64, np.uint8)
    off = -raw.ctypes.data % 64
    return raw[off:off + n * np.dtype(dtype).itemsize].view(dtype).reshape(shape)


def main(argv):
    if len(argv) < 10:
        sys.exit(__doc__)
    trees = {"base": argv[0], "head": argv[1]}
    n, c, h, w, k, r, st, p = (int(v) for v in argv[2:10])
    rounds = int(argv[10]) if len(argv) > 10 else 9
    cores = {name: load_core(t) for name, t in trees.items()}
    for core in cores.values():
        core.gemm_set_isa(os.environ.get("FASTNN_ISA", "auto"))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = rng.uniform(-0.1, 0.1, (k, c, r, r)).astype(np.float32)
    b = rng.uniform(-0.1, 0.1, k).astype(np.float32)
    oh, ow = (h + 2 * p - r) // st + 1, (w + 2 * p - r) // st + 1
    y = aligned((n, k, oh, ow))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, db = aligned(x.shape), aligned(wt.shape), aligned(b.shape)
    times, answers = {}, {}
    for _ in range(rounds):
        for name, core in cores.items():
            passes = {
                "fwd": lambda nt: core.conv2d_fwd(x, wt, b, y, st, st, p, p, nt),
                "dx": lambda nt: core.conv2d_bwd(x, wt, dy, dx, None, None, st, st, p, p, nt),
                "dw": lambda nt: core.conv2d_bwd(x, wt, dy, None, dw, db, st, st, p, p, nt)}
            for pname, f in passes.items():
                for nt, clock in ((1, time.thread_time), (2, time.perf_counter)):
                    f(nt)
                    ts = []
                    for _ in range(5):
                        t0 = clock()
                        f(nt)
                        ts.append(clock() - t0)
                    times.setdefault((pname, nt), {}).setdefault(name, []).append(np.median(ts))
            answers[name] = (y.copy(), dx.copy(), dw.copy())
    print(f"conv {n}x{c}x{h}x{w} -> {k}, {r}x{r} stride {st} pad {p}: "
          f"ms, medians of {rounds} alternating rounds")
    for (pname, nt), d in times.items():
        bm, hm = np.median(d["base"]) * 1e3, np.median(d["head"]) * 1e3
        print(f"  {pname:3s} {nt} thread(s)  base {bm:8.3f}  head {hm:8.3f}  head/base {hm / bm:5.2f}")
    diff = [float(np.abs(u - v).max()) for u, v in zip(answers["base"], answers["head"])]
    print("  largest difference (y, dx, dw):", ", ".join(f"{v:.3g}" for v in diff))


if __name__ == "__main__":
    main(sys.argv[1:])
