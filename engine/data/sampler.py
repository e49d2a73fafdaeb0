"""Samplers (megengine.data.sampler): which samples go into each batch, and in which order.

Batch size and drop_last live on the sampler (MegEngine's convention, unlike PyTorch): iterating
a sampler yields lists of indices, one list per batch, and `len(sampler)` is the number of
batches. A random sampler owns a numpy RandomState: the same seed gives the same sequence of
epochs, and each new `iter(sampler)` (epoch) draws a fresh permutation from that state.

With `world_size > 1` each rank sees a disjoint, equally long share of the indices (the list is
padded by wrapping around so that it divides evenly), as in MegEngine.
"""
import collections.abc
import importlib
import math
from abc import ABC, abstractmethod

import numpy as np

__all__ = [
    "Sampler", "MapSampler", "StreamSampler", "SequentialSampler", "RandomSampler",
    "ReplacementSampler", "Infinite", "InfiniteSampler",
]


class Sampler(ABC):
    """Base class of the samplers: an iterable of batches, each a list of indices.

    Batch size and drop_last live on the sampler (MegEngine's convention): ``len(sampler)``
    is the number of batches.

    Examples:
        >>> issubclass(mge.data.RandomSampler, mge.data.Sampler)
        True
    """

    @abstractmethod
    def __iter__(self):
        pass


def _is_positive_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _distributed_defaults():
    # imported late: engine.distributed builds on engine.data's neighbours (autodiff, ops)
    try:
        dist = importlib.import_module("engine.distributed")
    except ImportError:
        return 1, 0
    if getattr(dist, "is_distributed", lambda: False)():
        return dist.get_world_size(), dist.get_rank()
    return 1, 0


def _check_indices(name, indices, dataset_len):
    if indices is None:
        return None
    if isinstance(indices, np.ndarray):
        indices = indices.tolist()
    if not isinstance(indices, collections.abc.Sequence) or isinstance(indices, str):
        raise TypeError(f"{name}: indices must be None or a sequence of ints, got "
                        f"{type(indices).__name__}")
    indices = list(indices)
    bad = [i for i in indices if not isinstance(i, (int, np.integer)) or isinstance(i, bool)
           or not -dataset_len <= i < dataset_len]
    if bad:
        raise ValueError(f"{name}: indices must be ints in [-{dataset_len}, {dataset_len}) for a "
                         f"dataset of length {dataset_len}, got {bad[:5]}")
    return indices


