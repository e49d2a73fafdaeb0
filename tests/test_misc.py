"""mge.random, mge.save / mge.load, memory accounting and device names."""
import gc
import io
import os
import pickle

import numpy as np
import pytest

import engine as mge
import engine.functional as F

Tensor = mge.Tensor


# ------------------------------------------------------------------------------ random
def _draws(seed, device):
    mge.random.seed(seed)
    return (mge.random.normal(size=(3, 4), device=device).numpy(),
            mge.random.uniform(size=(5,), device=device).numpy(),
            mge.random.permutation(10, device=device).numpy())


def test_random_seed_reproduces_sequences(device):
    first, again = _draws(7, device), _draws(7, device)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    other = _draws(8, device)
    for a, b in zip(first, other):
        assert not np.array_equal(a, b)


def test_random_shapes_and_dtypes(device):
    n = mge.random.normal(1.0, 2.0, size=(2, 3), device=device)
    u = mge.random.uniform(-1.0, 3.0, size=7, device=device)
    p = mge.random.permutation(12, device=device)
    assert isinstance(n, Tensor) and n.shape == (2, 3) and n.dtype == np.float32
    assert u.shape == (7,) and u.dtype == np.float32
    assert n.device == device and u.device == device and p.device == device
    assert ((u.numpy() >= -1) & (u.numpy() < 3)).all()
    assert p.dtype == np.int32 and p.shape == (12,)
    np.testing.assert_array_equal(np.sort(p.numpy()), np.arange(12))


def test_permutation_of_a_tensor_permutes_its_rows(device):
    a = np.arange(40, dtype="float32").reshape(20, 2)
    mge.random.seed(3)
    r = mge.random.permutation(Tensor(a, device=device))
    assert isinstance(r, Tensor) and r.shape == (20, 2) and r.dtype == np.float32
    rows = r.numpy()
    assert not np.array_equal(rows, a)
    np.testing.assert_array_equal(rows[np.argsort(rows[:, 0])], a)  # same rows, rows intact


def test_random_statistics(device):
    mge.random.seed(0)
    x = mge.random.normal(size=100_000, device=device).numpy()
    assert abs(x.mean()) < 0.02 and abs(x.std() - 1) < 0.02
    y = mge.random.normal(mean=3.0, std=0.5, size=100_000, device=device).numpy()
    assert abs(y.mean() - 3) < 0.02 and abs(y.std() - 0.5) < 0.02
    u = mge.random.uniform(size=100_000, device=device).numpy()
    assert abs(u.mean() - 0.5) < 0.02 and abs(u.var() - 1 / 12) < 0.02


# --------------------------------------------------------------------- save and load
def _checkpoint():
    return {
        "w": Tensor(np.random.randn(3, 4).astype("float32")),
        "idx": Tensor([3, 1, 2], dtype="int32"),
        "half": Tensor([0.5, 1.5], dtype="float16"),
        "param": mge.Parameter(np.ones(2, "float32")),
        "array": np.arange(6, dtype=np.int64).reshape(2, 3),
        "nested": [[1, 2.5, "x"], (Tensor([True, False]), {"k": np.float32(4.0)})],
        "epoch": 12,
        "name": "resnet",
    }


def _assert_same(loaded, saved):
    assert type(loaded) is type(saved)
    if isinstance(saved, Tensor):
        assert loaded.dtype == saved.dtype and loaded.shape == saved.shape
        assert loaded.device == "cpu0"
        np.testing.assert_array_equal(loaded.numpy(), saved.numpy())
    elif isinstance(saved, np.ndarray):
        assert loaded.dtype == saved.dtype
        np.testing.assert_array_equal(loaded, saved)
    elif isinstance(saved, dict):
        assert loaded.keys() == saved.keys()
        for k in saved:
            _assert_same(loaded[k], saved[k])
    elif isinstance(saved, (list, tuple)):
        assert len(loaded) == len(saved)
        for a, b in zip(loaded, saved):
            _assert_same(a, b)
    else:
        assert loaded == saved


