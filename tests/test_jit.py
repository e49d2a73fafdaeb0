"""engine.jit.trace (engine/jit/): recorded calls checked (default mode) or replayed without the
function's Python (without_host=True), each against the eager result, bit for bit."""
import numpy as np
import pytest

import engine as mge
import engine.functional as F
import engine.module as M
import engine.optimizer as optim
from engine.autodiff import GradManager
from engine.jit import (
    DTRConfig,
    GraphOptimizationConfig,
    SublinearMemoryConfig,
    TraceError,
    exclude_from_trace,
    is_tracing,
    trace,
)
from engine.ops import core

rng = np.random.default_rng(0)


def _t(*shape):
    return mge.tensor(rng.standard_normal(shape).astype("float32"))


class Net(M.Module):
    def __init__(self):
        super().__init__()
        self.conv = M.Conv2d(3, 4, 3, padding=1)
        self.bn = M.BatchNorm2d(4)
        self.fc = M.Linear(4 * 8 * 8, 5)

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)))
        return self.fc(F.flatten(F.dropout(y, 0.2), 1))


def _state(net):
    return {k: v.copy() for k, v in net.state_dict().items()}


@pytest.mark.parametrize("without_host", [False, True])
def test_replay_equals_eager_with_bn_statistics_and_dropout(without_host):
    """A training-mode forward: BatchNorm updates its running statistics in place and dropout
    draws fresh masks every call; the traced calls give what eager calls give from the same
    RNG state, statistics included."""
    eager, traced = Net(), Net()
    traced.load_state_dict(eager.state_dict())
    xs = [_t(2, 3, 8, 8) for _ in range(4)]
    f = trace(lambda x: traced(x), without_host=without_host)
    for x in xs:
        mge.random.seed(7 + int(x.numpy().sum() * 1e3) % 97)
        want = eager(x).numpy()
        mge.random.seed(7 + int(x.numpy().sum() * 1e3) % 97)
        got = f(x).numpy()
        np.testing.assert_array_equal(got, want)
    for k, v in _state(eager).items():
        np.testing.assert_array_equal(_state(traced)[k], v, err_msg=k)
    rec = next(iter(f._recordings.values()))
    assert (rec.program is not None) == without_host and rec.calls == len(xs)


@pytest.mark.parametrize("without_host", [False, True])
def test_training_steps_are_bit_identical(without_host):
    """GradManager, backward and an optimizer step (momentum: optimizer state) inside the
    traced function, with BatchNorm statistics and dropout: the default mode runs it every call
    and checks its ops; without_host=True replays forward, backward and the optimizer step
    without the function's Python."""
    def make():
        mge.random.seed(3)
        net = Net()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        gm = GradManager().attach(net.parameters())
        return net, opt, gm

    data = [(_t(2, 3, 8, 8), mge.tensor(rng.integers(0, 5, 2).astype("int32")))
            for _ in range(5)]
    results = []
    for traced in (False, True):
        net, opt, gm = make()

        def step(x, y, net=net, opt=opt, gm=gm):
            with gm:
                loss = F.nn.cross_entropy(net(x), y)
                gm.backward(loss)
            opt.step().clear_grad()
            return loss

        run = trace(step, symbolic=True, without_host=without_host) if traced else step
        mge.random.seed(11)
        losses = [float(run(x, y).numpy()) for x, y in data]
        results.append((losses, _state(net)))
        assert all(p.grad is None for p in net.parameters())
        if traced:
            rec = next(iter(run._recordings.values()))
            assert (rec.program is not None) == without_host and rec.calls == len(data)
    assert results[0][0] == results[1][0]
    for k, v in results[0][1].items():
        np.testing.assert_array_equal(results[1][1][k], v, err_msg=k)


