"""The vision datasets read tiny fixture copies of their standard on-disk layouts, written here
in tmp_path: CIFAR pickles, MNIST idx.gz, ImageFolder / ImageNet trees, COCO and Objects365
json, VOC xml, Cityscapes pngs. Images come back HWC uint8 BGR, as cv2.imread gives them."""
import gzip
import json
import os
import pickle
import struct
import tarfile

import numpy as np
import pytest
from PIL import Image

from engine.data import DataLoader, SequentialSampler
from engine.data.dataset import (
    CIFAR10,
    CIFAR100,
    COCO,
    MNIST,
    ArrayDataset,
    Cityscapes,
    ConcatDataset,
    ImageFolder,
    ImageNet,
    Objects365,
    PascalVOC,
    StreamDataset,
    VisionDataset,
)


def _write_png(path, bgr):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rgb = bgr[..., ::-1] if bgr.ndim == 3 else bgr
    Image.fromarray(np.ascontiguousarray(rgb)).save(path)


def _write_jpg(path, bgr):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.ascontiguousarray(bgr[..., ::-1])).save(path, quality=100)


def _image(seed, h=6, w=8):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)


# ---------------------------------------------------------------------------- generic
def test_concat_dataset():
    a = ArrayDataset(np.arange(3), np.arange(3) * 10)
    b = ArrayDataset(np.arange(100, 102), np.arange(2))
    both = ConcatDataset([a, b])
    assert len(both) == 5 and both.cumulative_sizes == [3, 5]
    assert both[0] == (0, 0) and both[3] == (100, 0) and both[-1] == (101, 1)
    with pytest.raises(ValueError, match="should not exceed"):
        both[-6]
    with pytest.raises(IndexError, match="ConcatDataset: index 5"):
        both[5]
    batches = list(DataLoader(both, SequentialSampler(both, batch_size=5)))
    np.testing.assert_array_equal(batches[0][0], [0, 1, 2, 100, 101])


def test_concat_dataset_refuses_streams_and_empty():
    class Stream(StreamDataset):
        def __init__(self):
            pass

        def __iter__(self):
            yield 1

    with pytest.raises(TypeError, match="StreamDataset is not supported"):
        ConcatDataset([Stream()])
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_vision_dataset_order_checks(tmp_path):
    assert VisionDataset(str(tmp_path)).order == ("image",)
    assert VisionDataset("~/x").root == os.path.expanduser("~/x")
    with pytest.raises(ValueError, match="order should be a sequence"):
        VisionDataset(str(tmp_path), order=3)
    with pytest.raises(NotImplementedError, match="'mask' is an unsupported"):
        VisionDataset(str(tmp_path), order=("image", "mask"), supported_order=("image",))


# ----------------------------------------------------------------------- CIFAR / MNIST
def _cifar_batch(rng, n, labels):
    data = rng.integers(0, 256, (n, 3072)).astype(np.uint8)  # rows: R plane, G, B
    return {b"data": data, **{k: rng.integers(0, 10, n).tolist() for k in labels}}