class MapSampler(Sampler):
    """Base of the samplers for map-style datasets: a subclass implements
    :meth:`sample`, the indices of one epoch in order; batching, distributed sharding and
    drop_last are done here.

    Args:
        dataset: the dataset to sample from (only ``len(dataset)`` is used).
        batch_size: indices per batch, a positive int.
        drop_last: drop the last batch when it is smaller than batch_size.
        num_samples: indices per epoch over all ranks; None means ``len(dataset)``.
        world_size: the number of ranks to shard between; None means engine.distributed's
            (1 when not distributed).
        rank: this rank, in [0, world_size); None means engine.distributed's (0).
        seed: the seed of the sampler's numpy RandomState; None draws it from numpy's global
            stream (so ``np.random.seed`` makes it repeatable), or 0 when world_size > 1 so
            that every rank shuffles alike.

    Examples:
        >>> class Reversed(mge.data.MapSampler):
        ...     def sample(self):
        ...         return list(range(len(self.dataset)))[::-1]
        >>> sampler = Reversed(list("abcde"), batch_size=2)
        >>> list(sampler), len(sampler)
        ([[4, 3], [2, 1], [0]], 3)
    """

    def __init__(self, dataset, batch_size=1, drop_last=False, num_samples=None, world_size=None,
                 rank=None, seed=None):
        name = type(self).__name__
        if not _is_positive_int(batch_size):
            raise ValueError(f"{name}: batch_size must be a positive int, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise TypeError(f"{name}: drop_last must be a bool, got {drop_last!r}")
        if num_samples is not None and not _is_positive_int(num_samples):
            raise ValueError(f"{name}: num_samples must be a positive int, got {num_samples!r}")
        default_world, default_rank = _distributed_defaults()
        world_size = default_world if world_size is None else world_size
        rank = default_rank if rank is None else rank
        if not _is_positive_int(world_size):
            raise ValueError(f"{name}: world_size must be a positive int, got {world_size!r}")
        if not isinstance(rank, (int, np.integer)) or not 0 <= rank < world_size:
            raise ValueError(f"{name}: rank must be an int in [0, {world_size}), got {rank!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.drop_last = drop_last
        self.world_size = int(world_size)
        self.rank = int(rank)
        total = len(dataset) if num_samples is None else int(num_samples)
        # indices this rank sees per epoch
        self.num_samples = int(math.ceil(total / self.world_size))
        if seed is None:
            seed = 0 if self.world_size > 1 else int(np.random.randint(0, 2**31 - 1))
        self.seed = seed
        self.rng = np.random.RandomState(seed)

    def sample(self):
        """The indices of one epoch, before sharding and batching.

        Returns:
            a sequence of ints.

        Examples:
            >>> list(mge.data.SequentialSampler(list("abc")).sample())
            [0, 1, 2]
        """
        raise NotImplementedError(f"{type(self).__name__} must implement sample()")

    def scatter(self, indices):
        """This rank's share of the epoch's indices: the list is padded by
        wrapping around to ``num_samples * world_size``, then every world_size-th index from
        ``rank`` is taken.

        Args:
            indices: the indices of one epoch.

        Returns:
            a list of ``num_samples`` indices.

        Examples:
            >>> sampler = mge.data.SequentialSampler(list("abcde"), world_size=2, rank=1)
            >>> sampler.scatter(list(range(5)))
            [1, 3, 0]
        """
        total = self.num_samples * self.world_size
        while len(indices) < total:
            indices = indices + indices[: total - len(indices)]
        return indices[self.rank:total:self.world_size]

    def batch(self):
        """The batches of one epoch: :meth:`sample`, sharded by :meth:`scatter`
        when world_size > 1, cut into lists of batch_size (the last one dropped if short and
        drop_last).

        Returns:
            an iterator of lists of indices.

        Examples:
            >>> sampler = mge.data.SequentialSampler(list("abcde"), batch_size=2, drop_last=True)
            >>> list(sampler.batch())
            [[0, 1], [2, 3]]
        """
        indices = list(self.sample())
        if self.world_size > 1:
            indices = self.scatter(indices)
        step = self.batch_size
        batches = [indices[i:i + step] for i in range(0, len(indices), step)]
        if self.drop_last and batches and len(batches[-1]) < step:
            batches.pop()
        return iter(batches)

    def __iter__(self):
        return self.batch()

    def __len__(self):
        if self.drop_last:
            return self.num_samples // self.batch_size
        return int(math.ceil(self.num_samples / self.batch_size))


class SequentialSampler(MapSampler):
    """Indices in order: ``range(len(dataset))``, or ``indices`` when given.

    Args:
        dataset: the dataset to sample from (only ``len(dataset)`` is used).
        batch_size: indices per batch, a positive int.
        drop_last: drop the last batch when it is smaller than batch_size.
        indices: None, or the indices to visit, in order.
        world_size: the number of ranks to shard between; None means engine.distributed's
            (1 when not distributed).
        rank: this rank, in [0, world_size); None means engine.distributed's (0).

    Examples:
        >>> ds = list(range(5))
        >>> list(mge.data.SequentialSampler(ds, batch_size=2))
        [[0, 1], [2, 3], [4]]
        >>> list(mge.data.SequentialSampler(ds, batch_size=2, drop_last=True, indices=[4, 2, 0]))
        [[4, 2]]
        >>> list(mge.data.SequentialSampler(ds, batch_size=2, world_size=2, rank=0))
        [[0, 2], [4]]
    """

    def __init__(self, dataset, batch_size=1, drop_last=False, indices=None, world_size=None,
                 rank=None):
        indices = _check_indices("SequentialSampler", indices, len(dataset))
        super().__init__(dataset, batch_size, drop_last, None, world_size, rank, seed=0)
        self.indices = indices
        if indices is not None:
            self.num_samples = int(math.ceil(len(indices) / self.world_size))

    def sample(self):
        return range(len(self.dataset)) if self.indices is None else self.indices


class RandomSampler(MapSampler):
    """A fresh random permutation of ``range(len(dataset))`` (or of ``indices``)
    every epoch, from the sampler's own numpy RandomState.

    Args:
        dataset: the dataset to sample from (only ``len(dataset)`` is used).
        batch_size: indices per batch, a positive int.
        drop_last: drop the last batch when it is smaller than batch_size.
        indices: None, or the indices to shuffle.
        world_size: the number of ranks to shard between; None means engine.distributed's
            (1 when not distributed).
        rank: this rank, in [0, world_size); None means engine.distributed's (0).
        seed: the seed of the RandomState: the same seed gives the same sequence of epochs;
            None draws it from numpy's global stream (0 when world_size > 1).

    Examples:
        >>> sampler = mge.data.RandomSampler(list(range(6)), batch_size=4, seed=3)
        >>> len(sampler)
        2
        >>> first, second = sorted(sum(list(sampler), [])), sorted(sum(list(sampler), []))
        >>> first == second == list(range(6))
        True
        >>> list(mge.data.RandomSampler(list(range(6)), 4, seed=3)) == list(
        ...     mge.data.RandomSampler(list(range(6)), 4, seed=3))
        True
    """

    def __init__(self, dataset, batch_size=1, drop_last=False, indices=None, world_size=None,
                 rank=None, seed=None):
        indices = _check_indices("RandomSampler", indices, len(dataset))
        super().__init__(dataset, batch_size, drop_last, None, world_size, rank, seed)
        self.indices = indices
        if indices is not None:
            self.num_samples = int(math.ceil(len(indices) / self.world_size))

    def sample(self):
        if self.indices is None:
            return self.rng.permutation(len(self.dataset)).tolist()
        return self.rng.permutation(np.asarray(self.indices)).tolist()


class ReplacementSampler(MapSampler):
    """``num_samples`` indices drawn with replacement, uniformly or by
    (unnormalised) ``weights``.

    Args:
        dataset: the dataset to sample from (only ``len(dataset)`` is used).
        batch_size: indices per batch, a positive int.
        drop_last: drop the last batch when it is smaller than batch_size.
        num_samples: indices per epoch; None means ``len(dataset)``.
        weights: None (uniform), or one non-negative weight per sample with a positive sum.
        world_size: the number of ranks to shard between; None means engine.distributed's
            (1 when not distributed).
        rank: this rank, in [0, world_size); None means engine.distributed's (0).
        seed: the seed of the sampler's RandomState (None: from numpy's global stream).

    Examples:
        >>> sampler = mge.data.ReplacementSampler(list("abc"), batch_size=4, num_samples=8,
        ...                                       weights=[0, 0, 1], seed=0)
        >>> list(sampler)
        [[2, 2, 2, 2], [2, 2, 2, 2]]
    """

    def __init__(self, dataset, batch_size=1, drop_last=False, num_samples=None, weights=None,
                 world_size=None, rank=None, seed=None):
        super().__init__(dataset, batch_size, drop_last, num_samples, world_size, rank, seed)
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            if weights.shape != (len(dataset),):
                raise ValueError(f"ReplacementSampler: weights must have shape ({len(dataset)},) "
                                 f"(one per sample), got {weights.shape}")
            if (weights < 0).any() or not weights.sum() > 0:
                raise ValueError("ReplacementSampler: weights must be non-negative with a "
                                 "positive sum")
            weights = weights / weights.sum()
        self.weights = weights
        self.epoch_samples = len(dataset) if num_samples is None else int(num_samples)

    def sample(self):
        n = len(self.dataset)
        if self.weights is None:
            return self.rng.randint(n, size=self.epoch_samples).tolist()
        return self.rng.choice(n, size=self.epoch_samples, p=self.weights).tolist()


class StreamSampler(Sampler):
    """The sampler of a :class:`~.StreamDataset`: each batch is the next
    ``batch_size`` samples of the stream (it yields ``list(range(batch_size))`` forever).

    Args:
        batch_size: samples per batch, a positive int.

    Examples:
        >>> sampler = mge.data.StreamSampler(batch_size=3)
        >>> next(iter(sampler))
        [0, 1, 2]
    """

    def __init__(self, batch_size=1):
        if not _is_positive_int(batch_size):
            raise ValueError(f"StreamSampler: batch_size must be a positive int, got "
                             f"{batch_size!r}")
        self.batch_size = int(batch_size)

    def __iter__(self):
        return self

    def __next__(self):
        return list(range(self.batch_size))


class Infinite(MapSampler):
    """Wraps a sampler and yields its batches forever, starting a new epoch (a new
    ``iter(sampler)``, so a random sampler reshuffles) whenever the wrapped one is exhausted.

    Attributes of the wrapped sampler (batch_size, drop_last, ...) are readable through it.
    ``InfiniteSampler`` is another name for it.

    Args:
        sampler: the sampler to repeat.

    Examples:
        >>> sampler = mge.data.Infinite(mge.data.SequentialSampler(list("abc"), batch_size=2))
        >>> it = iter(sampler)
        >>> [next(it) for _ in range(4)]
        [[0, 1], [2], [0, 1], [2]]
        >>> sampler.batch_size
        2
    """

    def __init__(self, sampler):  # noqa: B027 (deliberately no MapSampler.__init__: it wraps)
        if not isinstance(sampler, collections.abc.Iterable):
            raise TypeError(f"{type(self).__name__}: expected a sampler, got "
                            f"{type(sampler).__name__}")
        self.sampler = sampler
        self._epoch = iter(sampler)

    def sample(self):
        raise NotImplementedError(f"{type(self).__name__} has no sample(); iterate it instead")

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._epoch)
        except StopIteration:
            self._epoch = iter(self.sampler)
            try:
                return next(self._epoch)
            except StopIteration:
                raise ValueError(f"{type(self).__name__}: the wrapped sampler yields no batches "
                                 "(empty dataset, or drop_last with fewer samples than "
                                 "batch_size)") from None

    def __len__(self):
        return int(np.iinfo(np.int64).max)

    def __getattr__(self, name):
        # only called for attributes not found on self: forward to the wrapped sampler
        if name == "sampler":
            raise AttributeError(name)
        return getattr(self.sampler, name)


# PyTorch-flavoured alias: InfiniteSampler(sampler) is MegEngine's Infinite(sampler).
InfiniteSampler = Infinite
