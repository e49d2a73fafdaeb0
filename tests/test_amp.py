"""engine.amp: autocast's per-op casting (MegEngine's lists), nesting, the decorator, the disabled
path, GradScaler's scaling arithmetic (against the formulas and torch.amp.GradScaler), and the
format conversion calls."""
import numpy as np
import pytest
import torch

import engine as mge
import engine.functional as F
import engine.module as M
import engine.optimizer as optim
from engine import amp
from engine import dtype as _dt
from engine.amp import _state
from engine.autodiff import GradManager
from engine.ops import REGISTRY, Op

rng = np.random.default_rng(0)
X32 = rng.uniform(0.5, 1.5, (2, 3, 4, 4)).astype(np.float32)
W32 = rng.uniform(-1, 1, (5, 3, 3, 3)).astype(np.float32)
A32 = rng.uniform(-1, 1, (3, 4)).astype(np.float32)


def _t(a, dtype="float32"):
    return mge.tensor(a, dtype=dtype)


# (name, fn(x16, x32, a32, w32), dtype under autocast). The dtypes are MegEngine 1.13's, measured
# on the same calls: low-precision ops give float16 from float32 inputs, high-precision ops give
# float32 from float16 inputs, the others follow their inputs.
AUTOCAST_DTYPES = [
    ("matmul", lambda h, x, a, w: F.matmul(a, a.T), "float16"),
    ("linear_bias", lambda h, x, a, w: F.nn.linear(a, a, _t(np.ones(3))), "float16"),
    ("conv2d", lambda h, x, a, w: F.conv2d(x, w), "float16"),
    ("conv2d_bias", lambda h, x, a, w: F.conv2d(x, w, _t(np.ones((1, 5, 1, 1)))), "float16"),
    ("conv_transpose2d", lambda h, x, a, w: F.conv_transpose2d(x, F.transpose(w, (1, 0, 2, 3))),
     "float16"),
    ("exp16", lambda h, x, a, w: F.exp(h), "float32"),
    ("exp32", lambda h, x, a, w: F.exp(x), "float32"),
    ("log16", lambda h, x, a, w: F.log(h), "float32"),
    ("sqrt16", lambda h, x, a, w: F.sqrt(h), "float32"),
    ("sin16", lambda h, x, a, w: F.sin(h), "float32"),
    ("pow16", lambda h, x, a, w: h ** 2, "float32"),
    ("div16", lambda h, x, a, w: h / h, "float32"),
    ("relu32", lambda h, x, a, w: F.relu(x), "float32"),
    ("relu16", lambda h, x, a, w: F.relu(h), "float16"),
    ("tanh16", lambda h, x, a, w: F.tanh(h), "float16"),
    ("sigmoid16", lambda h, x, a, w: F.sigmoid(h), "float16"),
    ("gelu16", lambda h, x, a, w: F.gelu(h), "float16"),
    ("leaky_relu16", lambda h, x, a, w: F.leaky_relu(h), "float16"),
    ("mul16", lambda h, x, a, w: h * h, "float16"),
    ("add16_32", lambda h, x, a, w: h + x, "float32"),
    ("softmax16", lambda h, x, a, w: F.softmax(h), "float16"),
    ("logsoftmax16", lambda h, x, a, w: F.logsoftmax(h, 1), "float32"),
    ("cross_entropy16", lambda h, x, a, w: F.nn.cross_entropy(F.reshape(h, (2, -1)),
                                                              mge.tensor([1, 2])), "float32"),
    ("mean16", lambda h, x, a, w: F.mean(h), "float32"),
    ("var16", lambda h, x, a, w: F.var(h), "float32"),
    ("sum16", lambda h, x, a, w: F.sum(h), "float16"),
    ("max16", lambda h, x, a, w: F.max(h), "float16"),
    ("cumsum16", lambda h, x, a, w: F.cumsum(F.reshape(h, (2, -1)), 1), "float16"),
    ("prod16", lambda h, x, a, w: F.prod(h), "float16"),
    ("norm16", lambda h, x, a, w: F.norm(F.flatten(h)), "float32"),
    ("normalize16", lambda h, x, a, w: F.normalize(h, axis=1), "float32"),
    ("layer_norm16", lambda h, x, a, w: F.nn.layer_norm(h, (4,), True, _t(np.ones(4)),
                                                        _t(np.zeros(4))), "float32"),
    ("batch_norm16", lambda h, x, a, w: M.BatchNorm2d(3)(h), "float16"),
    ("batch_norm32", lambda h, x, a, w: M.BatchNorm2d(3)(x), "float16"),
    ("max_pool16", lambda h, x, a, w: F.max_pool2d(h, 2), "float16"),
    ("avg_pool16", lambda h, x, a, w: F.avg_pool2d(h, 2), "float16"),
    ("concat16_32", lambda h, x, a, w: F.concat([h, x]), "float32"),
    ("where16_32", lambda h, x, a, w: F.where(h > 0, h, x), "float32"),
    ("clip16", lambda h, x, a, w: F.clip(h, 0, 1), "float16"),
    ("l1_loss16", lambda h, x, a, w: F.nn.l1_loss(h, h), "float32"),
    ("square_loss16_32", lambda h, x, a, w: F.nn.square_loss(h, x), "float32"),
]


