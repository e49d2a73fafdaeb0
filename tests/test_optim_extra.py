"""Adagrad / Adadelta against torch.optim and float64 references of MegEngine's formulas over
several steps; LAMB / LAMBFp16 against a float64 numpy LAMB; state_dict round trips; Optimizer's
bcast_param / backward / _get_params."""
import io

import numpy as np
import pytest

import engine as mge
import engine.optimizer as optim

torch = pytest.importorskip("torch")

SHAPES = [(4, 3), (5,), (2, 3, 2, 2)]


def make_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype("float32") for s in SHAPES]


def grads_for(step):
    rng = np.random.default_rng(100 + step)
    return [rng.standard_normal(s).astype("float32") for s in SHAPES]


def run(opt_cls, kw, steps, dtype="float32"):
    params = [mge.Parameter(a.astype(dtype)) for a in make_arrays()]
    opt = opt_cls(params, **kw)
    for step in range(steps):
        for p, g in zip(params, grads_for(step)):
            p.grad = mge.Tensor(g.astype(dtype))
        opt.step()
    return opt, params


# ------------------------------------------------------------------ float64 references
def ref_adagrad(p, grads, lr, lr_decay=0.0, eps=1e-10, weight_decay=0.0):
    p, acc = p.astype(np.float64), np.zeros(p.shape)
    for t, g in enumerate(grads, 1):
        g = g + weight_decay * p
        acc += g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / np.sqrt(acc + eps)
    return p


def ref_adadelta(p, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    p, sq, acc = p.astype(np.float64), np.zeros(p.shape), np.zeros(p.shape)
    for g in grads:
        g = g + weight_decay * p
        sq = rho * sq + (1 - rho) * g * g
        delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
        p = p - lr * delta
        acc = rho * acc + (1 - rho) * delta * delta
    return p


def ref_lamb(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, bias_correction=True,
             weight_decay=0.0, always_adapt=False):
    p, m, v = p.astype(np.float64), np.zeros(p.shape), np.zeros(p.shape)
    b1, b2 = betas
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        bc1, bc2 = (1 - b1 ** t, 1 - b2 ** t) if bias_correction else (1.0, 1.0)
        r = (m / bc1) / (np.sqrt(v / bc2) + eps) + weight_decay * p
        p_norm, r_norm = np.linalg.norm(p), np.linalg.norm(r)
        ratio = p_norm / r_norm if ((always_adapt or weight_decay > 0) and p_norm > 0
                                    and r_norm > 0) else 1.0
        p = p - lr * ratio * r
    return p


def check_against_reference(opt_cls, kw, ref, steps=6, atol=1e-5, dtype="float32"):
    _, params = run(opt_cls, kw, steps, dtype)
    for i, (p, p0) in enumerate(zip(params, make_arrays())):
        grads = [grads_for(s)[i].astype(dtype).astype(np.float64) for s in range(steps)]
        np.testing.assert_allclose(p.numpy().astype(np.float64), ref(p0.astype(dtype), grads,
                                                                      **kw),
                                   atol=atol, rtol=1e-4, err_msg=f"param {i}")


ADAGRAD_CASES = [dict(lr=0.1), dict(lr=0.05, lr_decay=0.1, weight_decay=0.01),
                 dict(lr=0.1, eps=1e-6)]
ADADELTA_CASES = [dict(), dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)]


@pytest.mark.parametrize("kw", ADAGRAD_CASES, ids=str)
def test_adagrad_matches_megengine_formula_and_torch(kw):
    check_against_reference(optim.Adagrad, kw, ref_adagrad)
    # torch adds eps after the square root (MegEngine inside); with the default eps (1e-10) and
    # O(1) gradients the two agree to float32 precision
    if "eps" in kw:
        return
    _, params = run(optim.Adagrad, kw, 6)
    tparams = [torch.tensor(a, requires_grad=True) for a in make_arrays()]
    topt = torch.optim.Adagrad(tparams, **kw)
    for step in range(6):
        for tp, g in zip(tparams, grads_for(step)):
            tp.grad = torch.tensor(g)
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kw", ADADELTA_CASES, ids=str)
def test_adadelta_matches_megengine_formula_and_torch(kw):
    check_against_reference(optim.Adadelta, kw, ref_adadelta, atol=1e-6)
    _, params = run(optim.Adadelta, kw, 6)
    tparams = [torch.tensor(a, requires_grad=True) for a in make_arrays()]
    topt = torch.optim.Adadelta(tparams, **kw)
    for step in range(6):
        for tp, g in zip(tparams, grads_for(step)):
            tp.grad = torch.tensor(g)
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), atol=1e-6, rtol=1e-5)


LAMB_CASES = [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1), dict(lr=0.02, always_adapt=True),
              dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, bias_correction=False,
                   weight_decay=0.05)]


@pytest.mark.parametrize("kw", LAMB_CASES, ids=str)
def test_lamb_matches_float64_reference(kw):
    check_against_reference(optim.LAMB, kw, ref_lamb, atol=2e-6)