def test_replayed_step_without_clear_grad_leaves_the_gradients():
    """A step that stops after backward leaves .grad as eager does; the next replay refuses to
    run over those gradients (eager would add to them) until they are cleared."""
    eager, replayed = M.Linear(3, 2), M.Linear(3, 2)
    replayed.load_state_dict(eager.state_dict())
    xs = [_t(4, 3) for _ in range(3)]

    def make(net):
        gm = GradManager().attach(net.parameters())

        def step(x):
            with gm:
                loss = (net(x) ** 2).sum()
                gm.backward(loss)
            return loss
        return step

    e, r = make(eager), trace(make(replayed), without_host=True)
    for x in xs:
        e(x), r(x)
        for pe, pr in zip(eager.parameters(), replayed.parameters()):
            np.testing.assert_array_equal(pr.grad.numpy(), pe.grad.numpy())
            pe.grad = pr.grad = None
    r(xs[0])
    with pytest.raises(TraceError, match="gradient before the call.*clear_grad"):
        r(xs[1])


def test_without_host_refuses_what_it_cannot_replay():
    net = M.Linear(3, 2)
    opt = optim.SGD(net.parameters(), lr=0.1)
    gm = GradManager().attach(net.parameters())

    @trace(without_host=True)
    def forward_only(x):
        return net(x).sum()

    with gm:  # recording began outside: the backward needs the call's tape
        with pytest.raises(TraceError, match="began recording before the call"):
            forward_only(_t(4, 3))
        gm.backward()

    @trace(without_host=True)
    def open_recording(x):
        gm.record()
        return net(x).sum()

    with pytest.raises(TraceError, match="still records when the call returns"):
        open_recording(_t(4, 3))
    gm.release()

    gm_cb = GradManager().attach(net.parameters(), callbacks=lambda t, g: g * 2)

    @trace(without_host=True)
    def with_callbacks(x):
        with gm_cb:
            gm_cb.backward(net(x).sum())
        opt.step().clear_grad()

    with pytest.raises(TraceError, match="callbacks"):
        with_callbacks(_t(4, 3))
    opt.clear_grad()

    @trace(without_host=True)
    def reads_after_step(x):
        with gm:
            gm.backward(net(x).sum())
        opt.step().clear_grad()
        return net(x)

    with pytest.raises(TraceError, match="after the optimizer step"):
        reads_after_step(_t(4, 3))

    @trace(without_host=True)
    def excluded(x):
        with exclude_from_trace():
            y = x + 1
        return y * 2

    with pytest.raises(TraceError, match="exclude_from_trace"):
        excluded(_t(2))


def test_replay_reads_parameters_afresh_unless_captured_as_const():
    lin = M.Linear(3, 2)
    x = _t(4, 3)
    live = trace(lambda x: lin(x), without_host=True)
    frozen = trace(lambda x: lin(x), without_host=True, capture_as_const=True)
    first = live(x).numpy()
    np.testing.assert_array_equal(frozen(x).numpy(), first)
    lin.weight._reset(lin.weight * 2)   # an update outside the traced function
    np.testing.assert_array_equal(live(x).numpy(), lin(x).numpy())
    np.testing.assert_array_equal(frozen(x).numpy(), first)
    assert not np.array_equal(live(x).numpy(), first)


def test_signature_changes_raise_or_retrace():
    @trace
    def f(x, scale):
        return x * scale

    f(_t(2, 3), 2.0)
    f(_t(3, 3), 2.0)  # the default mode leaves shapes free, in both symbolic modes
    with pytest.raises(TraceError, match="symbolic=True"):
        f(_t(2, 3), 3.0)  # a non-Tensor argument is part of the signature
    with pytest.raises(TraceError, match="symbolic=True"):
        f(mge.tensor(np.ones((2, 3), "int32")), 2.0)  # so is a dtype
    g = trace(lambda x: x * 2, without_host=True)
    g(_t(2, 3))
    with pytest.raises(TraceError, match=r"called with \(Tensor\(3, 3\):float32@cpu0\), "
                                         r"traced with \(Tensor\(2, 3\):float32@cpu0\)"):
        g(_t(3, 3))  # a replay is of one shape
    # symbolic=True: the default mode leaves shapes free (one recording); a replay is of one
    # signature, so without_host=True retraces for a new shape
    for without_host, n in ((False, 1), (True, 2)):
        g = trace(lambda x: x * 2, symbolic=True, without_host=without_host)
        for shape in ((2,), (3, 1), (2,)):
            x = _t(*shape)
            np.testing.assert_array_equal(g(x).numpy(), x.numpy() * 2)
        assert len(g._recordings) == n


