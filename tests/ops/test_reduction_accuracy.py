"""float32 reductions along leading axes and cumsum stay accurate however
many terms they add (NumPy's one-by-one float32 accumulation put a column
sum of 1e6 values 1% off and a column variance 133% off)."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch


def _rel(got, exact):
    return float(np.max(np.abs(got - exact)) / np.max(np.abs(exact)))


@pytest.mark.parametrize("shape,dims", [((1_000_000, 2), (0,)), ((3000, 4, 5), (0,)),
                                        ((3000, 4, 5), (0, 1)), ((3000, 4, 5), (0, 2)),
                                        ((5, 3000, 4), (1,)), ((2, 9000), (1,)),
                                        ((3000, 7), None)])
def test_float32_sums_are_accurate(shape, dims):
    x = (np.random.default_rng(0).standard_normal(shape) * 0.1 + 1.1).astype(np.float32)
    exact = x.astype(np.float64).sum(dims)
    t = fastnn.tensor(x)
    assert _rel(t.sum(dims).numpy(), exact) < 2e-6
    n = x.size if dims is None else np.prod([shape[d] for d in dims])
    assert _rel(t.mean(dims).numpy(), exact / n) < 2e-6
    # a transposed (non-contiguous) input too
    if len(shape) == 2 and dims is not None:
        tt = fastnn.tensor(np.ascontiguousarray(x.T)).t()
        assert _rel(tt.sum(dims).numpy(), exact) < 2e-6


def test_column_variance_of_data_far_from_zero():
    x = np.full((60000, 8), 100.0, np.float32)
    x[::2] += 0.1
    v = fastnn.tensor(x).var(0).numpy()
    np.testing.assert_allclose(v, np.var(x.astype(np.float64), 0, ddof=1), rtol=1e-3)
    np.testing.assert_allclose(fastnn.tensor(x).std(0).numpy(), 0.05, rtol=1e-3)
    np.testing.assert_allclose(fastnn.tensor(x).mean(0).numpy(), x.astype(np.float64).mean(0),
                               rtol=2e-6)


def test_cumsum_accumulates_in_double():
    x = np.full(1_000_000, 1.1, np.float32)
    c = fastnn.tensor(x).cumsum(0).numpy()
    assert c.dtype == np.float32
    exact = np.cumsum(x.astype(np.float64))
    assert _rel(c, exact) < 1e-7
    t = fastnn.tensor(x[:1000], requires_grad=True)
    t.cumsum(0).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.arange(1000, 0, -1, dtype=np.float32))


def test_linear_bias_gradient_over_many_rows_matches_torch():
    want_sd = None
    torch = requires_torch()
    x = np.random.default_rng(1).standard_normal((200_000, 3)).astype(np.float32)
    grads = []
    for L in (torch, fastnn):
        L.manual_seed(0)
        lin = L.nn.Linear(3, 2)
        if L is fastnn:
            lin.load_state_dict({k: fastnn.tensor(v) for k, v in want_sd.items()})
        else:
            want_sd = {k: v.detach().numpy() for k, v in lin.state_dict().items()}
        (lin(L.tensor(x)) * 10 + 100).sum().backward()
        grads.append(lin.bias.grad.numpy().copy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_sum_and_mean_gradients_unchanged():
    x = fastnn.tensor(np.ones((3000, 4), np.float32), requires_grad=True)
    (x.sum(0) * fastnn.arange(4.0)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.tile(np.arange(4.0, dtype=np.float32), (3000, 1)))
    x.grad = None
    x.mean(0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / 3000, rtol=1e-6)
