"""engine.module: the Module API (discovery, modes, state_dict, hooks, repr) and every layer
against its PyTorch twin loaded with the same weights (forward, input and parameter grads).

Layers whose functional lives in another part of the tree (conv, pooling, batch/group norm) skip
until engine.functional has it; they must pass once it does.
"""
import re
from collections import OrderedDict

import numpy as np
import pytest

import engine as mge
import engine.functional as F
import engine.module as M
from engine.autodiff import GradManager

torch = pytest.importorskip("torch")


class Block(M.Module):
    def __init__(self):
        super().__init__()
        self.fc = M.Linear(4, 3)
        self.act = M.ReLU()
        self.scale = mge.Tensor(np.ones(3, "float32"))  # a buffer
        self.heads = [M.Linear(3, 2), M.Linear(3, 1)]
        self.table = {"b": M.Linear(2, 2), "a": mge.Parameter(np.zeros(2, "float32"))}
        self.k = 3  # plain attributes are ignored

    def forward(self, x):
        return self.heads[0](self.act(self.fc(x)) * self.scale)


class Net(M.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.out = M.Linear(2, 2, bias=False)

    def forward(self, x):
        return self.out(self.block(x))


# ------------------------------------------------------------------------- discovery
def test_parameters_buffers_and_children_found_by_type_in_sorted_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["block.fc.bias", "block.fc.weight", "block.heads.0.bias",
                     "block.heads.0.weight", "block.heads.1.bias", "block.heads.1.weight",
                     "block.table.a", "block.table.b.bias", "block.table.b.weight",
                     "out.weight"]
    assert all(isinstance(p, mge.Parameter) for p in net.parameters())
    assert [n for n, _ in net.named_buffers()] == ["block.scale"]
    assert list(net.named_parameters(recursive=False)) == []  # only sub-modules here
    assert [n for n, _ in net.block.named_parameters(prefix="m", recursive=False)] == [
        "m.table.a"]
    assert [n for n, _ in net.named_children()] == ["block", "out"]
    assert [n for n, _ in net.named_modules()] == [
        "", "block", "block.act", "block.fc", "block.heads.0", "block.heads.1", "block.table.b",
        "out"]
    assert list(net.modules())[0] is net
    assert len(list(net.parameters(requires_grad=True))) == 10


def test_shared_submodule_and_parameter_are_listed_once():
    class Tied(M.Module):
        def __init__(self):
            super().__init__()
            self.a = M.Linear(2, 2)
            self.b = self.a
            self.w = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    assert [n for n, _ in Tied().named_parameters()] == ["a.bias", "a.weight"]


def test_assigning_a_submodule_before_init_is_an_error():
    class Bad(M.Module):
        def __init__(self):
            self.fc = M.Linear(2, 2)
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_train_eval_apply_and_zero_grad():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.train(False, recursive=False)
    assert not net.training and net.block.training
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[0] == "Net" and seen.count("Linear") == 5
    x = mge.Tensor(np.random.randn(5, 4).astype("float32"))
    gm = GradManager().attach(net.parameters())
    with gm:
        gm.backward(net(x).sum())
    assert net.out.weight.grad is not None
    net.zero_grad()
    assert np.all(net.out.weight.grad.numpy() == 0)


# ------------------------------------------------------------------------ state dict
def test_state_dict_holds_numpy_copies_with_dotted_keys_and_round_trips():
    mge.random.seed(1)
    a, b = Net(), Net()
    sd = a.state_dict()
    assert isinstance(sd, OrderedDict)
    # MegEngine's order: a module's own tensors, then each sub-module's, in sorted name order
    assert list(sd)[:4] == ["block.scale", "block.table.a", "block.fc.bias", "block.fc.weight"]
    assert sorted(sd) == sorted(n for n, _ in a.named_tensors())
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["out.weight"][...] = 7  # a copy: the module is untouched
    assert not np.any(a.out.weight.numpy() == 7)
    w_before = b.out.weight
    b.load_state_dict(a.state_dict())
    assert b.out.weight is w_before  # loaded in place: identity kept
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(va, vb, err_msg=k)
    # Tensors are accepted as values too
    b.load_state_dict({k: mge.Tensor(v * 0 + 1) for k, v in a.state_dict().items()})
    assert np.all(b.block.fc.weight.numpy() == 1)


def test_module_and_state_dict_survive_save_and_load(tmp_path):
    net = Net()
    mge.save(net.state_dict(), tmp_path / "sd.pkl")
    mge.save(net, tmp_path / "net.pkl")
    other = Net()
    other.load_state_dict(mge.load(tmp_path / "sd.pkl"))
    whole = mge.load(tmp_path / "net.pkl")
    x = mge.Tensor(np.random.randn(2, 4).astype("float32"))
    np.testing.assert_allclose(other(x).numpy(), net(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(whole(x).numpy(), net(x).numpy(), rtol=1e-6)


def test_load_state_dict_keeps_gradmanager_attachment():
    net = M.Linear(3, 2)
    gm = GradManager().attach(net.parameters())
    net.load_state_dict({k: np.ones_like(v) for k, v in net.state_dict().items()})
    x = mge.Tensor(np.ones((1, 3), "float32"))
    with gm:
        gm.backward(net(x).sum())
    np.testing.assert_allclose(net.weight.grad.numpy(), np.ones((2, 3)))


def test_strict_load_names_every_missing_unexpected_and_misshaped_key_at_once():
    net = Net()
    sd = net.state_dict()
    del sd["out.weight"], sd["block.fc.bias"]
    sd["extra.weight"] = np.zeros(3, "float32")
    sd["block.heads.1.weight"] = np.zeros((5, 5), "float32")
    before = net.block.heads[0].weight.numpy()
    sd["block.heads.0.weight"] = before + 1
    with pytest.raises(KeyError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    for key in ("out.weight", "block.fc.bias", "extra.weight", "block.heads.1.weight"):
        assert key in msg
    assert re.search(r"block\.heads\.1\.weight: expected \(1, 3\), got \(5, 5\)", msg)
    assert isinstance(info.value, ValueError)  # also a ValueError (MegEngine raises both kinds)
    np.testing.assert_array_equal(net.block.heads[0].weight.numpy(), before)  # nothing loaded


def test_non_strict_load_warns_on_missing_and_unexpected_but_still_rejects_bad_shapes():
    net = M.Linear(3, 2)
    with pytest.warns(UserWarning, match="missing keys \\['bias'\\].*unexpected keys \\['x'\\]"):
        net.load_state_dict({"weight": np.ones((2, 3)), "x": np.ones(1)}, strict=False)
    np.testing.assert_array_equal(net.weight.numpy(), np.ones((2, 3)))
    with pytest.raises(ValueError, match="weight: expected \\(2, 3\\), got \\(3, 2\\)"):
        net.load_state_dict({"weight": np.ones((3, 2))}, strict=False)


def test_load_state_dict_with_a_closure():
    net = M.Linear(3, 2)
    with pytest.warns(UserWarning, match="missing keys \\['bias'\\]"):
        net.load_state_dict(lambda key, var: np.full(var.shape, 2.0, "float32")
                            if key == "weight" else None, strict=False)
    assert np.all(net.weight.numpy() == 2)


def test_normalisation_state_is_flat_and_accepts_torch_shaped_values():
    bn = M.BatchNorm2d(3)
    sd = bn.state_dict()
    assert {k: v.shape for k, v in sd.items()} == {
        "bias": (3,), "running_mean": (3,), "running_var": (3,), "weight": (3,)}
    sd["running_var"] = np.arange(3, dtype="float32")
    bn.load_state_dict(sd)
    assert bn.running_var.shape == (1, 3, 1, 1)
    np.testing.assert_array_equal(bn.running_var.numpy().ravel(), [0, 1, 2])


# --------------------------------------------------------------------- hooks / repr
def test_forward_hooks_modify_inputs_and_outputs_and_can_be_removed():
    lin = M.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, inp: (inp[0] * 0,))
    post = lin.register_forward_hook(lambda m, inp, out: calls.append(inp[0].numpy()) or out + 1)
    x = mge.Tensor(np.ones((1, 2), "float32"))
    np.testing.assert_allclose(lin(x).numpy(), lin.bias.numpy()[None] + 1)
    assert np.all(calls[0] == 0)  # the forward hook sees the inputs the pre-hook returned
    pre.remove()
    post.remove()
    post.remove()  # removing twice is harmless
    np.testing.assert_allclose(lin(x).numpy(), F.nn.linear(x, lin.weight, lin.bias).numpy())


def test_repr_is_nested_with_layer_configuration():
    net = M.Sequential(M.Linear(4, 3), M.ReLU(), M.Sequential(M.Linear(3, 2, bias=False)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=2, bias=False)\n"
        "  )\n"
        ")")
    assert "(heads.1): Linear" in repr(Block())
    assert repr(M.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"


# ------------------------------------------------------------------------- Sequential
def test_sequential_positional_and_ordered_dict():
    a, b = M.Linear(2, 3), M.ReLU()
    seq = M.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    named = M.Sequential(OrderedDict(fc=a, act=b))
    assert [n for n, _ in named.named_parameters()] == ["fc.bias", "fc.weight"]
    assert named[0] is a and isinstance(named[:1], M.Sequential) and len(named[:1]) == 1
    x = mge.Tensor(np.random.randn(4, 2).astype("float32"))
    np.testing.assert_allclose(seq(x).numpy(), F.relu(a(x)).numpy())
    seq[1] = M.Identity()
    np.testing.assert_allclose(seq(x).numpy(), a(x).numpy())
    del seq[1]
    assert len(seq) == 1
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    with pytest.raises(TypeError, match="must be a Module"):
        M.Sequential(M.ReLU(), 3)


# ----------------------------------------------------------------- layers vs PyTorch
def _load_into_torch(m, tm):
    """Copy m's parameters and buffers into the torch module of the same names."""
    tsd = tm.state_dict()
    for name, value in m.state_dict().items():
        assert name in tsd, f"torch module has no {name}"
        tsd[name] = torch.tensor(value.reshape(tuple(tsd[name].shape)))
    tm.load_state_dict(tsd)


def check_layer(m, tm, x, atol=1e-5, rtol=1e-4, grad_input=True, param_grads=True):
    """Same weights, same input: forward output, input grad and parameter grads agree."""
    _load_into_torch(m, tm)
    xt = torch.tensor(x, requires_grad=grad_input and x.dtype.kind == "f")
    yt = tm(xt)
    w = np.random.uniform(0.5, 1.5, tuple(yt.shape)).astype("float32")
    (yt * torch.tensor(w)).sum().backward()

    xe = mge.Tensor(x)
    params = list(m.parameters())
    gm = GradManager().attach(params + ([xe] if xt.requires_grad else []))
    with gm:
        ye = m(xe)
        gm.backward((ye * mge.Tensor(w)).sum())
    np.testing.assert_allclose(ye.numpy(), yt.detach().numpy(), atol=atol, rtol=rtol)
    if xt.requires_grad:
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), atol=atol, rtol=rtol)
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters() if param_grads else ():
        tg = tparams[name].grad
        if tg is None:
            assert p.grad is None or np.all(p.grad.numpy() == 0), name
            continue
        np.testing.assert_allclose(p.grad.numpy().reshape(tuple(tg.shape)), tg.numpy(),
                                   atol=atol, rtol=rtol, err_msg=name)


def randn(*shape):
    return np.random.randn(*shape).astype("float32")


def test_linear_matches_torch_and_megengine_init():
    mge.random.seed(0)
    m = M.Linear(64, 32)
    assert m.weight.shape == (32, 64) and m.bias.shape == (32,)
    assert np.all(m.bias.numpy() == 0)
    assert abs(m.weight.numpy().std() - np.sqrt(1 / 64)) < 0.01  # N(0, 1 / fan_in)
    check_layer(m, torch.nn.Linear(64, 32), randn(5, 64))
    check_layer(M.Linear(6, 3, bias=False), torch.nn.Linear(6, 3, bias=False), randn(2, 4, 6))


@pytest.mark.parametrize("layer,tlayer", [
    (M.ReLU(), torch.nn.ReLU()), (M.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)),
    (M.GELU(), torch.nn.GELU()), (M.SiLU(), torch.nn.SiLU()), (M.Sigmoid(), torch.nn.Sigmoid()),
    (M.Softmax(), torch.nn.Softmax(dim=1)), (M.Softmax(axis=-1), torch.nn.Softmax(dim=-1)),
    (M.Identity(), torch.nn.Identity()),
], ids=lambda v: type(v).__name__ if isinstance(v, M.Module) else None)
def test_activation_matches_torch(layer, tlayer):
    check_layer(layer, tlayer, randn(3, 5, 4))


def test_layer_norm_matches_torch():
    check_layer(M.LayerNorm((4, 5)), torch.nn.LayerNorm((4, 5)), randn(3, 4, 5), atol=1e-4)
    check_layer(M.LayerNorm(5, affine=False), torch.nn.LayerNorm(5, elementwise_affine=False),
                randn(2, 5))


def test_embedding_matches_torch_and_freeze_stops_gradients():
    m = M.Embedding(10, 4)
    idx = np.array([[1, 2, 2], [9, 0, 1]], dtype=np.int32)
    tm = torch.nn.Embedding(10, 4)
    _load_into_torch(m, tm)
    check_layer(m, tm, idx.astype(np.int64), grad_input=False)
    frozen = M.Embedding.from_pretrained(m.weight)
    gm = GradManager().attach(frozen.parameters())
    with gm:
        gm.backward(frozen(mge.Tensor(idx)).sum())
    assert frozen.weight.grad is None
    with pytest.raises(TypeError, match="Embedding: indices must be an integer tensor"):
        m(mge.Tensor(np.zeros(3, "float32")))


def test_dropout_scales_kept_values_in_training_and_is_identity_in_eval():
    mge.random.seed(3)
    d = M.Dropout(0.25)
    x = mge.Tensor(np.ones((200, 50), "float32"))
    y = d(x).numpy()
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], rtol=1e-6)
    assert abs((y == 0).mean() - 0.25) < 0.02
    d.eval()
    assert d(x) is x
    with pytest.raises(ValueError, match="Dropout: drop_prob must be in"):
        M.Dropout(1.0)


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3, padding=1),
    dict(kernel_size=(3, 2), stride=2, padding=(1, 0), dilation=(2, 1), bias=False),
    dict(kernel_size=3, groups=2, stride=1, padding=1),
])
def test_conv2d_matches_torch(kw):
    m = M.Conv2d(4, 6, **kw)
    g = kw.get("groups", 1)
    kh, kw_ = m.kernel_size
    assert m.weight.shape == ((6, 4, kh, kw_) if g == 1 else (g, 6 // g, 4 // g, kh, kw_))
    if m.bias is not None:
        assert m.bias.shape == (1, 6, 1, 1)
    check_layer(m, torch.nn.Conv2d(4, 6, **kw), randn(2, 4, 9, 8), atol=1e-4)


def test_conv2d_reflect_padding_matches_torch():
    check_layer(M.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), randn(1, 2, 6, 5),
                atol=1e-4)


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3, stride=2, padding=1, output_padding=1),
    dict(kernel_size=(2, 3), groups=2, dilation=(1, 2), bias=False),
])
def test_conv_transpose2d_matches_torch(kw):
    m = M.ConvTranspose2d(4, 6, **kw)
    g = kw.get("groups", 1)
    kh, kw_ = m.kernel_size
    assert m.weight.shape == ((4, 6, kh, kw_) if g == 1 else (g, 4 // g, 6 // g, kh, kw_))
    check_layer(m, torch.nn.ConvTranspose2d(4, 6, **kw), randn(2, 4, 5, 6), atol=1e-4)


@pytest.mark.parametrize("cls,tcls,shape", [
    (M.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 6)),
    (M.BatchNorm1d, torch.nn.BatchNorm1d, (8, 3)),
    (M.BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 7)),
])
def test_batch_norm_matches_torch_in_train_and_eval(cls, tcls, shape):
    m, tm = cls(3), tcls(3, momentum=0.1)  # MegEngine's 0.9 is PyTorch's 0.1
    _load_into_torch(m, tm)
    for _ in range(2):  # two training steps move the running statistics
        check_layer(m, tm, randn(*shape) * 2 + 1, atol=1e-4)
    np.testing.assert_allclose(m.running_mean.numpy().ravel(), tm.running_mean.numpy(),
                               atol=1e-5)
    np.testing.assert_allclose(m.running_var.numpy().ravel(), tm.running_var.numpy(),
                               atol=1e-4)
    m.eval()
    tm.eval()
    check_layer(m, tm, randn(*shape), atol=1e-4)


