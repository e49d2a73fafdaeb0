"""MegEngine behaviours that real code relies on (issue 11, item 10), each checked against the
value MegEngine 1.13 gives for the same call."""
import numpy as np
import pytest

import engine as mge
import engine.functional as F

T = mge.tensor


def test_interpolate_accepts_upper_case_modes():
    x = T(np.arange(4, dtype="float32").reshape(1, 1, 2, 2))
    for mode in ("bilinear", "nearest"):
        np.testing.assert_array_equal(
            F.nn.interpolate(x, scale_factor=2, mode=mode.upper()).numpy(),
            F.nn.interpolate(x, scale_factor=2, mode=mode).numpy())


def test_topk_k_beyond_the_axis_and_negative_k():
    x = T([3.0, 1.0, 2.0, 5.0])
    v, i = F.topk(x, 7)
    np.testing.assert_array_equal(v.numpy(), [5, 3, 2, 1])
    np.testing.assert_array_equal(i.numpy(), [3, 0, 2, 1])
    v, i = F.topk(x, -2)  # the two smallest
    np.testing.assert_array_equal(v.numpy(), [1, 2])
    assert F.topk(x, -2, kth_only=True)[0].item() == 2
    assert F.topk(x, 9, kth_only=True)[0].item() == 1


def test_concat_of_0d_tensors():
    np.testing.assert_array_equal(F.concat([T(1.0), T(2.0)]).numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(F.concat([T(1.0), T([2.0, 3.0])]).numpy(), [1, 2, 3])


@pytest.mark.parametrize("fn,a,b,want,dtype", [
    (F.maximum, 1, 2, 2, "int32"), (F.minimum, 1.5, 2, 1.5, "float32"),
    (F.add, 1, 2.5, 3.5, "float32"), (F.sub, 1, 2, -1, "int32"), (F.mul, 2, 3, 6, "int32"),
    (F.pow, 2, 3, 8.0, "float32"), (F.mod, 7, 3, 1, "int32"), (F.div, 1, 2, 0.5, "float32"),
    (F.atan2, 1, 2, np.arctan2(1, 2), "float32"), (F.logical_and, True, False, False, "bool"),
    (F.logical_or, True, False, True, "bool"), (F.logical_xor, True, True, False, "bool"),
    (F.equal, 1, 1, True, "bool"), (F.floor_div, 7, 2, 3, "int32"),
])
def test_binary_functions_on_two_python_scalars(fn, a, b, want, dtype):
    out = fn(a, b)
    assert out.ndim == 0 and out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)


def test_split_into_uneven_parts():
    assert [p.shape for p in F.split(F.ones(10), 3)] == [(4,), (3,), (3,)]
    assert [p.shape for p in F.split(F.ones(6), 4)] == [(2,), (2,), (1,), (1,)]
    with pytest.raises(ValueError, match="split: cannot split axis 0 of size 10 into 11 parts"):
        F.split(F.ones(10), 11)


def test_pad_with_fewer_pairs_than_dims_pads_the_leading_axes():
    assert F.nn.pad(F.ones((2, 3)), ((1, 1),)).shape == (4, 3)
    assert F.nn.pad(F.ones((2, 3, 4)), ((1, 1), (2, 2))).shape == (4, 7, 4)


def test_integer_inputs_to_norms_and_losses_and_float_labels_to_cross_entropy():
    assert F.norm(T([3, 4])).item() == pytest.approx(5.0)
    np.testing.assert_allclose(F.normalize(T([3, 4])).numpy(), [0.6, 0.8], rtol=1e-6)
    assert F.nn.l1_loss(T([1, 2]), T([2, 4])).item() == pytest.approx(1.5)
    assert F.nn.square_loss(T([1, 2]), T([2, 4])).item() == pytest.approx(2.5)
    logits = T([[1.0, 2.0, 3.0]])
    # MegEngine truncates float labels: 1.7 is class 1
    assert F.nn.cross_entropy(logits, T([1.7])).item() == pytest.approx(1.4076059, rel=1e-6)
    assert F.nn.cross_entropy(logits, T([2.0])).item() == pytest.approx(0.4076059, rel=1e-6)


def test_roi_align_and_pooling_truncate_a_fractional_batch_index():
    feat = F.arange(32).reshape(2, 1, 4, 4)
    rois = T([[1.7, 0, 0, 2, 2]])
    whole = T([[1.0, 0, 0, 2, 2]])
    np.testing.assert_array_equal(F.vision.roi_align(feat, rois, 2).numpy(),
                                  F.vision.roi_align(feat, whole, 2).numpy())
    # MegEngine 1.13: [[21, 22], [25, 26]] for this roi
    np.testing.assert_array_equal(F.vision.roi_pooling(feat, rois, 2).numpy()[0, 0],
                                  [[21, 22], [25, 26]])