@pytest.mark.parametrize("weights_only", [False, True])
def test_save_load_round_trip_path(tmp_path, weights_only):
    obj = _checkpoint()
    path = tmp_path / "ckpt.pkl"
    mge.save(obj, path)
    _assert_same(mge.load(path, weights_only=weights_only), obj)
    _assert_same(mge.load(str(path), weights_only=weights_only), obj)


@pytest.mark.parametrize("weights_only", [False, True])
def test_save_load_round_trip_file_object(weights_only):
    obj = _checkpoint()
    buf = io.BytesIO()
    mge.save(obj, buf)
    buf.seek(0)
    _assert_same(mge.load(buf, weights_only=weights_only), obj)


def test_load_map_location(tmp_path):
    path = tmp_path / "ckpt.pkl"
    mge.save({"w": Tensor([1.0, 2.0])}, path)
    w = mge.load(path, map_location="cpu0")["w"]
    assert w.device == "cpu0"
    np.testing.assert_array_equal(w.numpy(), [1, 2])
    seen = []

    def relocate(dev):
        seen.append(str(dev))
        return "cpu0"

    w = mge.load(path, map_location=relocate)["w"]
    assert seen == ["cpu0"]
    assert w.device == "cpu0"
    np.testing.assert_array_equal(w.numpy(), [1, 2])


