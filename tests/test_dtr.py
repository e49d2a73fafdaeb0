"""DTR (engine/dtr/): bit-exact training under a tight budget, real evictions and
recomputations, the peak bound, deep chains, nested GradManagers, disable, threshold parsing."""
import gc
import itertools
import types

import numpy as np
import pytest

import engine as mge
import engine.functional as F
import engine.module as M
import engine.optimizer as optim
from engine import allocator
from engine.allocator import Storage
from engine.autodiff import GradManager
from engine.dtr import hooks, policy, recompute, state, storage
from engine.ops import core
from engine.tensor import Tensor


@pytest.fixture(autouse=True)
def _dtr_off():
    mge.dtr.disable()
    mge.dtr.reset_stats()
    yield
    mge.dtr.disable()
    mge.dtr.eviction_threshold = 0
    mge.dtr.evictee_minimum_size = 1 << 20
    mge.dtr.enable_sqrt_sampling = False


class Net(M.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = M.Conv2d(3, 8, 3, padding=1)
        self.bn1 = M.BatchNorm2d(8)
        self.conv2 = M.Conv2d(8, 8, 3, padding=1)
        self.bn2 = M.BatchNorm2d(8)
        self.drop = M.Dropout(0.3)
        self.fc = M.Linear(8 * 8 * 8, 5)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.max_pool2d(x, 2)
        return self.fc(self.drop(F.flatten(x, 1)))


def _train(steps=3, **dtr_kw):
    mge.random.seed(7)
    np.random.seed(0)
    net = Net()
    net.train()
    gm = GradManager().attach(net.parameters())
    opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    rng = np.random.default_rng(1)
    if dtr_kw:
        mge.dtr(**dtr_kw)
    for _ in range(steps):
        x = mge.tensor(rng.standard_normal((4, 3, 16, 16)).astype("float32"))
        y = mge.tensor(rng.integers(0, 5, 4).astype("int32"))
        with gm:
            loss = F.nn.cross_entropy(net(x), y)
            gm.backward(loss)
        opt.step().clear_grad()
    mge.dtr.disable()
    return {k: v.copy() for k, v in net.state_dict().items()}


def test_training_is_bit_exact_and_really_evicts():
    ref = _train()
    got = _train(eviction_threshold="200KB", evictee_minimum_size=1024)
    st = mge.dtr.stats()
    assert st["evictions"] > 0 and st["recomputations"] > 0 and st["evicted_bytes"] > 0
    assert st["recompute_seconds"] > 0
    assert ref.keys() == got.keys()
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)


def test_a_budget_that_cannot_be_met_goes_over_and_stays_exact():
    ref = _train(steps=2)
    clock = state.clock
    _train(steps=2, eviction_threshold="1GB")
    ops = state.clock - clock  # ops the two steps run (no evictions at 1GB)
    mge.dtr.reset_stats()
    got = _train(steps=2, eviction_threshold=1, evictee_minimum_size=1024)
    st = mge.dtr.stats()
    # over budget, counted, and no runaway recompute (each op rerun about once at most)
    assert st["over_budget"] > 0 and st["recomputations"] < 2 * ops
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)


def test_sqrt_sampling_is_bit_exact():
    ref = _train(steps=2)
    got = _train(steps=2, eviction_threshold="160KB", evictee_minimum_size=1024,
                 enable_sqrt_sampling=True)
    assert mge.dtr.stats()["evictions"] > 0
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)


def _chain(n, width, x, weights):
    h = x
    for w in weights[:n]:
        h = F.relu(F.matmul(h, w) + 0.01)
    return h.sum()


