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


def test_module_stats_example_reports_totals():
    script = os.path.join(ROOT, "examples", "module_stats_demo.py")
    proc = subprocess.run([sys.executable, script, "--size", "32"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "flops stats:" in proc.stdout and "summary" in proc.stdout
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("params ") and int(last.split("flops ")[1].split(",")[0]) > 0


def test_profiler_example_writes_a_timeline(tmp_path):
    script = os.path.join(ROOT, "examples", "profiler_demo.py")
    proc = subprocess.run([sys.executable, script, "--steps", "2", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "timeline:" in proc.stdout and list(tmp_path.glob("*.chrome_timeline.json"))


def _run_quick(name, *extra):
    script = os.path.join(ROOT, "examples", name)
    proc = subprocess.run([sys.executable, script, "--quick", *extra], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip().splitlines()


def test_hub_local_example_pretrained_copy_matches(tmp_path):
    lines = _run_quick("hub_local.py", "--dir", str(tmp_path / "repo"))
    assert lines[0] == "entrypoints: ['TinyNet', 'tinynet']"
    assert lines[-1] == "pretrained copy matches the trained model: True"
    assert (tmp_path / "repo" / "tinynet.pkl").is_file()


def test_shapes_cnn_amp_example_learns():
    # the same quick run as above under autocast + GradScaler: the same 80% bar as float32
    script = os.path.join(ROOT, "examples", "train_shapes_cnn_amp.py")
    proc = subprocess.run([sys.executable, script, "--quick"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    acc = float(proc.stdout.strip().splitlines()[-1].split("accuracy ")[1].split(" in ")[0])
    assert acc >= 0.8


def test_custom_function_example_learns_quantized_weights():
    script = os.path.join(ROOT, "examples", "custom_function.py")
    proc = subprocess.run([sys.executable, script, "--steps", "200"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == "quantized weights [0.5, -1.0, 0.25, 2.0]"
    assert float(lines[1].split("-> ")[1]) < 1e-3
    assert float(lines[2].rsplit(" ", 1)[1]) < 1e-5