def test_batch_norm_without_running_stats_and_frozen():
    m, tm = M.BatchNorm2d(3, track_running_stats=False), torch.nn.BatchNorm2d(
        3, track_running_stats=False)
    m.eval()
    tm.eval()
    check_layer(m, tm, randn(2, 3, 4, 4), atol=1e-4)  # batch statistics even in eval
    frozen = M.BatchNorm2d(3, freeze=True)
    frozen.running_mean._reset(mge.Tensor(randn(1, 3, 1, 1)))
    frozen.running_var._reset(mge.Tensor(np.abs(randn(1, 3, 1, 1)) + 0.5))
    tm = torch.nn.BatchNorm2d(3).eval()
    check_layer(frozen, tm, randn(2, 3, 4, 4), atol=1e-4, param_grads=False)
    assert frozen.weight.grad is None and frozen.bias.grad is None


def test_group_norm_matches_torch():
    m = M.GroupNorm(2, 6)
    assert m.weight.shape == (6,)
    check_layer(m, torch.nn.GroupNorm(2, 6), randn(3, 6, 4, 5), atol=1e-4)


def test_max_pool2d_matches_torch():
    check_layer(M.MaxPool2d(3, stride=2, padding=1), torch.nn.MaxPool2d(3, 2, 1),
                randn(2, 3, 9, 8))
    assert M.MaxPool2d(2).stride == 2


