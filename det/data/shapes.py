"""The built-in "shapes" dataset: circles, squares and triangles rendered with PIL, in COCO format.

Layout under `root` (what `shapes_paths(root)` returns):
    train.json, val.json        COCO detection json (categories 1 circle, 2 square, 3 triangle)
    images/train_000000.png ... images/val_000000.png

Each image has 1-6 objects of random class, size, colour and position on a random background
colour. Objects may overlap, but a new object is placed only if every earlier one keeps at least
MIN_VISIBLE of its pixels visible, so each box still shows its object. Boxes are the exact tight
boxes of each object's rendered pixels (amodal: the whole object, also where a later one covers
it): pixel columns c0..c1 give x = c0, width = c1 - c0 + 1.

Image i of a split is drawn from its own RandomState seeded by (seed, split, i), so it does not
depend on the size of the other split or on num_train.
"""
import json
import os
import shutil
import tempfile

import numpy as np
from PIL import Image, ImageDraw

from det.registry import DATASETS

__all__ = ["ensure_shapes_dataset", "shapes_paths", "render_image", "CATEGORIES",
           "ShapesDataset"]

CATEGORIES = [{"id": 1, "name": "circle"}, {"id": 2, "name": "square"},
              {"id": 3, "name": "triangle"}]
MIN_VISIBLE = 0.6  # fraction of an object's pixels that must stay visible
_SPLIT_IDS = {"train": 0, "val": 1}
_FORMAT_VERSION = 1


def shapes_paths(root):
    """{"train_json", "train_images", "val_json", "val_images"} for a dataset at root."""
    images = os.path.join(root, "images")
    return {"train_json": os.path.join(root, "train.json"), "train_images": images,
            "val_json": os.path.join(root, "val.json"), "val_images": images}


def _shape_mask(kind, image_size, rng):
    """A random object of `kind` (0 circle, 1 square, 2 triangle): its (S, S) bool mask."""
    s = image_size
    size = rng.uniform(0.12, 0.45) * s  # bounding extent in pixels
    cx, cy = rng.uniform(size / 2, s - size / 2, size=2)
    canvas = Image.new("L", (s, s), 0)
    draw = ImageDraw.Draw(canvas)
    r = size / 2
    if kind == 0:
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    elif kind == 1:
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=255)
    else:  # a triangle with random rotation, inscribed in the circle of radius r
        angle = rng.uniform(0, 2 * np.pi)
        corners = [(cx + r * np.cos(angle + k * 2 * np.pi / 3),
                    cy + r * np.sin(angle + k * 2 * np.pi / 3)) for k in range(3)]
        draw.polygon(corners, fill=255)
    return np.asarray(canvas) > 0


def _random_colour(rng, avoid):
    """A colour at least 100 (L1 over RGB) away from every colour in `avoid`."""
    while True:
        colour = rng.randint(0, 256, size=3)
        if all(np.abs(colour - a).sum() >= 100 for a in avoid):
            return colour


def render_image(image_size, rng):
    """One image: (S, S, 3) uint8, a list of (category_id, [x, y, w, h]) objects, and the
    objects' (3,) colours (distinct from each other and from the background)."""
    background = rng.randint(0, 256, size=3)
    image = np.empty((image_size, image_size, 3), np.uint8)
    image[:] = background
    owner = np.full((image_size, image_size), -1, np.int32)  # which object each pixel shows
    masks, objects, colours = [], [], [background]
    num_objects = rng.randint(1, 7)
    for _ in range(20 * num_objects):  # attempts; a crowded image may end with fewer objects
        if len(objects) == num_objects:
            break
        kind = rng.randint(3)
        mask = _shape_mask(kind, image_size, rng)
        if mask.sum() < 16:
            continue
        trial = np.where(mask, len(masks), owner)
        if any((trial == j).sum() < MIN_VISIBLE * m.sum() for j, m in enumerate(masks)):
            continue
        colour = _random_colour(rng, colours)  # distinct from the background and the others
        colours.append(colour)
        owner = trial
        image[mask] = colour
        masks.append(mask)
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        box = [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1),
               int(rows[-1] - rows[0] + 1)]
        objects.append((kind + 1, box))
    return image, objects, colours[1:]


