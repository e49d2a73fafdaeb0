"""MegEngine's internal import paths (engine.core.*): op descriptors run by core2.apply, the
low-level Grad, RNG handles, subgraph_fn, options, CudaTransform; each checked against numpy
or engine's public API."""
import subprocess
import sys

import numpy as np
import pytest

import engine as mge
import engine.functional as F
from engine.autodiff import GradManager
from engine.core import get_option, set_option
from engine.core._imperative_rt import CompNode, Logger
from engine.core._imperative_rt.core2 import (
    TensorWeakRef,
    _get_frame_cache_id,
    _mge_backtrace,
    apply,
)
from engine.core._imperative_rt.ops import delete_rng_handle, get_global_rng_seed, new_rng_handle
from engine.core.autodiff.grad import Grad
from engine.core.ops import builtin
from engine.core.tensor.utils import subgraph_fn

ELEMWISE_CASES = [
    ("ADD", 2, np.add), ("MUL", 2, np.multiply), ("COS", 1, np.cos), ("RELU", 1,
                                                                      lambda x: np.maximum(x, 0)),
    ("FUSE_MUL_ADD3", 3, lambda a, b, c: a * b + c),
    ("FUSE_ADD_RELU", 2, lambda a, b: np.maximum(a + b, 0)),
    ("SWITCH_GT0", 2, lambda x, dy: np.where(x > 0, dy, 0)),
    ("ABS_GRAD", 2, lambda x, dy: np.where(x > 0, dy, -dy)),
    ("COND_LEQ_MOV", 3, lambda a, b, c: np.where(a <= b, c, 0)),
    ("LOG_SUM_EXP", 2, np.logaddexp), ("TANH_GRAD", 2, lambda y, dy: (1 - y * y) * dy),
]


@pytest.mark.parametrize("mode,n,ref", ELEMWISE_CASES)
def test_elemwise_modes(mode, n, ref):
    rng = np.random.RandomState(0)
    xs = [rng.randn(3, 4).astype("float32") for _ in range(n)]
    (y,) = apply(builtin.Elemwise(mode=mode.lower()), *map(mge.tensor, xs))
    np.testing.assert_allclose(y.numpy(), ref(*xs), rtol=1e-5, atol=1e-6)


def test_elemwise_mode_enum_and_equality():
    E = builtin.Elemwise
    assert E.Mode.ADD == "ADD" and isinstance(E.Mode.ADD, E.Mode)
    assert E(mode="add") == E(E.Mode.ADD) and hash(E("add")) == hash(E("ADD"))
    assert E("add") != E("mul")
    assert builtin.NMSKeep(0.7, 100) == builtin.NMSKeep(0.7, 100) != builtin.NMSKeep(0.8, 100)
    with pytest.raises(ValueError):
        E(mode="no_such_mode")


def test_reduce_and_shape_ops():
    x = np.random.rand(2, 3, 4).astype("float32")
    (s,) = apply(builtin.Reduce(mode="sum", axis=1), mge.tensor(x))
    np.testing.assert_allclose(s.numpy(), x.sum(1, keepdims=True), rtol=1e-6)
    (m,) = apply(builtin.Reduce(mode="max", axis=-1, keepdim=False), mge.tensor(x))
    np.testing.assert_allclose(m.numpy(), x.max(-1))
    (t,) = apply(builtin.Dimshuffle(pattern=[2, -1, 0, 1]), mge.tensor(x))
    np.testing.assert_equal(t.numpy(), x.transpose(2, 0, 1)[:, None])
    (b,) = apply(builtin.Broadcast(), mge.tensor(x[:1]), mge.tensor([5, 3, 4]))
    np.testing.assert_equal(b.numpy(), np.broadcast_to(x[:1], (5, 3, 4)))
    (shape,) = apply(builtin.GetVarShape(), mge.tensor(x))
    assert shape.numpy().tolist() == [2, 3, 4]
    v, i = apply(builtin.CondTake(), mge.tensor(x), mge.tensor(x > 0.5))
    np.testing.assert_equal(v.numpy(), x[x > 0.5])
    np.testing.assert_equal(i.numpy(), np.nonzero((x > 0.5).ravel())[0])


