"""The op dispatch hot path (engine/ops/core.py): the positional entries apply1/apply2 that the
operators and unary functions take give what cls.apply gives (values, dtypes, graph, errors),
and every apply hook (DTR, the profiler, autocast) still sees the ops that go through them."""
import numpy as np
import pytest

import engine as mge
import engine.functional as F
from engine import amp
from engine.allocator import get_allocated_memory
from engine.autodiff import GradManager
from engine.ops import core
from engine.ops import elemwise as E
from engine.ops import nn as N
from engine.ops import shape as S
from engine.utils.profiler import Profiler

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4)).astype("float32")
B = rng.standard_normal((3, 4)).astype("float32")


def _pair():
    return mge.tensor(A), mge.tensor(B)


@pytest.mark.parametrize("op", [E.Add, E.Sub, E.Mul, E.Maximum])
def test_apply2_is_apply(op):
    a, b = _pair()
    fast, plain = core.apply2(op, a, b), op.apply(a, b)
    assert type(fast) is mge.Tensor and fast.dtype == plain.dtype == np.float32
    assert fast.device == plain.device and fast._node is None and fast.name == ""
    np.testing.assert_array_equal(fast.numpy(), plain.numpy())


@pytest.mark.parametrize("op", [N.Relu, E.Exp, E.Neg, E.Abs])
def test_apply1_is_apply(op):
    x = mge.tensor(A)
    np.testing.assert_array_equal(core.apply1(op, x).numpy(), op.apply(x).numpy())


def test_operators_record_the_same_graph_as_apply():
    """Gradients through the fast entries (operators, F.relu, F.exp) equal the float64
    reference: the Node they record holds both inputs and the saved output."""
    a, b = _pair()
    gm = GradManager().attach([a, b])
    with gm:
        y = F.exp(F.relu(a * b) - b) + a
        gm.backward(y.sum())
    a64, b64 = A.astype(np.float64), B.astype(np.float64)
    e = np.exp(np.maximum(a64 * b64, 0) - b64)
    relu_grad = (a64 * b64 > 0).astype(np.float64)
    np.testing.assert_allclose(a.grad.numpy(), e * relu_grad * b64 + 1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), e * (relu_grad * a64 - 1), rtol=1e-5, atol=1e-6)


def test_three_input_node_edges():
    a, b = _pair()
    c = mge.tensor(A)
    gm = GradManager().attach([a, b, c])
    with gm:
        y = F.concat([a, b, c], axis=0)
        gm.backward((y * y).sum())
    for t, ref in ((a, A), (b, B), (c, A)):
        np.testing.assert_allclose(t.grad.numpy(), 2 * ref, rtol=1e-6)


def test_fast_entry_errors_name_the_op_and_shapes():
    a = mge.tensor(np.ones(3, "float32"))
    b = mge.tensor(np.ones(4, "float32"))
    with pytest.raises(ValueError, match=r"Add: .*inputs \(3,\):float32, \(4,\):float32"):
        core.apply2(E.Add, a, b)
    with pytest.raises(ValueError, match=r"Add: .*inputs \(3,\):float32, \(4,\):float32"):
        _ = a + b


def test_apply_errors_with_attrs_and_many_inputs():
    x = mge.tensor(np.ones(6, "float32"))
    with pytest.raises(ValueError, match=r"Reshape: .*inputs \(6,\):float32; attrs \{'shape'"):
        S.Reshape.apply(x, shape=(4,))
    y = mge.tensor(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"Concat: .*\(6,\):float32, \(6,\):float32, "
                                         r"\(2, 3\):float32; attrs \{'axis': 0\}"):
        S.Concat.apply(x, x, y, axis=0)


def test_profiler_sees_operator_and_unary_ops(tmp_path):
    before = core.apply_hooks
    a, b = _pair()
    with Profiler(str(tmp_path)) as prof:
        assert core.apply_hooks == before + 1
        F.relu(a + b)
    assert core.apply_hooks == before
    import json

    with open(prof.path) as f:
        ops = [e["name"] for e in json.load(f)["traceEvents"] if e.get("cat") == "op"]
    assert ops == ["Add", "Relu"]


def test_dtr_records_the_producer_of_operator_results():
    from engine.dtr import storage

    before = core.apply_hooks
    a, b = _pair()
    with mge.dtr(eviction_threshold="1GB"):
        assert core.apply_hooks == before + 1
        y = a * b
        assert type(y._storage) is storage.DTRStorage and y._storage.rec.op is E.Mul
        z = F.relu(y)
        assert z._storage.rec.op is N.Relu
    assert core.apply_hooks == before
    np.testing.assert_array_equal(z.numpy(), np.maximum(A * B, 0))


def test_autocast_casts_the_unary_functions():
    x = mge.tensor(A, dtype="float16")
    before = core.apply_hooks
    with amp.autocast():
        assert core.apply_hooks == before + 1
        y = F.exp(x)   # Exp is on the high-precision list: computed in float32
    assert core.apply_hooks == before
    assert y.dtype == np.float32 and F.exp(x).dtype == np.float16