def _write_pickle(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def test_cifar10_reads_the_python_batches(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batches = {}
    for name in CIFAR10.train_batch + CIFAR10.test_batch:
        batches[name] = _cifar_batch(rng, 3, [b"labels"])
        _write_pickle(folder / name, batches[name])
    _write_pickle(folder / "batches.meta", {b"label_names": [b"airplane"]})
    train = CIFAR10(str(tmp_path), train=True, download=False)
    test = CIFAR10(str(tmp_path), train=False, download=False)
    assert len(train) == 15 and len(test) == 3 and train.order == ("image", "image_category")
    image, label = train[4]  # data_batch_2, row 1
    raw = batches["data_batch_2"]
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    assert isinstance(label, np.int32) and label == raw[b"labels"][1]
    rgb = raw[b"data"][1].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(image, rgb[..., ::-1])  # BGR
    assert train.meta[b"label_names"] == [b"airplane"]
    images, labels = next(iter(DataLoader(test, SequentialSampler(test, batch_size=3))))
    assert images.shape == (3, 32, 32, 3) and labels.dtype == np.int32


def test_cifar100_has_fine_and_coarse_labels(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    raw = _cifar_batch(rng, 4, [b"fine_labels", b"coarse_labels"])
    _write_pickle(folder / "train", raw)
    _write_pickle(folder / "test", _cifar_batch(rng, 2, [b"fine_labels", b"coarse_labels"]))
    ds = CIFAR100(str(tmp_path), download=False)
    image, fine, coarse = ds[2]
    assert len(ds) == 4 and image.shape == (32, 32, 3)
    assert fine == raw[b"fine_labels"][2] and coarse == raw[b"coarse_labels"][2]
    assert len(CIFAR100(str(tmp_path), train=False, download=False)) == 2


def test_cifar_missing_files_and_offline_download(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="does not exist"):
        CIFAR10(str(tmp_path / "nowhere"), download=False)
    with pytest.raises(ValueError, match="cifar-10-batches-py.*download=True"):
        CIFAR10(str(tmp_path), download=False)
    import urllib.request

    def offline(url, timeout=None):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match=r"CIFAR10: .*http://www.cs.utoronto.ca/~kriz/"
                                           r"cifar-10-python.tar.gz.*cifar-10-python.tar.gz"):
        CIFAR10(str(tmp_path), download=True)
    assert not os.path.exists(tmp_path / "cifar-10-python.tar.gz.part")


def test_cifar_archive_with_a_wrong_md5_is_refused(tmp_path):
    folder = tmp_path / "src" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    _write_pickle(folder / "test_batch", _cifar_batch(np.random.default_rng(0), 1, [b"labels"]))
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    with pytest.raises(RuntimeError, match="md5"):
        CIFAR10(str(tmp_path), download=False)


def _write_idx(path, magic, array):
    header = struct.pack(">" + "i" * (1 + array.ndim), magic, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_reads_gzipped_idx_files(tmp_path):
    rng = np.random.default_rng(2)
    train_x, test_x = rng.integers(0, 256, (5, 28, 28)), rng.integers(0, 256, (2, 28, 28))
    train_y, test_y = rng.integers(0, 10, 5), rng.integers(0, 10, 2)
    names = MNIST.raw_file_name
    _write_idx(tmp_path / names[0], 2051, train_x)
    _write_idx(tmp_path / names[1], 2049, train_y)
    _write_idx(tmp_path / names[2], 2051, test_x)
    _write_idx(tmp_path / names[3], 2049, test_y)
    ds = MNIST(str(tmp_path), train=True, download=False)
    image, label = ds[3]
    assert len(ds) == 5 and image.shape == (28, 28, 1) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[..., 0], train_x[3])
    assert label == train_y[3] and ds.arrays[1].dtype == np.int32
    assert ds.meta["images"] == {"magic": 2051, "imgs": 5, "height": 28, "width": 28}
    test = MNIST(str(tmp_path), train=False, download=False)
    np.testing.assert_array_equal(test[1][0][..., 0], test_x[1])


def test_mnist_errors(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="missing.*train-images-idx3-ubyte.gz"):
        MNIST(str(tmp_path), download=False)
    names = MNIST.raw_file_name
    for name in names:
        _write_idx(tmp_path / name, 1234, np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="magic number 1234, expected 2051"):
        MNIST(str(tmp_path), download=False)
    import urllib.request

    def offline(url, timeout=None):
        raise OSError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match=r"MNIST: .*https://ossci-datasets.s3.amazonaws.com/"
                                           r"mnist/train-images-idx3-ubyte.gz"):
        MNIST(str(tmp_path / "empty"), download=True)


# ---------------------------------------------------------------- ImageFolder / ImageNet
def _folder_tree(root):
    images = {}
    for c, cls in enumerate(["dog", "cat"]):
        for i in range(2):
            path = os.path.join(root, cls, f"{i}.png")
            images[path] = _image(10 * c + i)
            _write_png(path, images[path])
    with open(os.path.join(root, "cat", "notes.txt"), "w") as f:
        f.write("not an image")
    return images


def test_image_folder(tmp_path):
    images = _folder_tree(str(tmp_path))
    ds = ImageFolder(str(tmp_path))
    assert ds.class_dict == {"cat": 0, "dog": 1} and len(ds) == 4
    assert ds.order == ("image", "image_category")
    image, label = ds[0]
    path = ds.samples[0][0]
    assert path.endswith(os.path.join("cat", "0.png")) and label == 0
    assert isinstance(label, np.int32)
    np.testing.assert_array_equal(image, images[path])  # HWC uint8 BGR
    assert ImageFolder(str(tmp_path), class_name=True)[3][1] == "dog"
    only_zero = ImageFolder(str(tmp_path), check_valid_func=lambda p: p.endswith("0.png"))
    assert len(only_zero) == 2
    with pytest.raises(FileNotFoundError, match="ImageFolder: root"):
        ImageFolder(str(tmp_path / "missing"))


def test_imagenet_from_its_folders(tmp_path):
    _folder_tree(str(tmp_path / "train"))
    _folder_tree(str(tmp_path / "val"))
    train = ImageNet(str(tmp_path), train=True)
    val = ImageNet(str(tmp_path), train=False)
    assert len(train) == 4 and len(val) == 4 and train.target_folder.endswith("train")
    image, label = val[2]
    assert image.shape == (6, 8, 3) and label == 1
    with pytest.raises(FileNotFoundError, match="raw files"):
        ImageNet(str(tmp_path / "val"), train=True)


def test_imagenet_builds_the_val_folders_from_the_devkit(tmp_path):
    devkit = tmp_path / "ILSVRC2012_devkit_t12"
    (devkit / "data").mkdir(parents=True)
    (devkit / "data" / "ILSVRC2012_validation_ground_truth.txt").write_text("2\n1\n2\n")
    with open(devkit / "meta.pkl", "wb") as f:
        pickle.dump(({1: "n01", 2: "n02"}, {"n01": ("fish",), "n02": ("shark",)}), f)
    ds = ImageNet.__new__(ImageNet)
    ds.root, ds.devkit_dir, ds.train = str(tmp_path), str(devkit), False
    ds.target_folder = str(tmp_path / "val")
    for i in range(3):
        _write_png(os.path.join(ds.target_folder, f"ILSVRC2012_val_{i:08d}.JPEG.png"), _image(i))
    ds._organize_val_data()
    assert sorted(os.listdir(tmp_path / "val" / "n02")) == [
        "ILSVRC2012_val_00000000.JPEG.png", "ILSVRC2012_val_00000002.JPEG.png"]
    assert ImageNet(str(tmp_path), train=False).class_dict == {"n01": 0, "n02": 1}


# ------------------------------------------------------------------ COCO / Objects365
def _coco_fixture(root):
    images = [{"id": 7, "file_name": "a.png", "height": 6, "width": 8, "license": 1},
              {"id": 3, "file_name": "b.png", "height": 6, "width": 8},
              {"id": 9, "file_name": "c.png", "height": 6, "width": 8}]
    for i, img in enumerate(images):
        _write_png(os.path.join(root, img["file_name"]), _image(i))
    kps = [float(v) for _ in range(17) for v in (1, 2, 2)]
    annotations = [
        {"id": 1, "image_id": 7, "bbox": [1, 2, 3, 4], "category_id": 18, "iscrowd": 0,
         "keypoints": kps, "segmentation": [[0, 0, 1, 1]]},
        {"id": 2, "image_id": 7, "bbox": [0, 0, 2, 2], "category_id": 1, "iscrowd": 0,
         "keypoints": kps},
        {"id": 3, "image_id": 3, "bbox": [1, 1, 0, 5], "category_id": 1, "iscrowd": 0,
         "keypoints": kps},  # zero width: dropped by remove_images_without_annotations
        {"id": 4, "image_id": 9, "bbox": [1, 1, 2, 2], "category_id": 1, "iscrowd": 1,
         "keypoints": kps},  # crowd: dropped too
    ]
    categories = [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}]
    ann_file = os.path.join(root, "instances.json")
    with open(ann_file, "w") as f:
        json.dump({"images": images, "annotations": annotations, "categories": categories}, f)
    return ann_file


