"""det.data: COCODataset on hand-made json + images, transforms, collate, loaders, preprocessor."""
import json
import os
import types
import warnings

import numpy as np
import pytest
from PIL import Image

import engine as mge
from det.data import (
    COCODataset,
    DataPreprocessor,
    DetCollator,
    RandomFlip,
    ResizeShortestEdge,
    build_test_loader,
    build_train_loader,
    ensure_shapes_dataset,
    pad_images,
)

H, W = 30, 40


def _write_dataset(root, annotations=None, images=None, categories=None, raw=None):
    """A tiny COCO dataset: json ids unrelated to file names, non-contiguous category ids."""
    root.mkdir(exist_ok=True)
    rng = np.random.RandomState(0)
    rgb = rng.randint(0, 256, (H, W, 3)).astype(np.uint8)
    Image.fromarray(rgb).save(root / "img_001.png")
    Image.fromarray(rgb[..., 0]).save(root / "img_002.png")  # grey (mode L)
    rgba = np.dstack([rgb, np.full((H, W), 77, np.uint8)])
    Image.fromarray(rgba).save(root / "img_003.png")  # RGBA
    Image.fromarray(rgb).save(root / "img_004.png")  # no boxes
    data = {
        "images": images or [
            {"id": 42, "file_name": "img_001.png", "width": W, "height": H},
            {"id": 7, "file_name": "img_002.png", "width": W, "height": H},
            {"id": 1000, "file_name": "img_003.png", "width": W, "height": H},
            {"id": 5, "file_name": "img_004.png", "width": W, "height": H}],
        "categories": categories or [{"id": 9, "name": "nine"}, {"id": 2, "name": "two"},
                                     {"id": 5, "name": "five"}],
        "annotations": annotations if annotations is not None else [
            {"id": 1, "image_id": 42, "category_id": 9, "bbox": [1, 2, 10, 5], "iscrowd": 0},
            {"id": 2, "image_id": 42, "category_id": 2, "bbox": [0, 0, 40, 30], "iscrowd": 1},
            {"id": 3, "image_id": 42, "category_id": 5, "bbox": [20, 10, 5, 15]},
            {"id": 4, "image_id": 7, "category_id": 2, "bbox": [3, 4, 6, 8], "iscrowd": 0},
            {"id": 5, "image_id": 1000, "category_id": 9, "bbox": [30, 20, 15, 15]}],
    }
    path = root / "ann.json"
    path.write_text(raw if raw is not None else json.dumps(data))
    return str(path), str(root), rgb


def _by_id(ds):
    return {ds[i]["image_id"]: ds[i] for i in range(len(ds))}


def test_coco_dataset_items(tmp_path):
    json_path, root, rgb = _write_dataset(tmp_path / "d")
    ds = COCODataset(json_path, root, training=False)
    assert ds.label_to_cat_id == [2, 5, 9] and ds.class_names == ["two", "five", "nine"]
    assert ds.num_classes == 3 and ds.cat_id_to_label == {2: 0, 5: 1, 9: 2}
    assert sorted(ds.image_ids) == [5, 7, 42, 1000]  # ids from the json, not "img_00N"
    items = _by_id(ds)
    a = items[42]
    # crowd box dropped; xywh -> x1y1x2y2; labels contiguous
    np.testing.assert_array_equal(a["boxes"], [[1, 2, 11, 7], [20, 10, 25, 25]])
    assert a["boxes"].dtype == np.float32 and a["labels"].dtype == np.int32
    np.testing.assert_array_equal(a["labels"], [2, 1])
    np.testing.assert_array_equal(a["image"], rgb)
    assert a["orig_size"] == (H, W) and a["scale"] == (1.0, 1.0) and a["flipped"] is False
    # grey -> RGB by replication; RGBA -> RGB dropping alpha
    np.testing.assert_array_equal(items[7]["image"], np.repeat(rgb[..., :1], 3, axis=2))
    np.testing.assert_array_equal(items[1000]["image"], rgb)
    assert items[7]["image"].shape == (H, W, 3) and items[7]["image"].dtype == np.uint8
    # a box reaching past the image is clipped to it
    np.testing.assert_array_equal(items[1000]["boxes"], [[30, 20, 40, 30]])
    # the image without boxes is kept at test time, with (0, 4) boxes
    assert items[5]["boxes"].shape == (0, 4) and items[5]["labels"].shape == (0,)


