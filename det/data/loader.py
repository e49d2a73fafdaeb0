"""Train and test loaders (engine.data.DataLoader) and a resumable infinite training sampler.

Resume: the training stream is a pure function of (seed, sample position), so restoring it is
O(1) and exact:
  * sample position g lies in epoch e = g // n at offset g % n; epoch e's order is a permutation
    drawn from RandomState([seed, e]) (no dropped images, no short batch at an epoch end:
    batches run across epoch boundaries, as in detectron2's TrainingSampler);
  * each sample also gets seed RandomState([seed, e, g % n, 1]) -> an int, handed to the
    dataset as dataset[(index, sample_seed)], from which its random transforms (flip,
    multi-scale) are drawn. Augmentation therefore does not depend on num_workers, on which
    worker loaded a sample, or on the global random streams.
Two ways to resume, both exact: `loader.state_dict()` / `loader.load_state_dict(state)` (the
position of the batches the caller has consumed, not of those the workers prefetched), or
advancing the sampler: `for _ in range(k): next(loader.sampler)` before `iter(loader)` (the
sampler is its own iterator, like engine.data.Infinite).
Several ranks share one stream, each taking its slice of every step (InfiniteTrainSampler).
"""
import warnings

import numpy as np

from det.registry import DATASETS, build_from_config
from det.utils import comm
from engine.data import DataLoader, Sampler, SequentialSampler

from .collate import DetCollator
from .transforms import build_transforms

__all__ = ["InfiniteTrainSampler", "TrainLoader", "build_dataset", "build_train_loader",
           "build_test_loader"]


class InfiniteTrainSampler(Sampler):
    """Yields batches of (index, sample_seed) pairs forever (see the module docstring).

    With several ranks the stream is split by rank: step k of rank r takes stream positions
    k * B * W + r * B ... + B - 1 (B = batch_size per rank, W = world_size), so the W ranks'
    batches of a step are together one process's batch of B * W, each sample with the same
    sample seed, and every sample comes once per epoch of the stream. `position` counts the
    samples of all ranks (the same number on every rank), so resuming needs nothing per rank.

    Args:
        num_items: dataset length.
        batch_size: pairs per batch, on each rank.
        seed: the stream's seed (cfg.seed).
        world_size: ranks sharing the stream; None: engine.distributed's (1 without a job).
        rank: this rank, in [0, world_size); None: engine.distributed's.
    """

    def __init__(self, num_items, batch_size, seed=0, world_size=None, rank=None):
        world_size = comm.get_world_size() if world_size is None else world_size
        rank = comm.get_rank() if rank is None else rank
        for name, value in (("num_items", num_items), ("batch_size", batch_size),
                            ("world_size", world_size)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"InfiniteTrainSampler: {name} must be a positive int, got "
                                 f"{value!r}")
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or \
                not 0 <= rank < world_size:
            raise ValueError(f"InfiniteTrainSampler: rank must be an int in [0, {world_size}), "
                             f"got {rank!r}")
        self.num_items = int(num_items)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.world_size, self.rank = int(world_size), int(rank)
        self.position = 0  # samples handed out so far, by all ranks
        self._epoch = None
        self._order = None

    def _epoch_order(self, epoch):
        if epoch != self._epoch:
            self._order = np.random.RandomState([self.seed, epoch]).permutation(self.num_items)
            self._epoch = epoch
        return self._order

    def sample_at(self, g):
        """The (index, sample_seed) at stream position g."""
        epoch, offset = divmod(g, self.num_items)
        index = int(self._epoch_order(epoch)[offset])
        sample_seed = int(np.random.RandomState([self.seed, epoch, offset, 1]).randint(2**31))
        return index, sample_seed

    def __iter__(self):
        return self

    def __next__(self):
        start = self.position + self.rank * self.batch_size
        self.position += self.batch_size * self.world_size
        return [self.sample_at(g) for g in range(start, start + self.batch_size)]

    def __len__(self):
        return int(np.iinfo(np.int64).max)

    def state_dict(self):
        return {"seed": self.seed, "position": self.position, "num_items": self.num_items}

    def load_state_dict(self, state):
        if state["num_items"] != self.num_items:
            warnings.warn(f"InfiniteTrainSampler: resuming a stream over {state['num_items']} "
                          f"items on a dataset of {self.num_items}; the sample order differs "
                          "from the interrupted run", stacklevel=2)
        self.seed = int(state["seed"])
        self.position = int(state["position"])
        self._epoch = None


