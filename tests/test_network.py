"""engine.utils.network (MegEngine's Network graph surgery) and network_node's VarNode graph
building: each edited graph is dumped and run through GraphInference against numpy."""
import io

import numpy as np
import pytest

import engine as mge
import engine.functional as F
from engine.jit import trace
from engine.utils.comp_graph_tools import GraphInference
from engine.utils.network import Network, as_oprnode, as_varnode
from engine.utils.network_node import Host2DeviceCopy, ImmutableTensor, OpNode, VarNode


def _dumped(fn, *args, names=("a", "b"), out="o"):
    f = trace(fn, symbolic=True, capture_as_const=True)
    f(*args)
    buf = io.BytesIO()
    f.dump(buf, arg_names=list(names[:len(args)]), output_names=out, optimize_for_inference=False)
    buf.seek(0)
    return buf


def _run(net, *args):
    buf = io.BytesIO()
    net.dump(buf, optimize_for_inference=False)
    buf.seek(0)
    return GraphInference(buf).run(*args)


A, B = np.array([1.0, 2.0], "float32"), np.array([3.0, 4.0], "float32")


def _net():
    return Network.load(_dumped(lambda a, b: (a + b) * 2, mge.tensor(A), mge.tensor(B)))


def test_load_shows_inputs_constants_and_ops():
    net = _net()
    assert [o.type for o in net.all_oprs] == ["Host2DeviceCopy", "Host2DeviceCopy", "Add",
                                              "ImmutableTensor", "Mul"]
    assert [v.name for v in net.data_providers_filter] == ["a", "b"]
    assert net.params_filter.as_unique().value.tolist() == 2.0
    assert [v.name for v in net.output_vars] == ["o"]
    np.testing.assert_array_equal(_run(net, A, B)["o"], (A + B) * 2)


def test_ops_on_varnodes_build_the_graph():
    net = _net()
    a, b = net.var_filter.name("a").as_unique(), net.var_filter.name("b").as_unique()
    y = F.relu(a * b - 4)
    y += 1  # a new node (a VarNode is never updated in place)
    assert isinstance(y, VarNode) and y.shape == (2,) and y.dtype == np.float32
    assert y.owner.type == "Add" and y.owner.inputs[0].owner.type == "Relu"
    with pytest.raises(ValueError, match="computed by the graph"):
        y.numpy()  # its value exists only once the graph runs
    y.name = "y"
    net.add_output(y)
    out = _run(net, A, B)
    np.testing.assert_array_equal(out["y"], np.maximum(A * B - 4, 0) + 1)
    np.testing.assert_array_equal(out["o"], (A + B) * 2)


def test_constants_compute_their_values():
    net = Network()
    c = net.make_const(np.array([1.0, -2.0]), name="c")
    z = F.concat([c, c * 3])
    assert z.numpy().tolist() == [1.0, -2.0, 3.0, -6.0]  # from constants alone: known


def test_replace_vars_and_oprs():
    net = _net()
    a, b = net.var_filter.name("a").as_unique(), net.var_filter.name("b").as_unique()
    add = net.opr_filter.has_input(a).as_unique()
    net.replace_vars({add.outputs[0]: F.relu(a * b)})
    np.testing.assert_array_equal(_run(net, A, B)["o"], np.maximum(A * B, 0) * 2)

    net = _net()
    a, b = net.var_filter.name("a").as_unique(), net.var_filter.name("b").as_unique()
    old = net.opr_filter.has_input(a).as_unique()
    kept = old.outputs[0]  # (the Mul after it reads this var object)
    new = (a - b).owner
    net.replace_oprs({old: new})
    assert new.outputs == [kept] and kept.owner is new
    np.testing.assert_array_equal(_run(net, A, B)["o"], (A - B) * 2)


def test_make_const_input_and_outputs():
    net = _net()
    net.replace_vars({net.var_filter.name("b").as_unique(): net.make_const(np.zeros(2), "z")})
    np.testing.assert_array_equal(_run(net, A)["o"], A * 2)

    net = _net()
    c = net.make_input_node((2,), np.float32, name="c")
    o = net.var_filter.name("o").as_unique()
    y = o + c
    y.name = "o1"
    net.remove_output(o)
    net.add_output(y)
    assert list(_run(net, A, B, A)) == ["o1"]
    np.testing.assert_array_equal(_run(net, A, B, A)["o1"], (A + B) * 2 + A)
    with pytest.raises(ValueError, match="not an output"):
        net.remove_output(o)