def test_peak_stays_under_threshold_plus_largest_request(device):
    rng = np.random.default_rng(0)
    width = 64
    x = mge.tensor(rng.standard_normal((64, width)).astype("float32") * 0.1, device=device)
    ws = [mge.Parameter(rng.standard_normal((width, width)).astype("float32") * 0.1,
                        device=device) for _ in range(40)]
    layer = 64 * width * 4  # bytes of one activation
    gm = GradManager().attach(ws)
    with gm:
        gm.backward(_chain(40, width, x, ws))
    ref = [w.grad.numpy() for w in ws]
    for w in ws:
        w.grad = None
    base = mge.get_allocated_memory(device)
    threshold = base + (40 + 16) * layer  # the 40 gradients stay resident (frozen)
    mge.reset_max_memory_stats(device)
    with mge.dtr(eviction_threshold=threshold, evictee_minimum_size=layer):
        with gm:
            gm.backward(_chain(40, width, x, ws))
        st = mge.dtr.stats()
    assert st["evictions"] > 0 and st["recomputations"] > 0
    assert mge.get_max_allocated_memory(device) <= threshold + layer
    for w, r in zip(ws, ref):
        np.testing.assert_array_equal(w.grad.numpy(), r)


def test_thousand_layer_chain_trains_under_a_budget_of_a_few_percent():
    # 1000 layers, room for 32 activations (about sqrt(1000)) beyond the weights and their
    # gradients: bit-identical to the run without DTR, with about two recomputes per layer.
    n, width, batch = 1000, 32, 256
    rng = np.random.default_rng(0)
    x = mge.tensor(rng.standard_normal((batch, width)).astype("float32"))
    layer = batch * width * 4

    def run(budget_layers=None):
        ws = [mge.Parameter(np.eye(width, dtype="float32")
                            + np.float32(0.01) * rng.standard_normal((width, width), "float32"))
              for _ in range(n)]
        gm = GradManager().attach(ws)
        if budget_layers:
            weights = n * width * width * 4
            mge.dtr(eviction_threshold=mge.get_allocated_memory() + weights
                    + budget_layers * layer, evictee_minimum_size=layer)
            mge.reset_max_memory_stats()
        h = x
        with gm:
            for w in ws:
                h = F.relu(F.matmul(h, w))
            gm.backward(h.mean())
        mge.dtr.disable()
        return [w.grad.numpy() for w in ws]

    rng = np.random.default_rng(1)
    ref = run()
    rng = np.random.default_rng(1)
    got = run(budget_layers=32)
    st = mge.dtr.stats()
    # about two recomputes per layer on a quiet machine; the costs are measured times, so a
    # busy one can pick worse victims, but never the quadratic rerun of the whole chain
    assert st["evictions"] > n and n < st["recomputations"] < 50 * n
    assert st["over_budget"] == 0
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g, r)


def test_nested_grad_managers_second_order():
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((128, 128)).astype("float32")

    def run():
        x = mge.Parameter(xs)
        outer, inner = GradManager().attach(x), GradManager().attach(x)
        with outer:
            with inner:
                y = F.exp(F.sin(x) * 0.5) * x
                z = F.tanh(y) * y
                inner.backward(z.sum())
            g = x.grad
            x.grad = None
            outer.backward((g * g).sum())
        return g.numpy(), x.grad.numpy()

    ref = run()
    with mge.dtr(eviction_threshold=mge.get_allocated_memory() + 4 * 128 * 128 * 4,
                 evictee_minimum_size=1024):
        got = run()
        assert mge.dtr.stats()["evictions"] > 0
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)


def test_evicted_tensor_reads_back_and_dropout_replays():
    x = mge.tensor(np.arange(1000, dtype="float32"))
    # room for two more arrays of x's size (and the small bool masks of dropout)
    with mge.dtr(eviction_threshold=mge.get_allocated_memory() + 2 * 4000 + 2000,
                 evictee_minimum_size=0):
        mask = F.nn.dropout(x, 0.5)
        y = F.exp(x * 0.001)
        for _ in range(3):
            F.exp(y)  # pressure: evicts what it can
        assert not mask._storage.resident or not y._storage.resident
        m1 = mask.numpy()
        policy.evict(mask._storage.rec)
        np.testing.assert_array_equal(mask.numpy(), m1)
        np.testing.assert_array_equal(y.numpy(), np.exp(np.arange(1000, dtype="float32")
                                                        * np.float32(0.001)))
        assert mge.dtr.stats()["recomputations"] > 0