def test_empty_images_filtered_only_when_training(tmp_path):
    json_path, root, _ = _write_dataset(tmp_path / "d")
    assert 5 not in COCODataset(json_path, root, training=True).image_ids
    assert 5 in COCODataset(json_path, root, training=True, filter_empty=False).image_ids


def test_degenerate_boxes_dropped_with_warning(tmp_path):
    anns = [{"id": 11, "image_id": 42, "category_id": 9, "bbox": [1, 2, 0, 5]},
            {"id": 12, "image_id": 42, "category_id": 9, "bbox": [1, 2, 4, -3]},
            {"id": 13, "image_id": 42, "category_id": 9, "bbox": [50, 2, 4, 3]},  # outside
            {"id": 14, "image_id": 42, "category_id": 2, "bbox": [1, 2, 4, 3]}]
    json_path, root, _ = _write_dataset(tmp_path / "d", annotations=anns)
    with pytest.warns(UserWarning, match=r"dropped 3 boxes.*\[11, 12, 13\]"):
        ds = COCODataset(json_path, root)
    np.testing.assert_array_equal(_by_id(ds)[42]["labels"], [0])


@pytest.mark.parametrize("case, error, pattern", [
    ("truncated", ValueError, "not valid json"),
    ("no_images", ValueError, "needs a list 'images'"),
    ("unknown_category", ValueError, "category_id 4, which is not in 'categories'"),
    ("unknown_image", ValueError, "image id 99, which is not in 'images'"),
    ("bad_bbox", ValueError, r"bbox \[1, 2, 3\]"),
    ("duplicate_image", ValueError, "image id 42 appears twice"),
])
def test_bad_json_is_a_clear_error(tmp_path, case, error, pattern):
    kwargs = {
        "truncated": dict(raw='{"images": [{"id": 1,'),
        "no_images": dict(raw='{"categories": [], "annotations": []}'),
        "unknown_category": dict(annotations=[
            {"id": 1, "image_id": 42, "category_id": 4, "bbox": [1, 2, 3, 4]}]),
        "unknown_image": dict(annotations=[
            {"id": 1, "image_id": 99, "category_id": 9, "bbox": [1, 2, 3, 4]}]),
        "bad_bbox": dict(annotations=[
            {"id": 1, "image_id": 42, "category_id": 9, "bbox": [1, 2, 3]}]),
        "duplicate_image": dict(images=[{"id": 42, "file_name": "img_001.png"},
                                        {"id": 42, "file_name": "img_002.png"}]),
    }[case]
    json_path, root, _ = _write_dataset(tmp_path / "d", **kwargs)
    with pytest.raises(error, match=pattern) as info:
        COCODataset(json_path, root)
    assert json_path in str(info.value)


def test_missing_and_mismatched_image_files(tmp_path):
    json_path, root, _ = _write_dataset(tmp_path / "d")
    os.remove(os.path.join(root, "img_002.png"))
    ds = COCODataset(json_path, root)
    index = ds.image_ids.index(7)
    with pytest.raises(FileNotFoundError, match=r"img_002\.png.*image id 7"):
        ds[index]
    Image.new("RGB", (W + 1, H)).save(os.path.join(root, "img_002.png"))
    with pytest.raises(ValueError, match=r"41x30 .* says 40x30"):
        ds[index]
    with pytest.raises(FileNotFoundError, match="nope.json"):
        COCODataset(str(tmp_path / "nope.json"), root)


def _item(h=H, w=W, boxes=((1, 2, 11, 7), (20, 10, 25, 25))):
    image = np.random.RandomState(1).randint(0, 256, (h, w, 3)).astype(np.uint8)
    return {"image": image, "boxes": np.array(boxes, np.float32).reshape(-1, 4),
            "labels": np.zeros(len(boxes), np.int32), "image_id": 1, "orig_size": (h, w),
            "scale": (1.0, 1.0), "flipped": False}