@pytest.mark.cuda
def test_load_map_location_to_gpu(tmp_path):
    path = tmp_path / "ckpt.pkl"
    mge.save({"w": Tensor([1.0, 2.0])}, path)
    w = mge.load(path, map_location="gpu0")["w"]
    assert w.device == "gpu0"
    np.testing.assert_array_equal(w.numpy(), [1, 2])


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_save_is_atomic(tmp_path, monkeypatch, error):
    path = tmp_path / "ckpt.pkl"
    mge.save({"epoch": 1}, path)
    old = path.read_bytes()
    real_dump = pickle.dump

    def failing_dump(obj, f, *args, **kwargs):
        real_dump({"partial": 1}, f, *args, **kwargs)  # some bytes reach the file...
        raise error("interrupted mid-save")  # ...then the save dies

    monkeypatch.setattr(pickle, "dump", failing_dump)
    with pytest.raises(error, match="mid-save"):
        mge.save({"epoch": 2, "w": Tensor([1.0])}, path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert mge.load(path) == {"epoch": 1}
    assert sorted(os.listdir(tmp_path)) == ["ckpt.pkl"]  # no temporary file left behind


class Arbitrary:
    """A class the loader must not instantiate under weights_only."""

    def __init__(self):
        self.value = 1


class RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_weights_only_refuses_arbitrary_classes(tmp_path):
    path = tmp_path / "evil.pkl"
    mge.save({"w": Tensor([1.0]), "obj": Arbitrary()}, path)
    with pytest.raises(pickle.UnpicklingError, match="Arbitrary"):
        mge.load(path, weights_only=True)
    assert isinstance(mge.load(path)["obj"], Arbitrary)  # the trusting default still loads it


def test_weights_only_refuses_code_execution(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    with open(path, "wb") as f:
        pickle.dump({"w": np.ones(2), "payload": RunsACommand(marker)}, f)
    with pytest.raises(pickle.UnpicklingError, match="system"):
        mge.load(path, weights_only=True)
    assert not marker.exists()


# ---------------------------------------------------------------------------- memory
@pytest.fixture
def quiet_gc():
    """Collect garbage now and keep the collector off, so that only this test's tensors
    change the live byte count."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_allocated_memory_counts_a_new_tensor_exactly(quiet_gc, device):
    start = mge.get_allocated_memory(device)
    x = Tensor(np.ones(1000, "float32"), device=device)
    assert mge.get_allocated_memory(device) == start + 4000
    y = F.zeros((1000,), device=device)
    assert mge.get_allocated_memory(device) == start + 8000
    del x
    assert mge.get_allocated_memory(device) == start + 4000
    del y
    assert mge.get_allocated_memory(device) == start


def test_default_device_memory_is_cpu0(quiet_gc):
    start = mge.get_allocated_memory()
    x = Tensor(np.ones(250, "float32"), device="cpu0")
    assert mge.get_allocated_memory() == start + 1000
    assert mge.get_allocated_memory("cpu0") == mge.get_allocated_memory()
    del x


def test_views_add_no_bytes(quiet_gc, device):
    x = Tensor(np.ones((10, 100), "float32"), device=device)
    base = mge.get_allocated_memory(device)
    views = [x.reshape(1000), x.reshape(-1, 10), x.detach(), x[2:5], x[::2, 10:],
             x[3], x[..., None], x.T]
    assert mge.get_allocated_memory(device) == base
    del x
    assert mge.get_allocated_memory(device) == base  # the views keep the storage alive
    fancy = views[0][[0, 1, 2]]  # advanced indexing copies: 3 new floats
    assert mge.get_allocated_memory(device) == base + 12
    del views, fancy
    assert mge.get_allocated_memory(device) == base - 4000


def test_max_allocated_memory_tracks_the_peak(quiet_gc, device):
    mge.reset_max_memory_stats(device)
    start = mge.get_allocated_memory(device)
    assert mge.get_max_allocated_memory(device) == start
    x = Tensor(np.ones(1000, "float32"), device=device)
    y = Tensor(np.ones(500, "float32"), device=device)
    del x, y
    assert mge.get_allocated_memory(device) == start
    assert mge.get_max_allocated_memory(device) == start + 6000
    z = Tensor(np.ones(100, "float32"), device=device)
    assert mge.get_max_allocated_memory(device) == start + 6000  # a smaller tensor: same peak
    mge.reset_max_memory_stats(device)
    assert mge.get_max_allocated_memory(device) == start + 400
    del z
    assert mge.get_max_allocated_memory(device) == start + 400


# --------------------------------------------------------------------------- devices
def test_default_device_and_cuda_query():
    # MegEngine's name for the default: "xpux" (the best device, the CPU on this machine)
    assert mge.get_default_device() == ("cpu0" if mge.is_cuda_available() else "xpux")
    assert isinstance(mge.is_cuda_available(), bool)
    assert Tensor([1.0]).device == "cpu0"


@pytest.mark.parametrize("name", ["tpu0", "gpu-1", "", "cpu0x", "cpu 0"])
def test_unknown_device_raises(name):
    with pytest.raises(ValueError, match="device"):
        Tensor([1.0], device=name)


def test_gpu_without_cuda_raises():
    if mge.is_cuda_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="gpu0"):
        Tensor([1.0], device="gpu0")


def test_save_gives_the_file_a_normal_mode(tmp_path):
    # mkstemp creates 0600 files; a checkpoint gets the mode open() would give (or keeps the
    # mode of the file it replaces)
    import os

    umask = os.umask(0o022)
    try:
        path = tmp_path / "ckpt.pkl"
        mge.save({"a": 1}, path)
        assert (path.stat().st_mode & 0o777) == 0o644
        os.chmod(path, 0o640)
        mge.save({"a": 2}, path)
        assert (path.stat().st_mode & 0o777) == 0o640
    finally:
        os.umask(umask)


def test_registry_refuses_a_second_op_of_the_same_name():
    from engine.ops import REGISTRY
    from engine.ops.core import Op

    assert "Exp" in REGISTRY
    with pytest.raises(TypeError, match="op Exp .*already declared in engine.ops.elemwise"):
        class Exp(Op):  # noqa: F811 - the clash is the point
            @staticmethod
            def forward(xp, x):
                return x
    assert REGISTRY["Exp"].__module__ == "engine.ops.elemwise"
