"""Train a small convolutional network to tell circles, squares, triangles and crosses apart.

A MegEngine 1.x style script (change the engine imports to megengine and it runs there): the
images are generated here with numpy (random sizes, positions, colours and noise), fed through
engine.data (RandomSampler, DataLoader, transforms), and the network is built from engine.module
and trained with engine.optimizer.SGD under a GradManager. Reaches at least 95% test accuracy;
exits with status 1 when it does not reach --target.

    python examples/train_shapes_cnn.py                 # full run
    python examples/train_shapes_cnn.py --quick         # a shortened run for CI
"""
import argparse
import time

import numpy as np

import engine as mge
import engine.data as data
import engine.data.transform as T
import engine.functional as F
import engine.module as M
import engine.optimizer as optim
from engine.autodiff import GradManager

CLASSES = ("circle", "square", "triangle", "cross")
NUM_CLASSES = len(CLASSES)
SIZE = 32


def render(kind, rng):
    """One HWC uint8 image with a single shape of the given kind."""
    yy, xx = np.mgrid[:SIZE, :SIZE].astype(np.float32)
    r = rng.uniform(5, 11)
    cy, cx = rng.uniform(r + 1, SIZE - r - 1, 2)
    dy, dx = yy - cy, xx - cx
    if kind == "circle":
        mask = dy * dy + dx * dx <= r * r
    elif kind == "square":
        mask = (np.abs(dy) <= r * 0.8) & (np.abs(dx) <= r * 0.8)
    elif kind == "triangle":  # apex up: inside when below the two slanted edges and above the base
        mask = (dy <= r * 0.8) & (dy >= -r + 2 * np.abs(dx))
    else:
        arm = r * 0.3
        mask = ((np.abs(dy) <= arm) & (np.abs(dx) <= r)) | ((np.abs(dx) <= arm) & (np.abs(dy) <= r))
    background = rng.uniform(0, 90, 3)
    colour = rng.uniform(140, 255, 3)
    img = np.where(mask[..., None], colour, background) + rng.normal(0, 12, (SIZE, SIZE, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def make_dataset(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CLASSES), n).astype(np.int32)
    images = np.stack([render(CLASSES[k], rng) for k in labels])
    return images, labels


class Net(M.Module):
    def __init__(self, num_classes=NUM_CLASSES):
        super().__init__()
        self.features = M.Sequential(
            M.Conv2d(3, 16, 3, padding=1, bias=False), M.BatchNorm2d(16), M.ReLU(),
            M.MaxPool2d(2),
            M.Conv2d(16, 32, 3, padding=1, bias=False), M.BatchNorm2d(32), M.ReLU(),
            M.MaxPool2d(2),
            M.Conv2d(32, 64, 3, padding=1, bias=False), M.BatchNorm2d(64), M.ReLU(),
        )
        self.fc = M.Linear(64, num_classes)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.fc(F.flatten(x, 1))


def loader(images, labels, batch_size, train):
    ds = data.ArrayDataset(images, labels)
    sampler = (data.RandomSampler(ds, batch_size=batch_size, drop_last=True, seed=0) if train
               else data.SequentialSampler(ds, batch_size=batch_size))
    transform = T.Compose([T.Normalize(mean=[127.5] * 3, std=[64.0] * 3), T.ToMode("CHW")],
                          order=("image", "label"))
    return data.DataLoader(ds, sampler=sampler, transform=transform)


def evaluate(model, test_loader):
    model.eval()
    correct = total = 0
    for images, labels in test_loader:
        pred = F.argmax(model(mge.tensor(images)), axis=1).numpy()
        correct += int((pred == labels).sum())
        total += len(labels)
    model.train()
    return correct / total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--train-size", type=int, default=6000)
    ap.add_argument("--test-size", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--target", type=float, default=0.95, help="required test accuracy")
    ap.add_argument("--quick", action="store_true", help="small data, two epochs, target 0.8")
    args = ap.parse_args()
    if args.quick:
        args.train_size, args.test_size, args.epochs, args.target = 2000, 400, 2, 0.8

    start = time.time()
    mge.random.seed(0)
    np.random.seed(0)
    train_loader = loader(*make_dataset(args.train_size, seed=1), args.batch_size, train=True)
    test_loader = loader(*make_dataset(args.test_size, seed=2), 200, train=False)

    model = Net()
    gm = GradManager().attach(model.parameters())
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    total_steps = args.epochs * len(train_loader)
    sched = optim.CosineAnnealingLR(opt, T_max=total_steps)

    step = 0
    for epoch in range(args.epochs):
        for images, labels in train_loader:
            with gm:
                loss = F.nn.cross_entropy(model(mge.tensor(images)), mge.tensor(labels))
                gm.backward(loss)
            opt.step().clear_grad()
            sched.step()
            step += 1
            if step % 50 == 0:
                print(f"epoch {epoch} step {step}/{total_steps} loss {loss.item():.4f} "
                      f"({time.time() - start:.0f}s)")
        acc = evaluate(model, test_loader)
        print(f"epoch {epoch}: test accuracy {acc:.4f} ({time.time() - start:.0f}s)")

    print(f"final test accuracy {acc:.4f} in {time.time() - start:.1f}s")
    if acc < args.target:
        print(f"FAILED: accuracy below the target {args.target}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
