"""einsum's sublist form (torch.einsum(a, [0, 1], b, [1, 2], [0, 2])):
values and gradients as the string form and as PyTorch's."""
import numpy as np
import pytest

import fastnn

CASES = [
    ((2, 3), [0, 1], (3, 4), [1, 2], [0, 2]),
    ((2, 3), [0, 1], (3, 4), [1, 2], None),           # implicit output
    ((5, 2, 3), [Ellipsis, 1], (3, 4), [1, 2], [Ellipsis, 2]),
    ((3, 3), [0, 0], None, None, []),                   # trace
    ((2, 3), [30, 1], (3, 4), [1, 51], None),           # past the capitals
]


def _args(lib, case, rng):
    sa, la, sb, lb, out = case
    arrs = [rng.standard_normal(sa).astype(np.float32)]
    args = [lib.tensor(arrs[0], requires_grad=True), la]
    if sb is not None:
        arrs.append(rng.standard_normal(sb).astype(np.float32))
        args += [lib.tensor(arrs[1], requires_grad=True), lb]
    if out is not None:
        args.append(out)
    return args


@pytest.mark.parametrize("case", CASES)
def test_sublist_form_matches_torch(case):
    torch = pytest.importorskip("torch")
    got_args = _args(fastnn, case, np.random.default_rng(0))
    want_args = _args(torch, case, np.random.default_rng(0))
    got, want = fastnn.einsum(*got_args), torch.einsum(*want_args)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    got.sum().backward()
    want.sum().backward()
    for g, w in zip(got_args[0::2], want_args[0::2]):
        if isinstance(g, fastnn.Tensor):
            np.testing.assert_allclose(g.grad.numpy(), w.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_sublist_form_equals_string_form_and_refuses_bad_subscripts():
    a, b = fastnn.randn(2, 3), fastnn.randn(3, 4)
    np.testing.assert_array_equal(fastnn.einsum(a, [0, 1], b, [1, 2], [0, 2]).numpy(),
                                  fastnn.einsum("ij,jk->ik", a, b).numpy())
    with pytest.raises(ValueError):
        fastnn.einsum(a, [0, 52])
    with pytest.raises(TypeError):
        fastnn.einsum(a, "ij")
