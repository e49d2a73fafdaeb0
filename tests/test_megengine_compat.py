"""Behaviours engine shares with MegEngine 1.13 that MegEngine's own unit tests rely on.

Each test states one MegEngine behaviour in our words (the behaviour, not MegEngine's test).
"""
import numpy as np
import pytest

import engine as mge
import engine.functional as F
import engine.module as M
from engine import Tensor
from engine.autodiff import GradManager


# ------------------------------------------------------------------ GradManager
def test_grad_manager_group_records_with_every_member():
    x_np = np.linspace(0.1, 1.0, 5).astype("float32")
    x = Tensor(x_np)
    gm1, gm2 = GradManager().attach(x), GradManager().attach(x)
    with gm1 | gm2:
        y = F.sin(x)
        gm1.backward(y)   # the graph must survive for gm2's backward
        gm2.backward(y)
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(x_np), rtol=1e-6)


def test_grad_manager_group_members_do_not_record_each_others_backward():
    x_np = np.linspace(0.1, 1.0, 5).astype("float32")
    x = Tensor(x_np)
    gm1, gm2 = GradManager().attach(x), GradManager().attach(x)
    with gm1 | gm2:
        gm2.backward(F.sin(x))
        gm1.backward(x.grad)  # x.grad is a constant for gm1: nothing is added
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x_np), rtol=1e-6)


def test_inner_grad_manager_does_not_record_the_outer_ones_backward():
    x_np = np.linspace(0.1, 1.0, 5).astype("float32")
    x = Tensor(x_np)
    outer, inner = GradManager().attach(x), GradManager().attach(x)
    with outer:
        with inner:
            outer.backward(F.sin(x))
            inner.backward(x.grad)
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x_np), rtol=1e-6)


def test_outer_grad_manager_records_the_inner_ones_backward():
    x_np = np.linspace(0.1, 1.0, 5).astype("float32")
    x = Tensor(x_np)
    outer, inner = GradManager().attach(x), GradManager().attach(x)
    with outer:
        with inner:
            inner.backward(F.sin(x))
        g = x.grad
        x.grad = None
        outer.backward(g)  # d(cos x)/dx
    np.testing.assert_allclose(x.grad.numpy(), -np.sin(x_np), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["int32", "uint8"])
def test_attach_of_an_integer_tensor_is_both_type_and_assertion_error(dtype):
    x = Tensor([1], dtype=dtype)
    with pytest.raises(AssertionError, match="only floating-point"):
        GradManager().attach(x)
    with pytest.raises(TypeError):
        GradManager().attach(x)


# ------------------------------------------------------------------ Tensor
def test_numpy_ufuncs_on_tensors_give_tensors_on_the_tensor_device():
    a = np.array([1, 2, 3], "int32")
    t = Tensor(a, device="cpu0")
    r = np.add(t, np.array([1, 0, 3], "int32"))
    assert isinstance(r, Tensor) and r.device == t.device
    np.testing.assert_equal(r.numpy(), [2, 2, 6])
    np.testing.assert_equal(np.equal(t, t).numpy(), [True, True, True])
    m = np.bitwise_and(np.array([True, False]), Tensor([True, True]))  # the operator's meaning
    assert isinstance(m, Tensor)
    np.testing.assert_equal(m.numpy(), [True, False])
    with pytest.raises(TypeError):
        np.add.reduce(t)


def test_tensor_name_defaults_to_empty_string():
    assert Tensor(0).name == ""
    assert (Tensor(1.0) + 1).name == ""
    assert Tensor(0, name="w").name == "w"


def test_none_operand_message():
    with pytest.raises(TypeError, match="^the operand is None and is not supported.$"):
        Tensor(1.0) + None


def test_empty_index_array_of_any_dtype_selects_nothing():
    x = Tensor(np.zeros((3, 4), "float32"))
    assert x[np.array([])].shape == (0, 4)
    assert x[:, np.array([])].shape == (3, 0)


