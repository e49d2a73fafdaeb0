"""Tensor against numpy: construction and dtype rules, attributes, methods, operators,
indexing and error messages."""
import operator

import numpy as np
import pytest

import engine as mge
import engine.functional as F
from engine.autodiff import GradManager

Tensor = mge.Tensor


def arange(*shape, dtype="float32"):
    return np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


# ------------------------------------------------------------------------ construction
@pytest.mark.parametrize("data, dtype", [
    (np.zeros(3, np.float64), "float32"),
    (np.zeros(3, np.int64), "int32"),
    (np.zeros(3, np.float16), "float16"),
    (np.zeros(3, np.uint8), "uint8"),
    (1.5, "float32"),
    ([1.5, 2.0], "float32"),
    (3, "int32"),
    ([1, 2, 3], "int32"),
    (True, "bool"),
    ([True, False], "bool"),
    (np.array([True, False]), "bool"),
])
def test_default_dtype(data, dtype, device):
    t = Tensor(data, device=device)
    assert t.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(t.numpy(), np.asarray(data).astype(dtype))


def test_explicit_dtype(device):
    t = Tensor([1.7, -2.2], dtype="int32", device=device)
    assert t.dtype == np.int32
    np.testing.assert_array_equal(t.numpy(), [1, -2])
    t = Tensor([1, 2], dtype=np.float16, device=device)
    assert t.dtype == np.float16
    np.testing.assert_array_equal(t.numpy(), [1, 2])


def test_tensor_does_not_alias_numpy_input():
    a = np.arange(4, dtype="float32")
    t = Tensor(a)
    a[0] = 100
    assert t.numpy()[0] == 0


def test_parameter_is_a_tensor():
    p = mge.Parameter([1.0, 2.0])
    assert isinstance(p, Tensor)
    assert isinstance(p * 2, Tensor)
    np.testing.assert_array_equal((p * 2).numpy(), [2, 4])


def test_attributes(device):
    a = arange(2, 3, 4)
    t = Tensor(a, device=device)
    assert type(t.shape) is tuple and t.shape == (2, 3, 4)
    assert t.ndim == 3 and t.size == 24 and t.dtype == np.float32
    assert t.device == device and str(t.device) == device
    assert t.device != ("gpu0" if device == "cpu0" else "cpu0")
    np.testing.assert_array_equal(t.T.numpy(), a.T)
    assert Tensor(2.0).shape == ()


def test_numpy_returns_a_copy(device):
    t = Tensor([1.0, 2.0, 3.0], device=device)
    a = t.numpy()
    assert isinstance(a, np.ndarray)
    a[0] = 100
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])


def test_item_and_tolist(device):
    assert Tensor([[2.5]], device=device).item() == 2.5
    assert isinstance(Tensor(3, device=device).item(), int)
    assert Tensor([[1, 2], [3, 4]], device=device).tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError):
        Tensor([1.0, 2.0], device=device).item()


def test_astype(device):
    t = Tensor([1.7, -2.5, 0.0], device=device)
    for dt in ("int32", "float16", "bool", "uint8"):
        r = t.astype(dt)
        assert r.dtype == np.dtype(dt)
        np.testing.assert_array_equal(r.numpy(), np.array([1.7, -2.5, 0.0], "float32").astype(dt))
    assert t.dtype == np.float32


def test_detach_shares_values_and_has_no_graph(device):
    x = Tensor([1.0, 2.0], device=device)
    gm = GradManager().attach(x)
    with gm:
        y = x * 2
        d = y.detach()
        assert y._node is not None
        assert d._node is None
        z = d * 3
        assert z._node is None
    np.testing.assert_array_equal(d.numpy(), [2, 4])


def test_to_device(device):
    t = Tensor([1.0, 2.0], device=device)
    c = t.to("cpu0")
    assert c.device == "cpu0"
    np.testing.assert_array_equal(c.numpy(), [1, 2])


@pytest.mark.cuda
def test_to_gpu_and_back():
    t = Tensor([1.0, 2.0])
    g = t.to("gpu0")
    assert g.device == "gpu0"
    np.testing.assert_array_equal(g.to("cpu0").numpy(), [1, 2])