def test_a_diverging_call_names_the_first_different_op():
    branch = {"relu": True}

    @trace
    def f(x):
        y = x * 2
        return F.relu(y) if branch["relu"] else F.sigmoid(y)

    f(_t(3))
    branch["relu"] = False
    with pytest.raises(TraceError, match=r"op 1 differs from the recording: Sigmoid\(\(3,\):"
                                         r"float32.*recorded Relu"):
        f(_t(3))

    @trace
    def g(x, n):
        for _ in range(n):
            x = x + 1
        return x

    with pytest.raises(TraceError):
        g(_t(2), 1), g(_t(2), 2)  # (n is in the signature: a different call)
    h = trace(lambda x: x + 1 if branch["relu"] else (x + 1) * 1)
    branch["relu"] = True
    h(_t(2))
    branch["relu"] = False
    with pytest.raises(TraceError, match="more ops than the recorded one"):
        h(_t(2))


def test_outputs_of_every_container_kind():
    @trace(without_host=True)
    def f(x):
        return {"a": x * 2, "b": [x + 1, (x - 1, 3)], "c": None}, x

    x = _t(2)
    f(x)
    out, same = f(x)
    assert same is x  # an input handed back is the caller's tensor
    np.testing.assert_array_equal(out["a"].numpy(), x.numpy() * 2)
    np.testing.assert_array_equal(out["b"][0].numpy(), x.numpy() + 1)
    np.testing.assert_array_equal(out["b"][1][0].numpy(), x.numpy() - 1)
    assert out["b"][1][1] == 3 and out["c"] is None and isinstance(out["b"][1], tuple)


def test_replay_frees_intermediates_and_profiles():
    @trace(without_host=True, profiling=True)
    def f(x):
        for _ in range(5):
            x = F.exp(x * 0.1) * 0.5
        return x

    x = _t(256, 256)
    f(x)
    live = mge.get_allocated_memory()
    y = f(x)
    # one output lives on; the 10 intermediates were freed after their last use
    assert mge.get_allocated_memory() - live == 256 * 256 * 4
    prof = f.get_profile()
    assert prof["calls"] == 2 and set(prof["ops"]) == {"Exp", "Mul"}
    np.testing.assert_allclose(y.numpy(), _chain(x.numpy()), rtol=1e-6)


def _chain(a):
    for _ in range(5):
        a = np.exp(a * np.float32(0.1)) * np.float32(0.5)
    return a


def test_is_tracing_hooks_and_nesting():
    seen = []
    inner = trace(lambda x: x + 1)

    @trace
    def outer(x):
        seen.append(is_tracing())
        with exclude_from_trace():
            seen.append(is_tracing())
        return inner(x) * 2   # a traced function inside a traced call: part of this one

    hooks = core.apply_hooks
    np.testing.assert_array_equal(outer(mge.tensor([1.0])).numpy(), [4.0])
    assert seen == [True, False] and not is_tracing() and core.apply_hooks == hooks
    assert core.Op.__dict__["apply"].__func__ is getattr(core._C, "op_apply",
                                                         core._apply_py)


def test_a_failing_call_leaves_nothing_installed():
    @trace
    def f(x):
        raise KeyError("boom")

    plain = core.Op.__dict__["apply"]
    with pytest.raises(KeyError):
        f(_t(2))
    assert core.Op.__dict__["apply"] is plain and not is_tracing()