def test_coco(tmp_path):
    ann = _coco_fixture(str(tmp_path))
    order = ("image", "boxes", "boxes_category", "keypoints", "info")
    ds = COCO(str(tmp_path), ann, order=order)
    assert len(ds) == 3 and ds.ids == [3, 7, 9]
    image, boxes, cats, keypoints, info = ds[1]  # image id 7
    np.testing.assert_array_equal(image, _image(0))
    np.testing.assert_array_equal(boxes, [[1, 2, 4, 6], [0, 0, 2, 2]])  # xywh -> xyxy
    assert boxes.dtype == np.float32 and cats.dtype == np.int32
    np.testing.assert_array_equal(cats, [2, 1])  # contiguous ids of json ids 18 and 1
    assert keypoints.shape == (2, 17, 3) and keypoints.dtype == np.float32
    assert info == [6, 8, "a.png"]
    assert ds.get_img_info(1)["file_name"] == "a.png" and "license" not in ds.get_img_info(1)
    assert ds.contiguous_category_id_to_json_id == {1: 1, 2: 18}
    kept = COCO(str(tmp_path), ann, remove_images_without_annotations=True,
                order=("image", "boxes"))
    assert kept.ids == [7]
    assert COCO.class_names[0] == "person" and COCO.classes_originID["toothbrush"] == 90
    with pytest.raises(NotImplementedError, match="'mask' is an unsupported"):
        COCO(str(tmp_path), ann, order=("image", "mask"))
    with pytest.raises(FileNotFoundError, match="annotation file"):
        COCO(str(tmp_path), str(tmp_path / "none.json"))