# -------------------------------------------------------------------------- shape ops
def test_reshape_forms(device):
    a = arange(2, 3, 4)
    t = Tensor(a, device=device)
    np.testing.assert_array_equal(t.reshape(-1).numpy(), a.reshape(-1))
    np.testing.assert_array_equal(t.reshape((4, 6)).numpy(), a.reshape(4, 6))
    np.testing.assert_array_equal(t.reshape([6, -1]).numpy(), a.reshape(6, -1))
    np.testing.assert_array_equal(t.reshape(3, 2, 4).numpy(), a.reshape(3, 2, 4))
    np.testing.assert_array_equal(t.reshape(-1, 12).numpy(), a.reshape(-1, 12))


def test_transpose_and_flatten(device):
    a = arange(2, 3, 4)
    t = Tensor(a, device=device)
    np.testing.assert_array_equal(t.transpose().numpy(), a.transpose())
    np.testing.assert_array_equal(t.transpose(1, 0, 2).numpy(), a.transpose(1, 0, 2))
    np.testing.assert_array_equal(t.transpose((2, 0, 1)).numpy(), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(t.flatten().numpy(), a.flatten())
    np.testing.assert_array_equal(t.flatten(1).numpy(), a.reshape(2, 12))
    np.testing.assert_array_equal(t.flatten(0, 1).numpy(), a.reshape(6, 4))


# ------------------------------------------------------------------------- reductions
REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var", "std"]
AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(name, axis, keepdims, device):
    a = np.random.uniform(0.5, 1.5, (2, 3, 4)).astype("float32")
    r = getattr(Tensor(a, device=device), name)(axis=axis, keepdims=keepdims)
    ref = getattr(a.astype("float64"), name)(axis=axis, keepdims=keepdims)  # var/std: ddof 0
    assert r.shape == ref.shape
    assert r.dtype == np.float32
    np.testing.assert_allclose(r.numpy(), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_arg_reductions_match_numpy(name, axis, keepdims, device):
    a = np.random.permutation(24).reshape(2, 3, 4).astype("float32")
    r = getattr(Tensor(a, device=device), name)(axis=axis, keepdims=keepdims)
    ref = getattr(np, name)(a, axis=axis, keepdims=keepdims)
    assert r.dtype == np.int32
    assert r.shape == ref.shape
    np.testing.assert_array_equal(r.numpy(), ref)


def test_integer_reductions(device):
    a = arange(3, 4, dtype="int32")
    t = Tensor(a, device=device)
    assert t.sum().dtype == np.int32 and t.sum().item() == a.sum()
    np.testing.assert_array_equal(t.max(axis=0).numpy(), a.max(axis=0))
    m = t.mean(axis=1)
    assert m.dtype == np.float32
    np.testing.assert_allclose(m.numpy(), a.mean(axis=1))


# ---------------------------------------------------------------------- dtype promotion
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "float16", "float32"]


def expected_promotion(a, b):
    """MegEngine/PyTorch-style category promotion: bool < integers < floats; within a
    category the wider type wins, and uint8 with int8 needs int16."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    if a.kind == "f" or b.kind == "f":
        floats = [d for d in (a, b) if d.kind == "f"]
        return max(floats, key=lambda d: d.itemsize)
    if a.kind == "b":
        return b
    if b.kind == "b":
        return a
    return np.promote_types(a, b)  # both integer (at most int32 here): numpy's rule


@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
def test_promotion_table_for_add(da, db, device):
    a = np.array([0, 1, 1, 0]).astype(da)
    b = np.array([1, 1, 0, 0]).astype(db)
    r = Tensor(a, device=device) + Tensor(b, device=device)
    want = expected_promotion(da, db)
    assert r.dtype == want, f"{da} + {db} gave {r.dtype}, expected {want}"
    np.testing.assert_array_equal(r.numpy(), a.astype(want) + b.astype(want))


def test_promotion_uint8_int8_keeps_both_ranges():
    r = Tensor(np.array([200], "uint8")) + Tensor(np.array([-100], "int8"))
    assert r.dtype == np.int16 and r.item() == 100


@pytest.mark.parametrize("fn, want, value", [
    (lambda: Tensor([1, 2], dtype="int32") + Tensor([0.5, 1.0]), "float32", [1.5, 3.0]),
    (lambda: Tensor([7, -7]) / Tensor([2, 2]), "float32", [3.5, -3.5]),
    (lambda: Tensor([7, 3]) / 2, "float32", [3.5, 1.5]),
    (lambda: Tensor([1, 2]) + 0.5, "float32", [1.5, 2.5]),
    (lambda: 0.5 * Tensor([1, 2]), "float32", [0.5, 1.0]),
    (lambda: Tensor([1, 2], dtype="float16") * 2.0, "float16", [2, 4]),
    (lambda: Tensor([1, 2], dtype="float16") + 1, "float16", [2, 3]),
    (lambda: Tensor([1, 2], dtype="int32") + 1, "int32", [2, 3]),
    (lambda: Tensor([1, 2], dtype="int8") * 3, "int8", [3, 6]),
    (lambda: Tensor([1, 2], dtype="uint8") + 1, "uint8", [2, 3]),
    (lambda: Tensor([True, False]) + 1, "int32", [2, 1]),
    (lambda: Tensor([1.0, 2.0]) + np.array([1, 1], np.int64), "float32", [2, 3]),
    (lambda: Tensor([1.0, 5.0]).argmax(), "int32", 1),
    (lambda: F.argsort(Tensor([3.0, 1.0, 2.0])), "int32", [1, 2, 0]),
    (lambda: Tensor([1.0, 2.0]) < 1.5, "bool", [True, False]),
    (lambda: Tensor([1, 2]) == Tensor([1, 3]), "bool", [True, False]),
    (lambda: Tensor([1, 2], dtype="int8") >= 2, "bool", [False, True]),
])
def test_megengine_promotion_rules(fn, want, value):
    r = fn()
    assert r.dtype == np.dtype(want)
    np.testing.assert_array_equal(r.numpy(), value)


# ---------------------------------------------------------------------------- operators
BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
          operator.mod, operator.pow, operator.eq, operator.ne, operator.lt, operator.le,
          operator.gt, operator.ge]


def _operands():
    a = np.array([[-3.5, -1.0, 0.25], [1.0, 2.0, 7.5]], "float32")
    b = np.array([[2.0, -3.0, 0.5], [1.0, 2.5, -2.0]], "float32")
    return a, b


def _np_op(op):
    """numpy's counterpart of a Tensor operator: MegEngine's float % is C's fmod."""
    return np.fmod if op is operator.mod else op


@pytest.mark.parametrize("op", BINARY, ids=lambda f: f.__name__)
def test_binary_operators(op, device):
    a, b = _operands()
    if op is operator.pow:
        a = np.abs(a)
    ta, tb = Tensor(a, device=device), Tensor(b, device=device)
    for lhs, rhs, na, nb in ((ta, tb, a, b), (ta, 2.0, a, np.float32(2.0)),
                             (ta, tb[0], a, b[0])):  # tensor, scalar, broadcast row
        r = op(lhs, rhs)
        ref = _np_op(op)(na, nb)
        assert isinstance(r, Tensor)
        assert r.dtype == ref.dtype
        np.testing.assert_allclose(r.numpy(), ref, rtol=1e-6)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                operator.floordiv, operator.mod, operator.pow],
                         ids=lambda f: f.__name__)
