"""The GEMM's cache blocks chosen from the CPU's caches (csrc/gemm_kernels.c:
fnn_gemm_blocking_model; detection in csrc/common.c), the override used for
tuning, the AVX-512 assembly kernel against its C emulation (bitwise), the
block edges of small forced blocks on every path, and the FMA probe."""
import numpy as np
import pytest

import fastnn._core as core
from fastnn.testing.gemm import check as _check, kernel_paths, operands as _operands, run as _run

KiB, MiB = 1024, 1024 * 1024
KC_MAX, NC_MAX_BYTES, A_MAX_BYTES = 256, 3 * MiB, 1 * MiB
PATHS = kernel_paths()


def caches(l1, l1w, l2, l2w=16, l3=0, l3_shared=0, l2_shared=1, amd=False):
    return {"L1": {"size": l1, "ways": l1w, "line": 64, "shared_by": 1},
            "L2": {"size": l2, "ways": l2w, "line": 64, "shared_by": l2_shared},
            "L3": {"size": l3, "ways": 16, "line": 64, "shared_by": l3_shared}, "amd": amd}


def test_cpu_caches_are_sane():
    ci = core.cpu_caches()
    assert ci["source"] in ("cpuid", "sysconf", "default")
    sizes = [ci[lv]["size"] for lv in ("L1", "L2", "L3")]
    assert all(s > 0 for s in sizes)
    assert 4 * KiB <= sizes[0] <= sizes[1]
    assert all(ci[lv]["line"] >= 16 for lv in ("L1", "L2", "L3"))
    assert isinstance(ci["amd"], bool)


