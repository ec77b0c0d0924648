"""Datasets (TensorDataset, Subset, ConcatDataset, ChainDataset, StackDataset),
random_split and the samplers, against torch.utils.data where the results
do not depend on the random stream."""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.utils.data import (BatchSampler, ChainDataset, ConcatDataset, Dataset,
                               IterableDataset, RandomSampler, SequentialSampler, StackDataset,
                               Subset, SubsetRandomSampler, TensorDataset,
                               WeightedRandomSampler, random_split)


def test_all_torch_utils_data_names_exist():
    import fastnn.utils.data as U
    for name in ["Dataset", "IterableDataset", "TensorDataset", "DataLoader", "random_split",
                 "Subset", "ConcatDataset", "ChainDataset", "StackDataset", "default_collate",
                 "default_convert", "get_worker_info", "Sampler", "SequentialSampler",
                 "RandomSampler", "BatchSampler", "SubsetRandomSampler",
                 "WeightedRandomSampler"]:
        assert hasattr(U, name), name


def test_tensordataset_rows_are_tensors():
    ds = TensorDataset(fastnn.randn(5, 2), np.arange(5))
    x, y = ds[3]
    assert isinstance(x, fastnn.Tensor) and x.shape == (2,) and y.item() == 3
    assert len(ds) == 5 and isinstance(ds.tensors[1], fastnn.Tensor)
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))


@pytest.mark.parametrize("n, lengths", [(10, [0.33, 0.33, 0.34]), (11, [0.5, 0.5]),
                                        (7, [0.1, 0.1, 0.8]), (10, [3, 7]), (5, [5, 0]),
                                        (100, [0.7, 0.2, 0.1])])
def test_random_split_sizes_match_torch(n, lengths):
    torch = fastnn.testing.requires_torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = random_split(range(n), lengths, generator=fastnn.random.Generator().manual_seed(0))
        theirs = torch.utils.data.random_split(range(n), lengths,
                                               generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    flat = sorted(i for s in ours for i in s)
    assert flat == list(range(n))


def test_random_split_errors_and_determinism():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [0.9, 0.1])
    fastnn.manual_seed(1)
    a = [list(s) for s in random_split(range(9), [4, 5])]
    fastnn.manual_seed(1)
    b = [list(s) for s in random_split(range(9), [4, 5])]
    assert a == b
    g1 = fastnn.random.Generator().manual_seed(2)
    g2 = fastnn.random.Generator().manual_seed(2)
    assert [list(s) for s in random_split(range(9), [4, 5], generator=g1)] == \
        [list(s) for s in random_split(range(9), [4, 5], generator=g2)]


def test_subset_concat_chain_stack():
    ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    sub = Subset(ds, [4, 0])
    assert len(sub) == 2 and sub[0][1].item() == 4
    assert [s[1].item() for s in sub.__getitems__([1, 0])] == [0, 4]
    cat = ConcatDataset([sub, ds])
    assert len(cat) == 7 and cat[2][1].item() == 0 and cat[-1][1].item() == 4
    assert cat.cumulative_sizes == [2, 7]
    assert len(sub + ds) == 7
    with pytest.raises(ValueError, match="should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(ValueError, match="absolute value of index"):
        cat[-8]

    class It(IterableDataset):
        def __init__(self, items):
            self.items = items

        def __iter__(self):
            return iter(self.items)
    assert list(ChainDataset([It([1, 2]), It([3])])) == [1, 2, 3]
    assert list(It([1]) + It([2])) == [1, 2]
    with pytest.raises(ValueError, match="does not support IterableDataset"):
        ConcatDataset([It([1])])
    st = StackDataset(a=range(3), b=range(10, 13))
    assert st[1] == {"a": 1, "b": 11} and len(st) == 3
    assert StackDataset(range(2), range(2))[1] == (1, 1)


def test_dataset_base_class():
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_sequential_random_batch_samplers():
    torch = fastnn.testing.requires_torch()
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    for bs, drop in [(3, False), (3, True), (5, False), (1, True)]:
        ours = list(BatchSampler(SequentialSampler(range(10)), bs, drop))
        theirs = list(torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(
            range(10)), bs, drop))
        assert ours == theirs
        assert len(BatchSampler(range(10), bs, drop)) == len(ours)
    r = list(RandomSampler(range(10), generator=fastnn.random.Generator().manual_seed(0)))
    assert sorted(r) == list(range(10)) and all(type(i) is int for i in r)
    r = list(RandomSampler(range(4), num_samples=10))
    assert len(r) == 10 and sorted(set(r)) == [0, 1, 2, 3]
    r = list(RandomSampler(range(4), replacement=True, num_samples=50))
    assert len(r) == 50 and set(r) <= {0, 1, 2, 3}
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(0))
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, 1)


