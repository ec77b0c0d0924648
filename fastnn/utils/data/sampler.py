"""Samplers: the order in which a ``DataLoader`` visits a dataset.

Same classes, arguments and checks as ``torch.utils.data``.  Random
samplers draw from ``generator`` (a ``fastnn.Generator``) when given;
otherwise each epoch draws one seed from fastnn's global random state
(``fastnn.manual_seed``) and permutes with a generator seeded by it, as
PyTorch's ``RandomSampler`` does, so the global stream advances by the same
amount whatever the dataset's size.

The built-in samplers also produce a whole epoch's order as one int64 array
(``_epoch_array``); ``BatchSampler`` then hands the ``DataLoader`` slices of
it (``_index_batches``) instead of Python lists, which keeps per-sample
Python work off the hot path.  Iterating a sampler yields Python ints and
lists, as in PyTorch.
"""
import numbers
import types

import numpy as np

from ...random import _numpy_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")


def _check_bool(name, value, exc=ValueError):
    if not isinstance(value, bool):
        raise exc(f"{name} should be a boolean value, but got {name}={value}")


def _epoch_rng(generator):
    """The numpy Generator one epoch of a random sampler draws from."""
    if generator is None:
        seed = int(_numpy_generator(None).integers(0, 1 << 63))
        return np.random.default_rng(seed)
    return _numpy_generator(generator)


class Sampler:
    """Base class: ``__iter__`` yields indices (or lists of them);
    ``__len__`` is optional."""

    # generic as PyTorch's (``class D(Dataset[Tuple[Tensor, int]])``,
    # ``DataLoader[T]`` annotations): X[T] is a types.GenericAlias of X
    __class_getitem__ = classmethod(types.GenericAlias)

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _epoch_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation each epoch; with ``replacement``, ``num_samples``
    indices drawn uniformly with replacement.

    Parameters
    ----------
    data_source : sized
    replacement : bool
    num_samples : int, optional
        Default ``len(data_source)``; without replacement, more than that
        chains several permutations.
    generator : fastnn.Generator, optional
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_bool("replacement", replacement, TypeError)
        _check_positive("num_samples", self.num_samples)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _epoch_array(self):
        n = len(self.data_source)
        m = self.num_samples
        rng = _epoch_rng(self.generator)
        if n == 0:
            return np.empty(0, np.int64)
        if self.replacement:
            return rng.integers(0, n, size=m, dtype=np.int64)
        parts = [rng.permutation(n) for _ in range(m // n)]
        if m % n:
            parts.append(rng.permutation(n)[:m % n])
        out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return out.astype(np.int64, copy=False)

    def __iter__(self):
        yield from self._epoch_array().tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def _epoch_array(self):
        try:                               # integer indices only; else None
            idx = np.asarray(self.indices)
        except (TypeError, ValueError):
            return None
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            return None
        perm = _epoch_rng(self.generator).permutation(len(idx))
        return idx.astype(np.int64, copy=False)[perm]

    def __iter__(self):
        perm = _epoch_rng(self.generator).permutation(len(self.indices))
        for i in perm.tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices ``i`` drawn with probability proportional to
    ``weights[i]`` (with or without replacement)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive("num_samples", num_samples)
        _check_bool("replacement", replacement)
        w = np.asarray(getattr(weights, "_array", weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0, "
                               "or a negative, inf or nan weight)")
        # PyTorch allows more draws than positive weights without replacement
        # (torch.multinomial then returns zero-weight indices last); only
        # more draws than weights is an error
        if not replacement and num_samples > len(w):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        from ..._tensor import from_numpy
        self.weights = from_numpy(w)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def _epoch_array(self):
        w = self.weights._array
        rng = _epoch_rng(self.generator)
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            # the positive weights first, then zero-weight indices, as
            # torch.multinomial (fastnn.multinomial's exponential race)
            from ...ops.sampling import _without_replacement
            return _without_replacement(w[None], self.num_samples, rng)[0].astype(np.int64)
        return rng.choice(len(w), size=self.num_samples, replace=self.replacement,
                          p=w / w.sum()).astype(np.int64)

    def __iter__(self):
        yield from self._epoch_array().tolist()

    def __len__(self):
        return self.num_samples


_ARRAY_SAMPLERS = (SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler)


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size``.

    Examples
    --------
    >>> from fastnn.utils.data import BatchSampler, SequentialSampler
    >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive("batch_size", batch_size)
        _check_bool("drop_last", drop_last)
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def _index_batches(self):
        """Like ``__iter__``, as int64 arrays when the sampler is a built-in
        one (a lazy generator: the epoch's order is drawn on the first next)."""
        if type(self.sampler) not in _ARRAY_SAMPLERS or type(self) is not BatchSampler:
            yield from self
            return
        order = self.sampler._epoch_array()
        if order is None:
            yield from self
            return
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        for start in range(0, stop, bs):
            yield order[start:start + bs]

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
