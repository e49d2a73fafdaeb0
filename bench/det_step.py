"""FCOS-R50 training step: det against torchvision's FCOS in the same run. Not a test.

    python bench/det_step.py [--size 512] [--batch 2] [--steps 5] [--warmup 1]

Both models: ResNet-50 + FPN P3-P7, 80 classes, from scratch, SGD with momentum, the same batch
of random images with the same boxes, no resizing inside the model. torchvision is only for this
benchmark and lives in a separate venv (`pip install torch==2.14.1 torchvision==0.29.1`); without
it only det's time is printed.
"""
import argparse

import numpy as np
from _timing import interleaved_median_ms


def make_batch(n, size, rng, num_classes=80, objects=6):
    images = rng.integers(0, 256, (n, 3, size, size), dtype=np.uint8)
    boxes, labels = [], []
    for _ in range(n):
        xy = rng.uniform(0, size * 0.7, (objects, 2))
        wh = rng.uniform(size * 0.05, size * 0.3, (objects, 2))
        boxes.append(np.concatenate([xy, np.minimum(xy + wh, size - 1)], 1).astype(np.float32))
        labels.append(rng.integers(0, num_classes, objects).astype(np.int32))
    return images, boxes, labels


def det_step_fn(images, boxes, labels):
    from det.models.defaults import fcos_r50

    cfg = fcos_r50(num_classes=80)
    cfg["backbone"].update(norm="BN", freeze_at=0)  # from scratch, as the torchvision side
    return detector_step_fn(cfg, images, boxes, labels)


def detector_step_fn(cfg, images, boxes, labels, lr=0.001):
    """One SGD-with-momentum training step of the det model built from cfg on this batch."""
    import det.models  # noqa: F401  (registers the detectors)
    import engine.optimizer as optim
    from det.registry import MODELS
    from engine.autodiff import GradManager

    n, _, h, w = images.shape
    model = MODELS.build(cfg)
    model.train()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    gm = GradManager().attach(model.parameters())
    batch = {"images": images, "image_sizes": np.full((n, 2), (h, w), np.int32),
             "boxes": boxes, "labels": labels, "image_ids": list(range(n)),
             "orig_sizes": np.full((n, 2), (h, w), np.int32),
             "scales": np.ones((n, 2), np.float32), "flipped": [False] * n}

    def step():
        with gm:
            losses = model(batch, mode="loss")
            total = sum(v for k, v in losses.items() if k.startswith("loss"))
            gm.backward(total)
        opt.step().clear_grad()
        return total.item()

    return step


def torchvision_step_fn(images, boxes, labels):
    import torch
    from torchvision.models.detection import fcos_resnet50_fpn

    n, _, h, w = images.shape
    model = fcos_resnet50_fpn(weights=None, weights_backbone=None, num_classes=80,
                              min_size=h, max_size=w, trainable_backbone_layers=5)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    imgs = [torch.from_numpy(im.astype(np.float32) / 255) for im in images]
    targets = [{"boxes": torch.from_numpy(b), "labels": torch.from_numpy(lab.astype(np.int64))}
               for b, lab in zip(boxes, labels)]

    def step():
        losses = model(imgs, targets)
        total = sum(losses.values())
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        return total.item()

    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()
    images, boxes, labels = make_batch(args.batch, args.size, np.random.default_rng(0))
    steps = {"det": det_step_fn(images, boxes, labels)}
    try:
        steps["torchvision"] = torchvision_step_fn(images, boxes, labels)
    except ImportError as e:
        print(f"torchvision not importable ({e}): no peer ratio")
    med = interleaved_median_ms(steps, args.steps, warmup=args.warmup)
    for name, s in med.items():
        ratio = f"   det/{name} = {med['det'] / s:.2f}x" if name != "det" else ""
        print(f"{name:12s} {s:8.0f} ms per FCOS-R50 training step "
              f"(batch {args.batch}, {args.size}x{args.size}, CPU){ratio}")


if __name__ == "__main__":
    main()