def test_params_and_inplace_results_are_never_evicted():
    with mge.dtr(evictee_minimum_size=0):
        p = mge.Parameter(np.ones(100, "float32"))
        assert type(p._storage) is Storage  # no producer: plain, never evicted
        a = p * 2
        a += 1
        assert a._storage.rec.op is None and not a._storage.rec.evictable
        mge.dtr.eviction_threshold = mge.get_allocated_memory() + 400  # room for one more
        es = [F.exp(p) for _ in range(3)]  # each evicts the one before, never a or p
        assert mge.dtr.stats()["evictions"] == 2 and not es[0]._storage.resident
        assert a._storage.resident
        np.testing.assert_array_equal(a.numpy(), np.full(100, 3, "float32"))


def test_optimizer_under_dtr_keeps_old_values_for_recompute():
    # The producer links of y hold p's storage: the optimizer must not overwrite the value y
    # is recomputed from (it copies instead), so y reads back as before the step.
    with mge.dtr(eviction_threshold="1GB", evictee_minimum_size=0):
        p = mge.Parameter(np.ones(10, "float32"))
        gm = GradManager().attach(p)
        opt = optim.SGD([p], lr=0.1)
        with gm:
            y = F.exp(p)
            gm.backward((y * p).sum())
        opt.step()
        policy.evict(y._storage.rec)
        np.testing.assert_array_equal(y.numpy(), np.exp(np.ones(10, "float32")))
        assert type(p._storage) is Storage
        np.testing.assert_allclose(p.numpy(), 1 - 0.1 * 2 * np.e, rtol=1e-6)


def test_disable_restores_the_plain_path():
    orig = core.Op.__dict__["apply"]
    mge.dtr(eviction_threshold="1MB")
    assert mge.dtr.enabled and core.Op.__dict__["apply"] is not orig
    x = mge.tensor(np.ones(4, "float32")) + 1
    assert type(x._storage) is storage.DTRStorage
    mge.dtr.disable()
    assert not mge.dtr.enabled and core.Op.__dict__["apply"] is orig
    y = x + 1
    assert type(y._storage) is Storage
    np.testing.assert_array_equal(y.numpy(), np.full(4, 3, "float32"))
    with mge.dtr:
        assert mge.dtr.enabled
    assert not mge.dtr.enabled


class _NeedsRoom(core.Op):
    """x * 2 that fails like a full device while more than `room` bytes are live."""

    room = 0

    def forward(xp, x):
        live = mge.get_allocated_memory()
        if live > _NeedsRoom.room:
            err = MemoryError(f"out of memory allocating {x.nbytes} bytes")
            err._size = live - _NeedsRoom.room  # what CuPy's OutOfMemoryError carries
            raise err
        return x * 2

    def backward(ctx, dy):
        return dy * 2


def test_out_of_memory_from_the_device_evicts_and_retries():
    rng = np.random.default_rng(0)
    x = mge.tensor(rng.standard_normal(1 << 16).astype("float32"))
    with mge.dtr(evictee_minimum_size=1024):  # threshold 0: evict only when allocation fails
        ys = [F.exp(x * (i + 1) * 0.01) for i in range(8)]
        ref = [y.numpy() for y in ys]
        assert mge.dtr.stats()["evictions"] == 0
        _NeedsRoom.room = mge.get_allocated_memory() - 3 * (4 << 16)
        z = _NeedsRoom.apply(x)
        st = mge.dtr.stats()
        assert st["evictions"] >= 3
        np.testing.assert_array_equal(z.numpy(), x.numpy() * 2)
        for y, r in zip(ys, ref):  # the evicted ones come back bit-identical
            np.testing.assert_array_equal(y.numpy(), r)
        assert mge.dtr.stats()["recomputations"] >= 3


def test_the_failed_request_is_read_from_cupys_message():
    # CuPy's OutOfMemoryError carries the size only in its message
    cupy_like = MemoryError("Out of memory allocating 1,048,576 bytes (allocated so far: "
                            "2,097,152 bytes, limit set to: 3,000,000 bytes).")
    assert policy.requested_bytes(cupy_like) == 1 << 20
    assert policy.requested_bytes(MemoryError("std::bad_alloc")) == 1


