"""det.data.shapes: deterministic rendering, exact tight boxes, idempotent atomic generation."""
import json
import os

import numpy as np
import pytest
from PIL import Image

from det.data.shapes import ShapesDataset, ensure_shapes_dataset, render_image


def _files(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            path = os.path.join(dirpath, n)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


def test_render_is_deterministic_and_seed_dependent():
    a_img, a_obj, _ = render_image(64, np.random.RandomState([3, 0, 1]))
    b_img, b_obj, _ = render_image(64, np.random.RandomState([3, 0, 1]))
    c_img, _, _ = render_image(64, np.random.RandomState([4, 0, 1]))
    assert np.array_equal(a_img, b_img) and a_obj == b_obj
    assert not np.array_equal(a_img, c_img)


def test_single_object_box_is_exactly_tight():
    # images with one object: the non-background pixels span exactly the box
    checked = 0
    for i in range(60):
        image, objects, _ = render_image(96, np.random.RandomState([0, 0, i]))
        if len(objects) != 1:
            continue
        cat, (x, y, w, h) = objects[0]
        fg = (image != image[0, 0]).any(axis=2)
        if fg[0, 0]:  # the object covers the corner used as background sample
            continue
        rows, cols = np.flatnonzero(fg.any(axis=1)), np.flatnonzero(fg.any(axis=0))
        assert (x, y, w, h) == (cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1)
        assert cat in (1, 2, 3)
        checked += 1
    assert checked >= 3


def test_every_object_lies_in_its_box_and_counts_are_in_range():
    for i in range(30):
        image, objects, colours = render_image(96, np.random.RandomState([1, 0, i]))
        assert 1 <= len(objects) <= 6 and len(colours) == len(objects)
        for k, ((_, (x, y, w, h)), colour) in enumerate(zip(objects, colours)):
            assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= 96 and y + h <= 96
            mask = (image == colour).all(axis=2)  # visible pixels of object k
            assert mask.sum() > 0
            rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            seen = (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
            assert x <= seen[0] and y <= seen[1] and seen[2] <= x + w and seen[3] <= y + h
            if k == len(objects) - 1:  # drawn last, fully visible: the box is its extent
                assert seen == (x, y, x + w, y + h)


def test_dataset_files_and_determinism(tmp_path):
    paths = ensure_shapes_dataset(str(tmp_path / "a"), num_train=5, num_val=3, image_size=64)
    ensure_shapes_dataset(str(tmp_path / "b"), num_train=5, num_val=3, image_size=64)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    train = json.load(open(paths["train_json"]))
    assert [c["name"] for c in train["categories"]] == ["circle", "square", "triangle"]
    assert [im["id"] for im in train["images"]] == [1, 2, 3, 4, 5]
    assert len({a["id"] for a in train["annotations"]}) == len(train["annotations"])
    im = Image.open(os.path.join(paths["train_images"], train["images"][0]["file_name"]))
    assert im.size == (64, 64) and im.mode == "RGB"
    # no temporary folders left next to the roots
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]
    # the val split does not depend on num_train
    ensure_shapes_dataset(str(tmp_path / "c"), num_train=2, num_val=3, image_size=64)
    assert json.load(open(tmp_path / "c" / "val.json"))["annotations"] == \
        json.load(open(paths["val_json"]))["annotations"]


def test_idempotent_and_rebuilds_when_incomplete(tmp_path):
    root = str(tmp_path / "shapes")
    paths = ensure_shapes_dataset(root, num_train=3, num_val=2, image_size=48)
    image = os.path.join(paths["train_images"], "train_000001.png")
    before = os.stat(paths["train_json"]).st_mtime_ns
    ensure_shapes_dataset(root, num_train=3, num_val=2, image_size=48)
    assert os.stat(paths["train_json"]).st_mtime_ns == before  # complete: untouched
    content = open(image, "rb").read()
    os.remove(image)
    ensure_shapes_dataset(root, num_train=3, num_val=2, image_size=48)
    assert open(image, "rb").read() == content  # rebuilt identically
    ensure_shapes_dataset(root, num_train=4, num_val=2, image_size=48)  # other parameters
    assert len(json.load(open(paths["train_json"]))["images"]) == 4


def test_refuses_to_delete_foreign_files_and_bad_arguments(tmp_path):
    root = tmp_path / "mine"
    root.mkdir()
    (root / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="notes.txt"):
        ensure_shapes_dataset(str(root), num_train=2, num_val=1, image_size=48)
    assert (root / "notes.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="num_train"):
        ensure_shapes_dataset(str(tmp_path / "x"), num_train=0)
    with pytest.raises(ValueError, match="image_size"):
        ensure_shapes_dataset(str(tmp_path / "x"), num_train=1, num_val=1, image_size=8)


def test_shapes_dataset_items(tmp_path):
    ds = ShapesDataset(str(tmp_path / "s"), split="val", num_train=2, num_val=3, image_size=64)
    assert len(ds) == 3 and ds.class_names == ["circle", "square", "triangle"]
    assert ds.label_to_cat_id == [1, 2, 3]
    item = ds[0]
    assert item["image"].shape == (64, 64, 3) and item["image_id"] == 1
    assert item["labels"].dtype == np.int32 and set(item["labels"].tolist()) <= {0, 1, 2}
    with pytest.raises(ValueError, match="split"):
        ShapesDataset(str(tmp_path / "s"), split="test")
