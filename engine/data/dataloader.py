"""DataLoader (megengine.data.DataLoader): batches of numpy arrays from a dataset.

    loader = DataLoader(dataset, sampler=RandomSampler(dataset, batch_size=32, seed=0),
                        transform=T.Compose([...]), num_workers=4)
    for images, labels in loader: ...

Per batch: the sampler gives indices, `dataset[i]` gives samples, `transform.apply_batch` rewrites
them and `collator.apply` stacks them into arrays. With num_workers > 0 this runs in worker
processes (see _parallel.py); batches still come out in sampler order.
"""
import time

import numpy as np

from ._parallel import ParallelIter
from ._worker import get_worker_info  # noqa: F401  (importable from here, as in MegEngine)
from .collator import Collator
from .dataset import StreamDataset
from .sampler import Sampler, SequentialSampler, StreamSampler
from .transform import CudaTransform, PseudoTransform, Transform

__all__ = ["DataLoader"]


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class DataLoader:
    """Iterates a dataset in batches.

    Per batch, the sampler gives the indices, ``dataset[i]`` the samples,
    ``transform.apply_batch`` rewrites them and ``collator.apply`` stacks them into arrays.
    With workers this runs in worker processes; batches still come out in sampler order.

    Args:
        dataset: a map-style Dataset (``dataset[i]``, ``len``) or a StreamDataset.
        sampler: yields the batches of indices; batch size and drop_last live here. Default:
            SequentialSampler(dataset, batch_size=1) (StreamSampler(1) for a StreamDataset).
        transform: a Transform applied to the samples of each batch. Default: identity.
        collator: merges the transformed samples into arrays. Default: Collator() (a batch of
            (image, label) tuples becomes a tuple (images, labels) of stacked numpy arrays).
        num_workers: worker processes (0: load in the main process). Workers prefetch
            2 * num_workers batches and are seeded per worker from numpy's global stream.
        timeout: seconds before a RuntimeError (0: wait forever): with workers, to wait for
            one batch; for a StreamDataset read in the main process, the most one sample may
            take to arrive. Map-style datasets without workers ignore it, as in MegEngine.
        preload: yield engine Tensors on the default device instead of numpy arrays.
            (MegEngine also copies the next batch to the device ahead of time; engine
            converts each batch when it is yielded.)
        parallel_stream: for a StreamDataset with num_workers > 0, let every worker iterate
            its own copy of the stream and build whole batches from it, instead of the main
            process reading the stream and handing samples out. The dataset's `__iter__`
            should then split the data between workers with `get_worker_info()` (id,
            num_workers), or each worker yields every sample. Batches are taken from the
            workers in turn until each worker's stream ends. Ignored for map-style datasets
            and without workers, as in MegEngine.
        divide: (engine's addition) with workers, split each batch between all workers instead
            of giving each worker whole batches (lower latency per batch for expensive
            transforms).

    Returns:
        an iterable over the batches; ``len(loader)`` is the number of batches of a
        map-style dataset.

    Examples:
        >>> from engine.data import DataLoader, SequentialSampler
        >>> from engine.data.dataset import ArrayDataset
        >>> ds = ArrayDataset(np.arange(6).reshape(3, 2), np.arange(3))
        >>> loader = DataLoader(ds, SequentialSampler(ds, batch_size=2))
        >>> len(loader)
        2
        >>> for data, labels in loader:
        ...     print(type(data).__name__, data.shape, labels.tolist())
        ndarray (2, 2) [0, 1]
        ndarray (1, 2) [2]
        >>> loader = DataLoader(ds, SequentialSampler(ds, batch_size=2, drop_last=True))
        >>> [labels.tolist() for _, labels in loader]
        [[0, 1]]
        >>> loader = DataLoader(ds, SequentialSampler(ds, batch_size=2), preload=True)
        >>> type(next(iter(loader))[0]).__name__
        'Tensor'

        A transform rewrites each batch of samples before the collator stacks them:

        >>> from engine.data.transform import Compose, Normalize, ToMode
        >>> images = ArrayDataset(np.arange(12, dtype="float32").reshape(3, 2, 2, 1), np.arange(3))
        >>> loader = DataLoader(images, SequentialSampler(images, batch_size=3),
        ...                     transform=Compose([Normalize(mean=1., std=2.), ToMode("CHW")]))
        >>> imgs, labels = next(iter(loader))
        >>> imgs.shape, imgs[0].ravel().tolist()
        ((3, 1, 2, 2), [-0.5, 0.0, 0.5, 1.0])
    """

    def __init__(self, dataset, sampler=None, transform=None, collator=None, num_workers=0,
                 timeout=0, preload=False, parallel_stream=False, divide=False):
        if not _is_int(num_workers) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative int, got "
                             f"{num_workers!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float, np.number)) \
                or timeout < 0:
            raise ValueError(f"DataLoader: timeout must be a non-negative number of seconds, "
                             f"got {timeout!r}")
        if divide and num_workers <= 1:
            raise ValueError(f"DataLoader: divide=True needs num_workers > 1, got "
                             f"num_workers={num_workers}")
        if parallel_stream and divide:
            raise ValueError("DataLoader: parallel_stream=True builds whole batches in each "
                             "worker and cannot be combined with divide=True")
        self._stream = isinstance(dataset, StreamDataset)
        if not self._stream and not (hasattr(dataset, "__getitem__")
                                     and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: dataset must be a map-style Dataset (with __getitem__ "
                            f"and __len__) or a StreamDataset, got {type(dataset).__name__}")
        if sampler is None:
            sampler = StreamSampler(batch_size=1) if self._stream else \
                SequentialSampler(dataset, batch_size=1, drop_last=False)
        if self._stream and not isinstance(sampler, StreamSampler):
            raise TypeError(f"DataLoader: a StreamDataset needs a StreamSampler, got "
                            f"{type(sampler).__name__}")
        if not self._stream and isinstance(sampler, StreamSampler):
            raise TypeError("DataLoader: a StreamSampler needs a StreamDataset, got "
                            f"{type(dataset).__name__}")
        if not isinstance(sampler, Sampler) and not hasattr(sampler, "__iter__"):
            raise TypeError(f"DataLoader: sampler must be a Sampler, got "
                            f"{type(sampler).__name__}")
        if divide and getattr(sampler, "batch_size", num_workers) < num_workers:
            raise ValueError(f"DataLoader: with divide=True the batch size "
                             f"({sampler.batch_size}) must be at least num_workers "
                             f"({num_workers})")
        transform = PseudoTransform() if transform is None else transform
        if not isinstance(transform, Transform) and not hasattr(transform, "apply_batch"):
            raise TypeError(f"DataLoader: transform must be a Transform, got "
                            f"{type(transform).__name__}")
        collator = Collator() if collator is None else collator
        if not hasattr(collator, "apply"):
            raise TypeError(f"DataLoader: collator must have an apply(samples) method, got "
                            f"{type(collator).__name__}")
        self.dataset = dataset
        self.sampler = sampler
        # a CudaTransform rewrites collated batches in this process (_BatchTransformIter); the
        # samples pass through the workers untransformed
        self._batch_transform = transform if isinstance(transform, CudaTransform) else None
        self.transform = PseudoTransform() if self._batch_transform else transform
        self.collator = collator
        self.num_workers = int(num_workers)
        self.timeout = timeout
        self.preload = preload
        self.parallel_stream = parallel_stream
        self.divide = divide

    def __len__(self):
        if self._stream:
            raise TypeError("DataLoader: len() is undefined for a StreamDataset")
        return len(self.sampler)

    @property
    def _parallel_stream_active(self):
        return bool(self.parallel_stream) and self._stream and self.num_workers > 0

    def _tasks(self):
        """Per batch: ("indices", [i, ...]) for a map dataset, ("items", [sample, ...]) read
        from the stream for a StreamDataset, or ("stream", batch_size) when each worker reads
        its own stream (parallel_stream); the workers then say when their stream has ended."""
        if self._parallel_stream_active:
            while True:
                yield "stream", self.sampler.batch_size
        if not self._stream:
            for indices in self.sampler:
                yield "indices", list(indices)
            return
        stream = iter(self.dataset)
        batch_size = self.sampler.batch_size
        while True:
            items = []
            while len(items) < batch_size:
                start = time.monotonic()
                try:
                    sample = next(stream)
                except StopIteration:
                    break
                waited = time.monotonic() - start
                if self.timeout > 0 and waited > self.timeout:
                    # checked once the sample arrives, as MegEngine does: a stream cannot be
                    # interrupted from outside
                    raise RuntimeError(f"DataLoader: timeout, reading one sample from the "
                                       f"StreamDataset took {waited:.3g} s, more than "
                                       f"timeout={self.timeout:g}")
                items.append(sample)
            if not items:
                return
            yield "items", items
            if len(items) < batch_size:
                return

    def __iter__(self):
        length = None if self._stream else len(self.sampler)
        if self.num_workers == 0:
            batches = _SerialIter(self, self._tasks(), length)
        else:
            batches = ParallelIter(self, self._tasks(), length)
        if self._batch_transform is not None:
            batches = _BatchTransformIter(batches, self._batch_transform)
        return _PreloadIter(batches) if self.preload else batches


class _BatchTransformIter:
    """The batches of `batches`, each rewritten by a CudaTransform's apply."""

    def __init__(self, batches, transform):
        self._batches, self._transform = batches, transform

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._batches)

    def __next__(self):
        return self._transform.apply(next(self._batches))


class _SerialIter:
    def __init__(self, loader, tasks, length):
        self._loader = loader
        self._tasks = tasks
        self._length = length

    def __iter__(self):
        return self

    def __len__(self):
        return self._length

    def __next__(self):
        kind, payload = next(self._tasks)
        loader = self._loader
        samples = [loader.dataset[i] for i in payload] if kind == "indices" else payload
        return loader.collator.apply(loader.transform.apply_batch(samples))


def _to_tensors(batch):
    from engine.tensor import Tensor

    if isinstance(batch, np.ndarray):
        return Tensor(batch)
    if isinstance(batch, dict):
        return {k: _to_tensors(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_to_tensors(v) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_tensors(v) for v in batch)
    return batch


class _PreloadIter:
    """preload=True: numpy arrays in each batch become engine Tensors on the default device.
    (Prefetching itself comes from the workers; this only changes what is yielded.)"""

    def __init__(self, batches):
        self._batches = batches

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._batches)

    def __next__(self):
        return _to_tensors(next(self._batches))
