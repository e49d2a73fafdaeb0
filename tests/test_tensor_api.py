"""MegEngine 1.13's Tensor surface: tensor is the class, constructor arguments, set_value,
reset_zero, requires_grad, format, item(*args), to(device, _borrow), round/floor/ceil/trunc,
shifts, `in`, DLPack with numpy and torch, and subclasses adopting a tensor's __dict__."""
import math
import pickle

import numpy as np
import pytest

import engine as mge
import engine.functional as F
from engine.autodiff import GradManager


def test_tensor_is_the_class():
    assert mge.tensor is mge.Tensor
    x = mge.tensor([1.0])
    assert isinstance(x, mge.tensor) and type(x) is mge.Tensor
    assert isinstance(mge.Parameter([1.0]), mge.tensor)


def test_constructor_takes_megengine_arguments():
    x = mge.Tensor([1, 2], "float32", "cpu0", True, True, "x", "nhwc")
    assert x.dtype == np.float32 and x.name == "x" and x.format == "nhwc"
    assert mge.Tensor([1]).format == "default"
    with pytest.raises(ValueError, match="Tensor.format.*'nchw'.*got 'abc'"):
        mge.Tensor([1], format="abc")


def test_subclass_adopting_another_tensors_dict():
    class Boxes(mge.Tensor):  # BaseDet's pattern: no Tensor.__init__ call
        def __init__(self, boxes):
            self.__dict__ = boxes.__dict__

        @property
        def widths(self):
            return self[:, 2] - self[:, 0]

    raw = mge.tensor([[0.0, 0.0, 4.0, 2.0], [1.0, 1.0, 2.0, 5.0]])
    raw.tag = "gt"
    b = Boxes(raw)
    assert isinstance(b, mge.Tensor) and b.shape == (2, 4) and b.tag == "gt"
    np.testing.assert_array_equal(b.widths.numpy(), [4.0, 1.0])
    np.testing.assert_array_equal((b + 1).numpy(), raw.numpy() + 1)


def test_subclass_calling_super_init_and_pickle():
    class Named(mge.Tensor):
        def __init__(self, data, label):
            super().__init__(data)
            self.label = label

    # as in MegEngine, construction parses the call's arguments as (data, dtype, ...)
    n = Named([1.0], "float16")
    assert n.dtype == np.float16 and n.label == "float16" and n.numpy().tolist() == [1.0]
    t = pickle.loads(pickle.dumps(mge.Tensor([1.0, 2.0], name="p")))
    assert t.name == "p" and t.numpy().tolist() == [1.0, 2.0]


def test_set_value_and_reset_zero_keep_identity_and_attachment():
    w = mge.Parameter([1.0, 2.0])
    gm = GradManager().attach(w)
    w.set_value(np.array([3.0, 4.0]))
    assert w.dtype == np.float32 and w.numpy().tolist() == [3.0, 4.0]
    w.set_value(mge.tensor([5.0, 6.0]))
    assert w.numpy().tolist() == [5.0, 6.0]
    with gm:
        gm.backward((w * w).sum())
    np.testing.assert_allclose(w.grad.numpy(), [10.0, 12.0])
    w.reset_zero()
    assert w.numpy().tolist() == [0.0, 0.0] and gm.is_attached(w)


def test_requires_grad_is_reserved():
    x = mge.tensor([1.0])
    for action in (lambda: x.requires_grad, lambda: setattr(x, "requires_grad", True)):
        with pytest.raises(AttributeError, match="reserved"):
            action()


def test_item_with_index():
    x = mge.tensor(np.arange(6, dtype="float32").reshape(2, 3))
    assert x.item(1, 2) == 5.0 and x[0].item(1) == 1.0 and mge.tensor([7]).item() == 7
    with pytest.raises(ValueError, match="item: only a one-element tensor.*\\(2, 3\\)"):
        x.item()


def test_to_with_borrow_copies_and_is_differentiable(device):
    x = mge.tensor([1.0, 2.0], device=device)
    gm = GradManager().attach(x)
    with gm:
        y = x.to(device, _borrow=True)
        gm.backward((y * 3).sum())
    assert str(y.device) == str(x.device)
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_round_floor_ceil_trunc_are_elementwise():
    x = mge.tensor([1.5, -2.5, 0.26, -0.7])
    np.testing.assert_array_equal(round(x).numpy(), [2.0, -3.0, 0.0, -1.0])  # half away from 0
    np.testing.assert_allclose(round(x, 1).numpy(), [1.5, -2.5, 0.3, -0.7], rtol=1e-6)
    np.testing.assert_array_equal(math.floor(x).numpy(), [1.0, -3.0, 0.0, -1.0])
    np.testing.assert_array_equal(math.ceil(x).numpy(), [2.0, -2.0, 1.0, -0.0])
    np.testing.assert_array_equal(math.trunc(x).numpy(), [1.0, -2.0, 0.0, -0.0])
    assert isinstance(round(x), mge.Tensor)


def test_contains():
    x = mge.tensor([[1, 2], [3, 4]])
    assert 3 in x and 5 not in x
    assert 2.0 in mge.tensor([1.0, 2.0])


def test_dlpack_with_numpy_and_torch():
    torch = pytest.importorskip("torch")
    x = mge.tensor(np.arange(6, dtype="float32").reshape(2, 3))
    np.testing.assert_array_equal(np.from_dlpack(x), x.numpy())
    tt = torch.from_dlpack(x)
    assert tuple(tt.shape) == (2, 3) and tt.dtype == torch.float32
    np.testing.assert_array_equal(tt.numpy(), x.numpy())
    assert x.__dlpack_device__() == (1, 0)  # kDLCPU, device 0
    with pytest.raises(TypeError, match="Tensor.__dlpack__: stream must be an int"):
        x.__dlpack__(stream="s")


def test_tensor_hash_and_dict_do_not_break_ops():
    x = mge.tensor([1.0, 2.0])
    x.meta = {"k": 1}
    assert {x: 1}[x] == 1
    y = F.exp(x)
    assert not hasattr(y, "meta")
