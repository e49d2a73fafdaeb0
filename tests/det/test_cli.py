"""CLI: argument parsing, and train / test / demo end to end on the toy model through a config
file written here (no det.models or det.data needed)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from det.cli import build_parser, main
from det.cli import train as train_cmd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


@pytest.fixture
def cfg_file(tmp_path):
    path = tmp_path / "toy_config.py"
    path.write_text(f"import sys\nsys.path.insert(0, {HERE!r})\n"
                    "from det_core_fakes import ToyConfig\n\n\n"
                    "class Config(ToyConfig):\n"
                    "    pass\n")
    return str(path)


def test_parser_defaults_and_overrides():
    p = build_parser()
    a = p.parse_args(["train"])
    assert (a.config_file, a.weights, a.resume, a.dtr, a.opts) == ("fcos_r18_shapes", None,
                                                                   False, False, [])
    a = p.parse_args(["train", "-f", "x.py", "-w", "w.pkl", "--resume", "--dtr", "seed=1",
                      "train.max_iter=5"])
    assert (a.config_file, a.weights, a.resume, a.dtr) == ("x.py", "w.pkl", True, True)
    assert a.opts == ["seed=1", "train.max_iter=5"]
    a = p.parse_args(["test", "-f", "fcos_r50", "-w", "m.pkl", "test.batch_size=2"])
    assert (a.command, a.weights, a.opts) == ("test", "m.pkl", ["test.batch_size=2"])
    a = p.parse_args(["demo", "-w", "m.pkl", "a.png", "b.jpg", "--out", "vis"])
    assert (a.inputs, a.out) == (["a.png", "b.jpg"], "vis")


@pytest.mark.parametrize("argv", [["test"], ["demo", "-w", "m.pkl"], ["fly"], []])
def test_parser_rejects_incomplete_commands(argv, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(argv)
    assert e.value.code == 2


def test_train_test_demo_end_to_end(cfg_file, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "-f", cfg_file, f"output_dir={out}", "train.max_iter=4"]) == 0
    for name in ("config.py", "model_0000002.pkl", "model_final.pkl", "last_checkpoint",
                 "metrics.json", "log.txt"):
        assert (out / name).is_file(), name
    dumped = (out / "config.py").read_text()
    assert "'num_classes': 3" in dumped and "'max_iter': 4" in dumped  # resolved, overridden
    rows = [json.loads(s) for s in (out / "metrics.json").read_text().splitlines()]
    assert rows[-1]["iteration"] == 4 and rows[-1]["bbox/images"] == 6.0  # final eval ran

    from det.cli import test as test_cmd

    metrics = test_cmd(build_parser().parse_args(
        ["test", "-f", cfg_file, "-w", str(out / "model_final.pkl"), f"output_dir={out}"]))
    assert metrics["images"] == 6.0

    from PIL import Image

    img = tmp_path / "in.png"
    Image.fromarray(np.full((20, 28, 4), 200, np.uint8), "RGBA").save(img)  # RGBA converted
    vis = tmp_path / "vis"
    assert main(["demo", "-f", cfg_file, "-w", str(out / "model_final.pkl"), str(img), "--out",
                 str(vis), "--score-thresh", "0"]) == 0
    with Image.open(vis / "in.png") as drawn:
        assert drawn.size == (28, 20) and drawn.mode == "RGB"
        assert not (np.asarray(drawn) == 200).all()  # a box was drawn


def test_resume_continues_from_last_checkpoint(cfg_file, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "-f", cfg_file, f"output_dir={out}", "train.max_iter=4"]) == 0
    args = build_parser().parse_args(["train", "-f", cfg_file, "--resume", f"output_dir={out}",
                                      "train.max_iter=6"])
    trainer = train_cmd(args)
    assert trainer.start_iter == 4 and trainer.iter == 6
    assert [h for h, _ in trainer.storage.history("total_loss")] == [4, 5]


def test_initial_weights_with_w(cfg_file, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "-f", cfg_file, f"output_dir={out}", "train.max_iter=2"]) == 0
    args = build_parser().parse_args(["train", "-f", cfg_file, "-w", str(out / "model_final.pkl"),
                                      f"output_dir={tmp_path / 'b'}", "train.max_iter=0"])
    trainer = train_cmd(args)
    import engine as mge

    saved = mge.load(str(out / "model_final.pkl"))["model"]
    for k, v in trainer.model.state_dict().items():
        np.testing.assert_array_equal(v, saved[k])


@pytest.mark.parametrize("argv_tail, message", [
    (["model.num_classes=5"], "model.num_classes is 5 but the train set (None) has 3 categories"),
    (["train.max_iters=5"], "unknown config key 'train.max_iters'"),
    (["train.max_iter=abc"], "train.max_iter is a int (4); expected an int"),
])
def test_config_problems_exit_2_with_message(cfg_file, tmp_path, capsys, argv_tail, message):
    assert main(["train", "-f", cfg_file, f"output_dir={tmp_path}", *argv_tail]) == 2
    err = capsys.readouterr().err
    assert err.startswith("det train: error: ") and message in err, err


def test_missing_inputs_exit_2(cfg_file, tmp_path, capsys):
    assert main(["train", "-f", str(tmp_path / "nope.py")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["test", "-f", cfg_file, "-w", str(tmp_path / "none.pkl"),
                 f"output_dir={tmp_path}"]) == 2
    assert "none.pkl' does not exist" in capsys.readouterr().err
    assert main(["demo", "-f", cfg_file, "-w", "x.pkl", str(tmp_path / "no.png")]) == 2
    assert "image files not found" in capsys.readouterr().err


def test_dtr_flags_train_under_dtr_and_turn_it_off_after(cfg_file, tmp_path, capsys):
    import engine as mge

    a = build_parser().parse_args(["train", "--dtr-threshold", "2GB", "seed=1"])
    assert (a.dtr, a.dtr_threshold, a.opts) == (False, "2GB", ["seed=1"])
    seen = {}
    orig = mge.dtr.enable

    def spy():
        seen["threshold"] = mge.dtr.eviction_threshold
        orig()

    mge.dtr.enable = spy
    try:
        assert main(["train", "-f", cfg_file, "--dtr-threshold", "64MB",
                     f"output_dir={tmp_path}", "train.max_iter=1"]) == 0
    finally:
        del mge.dtr.enable
        mge.dtr.eviction_threshold = 0
    assert seen == {"threshold": 64 << 20} and not mge.dtr.enabled
    assert main(["train", "-f", cfg_file, "--dtr-threshold", "lots",
                 f"output_dir={tmp_path}"]) == 2
    assert "--dtr-threshold" in capsys.readouterr().err and not mge.dtr.enabled


def test_python_dash_m_det(cfg_file, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "det", "train", "-f", cfg_file,
                        f"output_dir={tmp_path / 'o'}", "train.max_iter=2"],
                       capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    assert "iter: 2/2" in r.stdout and (tmp_path / "o" / "model_final.pkl").is_file()
    r = subprocess.run([sys.executable, "-m", "det", "train", "-f", cfg_file, "bad=1"],
                       capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert r.returncode == 2 and "unknown config key 'bad'" in r.stderr


def test_console_scripts_declared():
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        pytest.skip("tomllib needs Python 3.11")
    import det.cli

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    scripts = project["scripts"]
    assert set(scripts) == {"det-train", "det-test", "det-demo", "det-export"}
    for target in scripts.values():
        module, func = target.split(":")
        assert module == "det.cli" and callable(getattr(det.cli, func))
    assert {"pycocotools", "pillow"} <= {d.split(">")[0].split("=")[0]
                                         for d in project["dependencies"]}


def test_console_script_entry_passes_argv(monkeypatch, cfg_file, tmp_path):
    import det.cli

    monkeypatch.setattr(sys, "argv", ["det-train", "-f", cfg_file, f"output_dir={tmp_path}",
                                      "train.max_iter=1"])
    assert det.cli.train_main() == 0
    assert (tmp_path / "model_final.pkl").is_file()


def test_weights_for_another_model_exit_2(cfg_file, tmp_path, capsys):
    import engine as mge

    bad = tmp_path / "other.pkl"
    mge.save({"model": {"conv.weight": np.zeros((1,), np.float32)}}, str(bad))
    assert main(["train", "-f", cfg_file, "-w", str(bad), f"output_dir={tmp_path}"]) == 2
    assert "none of its 1 keys" in capsys.readouterr().err
    mge.save({"model": {"fc1.weight": np.zeros((2, 2), np.float32)}}, str(bad))
    assert main(["train", "-f", cfg_file, "-w", str(bad), f"output_dir={tmp_path}"]) == 2
    assert "fc1.weight: expected (8, 3), got (2, 2)" in capsys.readouterr().err


def test_launch_runs_one_process_here_and_checks_the_count(monkeypatch):
    from det.engine import launch
    from det.engine.launch import LaunchError

    monkeypatch.delenv("PMI_SIZE", raising=False)
    monkeypatch.delenv("OMPI_COMM_WORLD_SIZE", raising=False)
    assert launch(os.getpid) == [os.getpid()]  # no fork, no MPI
    assert launch(os.getpid, num_procs=None) == [os.getpid()]
    with pytest.raises(LaunchError, match="a positive int, got 0"):
        launch(os.getpid, num_procs=0)
    monkeypatch.setenv("PMI_SIZE", "3")  # as mpiexec -n 3 sets it
    with pytest.raises(LaunchError, match="2 processes were asked for, but mpiexec started 3"):
        launch(os.getpid, num_procs=2)


def test_num_procs_below_one_exit_2(cfg_file, tmp_path, capsys):
    assert main(["train", "-f", cfg_file, "--num-procs", "0", f"output_dir={tmp_path}"]) == 2
    assert "det train: error: --num-procs must be at least 1, got 0" in capsys.readouterr().err