def test_options_and_configs():
    assert callable(trace(symbolic=True))  # options first: a decorator
    f = trace(symbolic=True, opt_level=3, graph_opt_config=GraphOptimizationConfig(),
              sublinear_memory_config=SublinearMemoryConfig(),
              dtr_config=DTRConfig(eviction_threshold=1 << 30))(lambda x: x * 3)
    np.testing.assert_array_equal(f(mge.tensor([1.0])).numpy(), [3.0])
    assert not mge.dtr.enabled  # on only while the call ran
    assert "jit_fuse_reduce = UNSET" in repr(GraphOptimizationConfig())
    with pytest.raises(ValueError, match="eviction_threshold"):
        DTRConfig()
    with pytest.raises(ValueError, match="genetic_pool_size"):
        SublinearMemoryConfig(genetic_nr_iter=5, genetic_pool_size=1)
    with pytest.raises(TypeError, match="dtr_config must be a DTRConfig"):
        trace(lambda x: x, dtr_config={"eviction_threshold": 1})
    with pytest.raises(TypeError, match="expected a callable"):
        trace(3)


def test_record_only_never_replays_and_methods_bind():
    calls = []

    @trace(record_only=True, without_host=True)
    def f(x):
        calls.append(1)
        return x + 1

    f(_t(2)), f(_t(2))
    assert len(calls) == 2 and not f._recordings

    class Model(M.Module):
        def __init__(self):
            super().__init__()
            self.lin = M.Linear(2, 2)

        @trace(without_host=True)
        def run(self, x):
            return self.lin(x)

    m, x = Model(), _t(3, 2)
    np.testing.assert_array_equal(m.run(x).numpy(), m.lin(x).numpy())
    np.testing.assert_array_equal(m.run(x).numpy(), m.lin(x).numpy())


def test_without_host_refuses_host_data_but_keeps_constants():
    @trace(without_host=True)
    def host_array(x):
        return x * mge.tensor(np.arange(3, dtype="float32"))

    with pytest.raises(TraceError, match=r"Tensor of shape \(3,\) from host data"):
        host_array(_t(3))

    @trace(without_host=True)
    def host_scalar(x):
        return x + mge.tensor(1.0)

    with pytest.raises(TraceError, match=r"Tensor of shape \(\) from host data"):
        host_scalar(_t(3))

    @trace(without_host=True)
    def constants(x):
        return x * 2.0 + F.ones_like(x) + F.full((3,), 0.5)

    x = _t(3)
    for _ in range(2):
        np.testing.assert_array_equal(constants(x).numpy(), x.numpy() * 2.0 + 1.0 + 0.5)


def test_the_default_mode_checks_dataflow_not_shapes():
    """A call whose intermediate shapes differ (a data-dependent selection) passes the check;
    one whose ops read other values than the recording's is MegEngine's TraceError."""
    def fn(x):
        return x[x.numpy() > 0].sum()

    x1, x2 = mge.tensor([1.0, -1.0, 2.0]), mge.tensor([1.0, 2.0, 3.0])
    for symbolic in (False, True):
        f = trace(fn, symbolic=symbolic)
        for x in (x1, x2):
            np.testing.assert_array_equal(f(x).numpy(), fn(x).numpy())
    a, b = _t(3), _t(3)
    swap = trace(lambda p, q, flip: (q - p) if flip else (p - q))
    swap(a, b, False)
    with pytest.raises(TraceError, match="symbolic=True"):
        swap(a, b, True)
    order = trace(lambda p, q: p * q + (q if len(calls) < 2 else p), symbolic=True)
    calls = []
    for _ in range(2):
        calls.append(order(a, b))
    with pytest.raises(TraceError) as e:
        calls.append(order(a, b))
    assert str(e.value) == "trace error because input id mismatch"  # MegEngine's words
    assert "comes from ('i', 0), in the recording from ('i', 1)" in e.value.__notes__[0]


def _squares_step(net, momentum):
    """A training step of net on mean(net(x)^2) with SGD."""
    opt = optim.SGD(net.parameters(), lr=0.01, momentum=momentum)
    gm = GradManager().attach(net.parameters())

    def step(x):
        with gm:
            loss = (net(x) ** 2).mean()
            gm.backward(loss)
        opt.step().clear_grad()
        return loss
    return step


