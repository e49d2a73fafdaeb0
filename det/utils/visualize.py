"""Demo helpers: one image as a loader-style batch, and detections drawn on it with PIL."""
import numpy as np

__all__ = ["image_to_batch", "draw_detections", "load_rgb"]

_PALETTE = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
            (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128)]


def load_rgb(path):
    """(H, W, 3) uint8 RGB from any PIL-readable file (grey, RGBA, palette converted)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read image {path!r}: {e}") from e


def _test_size(min_size):
    # a tuple of train sizes: test at the largest, as detectron2's MIN_SIZE_TEST usually is
    return int(max(min_size)) if isinstance(min_size, (list, tuple)) else int(min_size)


def image_to_batch(image, min_size, max_size, size_divisibility=32, image_id=0):
    """The batch the test loader would give for one (H, W, 3) uint8 image: shortest edge
    resized to min_size (longest capped at max_size), zero padded to size_divisibility."""
    from PIL import Image

    h0, w0 = image.shape[:2]
    scale = _test_size(min_size) / min(h0, w0)
    if max(h0, w0) * scale > max_size:
        scale = max_size / max(h0, w0)
    h, w = max(1, int(round(h0 * scale))), max(1, int(round(w0 * scale)))
    resized = image if (h, w) == (h0, w0) else np.asarray(
        Image.fromarray(image).resize((w, h), Image.BILINEAR))
    d = size_divisibility
    hp, wp = -(-h // d) * d, -(-w // d) * d
    padded = np.zeros((1, 3, hp, wp), np.uint8)  # (N, 3, Hp, Wp)
    padded[0, :, :h, :w] = resized.transpose(2, 0, 1)
    return {
        "images": padded,
        "image_sizes": np.array([[h, w]], np.int32),
        "boxes": [np.zeros((0, 4), np.float32)],
        "labels": [np.zeros((0,), np.int32)],
        "image_ids": [image_id],
        "orig_sizes": np.array([[h0, w0]], np.int32),
        "scales": np.array([[h / h0, w / w0]], np.float32),
        "flipped": [False],
    }


def draw_detections(image, detections, class_names=None, score_thresh=0.3):
    """A PIL image: `image` with each detection scoring >= score_thresh as a box and
    "name score" text. detections: {"boxes": (M, 4) x1y1x2y2, "scores": (M,), "labels": (M,)}."""
    from PIL import Image, ImageDraw

    im = Image.fromarray(np.ascontiguousarray(image))
    draw = ImageDraw.Draw(im)
    boxes = np.asarray(detections["boxes"], np.float32).reshape(-1, 4)
    scores = np.asarray(detections["scores"], np.float32).reshape(-1)
    labels = np.asarray(detections["labels"]).reshape(-1)
    for box, score, label in zip(boxes, scores, labels):
        if score < score_thresh:
            continue
        color = _PALETTE[int(label) % len(_PALETTE)]
        name = class_names[int(label)] if class_names and int(label) < len(class_names) \
            else str(int(label))
        x1, y1, x2, y2 = (float(v) for v in box)
        draw.rectangle([x1, y1, x2, y2], outline=color, width=2)
        draw.text((x1 + 2, max(0.0, y1 - 11)), f"{name} {score:.2f}", fill=color)
    return im
