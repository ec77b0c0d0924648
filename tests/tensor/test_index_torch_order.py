"""Tensor indexing where PyTorch and NumPy place the indexed dims apart, and
Tensor.tile's varargs form, against PyTorch."""
import numpy as np
import pytest

import fastnn

X = np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5)

# An int apart from an array index: PyTorch applies the int first (x[0][:, [1, 2]]),
# NumPy counts it as advanced and puts the indexed dims first.
CASES = [
    lambda m, x: x[0, :, [1, 2]],
    lambda m, x: x[1, :, [[0], [2]], 1:3],
    lambda m, x: x[:, 0, :, [1, 2]],
    lambda m, x: x[0, ..., [1, 2]],
    lambda m, x: x[0, :, m.tensor([True, False, True, True])],
    lambda m, x: x[None, 0, :, [1, 2]],
    lambda m, x: x[0, 1:, [1, 2], :2],
    lambda m, x: x[1, :, [1, 2], [0, 4]],
    lambda m, x: x[0, :, [1, 2], 0],
    lambda m, x: x[m.tensor(0), :, [1, 2]],     # a 0-d integer Tensor indexes as an int
    lambda m, x: x[np.int64(1), :, [1, 2]],
    lambda m, x: x[[0, 1], :, [1, 2]],          # no int: arrays apart, front in both
]


@pytest.mark.parametrize("k", range(len(CASES)))
def test_getitem_int_and_array_matches_torch(k):
    torch = pytest.importorskip("torch")
    want = CASES[k](torch, torch.tensor(X)).numpy()
    got = CASES[k](fastnn, fastnn.tensor(X)).numpy()
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_getitem_int_and_array_grad_matches_torch():
    torch = pytest.importorskip("torch")
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    grads = []
    for m in (torch, fastnn):
        y = m.tensor(X[0], requires_grad=True)
        (y[0, :, [1, 2, 2]] * m.tensor(w)).sum().backward()     # shape (4, 3) in torch
        grads.append(y.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


def test_setitem_int_and_array_matches_torch():
    torch = pytest.importorskip("torch")
    outs = []
    for m in (torch, fastnn):
        x = m.zeros(2, 3, 4)
        x[0, :, [1, 2]] = m.arange(6.).reshape(3, 2)      # value in PyTorch's (3, 2) layout
        x[1, :, [0, 3]] = m.tensor([7., 8.])              # broadcast along the last dim
        z = m.zeros(2, 3, 4, requires_grad=True) * 1      # the autograd route
        z[1, :, [1, 2]] = m.arange(6.).reshape(3, 2)
        outs.append((x.numpy(), z.detach().numpy()))
    for a, b in zip(outs[1], outs[0]):
        np.testing.assert_array_equal(a, b)


def test_tensor_tile_varargs_matches_torch():
    torch = pytest.importorskip("torch")
    for call in (lambda x: x.tile(2, 2, 1), lambda x: x.tile(3), lambda x: x.tile((2,)),
                 lambda x: x.tile([3, 1])):
        want = call(torch.tensor([[1., 2.]])).numpy()
        got = call(fastnn.tensor([[1., 2.]])).numpy()
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
