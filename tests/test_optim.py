"""engine.optimizer: SGD / Adam / AdamW against closed forms and torch.optim over several steps,
param groups, state_dict round trips, in-place safety and gradient clipping."""
import weakref

import numpy as np
import pytest

import engine as mge
import engine.optimizer as optim
from engine.autodiff import GradManager
from engine.optimizer import _inplace

torch = pytest.importorskip("torch")

SHAPES = [(4, 3), (5,), (2, 3, 2, 2), (1, 6, 1, 1)]


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype("float32") for s in SHAPES]
    return [mge.Parameter(a) for a in arrays], [torch.tensor(a, requires_grad=True)
                                                for a in arrays]


def grads_for(step):
    rng = np.random.default_rng(100 + step)
    return [rng.standard_normal(s).astype("float32") for s in SHAPES]


def run_against_torch(make_opt, make_topt, steps=5, atol=1e-6, groups=None):
    params, tparams = make_params()
    if groups is None:
        opt, topt = make_opt(params), make_topt(tparams)
    else:
        opt = make_opt([dict(g, params=[params[i] for i in idx]) for idx, g in groups])
        topt = make_topt([dict(g, params=[tparams[i] for i in idx]) for idx, g in groups])
    for step in range(steps):
        for p, tp, g in zip(params, tparams, grads_for(step)):
            p.grad = mge.Tensor(g)
            tp.grad = torch.tensor(g)
        assert opt.step() is opt
        topt.step()
        for i, (p, tp) in enumerate(zip(params, tparams)):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), atol=atol, rtol=1e-5,
                                       err_msg=f"param {i} after step {step}")
    return opt, params


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, momentum=0.8, weight_decay=1e-2),
    dict(lr=0.1, weight_decay=0.1),
]


@pytest.mark.parametrize("kw", SGD_CASES, ids=[str(k) for k in SGD_CASES])
def test_sgd_matches_torch(kw):
    run_against_torch(lambda ps: optim.SGD(ps, **kw), lambda ps: torch.optim.SGD(ps, **kw))


ADAM_CASES = [
    (optim.Adam, torch.optim.Adam, dict(lr=1e-2)),
    (optim.Adam, torch.optim.Adam, dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6,
                                        weight_decay=0.1)),
    (optim.AdamW, torch.optim.AdamW, dict(lr=1e-2)),
    (optim.AdamW, torch.optim.AdamW, dict(lr=1e-2, betas=(0.5, 0.9), weight_decay=0.3)),
]


@pytest.mark.parametrize("cls,tcls,kw", ADAM_CASES,
                         ids=[f"{c.__name__}-{k}" for c, _, k in ADAM_CASES])
def test_adam_matches_torch(cls, tcls, kw):
    run_against_torch(lambda ps: cls(ps, **kw), lambda ps: tcls(ps, **kw), steps=6, atol=2e-6)


def test_adamw_default_weight_decay_is_megengine_and_torch_1e_2():
    p = mge.Parameter(np.ones(2, "float32"))
    assert optim.AdamW([p], lr=0.1).param_groups[0]["weight_decay"] == 1e-2


def test_per_group_options_match_torch():
    groups = [([0, 2], dict(lr=0.01, momentum=0.5)), ([1, 3], dict(weight_decay=0.1))]
    run_against_torch(lambda gs: optim.SGD(gs, lr=0.1, momentum=0.9),
                      lambda gs: torch.optim.SGD(gs, lr=0.1, momentum=0.9), groups=groups)
    run_against_torch(lambda gs: optim.Adam(gs, lr=0.01), lambda gs: torch.optim.Adam(gs, lr=0.01),
                      groups=groups[1:] + [([0, 2], dict(betas=(0.5, 0.6)))], atol=2e-6)


def test_closed_forms():
    p = mge.Parameter(np.array([1.0, -2.0], "float32"))
    g = np.array([0.5, 0.25], "float32")
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    v = np.zeros(2)
    w = p.numpy().astype(np.float64)
    for _ in range(3):  # v = m v + (g + wd p); p -= lr v
        p.grad = mge.Tensor(g)
        opt.step()
        v = 0.9 * v + g + 0.01 * w
        w = w - 0.1 * v
    np.testing.assert_allclose(p.numpy(), w, rtol=1e-6)
    # Adam's first step moves each weight by lr * g / (|g| + eps): about lr * sign(g)
    q = mge.Parameter(np.array([1.0, -2.0, 3.0], "float32"))
    q.grad = mge.Tensor(np.array([3.0, -0.001, 0.0], "float32"))
    optim.Adam([q], lr=0.5).step()
    np.testing.assert_allclose(q.numpy(), [0.5, -1.5, 3.0], atol=1e-4)