@pytest.mark.parametrize("name,fn,want", AUTOCAST_DTYPES, ids=[c[0] for c in AUTOCAST_DTYPES])
def test_autocast_dtype_per_op(name, fn, want):
    h, x = _t(X32, "float16"), _t(X32)
    with amp.autocast():
        got = fn(h, x, _t(A32), _t(W32))
    assert str(got.dtype) == want


def test_autocast_values_match_float32():
    a, b = _t(A32), _t(rng.uniform(-1, 1, (4, 6)))
    x, w = _t(X32), _t(W32)
    want_mm, want_conv = F.matmul(a, b).numpy(), F.conv2d(x, w, padding=1).numpy()
    with amp.autocast():
        mm, conv = F.matmul(a, b), F.conv2d(x, w, padding=1)
        e = F.exp(a)
    np.testing.assert_allclose(mm.numpy().astype(np.float32), want_mm, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(conv.numpy().astype(np.float32), want_conv, rtol=2e-3, atol=1e-2)
    np.testing.assert_allclose(e.numpy(), np.exp(A32), rtol=1e-6)  # high precision: float32


def test_casting_lists_cover_the_ops_engine_has():
    ops = _state.casting_ops()
    assert ops["Matmul"] == ("low", "low") and ops["Conv2d"] == ("low", "low")
    assert ops["Exp"] == ("high", "high") and ops["GroupNorm"] == ("high", "high")
    assert ops["BatchNorm"] == ("low", "high")
    assert set(ops) <= set(REGISTRY)


def test_gradients_keep_the_dtype_of_their_tensors():
    # float32 parameters under autocast: float32 grads, close to the float32 run's
    x = _t(X32)
    w = mge.Parameter(W32)
    fc = mge.Parameter(rng.uniform(-0.3, 0.3, (4, 20)).astype(np.float32))

    def loss_fn():
        y = F.relu(F.conv2d(x, w))                      # float16 under autocast
        return F.nn.cross_entropy(F.nn.linear(F.flatten(y, 1), fc), mge.tensor([1, 3]))

    grads = []
    for use_amp in (False, True):
        gm = GradManager().attach([w, fc])
        with amp.autocast(enabled=use_amp):
            with gm:
                loss = loss_fn()
                gm.backward(loss)  # inside autocast: the backward is not cast again
        grads.append((w.grad, fc.grad))
        w.grad = fc.grad = None
    (w32, fc32), (w16, fc16) = grads
    assert w16.dtype == np.float32 and fc16.dtype == np.float32
    np.testing.assert_allclose(w16.numpy(), w32.numpy(), rtol=2e-2, atol=2e-3)
    np.testing.assert_allclose(fc16.numpy(), fc32.numpy(), rtol=2e-2, atol=2e-3)


def test_float16_input_gets_a_float16_gradient():
    x = _t(A32, "float16")
    gm = GradManager().attach([x])
    with amp.autocast():
        with gm:
            gm.backward(F.sum(F.exp(x) * F.matmul(x, x.T).sum()))
    assert x.grad.dtype == np.float16


def test_nesting_restores_each_level():
    assert amp.enabled is False
    with amp.autocast(low_prec_dtype="float16"):
        assert amp.enabled is True and amp.low_prec_dtype == "float16"
        with amp.autocast(high_prec_dtype="float16"):
            assert amp.high_prec_dtype == "float16"
            assert F.exp(_t(A32)).dtype == np.float16
        assert amp.high_prec_dtype == "float32" and amp.enabled is True
        # MegEngine: enabled=False makes the context a no-op, it does not switch autocast off
        with amp.autocast(enabled=False):
            assert amp.enabled is True
            assert F.matmul(_t(A32), _t(A32).T).dtype == np.float16
    assert amp.enabled is False
    assert F.matmul(_t(A32), _t(A32).T).dtype == np.float32


def test_one_autocast_object_reentered():
    ac = amp.autocast()
    with ac:
        with ac:
            assert amp.enabled
        assert amp.enabled
    assert not amp.enabled


def test_exception_inside_restores_the_state():
    with pytest.raises(ZeroDivisionError):
        with amp.autocast():
            _ = 1 / 0
    assert amp.enabled is False and "apply" not in REGISTRY["Matmul"].__dict__


def test_decorator():
    @amp.autocast()
    def project(x):
        """docstring kept"""
        return F.matmul(x, x.T)

    @amp.autocast(enabled=False)
    def plain(x):
        return F.matmul(x, x.T)

    a = _t(A32)
    assert project(a).dtype == np.float16 and plain(a).dtype == np.float32
    assert project.__name__ == "project" and project.__doc__ == "docstring kept"
    assert not amp.enabled


def test_bfloat16_low_precision():
    if not _dt._load_bfloat16():
        pytest.skip("ml_dtypes is not installed")
    with amp.autocast(low_prec_dtype="bfloat16"):
        y = F.matmul(_t(A32), _t(A32).T)
    assert str(y.dtype) == "bfloat16"
    np.testing.assert_allclose(y.numpy().astype(np.float32), A32 @ A32.T, rtol=2e-2, atol=2e-2)


def test_disabled_path_is_plain_op_apply():
    # outside autocast the listed ops run Op.apply itself: no check is added to the hot path
    with amp.autocast():
        assert "apply" in REGISTRY["Matmul"].__dict__
        assert REGISTRY["Matmul"].apply.__func__ is not Op.apply.__func__
    for name in _state.casting_ops():
        cls = REGISTRY[name]
        assert "apply" not in cls.__dict__, name
        assert cls.apply.__func__ is Op.apply.__func__


def test_module_attributes():
    assert (amp.enabled, amp.low_prec_dtype, amp.high_prec_dtype) == (False, "float16", "float32")
    try:
        amp.enabled = True
        assert F.matmul(_t(A32), _t(A32).T).dtype == np.float16
        amp.high_prec_dtype = "float16"
        assert F.exp(_t(A32)).dtype == np.float16
    finally:
        amp.enabled = False
        amp.high_prec_dtype = "float32"
    assert F.matmul(_t(A32), _t(A32).T).dtype == np.float32
    with pytest.raises(TypeError, match="low_prec_dtype: expected a floating dtype"):
        amp.low_prec_dtype = "int32"
    assert amp.low_prec_dtype == "float16"


# ---------------------------------------------------------------- GradScaler
def _quadratic(w):
    return (w * w).sum() * 0.5  # d/dw = w


def test_grad_scaler_defaults_match_megengine():
    s = amp.GradScaler()
    assert s.state_dict() == {"scale_factor": 16.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                              "growth_interval": 2000, "_growth_tracker": 0}


def test_backward_scales_and_unscales():
    w = mge.Parameter(np.array([1.0, -2.0, 3.0], np.float32))
    gm = GradManager().attach([w])
    s = amp.GradScaler(init_scale=64.0)
    with gm:
        s.backward(gm, _quadratic(w), unscale_grad=False)
    np.testing.assert_allclose(w.grad.numpy(), 64 * w.numpy())  # dy = scale_factor
    grad_obj = w.grad
    s.unscale([w])
    np.testing.assert_allclose(w.grad.numpy(), w.numpy())
    assert w.grad is grad_obj  # unscaled in place, as MegEngine's _reset
    w.grad = None
    with gm:
        s.backward(gm, _quadratic(w) * 2, dy=mge.tensor(0.5))  # a given dy is scaled too
    np.testing.assert_allclose(w.grad.numpy(), w.numpy())
    assert s._growth_tracker == 1  # update_scale="if_unscale_grad": updated after unscale


def test_overflow_skips_the_step_and_backs_off():
    w = mge.Parameter(np.array([1.0, 2.0], np.float32))
    b = mge.Parameter(np.array([0.5], np.float32))
    gm = GradManager().attach([w, b])
    opt = optim.SGD([w, b], lr=0.1)
    s = amp.GradScaler(init_scale=1024.0, growth_interval=3)
    s._growth_tracker = 2
    with gm:
        s.backward(gm, (w * mge.tensor([np.inf, 1.0])).sum() + b.sum())
    assert w.grad is None and b.grad is None  # every grad dropped, not only the bad one
    opt.step().clear_grad()
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])  # the step changed nothing
    assert s.scale_factor == 512.0 and s._growth_tracker == 0
    with gm:
        s.backward(gm, (w * mge.tensor([np.nan, 1.0])).sum())
    assert w.grad is None and s.scale_factor == 256.0