def test_replayed_training_step_frees_activations_at_their_last_use():
    """The replay deletes each value after its last reader; eager keeps the forward's
    activations until the step's tape is released, so the replay peaks lower."""
    import tracemalloc

    def make():
        mge.random.seed(5)
        return _squares_step(M.Sequential(*[M.Sequential(M.Linear(256, 256), M.ReLU())
                                            for _ in range(6)]), momentum=0.0)

    x = _t(512, 256)
    eager, replay = make(), trace(make(), without_host=True)
    peaks = []
    for f in (eager, replay):
        f(x), f(x)  # (the recording call, then a replay)
        tracemalloc.start()
        f(x)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 0.8 * peaks[0], peaks


def test_partial_trace_runs_eagerly_under_a_recording_and_replays_otherwise():
    from engine.jit import partial_trace

    class Part(M.Module):
        def __init__(self):
            super().__init__()
            self.lin = M.Linear(3, 2)

        @partial_trace
        def forward(self, x):
            return F.exp(self.lin(x)) * 0.5

    part = Part()
    gm = GradManager().attach(part.parameters())
    x = _t(4, 3)
    want = (F.exp(part.lin(x)) * 0.5).numpy()
    for _ in range(3):  # the recording, then replays
        np.testing.assert_array_equal(part(x).numpy(), want)
    replay, checked = Part.forward.__wrapped_traces__
    assert replay._recordings and next(iter(replay._recordings.values())).calls == 3
    with gm:
        loss = part(x).sum()
        gm.backward(loss)
    g = part.lin.weight.grad.numpy()
    part.lin.weight.grad = part.lin.bias.grad = None
    with gm:
        gm.backward((F.exp(part.lin(x)) * 0.5).sum())
    np.testing.assert_array_equal(g, part.lin.weight.grad.numpy())
    assert checked._recordings
    with pytest.raises(ValueError, match="without_host"):
        partial_trace(lambda t: t, without_host=False)