def test_params_names_batch_size_and_metadata():
    net = _net()
    net.params_filter.as_unique().set_value(3)
    np.testing.assert_array_equal(_run(net, A, B)["o"], (A + B) * 3)

    net.modify_opr_names("net")
    assert [o.name for o in net.data_providers_filter] == ["net.a", "net.b"]
    buf = io.BytesIO()
    net.dump(buf, optimize_for_inference=False)
    buf.seek(0)
    again = Network.load(buf)
    assert [v.name for v in again.input_vars] == ["net.a", "net.b"]
    assert again.metadata == {"graph_modified": True, "optimized_for_inference": False,
                              "user_info": None}

    net.reset_batch_size(5)
    assert [o.shape for o in net.data_providers_filter] == [(5,), (5,)]
    with pytest.raises(ValueError, match="unused items in blacklist"):
        net.reset_batch_size(5, blacklist=["nope"])


def test_traced_dump_metadata_and_hash():
    buf = _dumped(lambda a, b: a * b, mge.tensor(A), mge.tensor(B))
    assert Network.load(buf).metadata["graph_modified"] is False
    f = trace(lambda a: a * 2, symbolic=True, capture_as_const=True)
    f(mge.tensor(A))
    infos = [f.dump(io.BytesIO()) for _ in range(2)]
    assert infos[0].content_hash == infos[1].content_hash and infos[0][4] == ["arg_0"]
    f.dump(buf := io.BytesIO(), enable_metadata=False)
    buf.seek(0)
    assert Network.load(buf).metadata is None


def test_node_conversions_and_filters():
    net = _net()
    add = net.get_opr_by_type(OpNode, unique=False)
    assert len(add) == 5 and isinstance(add[0], Host2DeviceCopy)
    assert isinstance(net.get_opr_by_type(ImmutableTensor), ImmutableTensor)
    o = net.get_var_by_name("o")
    assert as_varnode(o.owner) is o and as_oprnode(o) is o.owner and as_varnode([o]) is o
    assert net.opr_filter.type("Mul").as_count() == 1
    names = list(net.all_vars_dict)
    assert len(names) == 5 and names[:2] == ["a", "b"] and names[-1] == "o"
    with pytest.raises(ValueError, match="expected one"):
        net.opr_filter.as_unique()


def test_outspec_selects_a_subgraph():
    buf = _dumped(lambda a, b: (a + b) * 2, mge.tensor(A), mge.tensor(B))
    net = Network.load(buf)
    inner = net.all_vars[2]
    inner.name = "inner"
    net.add_output(inner)
    buf2 = io.BytesIO()
    net.dump(buf2, optimize_for_inference=False)
    buf2.seek(0)
    sub = Network.load(buf2, outspec=["inner"])
    np.testing.assert_array_equal(_run(sub, A, B)["inner"], A + B)
    buf2.seek(0)
    with pytest.raises(ValueError, match="can not find"):
        Network.load(buf2, outspec=["missing"])


def test_megengine_device_wrappers_and_external_ops():
    from engine.core._wrap import Device, as_device
    from engine.device import CompNode
    from engine.functional.external import tensorrt_runtime_opr

    assert str(Device("cpu0")) == str(CompNode("cpu0")) and as_device("cpu0") == Device("cpu0")
    with pytest.raises(RuntimeError, match="TensorRT"):
        tensorrt_runtime_opr([mge.tensor(A)], data=b"")


def test_relu_takes_integers():
    x = np.arange(-5000, 5000, dtype="int32")
    np.testing.assert_array_equal(F.relu(mge.tensor(x)).numpy(), np.maximum(x, 0))
    assert F.relu(mge.tensor([-1, 2], dtype="int8")).dtype == np.int8