def test_numpys_memory_error_gives_its_size():
    try:
        np.empty(1 << 60, np.uint8)  # 1 EiB: numpy refuses with its _ArrayMemoryError
    except MemoryError as e:
        assert policy.requested_bytes(e) == 1 << 60
    else:
        pytest.skip("this machine allocated 1 EiB")


def test_nothing_left_to_evict_is_a_clear_memory_error():
    with mge.dtr(evictee_minimum_size=0):
        x = mge.tensor(np.ones(4, "float32"))
        kept = F.exp(x)  # evictable: evicted before the error, still readable after it
        huge = F.broadcast_to(x, (1 << 23, 1 << 23, 4))  # a view: no bytes yet
        with pytest.raises(MemoryError, match=r"Add.*requested \d+ bytes.*live.*pinned.*"
                                              r"evictable"):
            huge + 1
        assert mge.dtr.stats()["evictions"] >= 1
        np.testing.assert_array_equal(kept.numpy(), np.exp(np.ones(4, "float32")))


def test_plain_allocations_count_against_the_threshold():
    with mge.dtr(eviction_threshold=mge.get_allocated_memory() + (3 << 20),
                 evictee_minimum_size=1024):
        x = mge.tensor(np.ones(1 << 18, "float32"))  # 1 MiB, plain (no producer)
        ys = [x * (i + 2) for i in range(2)]           # 2 MiB of evictable results
        mge.tensor(np.ones(1 << 18, "float32"))        # a plain 1 MiB more: over by 1 MiB
        assert mge.dtr.stats()["evictions"] == 1
        np.testing.assert_array_equal(ys[0].numpy(), np.full(1 << 18, 2, "float32"))


def test_a_gradient_that_is_a_view_stays_readable():
    w = mge.Parameter(np.arange(6, dtype="float32"))
    gm = GradManager().attach(w)
    with mge.dtr(evictee_minimum_size=0):
        with gm:
            y = w.reshape(2, 3)  # the gradient of w comes back through a reshape: a view
            gm.backward((y * y).sum())
        policy.free(w._storage.device, 1 << 40, partial=True)  # evict all that can be
        np.testing.assert_array_equal(w.grad.numpy(), 2 * np.arange(6, dtype="float32"))


class _FailsOnRecompute(core.Op):
    calls = 0

    def forward(xp, x):
        _FailsOnRecompute.calls += 1
        if _FailsOnRecompute.calls > 1:
            raise RuntimeError("broken recompute")
        return x * 2

    def backward(ctx, dy):
        return dy * 2


def test_a_failed_recompute_leaves_nothing_pinned():
    with mge.dtr(evictee_minimum_size=0):
        b = mge.tensor(np.ones(100, "float32")) * 3
        c = _FailsOnRecompute.apply(b)
        policy.evict(c._storage.rec)
        policy.evict(b._storage.rec)
        with pytest.raises(RuntimeError, match="broken recompute"):
            c.numpy()
        assert b._storage.rec.pins == 0 and c._storage.rec.pins == 0
        assert b._storage.resident  # recomputed on the way, evictable again
        policy.evict(b._storage.rec)
        np.testing.assert_array_equal(b.numpy(), np.full(100, 3, "float32"))


def test_a_dead_output_of_a_multi_output_op_recomputes_once(monkeypatch):
    # z's recompute needs max_pool2d's y, dead and evicted: the rerun refills y (and its sibling,
    # the argmax), which must stay resident until z is computed from it
    runs = []
    run = recompute._run

    def counting_run(rec):
        runs.append(rec.op.__name__)
        assert len(runs) < 10, f"recompute loops: {runs}"
        run(rec)

    monkeypatch.setattr(recompute, "_run", counting_run)
    with mge.dtr(evictee_minimum_size=0):
        x = mge.tensor(np.random.default_rng(0).random((1, 2, 8, 8), "float32"))
        z = F.exp(F.max_pool2d(x, 2))
        policy.evict(z._storage.rec)
        np.testing.assert_array_equal(z.numpy(), np.exp(x.numpy().reshape(1, 2, 4, 2, 4, 2)
                                                        .max(axis=(3, 5))))
    assert runs == ["MaxPool2d", "Exp"]