class TrainLoader(DataLoader):
    """engine.data.DataLoader over an InfiniteTrainSampler that knows how many samples its
    caller has consumed: state_dict() / load_state_dict() save and restore that position.
    Call load_state_dict before iterating (a running iterator keeps its prefetched batches)."""

    def __init__(self, dataset, sampler, collator, num_workers=0):
        super().__init__(dataset, sampler=sampler, collator=collator, num_workers=num_workers)
        self._consumed = None  # position of the latest iterator's caller, None before any

    def __iter__(self):
        start = self.sampler.position
        self._consumed = start
        inner = super().__iter__()
        step = self.sampler.batch_size * self.sampler.world_size  # samples of all ranks

        def counted():
            for batch in inner:
                self._consumed += step
                yield batch

        return counted()

    def state_dict(self):
        state = self.sampler.state_dict()
        if self._consumed is not None:
            state["position"] = self._consumed
        return state

    def load_state_dict(self, state):
        self.sampler.load_state_dict(state)
        self._consumed = None


def _data(cfg):
    data = cfg.data
    missing = [k for k in ("train_json", "train_images", "val_json", "val_images",
                           "num_workers", "size_divisibility", "min_size", "max_size")
               if k not in data]
    if missing:
        raise KeyError(f"det.data: the config's data section lacks {missing}")
    return data


def build_dataset(cfg, training, json_path=None, image_root=None):
    """The dataset data.train_dataset (training) or data.test_dataset names: a dict for
    det.registry.DATASETS, e.g. dict(name="ShapesDataset", root="/data/shapes", split="val"),
    built with the transforms of build_transforms and `training` offered (passed when its
    constructor takes them). None (the default): COCODataset over data.train_json /
    data.train_images (or val_json / val_images, or the paths given here), dropping images
    without boxes when training unless data.filter_empty is False."""
    data = _data(cfg)
    key = "train_dataset" if training else "test_dataset"
    spec = data.get(key) if json_path is None and image_root is None else None
    if spec is None:
        split = "train" if training else "val"
        spec = {"name": "COCODataset", "json_path": json_path or data[f"{split}_json"],
                "image_root": image_root or data[f"{split}_images"]}
        if training:
            spec["filter_empty"] = data.get("filter_empty", True)
    context = {"transforms": build_transforms(cfg, training=training), "training": training}
    return build_from_config(DATASETS, spec, f"data.{key}", context)


def build_train_loader(cfg):
    """TrainLoader over build_dataset(cfg, training=True) (by default COCODataset over
    data.train_json with ResizeShortestEdge + RandomFlip), batches of train.batch_size from an
    InfiniteTrainSampler seeded by cfg.seed, data.num_workers workers, padding to
    data.size_divisibility."""
    data = _data(cfg)
    dataset = build_dataset(cfg, training=True)
    if len(dataset) == 0:
        source = data.get("train_dataset") or data["train_json"]
        raise ValueError(f"build_train_loader: {source} has no images with boxes to train on")
    sampler = InfiniteTrainSampler(len(dataset), cfg.train["batch_size"], seed=cfg.seed)
    return TrainLoader(dataset, sampler, DetCollator(data["size_divisibility"]),
                       num_workers=data["num_workers"])


def build_test_loader(cfg, json_path=None, image_root=None):
    """DataLoader over build_dataset(cfg, training=False) (by default COCODataset over
    data.val_json, or the given paths) in order, test.batch_size per batch, every image kept,
    test-time resize only."""
    data = _data(cfg)
    dataset = build_dataset(cfg, training=False, json_path=json_path, image_root=image_root)
    sampler = SequentialSampler(dataset, batch_size=cfg.test["batch_size"], drop_last=False)
    return DataLoader(dataset, sampler=sampler, collator=DetCollator(data["size_divisibility"]),
                      num_workers=data["num_workers"])