def test_resize_shortest_edge_scales_image_and_boxes():
    item = _item()
    out = ResizeShortestEdge(60, 100)(item)  # short edge 30 -> 60: scale 2, long 80 <= 100
    assert out["image"].shape == (60, 80, 3) and out["scale"] == (2.0, 2.0)
    np.testing.assert_allclose(out["boxes"], item["boxes"] * 2)
    expected = np.asarray(Image.fromarray(item["image"]).resize((80, 60), Image.BILINEAR))
    np.testing.assert_array_equal(out["image"], expected)
    # the long edge cap wins: 40 * 1.75 = 70, 30 * 1.75 = 52.5 -> 53 rows
    out = ResizeShortestEdge(60, 70)(item)
    assert out["image"].shape == (53, 70, 3)
    sy, sx = 53 / 30, 70 / 40
    assert out["scale"] == pytest.approx((sy, sx))
    np.testing.assert_allclose(out["boxes"], item["boxes"] * [sx, sy, sx, sy], rtol=1e-6)
    # multi-scale: the choice comes from the rng
    sizes = {ResizeShortestEdge((15, 45), 1000)(item, np.random.RandomState(s))["image"].shape[0]
             for s in range(20)}
    assert sizes == {15, 45}
    for bad in (dict(min_size=0, max_size=10), dict(min_size=10, max_size=-1),
                dict(min_size=(), max_size=10)):
        with pytest.raises(ValueError, match="ResizeShortestEdge"):
            ResizeShortestEdge(**bad)


def test_random_flip_flips_boxes():
    item = _item()
    out = RandomFlip(prob=1.0)(item)
    np.testing.assert_array_equal(out["image"], item["image"][:, ::-1])
    # x1' = W - x2, x2' = W - x1
    np.testing.assert_array_equal(out["boxes"], [[29, 2, 39, 7], [15, 10, 20, 25]])
    assert out["flipped"] is True and item["flipped"] is False  # the input is not modified
    assert RandomFlip(prob=1.0)(out)["flipped"] is False
    same = RandomFlip(prob=0.0)(item)
    assert same["flipped"] is False and np.array_equal(same["image"], item["image"])
    flips = [RandomFlip(0.5)(item, np.random.RandomState(s))["flipped"] for s in range(40)]
    assert 5 < sum(flips) < 35
    with pytest.raises(ValueError, match="prob"):
        RandomFlip(1.5)


def test_collate_pads_with_zeros_to_a_multiple():
    a, b = _item(30, 40), _item(50, 20, boxes=())
    b["image_id"], b["scale"], b["flipped"] = 9, (0.5, 0.25), True
    batch = DetCollator(32).apply([a, b])
    images = batch["images"]
    assert images.shape == (2, 3, 64, 64) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[0, :, :30, :40], a["image"].transpose(2, 0, 1))
    np.testing.assert_array_equal(images[1, :, :50, :20], b["image"].transpose(2, 0, 1))
    assert not images[0, :, 30:].any() and not images[0, :, :, 40:].any()
    assert not images[1, :, 50:].any() and not images[1, :, :, 20:].any()
    np.testing.assert_array_equal(batch["image_sizes"], [[30, 40], [50, 20]])
    assert batch["image_sizes"].dtype == np.int32 and batch["orig_sizes"].dtype == np.int32
    np.testing.assert_array_equal(batch["scales"], [[1, 1], [0.5, 0.25]])
    assert batch["boxes"][1].shape == (0, 4) and batch["labels"][1].dtype == np.int32
    assert batch["image_ids"] == [1, 9] and batch["flipped"] == [False, True]
    assert pad_images([a["image"]], 0)[0].shape == (1, 3, 30, 40)
    with pytest.raises(ValueError, match=r"image 0 must be an \(H, W, 3\) uint8"):
        pad_images([a["image"].astype(np.float32)])