def test_empty_tensors_and_long_lived_inputs():
    with mge.dtr(eviction_threshold=mge.get_allocated_memory() + 600, evictee_minimum_size=0):
        e = mge.tensor(np.ones(0, "float32")) * 2  # 0 bytes: never an eviction candidate
        x = mge.tensor(np.ones(50, "float32")) * 2
        ys = [x * 2, x * 3]
        for _ in range(3):
            ys.append(ys[-1] * 2)  # pressure with an empty tensor around
        assert mge.dtr.stats()["evictions"] > 0 and e.shape == (0,)
        for _ in range(1000):
            x + 1  # each use adds a consumer link; the dead ones are forgotten as they pile up
        assert len(x._storage.rec.consumers) < 64


@pytest.mark.parametrize("value, expected", [
    (0, 0), (1234, 1234), ("2GB", 2 << 30), ("2gb", 2 << 30), ("512 MB", 512 << 20),
    ("1.5GiB", 3 << 29), ("64k", 64 << 10), ("100", 100), ("7B", 7)])
def test_threshold_parsing(value, expected):
    mge.dtr.eviction_threshold = value
    assert mge.dtr.eviction_threshold == expected


@pytest.mark.parametrize("value", ["2 parsecs", "GB", "", "-1GB", -5, 1.5, None, True])
def test_bad_threshold_is_a_clear_value_error(value):
    with pytest.raises(ValueError, match="eviction_threshold"):
        mge.dtr.eviction_threshold = value


def test_shape_and_dtype_reads_never_recompute():
    plain_shape = Tensor.__dict__["shape"]
    with mge.dtr(evictee_minimum_size=0):
        x = mge.tensor(np.ones((3, 4), "float32"))
        z = F.exp(x)
        v = F.exp(x)[:, 1:]  # a view: evicted with its base
        policy.evict(z._storage.rec)
        policy.evict(v._storage.base.rec)
        assert not z._storage.resident and not v._storage.resident
        assert (z.shape, z.dtype, z.ndim, z.size) == ((3, 4), np.float32, 2, 12)
        assert (v.shape, v.ndim, v.size) == ((3, 3), 2, 9)
        assert mge.dtr.stats()["recomputations"] == 0
        np.testing.assert_array_equal(v.numpy(), np.exp(np.ones((3, 3), "float32")))
        assert mge.dtr.stats()["recomputations"] == 2  # the base, then the view of it
    assert Tensor.__dict__["shape"] is plain_shape and z.shape == (3, 4)


def _residual_chain(n, width, x, weights):
    h = x
    for w in weights[:n]:
        h = h + F.relu(F.matmul(h, w))  # h's gradient is accumulated: prev + g in the sweep
    return h.sum()


def _pinned_records():
    return [r for r in gc.get_objects() if type(r) is storage.Record and r.pins]


@pytest.mark.parametrize("chain", [_chain, _residual_chain], ids=["plain", "residual"])
def test_backward_never_evicts_its_own_gradients_and_leaves_nothing_pinned(monkeypatch, device,
                                                                          chain):
    # Every op costs one tick, so the victims do not depend on the machine's load. Under this
    # budget the backward must evict, but never what it computed itself (a gradient whose
    # upstream gradients are freed would be recomputed through the whole backward chain).
    ticks = itertools.count()
    fake_clock = lambda: float(next(ticks))  # noqa: E731
    monkeypatch.setattr(hooks, "_perf", fake_clock)
    monkeypatch.setattr(recompute, "_perf", fake_clock)
    in_backward = {"evictions": 0, "gradient_recomputes": 0}
    evict, run = policy.evict, recompute._run

    def counting_evict(rec):
        in_backward["evictions"] += state.backward_id != 0
        evict(rec)

    def counting_run(rec):
        in_backward["gradient_recomputes"] += rec.backward_id != 0
        run(rec)

    monkeypatch.setattr(policy, "evict", counting_evict)
    monkeypatch.setattr(recompute, "_run", counting_run)
    rng = np.random.default_rng(0)
    width, n = 64, 30
    x = mge.tensor(rng.standard_normal((64, width)).astype("float32") * 0.1, device=device)
    ws = [mge.Parameter(rng.standard_normal((width, width)).astype("float32") * 0.1,
                        device=device) for _ in range(n)]
    gm = GradManager().attach(ws)
    with gm:
        gm.backward(chain(n, width, x, ws))
    ref = [w.grad.numpy() for w in ws]
    layer = 64 * width * 4
    for room in (2, 4, 6):
        for w in ws:
            w.grad = None
        in_backward.update(evictions=0, gradient_recomputes=0)
        with mge.dtr(eviction_threshold=mge.get_allocated_memory(device) + (n + room) * layer,
                     evictee_minimum_size=layer):
            with gm:
                gm.backward(chain(n, width, x, ws))
            assert in_backward["evictions"] > 0, room
            assert in_backward["gradient_recomputes"] == 0, room
            assert _pinned_records() == []
        for w, r in zip(ws, ref):
            np.testing.assert_array_equal(w.grad.numpy(), r)


