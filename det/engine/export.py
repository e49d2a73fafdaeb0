"""Deployment: a detector's network as a graph file (engine.jit's dump; `python -m det export`)
and a detector that runs one (`python -m det demo --engine-file`).

What is dumped is DenseDetector.network: the preprocessed (1, 3, H, W) image on a fixed canvas
to the head's raw outputs, with BatchNorm folded and conv + ReLU fused by engine's inference
passes. The data preprocessing before it and the decoding after it (top-k, box decoding, NMS)
are det's own Python, shared with the Python model, so the graph's detections are the model's.
The canvas is fixed when the graph is traced (its ops' shapes are): images are zero padded to
it, which the model's own padding to size_divisibility already does, only further.
"""
import numpy as np

import engine as mge
from engine.jit import load, trace

__all__ = ["canvas_size", "export_detector", "EngineFileDetector", "pad_batch"]

# user_info["det"]: the version of what det writes beside the graph
_DET_INFO_VERSION = 1


def canvas_size(cfg):
    """The input size that holds every test image of the config: the longest edge the test
    resize allows (data.max_size), rounded up to data.size_divisibility, square."""
    d = int(cfg.data.get("size_divisibility", 32))
    s = -(-int(cfg.data.max_size) // d) * d
    return s, s


def export_detector(model, size, path, optimize=True, meta=None):
    """Traces model.network on a (1, 3, *size) canvas and dumps it to path. Returns (the
    DumpInfo, the trace) so that an ONNX export can reuse the trace."""
    model.eval()
    h, w = size
    shapes = []

    def network(images):
        outputs, feature_shapes = model.network(images)
        shapes[:] = feature_shapes
        return list(outputs)

    traced = trace(network, capture_as_const=True)
    traced(mge.tensor(np.zeros((1, 3, h, w), np.float32)))
    names = [f"head_{i}" for i in range(len(traced._newest.program.output_slots))]
    meta = dict(meta or {})
    user_info = {"det": _DET_INFO_VERSION, "meta_arch": type(model).__name__,
                 "input_size": [h, w], "feature_shapes": [list(s) for s in shapes],
                 "num_classes": model.num_classes,
                 "class_names": list(meta.get("class_names") or [])}
    info = traced.dump(path, arg_names=["images"], output_names=names,
                       optimize_for_inference=optimize, user_info=user_info)
    return info, traced


def pad_batch(batch, size):
    """The batch with its images zero padded on the bottom and right to size (H, W)."""
    images = np.asarray(batch["images"])
    n, c, h, w = images.shape
    if h > size[0] or w > size[1]:
        raise ValueError(f"the image batch is {h}x{w}, larger than the graph's {size[0]}x"
                         f"{size[1]} canvas; export with --size covering it")
    out = np.zeros((n, c) + tuple(size), images.dtype)
    out[:, :, :h, :w] = images
    return dict(batch, images=out)


class EngineFileDetector:
    """`det(batch, mode="predict")` as the Python model's, with the network run from a graph file.

    Args:
        path: the file `det export` wrote.
        decoder: a detector of the same config (its weights are not used): the data
            preprocessor in front of the graph and decode() after it.
    """

    def __init__(self, path, decoder):
        self.graph = load(path)
        info = self.graph.user_info if isinstance(self.graph.user_info, dict) else {}
        if info.get("det") != _DET_INFO_VERSION:
            raise ValueError(f"{path}: not a detector exported by det export (no det info)")
        for key, have in (("meta_arch", type(decoder).__name__),
                          ("num_classes", decoder.num_classes)):
            if info[key] != have:
                raise ValueError(f"{path}: exported from a {key}={info[key]!r} model, the "
                                 f"config builds {key}={have!r}")
        self.decoder = decoder
        self.size = tuple(info["input_size"])
        self.shapes = [tuple(s) for s in info["feature_shapes"]]
        self.class_names = info.get("class_names") or None

    def __call__(self, batch, mode="predict"):
        if mode != "predict":
            raise ValueError(f"EngineFileDetector: a graph file only predicts, got mode={mode!r}")
        data = self.decoder.data_preprocessor(pad_batch(batch, self.size), training=False)
        images = data["images"]
        results = []
        for i in range(images.shape[0]):  # the graph was traced for one image
            raw = self.graph(images[i:i + 1])
            one = {k: (v[i:i + 1] if isinstance(v, (np.ndarray, list)) else v)
                   for k, v in data.items()}
            results.extend(self.decoder.decode(raw, self.shapes, one))
        return results