def test_promotion_and_scalars_still_go_through_operands():
    i = mge.tensor(np.arange(4, dtype="int32"))
    f = mge.tensor(np.ones(4, "float32"))
    assert (i + f).dtype == np.float32 and (f + i).dtype == np.float32
    assert (i * 2).dtype == np.int32 and (i * 2.5).dtype == np.float32
    p = mge.Parameter(np.ones(4, "float32"))
    assert type(p + f) is mge.Tensor and type(f - p) is mge.Tensor


def test_views_share_the_base_and_count_no_bytes():
    x = mge.tensor(np.zeros((64, 64), "float32"))
    live = get_allocated_memory()
    v = x.reshape(-1)
    w = x[1:].reshape(63, 8, 8)   # a view of a view: numpy points it at the same owner
    assert get_allocated_memory() == live
    assert v.value_id() == x.value_id() == w.value_id()
    c = x.T.reshape(-1)           # not expressible as a view: a copy with its own bytes
    assert c.value_id() != x.value_id() and get_allocated_memory() == live + 64 * 64 * 4


@pytest.mark.parametrize("shape, error", [
    ((-1, -1), "invalid target shape"), ((-2, 8), "invalid target shape"),
    ((0, -1), "cannot reshape"), ((5, -1), "cannot reshape"), ((7,), "cannot reshape"),
])
def test_reshape_errors(shape, error):
    with pytest.raises(ValueError, match=error):
        F.reshape(mge.tensor(np.zeros(6, "float32")), shape)


def test_reshape_infers_minus_one():
    x = mge.tensor(np.arange(6, dtype="float32"))
    assert x.reshape(2, -1).shape == (2, 3) and x.reshape(-1).shape == (6,)
    assert x.reshape((3.0, 2)).shape == (3, 2)  # numbers convert with int(), as before
    assert mge.tensor(np.zeros((0, 3), "float32")).reshape(-1, 3).shape == (0, 3)


def test_only_known_ops_override_apply():
    """apply1/apply2 run Op.apply's plain path without looking up cls.apply (only the counted
    hooks send them there). An op class with its own `apply` is not reached through them;
    a new one must check its callers do not use the positional entries, then join this list."""
    from engine.ops import REGISTRY

    own = {name for name, cls in REGISTRY.items() if "apply" in cls.__dict__}
    assert own == {"Copy"}


def test_attribute_less_nodes_share_a_read_only_attrs():
    a, b = _pair()
    gm = GradManager().attach([a])
    with gm:
        y = a + b
        with pytest.raises(TypeError):
            y._node.attrs["k"] = 1
        gm.backward(y.sum())
    np.testing.assert_array_equal(a.grad.numpy(), np.ones_like(A))


# ----------------------------------------------------- the C entry (csrc/bind/op_apply.cpp)
# engine._C.op_apply is Op.apply and op_call is apply1/apply2 where _C has them; these tests
# hold them to core._apply_py, the Python reference they are written from.
native_entry = pytest.mark.skipif(not hasattr(core._C, "op_apply"),
                                  reason="engine._C without op_apply")


@native_entry
def test_the_entries_are_native():
    assert core.Op.__dict__["apply"].__func__ is core._C.op_apply
    assert core.apply1 is core.apply2 is core._C.op_call


class _Twice(core.Op):
    """y = 2 x with attrs; keeps its last result so a test can watch its references."""
    last = None

    def forward(xp, x, scale=2.0, fail=False):
        if fail:
            raise ValueError("told to fail")
        out = x * scale
        _Twice.last = out
        return out

    def backward(ctx, dy):
        return dy * ctx.attrs["scale"]


def _node_summary(t):
    n = t._node
    if n is None:
        return None
    return (n.op, dict(n.attrs), [(s.array.tolist(), i) for s, _, i in n.edges],
            None if n.saved is None else [s.array.tolist() for s in n.saved], n.n_outputs)


def _summary(t):
    s = t._storage
    return (type(t), t.numpy().tolist(), t.dtype, s.device, type(s), s.nbytes,
            s.base is not None, t._idx, t.grad, t.name, _node_summary(t))


CALLS = {
    "plain": lambda x, y: E.Add.apply(x, y),
    "attrs": lambda x, y: _Twice.apply(x, scale=3.0),
    "view": lambda x, y: S.Reshape.apply(x, shape=(4, 3)),
    "view of view": lambda x, y: S.Reshape.apply(x[1:], shape=(8,)),
    "copying reshape": lambda x, y: S.Reshape.apply(x.T, shape=(12,)),
    "saved output": lambda x, y: E.Exp.apply(x),
    "two outputs": lambda x, y: core.REGISTRY["TopK"].apply(x, k=2, descending=True, kth_only=False,
                                                           no_sort=False),
    "scalar result": lambda x, y: core.REGISTRY["Sum"].apply(x, axis=None, keepdims=False),
    "nine inputs": lambda x, y: S.Concat.apply(*([x] * 9), axis=0),
    "parameter input": lambda x, y: E.Mul.apply(mge.Parameter(A), y),
}


