"""The random and photometric transforms: MegEngine's random draws and arithmetic (checked by
recomputing them from the same seed), boxes / masks moving with the image, OpenCV-exact colour
conversions, and, where a MegEngine 1.13 interpreter is available, the outputs of both on the
same inputs and seeds."""
import os
import pickle
import subprocess
import textwrap

import numpy as np
import pytest
from PIL import Image

import engine.data.transform as T
from engine.data.transform import _color
from engine.data.transform import functional as VF

O3 = ("image", "boxes", "mask")


def _sample(seed=0, h=30, w=36):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
    boxes = np.array([[2.0, 3.0, 20.0, 25.0], [10.0, 5.0, 30.0, 28.0]], np.float32)
    mask = rng.integers(0, 5, (h, w, 1)).astype(np.uint8)
    return img, boxes, mask


# ------------------------------------------------------------------- colour conversions
def test_colour_conversions_match_opencv_values():
    # references: cv2.cvtColor in OpenCV 4.11 on the same pixels
    px = np.array([[[0, 0, 0], [255, 255, 255], [10, 200, 30], [200, 10, 30], [30, 10, 200],
                    [128, 128, 0], [1, 2, 3], [250, 5, 251]]], np.uint8)
    np.testing.assert_array_equal(_color.bgr_to_hsv_full(px), [[
        [0, 0, 0], [0, 0, 255], [81, 242, 200], [175, 242, 200], [252, 242, 200],
        [128, 255, 128], [21, 170, 3], [214, 250, 251]]])
    hsv = np.array([[[0, 255, 255], [43, 200, 100], [128, 255, 255], [255, 255, 255],
                     [200, 0, 90], [170, 128, 64], [85, 30, 200], [21, 255, 1]]], np.uint8)
    np.testing.assert_array_equal(_color.hsv_full_to_bgr(hsv), [[
        [0, 0, 255], [22, 100, 99], [255, 252, 0], [0, 0, 255], [90, 90, 90], [64, 32, 32],
        [176, 200, 176], [0, 0, 1]]])
    np.testing.assert_array_equal(VF.to_gray(px)[..., 0], [[0, 255, 128, 38, 69, 90, 2, 106]])
    f = px.astype(np.float32)
    ref = f[..., 0] * 0.114 + f[..., 1] * 0.587 + f[..., 2] * 0.299
    np.testing.assert_allclose(VF.to_gray(f)[..., 0], ref, rtol=1e-6)
    assert VF.to_bgr(VF.to_gray(px)).shape == (1, 8, 3)


def test_uint8_bilinear_resize_is_opencvs():
    # references: cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR), OpenCV 4.11
    img = (np.arange(12).reshape(3, 4) * 21 + 3).astype(np.uint8)
    np.testing.assert_array_equal(VF.resize(img, (5, 7)), [
        [3, 10, 22, 34, 46, 58, 66], [37, 44, 56, 68, 80, 92, 99],
        [87, 94, 107, 119, 130, 143, 150], [137, 145, 157, 169, 181, 193, 200],
        [171, 178, 190, 202, 214, 226, 234]])
    np.testing.assert_array_equal(VF.resize(img, (2, 3)), [[27, 55, 83], [153, 181, 209]])
    three = np.repeat(img[..., None], 3, axis=2)
    np.testing.assert_array_equal(VF.resize(three, (5, 7))[..., 1], VF.resize(img, (5, 7)))


def test_hsv_round_trip_is_close():
    img = _sample(3)[0]
    back = _color.hsv_full_to_bgr(_color.bgr_to_hsv_full(img))
    error = np.abs(back.astype(int) - img)
    assert error.mean() < 1.5 and error.max() <= 8  # 8-bit hue quantisation


# ------------------------------------------------------------ photometric: MegEngine's maths
def test_brightness_contrast_saturation_follow_megengine_formulas():
    img = _sample(1)[0]
    f = img.astype(np.float32)
    np.random.seed(5)
    a = np.random.uniform(0.4, 1.6)
    np.random.seed(5)
    np.testing.assert_array_equal(T.BrightnessTransform(0.6).apply(img),
                                  (f * a).clip(0, 255).astype(np.uint8))
    np.random.seed(5)
    got = T.ContrastTransform(0.6).apply(img)
    gray_mean = float(VF.to_gray(f).mean())
    np.testing.assert_array_equal(got, (f * a + gray_mean * (1 - a)).clip(0, 255)
                                  .astype(np.uint8))
    np.random.seed(5)
    got = T.SaturationTransform(0.6).apply(img)
    np.testing.assert_array_equal(got, (f * a + VF.to_gray(f) * (1 - a)).clip(0, 255)
                                  .astype(np.uint8))
    # value 0 is the identity and draws nothing
    np.random.seed(1)
    assert T.BrightnessTransform(0).apply(img) is img
    assert np.random.random() == np.random.RandomState(1).random_sample()