def test_copy_device_attribute_and_unread_inputs_survive_a_dump():
    # F.copy's target device is an attribute the file holds; the second input is read by
    # nothing (its role ended in the trace), yet stays an input of the edited file
    buf = _dumped(lambda a, b: F.copy(a * 2, "cpu0"), mge.tensor(A), mge.tensor(B))
    net = Network.load(buf)
    assert [v.name for v in net.input_vars] == ["a", "b"]
    news = [net.make_input_node(v.shape, v.dtype, name=v.name) for v in net.input_vars]
    net.replace_vars(dict(zip(net.input_vars, news)))
    out = io.BytesIO()
    net.dump(out, optimize_for_inference=False)
    out.seek(0)
    g = GraphInference(out)
    assert [i.name for i in g.inputs] == ["a", "b"]
    np.testing.assert_array_equal(g.run(inp_dict={"a": A, "b": B})["o"], A * 2)


def test_megbrain_graph_compiles_and_runs_its_vars():
    import engine.core.tensor.megbrain_graph as G
    from engine.core.ops.builtin import Elemwise

    g = G.Graph()
    g.options.async_exec_level = 0b100  # (kept, no effect)
    x = G.InputNode(device="xpux", dtype="float32", graph=g)
    c = g.make_const(1.5)
    neg = G.apply_normal_varnode(Elemwise(Elemwise.Mode.NEGATE), x.outputs[0])[0]
    y = G.OutputNode(neg * c)
    attrs = G.AttrOutputNode(neg)
    seen = []
    G.output_callback(seen.append, neg)
    f = g.compile(y.outputs[0], neg)
    for shape in [(2,), (3, 4)]:
        f.execute()
        v = np.random.default_rng(0).standard_normal(shape).astype("float32")
        x.set_value(mge.tensor(v)._dev_tensor())
        np.testing.assert_array_equal(y.get_value().numpy(), -v * np.float32(1.5))
        assert attrs.get_value().shape == shape
        f.wait()
        np.testing.assert_array_equal(seen[-1].numpy(), -v)
    assert len(seen) == 2  # one run per execution

    def fails():
        raise RuntimeError("no data")

    v, _ = G.input_callback(fails, device="xpux", dtype="float32", graph=g)
    out = G.OutputNode(v + 1)
    g.compile(out.outputs[0]).execute()
    with pytest.raises(RuntimeError, match="no data"):
        out.get_value()
    with pytest.raises(RuntimeError, match="before set_value"):
        G.InputNode(dtype="float32", graph=g)._read()


def test_cgtools_replace_vars_and_oprs_copy_the_graph():
    import engine.core.tensor.megbrain_graph as G
    import engine.utils.comp_graph_tools as cgtools

    g = G.Graph()
    a = G.InputNode(dtype="float32", graph=g)
    av = a.outputs[0]
    const = g.make_const(1.25)
    a2 = av + av
    rst = a2 * const + av
    (new,) = cgtools.replace_vars([rst], {const: a2})
    (swapped,) = cgtools.replace_oprs([rst], {a2.owner: (av * av).owner})
    outs = [G.OutputNode(v) for v in (rst, new, swapped)]
    f = g.compile(*[o.outputs[0] for o in outs])
    f.execute()
    a.set_value(mge.tensor(5.0))
    assert [o.get_value().item() for o in outs] == [17.5, 105.0, 36.25]
    with pytest.raises(ValueError, match="outputs"):
        cgtools.replace_oprs([rst], {a2.owner: OpNode()})  # (no outputs for Add's one)


def test_copy_and_shape_helpers_on_varnodes():
    from engine.core.tensor.utils import astensor1d

    net = Network()
    c = net.make_const(np.array([1.0, 2.0]), device="cpu0")
    moved = F.copy(c, "cpu1")
    assert isinstance(moved, VarNode) and str(moved.device) == "cpu1"
    assert moved.owner.type == "Copy" and moved.numpy().tolist() == [1.0, 2.0]
    shape = astensor1d([2, 3], c)
    assert isinstance(shape, VarNode) and shape.numpy().tolist() == [2, 3]
    assert type(astensor1d([2, 3], mge.tensor(1.0))) is mge.Tensor


def test_setitem_rebinds_a_varnode_and_earlier_readers_keep_the_old_value():
    net = _net()
    a = net.var_filter.name("a").as_unique()
    add = a.users[0]
    a[0] = 10.0  # a names the new value; the Add of the file still reads the input
    assert a.owner.type != "Host2DeviceCopy" and add.inputs[0] is not a
    a.name = "a_set"
    net.add_output(a)
    out = _run(net, A, B)
    np.testing.assert_array_equal(out["o"], (A + B) * 2)
    np.testing.assert_array_equal(out["a_set"], [10.0, A[1]])