def test_integer_sums_keep_their_dtype():
    x = np.array([100, 100, -3], dtype=np.int8)
    s = F.sum(T(x, dtype="int8"))
    assert s.dtype == np.int8 and s.item() == np.int8(x.sum(dtype=np.int8))
    assert F.sum(T([1, 2], dtype="uint8")).dtype == np.uint8
    assert F.sum(T([1, 2], dtype="int16")).dtype == np.int16
    assert F.sum(T([True, True])).dtype == np.int32


def test_full_infers_its_dtype_from_the_value():
    assert F.full((2,), 3).dtype == np.int32
    assert F.full((2,), 3.0).dtype == np.float32
    assert F.full((2,), True).dtype == np.bool_
    assert F.full((2,), 3, dtype="float32").dtype == np.float32


def test_isinf_isnan_take_inp():
    x = T([1.0, np.inf, np.nan])
    np.testing.assert_array_equal(F.isinf(inp=x).numpy(), [False, True, False])
    np.testing.assert_array_equal(F.isnan(inp=x).numpy(), [False, False, True])


def test_integer_dtypes_of_norm_orders_and_unreduced_integer_losses():
    x = T([1, -2, 3])
    assert F.norm(x, ord=float("inf")).dtype == np.int32 and F.norm(x, ord=np.inf).item() == 3
    assert F.norm(x, ord=0).dtype == np.int32 and F.norm(x, ord=0).item() == 3
    assert F.norm(x, ord=1).dtype == np.float32
    pred, label = T([1, 2, 3]), T([2, 4, 0])
    assert F.nn.l1_loss(pred, label, reduction="sum").dtype == np.int32
    np.testing.assert_array_equal(F.nn.l1_loss(pred, label, reduction="none").numpy(), [1, 2, 3])
    assert F.nn.l1_loss(pred, label).dtype == np.float32


def test_utils_assert_equal():
    x = T([1.0, 2.0, 3.0])
    assert F.utils._assert_equal(x, T([1.0, 2.0, 3.00001]), maxerr=1e-4) is x
    with pytest.raises(RuntimeError, match="_assert_equal: error 0.5 is larger than maxerr"):
        F.utils._assert_equal(x, T([1.0, 2.0, 4.5]))
    assert F.utils.topk_accuracy is F.metric.topk_accuracy


def test_argmax_over_several_axes_reduces_one_axis_at_a_time():
    # MegEngine: argmax over the last axis, then over the next of those indices
    x = np.arange(24.0).reshape(2, 3, 4) % 7
    want = np.argmax(np.argmax(x, 2), 0)
    np.testing.assert_array_equal(F.argmax(T(x), axis=(0, 2)).numpy(), want)
    np.testing.assert_array_equal(F.argmin(T(x), axis=(-1, -3)).numpy(),
                                  np.argmin(np.argmin(x, 2), 0))


def test_linear_interpolate_of_3d_input():
    x = T(np.array([[[1.0, 2.0, 4.0]]], dtype="float32"))
    # MegEngine 1.13's values for these calls
    np.testing.assert_allclose(F.vision.interpolate(x, scale_factor=2.0, mode="linear").numpy(),
                               [[[1, 1.25, 1.75, 2.5, 3.5, 4]]])
    np.testing.assert_allclose(
        F.vision.interpolate(x, 5, mode="linear", align_corners=True).numpy(),
        [[[1, 1.5, 2, 3, 4]]])
    with pytest.raises(AssertionError, match="mode 'linear' needs a 3-D"):
        F.vision.interpolate(F.ones((1, 1, 2, 2)), scale_factor=2.0, mode="linear")
    with pytest.raises(ValueError, match="size and scale_factor must be single values"):
        F.vision.interpolate(x, scale_factor=[2.0, 3.0], mode="linear")


def test_eye_of_a_shape_and_broadcast_to_with_none():
    np.testing.assert_array_equal(F.eye([2, 3]).numpy(), np.eye(2, 3))
    np.testing.assert_array_equal(F.eye(T([3])).numpy(), np.eye(3))
    x = T(np.random.rand(1, 2, 3).astype("float32"))
    assert F.broadcast_to(x, (1, None, 3)).shape == (1, 2, 3)
    assert F.broadcast_to(x, (4, 1, None, 3)).shape == (4, 1, 2, 3)
    with pytest.raises(ValueError, match="broadcast_to: None in"):
        F.broadcast_to(x, (None, 1, 2, 3))


def test_repeated_axis_is_also_an_assertion_error():
    with pytest.raises(AssertionError, match="sum: repeated axis"):
        F.sum(F.ones((2, 3)), axis=(-1, 1))


def test_check_non_finite_scales_in_place():
    from engine.functional.math import _check_non_finite

    a, b = T([1.0, 2.0]), T([3.0])
    assert _check_non_finite([a, b], 0.5).numpy().tolist() == [0]
    np.testing.assert_allclose(a.numpy(), [0.5, 1.0])
    assert _check_non_finite([a, T([np.nan])]).numpy().tolist() == [1]
    assert _check_non_finite([T([np.inf]), b]).dtype == np.int32
