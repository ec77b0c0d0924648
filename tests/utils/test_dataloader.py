"""fastnn.utils.data.DataLoader: PyTorch's arguments and checks, shuffling
that follows fastnn.manual_seed, and worker processes (same batches as in
process, seeding, get_worker_info, IterableDataset sharding, errors, dead
workers, persistent workers, shutdown)."""
import math
import os
import time

import numpy as np
import pytest

import fastnn
from fastnn.utils.data import (BatchSampler, DataLoader, Dataset, IterableDataset,
                               SequentialSampler, TensorDataset, get_worker_info)


class Squares(Dataset):
    """A map-style dataset returning a dict, recording which worker made it."""

    def __init__(self, n=23):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = get_worker_info()
        return {"x": np.array([i, i * i], np.float32), "y": i,
                "worker": -1 if info is None else info.id}


class Shards(IterableDataset):
    """The PyTorch documentation's sharded range."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per = int(math.ceil((self.end - self.start) / info.num_workers))
        lo = self.start + info.id * per
        return iter(range(lo, min(lo + per, self.end)))


class Seeds(Dataset):
    """Each sample reports the worker's info and its random state."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return np.array([info.id, info.num_workers, info.seed % 1000003,
                         fastnn.randint(0, 10 ** 9, (1,)).item(),
                         np.random.randint(0, 10 ** 9)], dtype=np.int64)


class Failing(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 7:
            raise KeyError(f"no sample {i}")
        return i


class Dying(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5:
            os._exit(3)
        return i


class Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(30)
        return i


def _ys(loader):
    return [b["y"].numpy().copy() for b in loader]


def test_fastnn_data_names_are_the_same_classes():
    import fastnn.data
    import fastnn.utils.data as U
    assert fastnn.data.DataLoader is U.DataLoader
    assert fastnn.data.TensorDataset is U.TensorDataset and fastnn.data.Dataset is U.Dataset
    assert fastnn.utils.data.DataLoader is U.DataLoader


def test_signature_matches_torch():
    torch = fastnn.testing.requires_torch()
    import inspect
    ours = inspect.signature(DataLoader).parameters
    theirs = inspect.signature(torch.utils.data.DataLoader).parameters
    for name, p in theirs.items():
        assert name in ours, name
        assert ours[name].default == p.default or name == "generator", name
        assert ours[name].kind == p.kind, name
    assert list(ours)[:len(theirs)] == list(theirs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    (dict(batch_size=0), "batch_size should be a positive integer value"),
    (dict(seed=1, generator=fastnn.random.Generator()), "either seed= or generator="),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Squares(), **kwargs)


def test_iterable_dataset_rejects_shuffle_and_samplers():
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Shards(0, 4), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Shards(0, 4), sampler=[0])


def test_attributes_are_frozen_after_init():
    dl = DataLoader(Squares(), batch_size=4)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        dl.batch_size = 8
    dl.num_workers = 0          # allowed, as in PyTorch


def test_default_batches_and_len():
    dl = DataLoader(Squares(23), batch_size=5)
    batches = list(dl)
    assert len(dl) == len(batches) == 5
    b = batches[1]
    assert isinstance(b["x"], fastnn.Tensor) and b["x"].dtype == np.float32
    assert b["x"].shape == (5, 2) and b["y"].dtype == np.int64
    np.testing.assert_array_equal(b["y"].numpy(), np.arange(5, 10))
    assert len(DataLoader(Squares(23), batch_size=5, drop_last=True)) == 4


def test_batch_size_none_yields_converted_samples():
    out = list(DataLoader(TensorDataset(np.arange(6.0).reshape(3, 2)), batch_size=None))
    assert len(out) == 3 and isinstance(out[0], list) and out[0][0].shape == (2,)


def test_shuffle_follows_manual_seed():
    fastnn.manual_seed(3)
    a = _ys(DataLoader(Squares(), batch_size=4, shuffle=True))
    fastnn.manual_seed(3)
    b = _ys(DataLoader(Squares(), batch_size=4, shuffle=True))
    fastnn.manual_seed(4)
    c = _ys(DataLoader(Squares(), batch_size=4, shuffle=True))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))
    np.testing.assert_array_equal(np.sort(np.concatenate(a)), np.arange(23))


def test_generator_and_seed_are_the_same_and_leave_the_global_state():
    g = fastnn.random.Generator().manual_seed(11)
    fastnn.manual_seed(0)
    before = fastnn.random.get_rng_state().numpy().copy()
    a = [_ys(DataLoader(Squares(), batch_size=6, shuffle=True, generator=g)) for _ in range(1)]
    dl = DataLoader(Squares(), batch_size=6, shuffle=True, seed=11)
    b = [_ys(dl)]
    np.testing.assert_array_equal(fastnn.random.get_rng_state().numpy(), before)
    for u, v in zip(a[0], b[0]):
        np.testing.assert_array_equal(u, v)
    assert dl._rng is dl.generator._np           # what Trainer checkpoints


