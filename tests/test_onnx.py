"""engine.onnx.export (engine/onnx/): the exported models run in onnxruntime and give engine's
outputs within 1e-4; ops without a conversion are named."""
import io

import numpy as np
import pytest

import engine as mge
import engine.functional as F
import engine.module as M
from engine.jit import trace

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from engine.onnx import export  # noqa: E402

rng = np.random.default_rng(0)


def _x(*shape):
    return mge.tensor(rng.standard_normal(shape).astype("float32"))


def _run(proto_or_path, feeds):
    src = proto_or_path.SerializeToString() if hasattr(proto_or_path, "SerializeToString") \
        else proto_or_path
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(src, opts, providers=["CPUExecutionProvider"]).run(None, feeds)


class ResNet18(M.Module):
    """det's ResNet-18 backbone with an ImageNet-style classifier."""

    def __init__(self):
        super().__init__()
        from det.models.backbones.resnet import ResNet

        self.body = ResNet(18)
        self.fc = M.Linear(512, 10)

    def forward(self, x):
        return self.fc(F.flatten(F.adaptive_avg_pool2d(self.body(x)[-1], 1), 1))


def test_resnet18_matches_onnxruntime(tmp_path):
    net = ResNet18()
    for m in net.modules():  # non-trivial statistics, so that BatchNorm folding matters
        if isinstance(m, M.BatchNorm2d):
            m.running_mean._reset(_x(*m.running_mean.shape) * 0.1)
            m.running_var._reset(mge.tensor(rng.uniform(0.5, 1.5, m.running_var.shape)
                                            .astype("float32")))
    net.eval()
    x = _x(2, 3, 64, 64)
    want = net(x).numpy()
    path = str(tmp_path / "r18.onnx")
    proto = export(net, path, example_inputs=(x,), input_names=["images"],
                   output_names=["logits"])
    ops = {n.op_type for n in proto.graph.node}
    assert "BatchNormalization" not in ops and {"Conv", "Relu", "MaxPool", "Gemm"} - ops == \
        {"Gemm"}  # BN folded; linear is MatMul + Add
    (got,) = _run(path, {"images": x.numpy()})
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_fcos_head_outputs_match_onnxruntime(tmp_path):
    from det.config import get_config
    from det.engine.export import export_detector

    cfg = get_config("fcos_r18_shapes")
    cfg.model.num_classes = 3
    model = cfg.build_model()
    model.eval()
    _, traced = export_detector(model, (128, 128), str(tmp_path / "fcos.mge"))
    buf = io.BytesIO()
    traced.dump(buf, arg_names=["images"], format="onnx")
    img = _x(1, 3, 128, 128)
    want = [o.numpy() for o in model.network(img)[0]]
    got = _run(buf.getvalue(), {"images": img.numpy()})
    assert len(got) == 3
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode,align", [("nearest", False), ("bilinear", False),
                                        ("bilinear", True)])
def test_elementwise_shape_and_resize_ops(mode, align):
    a, b = _x(2, 4, 5, 6), _x(2, 4, 5, 6)
    w = _x(4)

    def fn(p, q):
        y = F.sigmoid(p) * F.gelu(q) - F.leaky_relu(p, 0.1) / (F.exp(q * 0.1) + 1)
        y = F.clip(y, -0.5, 2.0) + F.silu(F.tanh(q))
        y = F.nn.interpolate(y, scale_factor=2, mode=mode, align_corners=align)
        y = F.group_norm(y, 2, weight=w, bias=w)
        z = F.concat([y.transpose(0, 1, 3, 2), y.transpose(0, 1, 3, 2)], axis=1)
        s = F.softmax(z.reshape(2, -1), axis=1)
        return {"sum": z.sum(axis=(2, 3), keepdims=True), "max": z.max(axis=1),
                "soft": s, "mm": F.matmul(s.reshape(2, 8, -1), s.reshape(2, 8, -1),
                                          transpose_b=True)}

    want = {k: v.numpy() for k, v in fn(a, b).items()}
    f = trace(fn, capture_as_const=True)
    f(a, b)
    proto = export(f, io.BytesIO())
    got = _run(proto, {"arg_0": a.numpy(), "arg_1": b.numpy()})
    for g, k in zip(got, ["sum", "max", "soft", "mm"]):
        np.testing.assert_allclose(g, want[k], rtol=1e-4, atol=1e-4)


def test_pooling_and_returned_input():
    x = _x(1, 2, 9, 9)

    def fn(t):
        return F.avg_pool2d(t, 3, stride=2, padding=1), F.max_pool2d(t, 2), t

    want = [o.numpy() for o in fn(x)]
    got = _run(export(fn, io.BytesIO(), example_inputs=x), {"arg_0": x.numpy()})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_unconvertible_ops_are_named():
    x = _x(4, 5)
    with pytest.raises(NotImplementedError, match="no ONNX conversion for op.*TopK"):
        export(lambda t: F.topk(t, 2)[0], io.BytesIO(), example_inputs=x)
    with pytest.raises(NotImplementedError, match="random draws"):
        export(lambda t: F.dropout(t, 0.5), io.BytesIO(), example_inputs=x)
    with pytest.raises(ValueError, match="example_inputs"):
        export(lambda t: t, io.BytesIO())
    f = trace(lambda t: t * 2)
    f(x)
    with pytest.raises(ValueError, match="capture_as_const"):
        export(f, io.BytesIO())
    with pytest.raises(ValueError, match="2 distinct names"):
        export(lambda t: (t + 1, t - 1), io.BytesIO(), example_inputs=x, output_names=["a"])


def test_resize_to_a_size_keeps_the_size_in_any_runtime():
    """3 -> 5 rows: float32(5/3) * 3 floors to 4, so the export names the sizes."""
    from onnx.reference import ReferenceEvaluator

    x = _x(1, 1, 3, 3)
    for mode in ("nearest", "bilinear"):
        f = lambda t, mode=mode: F.nn.interpolate(t, size=(5, 3), mode=mode)  # noqa: E731
        want = f(x).numpy()
        proto = export(f, io.BytesIO(), example_inputs=x)
        (ref,) = ReferenceEvaluator(proto).run(None, {"arg_0": x.numpy()})
        (got,) = _run(proto, {"arg_0": x.numpy()})
        assert ref.shape == want.shape == (1, 1, 5, 3)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(ref, want, rtol=1e-5, atol=1e-5)
