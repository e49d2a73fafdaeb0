"""engine.hub with a local hubconf folder, as a MegEngine tutorial would use hub (change
`import engine` back to `import megengine` and `source="local"` to a git repo_info to run it on
MegEngine's hub).

Writes a small model repository (hubconf.py + the model's module) into a folder, trains the
model a few steps and saves its weights there, then: lists the entrypoints, reads one's
docstring, builds the model fresh and with `pretrained=True` (the weights file, found through
@hub.pretrained), and checks the pretrained copy predicts exactly like the trained model.

    python examples/hub_local.py [--quick] [--dir DIR]
"""
import argparse
import os
import tempfile
import textwrap

import numpy as np

import engine as mge
import engine.functional as F
import engine.optimizer as optim
from engine import hub
from engine.autodiff import GradManager

MODEL_PY = '''
import engine.functional as F
import engine.module as M


class TinyNet(M.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.fc1 = M.Linear(2, hidden)
        self.fc2 = M.Linear(hidden, 2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
'''

HUBCONF_PY = '''
import os

from engine import hub
from tinynet import TinyNet

dependencies = ["numpy"]
HERE = os.path.dirname(os.path.abspath(__file__))


@hub.pretrained(os.path.join(HERE, "tinynet.pkl"))
def tinynet(**kwargs):
    """TinyNet: a two-layer MLP that tells which side of the line x + y = 0 a point is."""
    return TinyNet(**kwargs)
'''


def write_repo(folder):
    os.makedirs(folder, exist_ok=True)
    for name, text in (("tinynet.py", MODEL_PY), ("hubconf.py", HUBCONF_PY)):
        with open(os.path.join(folder, name), "w") as f:
            f.write(textwrap.dedent(text))


def train(model, steps):
    rng = np.random.RandomState(0)
    x = rng.randn(256, 2).astype("float32")
    y = (x.sum(1) > 0).astype("int32")
    gm = GradManager().attach(model.parameters())
    opt = optim.SGD(model.parameters(), lr=0.5)
    for _ in range(steps):
        with gm:
            loss = F.nn.cross_entropy(model(mge.tensor(x)), mge.tensor(y))
            gm.backward(loss)
        opt.step().clear_grad()
    acc = float((model(mge.tensor(x)).numpy().argmax(1) == y).mean())
    return float(loss.numpy()), acc


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer training steps (CI)")
    ap.add_argument("--dir", default=None, help="where to write the hub repository")
    args = ap.parse_args()
    folder = args.dir or tempfile.mkdtemp(prefix="hub_local_")
    write_repo(folder)

    print("entrypoints:", hub.list(folder, source="local"))
    print("help:", hub.help(folder, "tinynet", source="local"))

    model = hub.load(folder, "tinynet", source="local")
    loss, acc = train(model, 30 if args.quick else 200)
    print(f"trained: loss {loss:.4f}, accuracy {acc:.3f}")
    mge.save(model.state_dict(), os.path.join(folder, "tinynet.pkl"))

    pretrained = hub.load(folder, "tinynet", pretrained=True, source="local")
    probe = mge.tensor(np.random.RandomState(1).randn(8, 2).astype("float32"))
    same = np.array_equal(pretrained(probe).numpy(), model(probe).numpy())
    print(f"pretrained copy matches the trained model: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