# ------------------------------------------------------------------ functional
def test_broadcast_to_mismatch_is_value_and_runtime_error():
    x = Tensor(np.zeros((2, 1, 3), "float32"))
    for exc in (ValueError, RuntimeError):
        with pytest.raises(exc, match=r"broadcast_to: cannot broadcast shape \(2, 1, 3\)"):
            F.broadcast_to(x, (2, 3, 4))


def test_split_bad_sections_message():
    x = Tensor(np.zeros((2, 3, 4, 5), "float32"))
    with pytest.raises(ValueError, match=r"^Invalid nsplits_or_secions: \[3, 2, 5\]$"):
        F.split(x, [3, 2, 5], axis=3)


def test_copy_and_concat_between_cpu_devices():
    a = Tensor([1.0, 2.0], device="cpu0")
    b = Tensor([3.0], device="cpu1")
    c = F.copy(a, "cpu1")
    assert c.device == "cpu1" and (c + b).device == "cpu1"
    out = F.concat([a, b], device="cpu1")
    assert out.device == "cpu1"
    np.testing.assert_equal(out.numpy(), [1.0, 2.0, 3.0])
    # as MegEngine: tensors on several devices need an explicit device
    with pytest.raises(ValueError, match="concat: inputs live on different devices"):
        F.concat([a, b])
    with pytest.raises(ValueError, match="stack: inputs live on different devices"):
        F.stack([a[:1], b])


def test_batch_norm_with_one_value_per_channel_trains():
    bn = M.BatchNorm2d(4)
    out = bn(Tensor(np.random.rand(1, 4, 1, 1).astype("float32")))
    np.testing.assert_allclose(out.numpy(), np.zeros((1, 4, 1, 1)), atol=1e-6)
    # the unbiased variance of one value is 0/0 (MegEngine's running_var is NaN too)
    assert np.isnan(bn.running_var.numpy()).all()
    assert np.isfinite(bn.running_mean.numpy()).all()
    mge.functional.batch_norm(Tensor(np.ones((1, 3), "float32")), training=True)


def test_float_mod_takes_the_sign_of_the_dividend_and_int_mod_is_floored():
    x, y = Tensor([-5.5, 5.5, -3.0, 2.0]), Tensor([2.0, -2.0, 2.0, -3.0])
    np.testing.assert_allclose(F.mod(x, y).numpy(), [-1.5, 1.5, -1.0, 2.0])
    np.testing.assert_allclose((x % y).numpy(), [-1.5, 1.5, -1.0, 2.0])
    np.testing.assert_equal(F.mod(Tensor([-5, 5]), Tensor([2, -2])).numpy(), [1, -1])
    gm = GradManager().attach([x, y])
    with gm:
        gm.backward(F.mod(x, y))
    np.testing.assert_allclose(x.grad.numpy(), [1, 1, 1, 1])
    np.testing.assert_allclose(y.grad.numpy(), [2, 2, 1, 0])  # -trunc(x / y)


def test_scatter_writes_into_its_input_and_returns_it():
    x = Tensor(np.zeros((2, 3), "float32"))
    out = F.scatter(x, 1, Tensor([[2], [0]]), Tensor([[1.0], [2.0]]))
    assert out is x
    np.testing.assert_equal(x.numpy(), [[0, 0, 1], [2, 0, 0]])


def test_norm_without_axis_needs_a_vector():
    assert F.norm(Tensor([3.0, 4.0])).item() == pytest.approx(5.0)
    with pytest.raises(TypeError, match="axis is required unless input is a vector"):
        F.norm(Tensor(np.ones((2, 3), "float32")))
    np.testing.assert_allclose(F.norm(Tensor(np.ones((2, 3), "float32")), axis=1).numpy(),
                               [3 ** 0.5] * 2, rtol=1e-6)