def test_epochs_reshuffle():
    dl = DataLoader(Squares(), batch_size=23, shuffle=True, seed=0)
    e1, e2 = _ys(dl)[0], _ys(dl)[0]
    assert not np.array_equal(e1, e2)


def test_sampler_and_batch_sampler():
    dl = DataLoader(Squares(6), batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    np.testing.assert_array_equal(np.concatenate(_ys(dl)), [5, 4, 3, 2, 1, 0])
    bs = BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=True)
    dl = DataLoader(Squares(7), batch_sampler=bs)
    assert [len(y) for y in _ys(dl)] == [3, 3] and len(dl) == 2
    dl = DataLoader(Squares(7), batch_sampler=[[6, 0], [3]])
    assert [y.tolist() for y in _ys(dl)] == [[6, 0], [3]]


def test_collate_fn_is_used():
    dl = DataLoader(Squares(5), batch_size=2, collate_fn=lambda b: [s["y"] for s in b])
    assert list(dl) == [[0, 1], [2, 3], [4]]


def test_tensordataset_fast_path_equals_per_sample_collate():
    x = np.random.default_rng(0).normal(size=(11, 3)).astype(np.float32)
    y = np.arange(11)
    ds = TensorDataset(x, y)

    class Plain(TensorDataset):          # a subclass goes through __getitem__ + collate
        pass
    for a, b in zip(DataLoader(ds, batch_size=4, shuffle=True, seed=2),
                    DataLoader(Plain(x, y), batch_size=4, shuffle=True, seed=2)):
        assert isinstance(a, list) and isinstance(b, list)
        for u, v in zip(a, b):
            assert u.dtype == v.dtype and u.shape == v.shape
            np.testing.assert_array_equal(u.numpy(), v.numpy())


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.forks
def test_workers_give_the_batches_of_the_main_process(shuffle):
    fastnn.manual_seed(5)
    dl0 = DataLoader(Squares(), batch_size=4, shuffle=shuffle)
    ref = [_ys(dl0) for _ in range(2)]
    fastnn.manual_seed(5)
    dl2 = DataLoader(Squares(), batch_size=4, shuffle=shuffle, num_workers=2)
    got = [_ys(dl2) for _ in range(2)]
    for r, g in zip(ref, got):
        assert len(r) == len(g) == 6
        for u, v in zip(r, g):
            np.testing.assert_array_equal(u, v)
    # the global stream is where it would be without workers
    assert fastnn.randint(0, 10 ** 9, (1,)).item() == _after_two_epochs(shuffle)


def _after_two_epochs(shuffle):
    fastnn.manual_seed(5)
    dl = DataLoader(Squares(), batch_size=4, shuffle=shuffle)
    for _ in range(2):
        list(dl)
    return fastnn.randint(0, 10 ** 9, (1,)).item()


@pytest.mark.forks
def test_batches_are_made_in_the_workers_round_robin():
    workers = [b["worker"].tolist() for b in DataLoader(Squares(12), batch_size=3,
                                                        num_workers=2)]
    assert workers == [[0] * 3, [1] * 3, [0] * 3, [1] * 3]


@pytest.mark.forks
def test_worker_seeding_and_info():
    fastnn.manual_seed(9)
    inits = []
    dl = DataLoader(Seeds(), batch_size=2, num_workers=2,
                    worker_init_fn=lambda wid: inits.append(wid))
    rows = np.concatenate([b.numpy() for b in dl])
    assert rows[:, 0].tolist() == [0, 0, 1, 1, 0, 0, 1, 1]
    assert (rows[:, 1] == 2).all()
    s0, s1 = rows[0, 2], rows[2, 2]
    assert (s1 - s0) % 1000003 == 1                      # base_seed + worker_id
    assert rows[0, 3] != rows[2, 3] and rows[0, 4] != rows[2, 4]   # fastnn and numpy seeded
    fastnn.manual_seed(9)
    again = np.concatenate([b.numpy() for b in DataLoader(Seeds(), batch_size=2,
                                                          num_workers=2)])
    np.testing.assert_array_equal(rows, again)           # deterministic under manual_seed
    assert inits == []              # called in the workers, not here
    assert get_worker_info() is None


