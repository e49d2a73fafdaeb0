"""Trainer and hooks: call order, after_train on errors, NaN guard, bit-exact resume,
checkpoint atomicity and keep-last-N, LR schedule, EMA, writers."""
import json
import math
import os

import numpy as np
import pytest
from det_core_fakes import ToyConfig, ToyDetector, toy_loader

import engine as mge
from det.engine import (
    Checkpointer,
    EMAHook,
    HookBase,
    PeriodicWriter,
    Trainer,
    build_lr_scheduler,
    build_optimizer,
    default_hooks,
)
from det.utils import get_rng_state, seed_all, set_rng_state


class Recorder(HookBase):
    def __init__(self, name, log, fail_at=None):
        self.name, self.log, self.fail_at = name, log, fail_at

    def before_train(self):
        self.log.append(f"{self.name}.before_train")

    def after_train(self):
        self.log.append(f"{self.name}.after_train")

    def before_step(self):
        self.log.append(f"{self.name}.before_step{self.trainer.iter}")

    def after_step(self):
        self.log.append(f"{self.name}.after_step{self.trainer.iter}")
        if self.trainer.iter == self.fail_at:
            raise RuntimeError(f"boom at {self.trainer.iter}")


class Crash(Exception):
    pass


class CrashAfter(HookBase):
    """Simulates a killed run: raises once `n` iterations are done (after the checkpointer)."""

    def __init__(self, n):
        self.n = n

    def after_step(self):
        if self.trainer.iter + 1 == self.n:
            raise Crash


def make_trainer(tmp_path, cfg=None, infinite=True, eval_function=None, extra_hooks=()):
    """What `det train` builds, with the toy model: seeded, default hooks, checkpointer."""
    cfg = cfg or ToyConfig()
    cfg.output_dir = str(tmp_path)
    seed_all(cfg.seed)
    loader = toy_loader(10, cfg.train.batch_size, infinite=infinite, seed=cfg.seed)
    model = ToyDetector(num_classes=3)
    opt = build_optimizer(cfg, model)
    trainer = Trainer(model, opt, loader, max_iter=cfg.train.max_iter)
    ckpt = Checkpointer(model, cfg.output_dir, optimizer=opt, trainer=trainer)
    trainer.register_hooks(default_hooks(cfg, trainer, ckpt, eval_function))
    trainer.register_hooks(extra_hooks)
    return trainer, ckpt


def test_hook_order():
    log = []
    model = ToyDetector(num_classes=3)
    trainer = Trainer(model, build_optimizer(ToyConfig(), model), toy_loader(), max_iter=2)
    trainer.register_hooks([Recorder("a", log), None, Recorder("b", log)])
    trainer.train()
    assert log == [
        "a.before_train", "b.before_train",
        "a.before_step0", "b.before_step0", "a.after_step0", "b.after_step0",
        "a.before_step1", "b.before_step1", "a.after_step1", "b.after_step1",
        "a.after_train", "b.after_train",
    ]
    assert trainer.iter == 2


def test_after_train_runs_on_exception():
    log = []
    model = ToyDetector(num_classes=3)
    trainer = Trainer(model, build_optimizer(ToyConfig(), model), toy_loader(), max_iter=5)
    trainer.register_hooks([Recorder("a", log, fail_at=1), Recorder("b", log)])
    with pytest.raises(RuntimeError, match="boom at 1"):
        trainer.train()
    assert log[-2:] == ["a.after_train", "b.after_train"]
    assert "b.after_step1" not in log and "a.before_step2" not in log


def test_register_hooks_rejects_non_hooks():
    model = ToyDetector(num_classes=3)
    trainer = Trainer(model, build_optimizer(ToyConfig(), model), toy_loader(), max_iter=1)
    with pytest.raises(TypeError, match="HookBase"):
        trainer.register_hooks([object()])