def test_reflected_operators(op, device):
    a = np.array([-2.5, 0.5, 1.0, 3.0], "float32")
    if op is operator.pow:
        a = np.abs(a)
    t = Tensor(a, device=device)
    r = op(2, t)
    assert isinstance(r, Tensor)
    np.testing.assert_allclose(r.numpy(), _np_op(op)(np.float32(2), a), rtol=1e-6)
    r = op(2.0, t)
    np.testing.assert_allclose(r.numpy(), _np_op(op)(np.float32(2.0), a), rtol=1e-6)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv],
                         ids=lambda f: f.__name__)
def test_numpy_array_with_tensor_gives_a_tensor(op, device):
    a, b = _operands()
    r = op(b.astype("float64"), Tensor(a, device=device))
    assert isinstance(r, Tensor), f"ndarray {op.__name__} Tensor gave {type(r).__name__}"
    assert r.dtype == np.float32
    np.testing.assert_allclose(r.numpy(), op(b, a), rtol=1e-6)


def test_matmul_operators(device):
    a, b = arange(2, 3), arange(3, 4)
    ta, tb = Tensor(a, device=device), Tensor(b, device=device)
    np.testing.assert_allclose((ta @ tb).numpy(), a @ b)
    r = a @ tb  # ndarray @ Tensor: Tensor.__rmatmul__
    assert isinstance(r, Tensor), f"ndarray @ Tensor gave {type(r).__name__}"
    np.testing.assert_allclose(r.numpy(), a @ b)
    v = np.array([1.0, -1.0, 2.0], "float32")
    np.testing.assert_allclose((ta @ Tensor(v, device=device)).numpy(), a @ v)
    bb = np.random.rand(5, 3, 4).astype("float32")
    np.testing.assert_allclose((ta @ Tensor(bb, device=device)).numpy(), a @ bb, rtol=1e-6)


