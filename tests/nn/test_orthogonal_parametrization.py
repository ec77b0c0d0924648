"""nn.utils.parametrizations.orthogonal against PyTorch's: state-dict keys
(parametrizations.weight.original and ...0.base), a PyTorch checkpoint's
weight and gradient after loading, assignment, errors."""
import numpy as np
import pytest

import fastnn
from fastnn.nn.utils.parametrizations import orthogonal

torch = pytest.importorskip("torch")
from torch.nn.utils.parametrizations import orthogonal as t_orthogonal  # noqa: E402

MAPS = ["matrix_exp", "cayley", "householder", None]


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
@pytest.mark.parametrize("omap", MAPS)
@pytest.mark.parametrize("triv", [True, False])
def test_torch_checkpoint_loads_with_its_weight_and_gradient(shape, omap, triv):
    torch.manual_seed(0)
    tl = t_orthogonal(torch.nn.Linear(shape[1], shape[0]).double(), orthogonal_map=omap,
                      use_trivialization=triv)
    with torch.no_grad():          # away from the identity, so the map matters
        tl.parametrizations.weight.original.add_(0.3 * torch.randn(shape, dtype=torch.float64))
    sd = {k: fastnn.tensor(v.detach().numpy().copy()) for k, v in tl.state_dict().items()}
    fl = orthogonal(fastnn.nn.Linear(shape[1], shape[0]).double(), orthogonal_map=omap,
                    use_trivialization=triv)
    assert list(fl.state_dict()) == list(tl.state_dict())
    assert [tuple(v.shape) for v in fl.state_dict().values()] == \
        [tuple(v.shape) for v in tl.state_dict().values()]
    fl.load_state_dict(sd)
    np.testing.assert_allclose(fl.weight.detach().numpy(), tl.weight.detach().numpy(),
                               atol=1e-10)
    x = np.random.default_rng(1).random((2, shape[1]))
    tl(torch.tensor(x)).square().sum().backward()
    fl(fastnn.tensor(x)).square().sum().backward()
    np.testing.assert_allclose(fl.parametrizations.weight.original.grad.numpy(),
                               tl.parametrizations.weight.original.grad.numpy(), atol=1e-8)


@pytest.mark.parametrize("omap", MAPS)
def test_weight_stays_orthogonal_through_training_and_assignment(omap):
    fastnn.manual_seed(0)
    m = orthogonal(fastnn.nn.Linear(6, 3), orthogonal_map=omap)
    opt = fastnn.optim.SGD(m.parameters(), lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        m(fastnn.randn(8, 6)).pow(2).sum().backward()
        opt.step()
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w @ w.T, np.eye(3), atol=1e-4)
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((6, 3)))[0].T
    with fastnn.no_grad():
        m.weight = fastnn.tensor(q.astype(np.float32))
    np.testing.assert_allclose(m.weight.detach().numpy(), q, atol=1e-5)


def test_default_map_and_batched_weights_match_torch():
    for shape, want in (((3, 3), "matrix_exp"), ((3, 4), "householder")):
        assert orthogonal(fastnn.nn.Linear(shape[1], shape[0])).parametrizations.weight[0] \
            .orthogonal_map == want
    tc = t_orthogonal(torch.nn.Conv2d(2, 3, 2).double())
    fc = orthogonal(fastnn.nn.Conv2d(2, 3, 2).double())
    assert list(fc.state_dict()) == list(tc.state_dict())
    fc.load_state_dict({k: fastnn.tensor(v.detach().numpy().copy())
                        for k, v in tc.state_dict().items()})
    np.testing.assert_allclose(fc.weight.detach().numpy(), tc.weight.detach().numpy(),
                               atol=1e-10)


def test_errors_as_torch():
    for L, orth in ((fastnn, orthogonal), (torch, t_orthogonal)):
        with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
            orth(L.nn.BatchNorm1d(3))
        with pytest.raises(ValueError, match='orthogonal_map has to be one of'):
            orth(L.nn.Linear(3, 3), orthogonal_map="qr")
        m = orth(L.nn.Linear(3, 3), orthogonal_map="cayley", use_trivialization=False)
        with pytest.raises(NotImplementedError):
            with L.no_grad():
                m.weight = L.eye(3)