@native_entry
@pytest.mark.parametrize("recording", [False, True], ids=["eager", "recording"])
@pytest.mark.parametrize("call", list(CALLS))
def test_native_entry_equals_the_python_reference(call, recording, monkeypatch):
    def run():
        a, b = _pair()
        gm = GradManager().attach([a])
        if recording:
            gm.__enter__()
        try:
            out = CALLS[call](a, b)
        finally:
            if recording:
                gm.release()
        return [_summary(t) for t in (out if isinstance(out, tuple) else (out,))]

    native = run()
    monkeypatch.setattr(core.Op, "apply", classmethod(core._apply_py))
    assert run() == native


@native_entry
def test_native_entry_errors_are_the_python_ones(monkeypatch):
    x = mge.tensor(A)
    other = mge.tensor(A, device="cpu1")
    cases = [lambda: _Twice.apply(x, fail=True), lambda: E.Add.apply(x, other),
             lambda: E.Add.apply(x, 1.0), lambda: _Twice.apply(x, bad_attr=1)]
    native = []
    for case in cases:
        with pytest.raises(Exception) as e:
            case()
        native.append((type(e.value), str(e.value)))
    monkeypatch.setattr(core.Op, "apply", classmethod(core._apply_py))
    for case, (kind, msg) in zip(cases, native):
        with pytest.raises(kind) as e:
            case()
        assert str(e.value) == msg
    assert "_Twice: told to fail" in native[0][1]
    assert "different devices (cpu0, cpu1)" in native[1][1]


@native_entry
@pytest.mark.parametrize("path", ["plain", "view", "recording", "error", "mismatch",
                                  "fallback", "positional"])
def test_native_entry_keeps_no_references(path):
    """No reference leaks on any path: the inputs' arrays and the op's result are released,
    and the live bytes return to where they were."""
    import gc
    import sys

    x, y = mge.tensor(A), mge.tensor(B)
    other = mge.tensor(B, device="cpu1")
    gm = GradManager().attach([x])

    def once():
        if path == "plain":
            return _Twice.apply(x, scale=1.5)
        if path == "view":
            return S.Reshape.apply(x, shape=(12,))
        if path == "recording":
            with gm:
                out = _Twice.apply(x, scale=1.5)
                gm.backward(out.sum())
            x.grad = None
            return out
        if path == "fallback":
            return S.Concat.apply(*([x] * 9), axis=0)
        if path == "positional":
            return core.apply2(E.Add, x, y)
        try:
            if path == "error":
                _Twice.apply(x, fail=True)
            else:
                E.Add.apply(x, other)
        except ValueError:
            return None
        raise AssertionError("no error")

    once()
    gc.collect()
    arrays = (x._storage.array, y._storage.array)
    refs = [sys.getrefcount(a) for a in arrays]
    live = get_allocated_memory()
    for _ in range(200):
        once()
    _Twice.last = None
    gc.collect()
    assert [sys.getrefcount(a) for a in arrays] == refs
    assert get_allocated_memory() == live
    if path == "plain":
        out = once()
        import weakref

        result = weakref.ref(_Twice.last)
        _Twice.last = None
        del out
        assert result() is None  # the forward's array died with its Tensor


@native_entry
def test_native_entry_follows_swapped_storage_and_hooks():
    """DTR swaps core.Storage and Op.apply; disabling puts the C entry back."""
    from engine.dtr import storage

    a, b = _pair()
    with mge.dtr(eviction_threshold="1GB"):
        assert type((a + b)._storage) is storage.DTRStorage
        assert type(S.Reshape.apply(a, shape=(12,))._storage) is storage.DTRStorage
    assert core.Op.__dict__["apply"].__func__ is core._C.op_apply
    assert type((a + b)._storage) is core.Storage


def test_unpickled_arrays_take_the_fast_paths(monkeypatch):
    """An unpickled array (a loaded checkpoint, a DataLoader worker's batch) has an equal but
    distinct dtype object; a Tensor made of it holds engine's shared float32, so `is float32`
    tests on the hot path (engine's GEMM, the native kernels) still see float32."""
    import pickle

    from engine.ops import math as OM

    a = pickle.loads(pickle.dumps(A))
    assert a.dtype == np.float32 and a.dtype is not np.dtype(np.float32)
    for t in (mge.tensor(a), mge.Parameter(a), mge.tensor(a, dtype="float32")):
        assert t._storage.array.dtype is np.dtype(np.float32)
    calls = []
    real = OM._C

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def gemm(self, *args, **kw):
            calls.append(args[0].shape)
            return real.gemm(*args, **kw)

    monkeypatch.setattr(OM, "_C", Spy())
    F.matmul(mge.tensor(a), mge.tensor(pickle.loads(pickle.dumps(B.T))))
    assert calls == [(3, 4)]