def test_copies_and_pickles_keep_the_format_tag():
    import copy
    import pickle

    x = Tensor(np.zeros((1, 2, 3, 4), "float32"))
    x.format = "nhwc"
    for y in (copy.copy(x), copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        assert y.format == "nhwc" and y.shape == x.shape
    assert copy.deepcopy(Tensor([1.0])).format == "default"


def _megengine_tensor_pickle(args, state):
    """The bytes MegEngine's pickle of a Tensor holds: megengine.tensor.Tensor made by NEWOBJ
    from args, then BUILD with state (written by hand: no MegEngine here)."""
    import pickle

    body = lambda obj: pickle.dumps(obj, protocol=3)[2:-1]  # noqa: E731 (no PROTO / STOP)
    return (b"\x80\x03cmegengine.tensor\nTensor\n" + body(args) + b"\x81" + body(state) +
            b"b.")


@pytest.mark.parametrize("args, state", [
    ((np.array([1, 2, 3], "int8"), "int8", "cpu0:0"), {"qparams": None}),  # MegEngine >= 1.2
    ((), {"data": np.array([1, 2, 3], "int8"), "device": "cpu0:0", "dtype": "int8",
          "qdict": {"scale": None}}),                                     # before 1.2
])
def test_load_reads_megengine_pickled_tensors(tmp_path, args, state):
    path = tmp_path / "t.pkl"
    path.write_bytes(_megengine_tensor_pickle(args, state))
    for weights_only in (False, True):
        t = mge.load(str(path), weights_only=weights_only)
        assert type(t) is mge.Tensor and t.dtype == np.int8 and t.numpy().tolist() == [1, 2, 3]
        assert t.device.logical_name == "cpu0:0"
    assert mge.tensor([1]).__getnewargs__()[1:] == (np.int32, "cpu0:0", False, False, None,
                                                     "default")
    assert mge.tensor([1]).__getstate__() == {}


def test_layout_preserving_ops_keep_the_format_tag():
    x = mge.tensor(np.arange(24, dtype="float32").reshape(1, 2, 3, 4), format="nhwc")
    kept = [x.astype("float16"), F.reshape(x, (1, 2, 6, 2)), F.broadcast_to(x, (4, 2, 3, 4)),
            F.concat([x, x], axis=1), F.vision.interpolate(x, scale_factor=2),
            F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, 2),
            F.adaptive_max_pool2d(x, 2)]
    assert [t.format for t in kept] == ["nhwc"] * len(kept)
    y, mean, var = F.batch_norm(x, mge.tensor(np.zeros((1, 2, 1, 1)), format="nhwc"),
                                mge.tensor(np.ones((1, 2, 1, 1)), format="nhwc"),
                                training=True, inplace=False)
    assert (y.format, mean.format, var.format) == ("nhwc",) * 3
    dropped = [F.reshape(x, (1, 24)), F.transpose(x, (0, 2, 3, 1)), F.flatten(x)]
    assert [t.format for t in dropped] == ["default"] * 3
    np.testing.assert_array_equal(kept[1].numpy(), F.reshape(mge.tensor(x.numpy()),
                                                             (1, 2, 6, 2)).numpy())


def test_shape_errors_are_runtime_errors_as_megengine_raises():
    from engine.core._imperative_rt.core2 import AsyncError

    a = mge.tensor(np.ones((3, 2), "float32"))
    for target in ((2, 2), (-1, 4)):
        with pytest.raises(RuntimeError, match="cannot reshape"):
            F.reshape(a, target)
    with pytest.raises(ValueError, match="cannot reshape"):  # (and still a ValueError)
        F.reshape(a, (5,))
    assert issubclass(AsyncError, RuntimeError)


def test_auto_format_convert_switch_is_kept():
    from engine.core._config import get_auto_format_convert, set_auto_format_convert

    was = set_auto_format_convert(True)
    try:
        assert get_auto_format_convert() is True and mge.config._auto_format_convert is True
        assert set_auto_format_convert(False) is True
    finally:
        set_auto_format_convert(was)
