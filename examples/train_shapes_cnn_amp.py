"""Train the shapes CNN (examples/train_shapes_cnn.py) with automatic mixed precision.

The MegEngine amp recipe: the forward pass runs under `amp.autocast()` (convolutions and matrix
products in float16 with float32 accumulation, softmax/cross-entropy and normalisation
statistics in float32), and `amp.GradScaler` scales the loss before the backward pass so that
small float16 gradients do not flush to zero, unscales the gradients, and skips a step whose
gradients overflow (backing the scale off). Parameters and the optimizer stay float32. Reaches the
accuracy of the float32 run; exits with status 1 when it does not reach --target.

    python examples/train_shapes_cnn_amp.py                 # full run
    python examples/train_shapes_cnn_amp.py --quick         # a shortened run for CI
    python examples/train_shapes_cnn_amp.py --compare       # also train in float32, print both
"""
import argparse
import time

import numpy as np
from train_shapes_cnn import Net, evaluate, loader, make_dataset

import engine as mge
import engine.amp as amp
import engine.functional as F
import engine.optimizer as optim
from engine.autodiff import GradManager


def train(args, use_amp):
    mge.random.seed(0)
    np.random.seed(0)
    train_loader = loader(*make_dataset(args.train_size, seed=1), args.batch_size, train=True)
    test_loader = loader(*make_dataset(args.test_size, seed=2), 200, train=False)

    model = Net()
    gm = GradManager().attach(model.parameters())
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    sched = optim.CosineAnnealingLR(opt, T_max=args.epochs * len(train_loader))
    scaler = amp.GradScaler(init_scale=2.0 ** 10, growth_interval=100)

    @amp.autocast(enabled=use_amp)
    def train_step(images, labels):
        with gm:
            logits = model(mge.tensor(images))
            loss = F.nn.cross_entropy(logits, mge.tensor(labels))
            if use_amp:
                scaler.backward(gm, loss)  # scale, backward, unscale (None grads on overflow)
            else:
                gm.backward(loss)
        opt.step().clear_grad()
        return loss

    start, step, skipped = time.time(), 0, 0
    for epoch in range(args.epochs):
        for images, labels in train_loader:
            scale = scaler.scale_factor
            loss = train_step(images, labels)
            skipped += use_amp and scaler.scale_factor < scale  # backed off: step skipped
            sched.step()
            step += 1
            if step % 50 == 0:
                scale = f" scale {scaler.scale_factor:g}" if use_amp else ""
                print(f"{'amp' if use_amp else 'fp32'} epoch {epoch} step {step} loss "
                      f"{loss.item():.4f}{scale} ({time.time() - start:.0f}s)")
        with amp.autocast(enabled=use_amp):
            acc = evaluate(model, test_loader)
        print(f"{'amp' if use_amp else 'fp32'} epoch {epoch}: test accuracy {acc:.4f}")
    if use_amp:
        print(f"amp: {skipped} of {step} steps skipped on inf/NaN gradients, final scale "
              f"{scaler.scale_factor:g}")
    return acc, time.time() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--train-size", type=int, default=6000)
    ap.add_argument("--test-size", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--target", type=float, default=0.95, help="required test accuracy")
    ap.add_argument("--quick", action="store_true", help="small data, two epochs, target 0.8")
    ap.add_argument("--compare", action="store_true", help="also train in float32")
    args = ap.parse_args()
    if args.quick:
        args.train_size, args.test_size, args.epochs, args.target = 2000, 400, 2, 0.8

    if args.compare:
        acc32, t32 = train(args, use_amp=False)
        print(f"float32 test accuracy {acc32:.4f} in {t32:.1f}s")
    acc, t = train(args, use_amp=True)
    print(f"final amp test accuracy {acc:.4f} in {t:.1f}s")
    if acc < args.target:
        print(f"FAILED: accuracy below the target {args.target}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
