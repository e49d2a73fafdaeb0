"""DTR on the detector: FCOS trained under a budget that forces evictions gives bit-identical
parameters to training without DTR."""
import numpy as np

import det.models  # noqa: F401  (registers FCOS)
import engine as mge
import engine.optimizer as optim
from det.data.collate import DetCollator
from det.models.defaults import fcos_r18_shapes
from det.registry import MODELS
from engine.autodiff import GradManager


def _batch(n, size, rng):
    """n random size x size images with three boxes each, collated as the train loader does."""
    items = []
    for i in range(n):
        xy = rng.uniform(0, size * 0.6, (3, 2))
        wh = rng.uniform(size * 0.1, size * 0.4, (3, 2))
        items.append({"image": rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
                      "boxes": np.concatenate([xy, np.minimum(xy + wh, size - 1)], 1),
                      "labels": rng.integers(0, 3, 3), "image_id": i, "orig_size": (size, size),
                      "scale": (1.0, 1.0), "flipped": False})
    return DetCollator().apply(items)


def _train(budget_fraction=None, steps=2):
    mge.random.seed(3)
    model = MODELS.build(fcos_r18_shapes(num_classes=3))
    model.train()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    gm = GradManager().attach(model.parameters())
    data = _batch(2, 128, np.random.default_rng(0))
    mge.reset_max_memory_stats()
    base = mge.get_allocated_memory()
    for i in range(steps):
        if budget_fraction and i == 1:  # the first step measured the peak without DTR
            peak = mge.get_max_allocated_memory()
            mge.dtr(eviction_threshold=int(base + (peak - base) * budget_fraction),
                    evictee_minimum_size="16KB")
        with gm:
            losses = model(data, mode="loss")
            gm.backward(sum(v for k, v in losses.items() if k.startswith("loss")))
        opt.step().clear_grad()
    mge.dtr.disable()
    return {k: v.copy() for k, v in model.state_dict().items()}


def test_fcos_under_dtr_is_bit_exact():
    ref = _train(steps=3)
    mge.dtr.reset_stats()
    try:
        got = _train(budget_fraction=0.5, steps=3)
    finally:
        mge.dtr.disable()
        mge.dtr.eviction_threshold = 0
        mge.dtr.evictee_minimum_size = 1 << 20
    st = mge.dtr.stats()
    assert st["evictions"] > 0 and st["recomputations"] > 0
    assert ref.keys() == got.keys()
    for k in ref:
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)