def test_loss_sum_uses_only_loss_keys(tmp_path):
    cfg = ToyConfig()
    cfg.train.max_iter = 1
    trainer, _ = make_trainer(tmp_path, cfg)
    trainer.train()
    s = trainer.storage
    total = s.latest("total_loss")[1]
    assert total == pytest.approx(s.latest("loss_box")[1] + s.latest("loss_cls")[1], rel=1e-6)
    assert s.latest("num_pos")[1] == 2.0  # logged, not summed


def test_nan_guard_names_iteration_and_terms(tmp_path):
    model = ToyDetector(num_classes=3, nan_at=2)
    trainer = Trainer(model, build_optimizer(ToyConfig(), model), toy_loader(), max_iter=5)
    weights = {}

    class Snapshot(HookBase):
        def after_step(self):
            weights[self.trainer.iter] = model.state_dict()

    trainer.register_hooks([Snapshot()])
    with pytest.raises(FloatingPointError, match=r"iteration 2: loss_box=nan, loss_cls=") as e:
        trainer.train()
    assert "num_pos=2.0" in str(e.value)
    # the bad step never reached the weights
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, weights[1][k])


@pytest.mark.parametrize("infinite", [True, False], ids=["iterator-sampler", "epoch-sampler"])
def test_resume_is_bit_exact(tmp_path, infinite):
    def eval_function():
        # evaluation draws from every stream; EvalHook must hide that from training
        np.random.rand(3), mge.random.normal(size=(2,)), __import__("random").random()
        return {"AP": 1.0}

    cfg = ToyConfig()
    cfg.train.update(max_iter=6, checkpoint_period=3, eval_period=3, warmup_iters=4, steps=(5,))
    full, _ = make_trainer(tmp_path / "full", cfg, infinite, eval_function)
    full.train()

    first, _ = make_trainer(tmp_path / "part", cfg, infinite, eval_function, [CrashAfter(3)])
    with pytest.raises(Crash):
        first.train()
    set_rng_state(get_rng_state())  # the resumed run starts in a fresh "process" state
    np.random.seed(123), mge.random.seed(123)
    resumed, ckpt = make_trainer(tmp_path / "part", cfg, infinite, eval_function)
    assert ckpt.resume_or_load(resume=True).endswith("model_0000003.pkl")
    assert resumed.start_iter == 3
    resumed.train()

    a, b = full.model.state_dict(), resumed.model.state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    sa, sb = full.optimizer.state_dict(), resumed.optimizer.state_dict()
    for i in sa["state"]:
        np.testing.assert_array_equal(sa["state"][i]["momentum_buffer"],
                                      sb["state"][i]["momentum_buffer"])
    assert sa["param_groups"][0]["lr"] == sb["param_groups"][0]["lr"]
    # the losses of the resumed iterations are those of the uninterrupted run
    assert full.storage.history("total_loss")[3:] == resumed.storage.history("total_loss")


def test_resume_without_checkpoint_starts_afresh(tmp_path):
    trainer, ckpt = make_trainer(tmp_path)
    assert ckpt.resume_or_load(resume=True) is None
    assert trainer.start_iter == 0


def test_checkpoints_keep_last_n_and_pointer(tmp_path):
    cfg = ToyConfig()
    cfg.train.update(max_iter=5, checkpoint_period=1, max_to_keep=2)
    trainer, ckpt = make_trainer(tmp_path, cfg)
    trainer.train()
    files = sorted(f for f in os.listdir(tmp_path) if f.endswith(".pkl"))
    assert files == ["model_0000003.pkl", "model_0000004.pkl", "model_final.pkl"]
    assert (tmp_path / "last_checkpoint").read_text() == "model_final.pkl"
    assert ckpt.last_checkpoint() == str(tmp_path / "model_final.pkl")
    saved = mge.load(ckpt.last_checkpoint())
    assert saved["trainer"]["iteration"] == 5
    for k, v in trainer.model.state_dict().items():
        np.testing.assert_array_equal(saved["model"][k], v)


