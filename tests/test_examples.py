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