def test_random_sampler_follows_manual_seed():
    fastnn.manual_seed(7)
    a = list(RandomSampler(range(20)))
    fastnn.manual_seed(7)
    b = list(RandomSampler(range(20)))
    c = list(RandomSampler(range(20)))
    assert a == b and a != c


def test_subset_random_and_weighted_samplers():
    g = fastnn.random.Generator().manual_seed(0)
    s = list(SubsetRandomSampler([10, 20, 30], generator=g))
    assert sorted(s) == [10, 20, 30]
    w = WeightedRandomSampler([0.0, 0.0, 1.0, 3.0], 400, generator=g)
    draws = np.array(list(w))
    assert len(w) == 400 and set(draws.tolist()) <= {2, 3}
    assert 0.65 < (draws == 3).mean() < 0.85
    no = list(WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False, generator=g))
    assert sorted(no) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist"):
        WeightedRandomSampler([1.0, 0.0], 3, replacement=False)
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0]], 1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], 0)


def test_batch_sampler_index_batches_match_iteration():
    for sampler_fn in (lambda: SequentialSampler(range(11)),
                       lambda: RandomSampler(range(11),
                                             generator=fastnn.random.Generator().manual_seed(4)),
                       lambda: SubsetRandomSampler([5, 3, 9, 1],
                                                   generator=fastnn.random.Generator()
                                                   .manual_seed(4))):
        for drop in (False, True):
            lists = list(BatchSampler(sampler_fn(), 3, drop))
            arrays = [a.tolist() for a in BatchSampler(sampler_fn(), 3, drop)._index_batches()]
            assert lists == arrays


def test_utils_data_distributed_is_an_attribute_as_torch():
    import fastnn.utils.data as data
    from fastnn.distributed.sampler import DistributedSampler
    assert data.distributed.DistributedSampler is DistributedSampler
    assert data.DistributedSampler is DistributedSampler
    s = data.distributed.DistributedSampler(list(range(5)), num_replicas=1, rank=0,
                                            shuffle=False)
    assert list(s) == [0, 1, 2, 3, 4]


def test_weighted_sampler_without_replacement_past_positive_weights_as_torch():
    """Without replacement, more draws than positive weights (but not more
    than weights) is allowed, as PyTorch: the positive-weight indices come
    first, then the zero-weight ones (torch.multinomial's order)."""
    torch = pytest.importorskip("torch")
    w = [0.0, 2.0, 0.0, 1.0, 0.0]
    tdraws = list(torch.utils.data.WeightedRandomSampler(w, 4, replacement=False))
    g = fastnn.random.Generator().manual_seed(0)
    fs = WeightedRandomSampler(w, 4, replacement=False, generator=g)
    for _ in range(5):
        draws = list(fs)
        assert len(draws) == len(tdraws) == 4 and len(set(draws)) == 4
        assert sorted(draws[:2]) == sorted(tdraws[:2]) == [1, 3]
        assert set(draws[2:]) <= {0, 2, 4} and set(tdraws[2:]) <= {0, 2, 4}
    loader = fastnn.utils.data.DataLoader(TensorDataset(np.arange(5)), batch_size=2,
                                          sampler=fs)
    got = sum((b[0].tolist() for b in loader), [])
    assert len(got) == 4 and sorted(got[:2]) == [1, 3]