class _FailsInBackward(core.Op):
    def forward(xp, x):
        return x * 2

    def backward(ctx, dy):
        raise RuntimeError("backward failed")


def test_a_failed_backward_leaves_nothing_pinned():
    with mge.dtr(eviction_threshold="1GB", evictee_minimum_size=0):
        p = mge.Parameter(np.ones(64, "float32"))
        gm = GradManager().attach(p)
        with gm:
            y = F.exp(_FailsInBackward.apply(F.exp(p)))
            with pytest.raises(RuntimeError, match="backward failed"):
                gm.backward((y * y).sum())
        assert _pinned_records() == []


@pytest.mark.cuda
def test_cupy_out_of_memory_evicts_frees_the_pool_and_retries():
    # A real device failure: CuPy's pool is capped, so an allocation past the cap raises its
    # OutOfMemoryError. DTR (threshold 0: evict only on failure) evicts, hands the freed blocks
    # back, and retries; when nothing is left, the MemoryError names the device and the numbers.
    import cupy

    pool = cupy.get_default_memory_pool()
    mib = 1 << 18  # float32 elements in 1 MiB
    x = mge.tensor(np.random.default_rng(0).standard_normal(mib).astype("float32"),
                   device="gpu0")
    with mge.dtr(evictee_minimum_size=1024):
        ys = [F.exp(x * np.float32(0.01 * (i + 1))) for i in range(6)]
        ref = [y.numpy() for y in ys]
        pool.free_all_blocks()
        pool.set_limit(size=pool.used_bytes() + (3 << 20))  # room for three more MiB
        try:
            zs = [F.exp(x * np.float32(0.5)) + i for i in range(6)]
            st = mge.dtr.stats()
            assert st["evictions"] >= 3
            for y, r in zip(ys, ref):  # recomputed bit-identically, on the device
                np.testing.assert_array_equal(y.numpy(), r)
            np.testing.assert_array_equal(zs[-1].numpy(), np.exp(x.numpy() * np.float32(0.5))
                                          + np.float32(5))
            with pytest.raises(MemoryError, match=r"gpu0.*requested.*live.*pinned.*evictable"):
                F.broadcast_to(x, (64, mib)) + 1  # 64 MiB: more than everything evictable
        finally:
            pool.set_limit(size=0)