def test_hue_lighting_noise():
    img = _sample(2)[0]
    np.random.seed(7)
    alpha = np.random.uniform(-0.3, 0.3)
    np.random.seed(7)
    got = T.HueTransform(0.3).apply(img)
    hsv = _color.bgr_to_hsv_full(img)
    hsv[..., 0] += np.uint8(int(alpha * 255) % 256)
    np.testing.assert_array_equal(got, _color.hsv_full_to_bgr(hsv))
    gray = np.full((3, 3, 3), 77, np.uint8)
    np.testing.assert_array_equal(T.HueTransform(0.5).apply(gray), gray)  # no hue to turn
    np.random.seed(8)
    shift = T.Lighting(0.1).eigvec.dot(np.random.normal(scale=25.5, size=3)
                                       * T.Lighting(0.1).eigval)
    np.random.seed(8)
    np.testing.assert_array_equal(T.Lighting(0.1).apply(img),
                                  (img + shift).clip(0, 255).astype(np.uint8))
    np.random.seed(9)
    noisy = T.GaussianNoise(0.0, 0.05).apply(img).astype(int)
    assert noisy.shape == img.shape and 5 < np.abs(noisy - img).mean() < 15
    assert T.GaussianNoise(0.0, 0.0).apply(img).tolist() == img.tolist()


def test_photometric_transforms_leave_boxes_and_masks():
    img, boxes, mask = _sample(4)
    for t in (T.BrightnessTransform(0.5, order=O3), T.ContrastTransform(0.5, order=O3),
              T.SaturationTransform(0.5, order=O3), T.HueTransform(0.2, order=O3),
              T.Lighting(0.1, order=O3), T.GaussianNoise(order=O3),
              T.ColorJitter(0.3, 0.3, 0.3, 0.1, order=O3)):
        out_img, out_boxes, out_mask = t.apply((img, boxes, mask))
        assert out_img.shape == img.shape and out_img.dtype == np.uint8
        np.testing.assert_array_equal(out_boxes, boxes)
        np.testing.assert_array_equal(out_mask, mask)


def test_color_jitter_applies_its_parts_in_a_random_order():
    img = _sample(5)[0]
    jitter = T.ColorJitter(brightness=0.4, contrast=0.4)
    parts = jitter.transforms.transforms
    assert [type(t).__name__ for t in parts] == ["BrightnessTransform", "ContrastTransform"]
    np.random.seed(3)
    got = jitter.apply(img)
    np.random.seed(3)
    order = np.random.permutation((0, 1)).tolist()  # Compose's shuffle draw comes first
    ref = img
    for i in order:
        ref = parts[i].apply(ref)
    np.testing.assert_array_equal(got, ref)
    assert T.ColorJitter().apply(img) is img


# ------------------------------------------------------------------------ geometry
def test_random_crop_moves_boxes_and_masks_with_the_image():
    img, boxes, mask = _sample(6)
    np.random.seed(2)
    out_img, out_boxes, out_mask = T.RandomCrop((20, 18), padding_size=4,
                                                padding_value=[1, 2, 3], order=O3) \
        .apply((img, boxes, mask))
    np.random.seed(2)
    x, y = np.random.randint(0, 36 + 8 - 18 + 1), np.random.randint(0, 30 + 8 - 20 + 1)
    padded = VF.pad(img, (4, 4, 4, 4), [1, 2, 3])
    np.testing.assert_array_equal(out_img, padded[y:y + 20, x:x + 18])
    np.testing.assert_array_equal(out_boxes, boxes + [4 - x, 4 - y, 4 - x, 4 - y])
    np.testing.assert_array_equal(out_mask, VF.pad(mask, (4, 4, 4, 4), 0)[y:y + 20, x:x + 18])


def test_random_crop_pads_up_to_a_larger_output():
    img, boxes, mask = _sample(7, 10, 12)
    out_img, _, out_mask = T.RandomCrop(16, padding_maskvalue=9, order=O3) \
        .apply((img, boxes, mask))
    assert out_img.shape == (16, 16, 3) and out_mask.shape == (16, 16, 1)
    np.testing.assert_array_equal(out_img[:10, :12], img)
    assert (out_img[10:] == 0).all() and (out_mask[10:] == 9).all() and \
        (out_mask[:, 12:] == 9).all()
    gray = T.RandomCrop(4).apply(np.ones((2, 2, 1), np.uint8))  # [0, 0, 0] pads 1 channel
    assert gray.shape == (4, 4, 1)


