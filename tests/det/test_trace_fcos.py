"""det's FCOS training step under engine.jit.trace: the default mode (symbolic=True: the
positives' count changes shapes from batch to batch) gives the eager parameters bit for bit;
without_host=True refuses the step (its targets are built from numpy every call)."""
import numpy as np
import pytest

import engine as mge
import engine.optimizer as optim
from det.config import get_config
from engine.autodiff import GradManager
from engine.jit import TraceError, trace


def _batches(n, size=64, seed=0):
    r = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        boxes, labels = [], []
        for _ in range(2):
            k = int(r.integers(1, 4))
            xy = r.uniform(0, size / 2, (k, 2))
            wh = r.uniform(8, size / 2, (k, 2))
            boxes.append(np.concatenate([xy, xy + wh], 1).astype(np.float32))
            labels.append(r.integers(0, 3, k).astype(np.int32))
        out.append({"images": r.integers(0, 255, (2, 3, size, size), dtype=np.uint8),
                    "image_sizes": np.full((2, 2), size, np.int32), "boxes": boxes,
                    "labels": labels})
    return out


def _train(batches, traced, without_host=False):
    cfg = get_config("fcos_r18_shapes")
    cfg.model.num_classes = 3
    mge.random.seed(0)
    model = cfg.build_model()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    gm = GradManager().attach(model.parameters())

    def step(batch):
        with gm:
            losses = model(batch, mode="loss")
            total = sum(losses.values())
            gm.backward(total)
        opt.step().clear_grad()
        return total

    run = trace(step, symbolic=True, without_host=without_host) if traced else step
    losses = []
    for b in batches:
        b = dict(b, images=mge.tensor(b["images"]))
        if without_host:  # (numpy arguments are refused by name: pass Tensors)
            b.update(boxes=[mge.tensor(x) for x in b["boxes"]],
                     labels=[mge.tensor(x) for x in b["labels"]],
                     image_sizes=mge.tensor(b["image_sizes"]))
        losses.append(float(run(b).numpy()))
    return losses, {k: v.copy() for k, v in model.state_dict().items()}


def test_traced_fcos_steps_equal_eager_ones():
    batches = _batches(6)
    eager, traced = _train(batches, False), _train(batches, True)
    assert eager[0] == traced[0]
    for k, v in eager[1].items():
        np.testing.assert_array_equal(traced[1][k], v, err_msg=k)


def test_without_host_refuses_fcos_targets_built_on_the_host():
    with pytest.raises(TraceError, match="from host data"):
        _train(_batches(1), True, without_host=True)