def test_coco_keypoints_need_ten_visible(tmp_path):
    ann = _coco_fixture(str(tmp_path))
    with open(ann) as f:
        data = json.load(f)
    data["annotations"][0]["keypoints"] = [0.0] * 51
    data["annotations"][1]["keypoints"] = [1.0, 1.0, 2.0] * 9 + [0.0] * 24  # 9 visible
    with open(ann, "w") as f:
        json.dump(data, f)
    ds = COCO(str(tmp_path), ann, remove_images_without_annotations=True,
              order=("image", "keypoints"))
    assert ds.ids == [3]  # image 7 has 9 visible keypoints; image 3 has 17 (its box is unused)


def test_objects365(tmp_path):
    ann = _coco_fixture(str(tmp_path))
    ds = Objects365(str(tmp_path), ann, order=("image", "boxes", "boxes_category", "info"))
    _, boxes, cats, info = ds[1]
    np.testing.assert_array_equal(cats, [2, 1])
    assert boxes.shape == (2, 4) and info[2] == "a.png"
    assert len(Objects365.class_names) == 365
    with pytest.raises(NotImplementedError, match="keypoints"):
        Objects365(str(tmp_path), ann, order=("image", "keypoints"))


# ------------------------------------------------------------------------ PascalVOC
_VOC_XML = """<annotation><filename>{name}.jpg</filename>
<size><width>8</width><height>6</height><depth>3</depth></size>
{objects}</annotation>"""
_VOC_OBJECT = """<object><name>{cls}</name><difficult>0</difficult>
<bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox>
</object>"""