def test_unary_operators(device):
    a, _ = _operands()
    t = Tensor(a, device=device)
    np.testing.assert_array_equal((-t).numpy(), -a)
    np.testing.assert_array_equal((+t).numpy(), a)
    np.testing.assert_array_equal(abs(t).numpy(), np.abs(a))
    m, n = np.array([True, True, False, False]), np.array([True, False, True, False])
    tm, tn = Tensor(m, device=device), Tensor(n, device=device)
    np.testing.assert_array_equal((~tm).numpy(), ~m)
    np.testing.assert_array_equal((tm & tn).numpy(), m & n)
    np.testing.assert_array_equal((tm | tn).numpy(), m | n)
    np.testing.assert_array_equal((tm ^ tn).numpy(), m ^ n)


@pytest.mark.parametrize("op, value", [
    (operator.iadd, 2.0), (operator.isub, 1.5), (operator.imul, -2.0), (operator.itruediv, 4.0),
    (operator.ifloordiv, 2.0), (operator.imod, 1.5), (operator.ipow, 2.0),
    (operator.iadd, "tensor"), (operator.imul, "tensor"), (operator.imatmul, "matrix"),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_inplace_operators_keep_identity(op, value, device):
    a = np.array([[-3.0, 1.0, 2.5], [0.5, 4.0, -1.5], [2.0, 2.0, 1.0]], "float32")
    if value == "tensor":
        nv = np.array([1.0, -2.0, 0.5], "float32")
        tv = Tensor(nv, device=device)
    elif value == "matrix":
        nv = arange(3, 3) - 4
        tv = Tensor(nv, device=device)
    else:
        nv = tv = value
    t = Tensor(a, device=device)
    before = id(t)
    t = op(t, tv)
    assert id(t) == before
    np.testing.assert_allclose(t.numpy(), op(a.copy(), np.float32(nv) if isinstance(nv, float)
                                             else nv), rtol=1e-6)


# ---------------------------------------------------------------------------- getitem
GETITEM_CASES = [
    1, -1, (1, 2), (-1, -2, -3), (0, 1, 2),
    slice(None, None, 2), slice(None, None, -1), slice(-2, None), slice(5, 0, -2),
    (slice(1, None), slice(None, None, -2)), (slice(None), slice(3, 0, -1), slice(None, None, 3)),
    None, (None, 1), (Ellipsis, 1), (1, Ellipsis), (Ellipsis, None), (0, Ellipsis, None, 2),
    Ellipsis, (slice(None), None, slice(1, 3)),
    [0, 2], [2, 0, 2], [[0, 1], [2, 0]], np.array([2, 0, 1]), np.array([-1, 0]),
    np.array([True, False, True]), (slice(None), np.array([False, True, True, False])),
    (1, [0, 2]), ([0, 2], slice(None), [1, 3]), ([0, 1], [1, 2]), (slice(None), [0, 2], 1),
    (Ellipsis, [0, 4]), (None, [0, 1], Ellipsis), (np.array([[0], [2]]), np.array([1, 3])),
    (slice(None, None, -1), np.array([3, 0]), slice(1, 4, 2)),
]


def _tensorize(index, device):
    """The same index with every numpy array replaced by a Tensor."""
    conv = lambda i: Tensor(i, device=device) if isinstance(i, np.ndarray) else i  # noqa: E731
    return tuple(conv(i) for i in index) if isinstance(index, tuple) else conv(index)


@pytest.mark.parametrize("index", GETITEM_CASES, ids=repr)
@pytest.mark.parametrize("as_tensor", [False, True])
def test_getitem_matches_numpy(index, as_tensor, device):
    a = arange(3, 4, 5)
    idx = _tensorize(index, device) if as_tensor else index
    r = Tensor(a, device=device)[idx]
    ref = a[index]
    assert r.shape == ref.shape
    np.testing.assert_array_equal(r.numpy(), ref)


def test_getitem_with_full_boolean_mask(device):
    a = arange(3, 4, 5)
    t = Tensor(a, device=device)
    np.testing.assert_array_equal(t[a > 30].numpy(), a[a > 30])
    np.testing.assert_array_equal(t[t > 30].numpy(), a[a > 30])
    np.testing.assert_array_equal(t[0][t[0] > 7].numpy(), a[0][a[0] > 7])
    m = a.sum(axis=2) > 40  # (3, 4) mask over the leading two axes
    np.testing.assert_array_equal(t[Tensor(m, device=device)].numpy(), a[m])


def test_getitem_scalar_result(device):
    a = arange(3, 4, 5)
    r = Tensor(a, device=device)[1, 2, 3]
    assert r.shape == () and r.item() == a[1, 2, 3]


SETITEM_CASES = [
    1, -1, (1, 2), (0, 1, 2), slice(None, None, 2), slice(None, None, -1),
    (slice(1, None), slice(None, None, -2)), (Ellipsis, 1), (None, 1), (1, Ellipsis, 3),
    [0, 2], np.array([2, 0]), np.array([True, False, True]),
    (slice(None), np.array([False, True, True, False])), (1, [0, 2]),
    ([0, 2], slice(None), [1, 3]), ([0, 1], [1, 2]), (Ellipsis, [0, 4]),
]


@pytest.mark.parametrize("index", SETITEM_CASES, ids=repr)
@pytest.mark.parametrize("value_kind", ["scalar", "array", "tensor", "row", "tensor_index"])
def test_setitem_matches_numpy(index, value_kind, device):
    a = arange(3, 4, 5)
    t = Tensor(a, device=device)
    target_shape = a[index].shape
    idx = index
    if value_kind == "scalar":
        v = nv = -7.5
    elif value_kind in ("array", "tensor", "tensor_index"):
        nv = np.random.uniform(-10, 0, target_shape).astype("float32")
        v = nv if value_kind == "array" else Tensor(nv, device=device)
        if value_kind == "tensor_index":
            idx = _tensorize(index, device)
    else:  # a row that broadcasts along the leading axes
        nv = np.random.uniform(-10, 0, target_shape[-1:]).astype("float32")
        v = Tensor(nv, device=device)
    before = id(t)
    t[idx] = v
    ref = a.copy()
    ref[index] = nv
    assert id(t) == before
    assert t.shape == ref.shape and t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), ref)


