"""engine.utils: module_stats (MegEngine's numbers), the profiler's Chrome trace and its zero
cost when off, dlpack both ways with numpy/torch, utils.hook."""
import collections
import json
import logging

import numpy as np
import pytest

import engine as mge
import engine.functional as F
import engine.module as M
from engine.ops import core
from engine.utils import dlpack, hook
from engine.utils.module_stats import module_stats, sizeof_fmt
from engine.utils.profiler import Profiler, is_profiling, profile, scope


class Net(M.Module):
    def __init__(self):
        super().__init__()
        self.conv = M.Conv2d(3, 8, 3, padding=1)
        self.bn = M.BatchNorm2d(8)
        self.relu = M.ReLU()
        self.pool = M.MaxPool2d(2)
        self.convt = M.ConvTranspose2d(8, 4, 2, stride=2)
        self.gap = M.AdaptiveAvgPool2d(1)
        self.fc = M.Linear(4, 5)

    def forward(self, x):
        x = self.pool(self.relu(self.bn(self.conv(x))))
        x = self.gap(self.convt(x))
        return self.fc(x.reshape(x.shape[0], -1))


def test_module_stats_numbers_match_megengine():
    # MegEngine 1.13 on the same net and input: param_size=1588, param_dims=397, conv 114688,
    # bn 28672, pool 4096, convt 18432, fc 45 FLOPs (engine adds ReLU's 4096 and counts the
    # adaptive pool's real 16x16 window: 2048 where MegEngine's formula gives 8)
    net = Net()
    net.train()
    total, details = module_stats(net, input_shapes=[(2, 3, 16, 16)], logging_to_stdout=False)
    assert (total.param_size, total.param_dims) == (1588, 397)
    by_name = {d["name"]: d for d in details.flops[:-1]}
    assert {k: int(v["flops_num"]) for k, v in by_name.items()} == {
        "conv": 114688, "bn": 28672, "relu": 4096, "pool": 4096, "convt": 18432, "gap": 2048,
        "fc": 45}
    assert total.flops == sum(int(v["flops_num"]) for v in by_name.values())
    assert by_name["conv"]["output_shapes"] == [(2, 8, 16, 16)]
    assert [d["name"] for d in details.params[:-1]] == [
        "conv-w", "conv-b", "bn-w", "bn-b", "convt-w", "convt-b", "fc-w", "fc-b"]
    acts = {d["name"]: d["act_dim"] for d in details.activations[:-1]}
    assert acts == {"conv": 4096, "bn": 4096, "relu": 4096, "pool": 1024, "convt": 2048,
                    "gap": 8, "fc": 10}
    assert total.act_dims == sum(acts.values()) and total.act_size == 4 * total.act_dims
    assert details.params[-1]["name"] == "total"
    assert all(m.training for m in net.modules())  # modes restored
    assert not net.conv._forward_hooks  # hooks removed


def test_module_stats_with_inputs_logs_tables(caplog):
    lg = logging.getLogger("engine.utils.module_stats")
    lg.propagate = True
    try:
        with caplog.at_level(logging.INFO, logger="engine.utils.module_stats"):
            total, _ = module_stats(M.Linear(4, 3), np.ones((2, 4), "float32"))
    finally:
        lg.propagate = False
    text = caplog.text
    for part in ("param stats", "flops stats", "activations stats", "summary", "mean"):
        assert part in text
    assert int(total.flops) == 2 * 3 * 4 + 3


def test_module_stats_without_inputs_returns_none():
    assert module_stats(M.Linear(2, 2), logging_to_stdout=False) is None


def test_sizeof_fmt():
    assert sizeof_fmt(2048) == "2.000 KiB" and sizeof_fmt(1500, suffix="OPs") == "1.500 KOPs"


def test_profiler_writes_one_event_per_op(tmp_path):
    x = mge.tensor(np.ones((2, 3), "float32"))
    prof = Profiler(str(tmp_path), with_scopes=True)
    with prof:
        assert is_profiling()
        with scope("block"):
            y = F.relu(x * 2 + 1)
        M.Linear(3, 2)(y)
    assert not is_profiling()
    trace = json.load(open(prof.path))
    ops = [e for e in trace["traceEvents"] if e.get("cat") == "op"]
    assert [e["name"] for e in ops] == ["Mul", "Add", "Relu", "Matmul", "Add"]
    assert all(e["ph"] == "X" and e["dur"] >= 0 and e["ts"] >= 0 for e in ops)
    assert ops[0]["args"]["inputs"][0] == "(2, 3):float32"
    cats = {e["name"]: e.get("cat") for e in trace["traceEvents"]}
    assert cats["block"] == "scope" and cats["Linear"] == "module"
    assert prof.path == str(tmp_path / f"{prof._pid}.chrome_timeline.json")