def _render_split(root, split, count, image_size, seed, first_ann_id):
    images, annotations = [], []
    ann_id = first_ann_id
    for i in range(count):
        rng = np.random.RandomState([seed, _SPLIT_IDS[split], i])
        image, objects, _ = render_image(image_size, rng)
        file_name = f"{split}_{i:06d}.png"
        Image.fromarray(image).save(os.path.join(root, "images", file_name))
        image_id = i + 1
        images.append({"id": image_id, "file_name": file_name, "width": image_size,
                       "height": image_size})
        for cat_id, (x, y, w, h) in objects:
            annotations.append({"id": ann_id, "image_id": image_id, "category_id": cat_id,
                                "bbox": [x, y, w, h], "area": float(w * h), "iscrowd": 0})
            ann_id += 1
    return {"info": {}, "images": images, "annotations": annotations, "categories": CATEGORIES}


def _params(num_train, num_val, image_size, seed):
    return {"generator": "det.data.shapes", "version": _FORMAT_VERSION, "num_train": num_train,
            "num_val": num_val, "image_size": image_size, "seed": seed}


def _is_complete(root, params):
    paths = shapes_paths(root)
    for split in ("train", "val"):
        try:
            with open(paths[f"{split}_json"]) as f:
                data = json.load(f)
        except (OSError, ValueError):
            return False
        if data.get("info", {}).get("params") != params:
            return False
        if not all(os.path.isfile(os.path.join(paths[f"{split}_images"], img["file_name"]))
                   for img in data["images"]):
            return False
    return True


def ensure_shapes_dataset(root, num_train=2000, num_val=100, image_size=128, seed=0):
    """Generate the shapes dataset at `root` unless a complete one with the same parameters is
    there. An incomplete or different one is rebuilt. The new dataset is written to a temporary
    folder next to `root` and renamed into place, so an interrupted run never leaves a
    half-written dataset that looks complete. Returns shapes_paths(root).
    """
    for name, value in (("num_train", num_train), ("num_val", num_val),
                        ("image_size", image_size)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"ensure_shapes_dataset: {name} must be a positive int, got "
                             f"{value!r}")
    if image_size < 32:
        raise ValueError(f"ensure_shapes_dataset: image_size must be at least 32, got "
                         f"{image_size}")
    root = os.path.abspath(root)
    params = _params(int(num_train), int(num_val), int(image_size), int(seed))
    if _is_complete(root, params):
        return shapes_paths(root)
    if os.path.exists(root):
        # only ever delete what this function wrote (or an empty folder)
        unknown = set(os.listdir(root)) - {"train.json", "val.json", "images"}
        if unknown:
            raise FileExistsError(f"ensure_shapes_dataset: {root} exists, is not a complete "
                                  f"shapes dataset with these parameters and holds other files "
                                  f"({sorted(unknown)[:5]}); remove it or choose another root")
    parent = os.path.dirname(root)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(root) + ".tmp-", dir=parent)
    try:
        os.makedirs(os.path.join(tmp, "images"))
        train = _render_split(tmp, "train", params["num_train"], image_size, seed, 1)
        val = _render_split(tmp, "val", params["num_val"], image_size, seed, 1)
        for split, data in (("train", train), ("val", val)):
            data["info"] = {"description": "det shapes: circles, squares, triangles",
                            "params": params}
            with open(os.path.join(tmp, f"{split}.json"), "w") as f:
                json.dump(data, f)
        if os.path.exists(root):
            shutil.rmtree(root)
        os.rename(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return shapes_paths(root)


@DATASETS.register()
def ShapesDataset(root, split="train", transforms=None, training=None, num_train=2000,
                  num_val=100, image_size=128, seed=0, filter_empty=True):
    """A COCODataset over the shapes dataset at root (generated first if needed).
    training defaults to split == "train"."""
    from .coco import COCODataset

    if split not in _SPLIT_IDS:
        raise ValueError(f"ShapesDataset: split must be 'train' or 'val', got {split!r}")
    paths = ensure_shapes_dataset(root, num_train, num_val, image_size, seed)
    training = split == "train" if training is None else training
    return COCODataset(paths[f"{split}_json"], paths[f"{split}_images"], transforms, training,
                       filter_empty)