class _TypedDS(Dataset[tuple]):
    """A dataset declared generic, as typed PyTorch code does (at module
    level so worker processes can import it)."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full(2, float(i), np.float32), i


@pytest.mark.forks
def test_dataset_sampler_dataloader_are_generic_as_torch():
    """``Dataset[T]``, ``IterableDataset[T]``, ``Sampler[T]`` and
    ``DataLoader[T]`` subscript (PyTorch's classes are Generic); subclasses
    of the subscripted forms are plain subclasses and load as PyTorch's."""
    torch = pytest.importorskip("torch")
    from typing import Iterator, List
    from fastnn.utils.data import DataLoader, Sampler

    class _Rev(Sampler[int]):
        def __iter__(self) -> Iterator[int]:
            return iter([4, 2, 0, 1, 3])

        def __len__(self):
            return 5

    class _Batches(Sampler[List[int]]):
        def __iter__(self):
            return iter([[0, 1], [4]])

        def __len__(self):
            return 2

    class _It(IterableDataset[int]):
        def __iter__(self):
            return iter(range(3))

    assert _TypedDS.__mro__[1] is Dataset and issubclass(_Rev, Sampler)
    assert DataLoader[int].__origin__ is DataLoader
    from fastnn.utils.data.distributed import DistributedSampler
    assert DistributedSampler[int].__origin__ is DistributedSampler
    assert list(DistributedSampler(_TypedDS(), num_replicas=2, rank=1, shuffle=False)) == \
        list(torch.utils.data.DistributedSampler(_TypedDS(), num_replicas=2, rank=1,
                                                 shuffle=False)) == [1, 3, 0]
    got = [b[1].tolist() for b in DataLoader(_TypedDS(), batch_size=2, sampler=_Rev())]
    tdl = torch.utils.data.DataLoader(_TypedDS(), batch_size=2, sampler=[4, 2, 0, 1, 3])
    assert got == [b[1].tolist() for b in tdl] == [[4, 2], [0, 1], [3]]
    assert [b[1].tolist() for b in DataLoader(_TypedDS(), batch_sampler=_Batches())] == \
        [[0, 1], [4]]
    assert [b.tolist() for b in DataLoader(_It(), batch_size=2)] == [[0, 1], [2]]
    workers = [b[1].tolist() for b in DataLoader(_TypedDS(), batch_size=2, num_workers=2)]
    assert workers == [[0, 1], [2, 3], [4]]


def test_error_types_and_sampler_base_as_torch():
    """What code written for PyTorch catches or checks: TensorDataset's size
    mismatch is an AssertionError (and still a ValueError), pad_sequence of
    nothing a RuntimeError, DistributedSampler a Sampler, and a negative
    clip_grad_value_ clamps every gradient to it -- as under torch."""
    torch = pytest.importorskip("torch")
    for m in (torch, fastnn):
        with pytest.raises(AssertionError):
            m.utils.data.TensorDataset(m.zeros(3), m.zeros(4))
        with pytest.raises(RuntimeError):
            m.nn.utils.rnn.pad_sequence([])
        assert issubclass(m.utils.data.distributed.DistributedSampler, m.utils.data.Sampler)
    got = []
    for m in (torch, fastnn):
        p = m.nn.Parameter(m.tensor([1.0, -3.0, 0.25]))
        p.grad = m.tensor([0.5, -2.0, 0.0])
        m.nn.utils.clip_grad_value_([p], -1.0)
        got.append(np.asarray(p.grad.detach().numpy()))
    np.testing.assert_array_equal(got[1], got[0])
    with pytest.raises(ValueError, match="size mismatch"):
        fastnn.utils.data.TensorDataset(fastnn.zeros(3), fastnn.zeros(4))
