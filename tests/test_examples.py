"""The examples run as a user runs them, and do what they claim."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_mlp_gradmanager_example_loss_falls():
    script = os.path.join(ROOT, "examples", "mlp_gradmanager.py")
    proc = subprocess.run([sys.executable, script, "--steps", "300"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first, last = proc.stdout.strip().splitlines()[-1].split("loss ")[1].split(" in ")[0].split(
        " -> ")
    assert float(last) < 0.5 * float(first)


def test_shapes_cnn_example_learns():
    # the CI form of the issue-3 example: 2000 images, two epochs, must reach 80% test accuracy
    script = os.path.join(ROOT, "examples", "train_shapes_cnn.py")
    proc = subprocess.run([sys.executable, script, "--quick"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    acc = float(proc.stdout.strip().splitlines()[-1].split("accuracy ")[1].split(" in ")[0])
    assert acc >= 0.8


def test_shapes_cnn_amp_example_learns():
    # the same quick run as above under autocast + GradScaler: the same 80% bar as float32
    script = os.path.join(ROOT, "examples", "train_shapes_cnn_amp.py")
    proc = subprocess.run([sys.executable, script, "--quick"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    acc = float(proc.stdout.strip().splitlines()[-1].split("accuracy ")[1].split(" in ")[0])
    assert acc >= 0.8