def _voc_fixture(root):
    objects = {"000001": [("dog", (1, 2, 5, 6))],
               "000002": [("person", (0, 0, 3, 3)), ("aeroplane", (2, 1, 7, 5))]}
    for name, objs in objects.items():
        red = np.zeros((6, 8, 3), np.uint8)
        red[..., 2] = 255
        _write_jpg(os.path.join(root, "JPEGImages", name + ".jpg"), red)
        xml = _VOC_XML.format(name=name, objects="".join(
            _VOC_OBJECT.format(cls=c, b=b) for c, b in objs))
        os.makedirs(os.path.join(root, "Annotations"), exist_ok=True)
        with open(os.path.join(root, "Annotations", name + ".xml"), "w") as f:
            f.write(xml)
    for kind in ("Main", "Segmentation"):
        os.makedirs(os.path.join(root, "ImageSets", kind), exist_ok=True)
        with open(os.path.join(root, "ImageSets", kind, "train.txt"), "w") as f:
            f.write("000001\n000002\n")
    # a colour-coded mask: class 12 (dog, BGR (0, 128, 192)) in the top half, an unknown colour
    # in the bottom half
    mask = np.zeros((6, 8, 3), np.uint8)
    mask[:3] = PascalVOC.class_colors[12]
    mask[3:] = (1, 2, 3)
    _write_png(os.path.join(root, "SegmentationClass", "000001.png"), mask)
    _write_png(os.path.join(root, "SegmentationClass", "000002.png"), np.zeros((6, 8, 3),
                                                                                np.uint8))


def test_pascal_voc_detection(tmp_path):
    _voc_fixture(str(tmp_path))
    ds = PascalVOC(str(tmp_path), "train", order=("image", "boxes", "boxes_category", "info"))
    assert len(ds) == 2
    image, boxes, cats, info = ds[1]
    assert image.shape == (6, 8, 3) and image.dtype == np.uint8
    assert np.abs(image.astype(int) - [0, 0, 255]).max() <= 2  # red in BGR
    np.testing.assert_array_equal(boxes, [[0, 0, 3, 3], [2, 1, 7, 5]])
    assert boxes.dtype == np.float32
    np.testing.assert_array_equal(cats, [15, 1])  # person, aeroplane (1-based)
    assert info == [6, 8, "000002"]
    _, one = PascalVOC(str(tmp_path), "train", order=("image", "boxes"))[0]
    np.testing.assert_array_equal(one, [[1, 2, 5, 6]])


def test_pascal_voc_segmentation(tmp_path):
    _voc_fixture(str(tmp_path))
    ds = PascalVOC(str(tmp_path), "train", order=("image", "mask"))
    _, mask = ds[0]
    assert mask.shape == (6, 8, 1) and mask.dtype == np.uint8
    assert (mask[:3] == 12).all() and (mask[3:] == 255).all()
    with pytest.raises(ValueError, match="not both"):
        PascalVOC(str(tmp_path), "train", order=("image", "boxes", "mask"))
    with pytest.raises(NotImplementedError, match="'boxes'"):
        PascalVOC(str(tmp_path), "train", order=("image",))
    with pytest.raises(FileNotFoundError, match="split file"):
        PascalVOC(str(tmp_path), "val", order=("image", "boxes"))


# ------------------------------------------------------------------------ Cityscapes
def test_cityscapes(tmp_path):
    root = str(tmp_path)
    label_ids = np.array([[7, 8, 26, 0], [33, 1, 7, 255]], np.uint8)
    for city, stem in (("bonn", "bonn_000000_000019"), ("aachen", "aachen_000001_000019")):
        _write_png(os.path.join(root, "leftImg8bit", "train", city, f"{stem}_leftImg8bit.png"),
                   _image(len(city), 2, 4))
        path = os.path.join(root, "gtFine", "train", city, f"{stem}_gtFine_labelIds.png")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.fromarray(label_ids).save(path)
    ds = Cityscapes(root, "train", "gtFine", order=("image", "mask", "info"))
    assert len(ds) == 2
    image, mask, info = ds[0]  # sorted: aachen first
    np.testing.assert_array_equal(image, _image(len("aachen"), 2, 4))
    assert mask.shape == (2, 4, 1) and mask.dtype == np.uint8
    np.testing.assert_array_equal(mask[..., 0], [[0, 1, 13, 255], [18, 255, 0, 255]])
    assert info[:2] == [2, 4] and info[2].endswith("aachen_000001_000019_leftImg8bit.png")
    assert len(Cityscapes.class_names) == 19
    with pytest.raises(NotImplementedError, match="boxes"):
        Cityscapes(root, "train", "gtFine", order=("image", "boxes"))
    with pytest.raises(FileNotFoundError, match="leftImg8bit"):
        Cityscapes(root, "val", "gtFine")


