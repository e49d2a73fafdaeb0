"""engine.optimizer.lr_scheduler: step by step against torch's schedulers and closed forms."""
import math
import warnings

import numpy as np
import pytest

import engine as mge
import engine.optimizer as optim

torch = pytest.importorskip("torch")

BASE_LRS = (0.1, 0.02)


def make_opt():
    groups = [{"params": [mge.Parameter(np.zeros(2, "float32"))], "lr": lr} for lr in BASE_LRS]
    return optim.SGD(groups, lr=1.0, momentum=0.9)


def make_topt():
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in BASE_LRS]
    return torch.optim.SGD(groups, lr=1.0, momentum=0.9)


def lrs_of(opt):
    return [g["lr"] for g in opt.param_groups]


def trace(sched, opt, steps):
    """lrs after construction, then after each of `steps` scheduler steps."""
    out = [lrs_of(opt)]
    for _ in range(steps):
        opt.step()  # torch warns when the scheduler steps before the optimizer
        sched.step()
        out.append(lrs_of(opt))
    return np.array(out)


TORCH_PAIRS = [
    ("multistep", lambda o: optim.MultiStepLR(o, milestones=[2, 5, 6], gamma=0.5),
     lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 5, 6], gamma=0.5)),
    ("cosine", lambda o: optim.CosineAnnealingLR(o, T_max=6, eta_min=0.001),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.001)),
    ("lambda", lambda o: optim.LambdaLR(o, lambda e: 0.9 ** e),
     lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 0.9 ** e)),
    ("lambda_per_group", lambda o: optim.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: e]),
     lambda o: torch.optim.lr_scheduler.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: e])),
]


@pytest.mark.parametrize("name,make,tmake", TORCH_PAIRS, ids=[p[0] for p in TORCH_PAIRS])
def test_schedule_matches_torch(name, make, tmake):
    opt, topt = make_opt(), make_topt()
    ours = trace(make(opt), opt, 15)  # cosine: past T_max the lr rises again, as in torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = trace(tmake(topt), topt, 15)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_multistep_closed_form_and_initial_lr():
    opt = make_opt()
    sched = optim.MultiStepLR(opt, milestones=[3, 6])
    got = trace(sched, opt, 7)[:, 0]
    np.testing.assert_allclose(got, [0.1] * 3 + [0.01] * 3 + [0.001] * 2)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE_LRS)
    assert sched.base_lrs == list(BASE_LRS)
    with pytest.raises(ValueError, match="MultiStepLR: milestones must be increasing"):
        optim.MultiStepLR(make_opt(), milestones=[5, 2])


def warmup_factor(epoch, iters, factor):
    return 1.0 if epoch >= iters else factor * (1 - epoch / iters) + epoch / iters


@pytest.mark.parametrize("after", ["none", "multistep", "cosine"])
def test_linear_warmup_composes_with_any_schedule(after):
    opt = make_opt()
    inner = {"none": lambda: None,
             "multistep": lambda: optim.MultiStepLR(opt, milestones=[6, 9], gamma=0.1),
             "cosine": lambda: optim.CosineAnnealingLR(opt, T_max=12)}[after]()
    sched = optim.LinearWarmup(opt, warmup_iters=4, warmup_factor=0.01, after=inner)
    got = trace(sched, opt, 12)
    for epoch, row in enumerate(got):
        for base, lr in zip(BASE_LRS, row):
            if after == "none":
                plain = base
            elif after == "multistep":
                plain = base * 0.1 ** ((epoch >= 6) + (epoch >= 9))
            else:
                plain = base * (1 + math.cos(math.pi * epoch / 12)) / 2
            assert lr == pytest.approx(plain * warmup_factor(epoch, 4, 0.01), rel=1e-12)
    assert got[0, 0] == pytest.approx(0.1 * 0.01)


def test_scheduler_state_dict_resumes_the_same_schedule():
    opt = make_opt()
    sched = optim.LinearWarmup(opt, 3, 0.1, after=optim.MultiStepLR(opt, milestones=[4, 7]))
    trace(sched, opt, 5)
    state = sched.state_dict()
    assert state["current_epoch"] == 5 and state["after"]["milestones"] == [4, 7]
    future = trace(sched, opt, 4)[1:]

    opt2 = make_opt()
    sched2 = optim.LinearWarmup(opt2, 3, 0.1, after=optim.MultiStepLR(opt2, milestones=[1]))
    sched2.load_state_dict(state)
    np.testing.assert_allclose(trace(sched2, opt2, 4)[1:], future)
    with pytest.raises(KeyError, match="missing keys \\['gamma'\\]"):
        optim.MultiStepLR(make_opt(), [1]).load_state_dict({"milestones": [1],
                                                            "current_epoch": 0,
                                                            "base_lrs": [0.1, 0.1]})


def test_step_to_an_explicit_epoch_and_resuming_needs_initial_lr():
    opt = make_opt()
    sched = optim.CosineAnnealingLR(opt, T_max=10)
    sched.step(5)
    assert lrs_of(opt)[0] == pytest.approx(0.05)
    assert sched.get_last_lr() == lrs_of(opt)
    with pytest.raises(KeyError, match="param_groups\\[0\\] has no 'initial_lr'"):
        optim.MultiStepLR(make_opt(), [2], current_epoch=3)
    resumed = optim.CosineAnnealingLR(opt, T_max=10, current_epoch=5)  # initial_lr is set
    assert resumed.current_epoch == 6
    assert lrs_of(opt)[0] == pytest.approx(0.05 * (1 + math.cos(math.pi * 0.6)))
    with pytest.raises(TypeError, match="MultiStepLR: expected an Optimizer, got list"):
        optim.MultiStepLR([], [1])
    with pytest.raises(ValueError, match="LinearWarmup: `after` schedules a different"):
        optim.LinearWarmup(make_opt(), 3, after=optim.MultiStepLR(opt, [2]))


def test_optimizer_state_saved_with_a_scheduler_resumes_into_a_fresh_optimizer():
    opt = make_opt()
    sched = optim.MultiStepLR(opt, milestones=[2])
    trace(sched, opt, 3)
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    opt2 = make_opt()
    opt2.load_state_dict(saved_opt)  # before its scheduler exists: takes initial_lr along
    sched2 = optim.MultiStepLR(opt2, milestones=[2], current_epoch=saved_sched["current_epoch"])
    assert lrs_of(opt2) == pytest.approx([lr * 0.1 for lr in BASE_LRS])
    assert sched2.base_lrs == list(BASE_LRS)
