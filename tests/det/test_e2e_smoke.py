"""End-to-end smoke test of the real detector: `python -m det train` for a few iterations on a
tiny generated shapes dataset (FCOS and RetinaNet), then `test` and `demo` on its checkpoint, as
a user runs them (subprocesses)."""
import json
import os
import subprocess
import sys

import pytest

TINY = ["data.shapes.num_train=16", "data.shapes.num_val=4", "data.shapes.image_size=64",
        "data.min_size=64", "data.max_size=64", "data.num_workers=0", "train.max_iter=3",
        "train.batch_size=4", "train.warmup_iters=1", "train.steps=(2,)",
        "train.checkpoint_period=2", "train.eval_period=3", "test.batch_size=4"]


def run(args, env, cwd):
    proc = subprocess.run([sys.executable, "-m", "det", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.mark.parametrize("config", ["fcos_r18_shapes", "retinanet_r18_shapes"])
def test_train_test_demo_on_tiny_shapes(config, tmp_path):
    env = dict(os.environ, DET_CACHE_DIR=str(tmp_path / "cache"))
    out = tmp_path / "out"
    run(["train", "-f", config, f"output_dir={out}", *TINY], env, tmp_path)
    for name in ("config.py", "model_final.pkl", "last_checkpoint", "metrics.json",
                 "eval_results.json"):
        assert (out / name).is_file(), name
    results = json.loads((out / "eval_results.json").read_text())
    assert {"AP", "AP50", "AP75", "APs", "APm", "APl"} <= set(results)

    run(["test", "-f", config, "-w", str(out / "model_final.pkl"),
         f"output_dir={tmp_path / 'test'}", *TINY], env, tmp_path)
    tested = json.loads((tmp_path / "test" / "eval_results.json").read_text())
    assert set(tested) == set(results)

    images = tmp_path / "cache" / "shapes" / "images"
    image = sorted(images.glob("val_*.png"))[0]
    run(["demo", "-f", config, "-w", str(out / "model_final.pkl"), "--out",
         str(tmp_path / "vis"), str(image), *TINY], env, tmp_path)
    assert len(list((tmp_path / "vis").glob("*.png"))) == 1