@pytest.mark.parametrize("ci,mr,nr,elem,want", [
    # the Intel Xeon it was tuned on: 48 KiB 12-way L1d, 2 MiB L2, huge L3
    (caches(48 * KiB, 12, 2 * MiB, 16, 480 * MiB, 2), 14, 32, 4, (504, 256, 3072)),
    # SkylakeX-like: 32 KiB 8-way, 1 MiB L2, 1.375 MiB of L3 per core
    (caches(32 * KiB, 8, 1 * MiB, 16, 38_5 * 1024 * KiB // 10, 56), 14, 32, 4, (336, 192, None)),
    # AMD EPYC with AVX2: 32 KiB 8-way, 512 KiB L2, 32 MiB L3 per 16 threads
    (caches(32 * KiB, 8, 512 * KiB, 8, 32 * MiB, 16, amd=True), 6, 16, 4, (126, 256, 2048)),
    # AMD EPYC Zen 4 (AVX-512): the same L1d as SkylakeX, but the B micro-panel
    # may fill it (one 512-bit FMA a cycle): kc 256, not 192; float64 likewise
    (caches(32 * KiB, 8, 1 * MiB, 8, 32 * MiB, 2, amd=True), 14, 32, 4, (252, 256, 3072)),
    (caches(32 * KiB, 8, 1 * MiB, 8, 32 * MiB, 2, amd=True), 14, 16, 8, (126, 256, 1536)),
    (caches(32 * KiB, 8, 1 * MiB, 8, 32 * MiB, 2), 14, 32, 4, (336, 192, 4096)),
    # nothing reported: the defaults (32 KiB L1 halved, 256 KiB L2, 2 MiB L3)
    (caches(0, 0, 0, 0, 0, 0), 14, 32, 4, (126, 128, 2048)),
    # float64 on the Xeon: 14 x 16 doubles, the same bytes per B row
    (caches(48 * KiB, 12, 2 * MiB, 16, 480 * MiB, 2), 14, 16, 8, (252, 256, 1536)),
])
def test_model_known_machines(ci, mr, nr, elem, want):
    got = core.gemm_blocking_model(ci, mr, nr, elem)
    assert (got["mc"], got["kc"]) == want[:2], got
    if want[2] is not None:
        assert got["nc"] == want[2], got


def test_model_invariants_over_many_caches():
    """Whatever the caches say, the blocks are usable: kc a multiple of 16 in
    [64, KC_MAX]; mc a multiple of mr, >= 4 mr; nc a multiple of nr, >= 8 nr,
    the packed B block within the workspace bound; and where the caches are
    large enough, the B micro-panel fits L1 and the A block a quarter of L2
    (and 1 MiB: with the B block's 3 MiB a product's workspace stays within
    4 MiB per thread, tests/ops/test_conv_workspace.py)."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        l1 = int(rng.choice([0, 16, 24, 32, 48, 64, 80, 128])) * KiB
        l1w = int(rng.choice([0, 2, 4, 8, 12, 16]))
        l2 = int(rng.choice([0, 128, 256, 512, 1024, 1280, 2048, 4096])) * KiB
        l3 = int(rng.choice([0, 1, 8, 32, 256, 1024])) * MiB
        ci = caches(l1, l1w, l2, 16, l3, int(rng.integers(0, 64)), int(rng.integers(0, 3)),
                    bool(rng.integers(0, 2)))
        for mr, nr, elem in [(6, 16, 4), (6, 8, 8), (14, 32, 4), (14, 16, 8), (1, 1, 4)]:
            b = core.gemm_blocking_model(ci, mr, nr, elem)
            mc, kc, nc = b["mc"], b["kc"], b["nc"]
            assert kc % 16 == 0 and 64 <= kc <= KC_MAX, (ci, b)
            assert mc % mr == 0 and mc >= 4 * mr, (ci, b)
            assert nc % nr == 0 and nc >= 8 * nr, (ci, b)
            assert nc * kc * elem <= max(NC_MAX_BYTES, 8 * nr * kc * elem), (ci, b)
            L1 = l1 or 32 * KiB
            if kc > 64:
                assert kc * nr * elem <= L1, (ci, b)
            L2 = (l2 or 256 * KiB) // max(1, ci["L2"]["shared_by"])
            if mc > 4 * mr:
                assert mc * kc * elem <= min(L2 // 4, A_MAX_BYTES), (ci, b)


def test_model_bad_arguments():
    ci = caches(32 * KiB, 8, MiB)
    for mr, nr, elem in [(0, 16, 4), (6, 0, 4), (6, 16, 2)]:
        with pytest.raises(ValueError):
            core.gemm_blocking_model(ci, mr, nr, elem)


@pytest.mark.parametrize("path", PATHS)
def test_paths_use_the_model_for_this_cpu(path):
    ci = core.cpu_caches()
    for dt, elem in [("float32", 4), ("float64", 8)]:
        bl = core.gemm_blocking(dt, path)
        m = core.gemm_blocking_model(ci, bl["mr"], bl["nr"], elem)
        assert (bl["mc"], bl["kc"], bl["nc"]) == (m["mc"], m["kc"], m["nc"])
    if path in ("avx512", "avx512sim"):
        assert (core.gemm_blocking("float32", path)["mr"],
                core.gemm_blocking("float32", path)["nr"]) == (14, 32)
    assert core.gemm_blocking("float32", "avx512sim") == core.gemm_blocking("float32", "avx512") \
        or "avx512" not in PATHS


def test_set_blocking_validates_and_restores():
    path = PATHS[-1]
    model = core.gemm_blocking("float32", path)
    try:
        got = core.gemm_set_blocking(path, "float32", mc=2 * model["mr"], kc=64,
                                     nc=2 * model["nr"])
        assert (got["mc"], got["kc"], got["nc"]) == (2 * model["mr"], 64, 2 * model["nr"])
        for bad in [dict(mc=model["mr"] + 1), dict(nc=model["nr"] + 1), dict(kc=KC_MAX + 1),
                    dict(mc=-1)]:
            with pytest.raises(ValueError):
                core.gemm_set_blocking(path, "float32", **bad)
        with pytest.raises(ValueError):
            core.gemm_set_blocking("nosuchpath", "float32")
        with pytest.raises(TypeError):
            core.gemm_set_blocking(path, np.int32)
    finally:
        assert core.gemm_set_blocking(path, "float32") == model


@pytest.fixture
def small_blocks(isa):
    """Blocks far below the model's (mc 2 MR, kc 64, nc 3 NR) on the path
    in force, so that small products cross every block edge; restored."""
    saved = {}
    for dt in ("float32", "float64"):
        saved[dt] = core.gemm_blocking(dt)
        b = saved[dt]
        core.gemm_set_blocking(isa, dt, mc=2 * b["mr"], kc=64, nc=3 * b["nr"])
    try:
        yield
    finally:
        for dt in saved:
            core.gemm_set_blocking(isa, dt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_block_edges(isa, small_blocks, packed_only, dtype):
    """Sizes just under, at and over MR, NR, MC, KC and NC multiples, every
    trans combination: against the oracle, bitwise equal at 1, 2, 3 threads."""
    bl = core.gemm_blocking(dtype)
    mr, nr, mc, kc, nc = bl["mr"], bl["nr"], bl["mc"], bl["kc"], bl["nc"]
    rng = np.random.default_rng(5)
    shapes = [(mr - 1, nr + 1, kc - 1), (mr + 1, nr - 1, kc + 1), (mc - 1, nc + 1, 2 * kc),
              (mc + 1, nc - 1, 2 * kc + 1), (2 * mc + 1, 2 * nc + 1, 3 * kc - 1),
              (mc, nc, kc), (3 * mr, 2 * nc + nr + 3, kc + 3)]
    combos = [(False, False), (True, False), (False, True), (True, True)]
    for idx, (M, N, K) in enumerate(shapes):
        ta, tb = combos[idx % 4]
        alpha, beta = [(1.0, 0.0), (0.5, -1.0), (-2.0, 1.0)][idx % 3]
        a, b, c0 = _operands(rng, M, N, K, ta, tb, dtype)
        if beta == 0.0:
            c0[:] = np.nan
        out = _run(a, b, c0, ta, tb, alpha, beta, 1)
        _check(a, b, c0, out, ta, tb, alpha, beta)
        for nt in (2, 3):
            assert np.array_equal(_run(a, b, c0, ta, tb, alpha, beta, nt), out), (M, N, K, nt)


@pytest.mark.skipif("avx512" not in PATHS, reason="the CPU has no AVX-512")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_avx512_assembly_equals_its_emulation(packed_only, dtype):
    """The AVX-512 kernel (assembly) and the AVX512SIM path (the C body with
    AVX2 vectors) do the same fused multiply-adds in the same order: equal
    bit for bit, full and edge tiles, beta 0 / 1 / other, several k blocks,
    B packed and read in place."""
    rng = np.random.default_rng(6)
    bl = core.gemm_blocking(dtype, "avx512")
    mr, nr, kc = bl["mr"], bl["nr"], bl["kc"]
    # (the last two take the K-split path, whose full B panels the assembly
    # kernel reads in place when B is row-major: gemm.inc, gemm_direct_b)
    shapes = [(mr, nr, 1), (mr, nr, 7), (mr - 1, nr, 33), (mr, nr - 3, 65),
              (3 * mr + 5, 2 * nr + 1, kc + 9), (100, 70, 2 * kc + 1), (mr, nr, 0),
              (20, 2 * nr + 5, 5000), (2 * mr, 3 * nr, 4100)]
    # every bottom-edge row count (each has a kernel of its own), full and
    # narrow right-edge tiles
    shapes += [(mr + r, nr - 3 * (r % 2), 17 + r) for r in range(1, mr)]
    try:
        for idx, (M, N, K) in enumerate(shapes):
            for ta, tb in [(False, False), (True, True)]:
                alpha, beta = [(1.0, 0.0), (0.75, 1.0), (-1.5, 0.25)][(idx + ta) % 3]
                a, b, c0 = _operands(rng, M, N, K, ta, tb, dtype)
                outs = []
                for path in ("avx512", "avx512sim"):
                    core.gemm_set_isa(path)
                    outs.append(_run(a, b, c0, ta, tb, alpha, beta, 1))
                if K:
                    _check(a, b, c0, outs[0], ta, tb, alpha, beta)
                assert np.array_equal(outs[0], outs[1]), (M, N, K, ta, tb)
    finally:
        core.gemm_set_isa("auto")


@pytest.mark.skipif("avx512sim" not in PATHS, reason="the CPU has no AVX2")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_read_in_place_equals_packed(dtype):
    """With few column panels the packed path reads A in place (gemm.inc,
    gemm_direct_a; the assembly kernel on AVX-512, a packing wrapper of the
    emulation on AVX512SIM).  The same multiply-adds in the same order as
    with A packed: op(A) given as A (read in place) and as a transposed
    copy (always packed) give bitwise the same C, on both paths, full and
    edge tiles, several k blocks, 1, 2 and 3 threads; against the oracle;
    and equal to the run with the direct paths switched off."""
    rng = np.random.default_rng(8)
    paths = [p for p in ("avx512", "avx512sim") if p in PATHS]
    bl = core.gemm_blocking(dtype, "avx512sim")
    mr, nr, kc = bl["mr"], bl["nr"], bl["kc"]
    # N up to 8 panels (read in place), then 9 and 10 (packed at 1 thread);
    # row counts crossing every bottom-edge kernel; K past one and two k
    # blocks; M, N and K over 16 (fewer take the direct small-product path)
    shapes = [(17, 2 * nr, 17), (3 * mr + 5, 2 * nr + 1, kc + 9), (40, 4 * nr, 2 * kc + 1),
              (mr * 5 + 11, nr + 5, 100), (64, 5 * nr, 70), (29, 9 * nr + 1, 33),
              (500, 2 * nr, 3 * kc), (2 * mr + 2, 3 * nr, 40), (30, 8 * nr, 50),
              (mr + 3, 9 * nr, kc + 1)]
    shapes += [(mr + r, 2 * nr - 7 * (r % 2), 19 + r) for r in range(3, mr)]
    outs = {}
    try:
        for path in paths:
            core.gemm_set_isa(path)
            for idx, (M, N, K) in enumerate(shapes):
                alpha, beta = [(1.0, 0.0), (0.75, 1.0), (-1.5, 0.25)][idx % 3]
                a, b, c0 = _operands(np.random.default_rng(idx), M, N, K, False, idx % 2 == 1,
                                     dtype)
                tb = idx % 2 == 1
                at = np.ascontiguousarray(a.T)
                got = _run(a, b, c0, False, tb, alpha, beta, 1)
                _check(a, b, c0, got, False, tb, alpha, beta)
                assert np.array_equal(got, _run(at, b, c0, True, tb, alpha, beta, 1)), (M, N, K)
                for nt in (2, 3):
                    assert np.array_equal(got, _run(a, b, c0, False, tb, alpha, beta, nt)), \
                        (M, N, K, nt)
                old = core.gemm_set_direct(False)
                try:
                    assert np.array_equal(got, _run(a, b, c0, False, tb, alpha, beta, 1))
                finally:
                    core.gemm_set_direct(old)
                outs.setdefault((M, N, K), []).append(got)
    finally:
        core.gemm_set_isa("auto")
    for key, got in outs.items():   # the assembly kernel and its emulation
        assert all(np.array_equal(got[0], g) for g in got[1:]), key


@pytest.mark.parametrize("path", PATHS)
def test_fma_probe(path):
    flops, secs, rate = core.fma_probe(1000, 1, path)
    assert flops > 0 and secs > 0 and rate >= 0
    flops2, _, _ = core.fma_probe(1000, 2, path)
    assert flops2 == 2 * flops
    assert core.fma_probe(0, 1, path)[0] == 0
    with pytest.raises(ValueError):
        core.fma_probe(10, 1, "nosuchpath")