def test_setitem_with_tensor_mask_and_int_tensor(device):
    a = arange(4, 3)
    t = Tensor(a, device=device)
    t[t > 5] = 0
    ref = a.copy()
    ref[ref > 5] = 0
    np.testing.assert_array_equal(t.numpy(), ref)
    i = Tensor(a.astype("int32"), device=device)
    i[1] = 2.9  # cast to the tensor's dtype, like numpy
    ref_i = a.astype("int32")
    ref_i[1] = 2.9
    assert i.dtype == np.int32
    np.testing.assert_array_equal(i.numpy(), ref_i)


def test_getitem_gradient_accumulates_repeated_indices(device):
    x = Tensor(np.ones((4, 2), "float32"), device=device)
    gm = GradManager().attach(x)
    w = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]], "float32")
    with gm:
        y = x[[0, 2, 0, 0]]
        gm.backward((y * Tensor(w, device=device)).sum())
    expected = np.zeros((4, 2), "float32")
    np.add.at(expected, [0, 2, 0, 0], w)
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_getitem_gradient_through_slices_and_masks(device):
    a = np.random.randn(3, 4).astype("float32")
    x = Tensor(a, device=device)
    gm = GradManager().attach(x)
    with gm:
        y = x[::2, 1:][x[::2, 1:] > 0].sum() + x[-1, ::-1].sum() * 3
        gm.backward(y)
    expected = np.zeros((3, 4), "float32")
    expected[::2, 1:] += (a[::2, 1:] > 0)
    expected[-1, :] += 3
    np.testing.assert_allclose(x.grad.numpy(), expected)


@pytest.mark.parametrize("v_shape", [(2, 5), (5,)])
def test_setitem_gradient(v_shape, device):
    x = Tensor(np.random.randn(4, 5).astype("float32"), device=device)
    v = Tensor(np.random.randn(*v_shape).astype("float32"), device=device)
    w = np.random.randn(4, 5).astype("float32")
    gm = GradManager().attach([x, v])
    with gm:
        y = x * 2
        y[1:3] = v
        gm.backward((y * Tensor(w, device=device)).sum())
    dx = 2 * w
    dx[1:3] = 0  # the overwritten part of x gets no gradient
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=1e-6)
    dv = w[1:3] if v_shape == (2, 5) else w[1:3].sum(0)
    assert v.grad.shape == v_shape
    np.testing.assert_allclose(v.grad.numpy(), dv, rtol=1e-5)