@pytest.fixture(scope="module")
def shapes_cfg(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes") / "s"
    paths = ensure_shapes_dataset(str(root), num_train=10, num_val=5, image_size=64)
    return types.SimpleNamespace(
        data=dict(paths, num_workers=0, size_divisibility=32, min_size=(48, 64), max_size=64,
                  flip_prob=0.5),
        train=dict(batch_size=3), test=dict(batch_size=2), seed=0)


def _same(a, b):
    return all(np.array_equal(np.asarray(a[k]), np.asarray(b[k]))
               for k in ("images", "image_sizes", "scales", "image_ids", "flipped")) and \
        all(np.array_equal(x, y) for x, y in zip(a["boxes"], b["boxes"]))


def test_train_loader_is_seeded_and_resumes_exactly(shapes_cfg):
    loader = build_train_loader(shapes_cfg)
    it = iter(loader)
    batches = [next(it) for _ in range(8)]  # 24 samples: crosses two epochs of 10
    assert batches[0]["images"].shape[:2] == (3, 3)
    assert all(b["images"].shape[2] % 32 == 0 for b in batches)
    assert sum(f for b in batches for f in b["flipped"]) not in (0, 24)
    first_epoch = [i for b in batches for i in b["image_ids"]][:10]
    assert sorted(first_epoch) == list(range(1, 11))  # each image once per epoch
    state = None
    again = iter(build_train_loader(shapes_cfg))
    for k in range(8):
        assert _same(batches[k], next(again))
    # state_dict after 5 consumed batches -> a fresh loader continues at batch 5
    fresh = build_train_loader(shapes_cfg)
    it = iter(fresh)
    for _ in range(5):
        next(it)
    state = fresh.state_dict()
    assert state["position"] == 15
    resumed = build_train_loader(shapes_cfg)
    resumed.load_state_dict(state)
    it = iter(resumed)
    for k in range(5, 8):
        assert _same(batches[k], next(it))
    # advancing the sampler (det's Trainer resume path) gives the same stream
    skipped = build_train_loader(shapes_cfg)
    for _ in range(6):
        next(skipped.sampler)
    assert _same(batches[6], next(iter(skipped)))
    # a different seed gives a different stream
    other = types.SimpleNamespace(**{**vars(shapes_cfg), "seed": 1})
    assert not _same(batches[0], next(iter(build_train_loader(other))))


def test_train_loader_workers_match_the_main_process(shapes_cfg):
    cfg = types.SimpleNamespace(**{**vars(shapes_cfg),
                                   "data": {**shapes_cfg.data, "num_workers": 2}})
    serial = iter(build_train_loader(shapes_cfg))
    parallel = iter(build_train_loader(cfg))
    for _ in range(4):
        assert _same(next(serial), next(parallel))


def test_test_loader_keeps_order_and_all_images(shapes_cfg):
    loader = build_test_loader(shapes_cfg)
    batches = list(loader)
    assert [i for b in batches for i in b["image_ids"]] == [1, 2, 3, 4, 5]
    assert [len(b["image_ids"]) for b in batches] == [2, 2, 1]
    assert all(b["flipped"] == [False] * len(b["flipped"]) for b in batches)
    assert all(b["images"].shape[2:] == (64, 64) for b in batches)  # test size: max of tuple
    with pytest.raises(KeyError, match="lacks"):
        build_test_loader(types.SimpleNamespace(data={}, test={}, seed=0))


def test_preprocessor_normalises_like_numpy_and_zeroes_padding():
    a, b = _item(30, 40), _item(50, 20, boxes=())
    batch = DetCollator(32).apply([a, b])
    mean, std = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = DataPreprocessor(mean, std)(batch, training=True)
    images = out["images"]
    assert isinstance(images, mge.Tensor) and images.dtype == np.float32
    assert images.shape == (2, 3, 64, 64)
    x = images.numpy()
    ref = (batch["images"].astype(np.float32) - np.reshape(mean, (1, 3, 1, 1))) / \
        np.reshape(std, (1, 3, 1, 1))
    np.testing.assert_allclose(x[0, :, :30, :40], ref[0, :, :30, :40], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x[1, :, :50, :20], ref[1, :, :50, :20], rtol=1e-5, atol=1e-5)
    assert not x[0, :, 30:].any() and not x[1, :, :, 20:].any()
    assert isinstance(out["boxes"][0], mge.Tensor) and out["boxes"][1].shape == (0, 4)
    np.testing.assert_array_equal(out["boxes"][0].numpy(), a["boxes"])
    assert out["labels"][0].dtype == np.int32
    assert out["image_ids"] is batch["image_ids"]
    assert isinstance(batch["images"], np.ndarray)  # the input batch is left as it was
    with pytest.raises(ValueError, match="std must be positive"):
        DataPreprocessor(std=(1, 0, 1))
    with pytest.raises(ValueError, match="3 values"):
        DataPreprocessor(mean=(1, 2))
