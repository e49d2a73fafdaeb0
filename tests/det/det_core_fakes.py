"""A tiny detector, dataset and loader following the det data/model contract, for the trainer
and CLI tests (no det.models / det.data needed). Not a test module: imported by them and by the
config files the CLI tests write.

The dataset's random flip draws from numpy's global stream and the model adds noise from
mge.random while training, so a resumed run is only bit-exact if both streams are restored.
"""
import numpy as np

import engine as mge
import engine.functional as F
import engine.module as M
from det.config import BaseConfig
from det.registry import MODELS
from engine.data import DataLoader, Infinite, RandomSampler, SequentialSampler

SIZE = 32
CLASS_NAMES = ("circle", "square", "triangle")


class ToyDataset:
    """n images of SIZE x SIZE with one coloured square; items as in the det data contract."""

    num_classes = len(CLASS_NAMES)
    class_names = CLASS_NAMES
    label_to_cat_id = {0: 1, 1: 2, 2: 3}

    def __init__(self, n=10, seed=0, flip=True):
        rng = np.random.RandomState(seed)
        self.images, self.boxes, self.labels = [], [], []
        for _ in range(n):
            img = np.zeros((SIZE, SIZE, 3), np.uint8)
            x1, y1 = rng.randint(0, SIZE // 2, size=2)
            w, h = rng.randint(4, SIZE // 2, size=2)
            label = rng.randint(self.num_classes)
            img[y1:y1 + h, x1:x1 + w, label] = 255
            self.images.append(img)
            self.boxes.append(np.array([[x1, y1, x1 + w, y1 + h]], np.float32))
            self.labels.append(np.array([label], np.int32))
        self.flip = flip

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image, boxes = self.images[i], self.boxes[i].copy()
        flipped = bool(self.flip and np.random.rand() < 0.5)  # numpy's global stream
        if flipped:
            image = image[:, ::-1]
            boxes[:, [0, 2]] = SIZE - boxes[:, [2, 0]]
        return {"image": np.ascontiguousarray(image), "boxes": boxes, "labels": self.labels[i],
                "image_id": i + 1, "orig_size": (SIZE, SIZE), "scale": (1.0, 1.0),
                "flipped": flipped}


class ToyCollator:
    def apply(self, items):
        return {
            "images": np.stack([it["image"].transpose(2, 0, 1) for it in items]),  # (N,3,H,W)
            "image_sizes": np.array([[SIZE, SIZE]] * len(items), np.int32),
            "boxes": [it["boxes"] for it in items],
            "labels": [it["labels"] for it in items],
            "image_ids": [it["image_id"] for it in items],
            "orig_sizes": np.array([it["orig_size"] for it in items], np.int32),
            "scales": np.array([it["scale"] for it in items], np.float32),
            "flipped": [it["flipped"] for it in items],
        }


def toy_loader(n=10, batch_size=2, infinite=True, train=True, seed=0):
    ds = ToyDataset(n, flip=train)
    if train:
        sampler = RandomSampler(ds, batch_size=batch_size, drop_last=True, seed=seed)
        sampler = Infinite(sampler) if infinite else sampler
    else:
        sampler = SequentialSampler(ds, batch_size=batch_size)
    return DataLoader(ds, sampler=sampler, collator=ToyCollator())


@MODELS.register("ToyDetector")
class ToyDetector(M.Module):
    """Predicts one box and class per image from the mean colour (N, 3)."""

    def __init__(self, num_classes, hidden=8, noise=0.05, nan_at=None):
        super().__init__()
        self.num_classes = num_classes
        self.fc1 = M.Linear(3, hidden)
        self.fc2 = M.Linear(hidden, 4 + num_classes)
        self.noise = noise
        self.nan_at = nan_at  # make the loss NaN at this forward call (NaN-guard test)
        self.calls = 0

    def forward(self, batch, mode="loss"):
        x = mge.Tensor(batch["images"].astype(np.float32).mean(axis=(2, 3)) / 255.0)  # (N, 3)
        if self.training and self.noise:
            x = x + mge.random.normal(0, self.noise, size=x.shape)
        out = self.fc2(F.relu(self.fc1(x)))  # (N, 4 + C)
        if mode == "loss":
            target = mge.Tensor(np.stack([b[0] for b in batch["boxes"]]) / SIZE)  # (N, 4)
            labels = mge.Tensor(np.array([lab[0] for lab in batch["labels"]], np.int32))
            loss_box = ((out[:, :4] - target) ** 2).mean()
            if self.nan_at is not None and self.calls == self.nan_at:
                loss_box = loss_box * float("nan")
            self.calls += 1
            return {"loss_box": loss_box,
                    "loss_cls": F.nn.cross_entropy(out[:, 4:], labels),
                    "num_pos": mge.Tensor(float(len(batch["boxes"])))}
        if mode != "predict":
            raise ValueError(f"ToyDetector: mode must be 'loss' or 'predict', got {mode!r}")
        raw = out.numpy()
        probs = F.softmax(out[:, 4:], axis=1).numpy()
        results = []
        for i in range(raw.shape[0]):
            box = np.clip(raw[i, :4], 0, 1) * SIZE
            box = np.array([min(box[0], box[2]), min(box[1], box[3]),
                            max(box[0], box[2]) + 1, max(box[1], box[3]) + 1], np.float32)
            box /= np.tile(batch["scales"][i][::-1], 2)  # back to original coordinates
            results.append({"boxes": box[None], "scores": probs[i].max(keepdims=True),
                            "labels": np.array([probs[i].argmax()], np.int32)})
        return results


class CountingEvaluator:
    """Counts the images it saw and returns one metric (the evaluator contract, minimally)."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.n = 0

    def process(self, outputs, batch):
        assert len(outputs) == len(batch["image_ids"])
        self.n += len(outputs)

    def evaluate(self):
        return {"AP": 0.0, "AP50": 0.0, "images": float(self.n)}


class ToyConfig(BaseConfig):
    """A config training ToyDetector on ToyDataset: builders overridden, nothing on disk."""

    def __init__(self):
        super().__init__()
        self.data.num_workers = 0
        self.data.update(min_size=SIZE, max_size=SIZE)
        self.model = dict(name="ToyDetector", num_classes=None, hidden=8)
        self.train.update(max_iter=4, batch_size=2, base_lr=0.05, warmup_iters=2, steps=(3,),
                          checkpoint_period=2, eval_period=0, log_period=2)
        self.test.batch_size = 4
        self.output_dir = "./outputs/toy"

    def prepare_data(self, train=True):
        pass

    def build_train_loader(self):
        return toy_loader(10, self.train.batch_size, seed=self.seed)

    def build_test_loader(self):
        return toy_loader(6, self.test.batch_size, train=False)

    def build_evaluator(self, output_dir=None, dataset=None):
        return CountingEvaluator()