def _items(*specs):
    return [tuple(s) for s in specs]


def test_subtensor_family():
    x = np.arange(25).reshape(5, 5).astype("int32")
    d = np.arange(2).astype("int32")
    # x[0:4:2, 3]: axis 0 has begin, end, step; axis 1 has an index
    items = _items((0, True, True, True, False), (1, False, False, False, True))
    idx = [mge.tensor(0), mge.tensor(4), mge.tensor(2), mge.tensor(3)]
    (y,) = apply(builtin.Subtensor(items), mge.tensor(x), *idx)
    np.testing.assert_equal(y.numpy(), x[0:4:2, 3])
    (y,) = apply(builtin.SetSubtensor(items), mge.tensor(x), mge.tensor(d), *idx)
    ref = x.copy()
    ref[0:4:2, 3] = d
    np.testing.assert_equal(y.numpy(), ref)
    (y,) = apply(builtin.IncrSubtensor(items), mge.tensor(x), mge.tensor(d), *idx)
    ref = x.copy()
    ref[0:4:2, 3] += d
    np.testing.assert_equal(y.numpy(), ref)


def test_mesh_and_batched_mesh_indexing():
    x = np.arange(24).reshape(2, 3, 4).astype("int32")
    rows, cols = np.array([0, 2]), np.array([[0, 1, 2], [1, 2, 3]])
    items = _items((1, False, False, False, True), (2, False, False, False, True))
    ins = [mge.tensor(np.stack([rows, rows])), mge.tensor(cols)]
    (y,) = apply(builtin.BatchedMeshIndexing(items), mge.tensor(x), *ins)
    ref = np.stack([x[b][np.ix_(rows, cols[b])] for b in range(2)])
    np.testing.assert_equal(y.numpy(), ref)
    (y,) = apply(builtin.MeshIndexing(items[:1]), mge.tensor(x), mge.tensor(rows))
    np.testing.assert_equal(y.numpy(), x[:, rows])
    d = np.full((2, 2, 3), -1, "int32")
    (y,) = apply(builtin.BatchedSetMeshIndexing(items), mge.tensor(x), mge.tensor(d), *ins)
    ref = x.copy()
    for b in range(2):
        ref[b][np.ix_(rows, cols[b])] = -1
    np.testing.assert_equal(y.numpy(), ref)


def test_indexing_set_one_hot_and_gradient():
    src = mge.tensor(np.zeros((3, 4), "float32"))
    index = mge.tensor([1, 2, 3])
    value = mge.tensor(np.ones((3, 1), "float32"))
    gm = GradManager().attach([src, value])
    with gm:
        (y,) = apply(builtin.IndexingSetOneHot(axis=1, ndim=1), src, index, value)
        gm.backward(y.sum())
    ref = np.zeros((3, 4), "float32")
    ref[[0, 1, 2], [1, 2, 3]] = 1
    np.testing.assert_equal(y.numpy(), ref)
    np.testing.assert_equal(src.grad.numpy(), 1 - ref)
    np.testing.assert_equal(value.grad.numpy(), np.ones((3, 1)))


def test_lamb_update_matches_formula():
    rng = np.random.RandomState(1)
    m, v, p, g = (rng.rand(4, 4).astype("float32") for _ in range(4))
    op = builtin.LAMBUpdate(0.9, 0.999, 1, 1e-3, 0.4, 1e-8, True, False)
    nm, nv, npar = apply(op, *map(mge.tensor, (m, v, p, g)))
    rm = 0.9 * m + 0.1 * g
    rv = 0.999 * v + 0.001 * g * g
    delta = (rm / 0.1) / (np.sqrt(rv / 0.001) + 1e-8) + 0.4 * p
    ref = p - 1e-3 * np.linalg.norm(p) / np.linalg.norm(delta) * delta
    np.testing.assert_allclose(nm.numpy(), rm, rtol=1e-6)
    np.testing.assert_allclose(nv.numpy(), rv, rtol=1e-6)
    np.testing.assert_allclose(npar.numpy(), ref, rtol=1e-5)


