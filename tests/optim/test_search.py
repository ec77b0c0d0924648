"""RandomSearch / RandomLocalSearch: reduce a loss, never accept a worse
point, keep weights in place, and are reproducible with a seed."""
import numpy as np
import pytest

import fastnn


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    x = fastnn.tensor(rng.standard_normal((40, 3)))
    w_true = np.array([[1.0], [-2.0], [0.5]])
    y = fastnn.tensor(x.detach().numpy() @ w_true)
    w = fastnn.nn.Parameter(np.zeros((3, 1)))
    b = fastnn.nn.Parameter(np.zeros(1))

    def loss():
        return (((x @ w + b) - y) ** 2).mean()
    return w, b, loss


@pytest.mark.parametrize("cls,kw", [("RandomSearch", dict(std=1.5)),
                                    ("RandomLocalSearch", dict(step_size=0.2))])
def test_reduces_loss_monotonically_and_reproducibly(cls, kw):
    runs = []
    for _ in range(2):
        w, b, loss = _problem()
        arr = w.detach().numpy()
        start = float(loss())
        opt = getattr(fastnn.optim, cls)([w, b], seed=123, **kw)
        hist = [opt.step(loss) for _ in range(150)]
        assert all(h2 <= h1 for h1, h2 in zip(hist, hist[1:]))
        assert hist[-1] < 0.5 * start
        assert hist[-1] == pytest.approx(float(loss()))   # the weights held are the best
        assert w.detach().numpy() is arr and w.grad is None           # in place, no gradients
        runs.append((hist, w.detach().numpy().copy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    w, b, loss = _problem()
    other = getattr(fastnn.optim, cls)([w, b], seed=7, **kw)
    assert [other.step(loss) for _ in range(150)] != runs[0][0]


def test_local_search_beats_random_search_and_closure_in_constructor():
    w, b, loss = _problem()
    rs = fastnn.optim.RandomSearch([w, b], loss, 1.0, seed=1)
    r1 = [rs.step() for _ in range(200)][-1]
    w, b, loss = _problem()
    ls = fastnn.optim.RandomLocalSearch([w, b], 0.1, 1, closure=loss)
    r2 = [ls.step() for _ in range(200)][-1]
    assert r2 < r1


def test_float32_and_needs_closure():
    w = fastnn.nn.Parameter(np.zeros(4, np.float32))
    opt = fastnn.optim.RandomLocalSearch([w], step_size=0.5, seed=0)
    opt.step(lambda: float(((w.detach().numpy() - 1) ** 2).sum()))
    assert w.detach().numpy().dtype == np.float32
    with pytest.raises(ValueError, match="closure"):
        opt.step()


def test_seeded_by_manual_seed_when_no_seed():
    outs = []
    for _ in range(2):
        fastnn.manual_seed(42)
        w, b, loss = _problem()
        opt = fastnn.optim.RandomSearch([w, b])
        outs.append([opt.step(loss) for _ in range(5)])
    assert outs[0] == outs[1]