def test_step_returns_self_skips_params_without_grad_and_clear_grad_drops_grads():
    a, b = mge.Parameter(np.ones(3, "float32")), mge.Parameter(np.ones(2, "float32"))
    opt = optim.SGD([a, b], lr=1.0)
    a.grad = mge.Tensor(np.full(3, 0.5, "float32"))
    assert opt.step() is opt
    np.testing.assert_array_equal(a.numpy(), [0.5] * 3)
    np.testing.assert_array_equal(b.numpy(), [1, 1])
    opt.clear_grad()
    assert a.grad is None and b.grad is None
    a.grad = mge.Tensor(np.ones(3, "float32"))
    opt.zero_grad()
    assert np.all(a.grad.numpy() == 0)


def test_updates_are_in_place_keep_identity_and_gradmanager_attachment():
    w = mge.Parameter(np.ones((2, 2), "float32"))
    gm = GradManager().attach(w)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    arr = weakref.ref(w._storage.array)  # a weak reference: it must not count as a sharer
    for _ in range(2):
        with gm:
            loss = (w * w).sum()
            gm.backward(loss)
        opt.step().clear_grad()
    assert w._storage.array is arr()  # nothing else refers to it: updated in place
    with gm:
        gm.backward((w * 3).sum())  # still attached
    np.testing.assert_allclose(w.grad.numpy(), np.full((2, 2), 3.0))


def test_step_while_recording_records_nothing():
    w = mge.Parameter(np.ones(3, "float32"))
    gm = GradManager().attach(w)
    opt = optim.Adam([w], lr=0.1)
    with gm:
        w.grad = mge.Tensor(np.ones(3, "float32"))
        opt.step().clear_grad()
        assert type(w._node).__name__ == "LeafNode"  # still the attached leaf
        y = (w * 2).sum()
        gm.backward(y)
    np.testing.assert_allclose(w.grad.numpy(), np.full(3, 2.0))


def test_views_and_aliases_of_a_parameter_keep_the_old_value():
    w = mge.Parameter(np.ones(4, "float32"))
    view = w.reshape(2, 2)
    detached = w.detach()
    raw = np.asarray(w)
    w.grad = mge.Tensor(np.ones(4, "float32"))
    optim.SGD([w], lr=0.5).step()
    np.testing.assert_array_equal(w.numpy(), [0.5] * 4)
    for other in (view.numpy(), detached.numpy(), raw):  # MegEngine: p -= lr * g rebinds p
        assert np.all(other == 1)


def test_shared_gradient_tensor_is_not_modified():
    a, b = mge.Parameter(np.ones(2, "float32")), mge.Parameter(np.ones(2, "float32"))
    gm = GradManager().attach([a, b])
    with gm:
        gm.backward((a + b).sum())  # both may receive the same gradient tensor
    opt = optim.SGD([a, b], lr=1.0, weight_decay=0.5)
    opt.step()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 1])
    np.testing.assert_array_equal(a.numpy(), [-0.5, -0.5])
    np.testing.assert_array_equal(b.numpy(), [-0.5, -0.5])


@pytest.mark.parametrize("cls,kw", [(optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
                                    (optim.Adam, dict(lr=0.01, weight_decay=0.1)),
                                    (optim.AdamW, dict(lr=0.01))])
def test_state_dict_round_trip_continues_identically(cls, kw):
    params, _ = make_params()
    opt = cls(params, **kw)
    for step in range(3):
        for p, g in zip(params, grads_for(step)):
            p.grad = mge.Tensor(g)
        opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert all(isinstance(v, np.ndarray) for st in sd["state"].values() for v in st.values())
    copies = [mge.Parameter(p.numpy()) for p in params]
    opt2 = cls(copies, **dict(kw, lr=123.0))
    opt2.load_state_dict(mge.load(_saved(sd)))
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    for step in range(3, 5):
        for p, q, g in zip(params, copies, grads_for(step)):
            p.grad, q.grad = mge.Tensor(g), mge.Tensor(g)
        opt.step()
        opt2.step()
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def _saved(obj):
    import io

    buf = io.BytesIO()
    mge.save(obj, buf)
    buf.seek(0)
    return buf


def test_load_state_dict_rejects_mismatched_structure():
    params, _ = make_params()
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="group 0 has 4 parameters in the state but 2 here"):
        optim.SGD(params[:2], lr=0.1, momentum=0.9).load_state_dict(sd)
    with pytest.raises(ValueError, match="state has 1 parameter groups, this optimizer has 2"):
        optim.SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="lacks the options \\['momentum'\\].*another kind"):
        optim.SGD(params, lr=0.1).load_state_dict(optim.Adam(params, lr=0.1).state_dict())
    other = [mge.Parameter(np.zeros((7,), "float32")) for _ in range(4)]
    with pytest.raises(ValueError, match="'momentum_buffer' of parameter 0 has shape \\(4, 3\\)"):
        optim.SGD(other, lr=0.1, momentum=0.9).load_state_dict(sd)