def test_growth_after_interval_and_new_scale():
    s = amp.GradScaler(init_scale=8.0, growth_factor=3.0, growth_interval=2)
    s.update()
    assert s.scale_factor == 8.0 and s._growth_tracker == 1
    s.update()
    assert s.scale_factor == 24.0 and s._growth_tracker == 0
    s.update(new_scale=5.0)
    assert s.scale_factor == 5.0 and s._growth_tracker == 0


def test_growth_interval_zero_fixes_the_scale_and_skips_the_check():
    w = mge.Parameter(np.array([2.0], np.float32))
    w.grad = mge.tensor([np.inf])
    s = amp.GradScaler(init_scale=4.0, growth_interval=0)
    s.unscale([w])
    assert np.isinf(w.grad.numpy()).all()  # divided, not dropped
    s.update()
    assert s.scale_factor == 4.0


def test_float16_grads_are_unscaled_in_float16():
    w = mge.Parameter(np.array([1.0, 2.0], np.float16))
    w.grad = mge.tensor([512.0, 1024.0], dtype="float16")
    amp.GradScaler(init_scale=512.0).unscale([w])
    assert w.grad.dtype == np.float16
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])


def test_state_dict_round_trip():
    a = amp.GradScaler(init_scale=128.0, growth_factor=4.0, backoff_factor=0.25,
                       growth_interval=7)
    a._growth_tracker = 3
    b = amp.GradScaler()
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()