@pytest.mark.parametrize("kw", LAMB_CASES[1:3], ids=str)
def test_lamb_fp16_keeps_a_float32_master_copy(kw):
    opt, params = run(optim.LAMBFp16, kw, 6, dtype="float16")
    for i, (p, p0) in enumerate(zip(params, make_arrays())):
        assert p.dtype == np.float16
        master = opt._state[p]["param_fp32"]
        assert master.dtype == np.float32
        grads = [grads_for(s)[i].astype("float16").astype(np.float64) for s in range(6)]
        want = ref_lamb(p0.astype("float16"), grads, **kw)
        np.testing.assert_allclose(master.numpy(), want, atol=1e-5, rtol=1e-4)
        np.testing.assert_array_equal(p.numpy(), master.numpy().astype(np.float16))


def test_lamb_fp16_on_float32_parameters_matches_lamb():
    kw = dict(lr=0.01, weight_decay=0.1)
    _, plain = run(optim.LAMB, kw, 4)
    _, fp16 = run(optim.LAMBFp16, kw, 4)
    for a, b in zip(plain, fp16):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_defaults_are_megengine_s():
    p = mge.Parameter(np.ones(2, "float32"))
    assert {k: v for k, v in optim.Adagrad([p]).param_groups[0].items() if k != "params"} == \
        dict(lr=1e-2, lr_decay=0.0, eps=1e-10, weight_decay=0.0)
    assert {k: v for k, v in optim.Adadelta([p]).param_groups[0].items() if k != "params"} == \
        dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0)
    lamb = optim.LAMB([p], lr=0.1)
    assert lamb.param_groups[0]["betas"] == (0.9, 0.999) and lamb.param_groups[0]["eps"] == 1e-8
    assert lamb.bias_correction is True and lamb.always_adapt is False
    assert sorted(optim.Adadelta([p]).state_dict()["state"][0]) == ["acc_delta", "square_avg",
                                                                     "step"]
    assert sorted(optim.Adagrad([p]).state_dict()["state"][0]) == ["square_avg", "step"]
    assert sorted(optim.LAMBFp16([p], lr=0.1).state_dict()["state"][0]) == [
        "exp_avg", "exp_avg_sq", "param_fp32", "step"]


CASES = [(optim.Adagrad, dict(lr=0.1, lr_decay=0.01)), (optim.Adadelta, dict(weight_decay=0.1)),
         (optim.LAMB, dict(lr=0.01, weight_decay=0.1)), (optim.LAMBFp16, dict(lr=0.01))]


@pytest.mark.parametrize("cls,kw", CASES, ids=[c.__name__ for c, _ in CASES])
def test_state_dict_round_trip_continues_identically(cls, kw):
    opt, params = run(cls, kw, 3)
    buf = io.BytesIO()
    mge.save(opt.state_dict(), buf)
    buf.seek(0)
    copies = [mge.Parameter(p.numpy()) for p in params]
    opt2 = cls(copies, **dict(kw, lr=123.0))
    opt2.load_state_dict(mge.load(buf))
    assert opt2.param_groups[0]["lr"] == kw.get("lr", 1.0)
    for step in range(3, 5):
        for p, q, g in zip(params, copies, grads_for(step)):
            p.grad, q.grad = mge.Tensor(g), mge.Tensor(g)
        opt.step()
        opt2.step()
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize("cls,kw", CASES, ids=[c.__name__ for c, _ in CASES])
def test_updates_on_every_device_match_the_cpu(device, cls, kw):
    results = {}
    for dev in ("cpu0", device):
        params = [mge.Parameter(a, device=dev) for a in make_arrays()]
        opt = cls(params, **kw)
        for step in range(3):
            for p, g in zip(params, grads_for(step)):
                p.grad = mge.Tensor(g, device=dev)
            opt.step()
        results[dev] = [p.numpy() for p in params]
    for a, b in zip(results["cpu0"], results[device]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_updates_keep_parameter_identity_and_skip_params_without_grad():
    a, b = mge.Parameter(np.ones(3, "float32")), mge.Parameter(np.ones(2, "float32"))
    for cls in (optim.Adagrad, optim.Adadelta, optim.LAMB):
        opt = cls([a, b], lr=0.1)
        a.grad, b.grad = mge.Tensor(np.ones(3, "float32")), None
        assert opt.step() is opt
        assert not np.allclose(a.numpy(), 1.0) and np.array_equal(b.numpy(), [1.0, 1.0])
        assert opt._get_params()[0] is a


def test_bcast_param_is_a_single_process_no_op_and_backward_points_to_gradmanager():
    p = mge.Parameter(np.arange(3, dtype="float32"))
    opt = optim.SGD([p], lr=0.1)
    assert opt.bcast_param() is None
    np.testing.assert_array_equal(p.numpy(), [0, 1, 2])
    with pytest.raises(NotImplementedError, match="GradManager"):
        opt.backward(None)


def test_bad_arguments_name_the_optimizer():
    p = mge.Parameter(np.ones(2, "float32"))
    with pytest.raises(ValueError, match="Adagrad: invalid lr_decay -1"):
        optim.Adagrad([p], lr_decay=-1)
    with pytest.raises(ValueError, match="Adadelta: invalid rho 1.5"):
        optim.Adadelta([p], rho=1.5)
    with pytest.raises(ValueError, match="LAMB: betas must be two values"):
        optim.LAMB([p], lr=0.1, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="LAMBFp16: invalid learning rate -1"):
        optim.LAMBFp16([p], lr=-1)
