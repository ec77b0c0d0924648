"""fastnn.random.Generator and the global-state helpers, as torch.Generator /
torch.random."""
import numpy as np
import pytest

import fastnn
from fastnn.random import Generator, default_generator


def test_manual_seed_returns_the_generator_and_repeats():
    g = Generator()
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    a = g._np.integers(0, 1 << 30, 5)
    b = Generator().manual_seed(3)._np.integers(0, 1 << 30, 5)
    np.testing.assert_array_equal(a, b)


def test_defaults_and_seed_range_match_torch():
    torch = fastnn.testing.requires_torch()
    assert Generator().initial_seed() == torch.Generator().initial_seed()
    assert Generator().manual_seed(-1).initial_seed() == \
        torch.Generator().manual_seed(-1).initial_seed()
    assert str(Generator().device) == "cpu"
    for bad in (1.5, "3", True):
        with pytest.raises(RuntimeError, match="manual_seed expected a long"):
            Generator().manual_seed(bad)
    with pytest.raises(ValueError):
        Generator().manual_seed(1 << 64)
    with pytest.raises(RuntimeError, match="not available"):
        Generator(device="cuda")


def test_seed_is_nondeterministic_and_initial_seed_reports_it():
    g = Generator()
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s
    assert Generator().seed() != s


def test_state_round_trip_tensor_and_ndarray():
    g = Generator().manual_seed(5)
    g._np.normal(size=3)               # odd positions, buffered halves
    g._np.integers(0, 10, dtype=np.int32)
    state = g.get_state()
    assert isinstance(state, fastnn.Tensor) and state.dtype == np.uint8 and state.shape == (64,)
    a = g._np.random(4)
    assert g.set_state(state) is g
    np.testing.assert_array_equal(g._np.random(4), a)
    h = Generator().set_state(state.numpy())
    assert h.initial_seed() == 5
    h.set_state(state)
    np.testing.assert_array_equal(h._np.random(4), a)


def test_set_state_rejects_garbage():
    with pytest.raises(RuntimeError, match="expected a fastnn generator state"):
        Generator().set_state(np.zeros(3, np.uint8))
    bad = Generator().get_state().numpy().copy()
    bad[:8] = 0
    with pytest.raises(RuntimeError):
        Generator().set_state(bad)
    with pytest.raises(TypeError):
        Generator().set_state([1, 2, 3])


def test_seeded_generator_matches_the_global_stream():
    fastnn.manual_seed(42)
    a = fastnn.randn(5).numpy()
    b = Generator().manual_seed(42)._np.standard_normal(5).astype(np.float32)
    np.testing.assert_array_equal(a, b)


def test_default_generator_is_the_global_state():
    assert fastnn.random.manual_seed(7) is default_generator
    assert fastnn.random.initial_seed() == 7 and default_generator.initial_seed() == 7
    state = fastnn.random.get_rng_state()
    a = fastnn.randn(4).numpy().copy()
    fastnn.random.set_rng_state(state)
    np.testing.assert_array_equal(fastnn.randn(4).numpy(), a)
    s = fastnn.random.seed()
    assert fastnn.random.initial_seed() == s


def test_toplevel_manual_seed_returns_the_default_generator_as_torch():
    torch = fastnn.testing.requires_torch()
    for M in (fastnn, torch):
        g = M.manual_seed(3)
        assert g is M.default_generator and isinstance(g, M.Generator)
        assert g.initial_seed() == 3 and M.initial_seed() == 3
        assert M.manual_seed(M.tensor(5)).initial_seed() == 5        # anything int() takes
        assert M.manual_seed(-1).initial_seed() == (1 << 64) - 1
    fastnn.manual_seed(0)
    a = fastnn.randn(4)
    assert fastnn.manual_seed(0) is default_generator
    np.testing.assert_array_equal(fastnn.randn(4).numpy(), a.numpy())


def test_fork_rng_restores_the_random_state_as_torch():
    torch = fastnn.testing.requires_torch()
    for M in (fastnn, torch):
        M.manual_seed(7)
        want = M.rand(3).tolist()
        M.manual_seed(7)
        with M.random.fork_rng():
            M.rand(5)
            M.nn.functional.dropout(M.ones(8), 0.5)
        assert M.rand(3).tolist() == want
        M.manual_seed(7)
        with M.random.fork_rng(enabled=False):
            M.rand(5)
        assert M.rand(3).tolist() != want
        M.manual_seed(7)

        @M.random.fork_rng(devices=[])
        def draw():
            return M.rand(2)
        draw()
        assert M.rand(3).tolist() == want
    # dropout masks are part of what a fork restores
    fastnn.manual_seed(1)
    m1 = fastnn.nn.functional.dropout(fastnn.ones(64), 0.5)
    fastnn.manual_seed(1)
    with fastnn.random.fork_rng():
        fastnn.nn.functional.dropout(fastnn.ones(64), 0.5)
    np.testing.assert_array_equal(fastnn.nn.functional.dropout(fastnn.ones(64), 0.5).numpy(),
                                  m1.numpy())