def test_scale_sequence_matches_torch_grad_scaler():
    # same constructor values, same pattern of overflowing steps: the same scales, the same
    # skipped steps and the same unscaled gradients as torch.amp.GradScaler
    kw = dict(init_scale=2.0 ** 8, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
    overflow = [False, False, False, True, False, True, True, False, False, False]
    start = np.array([0.5, -1.0, 2.0], np.float32)

    w = mge.Parameter(start.copy())
    gm = GradManager().attach([w])
    opt = optim.SGD([w], lr=0.1)
    ours = amp.GradScaler(**kw)
    tw = torch.nn.Parameter(torch.tensor(start))
    topt = torch.optim.SGD([tw], lr=0.1)
    theirs = torch.amp.GradScaler("cpu", **kw)
    for bad in overflow:
        poison = np.array([np.inf if bad else 1.0, 1.0, 1.0], np.float32)
        with gm:
            ours.backward(gm, (w * w * mge.tensor(poison)).sum())
        opt.step().clear_grad()
        loss = (tw * tw * torch.tensor(poison)).sum()
        theirs.scale(loss).backward()
        theirs.step(topt)
        theirs.update()
        topt.zero_grad()
        assert ours.scale_factor == theirs.get_scale()
        np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-6)


# ---------------------------------------------------------------- format conversion
def test_convert_tensor_format_keeps_shape_and_values():
    x = _t(X32)
    y = amp.convert_tensor_format(x)
    assert y is x and y.shape == X32.shape
    np.testing.assert_array_equal(y.numpy(), X32)
    z = amp.convert_tensor_format(_t(X32), inplace=False)
    np.testing.assert_array_equal(z.numpy(), X32)
    v = _t(A32)
    assert amp.convert_tensor_format(v) is v  # not 4-d/5-d: unchanged
    if hasattr(x, "format"):
        assert x.format == "nhwc"


def test_convert_module_format_keeps_outputs():
    net = M.Sequential(M.Conv2d(3, 4, 3), M.BatchNorm2d(4))
    x = _t(X32)
    net.eval()
    before = net(x).numpy()
    copy = amp.convert_module_format(net, inplace=False)
    assert copy is not net
    assert amp.convert_module_format(net) is net
    np.testing.assert_array_equal(net(x).numpy(), before)
    np.testing.assert_array_equal(copy(x).numpy(), before)


def test_core_accessors_follow_the_state():
    # what engine.core.tensor.amp re-exports (MegEngine's _get/_set_amp_* bindings)
    with amp.autocast(high_prec_dtype="float16"):
        assert _state._get_amp_dtype_autocast() is True
        assert _state._get_amp_high_prec_dtype() == "float16"
        assert _state._get_amp_low_prec_dtype() == "float16"
    assert _state._get_amp_dtype_autocast() is False
    assert _state._get_amp_high_prec_dtype() == "float32"