def test_avg_pool2d_matches_torch():
    check_layer(M.AvgPool2d(3, stride=2, padding=1),
                torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False), randn(2, 3, 9, 8))
    check_layer(M.AvgPool2d(2, mode="average", padding=1),
                torch.nn.AvgPool2d(2, padding=1, count_include_pad=True), randn(1, 2, 5, 5))


def test_adaptive_avg_pool2d_matches_torch():
    check_layer(M.AdaptiveAvgPool2d((3, 2)), torch.nn.AdaptiveAvgPool2d((3, 2)),
                randn(2, 3, 9, 8))


def test_layers_reject_bad_configuration_with_clear_errors():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) and out_channels \(4\) "
                                         r"must both be divisible by groups \(2\)"):
        M.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv2d: stride must be positive"):
        M.Conv2d(2, 2, 3, stride=0)
    with pytest.raises(ValueError, match="GroupNorm: num_channels \\(5\\) must be divisible"):
        M.GroupNorm(2, 5)
    with pytest.raises(ValueError, match="BatchNorm2d: expected a 4-D input, got shape"):
        M.BatchNorm2d(3)(mge.Tensor(np.ones((2, 3), "float32")))
    with pytest.raises(ValueError, match="Linear: in_features must be a positive int"):
        M.Linear(0, 2)
