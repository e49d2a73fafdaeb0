"""det.models: FCOS target assignment, forward shapes, torchvision key conversion, a tiny FCOS
overfit with predictions mapped back to original coordinates, RetinaNet losses and inference."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import engine as mge
import engine.optimizer as optim
from det.models import FCOS, FPN, FCOSHead, ResNet, RetinaNet, RetinaNetHead
from det.models.anchors import grid_points
from det.models.box_ops import box_iou
from det.models.defaults import fcos_r18_shapes, retinanet_r18_shapes
from det.models.fcos_targets import FCOSTargets
from engine import Tensor
from engine.autodiff import GradManager

ROOT = Path(__file__).resolve().parents[2]
INF = 1e8


# ------------------------------------------------------------------ FCOS target assignment
def _one_level(points, stride=8, size_range=(0, INF), radius=0.0):
    return FCOSTargets((stride,), (size_range,), radius), np.asarray(points, np.float32)


def test_fcos_targets_inside_overlap_outside():
    boxes = np.array([[0, 0, 40, 40], [10, 10, 30, 30]], np.float32)  # big, small inside it
    labels = np.array([1, 2])
    targets, pts = _one_level([[5, 5], [20, 20], [50, 50], [12, 35]])
    matched, lab, ltrb = targets(pts, [4], boxes, labels)
    # (5, 5) only in the big box; (20, 20) in both -> the smaller; (50, 50) outside all;
    # (12, 35) only in the big box
    np.testing.assert_array_equal(matched, [0, 1, -1, 0])
    np.testing.assert_array_equal(lab, [1, 2, -1, 1])
    np.testing.assert_allclose(ltrb, [[5, 5, 35, 35], [10, 10, 10, 10], [0, 0, 0, 0],
                                      [12, 35, 28, 5]])


def test_fcos_targets_size_ranges_pick_the_level():
    box = np.array([[0, 0, 100, 100]], np.float32)
    targets = FCOSTargets((8, 16), ((0, 40), (40, INF)), center_sampling_radius=0)
    pts = np.array([[50, 50], [50, 50], [10, 50]], np.float32)  # level 0: 2 points, level 1: 1
    matched, lab, _ = targets(pts, [2, 1], box, np.array([0]))
    # max distance 50 is out of level 0's range (0, 40) but inside level 1's; (10, 50) on
    # level 1 has max distance 90: still in range
    np.testing.assert_array_equal(matched, [-1, -1, 0])


def test_fcos_targets_center_sampling_radius():
    box = np.array([[0, 0, 100, 100]], np.float32)
    targets, pts = _one_level([[50, 50], [60, 50], [63, 50], [85, 85]], stride=8, radius=1.5)
    matched, _, _ = targets(pts, [4], box, np.array([0]))
    # centre region: |dx|, |dy| < 1.5 * 8 = 12 around (50, 50)
    np.testing.assert_array_equal(matched, [0, 0, -1, -1])
    # a small box: the region is clipped to the box, so a point outside it stays background
    small = np.array([[45, 45, 50, 50]], np.float32)
    matched, _, _ = targets(np.array([[48, 48], [52, 48]], np.float32), [2], small,
                            np.array([0]))
    np.testing.assert_array_equal(matched, [0, -1])


def test_fcos_targets_no_boxes_and_bad_input():
    targets, pts = _one_level([[1, 1], [2, 2]])
    matched, lab, ltrb = targets(pts, [2], np.zeros((0, 4), np.float32), np.zeros(0))
    assert (matched == -1).all() and (lab == -1).all() and not ltrb.any()
    with pytest.raises(ValueError, match="2 boxes but 1 labels"):
        targets(pts, [2], np.zeros((2, 4)), np.zeros(1))
    with pytest.raises(ValueError, match="sum to the 2 points"):
        targets(pts, [3], np.zeros((1, 4)), np.zeros(1))


# ------------------------------------------------------------------ forward shapes
def test_backbone_fpn_head_shapes():
    x = Tensor(np.random.default_rng(0).normal(size=(2, 3, 64, 96)).astype(np.float32))
    net = ResNet(depth=18, width=8)
    assert net.norm == "BN"  # from scratch: trained BN (FrozenBN is for pretrained weights)
    c3, c4, c5 = net(x)
    assert net.out_channels == (16, 32, 64)
    assert [c3.shape, c4.shape, c5.shape] == [(2, 16, 8, 12), (2, 32, 4, 6), (2, 64, 2, 3)]
    assert ResNet(depth=50, width=8).out_channels == (64, 128, 256)
    fpn = FPN(net.out_channels, 16)
    feats = fpn([c3, c4, c5])
    assert [f.shape for f in feats] == [(2, 16, 8, 12), (2, 16, 4, 6), (2, 16, 2, 3),
                                        (2, 16, 1, 2), (2, 16, 1, 1)]
    assert fpn.strides == (8, 16, 32, 64, 128)
    assert FPN(net.out_channels, 16, extra_from="c5")([c3, c4, c5])[3].shape == (2, 16, 1, 2)
    cls, reg, ctr = FCOSHead(3, 16, num_levels=5, num_convs=1)(feats)
    p = 8 * 12 + 4 * 6 + 2 * 3 + 2 + 1
    assert (cls.shape, reg.shape, ctr.shape) == ((2, p, 3), (2, p, 4), (2, p))
    assert (reg.numpy() >= 0).all()
    cls, reg = RetinaNetHead(3, 16, num_anchors=9, num_convs=1)(feats)
    assert (cls.shape, reg.shape) == ((2, 9 * p, 3), (2, 9 * p, 4))
    with pytest.raises(ValueError, match="depth must be one of"):
        ResNet(depth=20)
    with pytest.raises(ValueError, match=r"expected \(N, 3, H, W\)"):
        net(Tensor(np.zeros((1, 1, 8, 8), np.float32)))


def test_frozen_bn_and_freeze_at_give_no_gradient():
    net = ResNet(depth=18, width=8, norm="FrozenBN", freeze_at=2)
    gm = GradManager().attach(net.parameters())
    with gm:
        outs = net(Tensor(np.ones((1, 3, 32, 32), np.float32)))
        gm.backward(sum(o.sum() for o in outs))
    assert net.conv1.weight.grad is None and net.layer1[0].conv1.weight.grad is None
    assert net.layer2[0].conv1.weight.grad is not None
    assert net.layer2[0].bn1.weight.grad is None  # frozen BN: a fixed affine map


# ------------------------------------------------------------------ torchvision conversion
def _resnet18_torchvision_keys():
    """torchvision resnet18's state_dict keys and shapes: from torchvision when importable,
    else written out from its architecture (BasicBlock: conv1/bn1/conv2/bn2, downsample.0/1 in
    the first block of layer2-4)."""
    try:
        import torchvision
    except ImportError:
        torchvision = None
    if torchvision is not None:
        sd = torchvision.models.resnet18(weights=None).state_dict()
        return {k: tuple(v.shape) for k, v in sd.items()}

    def bn(prefix, c):
        return {f"{prefix}.{n}": (c,) for n in ("weight", "bias", "running_mean",
                                                "running_var")} | {
            f"{prefix}.num_batches_tracked": ()}

    keys = {"conv1.weight": (64, 3, 7, 7), **bn("bn1", 64)}
    cin = 64
    for layer, c in zip((1, 2, 3, 4), (64, 128, 256, 512)):
        for block in (0, 1):
            p = f"layer{layer}.{block}"
            keys[f"{p}.conv1.weight"] = (c, cin if block == 0 else c, 3, 3)
            keys |= bn(f"{p}.bn1", c)
            keys[f"{p}.conv2.weight"] = (c, c, 3, 3)
            keys |= bn(f"{p}.bn2", c)
            if block == 0 and layer > 1:
                keys[f"{p}.downsample.0.weight"] = (c, cin, 1, 1)
                keys |= bn(f"{p}.downsample.1", c)
        cin = c
    keys |= {"fc.weight": (1000, 512), "fc.bias": (1000,)}
    return keys


def test_convert_torchvision_resnet18_keys():
    spec = importlib.util.spec_from_file_location(
        "convert_torchvision_resnet", ROOT / "tools" / "convert_torchvision_resnet.py")
    conv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conv)
    tv = _resnet18_torchvision_keys()
    assert len(tv) == 122
    det = {k: tuple(v.shape) for k, v in ResNet(depth=18, width=64).state_dict().items()}
    mapped = {}
    for key, shape in tv.items():
        new = conv.convert_key(key)
        if new is None:  # only the classifier and BN step counters have no counterpart
            assert key.startswith("fc.") or key.endswith(".num_batches_tracked"), key
            continue
        assert det.get(new) == shape, (key, new, shape, det.get(new))
        mapped[new] = shape
    assert set(mapped) == set(det)  # every det key is covered
    fake = {k: np.zeros(s, np.float32) for k, s in tv.items()}
    converted = conv.convert_state_dict(fake)
    conv.check_against_model(converted, 18)
    ResNet(depth=18).load_state_dict(converted)


def test_resnet_loads_converted_file(tmp_path):
    import engine

    src = ResNet(depth=18, width=8)
    path = tmp_path / "r18.pkl"
    engine.save(src.state_dict(), str(path))
    dst = ResNet(depth=18, width=8, pretrained=str(path))
    assert dst.norm == "FrozenBN"
    np.testing.assert_array_equal(dst.layer3[1].conv2.weight.numpy(),
                                  src.layer3[1].conv2.weight.numpy())
    with pytest.raises(ValueError, match=r"ResNet\(depth=34, width=8\) cannot load"):
        ResNet(depth=34, width=8, pretrained=str(path))


# ------------------------------------------------------------------ tiny models end to end
def _narrow(cfg):
    cfg["backbone"]["width"] = 8
    cfg["neck"]["out_channels"] = 16
    cfg["head"]["num_convs"] = 1
    cfg.pop("name")
    return cfg


def _synthetic_batch():
    """Two 64 x 64 images, each with bright shapes on a dark background."""
    images = np.full((2, 3, 64, 64), 20, np.uint8)
    images[0, 0, 8:40, 10:34] = 230  # red 24 x 32 rectangle
    images[1, 2, 30:58, 20:48] = 230  # blue 28 x 28 square
    images[1, 1, 4:20, 40:60] = 200  # green 20 x 16 rectangle
    return {"images": images, "image_sizes": np.array([[64, 64], [64, 64]], np.int32),
            "boxes": [np.array([[10, 8, 34, 40]], np.float32),
                      np.array([[20, 30, 48, 58], [40, 4, 60, 20]], np.float32)],
            "labels": [np.array([0], np.int32), np.array([2, 1], np.int32)],
            "image_ids": [1, 2], "orig_sizes": np.array([[64, 64], [64, 64]], np.int32),
            "scales": np.ones((2, 2), np.float32), "flipped": [False, False]}


def _train(model, batch, iters, lr):
    gm = GradManager().attach(model.parameters())
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = []
    model.train()
    for _ in range(iters):
        with gm:
            losses = model(batch, mode="loss")
            total = sum(v for k, v in losses.items() if k.startswith("loss"))
            gm.backward(total)
        opt.step().clear_grad()
        history.append({k: v.item() for k, v in losses.items()})
    return history


def test_fcos_overfits_and_predicts_in_original_coordinates():
    mge.random.seed(0)
    model = FCOS(**_narrow(fcos_r18_shapes(num_classes=3)))
    batch = _synthetic_batch()
    hist = _train(model, batch, 40, lr=0.01)
    assert set(hist[0]) == {"loss_cls", "loss_box", "loss_ctr"}
    total = [sum(h.values()) for h in hist]
    assert all(np.isfinite(total))
    # about 0.3-0.5 of the start after 20 iterations and 0.25 after 40 over seeds 0-4
    assert total[19] < 0.7 * total[0] and total[-1] < 0.45 * total[0], total
    assert hist[-1]["loss_box"] < 0.5 * hist[0]["loss_box"], (hist[0], hist[-1])

    model.eval()
    plain = model(batch, mode="predict")
    assert len(plain) == 2
    _assert_top_detection_found_a_shape(plain, batch)  # the best box has found a shape
    # the same network input, now described as "resized by (2, 4) from 32 x 16, then flipped":
    # the detections come back mirrored in the 64 px width and divided by the scale
    meta = dict(batch, scales=np.array([[2.0, 4.0], [1.0, 1.0]], np.float32),
                flipped=[True, False], orig_sizes=np.array([[32, 16], [64, 64]], np.int32))
    moved = model(meta, mode="predict")
    b = plain[0]["boxes"]
    want = np.stack([(64 - b[:, 2]) / 4, b[:, 1] / 2, (64 - b[:, 0]) / 4, b[:, 3] / 2], 1)
    np.testing.assert_allclose(moved[0]["boxes"], want, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(moved[0]["scores"], plain[0]["scores"])
    np.testing.assert_allclose(moved[1]["boxes"], plain[1]["boxes"])


def _assert_top_detection_found_a_shape(dets, batch):
    for det, gt_boxes, gt_labels in zip(dets, batch["boxes"], batch["labels"]):
        assert det["boxes"].dtype == np.float32 and det["boxes"].shape[1] == 4
        assert det["scores"].dtype == np.float32 and det["labels"].dtype == np.int32
        assert (np.diff(det["scores"]) <= 0).all()
        iou = box_iou(det["boxes"][:1], gt_boxes)[0]  # (K,)
        assert iou.max() > 0.5 and gt_labels[iou.argmax()] == det["labels"][0], (det, iou)


def test_retinanet_overfits_and_predicts():
    # anchors, head flattening, matching, encode and decode must agree for the top box to land
    mge.random.seed(0)
    cfg = _narrow(retinanet_r18_shapes(num_classes=3))
    cfg["head"]["anchor_scales"] = (1.0, 1.5)  # 6 anchors per location: a lighter head
    model = RetinaNet(**cfg)
    batch = _synthetic_batch()
    hist = _train(model, batch, 40, lr=0.01)
    assert set(hist[0]) == {"loss_cls", "loss_box"}
    total = [sum(h.values()) for h in hist]
    assert total[-1] < 0.3 * total[0], total  # 0.02-0.07 over seeds 0-3
    model.eval()
    out = model(batch, mode="predict")
    assert len(out) == 2 and all(o["boxes"].shape[0] <= 100 for o in out)
    _assert_top_detection_found_a_shape(out, batch)


def test_retinanet_giou_box_loss_decreases():
    mge.random.seed(1)
    cfg = _narrow(retinanet_r18_shapes(num_classes=3))
    cfg["head"]["box_loss"] = "giou"
    hist = _train(RetinaNet(**cfg), _synthetic_batch(), 6, lr=0.01)
    assert hist[-1]["loss_box"] < hist[0]["loss_box"], hist
    with pytest.raises(ValueError, match="box_loss must be one of"):
        RetinaNet(num_classes=3, head={"box_loss": "l2"})


def test_images_without_boxes_and_bad_input():
    model = FCOS(**_narrow(fcos_r18_shapes(num_classes=3)))
    batch = _synthetic_batch()
    empty = dict(batch, boxes=[np.zeros((0, 4), np.float32)] * 2,
                 labels=[np.zeros((0,), np.int32)] * 2)
    losses = model(empty, mode="loss")
    assert losses["loss_box"].item() == 0 and losses["loss_cls"].item() > 0
    with pytest.raises(ValueError, match=r"labels \[5\] outside \[0, 3\)"):
        model(dict(batch, labels=[np.array([5], np.int32), batch["labels"][1]]), mode="loss")
    with pytest.raises(ValueError, match="zero or negative size"):
        model(dict(batch, boxes=[np.array([[10, 8, 10, 40]], np.float32), batch["boxes"][1]]),
              mode="loss")
    with pytest.raises(ValueError, match="mode must be one of"):
        model(batch, mode="train")
    with pytest.raises(KeyError, match="unknown head keys"):
        FCOS(num_classes=3, head={"num_conv": 2})
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        FCOS(num_classes=0)
    with pytest.raises(ValueError, match="test.topk_per_level must be a positive int"):
        FCOS(num_classes=3, backbone={"depth": 18, "width": 8}, test={"topk_per_level": 0})
    model.eval()
    with pytest.raises(KeyError, match="no 'image_sizes'"):
        model({"images": batch["images"]}, mode="predict")


def test_registered_in_det_registry():
    registry = pytest.importorskip("det.registry")
    model = registry.MODELS.build(dict(fcos_r18_shapes(num_classes=2), backbone={
        "name": "ResNet", "depth": 18, "width": 8}, neck={"name": "FPN", "out_channels": 16}))
    assert isinstance(model, FCOS) and model.num_classes == 2
    assert registry.MODELS.get("RetinaNet") is RetinaNet
    assert registry.BACKBONES.get("ResNet") is ResNet and registry.NECKS.get("FPN") is FPN
    assert grid_points(1, 1, 8).tolist() == [[4, 4]]
