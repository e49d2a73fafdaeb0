"""engine.traced_module: trace_module records a Module's forward as TracedModules (module
calls, functional calls, Tensor methods, parameters as GetAttr) that run it again, bit for bit,
and flatten into one graph."""
import numpy as np
import pytest

import engine as mge
import engine.functional as F
import engine.module as M
from engine.traced_module import TracedModule, register_as_builtin, trace_module, wrap
from engine.traced_module.expr import Apply, CallFunction, CallMethod, Constant, GetAttr

rng = np.random.default_rng(0)


def _x(*shape):
    return mge.tensor(rng.standard_normal(shape).astype("float32"))


class Block(M.Module):
    def __init__(self):
        super().__init__()
        self.conv = M.Conv2d(3, 4, 3, padding=1)
        self.bn = M.BatchNorm2d(4)

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)))
        y += 1
        return y.reshape(y.shape[0], -1) * 2


class Net(M.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.fc = M.Linear(4 * 6 * 6, 3)
        self.scale = mge.Parameter(np.full(3, 0.5, "float32"))

    def forward(self, x, shift=None):
        y = self.fc(self.block(x)) * self.scale
        return {"y": y + (0 if shift is None else shift), "mean": y.mean()}


def test_graph_records_calls_and_reruns_the_forward():
    net = Net()
    net.eval()
    x, shift = _x(2, 3, 6, 6), _x(3)
    tm = trace_module(net, x, shift=shift)
    assert isinstance(tm.block, TracedModule) and isinstance(tm.fc, M.Linear)
    assert tm.fc is net.fc and tm.scale is net.scale  # the same objects
    top = tm.graph.exprs(recursive=False)
    kinds = [type(e) for e in top]
    assert GetAttr in kinds and CallMethod in kinds and Constant not in kinds
    calls = [e for e in top if isinstance(e, CallMethod) and e.method == "__call__"]
    assert [e.args[0].name for e in calls] == ["block", "fc"]
    inner = tm.block.graph.exprs(recursive=False)
    assert any(isinstance(e, CallFunction) and e.func is F.nn.relu for e in inner)
    assert [e.method for e in inner if isinstance(e, CallMethod)][-3:] == [
        "__iadd__", "reshape", "__mul__"]
    assert len(tm.graph.get_module_by_type(M.Conv2d)) == 1
    x2, s2 = _x(2, 3, 6, 6), _x(3)
    want, got = net(x2, s2), tm(x2, shift=s2)
    for k in want:
        np.testing.assert_array_equal(got[k].numpy(), want[k].numpy())
    net.scale._reset(net.scale * 3)  # parameters are read at each call, not captured
    np.testing.assert_array_equal(tm(x2, s2)["y"].numpy(), net(x2, s2)["y"].numpy())


def test_flatten_inlines_children():
    net = Net()
    net.eval()
    x = _x(2, 3, 6, 6)
    flat = trace_module(net, x).flatten()
    assert not any(isinstance(e, CallMethod) and isinstance(e.args[0].value, TracedModule)
                   for e in flat.graph.exprs(recursive=False))
    paths = [e.name for e in flat.graph.exprs() if isinstance(e, GetAttr)]
    assert "block.conv" in paths and "block.bn" in paths
    np.testing.assert_array_equal(flat(x)["y"].numpy(), net(x)["y"].numpy())


def test_det_networks_trace_bit_identically():
    from det.config import get_config
    from det.models.backbones.resnet import ResNet

    r18 = ResNet(18)
    r18.eval()
    x = _x(1, 3, 64, 64)
    tm = trace_module(r18, x)
    x2 = _x(1, 3, 64, 64)
    for a, b in zip(tm(x2), r18(x2)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    cfg = get_config("fcos_r18_shapes")
    cfg.model.num_classes = 3
    fcos = cfg.build_model()
    fcos.eval()

    class Network(M.Module):  # FCOS's traced part (DenseDetector.network's outputs)
        def __init__(self):
            super().__init__()
            self.det = fcos

        def forward(self, images):
            return list(self.det.network(images)[0])

    net = Network()
    tm = trace_module(net, _x(1, 3, 64, 64))
    img = _x(1, 3, 64, 64)
    for a, b in zip(tm(img), net(img)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_wrap_and_register_as_builtin():
    @wrap
    def double_plus(t, c):
        return t * 2 + c

    @register_as_builtin
    class Twice(M.Module):
        def forward(self, t):
            return t * 2

    class Outer(M.Module):
        def __init__(self):
            super().__init__()
            self.twice = Twice()

        def forward(self, t):
            return double_plus(self.twice(t), 1.0)

    m = Outer()
    x = _x(3)
    tm = trace_module(m, x)
    exprs = tm.graph.exprs()
    assert [e.func for e in exprs if isinstance(e, CallFunction)] == [double_plus.__wrapped__]
    assert not isinstance(tm.twice, TracedModule)
    assert not any(isinstance(e, Apply) for e in exprs)
    np.testing.assert_array_equal(tm(x).numpy(), m(x).numpy())
    with pytest.raises(TypeError, match="expected a Module"):
        trace_module(lambda t: t, x)
