"""engine.data: samplers, datasets, collation, the DataLoader with and without worker processes
(ordering, seeding, errors, dead workers, timeouts, clean shutdown) and the vision transforms
against numpy / PyTorch references. Every test that starts workers runs under a SIGALRM deadline,
so a hang fails the test instead of blocking CI."""
import contextlib
import gc
import multiprocessing
import os
import signal
import time

import numpy as np
import pytest

import engine as mge
import engine.data.transform as T
from engine.data import (
    ArrayDataset,
    Collator,
    DataLoader,
    Dataset,
    Infinite,
    InfiniteSampler,
    MapDataset,
    RandomSampler,
    ReplacementSampler,
    SequentialSampler,
    StreamDataset,
    StreamSampler,
    get_worker_info,
)


@contextlib.contextmanager
def deadline(seconds, exc=TimeoutError):
    """Raise `exc` in the main thread if the block runs longer than `seconds`."""
    def on_alarm(signum, frame):
        raise exc(f"test exceeded its {seconds} s deadline (hang?)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def gone(pids):
    """True when none of the pids is a live (or zombie) process any more."""
    def alive(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(")")[-1].split()[0] != "Z"
        except FileNotFoundError:
            return False
    return not any(alive(p) for p in pids)


def toy(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return ArrayDataset(x, np.arange(n, dtype=np.int32))


def flat(batches):
    return [i for b in batches for i in b]


# ------------------------------------------------------------------------------------ samplers

def test_sequential_sampler_batches_len_drop_last():
    ds = toy(10)
    assert list(SequentialSampler(ds, batch_size=4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(SequentialSampler(ds, batch_size=4)) == 3
    dropped = SequentialSampler(ds, batch_size=4, drop_last=True)
    assert list(dropped) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(dropped) == 2
    picked = SequentialSampler(ds, batch_size=2, indices=[7, 3, 5])
    assert list(picked) == [[7, 3], [5]] and len(picked) == 2


def test_random_sampler_seeded_and_reshuffles_each_epoch():
    ds = toy(50)
    a, b = RandomSampler(ds, batch_size=8, seed=3), RandomSampler(ds, batch_size=8, seed=3)
    a1, a2 = list(a), list(a)
    assert a1 == list(b) and a2 == list(b)  # same seed: same sequence of epochs
    assert a1 != a2  # each epoch draws a new permutation
    assert sorted(flat(a1)) == list(range(50)) and len(a1) == len(a) == 7
    assert list(RandomSampler(ds, batch_size=8, seed=4)) != a1
    assert len(list(RandomSampler(ds, batch_size=8, drop_last=True, seed=3))) == 6
    np.random.seed(11)
    c = list(RandomSampler(ds, batch_size=8))
    np.random.seed(11)
    assert list(RandomSampler(ds, batch_size=8)) == c  # seed=None follows np.random.seed
    sub = RandomSampler(ds, batch_size=2, indices=[1, 4, 9], seed=0)
    assert sorted(flat(sub)) == [1, 4, 9] and len(sub) == 2


def test_sampler_shards_between_ranks():
    ds = toy(10)
    shards = [flat(RandomSampler(ds, batch_size=2, world_size=3, rank=r)) for r in range(3)]
    assert all(len(s) == 4 for s in shards)  # ceil(10 / 3), padded by wrapping around
    assert set(shards[0] + shards[1] + shards[2]) == set(range(10))
    assert len(RandomSampler(ds, batch_size=2, world_size=3, rank=0)) == 2
    seq = [flat(SequentialSampler(ds, world_size=2, rank=r)) for r in range(2)]
    assert seq == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]


def test_infinite_sampler_wraps_epochs():
    ds = toy(5)
    inf = Infinite(RandomSampler(ds, batch_size=2, seed=0))
    assert InfiniteSampler is Infinite
    batches = [next(inf) for _ in range(9)]  # 3 epochs of 3 batches
    epochs = [flat(batches[i:i + 3]) for i in (0, 3, 6)]
    assert all(sorted(e) == list(range(5)) for e in epochs)
    assert epochs[0] != epochs[1] or epochs[1] != epochs[2]
    assert inf.batch_size == 2 and len(inf) == np.iinfo(np.int64).max
    loader = DataLoader(ds, sampler=InfiniteSampler(SequentialSampler(ds, batch_size=2)))
    it = iter(loader)
    labels = [next(it)[1].tolist() for _ in range(4)]
    assert labels == [[0, 1], [2, 3], [4], [0, 1]]


def test_replacement_sampler_weights():
    ds = toy(6)
    s = ReplacementSampler(ds, batch_size=4, num_samples=40, weights=[0, 1, 0, 1, 0, 0], seed=0)
    drawn = flat(s)
    assert len(drawn) == 40 and set(drawn) <= {1, 3} and len(s) == 10


@pytest.mark.parametrize("make, exc, pattern", [
    (lambda ds: SequentialSampler(ds, batch_size=0), ValueError, r"SequentialSampler: batch_size"),
    (lambda ds: RandomSampler(ds, batch_size=2.0), ValueError, r"RandomSampler: batch_size"),
    (lambda ds: RandomSampler(ds, drop_last=1), TypeError, r"drop_last must be a bool"),
    (lambda ds: RandomSampler(ds, world_size=2, rank=2), ValueError, r"rank must be .*\[0, 2\)"),
    (lambda ds: SequentialSampler(ds, indices=[0, 10]), ValueError, r"indices must be ints in"),
    (lambda ds: ReplacementSampler(ds, weights=[1, 2]), ValueError, r"weights must have shape"),
    (lambda ds: ArrayDataset(np.zeros(3), np.zeros(4)), ValueError,
     r"ArrayDataset: .*lengths \[3, 4\]"),
    (lambda ds: DataLoader(ds, num_workers=-1), ValueError, r"DataLoader: num_workers"),
    (lambda ds: DataLoader(ds, timeout=-1), ValueError, r"DataLoader: timeout"),
    (lambda ds: DataLoader(ds, num_workers=1, divide=True), ValueError, r"divide=True needs"),
    (lambda ds: DataLoader(ds, sampler=StreamSampler(2)), TypeError, r"needs a StreamDataset"),
])
def test_bad_arguments(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make(toy(10))


# ---------------------------------------------------------------------- datasets and collation

def test_array_dataset_and_collator():
    x, y = np.random.rand(4, 2, 2), np.arange(4)
    ds = ArrayDataset(x, y, mge.tensor(np.ones((4, 3), "float32")))
    item = ds[2]
    assert isinstance(item, tuple) and np.array_equal(item[0], x[2]) and item[1] == 2
    images, labels, ones = Collator().apply([ds[i] for i in range(3)])
    np.testing.assert_array_equal(images, x[:3])
    assert labels.tolist() == [0, 1, 2] and ones.shape == (3, 3)
    merged = Collator().apply([{"a": 1.5, "b": "s"}, {"a": 2.5, "b": "t"}])
    assert merged["a"].dtype == np.float64 and merged["b"] == ["s", "t"]
    with pytest.raises(ValueError, match=r"Collator: cannot stack .*\[0\].*\(2,\).*\(3,\)"):
        Collator().apply([(np.zeros(2), 1), (np.zeros(3), 2)])


# ------------------------------------------------------------------------------ the DataLoader

class SlowIndex(MapDataset):
    """Returns (index,) and misbehaves at one index: raise, exit, be killed, or sleep."""

    def __init__(self, n=12, bad=-1, how=None):
        super().__init__()
        self.n, self.bad, self.how = n, bad, how

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            if self.how == "raise":
                raise ValueError(f"boom at sample {i}")
            if self.how == "exit":
                os._exit(3)
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.how == "sleep":
                time.sleep(30)
        return np.array([i], dtype=np.int64), np.float32(i) * 2


def batches_equal(a, b):
    return len(a) == len(b) and all(
        all(np.array_equal(u, v) for u, v in zip(x, y)) for x, y in zip(a, b))


def test_loader_serial_and_workers_give_identical_batches():
    ds = toy(23)
    with deadline(20):
        serial = list(DataLoader(ds, SequentialSampler(ds, batch_size=4)))
        parallel = list(DataLoader(ds, SequentialSampler(ds, batch_size=4), num_workers=2))
        divided = list(DataLoader(ds, SequentialSampler(ds, batch_size=4), num_workers=2,
                                  divide=True))
        shuffled = [list(DataLoader(ds, RandomSampler(ds, batch_size=5, seed=7), num_workers=w))
                    for w in (0, 2)]
    assert len(serial) == 6 == len(DataLoader(ds, SequentialSampler(ds, batch_size=4)))
    x, y = serial[0]
    assert isinstance(x, np.ndarray) and x.shape == (4, 3) and y.dtype == np.int32
    assert batches_equal(serial, parallel) and batches_equal(serial, divided)
    assert batches_equal(*shuffled)
    assert sorted(np.concatenate([b[1] for b in shuffled[0]]).tolist()) == list(range(23))


def test_worker_exception_carries_worker_traceback():
    loader = DataLoader(SlowIndex(bad=5, how="raise"), SequentialSampler(SlowIndex(), 2),
                        num_workers=2)
    it = iter(loader)
    pids = it.worker_pids
    with deadline(20), pytest.raises(ValueError) as info:
        list(it)
    text = str(info.value)
    assert "DataLoader worker" in text and "Traceback" in text
    assert "boom at sample 5" in text and "__getitem__" in text
    assert gone(pids)


@pytest.mark.parametrize("how, pattern", [("exit", r"exit code 3"),
                                          ("kill", r"killed by signal SIGKILL")])
def test_dead_worker_is_reported_not_hung(how, pattern):
    ds = SlowIndex(bad=3, how=how)
    it = iter(DataLoader(ds, SequentialSampler(ds, 2), num_workers=2))
    pids = it.worker_pids
    with deadline(20), pytest.raises(RuntimeError, match=r"DataLoader worker 1 .*" + pattern):
        list(it)
    assert gone(pids)


def test_timeout_raises():
    ds = SlowIndex(bad=2, how="sleep")
    it = iter(DataLoader(ds, SequentialSampler(ds, 1), num_workers=2, timeout=0.5))
    pids = it.worker_pids
    start = time.monotonic()
    with deadline(20), pytest.raises(RuntimeError, match=r"timed out after 0.5 s.*batch 2"):
        list(it)
    assert time.monotonic() - start < 10
    assert gone(pids)


def test_early_break_del_and_gc_leave_no_processes():
    ds = SlowIndex(n=200)
    loader = DataLoader(ds, SequentialSampler(ds, 2), num_workers=2)
    with deadline(20):
        it = iter(loader)
        next(it)
        pids = it.worker_pids
        del it
        assert gone(pids)
        for _ in loader:  # the loop's iterator is dropped at break
            break
        gc.collect()
        assert multiprocessing.active_children() == []
        it = iter(loader)
        next(it)
        pids = it.worker_pids
        del loader, it  # the loader is garbage too
        gc.collect()
        assert gone(pids)
    assert multiprocessing.active_children() == []


def test_keyboard_interrupt_shuts_workers_down():
    ds = SlowIndex(bad=4, how="sleep")
    it = iter(DataLoader(ds, SequentialSampler(ds, 1), num_workers=2))
    pids = it.worker_pids
    with pytest.raises(KeyboardInterrupt), deadline(1, KeyboardInterrupt):
        list(it)
    assert gone(pids)
    with pytest.raises(StopIteration):
        next(it)


class RandomDraws(MapDataset):
    """Each sample is a draw from numpy's global stream plus the id of the worker drawing it."""

    def __init__(self):
        super().__init__()

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return np.random.random(), -1 if info is None else info.id


def test_workers_seeded_differently_and_reproducibly():
    def run(seed):
        np.random.seed(seed)
        return list(DataLoader(RandomDraws(), SequentialSampler(RandomDraws(), 1),
                               num_workers=2))

    with deadline(20):
        a, b, c = run(1), run(1), run(2)
    values = [float(v[0]) for v, _ in a]
    assert [int(w[0]) for _, w in a] == [0, 1] * 4  # round-robin over the two workers
    assert values[0] != values[1]  # worker 0 and worker 1 draw different streams
    assert values == [float(v[0]) for v, _ in b]
    assert values != [float(v[0]) for v, _ in c]
    assert get_worker_info() is None


class Counting(StreamDataset):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def __iter__(self):
        return iter((np.full(2, i, dtype=np.int32), i) for i in range(self.n))


def test_stream_dataset_serial_and_workers():
    with deadline(20):
        for workers in (0, 2):
            out = list(DataLoader(Counting(7), StreamSampler(batch_size=3),
                                  num_workers=workers))
            assert [b[1].tolist() for b in out] == [[0, 1, 2], [3, 4, 5], [6]]
            assert out[0][0].shape == (3, 2)
    with pytest.raises(TypeError, match="len"):
        len(DataLoader(Counting(3)))


def test_preload_yields_tensors_and_transform_runs_in_workers():
    ds = ArrayDataset(np.random.randint(0, 255, (6, 4, 4, 3)).astype(np.uint8), np.arange(6))
    tf = T.Compose([T.Normalize(mean=[1, 2, 3], std=2.0), T.ToMode("CHW")],
                   order=("image", "image_category"))
    with deadline(20):
        out = list(DataLoader(ds, SequentialSampler(ds, 3), transform=tf, num_workers=2,
                              preload=True))
    images, labels = out[0]
    assert isinstance(images, mge.Tensor) and images.shape == (3, 3, 4, 4)
    ref = (ds.arrays[0][:3].astype(np.float32) - np.array([1, 2, 3], np.float32)) / 2
    np.testing.assert_allclose(images.numpy(), ref.transpose(0, 3, 1, 2), rtol=1e-6)
    assert labels.numpy().tolist() == [0, 1, 2]


# -------------------------------------------------------------------------------- transforms

def test_normalize_tomode_and_flips():
    img = np.random.randint(0, 256, (5, 7, 3)).astype(np.uint8)
    mean, std = [10.0, 20.0, 30.0], [2.0, 4.0, 8.0]
    out = T.Normalize(mean, std).apply(img)
    ref = (img.astype(np.float64) - mean) / std
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-6)
    chw = T.ToMode().apply(img)
    assert chw.flags.c_contiguous and np.array_equal(chw, img.transpose(2, 0, 1))
    assert T.ToMode().apply(img[..., 0]).shape == (1, 5, 7)
    boxes = np.array([[1.0, 2.0, 3.0, 4.0]])
    flipped, fboxes, label = T.RandomHorizontalFlip(1.0, order=("image", "boxes", "label")) \
        .apply((img, boxes, 5))
    assert np.array_equal(flipped, img[:, ::-1]) and label == 5
    np.testing.assert_allclose(fboxes, [[7 - 3.0, 2.0, 7 - 1.0, 4.0]])
    assert boxes[0, 0] == 1.0  # the input is not modified in place
    same = T.RandomHorizontalFlip(0.0).apply(img)
    assert np.array_equal(same, img)
    assert np.array_equal(T.RandomVerticalFlip(1.0).apply(img), img[::-1])
    np.random.seed(0)
    flips = [not np.array_equal(T.RandomHorizontalFlip(0.5).apply(img), img) for _ in range(200)]
    assert 60 < sum(flips) < 140


def torch_resize(img, size, mode):
    import torch
    import torch.nn.functional as TF

    t = torch.from_numpy(img.astype(np.float64)).permute(2, 0, 1)[None]
    kwargs = {} if mode == "nearest" else {"align_corners": False}
    return TF.interpolate(t, size=size, mode=mode, **kwargs)[0].permute(1, 2, 0).numpy()


@pytest.mark.parametrize("in_hw, out_hw", [((6, 9), (13, 17)), ((16, 12), (7, 5)),
                                           ((5, 5), (5, 11))])
@pytest.mark.parametrize("interp, mode", [(T.INTER_LINEAR, "bilinear"),
                                          (T.INTER_NEAREST, "nearest"),
                                          (T.INTER_CUBIC, "bicubic")])
def test_resize_matches_torch(in_hw, out_hw, interp, mode):
    img = np.random.rand(*in_hw, 3).astype(np.float32) * 255
    out = T.Resize(out_hw, interp).apply(img)
    assert out.shape == (*out_hw, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, torch_resize(img, out_hw, mode), rtol=1e-4, atol=1e-3)
    img8 = img.astype(np.uint8)
    out8 = T.Resize(out_hw, interp).apply(img8)
    assert out8.dtype == np.uint8
    ref8 = np.clip(np.rint(torch_resize(img8, out_hw, mode)), 0, 255)
    assert np.abs(out8.astype(int) - ref8).max() <= 1


def test_resize_area_short_side_and_coords():
    img = np.random.rand(8, 12, 2)
    area = T.Resize((4, 3), T.INTER_AREA).apply(img)
    np.testing.assert_allclose(area, img.reshape(4, 2, 3, 4, 2).mean((1, 3)), rtol=1e-12)
    resize = T.Resize(4, order=("image", "coords", "mask"))
    mask = np.arange(8 * 12).reshape(8, 12, 1)
    out, coords, out_mask = resize.apply((img, np.array([[6.0, 2.0]]), mask))
    assert out.shape == (4, 6, 2) and out_mask.shape == (4, 6, 1)  # shorter side -> 4
    np.testing.assert_allclose(coords, [[3.0, 1.0]])
    assert np.array_equal(out_mask[..., 0], mask[::2, ::2, 0])  # nearest for masks


def test_compose_order_shuffle_pad_crop():
    img = np.random.randint(0, 256, (6, 8, 3)).astype(np.uint8)
    tf = T.Compose([T.Pad(1), T.CenterCrop((6, 8)), T.ToMode()], order=("image", "label"))
    out, label = tf.apply((img, 3))
    assert label == 3 and np.array_equal(out, img.transpose(2, 0, 1))
    assert all(t.order == ("image", "label") for t in tf.transforms)
    padded = T.Pad((1, 2, 3, 4), value=7).apply(img)
    ref = np.pad(img, ((1, 2), (3, 4), (0, 0)), constant_values=7)
    assert np.array_equal(padded, ref)
    batch = T.Compose([T.Normalize(1.0)], batch_compose=True).apply_batch([img, img])
    assert len(batch) == 2 and np.allclose(batch[0], img - 1.0)
    # two non-commuting transforms in a shuffle group: both orders happen
    swap = T.Compose([T.Normalize(1.0, 2.0), T.Normalize(0.0, 0.5)], shuffle_indices=[(1, 2)])
    np.random.seed(0)
    results = {float(swap.apply(np.full((1, 1, 1), 3.0))[0, 0, 0]) for _ in range(30)}
    assert results == {2.0, 2.5}  # (3 - 1) / 2 / 0.5 and (3 / 0.5 - 1) / 2


@pytest.mark.parametrize("make, exc, pattern", [
    (lambda: T.Normalize(order=("image", "polygon")), NotImplementedError,
     r"Normalize: unsupported field 'polygon'"),
    (lambda: T.Resize((2, 2), interpolation=9), ValueError, r"resize: unsupported interpolation"),
    (lambda: T.Resize((0, 2)), ValueError, r"Resize: output_size"),
    (lambda: T.ToMode("HWC"), ValueError, r"ToMode: unsupported mode 'HWC'"),
    (lambda: T.Normalize([1, 2]).apply(np.zeros((2, 2, 3))), ValueError,
     r"Normalize: mean has 2 entries .*\(2, 2, 3\) has 3 channels"),
    (lambda: T.CenterCrop(5).apply(np.zeros((4, 4, 1))), ValueError,
     r"CenterCrop: crop size \(5, 5\) is larger than the image \(4, 4\)"),
    (lambda: T.Compose([lambda x: x]), TypeError, r"Compose: transforms\[0\] must be"),
])
def test_transform_bad_arguments(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make()


def test_import_paths():
    import engine.data
    import engine.data.transform as transform

    assert mge.data is engine.data and transform is T
    assert engine.data.DataLoader is DataLoader and engine.data.RandomSampler is RandomSampler


class _KernelDataset(Dataset):
    """Runs a native multi-threaded kernel (softmax) inside __getitem__."""

    def __init__(self):
        super().__init__()

    def __getitem__(self, i):
        import engine.functional as F

        x = mge.tensor(np.full((8, 64, 32, 32), float(i), "float32"))
        return (F.softmax(x, axis=1).numpy()[0, 0, 0, :1],)

    def __len__(self):
        return 4


def test_workers_run_native_kernels_after_the_parent_used_openmp():
    # fork keeps OpenMP's state but not its threads: without care the first parallel region in
    # a worker waits forever
    import engine.functional as F

    F.softmax(mge.tensor(np.ones((8, 64, 32, 32), "float32")), axis=1)  # parent's pool is live
    ds = _KernelDataset()
    with deadline(60):
        batches = list(DataLoader(ds, SequentialSampler(ds, batch_size=2), num_workers=2,
                                  timeout=30))
    assert len(batches) == 2
    np.testing.assert_allclose(batches[0][0], np.full((2, 1), 1 / 64), rtol=1e-5)