# ------------------------------------------------------------ DataLoader(parallel_stream)
class _Sharded(StreamDataset):
    """Each worker yields the samples i with i % num_workers == its id."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        from engine.data import get_worker_info

        info = get_worker_info()
        # MegEngine's names: idx, worker (engine's: id, num_workers)
        wid, workers = (0, 1) if info is None else (info.idx, info.worker)
        assert info is None or (info.idx, info.worker) == (info.id, info.num_workers)
        return ((np.int32(i), -1 if info is None else info.id)
                for i in range(wid, self.n, workers))


def test_parallel_stream_workers_read_their_own_streams():
    from engine.data import StreamSampler

    loader = DataLoader(_Sharded(11), StreamSampler(batch_size=2), num_workers=2,
                        parallel_stream=True)
    assert loader.parallel_stream is True
    out = list(loader)
    assert [b[0].tolist() for b in out] == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9]]
    assert [int(b[1][0]) for b in out] == [0, 1, 0, 1, 0, 1]  # whole batches per worker
    # without parallel_stream the main process reads the one stream and hands samples out
    serial = list(DataLoader(_Sharded(5), StreamSampler(batch_size=2), num_workers=2))
    assert [b[0].tolist() for b in serial] == [[0, 1], [2, 3], [4]]
    # ignored without workers (as in MegEngine)
    alone = list(DataLoader(_Sharded(3), StreamSampler(batch_size=2), parallel_stream=True))
    assert [b[0].tolist() for b in alone] == [[0, 1], [2]]


def test_parallel_stream_with_uneven_streams_and_divide():
    from engine.data import StreamSampler

    three = list(DataLoader(_Sharded(4), StreamSampler(batch_size=3), num_workers=3,
                            parallel_stream=True))
    assert sorted(v for b in three for v in b[0].tolist()) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="parallel_stream=True .* divide=True"):
        DataLoader(_Sharded(4), StreamSampler(batch_size=2), num_workers=2,
                   parallel_stream=True, divide=True)


class _Slow(StreamDataset):
    def __init__(self):
        pass

    def __iter__(self):
        import time

        yield np.int32(0)
        time.sleep(0.3)
        yield np.int32(1)


def test_stream_timeout_in_the_main_process():
    from engine.data import StreamSampler

    with pytest.raises(RuntimeError, match="DataLoader: timeout, reading one sample .* "
                                           "timeout=0.1"):
        list(DataLoader(_Slow(), StreamSampler(batch_size=2), timeout=0.1))
    assert len(list(DataLoader(_Slow(), StreamSampler(batch_size=2), timeout=5))) == 1


class _Failing(StreamDataset):
    def __init__(self):
        pass

    def __iter__(self):
        yield np.int32(0)
        raise ValueError("bad sample")


def test_worker_errors_are_their_type_and_runtime_errors():
    from engine.data import StreamSampler

    loader = DataLoader(_Failing(), StreamSampler(batch_size=2), num_workers=2,
                        parallel_stream=True)
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process") \
            as info:
        list(loader)
    assert isinstance(info.value, RuntimeError)  # MegEngine raises RuntimeError
    assert "bad sample" in str(info.value)