def test_failed_save_keeps_previous_checkpoint(tmp_path):
    trainer, ckpt = make_trainer(tmp_path)
    trainer.iter = 1
    good = ckpt.save("model_0000002")
    before = open(good, "rb").read()

    class Unpicklable(HookBase):
        def state_dict(self):
            return {"fn": lambda: 0}  # pickling fails half-way through the save

    trainer.register_hooks([Unpicklable()])
    with pytest.raises(Exception, match="pickle|lambda"):
        ckpt.save("model_0000002")
    assert open(good, "rb").read() == before
    assert (tmp_path / "last_checkpoint").read_text() == "model_0000002.pkl"
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp") or f.endswith(".tmp")]


def test_dangling_pointer_is_a_clear_error(tmp_path):
    _, ckpt = make_trainer(tmp_path)
    (tmp_path / "last_checkpoint").write_text("model_0000009.pkl")
    with pytest.raises(FileNotFoundError, match="model_0000009.pkl"):
        ckpt.resume_or_load(resume=True)


def test_lr_schedule_warmup_multistep_and_cosine():
    model = ToyDetector(num_classes=3)
    cfg = ToyConfig()
    cfg.train.update(base_lr=0.1, warmup_iters=4, warmup_factor=0.01, steps=(6,), gamma=0.1,
                     max_iter=10)
    opt = build_optimizer(cfg, model)
    sched = build_lr_scheduler(opt, cfg.train)
    lrs = []
    for _ in range(8):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    expect = [0.1 * (0.01 * (1 - i / 4) + i / 4) for i in range(4)] + [0.1, 0.1, 0.01, 0.01]
    np.testing.assert_allclose(lrs, expect, rtol=1e-12)

    cfg.train.update(lr_schedule="cosine", warmup_iters=0)
    opt = build_optimizer(cfg, model)
    sched = build_lr_scheduler(opt, cfg.train)
    for i in range(3):
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * (1 + math.cos(math.pi * i / 10))
                                                          / 2)
        sched.step()
    cfg.train.lr_schedule = "step"
    with pytest.raises(ValueError, match="multistep' or 'cosine'"):
        build_lr_scheduler(opt, cfg.train)


def test_ema_hook_matches_closed_form_and_swaps_back(tmp_path):
    model = ToyDetector(num_classes=3)
    opt = build_optimizer(ToyConfig(), model)
    trainer = Trainer(model, opt, toy_loader(), max_iter=2)
    ema = EMAHook(model, decay=0.5)
    snaps = [model.state_dict()]

    class Snap(HookBase):
        def after_step(self):
            snaps.append(model.state_dict())

    trainer.register_hooks([Snap(), ema])
    trainer.train()
    # d = min(0.5, (1 + n) / (10 + n)) = 2/11 then 3/12
    d1, d2 = 2 / 11, 3 / 12
    k = "fc1.weight"
    e1 = d1 * snaps[0][k] + (1 - d1) * snaps[1][k]
    np.testing.assert_allclose(ema.ema[k], d2 * e1 + (1 - d2) * snaps[2][k], rtol=1e-6)
    with ema.swapped_in():
        np.testing.assert_array_equal(model.state_dict()[k], ema.ema[k])
    np.testing.assert_array_equal(model.state_dict()[k], snaps[2][k])


