"""det export / demo --engine-file (det/engine/export.py): the dumped network gives the Python
model's raw outputs and, decoded by det, its detections."""
import numpy as np
import pytest

import engine as mge
from det.cli import main
from det.config import get_config
from det.engine.export import EngineFileDetector, canvas_size, export_detector, pad_batch
from det.utils.visualize import image_to_batch


def _model(name, seed=0):
    cfg = get_config(name)
    cfg.model.num_classes = 3
    mge.random.seed(seed)
    model = cfg.build_model()
    model.eval()
    return cfg, model


def _batch(cfg, h=100, w=90, seed=1):
    image = np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
    return image_to_batch(image, cfg.data.min_size, cfg.data.max_size,
                          cfg.data.get("size_divisibility", 32))


@pytest.mark.parametrize("name", ["fcos_r18_shapes", "retinanet_r18_shapes"])
def test_unoptimised_graph_gives_the_models_detections(name, tmp_path):
    cfg, model = _model(name)
    cfg.model.test = dict(cfg.model.get("test") or {}, score_thresh=0.0)
    model.test_cfg["score_thresh"] = 0.0  # every candidate, so there is much to compare
    path = str(tmp_path / "net.mge")
    size = canvas_size(cfg)
    export_detector(model, size, path, optimize=False)
    batch = pad_batch(_batch(cfg), size)
    want = model(batch, mode="predict")[0]
    got = EngineFileDetector(path, model)(batch)[0]
    assert want["boxes"].shape[0] > 0
    for k in ("boxes", "scores", "labels"):
        np.testing.assert_array_equal(got[k], want[k])


def test_optimised_graph_gives_the_networks_raw_outputs(tmp_path):
    cfg, model = _model("fcos_r18_shapes")
    path = str(tmp_path / "net.mge")
    size = canvas_size(cfg)
    info, _ = export_detector(model, size, path)
    det = EngineFileDetector(path, model)
    assert "Conv2dRelu" in det.graph.ops and "BatchNorm" not in det.graph.ops
    data = model.data_preprocessor(pad_batch(_batch(cfg), size))
    want, shapes = model.network(data["images"])
    got = det.graph(data["images"])
    assert det.shapes == shapes and info.outputs == ["head_0", "head_1", "head_2"]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-4, atol=1e-4)


def test_export_and_demo_commands(tmp_path, capsys):
    from PIL import Image

    cfg, model = _model("fcos_r18_shapes")
    ckpt = str(tmp_path / "w.pkl")
    mge.save({"model": model.state_dict(), "meta": {"num_classes": 3,
                                                    "class_names": ["a", "b", "c"]}}, ckpt)
    graph = str(tmp_path / "net.mge")
    assert main(["export", "-w", ckpt, "--out", graph, "--size", "160", "128"]) == 0
    det = EngineFileDetector(graph, model)
    assert det.size == (160, 128) and det.class_names == ["a", "b", "c"]
    img = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 50, 3), dtype=np.uint8)
                    ).save(img)
    vis = tmp_path / "vis"
    assert main(["demo", "--engine-file", graph, str(img), "--out", str(vis),
                 "--score-thresh", "0"]) == 0
    assert (vis / "in.png").is_file()
    capsys.readouterr()
    assert main(["demo", "--engine-file", str(tmp_path / "none.mge"), str(img)]) == 2
    assert "none.mge" in capsys.readouterr().err
    assert main(["demo", "-f", "retinanet_r18_shapes", "--engine-file", graph, str(img)]) == 2
    assert "meta_arch='FCOS'" in capsys.readouterr().err


def test_an_image_larger_than_the_canvas_is_refused():
    cfg, _ = _model("fcos_r18_shapes")
    with pytest.raises(ValueError, match="larger than the graph's 64x64 canvas"):
        pad_batch(_batch(cfg), (64, 64))


def test_export_command_writes_onnx_too(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    cfg, model = _model("retinanet_r18_shapes")
    ckpt = str(tmp_path / "w.pkl")
    mge.save(model.state_dict(), ckpt)
    graph, onnx_path = str(tmp_path / "net.mge"), str(tmp_path / "net.onnx")
    assert main(["export", "-f", "retinanet_r18_shapes", "-w", ckpt, "--out", graph, "--onnx",
                 onnx_path, "model.num_classes=3"]) == 0
    data = model.data_preprocessor(pad_batch(_batch(cfg), canvas_size(cfg)))
    want = [o.numpy() for o in model.network(data["images"])[0]]
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"images": data["images"].numpy()})
    assert [o.name for o in sess.get_outputs()] == ["head_0", "head_1"]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
