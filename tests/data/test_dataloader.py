import numpy as np
import pytest

import fastnn
from fastnn.data import DataLoader, Dataset, TensorDataset


def _ds(n=23):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(x, y)


def test_tensordataset_accepts_tensors_and_arrays():
    ds = TensorDataset(fastnn.randn(5, 2), np.arange(5))
    assert len(ds) == 5
    x, y = ds[3]
    assert x.shape == (2,) and y == 3


def test_tensordataset_mismatched_lengths():
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError):
        TensorDataset()


@pytest.mark.parametrize("bs", [0, -3])
def test_batch_size_must_be_positive(bs):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_ds(), batch_size=bs)


def test_sequential_batches_are_tensors_in_order():
    dl = DataLoader(_ds(23), batch_size=5)
    batches = list(dl)
    assert len(dl) == len(batches) == 5
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    xb, yb = batches[0]
    assert isinstance(xb, fastnn.Tensor) and isinstance(yb, fastnn.Tensor)
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), np.arange(23))


def test_batches_do_not_alias_dataset():
    ds = _ds(10)
    xb, _ = next(iter(DataLoader(ds, batch_size=4)))
    xb.data[...] = -1
    assert ds.arrays[0].min() >= 0


def test_shuffle_covers_every_sample_once_and_reshuffles():
    dl = DataLoader(_ds(23), batch_size=4, shuffle=True, seed=1)
    orders = []
    for _ in range(3):
        ys = np.concatenate([b[1].numpy() for b in dl])
        np.testing.assert_array_equal(np.sort(ys), np.arange(23))
        orders.append(ys)
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])
    # x rows follow their labels
    for xb, yb in dl:
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy() * 3)


def test_seed_makes_shuffling_repeatable_and_leaves_global_rng():
    a = [b[1].numpy() for b in DataLoader(_ds(), batch_size=6, shuffle=True, seed=7)]
    state = np.random.get_state()[1].copy()
    b = [b[1].numpy() for b in DataLoader(_ds(), batch_size=6, shuffle=True, seed=7)]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_drop_last():
    dl = DataLoader(_ds(23), batch_size=5, shuffle=True, drop_last=True, seed=0)
    batches = list(dl)
    assert len(dl) == len(batches) == 4
    assert all(len(b[0]) == 5 for b in batches)
    ys = np.concatenate([b[1].numpy() for b in batches])
    assert len(np.unique(ys)) == 20
    assert len(DataLoader(_ds(20), batch_size=5, drop_last=True)) == 4


def test_generic_dataset_and_sampler():
    class Squares(Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i

    batches = list(DataLoader(Squares(), batch_size=3))
    assert [tuple(b[0].shape) for b in batches] == [(3, 2), (3, 2), (1, 2)]
    np.testing.assert_array_equal(batches[1][0].numpy()[:, 1], [9, 16, 25])
    dl = DataLoader(_ds(6), batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in dl]), [5, 4, 3, 2, 1, 0])
    with pytest.raises(ValueError):
        DataLoader(_ds(6), sampler=[0], shuffle=True)