def test_profiler_restores_op_apply_even_on_error(tmp_path):
    plain = core.Op.__dict__["apply"]
    with pytest.raises(ZeroDivisionError):
        with Profiler(str(tmp_path)):
            assert core.Op.__dict__["apply"] is not plain
            _ = 1 / 0
    assert core.Op.__dict__["apply"] is plain
    assert M.Module.__dict__["__call__"] is M.Module.__dict__["__call__"]


def test_profiler_decorator_and_options(tmp_path):
    @Profiler(str(tmp_path), with_backtrace=True)
    def step(a):
        return a + 1

    assert step.__profiler__ is not None
    step(mge.tensor([1.0]))
    events = json.load(open(step.__profiler__.path))["traceEvents"]
    assert [e["name"] for e in events if e.get("cat") == "op"] == ["Add"]
    assert any("test_utils_stats_profiler.py" in "".join(e["args"].get("backtrace", []))
               for e in events if e.get("cat") == "op")
    assert callable(profile(str(tmp_path)))
    with pytest.raises(ValueError, match="unsupported format"):
        Profiler(format="memory_flow.svg")
    with pytest.raises(AssertionError, match="formats excepts list"):
        Profiler(formats="chrome_timeline.json")
    with pytest.raises(TypeError, match="unknown options"):
        Profiler(speed=3)


def test_profiler_under_dtr(tmp_path):
    mge.dtr.enable()
    try:
        with Profiler(str(tmp_path)) as prof:
            _ = mge.tensor([1.0, 2.0]) * 3
        ops = [e["name"] for e in json.load(open(prof.path))["traceEvents"]
               if e.get("cat") == "op"]
        assert ops == ["Mul"]
    finally:
        mge.dtr.disable()


def test_dlpack_with_numpy_shares_memory():
    a = np.arange(6, dtype="float32").reshape(2, 3)
    t = dlpack.from_dlpack(a)
    a[0, 0] = 42
    assert t.numpy()[0, 0] == 42 and t.shape == (2, 3) and t.device == "cpu0"
    back = np.from_dlpack(t._storage.array)
    assert np.shares_memory(back, a)
    cap = dlpack.to_dlpack(mge.tensor([1, 2, 3], dtype="int32"))
    t2 = dlpack.from_dlpack(cap)
    assert t2.dtype == np.int32 and t2.numpy().tolist() == [1, 2, 3]
    with pytest.raises(TypeError, match="consumed once"):
        dlpack.from_dlpack(cap)


def test_dlpack_with_torch_both_ways():
    torch = pytest.importorskip("torch")
    src = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    t = dlpack.from_dlpack(src)
    src[1, 1] = -1
    assert t.numpy()[1, 1] == -1
    t64 = dlpack.from_dlpack(torch.arange(3))  # int64 becomes engine's int32 (a copy)
    assert t64.dtype == np.int32 and t64.numpy().tolist() == [0, 1, 2]
    x = mge.tensor(np.array([[1.5, 2.5]], "float32"))
    tt = torch.utils.dlpack.from_dlpack(dlpack.to_dlpack(x))
    assert tt.tolist() == [[1.5, 2.5]]
    caps = torch.utils.dlpack.to_dlpack(torch.ones(2, 2, dtype=torch.float16))
    assert dlpack.from_dlpack(caps).dtype == np.float16


@pytest.mark.cuda
def test_dlpack_with_cupy_on_gpu():
    import cupy as cp

    a = cp.arange(4, dtype=cp.float32)
    t = dlpack.from_dlpack(a)
    assert t.device == "gpu0"
    a[0] = 9
    assert t.numpy()[0] == 9
    back = cp.from_dlpack(dlpack.to_dlpack(t))
    assert back.data.ptr == a.data.ptr


def test_hook_handler_is_the_modules():
    net = M.Linear(2, 2)
    calls = []
    h = net.register_forward_hook(lambda m, i, o: calls.append(1))
    assert isinstance(h, hook.HookHandler)
    net(mge.tensor(np.ones((1, 2), "float32")))
    h.remove()
    net(mge.tensor(np.ones((1, 2), "float32")))
    assert calls == [1]
    store = collections.OrderedDict()  # weak-referenceable, as Module's hook dicts
    hh = hook.HookHandler(store, print)
    assert list(store.values()) == [print]
    hh.remove()
    assert not store


def test_module_stats_records_params_read_without_calling_their_layer():
    class UsesWeightDirectly(M.Module):
        def __init__(self):
            super().__init__()
            self.conv = M.Conv2d(3, 4, 3)
            self.bn = M.BatchNorm2d(4)

        def forward(self, x):  # conv's parameters are read, conv itself is never called
            return self.bn(F.conv2d(x, self.conv.weight, self.conv.bias))

    _, details = module_stats(UsesWeightDirectly(), input_shapes=[(1, 3, 8, 8)],
                              logging_to_stdout=False)
    names = [d["name"] for d in details.params[:-1]]
    assert names[:2] == ["conv-w", "conv-b"] and "bn-w" in names
    assert "__getattribute__" not in M.Module.__dict__  # the recording patch is gone