def test_add_param_group_and_optimizer_argument_errors():
    a, b = mge.Parameter(np.ones(2, "float32")), mge.Parameter(np.ones(3, "float32"))
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    b.grad = mge.Tensor(np.ones(3, "float32"))
    opt.step()
    np.testing.assert_allclose(b.numpy(), [0.5] * 3)
    with pytest.raises(ValueError, match="appear more than once"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="SGD: can only optimize Parameters, got Tensor"):
        optim.SGD([mge.Tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="SGD: nesterov=True needs momentum > 0"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Adam: betas must be two values in \\[0, 1\\)"):
        optim.Adam([a], lr=0.1, betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD({a}, lr=0.1)
    a.grad = mge.Tensor(np.ones(3, "float32"))
    with pytest.raises(ValueError, match="gradient of shape \\(3,\\) does not match its "
                                         "parameter of shape \\(2,\\)"):
        opt.step()


@pytest.mark.parametrize("cls,kw", [(optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
                                    (optim.AdamW, dict(lr=0.01))])
def test_updates_on_every_device_match_the_cpu(device, cls, kw):
    """The fused update runs on the parameters' device (CUDA kernel on gpu0)."""
    results = {}
    for dev in ("cpu0", device):
        params = [mge.Parameter(p.numpy(), device=dev) for p in make_params()[0]]
        opt = cls(params, **kw)
        for step in range(3):
            for p, g in zip(params, grads_for(step)):
                p.grad = mge.Tensor(g, device=dev)
            opt.step()
        assert all(str(p.device) == dev for p in params)
        results[dev] = [p.numpy() for p in params]
    for a, b in zip(results["cpu0"], results[device]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_native_and_numpy_updates_agree(monkeypatch):
    rng = np.random.default_rng(5)
    n = 70000  # above the OpenMP threshold
    p0, g, m0, v0 = (rng.standard_normal(n).astype("float32") for _ in range(4))
    v0 = np.abs(v0)
    results = {}
    for native in (True, False):
        if not native:
            monkeypatch.setattr(_inplace, "_C", None)
        p, b = p0.copy(), m0.copy()
        _inplace.sgd_update(p, g, b, 0.1, 0.01, 0.9, True)
        q, m, v = p0.copy(), m0.copy(), v0.copy()
        _inplace.adam_update(q, g, m, v, 0.01, 0.9, 0.999, 1e-8, 0.1, 3, True)
        results[native] = (p, b, q, m, v)
    for a, b in zip(results[True], results[False]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


# --------------------------------------------------------------------- clipping
def _grads_pair():
    params, tparams = make_params(3)
    for p, tp, g in zip(params, tparams, grads_for(7)):
        p.grad, tp.grad = mge.Tensor(g), torch.tensor(g)
    return params, tparams


@pytest.mark.parametrize("ord,max_norm", [(2.0, 1.0), (2.0, 100.0), (float("inf"), 0.5),
                                          (1.0, 2.0)])
def test_clip_grad_norm_matches_torch(ord, max_norm):
    params, tparams = _grads_pair()
    total = optim.clip_grad_norm(params, max_norm, ord=ord)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=ord)
    assert isinstance(total, mge.Tensor)
    assert float(total) == pytest.approx(float(ttotal), rel=1e-5)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_value_matches_torch_and_shared_grads_are_scaled_once():
    params, tparams = _grads_pair()
    optim.clip_grad_value(params, -0.3, 0.3)
    torch.nn.utils.clip_grad_value_(tparams, 0.3)
    for p, tp in zip(params, tparams):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
    a, b = mge.Parameter(np.ones(2, "float32")), mge.Parameter(np.ones(2, "float32"))
    shared = mge.Tensor(np.full(2, 3.0, "float32"))
    a.grad = b.grad = shared
    optim.clip_grad_norm([a, b], max_norm=1.0)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())
    np.testing.assert_allclose(np.linalg.norm(np.r_[a.grad.numpy(), b.grad.numpy()]), 1.0,
                               rtol=1e-5)
    np.testing.assert_array_equal(shared.numpy(), [3, 3])
    assert float(optim.clip_grad_norm([mge.Parameter(np.ones(1, "float32"))], 1.0)) == 0.0
    with pytest.raises(ValueError, match="clip_grad_value: lower \\(1\\) is greater"):
        optim.clip_grad_value(params, 1, 0)
