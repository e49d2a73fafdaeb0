"""engine.core: the names MegEngine code imports from megengine.core, with MegEngine's results
(compared with a live MegEngine 1.13 on the same inputs when this suite was written)."""
import numpy as np
import pytest

import engine as mge
import engine.functional as F
from engine.autodiff import GradManager
from engine.core._trace_option import set_symbolic_shape, use_symbolic_shape
from engine.core.tensor.utils import astensor1d, isscalar, make_shape_tuple


def test_symbolic_shape_switch_keeps_its_value_and_shapes_stay_tuples():
    assert use_symbolic_shape() is False
    old = set_symbolic_shape(True)
    try:
        assert old is False and use_symbolic_shape() is True
        assert mge.tensor(np.zeros((2, 3))).shape == (2, 3)
    finally:
        assert set_symbolic_shape(old) is True
    assert use_symbolic_shape() is False


@pytest.mark.parametrize("shape, expected", [
    ((2, 3), (2, 3)), ([2, 3], (2, 3)), ((2, -1), (2, -1)), (3, (3,)), (np.int64(4), (4,)),
    (np.array([5, 6]), (5, 6)), ((), ()), ([mge.tensor(2), 3], (2, 3)),
])
def test_make_shape_tuple(shape, expected):
    out = make_shape_tuple(shape)
    assert out == expected and all(type(v) is int for v in out)


def test_isscalar():
    assert isscalar(mge.tensor(1)) and not isscalar(mge.tensor([1]))
    assert isscalar(1) and isscalar(np.float32(1)) and isscalar("a")
    assert not isscalar(np.array(1)) and not isscalar([1])


@pytest.mark.parametrize("value, numbers, dtype", [
    ((2, 3), [2, 3], "int32"), ([2, mge.tensor(3)], [2, 3], "int32"),
    (np.array([1, 2]), [1, 2], "int32"), ((), [], "float32"), ([1.5, 2], [1.5, 2.0], "float32"),
])
def test_astensor1d(value, numbers, dtype):
    out = astensor1d(value)
    assert isinstance(out, mge.Tensor) and out.ndim == 1
    assert out.numpy().tolist() == numbers and out.dtype == np.dtype(dtype)


def test_astensor1d_tensor_as_is_dtype_device_and_errors():
    t = mge.tensor([4.0, 5.0])
    assert astensor1d(t) is t
    assert astensor1d((2, 3), dtype="float32").dtype == np.float32
    assert astensor1d([mge.tensor(1), 2.5]).dtype == np.float32
    assert str(astensor1d((1,), t).device) == str(t.device)
    with pytest.raises(TypeError, match="astensor1d: expected a sequence"):
        astensor1d(5)
    with pytest.raises(ValueError, match=r"1-d data, got shape \(2, 2\)"):
        astensor1d([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="one value"):
        astensor1d([mge.tensor([1, 2]), 3])


def test_astensor1d_keeps_the_gradient_of_tensor_parts():
    a = mge.Parameter(2.0)
    gm = GradManager().attach([a])
    with gm:
        loss = F.sum(astensor1d([a, 3.0]) * mge.tensor([5.0, 1.0]))
        gm.backward(loss)
    assert a.grad.numpy() == pytest.approx(5.0)


def test_core_autodiff_grad_function_is_engines():
    from engine.core.autodiff.grad import Function

    assert Function is mge.autodiff.Function