def test_captured_inference_replay_runs_the_inference_passes():
    """capture_as_const + without_host + opt_level 2 (the default): BatchNorm folded into the
    conv and conv + ReLU fused in the replayed program; opt_level 1 replays the ops as
    recorded, bit for bit."""
    net = M.Sequential(M.Conv2d(3, 4, 3, padding=1, bias=False), M.BatchNorm2d(4), M.ReLU())
    net[1].running_var._reset(mge.tensor(rng.uniform(0.5, 2, (4,)).astype("float32")))
    net.eval()
    x = _t(2, 3, 6, 6)
    want = net(x).numpy()
    fast = trace(net, capture_as_const=True, without_host=True)
    plain = trace(net, capture_as_const=True, without_host=True, opt_level=1)
    for _ in range(2):
        np.testing.assert_allclose(fast(x).numpy(), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(plain(x).numpy(), want)
    ops = [s[1].__name__ for s in next(iter(fast._recordings.values())).replay.steps]
    assert ops == ["Conv2dRelu"]


def test_sublinear_memory_config_recomputes_cheap_values_bit_identically():
    """With sublinear_memory_config the replay recomputes BatchNorm + ReLU outputs before
    their backward uses instead of keeping them: the same losses and parameters, a lower
    peak."""
    import tracemalloc

    def make(**kw):
        mge.random.seed(9)
        net = M.Sequential(*[M.Sequential(M.Conv2d(8, 8, 3, padding=1, bias=False),
                                          M.BatchNorm2d(8), M.ReLU()) for _ in range(4)])
        return net, trace(_squares_step(net, momentum=0.9), without_host=True, **kw)

    x = _t(8, 8, 32, 32)
    plain_net, plain = make()
    sub_net, sub = make(sublinear_memory_config=SublinearMemoryConfig())
    peaks = []
    for f in (plain, sub):
        f(x), f(x)
        tracemalloc.start()
        f(x)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    for k, v in _state(plain_net).items():
        np.testing.assert_array_equal(_state(sub_net)[k], v, err_msg=k)
    rec = next(iter(sub._recordings.values()))
    from engine.jit.fusion import fuse_with_relu

    # recomputations inserted into the (fused, opt_level 2) program
    assert len(rec.replay.steps) > len(fuse_with_relu(rec.program).steps)
    assert peaks[1] < 0.9 * peaks[0], peaks


def test_without_host_refuses_random_parameters_from_tensors():
    @trace(without_host=True)
    def draw(k):
        return mge.random.gamma(k, 1, size=(100,)).mean()

    with pytest.raises(TraceError, match="random.gamma takes its parameters from a Tensor"):
        draw(mge.tensor(1.0))


def _bn_relu_step(model, opt_level, seed=3):
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    gm = GradManager().attach(model.parameters())

    def step(x):
        with gm:
            loss = (model(x) ** 2).mean()
            gm.backward(loss)
        opt.step().clear_grad()
        return loss

    return trace(step, without_host=True, opt_level=opt_level)


class _BnRelu(M.Module):
    def __init__(self, also_read_y=False):
        super().__init__()
        self.conv, self.bn = M.Conv2d(3, 4, 3, padding=1), M.BatchNorm2d(4)
        self.also_read_y = also_read_y

    def forward(self, x):
        y = self.bn(self.conv(x))
        z = F.relu(y)
        return z + y if self.also_read_y else z


def _ops_of(traced):
    rec = next(iter(traced._recordings.values()))
    prog = rec.replay or rec.program
    return [s[1].__name__ for s in prog.steps if s[0] == 0]


@pytest.mark.parametrize("also_read_y", [False, True])
def test_training_replay_fuses_batch_norm_relu_bit_exactly(also_read_y):
    x = mge.tensor(np.random.default_rng(0).standard_normal((4, 3, 6, 6)).astype("float32"))
    models = [_BnRelu(also_read_y) for _ in range(3)]
    for m in models[1:]:
        m.load_state_dict(models[0].state_dict())
    eager, fused, plain = (_bn_relu_step(models[0], 2).__wrapped__, _bn_relu_step(models[1], 2),
                           _bn_relu_step(models[2], 1))
    for _ in range(3):
        want = eager(x).numpy()
        assert fused(x).numpy() == want and plain(x).numpy() == want
    for m in models[1:]:
        for a, b in zip(models[0].parameters(), m.parameters()):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(models[0].bn.running_mean.numpy(), m.bn.running_mean.numpy())
    ops = _ops_of(fused)
    if also_read_y:  # y has a second reader: it must exist, nothing is fused
        assert "BatchNormRelu" not in ops and "BatchNormReluGrad" not in ops
    else:
        assert ops.count("BatchNormRelu") == 1 and ops.count("BatchNormReluGrad") == 1
        assert "Relu" not in ops and "ReluGrad" not in ops
    assert "BatchNormRelu" not in _ops_of(plain)  # opt_level 1 replays the ops as recorded


def test_training_replay_fuses_residual_add_relu_bit_exactly():
    class Residual(M.Module):
        def __init__(self):
            super().__init__()
            self.conv = M.Conv2d(4, 4, 3, padding=1)

        def forward(self, x):
            return F.relu(self.conv(x) + x)

    x = mge.tensor(np.random.default_rng(1).standard_normal((2, 4, 5, 5)).astype("float32"))
    a, b = Residual(), Residual()
    b.load_state_dict(a.state_dict())
    eager, fused = _bn_relu_step(a, 2).__wrapped__, _bn_relu_step(b, 2)
    for _ in range(3):
        assert fused(x).numpy() == eager(x).numpy()
    np.testing.assert_array_equal(a.conv.weight.numpy(), b.conv.weight.numpy())
    assert "AddRelu" in _ops_of(fused) and "Relu" not in _ops_of(fused)
    # a large sum takes the native one-pass kernel: the same bits as add then relu
    big = [np.random.default_rng(2).standard_normal(1 << 18).astype("float32") for _ in "ab"]
    from engine import _C

    np.testing.assert_array_equal(_C.add_relu(*big), np.maximum(big[0] + big[1], 0))