def test_writers_console_and_metrics_json(tmp_path, capsys):
    cfg = ToyConfig()
    cfg.train.update(max_iter=4, log_period=2)
    trainer, _ = make_trainer(tmp_path, cfg, eval_function=lambda: {"AP": 42.0, "AP50": 50.0})
    trainer.train()
    out = capsys.readouterr().out
    line = [s for s in out.splitlines() if "iter: 2/4" in s][0]
    for part in ("eta: ", "loss_box: ", "loss_cls: ", "total_loss: ", "time: ", "lr: ",
                 "max_mem: "):
        assert part in line, (part, line)
    rows = [json.loads(s) for s in (tmp_path / "metrics.json").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == [1, 2, 3, 4]
    assert {"loss_box", "loss_cls", "lr", "time", "total_loss"} <= set(rows[1])
    assert rows[-1]["bbox/AP"] == 42.0
    assert trainer.eval_results == {"AP": 42.0, "AP50": 50.0}
    assert (tmp_path / "model_final.pkl").is_file()


def test_tensorboard_writer_with_fake_summary_writer(tmp_path, monkeypatch):
    import sys
    import types

    written = []

    class SummaryWriter:
        def __init__(self, log_dir):
            self.log_dir = log_dir

        def add_scalar(self, name, value, step):
            written.append((name, step))

        def close(self):
            written.append("closed")

    monkeypatch.setitem(sys.modules, "tensorboardX",
                        types.SimpleNamespace(SummaryWriter=SummaryWriter))
    cfg = ToyConfig()
    cfg.train.update(max_iter=3, log_period=2)
    trainer, _ = make_trainer(tmp_path, cfg)
    assert any(type(w).__name__ == "TensorboardWriter" for w in trainer.hooks[-1].writers)
    trainer.train()
    assert [s for n, s in written[:-1] if n == "loss_box"] == [1, 2, 3]
    assert written[-1] == "closed"


def test_progress_bar_fallback_and_eta(monkeypatch):
    import builtins
    import io

    from det.utils import format_eta, progress_bar

    assert format_eta(3725.4) == "1:02:05" and format_eta(None) == "?"
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name == "tqdm":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    out = io.StringIO()
    assert list(progress_bar(range(4), desc="work", file=out)) == [0, 1, 2, 3]
    text = out.getvalue()
    assert "work: 4/4 [" in text and "ETA 0:00:00" in text and text.endswith("\n")


def _metrics_iterations(tmp_path):
    return [json.loads(s)["iteration"] for s in (tmp_path / "metrics.json").read_text()
            .splitlines()]


def test_periodic_writer_writes_the_last_iteration_once(tmp_path, capsys):
    cfg = ToyConfig()
    cfg.train.update(max_iter=5, log_period=2)  # 5 is not a multiple of the period
    trainer, _ = make_trainer(tmp_path, cfg)
    trainer.train()
    lines = capsys.readouterr().out.splitlines()
    assert [s.split("iter: ")[1].split()[0] for s in lines if "iter: " in s] == [
        "2/5", "4/5", "5/5"]  # after_train adds no duplicate of 5/5
    assert _metrics_iterations(tmp_path) == [1, 2, 3, 4, 5]


def test_periodic_writer_flushes_an_interrupted_run_before_closing(tmp_path, capsys):
    cfg = ToyConfig()
    cfg.train.update(max_iter=8, log_period=4, checkpoint_period=100)
    trainer, _ = make_trainer(tmp_path, cfg, extra_hooks=[CrashAfter(6)])
    with pytest.raises(Crash):
        trainer.train()
    # iterations 5 and 6 finished after the write at 4; the crash came in after_step of 6,
    # after the writer's own after_step (it runs before CrashAfter), so 6 is written by
    # after_train
    lines = capsys.readouterr().out.splitlines()
    assert [s.split("iter: ")[1].split()[0] for s in lines if "iter: " in s] == ["4/8", "6/8"]
    assert _metrics_iterations(tmp_path) == [1, 2, 3, 4, 5, 6]
    assert trainer.hooks[-2].writers[1]._file.closed  # JSONWriter closed after the flush


def test_periodic_writer_flushes_after_a_failing_step(tmp_path):
    cfg = ToyConfig()
    cfg.train.update(max_iter=8, log_period=4, checkpoint_period=100)
    trainer, _ = make_trainer(tmp_path, cfg)
    real_step = trainer.run_step

    def failing_step():
        if trainer.iter == 5:  # 0-based: iterations 1..5 are done
            raise RuntimeError("data loader died")
        real_step()

    trainer.run_step = failing_step
    with pytest.raises(RuntimeError, match="data loader died"):
        trainer.train()
    assert _metrics_iterations(tmp_path) == [1, 2, 3, 4, 5]
    assert trainer.iter == 5  # restored after the writers saw iteration 5 as the last one


def test_periodic_writer_rejects_a_bad_period():
    with pytest.raises(ValueError, match="period must be a positive int, got 0"):
        PeriodicWriter([], period=0)
