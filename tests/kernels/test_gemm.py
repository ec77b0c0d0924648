"""fnn_gemm_f32/_f64 through the binding: every kernel path, trans combination,
alpha/beta, sizes at every blocking edge, thread invariance and bad input."""
import numpy as np
import pytest

import fastnn._core as core
from fastnn.testing import reference as ref
from fastnn.testing import run_python
from fastnn.testing.gemm import check as _check, kernel_paths, operands as _operands, run as _run

DTYPES = [np.float32, np.float64]
PATHS = kernel_paths()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (-0.5, 1.0), (2.0, -1.5)])
def test_trans_alpha_beta(isa, dtype, ta, tb, alpha, beta):
    bl = core.gemm_blocking(dtype)
    M, N, K = 3 * bl["mr"] + 1, 2 * bl["nr"] + 3, 37
    rng = np.random.default_rng(1)
    a, b, c0 = _operands(rng, M, N, K, ta, tb, dtype)
    if beta == 0.0:
        c0[:] = np.nan          # beta == 0: C is not read
    out = _run(a, b, c0, ta, tb, alpha, beta, 1)
    _check(a, b, c0, out, ta, tb, alpha, beta)
    assert np.array_equal(_run(a, b, c0, ta, tb, alpha, beta, 2), out)


def _edge_shapes(bl):
    """(M, N, K) just under, at and over every block size, and remainders."""
    mr, nr, mc, kc, nc = bl["mr"], bl["nr"], bl["mc"], bl["kc"], bl["nc"]
    shapes = []
    for m in (mr - 1, mr, mr + 1):
        shapes.append((m, nr + 5, 9))
    for n in (nr - 1, nr, nr + 1):
        shapes.append((2 * mr + 1, n, 11))
    for m in (mc - 1, mc, mc + 1, 2 * mc + mr + 1):
        shapes.append((m, nr + 1, 13))
    for k in (kc - 1, kc, kc + 1, 2 * kc + 3):
        shapes.append((mr + 2, nr + 3, k))
    for n in (nc - 1, nc, nc + 1):
        shapes.append((mr + 1, n, 5))
    shapes.append((3 * mc + 7, 5 * nr + 7, kc + 17))   # all edges at once
    shapes.append((2 * mr + 3, 4, 5 * kc + 1))         # several k blocks per B pass
    return shapes


@pytest.mark.parametrize("dtype", DTYPES)
def test_block_edges(isa, dtype):
    bl = core.gemm_blocking(dtype)
    rng = np.random.default_rng(2)
    combos = [(False, False), (True, False), (False, True), (True, True)]
    for idx, (M, N, K) in enumerate(_edge_shapes(bl)):
        ta, tb = combos[idx % 4]
        a, b, c0 = _operands(rng, M, N, K, ta, tb, dtype)
        alpha, beta = (1.0, 0.0) if idx % 2 else (0.75, 0.5)
        out = _run(a, b, c0, ta, tb, alpha, beta, 1)
        _check(a, b, c0, out, ta, tb, alpha, beta)
        out2 = _run(a, b, c0, ta, tb, alpha, beta, 2)
        assert np.array_equal(out2, out), f"threads change the result at {(M, N, K)}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M,N,K", [(64, 576, 300), (300, 40, 200), (150, 150, 600), (7, 900, 50)])