def test_random_resize_and_shortest_edge_resize():
    img, boxes, mask = _sample(8)
    np.random.seed(4)
    scale = np.random.uniform(0.5, 1.5)
    np.random.seed(4)
    out_img, out_boxes, out_mask = T.RandomResize((0.5, 1.5), order=O3) \
        .apply((img, boxes, mask))
    th, tw = int(round(30 * scale)), int(round(36 * scale))
    assert out_img.shape == (th, tw, 3) and out_mask.shape == (th, tw, 1)
    np.testing.assert_allclose(out_boxes, boxes * [tw / 36, th / 30, tw / 36, th / 30],
                               rtol=1e-6)
    np.testing.assert_array_equal(out_mask, VF.resize(mask, (th, tw), VF.INTER_NEAREST))
    # shorter edge 30 -> size in [16, 24], longer edge capped at 30
    for seed in range(5):
        np.random.seed(seed)
        size = np.random.randint(16, 25)
        np.random.seed(seed)
        h, w = T.ShortestEdgeResize((16, 24), 30).apply(img).shape[:2]
        th, tw = size, 36 * size / 30
        if tw > 30:
            th, tw = th * 30 / tw, 30
        assert (h, w) == (int(round(th)), int(round(tw)))
    np.random.seed(0)
    choice = T.ShortestEdgeResize((10, 20), 1000, sample_style="choice")
    assert {choice.apply(img).shape[0] for _ in range(20)} == {10, 20}


def test_random_resized_crop():
    img, boxes, mask = _sample(9)
    t = T.RandomResizedCrop((16, 12), order=O3)
    np.random.seed(11)
    x, y, w, h = t._get_coord(img)
    assert 0 < w <= 36 and 0 < h <= 30 and 0.08 * 1080 * 0.5 <= w * h <= 1080 * 1.05
    np.random.seed(11)
    out_img, out_boxes, out_mask = t.apply((img, boxes, mask))
    np.testing.assert_array_equal(out_img, VF.resize(img[y:y + h, x:x + w], (16, 12)))
    np.testing.assert_allclose(out_boxes[:, 0], (boxes[:, 0] - x) * 12 / w, rtol=1e-5)
    np.testing.assert_allclose(out_boxes[:, 3], (boxes[:, 3] - y) * 16 / h, rtol=1e-5)
    assert out_mask.shape == (16, 12, 1)
    # no crop with aspect ratio 3..4 fits a 30x36 image: the central fallback
    fallback = T.RandomResizedCrop(8, scale_range=(0.99, 1.0), ratio_range=(3.0, 4.0))
    assert fallback._get_coord(img) == (0, 9, 36, 12)  # w = 36, h = 36 / 3, centred


def test_torch_transform_compose_speaks_pil_rgb():
    img = _sample(10, 4, 6)[0]
    seen = []

    def record(pil):
        seen.append(np.array(pil))
        return pil.transpose(Image.FLIP_TOP_BOTTOM)

    out = T.TorchTransformCompose([record]).apply(img)
    np.testing.assert_array_equal(seen[0], img[..., ::-1])  # the callable sees RGB
    np.testing.assert_array_equal(out, img[::-1])  # and the result is BGR again
    resized = T.TorchTransformCompose([lambda im: im.resize((3, 2))], order=O3) \
        .apply((img, np.zeros((1, 4)), img[..., :1]))
    assert resized[0].shape == (2, 3, 3) and resized[2].shape == (4, 6, 1)


def test_constructor_checks():
    with pytest.raises(ValueError, match="BrightnessTransform: value must be a number "
                                         "non-negative"):
        T.BrightnessTransform(-1)
    with pytest.raises(ValueError, match=r"HueTransform: value must be a number in \[0, 0.5\]"):
        T.HueTransform(0.7)
    with pytest.raises(ValueError, match="RandomResizedCrop: scale_range"):
        T.RandomResizedCrop(8, scale_range=(1.0, 0.5))
    with pytest.raises(NotImplementedError, match="sample_style"):
        T.ShortestEdgeResize(8, 10, sample_style="uniform")
    with pytest.raises(TypeError, match="TorchTransformCompose: transforms\\[0\\]"):
        T.TorchTransformCompose([3])