@pytest.mark.forks
def test_worker_init_fn_runs_in_each_worker():
    class Report(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return os.environ.get("FASTNN_TEST_WORKER", "unset")

    def init(wid):
        os.environ["FASTNN_TEST_WORKER"] = f"w{wid}"
    out = list(DataLoader(Report(), batch_size=2, num_workers=2, worker_init_fn=init))
    assert out == [["w0", "w0"], ["w1", "w1"]]
    assert "FASTNN_TEST_WORKER" not in os.environ


@pytest.mark.forks
def test_iterable_dataset_sharding_with_workers():
    one = [b.tolist() for b in DataLoader(Shards(3, 13), batch_size=2)]
    assert one == [[3, 4], [5, 6], [7, 8], [9, 10], [11, 12]]
    two = [b.tolist() for b in DataLoader(Shards(3, 13), batch_size=2, num_workers=2)]
    assert sorted(sum(two, [])) == list(range(3, 13))
    assert two == [[3, 4], [8, 9], [5, 6], [10, 11], [7], [12]]
    drop = [b.tolist() for b in DataLoader(Shards(3, 13), batch_size=2, num_workers=2,
                                           drop_last=True)]
    assert drop == [[3, 4], [8, 9], [5, 6], [10, 11]]


@pytest.mark.forks
def test_worker_error_is_reraised_with_its_traceback():
    with pytest.raises(KeyError) as info:
        list(DataLoader(Failing(), batch_size=2, num_workers=2))
    msg = str(info.value)
    assert "Caught KeyError in DataLoader worker process 1" in msg
    assert "no sample 7" in msg and "__getitem__" in msg


@pytest.mark.forks
def test_worker_init_error_is_reraised():
    def init(wid):
        raise ValueError(f"bad init {wid}")
    with pytest.raises(ValueError, match="bad init 0"):
        list(DataLoader(Squares(4), batch_size=2, num_workers=2, worker_init_fn=init))


@pytest.mark.forks
def test_dead_worker_is_an_error_not_a_hang():
    t = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) .*\) exited "
                                           "unexpectedly"):
        list(DataLoader(Dying(), batch_size=2, num_workers=2))
    assert time.monotonic() - t < 20


@pytest.mark.forks
def test_timeout():
    it = iter(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.5))
    workers = list(it._workers)
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.5 seconds"):
        next(it)
    assert not any(w.is_alive() for w in workers)


@pytest.mark.forks
def test_persistent_workers_serve_every_epoch():
    dl = DataLoader(Squares(10), batch_size=3, num_workers=2, persistent_workers=True)
    first = iter(dl)
    pids = [w.pid for w in first._workers]
    assert [len(y) for y in _ys(first)] == [3, 3, 3, 1]
    for _ in range(2):
        it = iter(dl)
        assert it is first and [w.pid for w in it._workers] == pids
        assert np.concatenate(_ys(it)).tolist() == list(range(10))
    # an abandoned epoch does not leak into the next one
    it = iter(dl)
    next(it)
    assert np.concatenate(_ys(iter(dl))).tolist() == list(range(10))
    workers = list(first._workers)
    del dl, it, first
    import gc
    gc.collect()
    for w in workers:
        w.join(5)
    assert not any(w.is_alive() for w in workers)


@pytest.mark.forks
def test_workers_stop_when_the_epoch_ends_or_the_iterator_goes():
    it = iter(DataLoader(Squares(8), batch_size=2, num_workers=2))
    workers = list(it._workers)
    list(it)
    assert not any(w.is_alive() for w in workers)
    it = iter(DataLoader(Squares(40), batch_size=2, num_workers=2))
    next(it)
    workers = list(it._workers)
    del it
    assert not any(w.is_alive() for w in workers)


@pytest.mark.forks
def test_iterable_dataset_persistent_workers_restart_their_streams():
    dl = DataLoader(Shards(0, 6), batch_size=2, num_workers=2, persistent_workers=True)
    assert sorted(sum((b.tolist() for b in dl), [])) == list(range(6))
    assert sorted(sum((b.tolist() for b in dl), [])) == list(range(6))


def test_subsets_of_a_tensordataset_take_the_fast_path_with_the_same_batches():
    from fastnn.utils.data import Subset, random_split
    from fastnn.utils.data.dataloader import _MapFetcher
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    ds = TensorDataset(x, np.arange(20))
    a, b = random_split(ds, [0.75, 0.25], generator=fastnn.random.Generator().manual_seed(1))
    nested = Subset(a, [3, 1, 0, -1])
    for sub in (a, b, nested):
        f = _MapFetcher(sub, True, fastnn.utils.data.default_collate, False)
        assert f.fast
        xb, yb = f.fetch([0, 2, 1])
        ref = fastnn.utils.data.default_collate([sub[i] for i in [0, 2, 1]])
        np.testing.assert_array_equal(xb.numpy(), ref[0].numpy())
        np.testing.assert_array_equal(yb.numpy(), ref[1].numpy())
    assert not _MapFetcher(Subset(ds, ["a"]), True, fastnn.utils.data.default_collate,
                           False).fast


@pytest.mark.forks
def test_spawned_workers_get_a_tensordataset_as_arrays():
    ds = TensorDataset(fastnn.randn(10, 2), np.arange(10))
    dl = DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn",
                    timeout=60)
    assert [b[1].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    import pickle
    back = pickle.loads(pickle.dumps(ds))
    assert isinstance(back.tensors[0], fastnn.Tensor)
    np.testing.assert_array_equal(back.tensors[0].numpy(), ds.tensors[0].numpy())


@pytest.mark.forks
def test_prefetch_factor_zero_still_loads_and_persistent_workers_recover():
    assert len(list(DataLoader(Squares(10), batch_size=2, num_workers=2,
                               prefetch_factor=0))) == 5
    dl = DataLoader(Dying(), batch_size=2, num_workers=1, persistent_workers=True)
    for _ in range(2):        # a new set of workers after the first died
        with pytest.raises(RuntimeError, match="exited unexpectedly"):
            list(dl)