def test_thread_invariance(dtype, M, N, K):
    """Bitwise identical at 1, 2 and 3 threads (split over M, over N, or both)."""
    rng = np.random.default_rng(3)
    for ta, tb in [(False, False), (True, True)]:
        a, b, c0 = _operands(rng, M, N, K, ta, tb, dtype)
        outs = [_run(a, b, c0, ta, tb, 1.0, 1.0, nt) for nt in (1, 2, 3)]
        _check(a, b, c0, outs[0], ta, tb, 1.0, 1.0)
        assert np.array_equal(outs[0], outs[1])
        assert np.array_equal(outs[0], outs[2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_degenerate_sizes(isa, dtype):
    rng = np.random.default_rng(4)
    for M, N, K in [(0, 3, 4), (3, 0, 4), (0, 0, 0), (3, 4, 0), (1, 1, 1), (1, 7, 1),
                    (5, 1, 9), (1, 1, 300), (1, 33, 17)]:
        for beta in (0.0, 2.0):
            a, b, c0 = _operands(rng, M, N, K, False, False, dtype)
            if beta == 0.0:
                c0[:] = np.nan
            out = _run(a, b, c0, False, False, 1.5, beta, 2)
            assert out.shape == (M, N)
            if K == 0:
                want = np.zeros((M, N), dtype) if beta == 0 else (beta * c0).astype(dtype)
                assert np.array_equal(out, want)
            else:
                _check(a, b, c0, out, False, False, 1.5, beta)


@pytest.mark.parametrize("dtype", DTYPES)
def test_alpha_zero_scales_c(dtype):
    rng = np.random.default_rng(5)
    a, b, c0 = _operands(rng, 9, 10, 11, False, False, dtype)
    a[0, 0] = np.nan
    out = _run(a, b, c0, False, False, 0.0, 3.0, 1)
    assert np.array_equal(out, (3.0 * c0).astype(dtype))


def test_paths_agree_with_each_other():
    """Every path computes the same numbers up to rounding (mixed sizes)."""
    rng = np.random.default_rng(6)
    a = rng.standard_normal((77, 301)).astype(np.float32)
    b = rng.standard_normal((301, 45)).astype(np.float32)
    outs = []
    try:
        for p in PATHS:
            core.gemm_set_isa(p)
            c = np.zeros((77, 45), np.float32)
            outs.append(core.gemm(a, b, c, n_threads=2))
    finally:
        core.gemm_set_isa("auto")
    for o in outs[1:]:
        np.testing.assert_allclose(o, outs[0], rtol=1e-4, atol=1e-4)


def test_forced_path_is_the_path_run():
    """gemm_set_isa reaches the kernels: the portable path (a multiply and an
    add) and an FMA path round a long sum differently."""
    if core.cpu_best_isa() == "portable":
        pytest.skip("no FMA path on this CPU")
    rng = np.random.default_rng(8)
    a = rng.standard_normal((40, 301)).astype(np.float32)
    b = rng.standard_normal((301, 50)).astype(np.float32)
    outs = {}
    try:
        for p in ("portable", "avx2"):
            assert core.gemm_set_isa(p) == p
            outs[p] = core.gemm(a, b, np.zeros((40, 50), np.float32))
    finally:
        core.gemm_set_isa("auto")
    assert not np.array_equal(outs["portable"], outs["avx2"])


def test_set_isa():
    try:
        assert core.gemm_set_isa("portable") == "portable"
        assert core.gemm_isa() == "portable"
        assert core.gemm_blocking()["mr"] >= 1
        # a path the CPU cannot run is lowered to the best it can
        assert core.gemm_set_isa("avx512") == core.cpu_best_isa()
        assert core.gemm_set_isa("auto") == core.cpu_best_isa()
        with pytest.raises(ValueError):
            core.gemm_set_isa("sse9")
        with pytest.raises(TypeError):
            core.gemm_blocking(np.int32)
    finally:
        core.gemm_set_isa("auto")


def test_workspace_covers_every_path():
    """The binding's cached workspace must fit whichever path is in force."""
    rng = np.random.default_rng(7)
    a = rng.standard_normal((500, 700)).astype(np.float32)
    b = rng.standard_normal((700, 300)).astype(np.float32)
    want = ref.gemm(a, b)
    try:
        for p in PATHS[::-1] + PATHS:
            core.gemm_set_isa(p)
            out = core.gemm(a, b, np.empty((500, 300), np.float32), n_threads=2)
            np.testing.assert_allclose(out, want, rtol=1e-3, atol=1e-3)
    finally:
        core.gemm_set_isa("auto")


def test_bad_input_raises():
    code = r'''
import numpy as np
import fastnn._core as core
from fastnn import ShapeError
f32, f64 = np.float32, np.float64
A = np.ones((3, 4), f32); B = np.ones((4, 5), f32); C = np.zeros((3, 5), f32)
cases = [
    ((A, np.ones((3, 5), f32), C), {}, ValueError),             # K mismatch
    ((A, B, np.zeros((3, 4), f32)), {}, ValueError),             # C shape
    ((A, B, C), {"trans_a": True}, ValueError),                  # op(A) is 4x3
    ((A, B.astype(f64), C), {}, TypeError),                      # mixed dtypes
    ((A.astype(np.int32), B, C), {}, TypeError),                 # wrong dtype
    ((A, B, C.astype(f64)), {}, TypeError),
    ((np.ones((3, 8), f32)[:, ::2], B, C), {}, ValueError),      # not contiguous
    ((A, B, np.zeros((5, 3), f32).T), {}, ValueError),           # C not contiguous
    ((np.ones(4, f32), B, C), {}, ValueError),                   # not 2-D
    (([[1.0]], B, C), {}, TypeError),                            # not an ndarray
]
for args, kw, exc in cases:
    try:
        core.gemm(*args, **kw)
    except exc:
        pass
    else:
        raise SystemExit(f"no {exc.__name__} for {kw} {[getattr(x, 'shape', x) for x in args]}")
try:
    core.gemm(A, np.ones((3, 5), f32), C)
except ShapeError:
    pass
ro = np.zeros((3, 5), f32); ro.flags.writeable = False
try:
    core.gemm(A, B, ro)
except ValueError:
    pass
else:
    raise SystemExit("read-only C accepted")
print("ok")
'''
    r = run_python(code)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("ok")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("layout", ["c", "f", "strided"])
def test_mm2d_operands_of_every_layout(dtype, ta, tb, layout):
    # op(a) @ op(b) for C-contiguous, F-contiguous (passed as a transpose
    # flag) and strided (copied) operands, into a new array or accumulated
    # into out; the same bits as gemm on contiguous copies, at 1 and 2 threads
    rng = np.random.default_rng(3)
    M, N, K = 19, 37, 23

    def lay(x):
        if layout == "f":
            return np.asfortranarray(x)
        if layout == "strided":
            big = np.zeros((x.shape[0], 2 * x.shape[1]), x.dtype)
            big[:, ::2] = x
            return big[:, ::2]
        return x
    a0 = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    b0 = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    a, b = lay(a0), lay(b0)
    want = core.gemm(a0, b0, np.empty((M, N), dtype), ta, tb, 1.0, 0.0, 1)
    for nt in (1, 2):
        got = core.mm2d(a, b, None, ta, tb, 0.0, nt, 0)
        assert got.dtype == dtype and got.shape == (M, N) and got.flags.c_contiguous
        assert np.array_equal(got, want)
    np.testing.assert_allclose(want, (a0.T if ta else a0) @ (b0.T if tb else b0),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-4)
    c0 = rng.standard_normal((M, N)).astype(dtype)
    out = c0.copy()
    assert core.mm2d(a, b, out, ta, tb, 0.5, 2, 0) is out
    assert np.array_equal(out, core.gemm(a0, b0, c0.copy(), ta, tb, 1.0, 0.5, 1))
    # the same through the op layer's mm (its serial cut-off and threads)
    from fastnn.ops.linalg import mm
    assert np.array_equal(mm(a, b, trans_a=ta, trans_b=tb), want)


def test_mm2d_bad_input_raises():
    from fastnn import ShapeError
    f32 = np.float32
    A, B = np.ones((3, 4), f32), np.ones((4, 5), f32)
    with pytest.raises(TypeError):
        core.mm2d([[1.0]], B)
    with pytest.raises(ShapeError):
        core.mm2d(np.ones(4, f32), B)
    with pytest.raises(ShapeError):
        core.mm2d(A, np.ones((3, 5), f32))                     # K mismatch
    with pytest.raises(TypeError):
        core.mm2d(A, B.astype(np.float64))                      # mixed dtypes
    with pytest.raises(TypeError):
        core.mm2d(A.astype(np.int64), B.astype(np.int64))       # not float
    with pytest.raises(ValueError):
        core.mm2d(A, B, np.zeros((3, 4), f32))                  # out shape
    with pytest.raises(ValueError):
        core.mm2d(A, B, np.zeros((5, 3), f32).T)                # out not contiguous