def test_going_over_budget_on_one_device_does_not_loosen_another():
    kib16 = 1 << 12  # float32 elements in 16 KiB
    threshold = mge.get_allocated_memory("cpu0") + (128 << 10)
    with mge.dtr(eviction_threshold=threshold, evictee_minimum_size=1024):
        mge.reset_max_memory_stats("cpu0")
        x = mge.tensor(np.ones(kib16, "float32"), device="cpu0")
        ys = [F.exp(x), F.exp(x + 1)]  # evictable
        fill = (threshold - mge.get_allocated_memory("cpu0")) // 4
        pad = mge.tensor(np.ones(fill, "float32"), device="cpu0")  # cpu0 now at the threshold
        # cpu1: plain tensors (nothing to evict) past the threshold: over budget there
        held = [mge.tensor(np.ones(kib16, "float32"), device="cpu1")
                for _ in range(threshold // (kib16 * 4) + 8)]
        assert mge.dtr.stats()["over_budget"] > 0 and mge.dtr.stats()["evictions"] == 0
        # cpu0 keeps to the threshold all the same: its new results evict its old ones
        ys += [F.exp(x * np.float32(i)) for i in range(2, 8)]
        assert mge.dtr.stats()["evictions"] > 0
        assert mge.get_max_allocated_memory("cpu0") <= threshold + kib16 * 4
        np.testing.assert_array_equal(ys[0].numpy(), np.exp(np.ones(kib16, "float32")))
    del held, pad


def test_pending_gradients_unpin_the_record_they_pinned():
    with mge.dtr(evictee_minimum_size=0):
        g = F.exp(mge.tensor(np.ones(8, "float32")))
        rec = g._storage.rec
        pending = hooks.PendingGradients()
        pending["k"] = g
        assert rec.pins == 1
        g += 1  # in place: g now holds another storage
        pending.pop("k")
        assert rec.pins == 0 and g._storage.rec.pins == 0
        with pytest.raises(TypeError, match="supports get"):
            pending.update(k=g)


def test_out_of_memory_in_a_node_backward_may_evict_what_it_made():
    node = types.SimpleNamespace(edges=(), saved=None)
    with mge.dtr(evictee_minimum_size=0):
        x = mge.tensor(np.ones(1024, "float32"))
        with hooks.node_backward(node, []):
            made = F.exp(x)  # protected from the threshold's evictions...
            dev = made._storage.device
            assert not policy.free(dev, 1)
            assert policy.free(dev, 1, partial=True)  # ...but not from a full device
            assert not made._storage.resident
        np.testing.assert_array_equal(made.numpy(), np.exp(np.ones(1024, "float32")))


def _patched_paths():
    """What each path DTR patches holds now: the object itself, or None where a class has no
    attribute of that name of its own."""
    return [(owner, name, owner.__dict__.get(name) if isinstance(owner, type)
             else getattr(owner, name)) for owner, name, _ in hooks._patches()]


def test_disable_restores_every_patched_path():
    """One install/uninstall (hooks.py): disabling puts back the very objects that were there
    and deletes what it added (Storage has no __init__ of its own: one left behind would cost
    every allocation a Python frame), also after several rounds and a second enable."""
    before, hooks_before = _patched_paths(), core.apply_hooks
    names = {(type(o).__name__ if not isinstance(o, type) else o.__name__, n)
             for o, n, _ in before}
    assert {("Op", "apply"), ("module", "Storage"), ("Storage", "__init__"),
            ("Tensor", "shape"), ("Tensor", "size")} <= names
    for _ in range(3):
        mge.dtr(eviction_threshold="1GB")
        mge.dtr.enable()  # a second enable changes nothing
        now = _patched_paths()
        assert all(a[2] is not b[2] for a, b in zip(before, now))
        assert core.apply_hooks == hooks_before + 1
        assert type((mge.tensor([1.0]) + 1)._storage) is storage.DTRStorage
        mge.dtr.disable()
        mge.dtr.disable()
        assert all(a[2] is b[2] for a, b in zip(before, _patched_paths()))
        assert core.apply_hooks == hooks_before
    assert "__init__" not in Storage.__dict__
    assert core.Storage is allocator.Storage is Storage
    x = mge.tensor([1.0, 2.0])
    assert type((x + x)._storage) is Storage and x.shape == (2,)


def test_dtr_wraps_an_installed_profiler_and_unwinds_with_it(tmp_path):
    """DTR wraps whatever Op.apply it finds, so a profiler started first still sees every op,
    and stopping them in turn leaves the plain path."""
    import json

    from engine.utils.profiler import Profiler

    plain = core.Op.__dict__["apply"]
    x = mge.tensor(np.ones(4, "float32"))
    with Profiler(str(tmp_path)) as prof:
        with mge.dtr(eviction_threshold="1GB"):
            y = F.exp(x) * 2
            assert type(y._storage) is storage.DTRStorage
    assert core.Op.__dict__["apply"] is plain
    with open(prof.path) as f:
        ops = [e["name"] for e in json.load(f)["traceEvents"] if e.get("cat") == "op"]
    assert ops == ["Exp", "Mul"]
