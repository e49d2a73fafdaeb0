"""Module and Sequential methods MegEngine 1.13 has beyond the basics: replace_param,
disable_quantize, _state_dict, _load_state_dict_with_closure, pickling defaults,
Sequential.layer_values, and MegEngine's forward argument names (results checked against a live
MegEngine 1.13 on the same module structure)."""
import inspect
import pickle

import numpy as np
import pytest

import engine as mge
import engine.module as M


class Net(M.Module):
    def __init__(self):
        super().__init__()
        self.b = M.Linear(2, 3)
        self.a = M.Conv2d(1, 2, 3)
        self.lst = [M.Linear(3, 3)]  # inside a list: replace_param does not visit it
        self.p = mge.Parameter(np.zeros(4, "float32"))
        self.shared = self.b  # counted once

    def forward(self, x):
        return x


def test_replace_param_numbers_direct_parameters_depth_first_like_megengine():
    net = Net()
    # positions: a.bias 0, a.weight 1, b.bias 2, b.weight 3, p 4 (MegEngine 1.13 gives the same)
    new = {1: mge.Parameter(np.ones((2, 1, 3, 3), "float32")),
           4: mge.Parameter(np.full(4, 7.0, "float32"))}
    with pytest.warns(DeprecationWarning, match="replace_param is deprecated"):
        assert net.replace_param(new, 0) == 5
    assert net.a.weight is new[1] and net.p is new[4]
    assert net.b.bias is not None and net.lst[0].weight.shape == (3, 3)
    assert [p for p in net.parameters() if p is new[4]] == [new[4]]
    with pytest.warns(DeprecationWarning):
        assert net.replace_param({}, 5) == 5
    with pytest.warns(DeprecationWarning), pytest.raises(
            ValueError, match="replace_param \\(Net.p\\): the parameter at position 4 has shape "
                              "\\(2,\\), expected \\(4,\\)"):
        net.replace_param({4: mge.Parameter(np.zeros(2, "float32"))}, 0)


def test_state_dict_internals_match_megengine():
    net = Net()
    raw = net._state_dict()
    assert sorted((t.__name__, k) for t, k in raw)[:3] == [
        ("Conv2d", "a.bias"), ("Conv2d", "a.weight"), ("Linear", "b.bias")]
    bn = M.BatchNorm2d(3)
    assert bn._state_dict()[(M.BatchNorm2d, "weight")].shape == (1, 3, 1, 1)  # unflattened
    assert bn.state_dict()["weight"].shape == (3,)
    loaded, skipped = net._load_state_dict_with_closure(
        lambda k, v: None if "lst" in k else v.numpy() * 0)
    assert sorted(loaded) == ["a.bias", "a.weight", "b.bias", "b.weight", "p"]
    assert sorted(skipped) == ["lst.0.bias", "lst.0.weight"]
    assert not net.b.weight.numpy().any()
    loaded, _ = bn._load_state_dict_with_closure(lambda k, v: np.full(3, 2.0, "float32"))
    assert bn.weight.shape == (1, 3, 1, 1) and bn.running_var.numpy().ravel().tolist() == [2] * 3
    with pytest.raises(ValueError, match="a.bias: expected shape \\(1, 2, 1, 1\\), got \\(2,\\)"):
        net._load_state_dict_with_closure(lambda k, v: v.numpy().reshape(-1))


def test_disable_quantize_marks_every_submodule():
    net = M.Sequential(M.Linear(4, 2), M.Sequential(M.ReLU()))
    assert all(m.quantize_disabled is False for m in net.modules())
    assert net.disable_quantize() is net
    assert all(m.quantize_disabled is True for m in net.modules())
    net[1].disable_quantize(False)
    assert net[0].quantize_disabled and not net[1][0].quantize_disabled


def test_pickled_module_without_new_attributes_gets_defaults():
    m = M.Linear(2, 2)
    state = dict(vars(m))
    del state["quantize_disabled"]
    restored = M.Linear.__new__(M.Linear)
    restored.__setstate__(state)
    assert restored.quantize_disabled is False
    again = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(again.weight.numpy(), m.weight.numpy())


def test_sequential_layer_values():
    layers = [M.Linear(2, 3), M.ReLU(), M.Linear(3, 1)]
    seq = M.Sequential(*layers)
    assert seq.layer_values == layers and list(seq) == layers
    del seq[1]
    assert seq.layer_values == [layers[0], layers[2]]


# MegEngine 1.13's forward parameter names (inspect.signature on megengine.module classes)
FORWARD_NAMES = {
    "Module": ["inputs"], "Sequential": ["inp"], "Linear": ["x"], "LinearRelu": ["inp"],
    "Identity": ["x"], "Embedding": ["inputs"], "Dropout": ["inputs"], "BatchNorm1d": ["inp"],
    "BatchNorm2d": ["inp"], "ConvBn2d": ["inp"], "ConvBnRelu2d": ["inp"], "ConvRelu2d": ["inp"],
    "ConvTransposeBn2d": ["inp"], "ConvTransposeBnRelu2d": ["inp"],
    "ConvTransposeRelu2d": ["inp"], "LinearBn1d": ["inp"], "LinearBnRelu1d": ["inp"],
    "BatchMatMulActivation": ["x"], "QuantStub": ["inp"], "DequantStub": ["inp"],
    "RNNCell": ["input", "hx"], "LSTMCell": ["input", "hx"], "RNN": ["input", "hx"],
    "LSTM": ["input", "hx"],
}


@pytest.mark.parametrize("name", sorted(FORWARD_NAMES))
def test_forward_argument_names_are_megengine_s(name):
    params = list(inspect.signature(getattr(M, name).forward).parameters)[1:]
    assert params == FORWARD_NAMES[name]


def test_submodules_get_megengine_s_dotted_names():
    class Block(M.Module):
        def __init__(self):
            super().__init__()
            self.fc = M.Linear(2, 2)
            self.acts = [M.ReLU()]

        def forward(self, x):
            return x

    class Top(M.Module):
        def __init__(self):
            super().__init__(name="net")
            self.blk = Block()
            self.again = self.blk  # a second attribute keeps the first name

        def forward(self, x):
            return x

    top = Top()
    assert [(m._name, m._short_name) for m in top.modules()] == [
        (None, None), ("net.blk", "blk"), ("net.blk.acts.0", "acts.0"), ("net.blk.fc", "fc")]
    assert set(vars(M.Identity())) == {"_modules", "name", "training", "quantize_disabled",
                                       "_forward_pre_hooks", "_forward_hooks", "_name",
                                       "_short_name"}


def test_structure_helpers():
    from engine.module.module import _access_structure

    net = Net()
    assert _access_structure(net, "lst.0.weight") is net.lst[0].weight
    assert _access_structure(net, "lst.0", lambda parent, key, obj: (parent, key)) == (
        net.lst, 0)

    class BadKeys(M.Module):
        def __init__(self):
            super().__init__()
            self.table = {True: mge.Tensor([1.0]), False: 0}

        def forward(self, x):
            return x

    # MegEngine raises an AssertionError; engine's error is also a TypeError
    with pytest.raises(AssertionError, match="keys for Tensor and Module must be str, error "
                                             "key: True"):
        BadKeys()