def test_grad_callbacks_and_second_order():
    x_np = np.random.rand(10).astype("float32")
    x = mge.tensor(x_np)
    got = {}
    with Grad("outer") as outer:
        with Grad("inner") as inner:
            outer.wrt(x, callback=lambda g: got.__setitem__("d2", g))
            inner.wrt(x, callback=lambda g: got.__setitem__("d1", g))
            (y,) = apply(builtin.Elemwise(mode="cos"), x)
            inner(y, F.ones_like(y))
        outer(got["d1"], F.ones_like(y))
    assert x.grad is None  # Grad hands gradients to callbacks only
    np.testing.assert_allclose(got["d1"].numpy(), -np.sin(x_np), rtol=1e-5)
    np.testing.assert_allclose(got["d2"].numpy(), -np.cos(x_np), rtol=1e-5)


def test_grad_broadcasts_output_gradient():
    x = mge.tensor([1.0, -1.0])
    got = []
    with Grad() as grad:
        grad.wrt(x, callback=got.append)
        (y,) = apply(builtin.Elemwise(mode="relu"), x * 2)
        grad(y, mge.tensor([1.0]))
    np.testing.assert_equal(got[0].numpy(), [2.0, 0.0])


def test_tensor_weak_ref():
    t = mge.tensor([1.0])
    ref = TensorWeakRef(t)
    assert ref() is t
    del t
    assert ref() is None


def test_rng_ops_and_handles():
    mge.random.seed(7)
    assert get_global_rng_seed() == 7
    shape = mge.tensor([2000], dtype="int32")
    (a,) = apply(builtin.GaussianRNG(seed=7, mean=3.0, std=0.5), shape)
    assert a.shape == (2000,) and abs(a.numpy().mean() - 3.0) < 0.05
    h = new_rng_handle(CompNode("cpu0"), 123)
    (u1,) = apply(builtin.UniformRNG(seed=123, handle=h), shape)
    delete_rng_handle(h)
    h = new_rng_handle(CompNode("cpu0"), 123)
    (u2,) = apply(builtin.UniformRNG(seed=123, handle=h), shape)
    delete_rng_handle(h)
    np.testing.assert_equal(u1.numpy(), u2.numpy())  # one seed, one stream
    assert 0 <= u1.numpy().min() and u1.numpy().max() < 1
    (p,) = apply(builtin.PermutationRNG(seed=1), mge.tensor([50]))
    assert sorted(p.numpy().tolist()) == list(range(50))
    with pytest.raises(ValueError):
        delete_rng_handle(h)


def test_subgraph_fn_custom_grad():
    @subgraph_fn("Softplus", dtype="float32", device=None, nr_inputs=1, custom_grad=True)
    def softplus(inputs, f, c):
        (x,) = inputs
        y = f("log1p", f("exp", x))
        (dy,) = yield (y,)
        yield (f("/", f("*", dy, f("exp", x)), f("+", f("exp", x), c(1))),)

    x_np = np.linspace(-2, 2, 5).astype("float32")
    x = mge.Parameter(x_np)
    gm = GradManager().attach(x)
    with gm:
        (y,) = softplus(x)
        gm.backward(y.sum())
    np.testing.assert_allclose(y.numpy(), np.log1p(np.exp(x_np)), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 1 / (1 + np.exp(-x_np)), rtol=1e-6)