# -------------------------------------------------------------------- python protocols
def test_len_and_iteration(device):
    a = arange(3, 2)
    t = Tensor(a, device=device)
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3
    for r, ref in zip(rows, a):
        assert isinstance(r, Tensor)
        np.testing.assert_array_equal(r.numpy(), ref)
    with pytest.raises(TypeError):
        len(Tensor(1.0, device=device))


def test_bool(device):
    assert bool(Tensor([[2.0]], device=device)) is True
    assert bool(Tensor([0.0], device=device)) is False
    assert bool(Tensor(True, device=device)) is True
    with pytest.raises(ValueError):
        bool(Tensor([1.0, 2.0], device=device))
    with pytest.raises(ValueError):
        if Tensor([1.0, 1.0], device=device) == 1.0:
            pass


def test_repr(device):
    r = repr(Tensor([1.5, -2.25], device=device))
    assert "1.5" in r and "-2.25" in r and device in r
    assert "float32" not in r
    r = repr(Tensor([3, 4], dtype="int32", device=device))
    assert "3" in r and "4" in r and "int32" in r and device in r
    assert "float16" in repr(Tensor([1.0], dtype="float16", device=device))
    assert repr(mge.Parameter([1.0])).startswith("Parameter")


# ----------------------------------------------------------------------------- errors
def test_too_many_indices_raises_index_error(device):
    t = Tensor(arange(3, 4), device=device)
    with pytest.raises(IndexError, match=r"\(3, 4\)"):
        t[0, 1, 2]
    with pytest.raises(IndexError, match=r"\(3, 4\)"):
        t[0, 1, 2] = 1.0


@pytest.mark.parametrize("op, name", [
    (operator.add, "add"), (operator.sub, "sub"), (operator.mul, "mul"),
    (operator.truediv, "div"), (F.maximum, "maximum"), (operator.lt, "less"),
])
def test_non_broadcastable_operands_raise(op, name, device):
    a = Tensor(np.ones((2, 3), "float32"), device=device)
    b = Tensor(np.ones(4, "float32"), device=device)
    with pytest.raises(ValueError) as e:
        op(a, b)
    msg = str(e.value)
    assert name in msg.lower(), msg
    assert "(2, 3)" in msg and "(4,)" in msg, msg


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "var", "std",
                                  "argmax", "argmin"])
def test_axis_out_of_range_names_the_function(name, device):
    t = Tensor(arange(2, 3), device=device)
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        getattr(t, name)(axis=2)
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        getattr(F, name)(t, axis=-3)


def test_reshape_wrong_size_names_both_shapes(device):
    t = Tensor(arange(2, 3), device=device)
    with pytest.raises(ValueError) as e:
        t.reshape(4, 2)
    assert "(2, 3)" in str(e.value) and "(4, 2)" in str(e.value)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        t.reshape(-1, 4)


def test_matmul_inner_mismatch(device):
    a = Tensor(arange(2, 3), device=device)
    b = Tensor(arange(4, 5), device=device)
    with pytest.raises(ValueError, match="matmul"):
        a @ b
    with pytest.raises(ValueError, match="matmul"):
        F.matmul(a, Tensor(arange(2, 4), device=device), transpose_a=False)


@pytest.mark.cuda
def test_operands_on_different_devices_raise():
    a = Tensor([1.0, 2.0], device="cpu0")
    b = Tensor([1.0, 2.0], device="gpu0")
    with pytest.raises(ValueError) as e:
        a + b
    assert "cpu0" in str(e.value) and "gpu0" in str(e.value)


def test_numpy_conversions_never_alias_the_storage():
    t = mge.tensor([1.0, 2.0])
    for arr in (np.array(t, copy=True), np.asarray(t), np.array(t), t.numpy()):
        arr[0] = 99
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])


def test_python_scalar_out_of_dtype_range_is_a_clear_error():
    with pytest.raises(ValueError, match="300 does not fit the dtype uint8"):
        mge.tensor([1], dtype="uint8") + 300
