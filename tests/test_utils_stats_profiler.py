"""engine.utils: module_stats (MegEngine's counting conventions), the Chrome-trace Profiler
(one event per op, zero cost when off), dlpack, hook."""
import json
import os

import numpy as np
import pytest

import engine as mge
import engine.functional as F
import engine.module as M
from engine.ops import core
from engine.utils.module_stats import module_stats, register_hook_module
from engine.utils.profiler import Profiler, merge_trace_events, profile, scope


class Net(M.Module):
    def __init__(self):
        super().__init__()
        self.conv = M.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn = M.BatchNorm2d(8)
        self.pool = M.MaxPool2d(2)
        self.gconv = M.Conv2d(8, 16, 3, padding=1, groups=4)
        self.fc = M.Linear(256, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv(x))))
        return self.fc(F.flatten(self.gconv(x), 1))


def test_module_stats_totals_follow_megengine_conventions():
    total, details = module_stats(Net(), input_shapes=(2, 3, 16, 16), logging_to_stdout=False)
    conv = 2 * 8 * 8 * 8 * (3 * 9)                  # prod(out) * Cin * k*k (no bias)
    bn = 2 * 8 * 8 * 8 * 7                           # 7 per input element
    pool = 2 * 8 * 4 * 4 * 4                         # prod(out) * window area
    gconv = 2 * 16 * 4 * 4 * (8 // 4 * 9 + 1)        # grouped, with bias
    fc = 2 * 10 * 256 + 10                           # prod(out) * in + out_features
    assert total.flops == conv + bn + pool + gconv + fc
    params = 8 * 3 * 9 + 8 + 8 + 16 * 2 * 9 + 16 + 256 * 10 + 10
    assert total.param_dims == params and total.param_size == params * 4
    acts = 2 * 8 * 8 * 8 * 2 + 2 * 8 * 4 * 4 + 2 * 16 * 4 * 4 + 2 * 10
    assert total.act_dims == acts and total.act_size == acts * 4
    assert [d["name"] for d in details.flops[:-1]] == ["conv", "bn", "pool", "gconv", "fc"]
    assert details.params[-1]["name"] == "total"


def test_module_stats_with_inputs_prints_tables_and_restores_training(capsys):
    net = Net()
    net.train()
    x = np.random.default_rng(0).standard_normal((1, 3, 16, 16)).astype("float32")
    total, _ = module_stats(net, inputs=x)
    out = capsys.readouterr().out
    assert "param stats:" in out and "flops stats:" in out and "activations stats:" in out
    assert "mean" in out.split("activations stats:")[1].splitlines()[2]
    assert net.training and total.flops > 0


def test_module_stats_needs_inputs_and_registers_extra_layers():
    with pytest.raises(ValueError, match="module_stats: pass `inputs` or `input_shapes`"):
        module_stats(Net())

    class Scale(M.Module):
        def __init__(self):
            super().__init__()
            self.weight = mge.Parameter(np.ones(3, "float32"))

        def forward(self, x):
            return x * self.weight

    register_hook_module(Scale)
    total, details = module_stats(M.Sequential(Scale()), input_shapes=(2, 3),
                                  logging_to_stdout=False)
    assert total.param_dims == 3 and total.act_dims == 6
    with pytest.raises(TypeError, match="register_hook_module"):
        register_hook_module(3)


def test_profiler_writes_one_event_per_op_and_restores_apply(tmp_path):
    before = core.Op.__dict__["apply"]
    net = M.Sequential(M.Linear(4, 3), M.ReLU())
    with Profiler(str(tmp_path), with_scopes=True) as prof:
        with scope("forward"):
            net(mge.tensor(np.ones((2, 4), "float32")))
        prof.step()
    assert core.Op.__dict__["apply"] is before   # nothing left on the hot path
    with open(prof.path) as f:
        events = json.load(f)["traceEvents"]
    assert events[0]["name"] == "Metadata"
    ops = [e for e in events if e.get("cat") == "op"]
    assert [e["name"] for e in ops] == ["Matmul", "Add", "Relu"]
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in ops)
    assert ops[0]["args"]["inputs"] == ["(2, 4)", "(3, 4)"]  # x, weight (out, in)
    names = {e["name"]: e for e in events}
    assert names["Linear"]["cat"] == "module" and names["forward"]["cat"] == "scope"
    assert names["forward"]["ts"] <= ops[0]["ts"]
    assert any(e["ph"] == "i" and e["name"] == "step" for e in events)
    assert os.path.basename(prof.path) == f"{os.getpid()}.chrome_timeline.json"


def test_profiler_as_decorator_and_merge(tmp_path):
    @profile(str(tmp_path))
    def work():
        return F.exp(mge.tensor([1.0]))

    work()
    out = merge_trace_events(str(tmp_path))
    with open(out) as f:
        assert [e["name"] for e in json.load(f)["traceEvents"]] == ["Exp"]


def test_profiler_bad_arguments_and_nesting():
    with pytest.raises(ValueError, match="unsupported format 'memory_flow.svg'"):
        Profiler(format="memory_flow.svg")
    with pytest.raises(TypeError, match="unknown options.*'bogus'"):
        Profiler(bogus=1)
    with pytest.raises(TypeError, match="formats expects a list"):
        Profiler(formats="chrome_timeline.json")
    p = Profiler("/tmp/engine_prof_nest", sample_rate=3)
    assert p.options["sample_rate"] == 3
    with p:
        with pytest.raises(RuntimeError, match="another Profiler is already recording"):
            Profiler("/tmp/engine_prof_nest").start()


def test_dlpack_round_trips_and_shares_memory():
    torch = pytest.importorskip("torch")
    from engine.utils.dlpack import from_dlpack, to_dlpack

    x = mge.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(from_dlpack(to_dlpack(x)).numpy(), x.numpy())
    t = torch.arange(4, dtype=torch.float32)
    e = from_dlpack(t)
    t[0] = 9.0                                   # zero copy: the engine tensor sees it
    assert e.numpy().tolist() == [9.0, 1.0, 2.0, 3.0]
    np.testing.assert_array_equal(torch.utils.dlpack.from_dlpack(to_dlpack(x)).numpy(),
                                  x.numpy())
    assert from_dlpack(np.arange(3, dtype=np.int64)).dtype == np.int32   # engine's dtype rule
    with pytest.raises(TypeError, match="from_dlpack: expected an object with __dlpack__"):
        from_dlpack([1, 2])
    with pytest.raises(TypeError, match="to_dlpack: expected an engine Tensor"):
        to_dlpack(np.ones(2))


def test_hook_handler_is_modules():
    from engine.utils.hook import HookHandler

    m = M.ReLU()
    h = m.register_forward_hook(lambda *a: None)
    assert isinstance(h, HookHandler)
    h.remove()


def test_hook_modules_is_one_live_list():
    import engine.module as M
    from engine.utils import module_stats as ms

    hooked = ms.hook_modules  # (MegEngine code imports the list itself)
    assert M.Conv2d in hooked and M.Linear in hooked

    class Doubler(M.Module):
        def forward(self, x):
            return x * 2

    ms.register_hook_module(Doubler)
    assert Doubler in hooked and ms.hook_modules is hooked
    hooked.remove(Doubler)