# ---------------------------------------------------- the same outputs as MegEngine 1.13
_CASES = textwrap.dedent('''
    import numpy as np

    def cases(T):
        o3 = ("image", "boxes", "mask")
        return {
            "brightness": (T.BrightnessTransform(0.6), ("image",)),
            "contrast": (T.ContrastTransform(0.6), ("image",)),
            "saturation": (T.SaturationTransform(0.7), ("image",)),
            "hue": (T.HueTransform(0.3), ("image",)),
            "lighting": (T.Lighting(0.1), ("image",)),
            "noise": (T.GaussianNoise(0.0, 0.05), ("image",)),
            "jitter": (T.ColorJitter(0.4, 0.4, 0.4, 0.2), ("image",)),
            "rcrop": (T.RandomCrop((20, 18), padding_size=4, padding_value=[1, 2, 3],
                                   order=o3), o3),
            "rcrop_big": (T.RandomCrop(40, padding_size=2, padding_maskvalue=7, order=o3), o3),
            "rresize": (T.RandomResize((0.5, 1.5), order=o3), o3),
            "rrcrop": (T.RandomResizedCrop((16, 12), order=o3), o3),
            "serange": (T.ShortestEdgeResize((16, 24), 30, order=o3), o3),
            "sechoice": (T.ShortestEdgeResize((10, 20, 40), 45, sample_style="choice",
                                              order=o3), o3),
        }

    def run(T, path):
        import pickle
        out = {}
        for name, (t, order) in cases(T).items():
            for seed in range(4):
                rng = np.random.default_rng(seed)
                fields = {"image": rng.integers(0, 256, (30, 36, 3)).astype(np.uint8),
                          "boxes": np.array([[2, 3, 20, 25], [10, 5, 30, 28]], np.float32),
                          "mask": rng.integers(0, 5, (30, 36, 1)).astype(np.uint8)}
                np.random.seed(100 + seed)
                res = t.apply(tuple(fields[k] for k in order))
                out[name, seed] = [np.asarray(r) for r in (res if isinstance(res, tuple)
                                                           else (res,))]
        with open(path, "wb") as f:
            pickle.dump(out, f)
''')
_MGE_PYTHON = os.environ.get("MGE_PYTHON", "/work/mge310/bin/python")


@pytest.mark.skipif(not os.path.exists(_MGE_PYTHON), reason="no MegEngine interpreter")
def test_outputs_match_megengine(tmp_path):
    script = _CASES + "\nimport megengine.data.transform as T\nrun(T, %r)\n" % str(
        tmp_path / "mge.pkl")
    done = subprocess.run([_MGE_PYTHON, "-c", script], capture_output=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"MegEngine could not run: {done.stderr.decode()[-300:]}")
    namespace = {}
    exec(_CASES, namespace)
    namespace["run"](T, str(tmp_path / "engine.pkl"))
    with open(tmp_path / "mge.pkl", "rb") as f:
        ref = pickle.load(f)
    with open(tmp_path / "engine.pkl", "rb") as f:
        got = pickle.load(f)
    for key, fields in ref.items():
        for i, (r, g) in enumerate(zip(fields, got[key])):
            assert r.shape == g.shape and r.dtype == g.dtype, (key, i, r.shape, g.shape)
            # draws, crops, resizes, boxes, masks and colour maths are bit-exact; OpenCV's
            # HSV -> BGR rounds a few borderline pixels per million differently (by 1)
            tol = 1 if key[0] in ("hue", "jitter") else 0
            np.testing.assert_allclose(r.astype(np.float64), g.astype(np.float64), rtol=0,
                                       atol=tol + 1e-5, err_msg=str((key, i)))


def test_megengine_module_paths_and_functional_signatures():
    from engine.data.transform.vision import BrightnessTransform, VisionTransform
    from engine.data.transform.vision import functional as F
    from engine.data.transform.vision.transform import RandomResizedCrop

    assert BrightnessTransform is T.BrightnessTransform and VisionTransform is T.VisionTransform
    assert RandomResizedCrop is T.RandomResizedCrop
    img = _sample(11, 4, 5)[0]
    assert F.to_gray(img).shape == (4, 5, 1)  # wrap_keepdims: stays 3-D
    assert F.to_bgr(F.to_gray(img)).shape == (4, 5, 3)
    np.testing.assert_array_equal(F.flip(img, 0), img[::-1])
    np.testing.assert_array_equal(F.flip(img, 1), img[:, ::-1])
    np.testing.assert_array_equal(F.flip(img, -1), img[::-1, ::-1])
    assert F.pad(img, 2, 0).shape == (8, 9, 3)
    np.testing.assert_array_equal(F.pad(img, (1, 2), 0)[:4, :5], img)  # bottom, right
    assert F.pad(img, (1, 2, 3, 4), 0.5).dtype == np.float32
    assert F.resize(img[..., :1], (8, 10)).shape == (8, 10, 1)
    with pytest.raises(ValueError, match="to_gray: image must have 3 dims"):
        F.to_gray(img[..., 0])
