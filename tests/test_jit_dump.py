"""trace.dump -> engine.jit.load / cgtools.GraphInference (engine/jit/dump.py, graph_file.py,
passes.py, loaded.py): a captured graph runs without the model's code and gives the eager
outputs (bit for bit unoptimised, to rounding after the inference passes)."""
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import engine as mge
import engine.functional as F
import engine.module as M
import engine.utils.comp_graph_tools as cgtools
from engine.jit import GraphFileError, load, trace

rng = np.random.default_rng(0)


def _x(*shape):
    return mge.tensor(rng.standard_normal(shape).astype("float32"))


class ConvNet(M.Module):
    """conv-bn-relu twice (the second through a residual add), a biased conv, a linear head."""

    def __init__(self):
        super().__init__()
        self.conv1 = M.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = M.BatchNorm2d(8)
        self.conv2 = M.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = M.BatchNorm2d(8)
        self.conv3 = M.Conv2d(8, 4, 1)
        self.fc = M.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(y + self.bn2(self.conv2(y)))
        return self.fc(F.flatten(self.conv3(y), 1))


def _trained_eval(net):
    """Non-trivial BatchNorm statistics and affine parameters, then eval mode."""
    for bn in (net.bn1, net.bn2):
        bn.running_mean._reset(_x(*bn.running_mean.shape))
        bn.running_var._reset(mge.tensor(rng.uniform(0.5, 2, bn.running_var.shape)
                                         .astype("float32")))
        bn.weight._reset(_x(*bn.weight.shape))
        bn.bias._reset(_x(*bn.bias.shape))
    net.eval()
    return net


def _dumped(fn, *args, path=None, **dump_kwargs):
    f = trace(fn, capture_as_const=True)
    out = f(*args)
    buf = path or io.BytesIO()
    info = f.dump(buf, **dump_kwargs)
    if not path:
        buf.seek(0)
    return out, buf, info


def test_unoptimised_graph_is_bit_identical_and_optimised_folds_batchnorm():
    net = _trained_eval(ConvNet())
    x = _x(2, 3, 6, 6)
    want = net(x).numpy()
    _, plain, _ = _dumped(net, x, optimize_for_inference=False)
    got = load(plain)(x)
    np.testing.assert_array_equal(got.numpy(), want)

    _, buf, info = _dumped(net, x, arg_names=["data"], output_names="logits")
    model = load(buf)
    np.testing.assert_allclose(model(x).numpy(), want, rtol=1e-5, atol=1e-5)
    # Both BatchNorms folded into their convs, the first conv's ReLU fused into it; the
    # residual's add and ReLU stay (the add reads two computed values).
    assert model.ops.count("Conv2dRelu") == 1 and model.ops.count("Conv2d") == 2
    assert "Mul" not in model.ops and "Pow" not in model.ops and "Reshape" in model.ops
    graph_view = cgtools.load_graph(io.BytesIO(buf.getvalue()))
    assert info.nr_opr == len(graph_view.graph) and info.inputs == ["data"]
    assert info.outputs == ["logits"] and model.output_names == ["logits"]
    assert info.tot_bytes == len(buf.getvalue()) and info.tensor_value_bytes > 0


