"""A/B of whole workloads between two builds, in thread CPU time at one thread
(robust to other processes on the machine): run it once per build, alternately,

    FASTNN_NUM_THREADS=1 PYTHONPATH=<tree> python benchmarks/ab_cpu_time.py

and compare the JSON lines (workload -> median microseconds of CPU time per call)."""
import json
import os
import sys
import time

import numpy as np

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads as W  # noqa: E402

fastnn.set_num_threads(1)
res = {}


def cpu(fn, reps, rounds=5, warm=2):
    for _ in range(warm):
        fn()
    out = []
    for _ in range(rounds):
        t = time.thread_time()
        for _ in range(reps):
            fn()
        out.append((time.thread_time() - t) / reps)
    return round(1e6 * float(np.median(out)), 2)


def step(model, opt, x, y):
    def f():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return f


r = np.random.default_rng(0)
T = lambda a, **k: fastnn.tensor(np.asarray(a, np.float32), **k)
fastnn.manual_seed(0)
m = W.mlp(nn); opt = fastnn.optim.Adam(m.parameters(), lr=1e-3)
res["mlp_train"] = cpu(step(m, opt, T(r.standard_normal((128, 784))), fastnn.tensor(r.integers(0, 10, 128))), 20)
for name, b, reps in (("cnn_train", 64, 2), ("cnn_train_b8", 8, 10)):
    c = W.cnn(nn); opt = fastnn.optim.SGD(c.parameters(), lr=0.01, momentum=0.9)
    res[name] = cpu(step(c, opt, T(r.standard_normal((b, 3, 32, 32))), fastnn.tensor(r.integers(0, 10, b))), reps)
c = W.cnn(nn).eval()
for name, b, reps in (("cnn_infer_b1", 1, 100), ("cnn_infer_b64", 64, 3)):
    x = T(r.standard_normal((b, 3, 32, 32)))
    def inf():
        with fastnn.no_grad():
            c(x)
    res[name] = cpu(inf, reps)
for name, (N, C, H, Wd, K, R, S, st, pd) in W.CONV.items():
    x = T(r.standard_normal((N, C, H, Wd)), requires_grad=True)
    w = T(r.standard_normal((K, C, R, S)) * 0.1, requires_grad=True)
    def fwd():
        with fastnn.no_grad():
            F.conv2d(x, w, None, st, pd)
    def fb():
        x.grad = w.grad = None
        F.conv2d(x, w, None, st, pd).sum().backward()
    reps = 1 if N * C * H * Wd > 1e6 else 5
    res[name + "_fwd"] = cpu(fwd, reps)
    res[name + "_fwdbwd"] = cpu(fb, reps)
x = T(r.standard_normal((64, 64, 32, 32)), requires_grad=True)
def mp():
    x.grad = None
    F.max_pool2d(x, 2, 2).sum().backward()
res["maxpool_fwdbwd"] = cpu(mp, 2)
bn = nn.BatchNorm2d(64)
def bnf():
    x.grad = None
    bn(x).sum().backward()
res["batchnorm_fwdbwd"] = cpu(bnf, 2)
for oname in ("SGD", "Adam"):
    ps = [fastnn.nn.Parameter(T(r.standard_normal(10000))) for _ in range(100)]
    for p in ps:
        p.grad = T(r.standard_normal(10000))
    o = getattr(fastnn.optim, oname)(ps, lr=1e-3, **({"momentum": 0.9} if oname == "SGD" else {}))
    res[f"{oname.lower()}_1m_100t"] = cpu(o.step, 10)
for n in (256, 1024):
    a = T(r.standard_normal((n, n))); b = T(r.standard_normal((n, n)))
    def mm():
        with fastnn.no_grad():
            a @ b
    res[f"gemm_{n}"] = cpu(mm, 20 if n == 256 else 2)
a = T(r.standard_normal((4, 4)), requires_grad=True)
def chain():
    h = a
    for _ in range(20):
        h = (h * 1.01 + 0.1).relu()
    h.sum().backward()
res["chain60_per_op"] = round(cpu(chain, 100) / 61, 3)
print(json.dumps(res))