def test_options_logger_backtrace():
    set_option("enable_drop", 1)
    assert get_option("enable_drop") == 1
    set_option("enable_drop", 0)
    set_option("async_level", 1)
    assert mge.config.async_level == 1 and get_option("async_level") == 1
    set_option("async_level", 2)
    with pytest.raises(KeyError):
        set_option("no_such_option", 1)
    old = Logger().set_log_level(Logger.LogLevel.Error)
    assert Logger().set_log_level(old) == Logger.LogLevel.Error
    last = _mge_backtrace().split("\n")[-2]
    assert "test_options_logger_backtrace" in last and __file__ in last
    assert _get_frame_cache_id() == _get_frame_cache_id()


def test_cuda_transform_runs_on_collated_batches():
    from engine.data import ArrayDataset, DataLoader, SequentialSampler
    from engine.data.transform import CudaTransform

    seen = []

    class Scale(CudaTransform):
        def apply(self, batch):
            seen.append(batch[0].shape)
            return tuple(b * 10 for b in batch)

    ds = ArrayDataset(np.arange(6.0).reshape(6, 1))
    loader = DataLoader(ds, SequentialSampler(ds, batch_size=3), transform=Scale())
    batches = [b[0] for b in loader]
    assert seen == [(3, 1), (3, 1)] and len(loader) == 2
    np.testing.assert_equal(np.concatenate(batches), np.arange(6.0).reshape(6, 1) * 10)


def test_core_import_does_not_load_ml_dtypes():
    code = ("import sys, engine, engine.core.tensor.dtype, engine.core.ops.builtin; "
            "assert 'ml_dtypes' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_persistent_cache_file_roundtrip(monkeypatch, tmp_path):
    from engine.utils.persistent_cache import PersistentCacheOnServer

    monkeypatch.setenv("MGE_FASTRUN_CACHE_TYPE", "FILE")
    monkeypatch.setenv("MGE_FASTRUN_CACHE_DIR", str(tmp_path))
    pc = PersistentCacheOnServer()
    assert pc.config is None
    pc.put("algo", "conv", "winograd")
    assert pc.config.type == "in-file" and pc.get("algo", "conv") == b"winograd"
    del pc  # written back on deletion
    assert PersistentCacheOnServer().get("algo", "conv") == b"winograd"
    assert PersistentCacheOnServer().get("algo", "other") is None


def test_exponential_distribution():
    from engine.distributions import Exponential

    mge.random.seed(3)
    m = Exponential(np.array([0.5, 2.0], dtype="float32"))
    s = m.sample((50000,))
    assert s.shape == (50000, 2) and Exponential(0.2).sample().shape == ()
    np.testing.assert_allclose(s.numpy().mean(0), [2.0, 0.5], rtol=0.05)
    np.testing.assert_allclose(m.variance.numpy(), [4.0, 0.25])
    np.testing.assert_allclose(m.log_prob(mge.tensor([1.0, 1.0])).numpy(),
                               np.log([0.5, 2.0]) - [0.5, 2.0], rtol=1e-6)


def test_operator_node_config_has_one_comp_node_or_says_so():
    from engine.core._imperative_rt import OperatorNodeConfig

    cf = OperatorNodeConfig(name="op", comp_node="xpux")
    assert cf.comp_node == "xpux" and cf.comp_node_arr == ["xpux"]
    cf.comp_node_arr = ["xpux", "xpux:1"]
    with pytest.raises(ValueError, match="comp_node_arr"):
        _ = cf.comp_node


def test_subtensor_bounds_may_be_one_element_tensors():
    import engine as mge
    from engine.core._imperative_rt.core2 import apply
    from engine.core.ops.builtin import Subtensor

    x = mge.tensor(np.arange(20).reshape(4, 5))
    # axis 0 sliced [b:e:s] with bounds as (1,) tensors (MegEngine's shape for them)
    (y,) = apply(Subtensor([[0, True, True, True, False]]), x, mge.tensor([1]),
                 mge.tensor([4]), mge.tensor([2]))
    np.testing.assert_array_equal(y.numpy(), x.numpy()[1:4:2])
    with pytest.raises(ValueError, match="one integer"):
        apply(Subtensor([[0, True, False, False, False]]), x, mge.tensor([1, 2]))