def test_loads_in_a_process_without_the_models_code(tmp_path):
    """The models' modules are on sys.path only while tracing; the loading process never
    imports them (a tiny model from a module of its own; det's FCOS network and a ResNet-18 on
    det's backbone: no det module is imported) and gets the eager outputs."""
    pkg = tmp_path / "src"
    pkg.mkdir()
    (pkg / "my_model_mod.py").write_text(textwrap.dedent("""
        import engine.functional as F
        import engine.module as M

        class Tiny(M.Module):
            def __init__(self):
                super().__init__()
                self.conv = M.Conv2d(3, 6, 3, stride=2, padding=1)
                self.bn = M.BatchNorm2d(6)
                self.pool = M.AvgPool2d(2)

            def forward(self, x):
                y = self.pool(F.relu(self.bn(self.conv(x))))
                return {"feat": y, "score": F.sigmoid(y.mean(axis=(2, 3)))}
    """))
    sys.path.insert(0, str(pkg))
    try:
        import my_model_mod

        net = my_model_mod.Tiny()
        net.bn.running_mean._reset(_x(6))
        net.eval()
        x = _x(1, 3, 16, 16)
        want = {"tiny": {k: v.numpy() for k, v in net(x).items()}}
        _dumped(net, x, path=str(tmp_path / "tiny.mge"), arg_names=["image"])
    finally:
        sys.path.remove(str(pkg))
        sys.modules.pop("my_model_mod", None)
    from det.config import get_config
    from det.models.backbones.resnet import ResNet

    cfg = get_config("fcos_r18_shapes")
    cfg.model.num_classes = 3
    fcos = cfg.build_model()
    fcos.eval()
    backbone = ResNet(18)
    backbone.eval()
    big = _x(1, 3, 64, 64)
    for name, fn in (("fcos", lambda t: list(fcos.network(t)[0])), ("resnet18", backbone)):
        *_, info = _dumped(fn, big, path=str(tmp_path / f"{name}.mge"), arg_names=["image"])
        want[name] = dict(zip(info.outputs, [o.numpy() for o in fn(big)]))
    np.save(tmp_path / "x.npy", x.numpy())
    np.save(tmp_path / "big.npy", big.numpy())
    script = textwrap.dedent(f"""
        import sys, numpy as np
        import engine.utils.comp_graph_tools as cgtools
        root = {str(tmp_path)!r}
        for name, x in (("tiny", "x"), ("fcos", "big"), ("resnet18", "big")):
            out = cgtools.GraphInference(f"{{root}}/{{name}}.mge").run(
                inp_dict={{"image": np.load(f"{{root}}/{{x}}.npy")}})
            np.savez(f"{{root}}/{{name}}_out.npz", **out)
        imported = [m for m in sys.modules if m == "my_model_mod" or m.split(".")[0] == "det"]
        assert not imported, imported
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in sys.path if p and os.path.isdir(p) and str(tmp_path) not in p))
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=str(tmp_path))
    for name, outputs in want.items():
        got = np.load(tmp_path / f"{name}_out.npz")
        assert sorted(got.files) == sorted(outputs)
        for k in outputs:
            np.testing.assert_allclose(got[k], outputs[k], rtol=1e-4, atol=1e-5)


def test_returned_structures_and_names():
    a, b = _x(3, 4), _x(3, 4)

    def fn(p, q):
        return [p + q, (p * q, {"m": p - q})]

    out, buf, info = _dumped(fn, a, b, optimize_for_inference=False)
    assert info.outputs == ["ADD", "MUL", "SUB"]  # MegEngine's names: the ops' modes
    got = load(buf)(a, arg_1=b)
    assert isinstance(got, list) and isinstance(got[1], tuple) and set(got[1][1]) == {"m"}
    np.testing.assert_array_equal(got[1][1]["m"].numpy(), out[1][1]["m"].numpy())

    _, buf, info = _dumped(lambda p: {"double": p * 2, "same": p}, a)
    assert info.outputs == ["double", "same"]
    res = cgtools.GraphInference(buf, outputs=["double"]).run(a.numpy())
    assert list(res) == ["double"]
    np.testing.assert_array_equal(res["double"], a.numpy() * 2)

    f = trace(lambda p: {"d": p * 2}, capture_as_const=True)
    f(a)
    with pytest.raises(TypeError, match="already a dict"):
        f.dump(io.BytesIO(), output_names=["x"])
    f = trace(lambda p: (p, p + 1), capture_as_const=True)
    f(a)
    g = trace(lambda p: (p * 2, p * 3, p - 1), capture_as_const=True)
    g(a)
    assert g.dump(io.BytesIO()).outputs == ["MUL[0]", "MUL[1]", "SUB"]

    def named_output(p):
        y = p * 3
        y.name = "three"
        return y, p * 2

    h = trace(named_output, capture_as_const=True)
    h(a)
    assert h.dump(io.BytesIO()).outputs == ["three", "MUL"]
    with pytest.raises(ValueError, match="should be 2 values"):
        f.dump(io.BytesIO(), output_names=["x"])
    with pytest.raises(ValueError, match="should be 1 values"):
        f.dump(io.BytesIO(), arg_names=["a", "b"])


def test_dump_refuses_what_it_cannot_write():
    x = _x(2, 3, 6, 6)
    f = trace(lambda t: t * 2)
    f(x)
    with pytest.raises(ValueError, match="capture_as_const=True"):
        f.dump(io.BytesIO())
    with pytest.raises(ValueError, match="not been called"):
        trace(lambda t: t, capture_as_const=True).dump(io.BytesIO())
    net = ConvNet()  # training mode: BatchNorm updates its statistics in place
    f = trace(net, capture_as_const=True)
    f(x)
    with pytest.raises(ValueError, match="in place.*eval"):
        f.dump(io.BytesIO())
    f = trace(lambda t: t * 2, capture_as_const=True)
    f(x)
    with pytest.raises(TypeError, match="user_info is a object"):
        f.dump(io.BytesIO(), user_info=object())
    with pytest.raises(TypeError, match="unknown option"):
        f.dump(io.BytesIO(), enable_warp_speed=True)
    f.dump(io.BytesIO(), enable_nchw88=True, keep_opr_name=True)  # MegEngine's knobs: accepted


def test_a_failed_dump_leaves_the_old_file(tmp_path):
    path = tmp_path / "m.mge"
    x = _x(3)
    f = trace(lambda t: t + 1, capture_as_const=True)
    f(x)
    f.dump(str(path))
    before = path.read_bytes()
    with pytest.raises(TypeError):
        f.dump(str(path), user_info={"bad": object()})
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.mge"]


def _rewrite(buf, edit):
    """A copy of graph file buf with graph.json edited by edit(dict)."""
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in src.namelist():
            data = src.read(name)
            if name == "graph.json":
                g = json.loads(data)
                edit(g)
                data = json.dumps(g)
            z.writestr(name, data)
    out.seek(0)
    return out


def test_bad_files_get_clear_errors(tmp_path):
    x = _x(2, 3)
    _, buf, _ = _dumped(lambda t: t * 3, x)
    data = buf.getvalue()
    with pytest.raises(GraphFileError, match="cut short"):
        load(io.BytesIO(data[: len(data) // 2]))
    with pytest.raises(GraphFileError, match="not an engine graph file"):
        load(io.BytesIO(b"mgb0001 this is some other format"))
    with pytest.raises(GraphFileError, match="version 99, newer than this engine reads"):
        load(_rewrite(buf, lambda g: g.update(version=99)))
    with pytest.raises(GraphFileError, match="not one of engine's ops"):
        load(_rewrite(buf, lambda g: g["nodes"][0].update(op="os:system")))
    with pytest.raises(GraphFileError, match="has no op"):
        load(_rewrite(buf, lambda g: g["nodes"][0].update(op="engine.ops.elemwise:NoSuchOp")))
    with pytest.raises(GraphFileError, match="malformed"):
        load(_rewrite(buf, lambda g: g.pop("nodes")))
    with pytest.raises(FileNotFoundError):
        load(str(tmp_path / "missing.mge"))


def test_inputs_are_checked_and_arrays_accepted():
    x = _x(2, 3)
    _, buf, _ = _dumped(lambda t: t * 3, x, arg_names="t")
    model = load(buf)
    np.testing.assert_array_equal(model(x.numpy().astype("float64")).numpy(), x.numpy() * 3)
    with pytest.raises(ValueError, match=r"'t' has shape \(3, 2\).*\(2, 3\)"):
        model(_x(3, 2))
    with pytest.raises(TypeError, match="'t' is int32"):
        model(mge.tensor(np.ones((2, 3), "int32")))
    with pytest.raises(TypeError, match="missing input"):
        model()
    with pytest.raises(TypeError, match="no input named 'u'"):
        model(u=x)


def test_user_info_and_graph_view():
    net = _trained_eval(ConvNet())
    x = _x(1, 3, 6, 6)
    info = {"classes": ["a", "b"], "mean": np.arange(3, dtype="float32"), "size": (6, 6)}
    _, buf, _ = _dumped(net, x, arg_names=["data"], user_info=info)
    model = load(buf)
    assert model.user_info["classes"] == ["a", "b"] and model.user_info["size"] == (6, 6)
    np.testing.assert_array_equal(model.user_info["mean"], info["mean"])
    buf.seek(0)
    graph = cgtools.load_graph(buf)
    (out,) = graph.output_vars_list
    (inp,) = cgtools.get_dep_vars(out, "Host2DeviceCopy")
    assert inp.name == "data" and inp.shape == (1, 3, 6, 6)
    seq = cgtools.get_oprs_seq(graph.output_vars_list)
    assert [cgtools.get_opr_type(o) for o in seq] == ["Host2DeviceCopy"] + model.ops
    assert cgtools.get_owner_opr_type(out) == model.ops[-1]
    params = cgtools.get_dep_vars(out, "ImmutableTensor")
    assert len(params) >= 4 and all(p.name.startswith("const_") for p in params)


def test_dumped_dropout_draws_fresh_masks_from_engines_rng():
    x = mge.tensor(np.ones((64, 64), "float32"))
    _, buf, _ = _dumped(lambda t: F.dropout(t, 0.5), x)
    model = load(buf)
    assert model.ops[0].startswith("random.")
    mge.random.seed(3)
    a = model(x).numpy()
    b = model(x).numpy()
    mge.random.seed(3)
    np.testing.assert_array_equal(model(x).numpy(), a)
    assert not np.array_equal(a, b) and set(np.unique(a)) <= {0.0, 2.0}
    assert 0.4 < (a == 0).mean() < 0.6


def test_fold_passes_keep_shared_and_returned_values():
    """A conv output read twice, or returned, is not folded; a weight shared by two convs is
    folded into a copy for each."""
    w = _x(4, 3, 3, 3)
    s = mge.tensor(rng.uniform(0.5, 2, (1, 4, 1, 1)).astype("float32"))
    t = _x(1, 4, 1, 1)
    x = _x(1, 3, 5, 5)

    def fn(inp):
        y1 = F.conv2d(inp, w) * s + t      # folds into conv: one Conv2d, no Mul/Add
        y2 = F.conv2d(inp, w)
        return F.relu(y1), y2 * s + y2     # y2 read twice: kept

    want = [o.numpy() for o in fn(x)]
    _, buf, _ = _dumped(fn, x)
    model = load(buf)
    got = [o.numpy() for o in model(x)]
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)
    assert model.ops.count("Conv2dRelu") == 1 and model.ops.count("Conv2d") == 1
    assert model.ops.count("Mul") == 1 and model.ops.count("Add") == 1


@pytest.mark.cuda
def test_a_graph_dumped_on_the_cpu_runs_on_the_gpu():
    net = _trained_eval(ConvNet())
    x = _x(2, 3, 6, 6)
    want = net(x).numpy()
    _, buf, _ = _dumped(net, x)
    model = load(buf, device="gpu0")
    got = model(x)
    assert got.device == "gpu0"
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-4)


def test_input_data_test_cases_are_written_with_their_outputs(tmp_path):
    x = _x(2, 3)
    np.save(tmp_path / "a.npy", np.ones((2, 3), "float32"))
    f = trace(lambda t: {"y": F.exp(t) * 2}, capture_as_const=True)
    f(x)
    buf = io.BytesIO()
    f.dump(buf, arg_names=["t"], input_data=["#rand(0, 1)", f"t:{tmp_path / 'a.npy'}"])
    buf.seek(0)
    cases = load(buf).testcases
    assert len(cases) == 2
    rand, ones = cases
    assert rand["inputs"]["t"].shape == (2, 3) and 0 <= rand["inputs"]["t"].min()
    np.testing.assert_allclose(rand["outputs"]["y"], np.exp(rand["inputs"]["t"]) * 2, rtol=1e-6)
    np.testing.assert_allclose(ones["outputs"]["y"], np.full((2, 3), 2 * np.e, "float32"),
                               rtol=1e-6)
    with pytest.raises(ValueError, match=r"shape \(3,\), the graph was traced for \(2, 3\)"):
        f.dump(io.BytesIO(), input_data="#rand(0, 1, 3)")
    with pytest.raises(ValueError, match="not a numpy array file"):
        f.dump(io.BytesIO(), arg_names=["t"], input_data=f"t:{tmp_path / 'missing.png'}")


def test_a_crafted_graph_file_cannot_run_code_or_reset_the_rng():
    """Slots reach the replay's generated source and random methods reach numpy's Generator:
    a file's are checked (review finding: both could be abused)."""
    x = _x(3)
    _, buf, _ = _dumped(lambda t: F.relu(t) * 2, x)
    evil = "0: 0, 1: __import__('os').system('echo PWNED')}, [] #"
    with pytest.raises(GraphFileError, match="not a non-negative int"):
        load(_rewrite(buf, lambda g: g.update(outputs={"out": evil})))
    with pytest.raises(GraphFileError, match="has no spec|not a non-negative int"):
        load(_rewrite(buf, lambda g: g["nodes"][0].update(inputs=[99])))
    with pytest.raises(GraphFileError, match="not a non-negative int"):
        load(_rewrite(buf, lambda g: g["nodes"][0].update(inputs=[True])))

    def reads_before_made(g):
        g["nodes"][0]["inputs"] = [g["nodes"][-1]["outputs"][0]]
    with pytest.raises(GraphFileError, match="before anything makes them"):
        load(_rewrite(buf, reads_before_made))
    _, rbuf, _ = _dumped(lambda t: t + mge.random.normal(size=(3,)), x)
    with pytest.raises(GraphFileError, match="unknown random draw '__setstate__'"):
        load(_rewrite(rbuf, lambda g: g["nodes"][0].update(random="__setstate__")))


def test_unread_random_draws_still_advance_the_stream():
    def f(t):
        mge.random.normal(size=(3,))  # unused, but it moves the RNG
        return t + mge.random.normal(size=(3,))

    x = _x(3)
    mge.random.seed(7)
    want = f(x).numpy()
    for kwargs in ({}, {"opt_level": 1}):
        g = trace(f, capture_as_const=True, without_host=True, **kwargs)
        g(x)
        mge.random.seed(7)
        np.testing.assert_array_equal(g(x).numpy(), want)
    _, buf, _ = _dumped(f, x)
    mge.random.seed(7)
    np.testing.assert_array_equal(load(buf)(x).numpy(), want)


def test_a_conv_with_a_traced_bias_is_not_folded():
    w = _x(4, 3, 3, 3)
    s = mge.tensor(rng.uniform(0.5, 2, (1, 4, 1, 1)).astype("float32"))
    x, b = _x(1, 3, 5, 5), _x(1, 4, 1, 1)
    fn = lambda t, bias: F.conv2d(t, w, bias) * s  # noqa: E731
    want = fn(x, b).numpy()
    _, buf, _ = _dumped(fn, x, b)
    np.testing.assert_allclose(load(buf)(x, b).numpy(), want, rtol=1e-6, atol=1e-6)


def test_megbrain_graph_output_node_reads_constants_only():
    import engine.core.tensor.megbrain_graph as G
    from engine.utils.network_node import VarNode

    c = mge.tensor(np.array([2.0, 3.0], "float32"))
    x = _x(2)
    _, buf, _ = _dumped(lambda t: t * c, x, optimize_for_inference=False)
    (out,) = G.load_graph(buf).output_vars_list
    assert isinstance(out, VarNode)
    const = cgtools.get_owner_opr_inputs(out)[1]
    o = G.OutputNode(const)
    o.graph.compile(o.outputs).execute()
    np.testing.assert_array_equal(o.get_value().numpy(), c.numpy())
    with pytest.raises(RuntimeError, match="GraphInference"):
        G.OutputNode(out).get_value()
