"""Over-reads caught without a sanitizer: each input array is placed so that
its last byte is the last byte of a readable page, followed by a page with no
access (PROT_NONE); a kernel reading even one vector past the end then
crashes the child process that runs it.  Regression test for the
AddressSanitizer finding of issue 17 (the direct convolution path read a
partial last panel past the input when an image's planes are smaller than a
panel: conv2d 1x1 on (2, 1, 3, 3), conv_transpose2d stride 1)."""
import sys

import pytest

from fastnn.testing import run_python

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="mmap/mprotect guard pages (Linux)")

CHILD = r'''
import ctypes, mmap
import numpy as np
import fastnn
import fastnn.nn.functional as F

PAGE = mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_keep = []


def guarded(a):
    """A copy of a whose data ends exactly where a no-access page begins."""
    a = np.ascontiguousarray(a)
    n = -(-a.nbytes // PAGE) + 1
    m = mmap.mmap(-1, (n + 1) * PAGE)
    base = ctypes.addressof(ctypes.c_char.from_buffer(m))
    assert libc.mprotect(base + n * PAGE, PAGE, 0) == 0     # PROT_NONE
    out = np.frombuffer(m, a.dtype, a.size, n * PAGE - a.nbytes).reshape(a.shape)
    out[...] = a
    _keep.append(m)
    return out


def T(a, grad=False):
    g = guarded(a)
    t = fastnn.from_numpy(g)
    assert t._array.ctypes.data == g.ctypes.data        # the kernels read g itself
    if grad:
        t.requires_grad_(True)
    return t


rng = np.random.default_rng(0)
fastnn.set_num_threads(THREADS)
for dt in (np.float32, np.float64):
    r = lambda *s: rng.standard_normal(s).astype(dt)
    for (N, C, H, W, K, R) in [(2, 1, 3, 3, 1, 1), (1, 1, 3, 3, 2, 1), (3, 2, 2, 3, 4, 1),
                               (2, 1, 5, 5, 3, 3), (1, 3, 4, 4, 8, 2), (2, 1, 1, 7, 2, 1)]:
        x, w = T(r(N, C, H, W), True), T(r(K, C, R, R), True)
        y = F.conv2d(x, w, T(r(K)))
        y.backward(T(r(*y.shape)))
        F.conv2d(x, w, stride=(1, 2) if W > 2 else 1)
        yt = F.conv_transpose2d(x, T(r(C, K, R, R), True))
        yt.backward(T(r(*yt.shape)))
    x = T(r(2, 3, 5), True)
    for f in (F.relu, F.sigmoid, F.tanh, lambda v: F.softmax(v, -1), lambda v: F.log_softmax(v, 1),
              lambda v: F.layer_norm(v, (5,)), lambda v: F.linear(v, T(r(4, 5)), T(r(4)))):
        out = f(x)
        out.backward(T(r(*out.shape)))
    F.cross_entropy(T(r(3, 7), True), fastnn.tensor([1, 0, 6])).backward()
    F.mse_loss(T(r(3, 7), True), T(r(3, 7))).backward()
    xi = T(r(2, 2, 3, 3), True)
    F.max_pool2d(xi, 2).backward(T(r(2, 2, 1, 1)))
    F.avg_pool2d(xi, 2, ceil_mode=True).backward(T(r(2, 2, 2, 2)))
    F.batch_norm(xi, None, None, T(r(2)), T(r(2)), training=True).backward(T(r(2, 2, 3, 3)))
    (T(r(3, 5)) @ T(r(5, 2))).sum()
print("ok")
'''


@pytest.mark.parametrize("threads", [1, 2])
def test_small_kernels_never_read_past_their_inputs(threads):
    p = run_python(CHILD.replace("THREADS", str(threads)), timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == "ok", (p.returncode, p.stderr[-3000:])
