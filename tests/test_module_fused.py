"""The fused float modules (ConvBn2d, ConvBnRelu2d, ConvRelu2d, ConvTranspose{Bn,BnRelu,Relu}2d,
LinearRelu, LinearBn1d, LinearBnRelu1d), BatchMatMulActivation and Quant/DequantStub: MegEngine's
submodule and state_dict names, and outputs, gradients and running statistics equal to the same
layers composed in torch with the same weights."""
import numpy as np
import pytest

import engine as mge
import engine.module as M
from engine.autodiff import GradManager

torch = pytest.importorskip("torch")
tnn = torch.nn


def randn(*shape):
    return np.random.randn(*shape).astype("float32")


def torch_twin(m):
    """The torch modules equivalent to the engine module m, loaded with m's weights."""
    if isinstance(m, (M.ConvRelu2d, M.ConvTransposeRelu2d)):
        conv, bn, relu = m, None, True
    elif isinstance(m, (M.LinearRelu,)):
        conv, bn, relu = m, None, True
    else:
        conv = getattr(m, "conv", None) or getattr(m, "conv_transpose2d", None) or m.linear
        bn, relu = m.bn, type(m).__name__.endswith(("Relu2d", "Relu1d"))
    if isinstance(conv, M.ConvTranspose2d):
        t = tnn.ConvTranspose2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                                conv.stride, conv.padding, conv.output_padding, conv.groups,
                                conv.bias is not None, conv.dilation)
    elif isinstance(conv, M.Conv2d):
        t = tnn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                       conv.padding, conv.dilation, conv.groups, conv.bias is not None)
    else:
        t = tnn.Linear(conv.in_features, conv.out_features, conv.bias is not None)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(conv.weight.numpy().reshape(t.weight.shape)))
        if conv.bias is not None:
            t.bias.copy_(torch.tensor(conv.bias.numpy().reshape(-1)))
    layers = [t]
    if bn is not None:
        tb = (tnn.BatchNorm1d if isinstance(bn, M.BatchNorm1d) else tnn.BatchNorm2d)(
            bn.num_features, bn.eps, 1 - bn.momentum)
        with torch.no_grad():
            tb.weight.copy_(torch.tensor(bn.weight.numpy().reshape(-1) + randn(bn.num_features)))
            tb.bias.copy_(torch.tensor(randn(bn.num_features)))
        bn.weight[...] = mge.tensor(tb.weight.detach().numpy().reshape(bn.weight.shape))
        bn.bias[...] = mge.tensor(tb.bias.detach().numpy().reshape(bn.bias.shape))
        layers.append(tb)
    if relu:
        layers.append(tnn.ReLU())
    return tnn.Sequential(*layers), conv, bn


def check(m, x, steps=2):
    tm, conv, bn = torch_twin(m)
    for mode in ["train"] * steps + ["eval"]:
        m.train(mode == "train")
        tm.train(mode == "train")
        xt = torch.tensor(x, requires_grad=True)
        yt = tm(xt)
        w = randn(*yt.shape)
        (yt * torch.tensor(w)).sum().backward()
        xe = mge.Tensor(x)
        params = list(m.parameters())
        gm = GradManager().attach(params + [xe])
        with gm:
            ye = m(xe)
            gm.backward((ye * mge.Tensor(w)).sum())
        np.testing.assert_allclose(ye.numpy(), yt.detach().numpy(), atol=1e-4, rtol=1e-4)
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), atol=1e-4, rtol=1e-4)
        np.testing.assert_allclose(conv.weight.grad.numpy().reshape(tm[0].weight.shape),
                                   tm[0].weight.grad.numpy(), atol=1e-4, rtol=1e-4)
        if bn is not None:
            np.testing.assert_allclose(bn.weight.grad.numpy().reshape(-1),
                                       tm[1].weight.grad.numpy(), atol=1e-4, rtol=1e-4)
            np.testing.assert_allclose(bn.running_mean.numpy().reshape(-1),
                                       tm[1].running_mean.numpy(), atol=1e-5, rtol=1e-5)
            np.testing.assert_allclose(bn.running_var.numpy().reshape(-1),
                                       tm[1].running_var.numpy(), atol=1e-5, rtol=1e-5)
        tm.zero_grad()
        for p in params:
            p.grad = None


CONV_CASES = [
    (M.ConvBn2d, dict(kernel_size=3, padding=1)),
    (M.ConvBnRelu2d, dict(kernel_size=3, stride=2, bias=False, groups=2)),
    (M.ConvRelu2d, dict(kernel_size=(3, 1), padding=(1, 0), dilation=1)),
    (M.ConvTransposeBn2d, dict(kernel_size=3, stride=2, output_padding=1)),
    (M.ConvTransposeBnRelu2d, dict(kernel_size=2, padding=0)),
    (M.ConvTransposeRelu2d, dict(kernel_size=3, stride=2, padding=1)),
]


@pytest.mark.parametrize("cls,kw", CONV_CASES, ids=[c.__name__ for c, _ in CONV_CASES])
def test_fused_conv_modules_match_torch_compositions(cls, kw):
    check(cls(4, 6, **kw), randn(3, 4, 7, 6))


@pytest.mark.parametrize("cls", [M.LinearRelu, M.LinearBn1d, M.LinearBnRelu1d])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_linear_modules_match_torch_compositions(cls, bias):
    check(cls(5, 7, bias=bias), randn(8, 5))


def test_state_dict_names_are_megengine_s():
    # the keys MegEngine 1.13 gives the same modules
    assert sorted(M.ConvBn2d(3, 4, 3).state_dict()) == [
        "bn.bias", "bn.running_mean", "bn.running_var", "bn.weight", "conv.bias", "conv.weight"]
    assert sorted(M.ConvTransposeBnRelu2d(3, 4, 3).state_dict()) == [
        "bn.bias", "bn.running_mean", "bn.running_var", "bn.weight", "conv_transpose2d.bias",
        "conv_transpose2d.weight"]
    assert sorted(M.LinearBn1d(3, 4).state_dict()) == [
        "bias", "bn.bias", "bn.running_mean", "bn.running_var", "bn.weight", "linear.bias",
        "linear.weight"]
    assert sorted(M.LinearBnRelu1d(3, 4, bias=False).state_dict()) == [
        "bn.bias", "bn.running_mean", "bn.running_var", "bn.weight", "linear.weight"]
    assert sorted(M.ConvRelu2d(3, 4, 3).state_dict()) == ["bias", "weight"]
    assert sorted(M.LinearRelu(3, 4).state_dict()) == ["bias", "weight"]
    assert sorted(M.BatchMatMulActivation(2, 3, 4).state_dict()) == ["bias", "weight"]
    assert repr(M.ConvBn2d(3, 4, 3)).startswith("ConvBn2d(\n  (conv): Conv2d(")


def test_a_conv_and_a_batchnorm_checkpoint_load_into_convbn2d():
    conv, bn = M.Conv2d(3, 4, 3), M.BatchNorm2d(4)
    bn.running_mean[...] = mge.tensor(randn(1, 4, 1, 1))
    state = {"conv." + k: v for k, v in conv.state_dict().items()}
    state.update({"bn." + k: v for k, v in bn.state_dict().items()})
    fused = M.ConvBn2d(3, 4, 3)
    fused.load_state_dict(state)
    fused.eval()
    bn.eval()
    x = mge.Tensor(randn(2, 3, 6, 6))
    np.testing.assert_allclose(fused(x).numpy(), bn(conv(x)).numpy(), atol=1e-6)


@pytest.mark.parametrize("mode", ["identity", "RELU"])
@pytest.mark.parametrize("bias", [True, False])
def test_batch_matmul_activation_matches_torch(mode, bias):
    m = M.BatchMatMulActivation(3, 5, 4, bias=bias, nonlinear_mode=mode)
    if bias:
        m.bias[...] = mge.tensor(randn(4))
    x = randn(3, 5, 4)
    w, b = (torch.tensor(m.weight.numpy(), requires_grad=True),
            torch.tensor(m.bias.numpy(), requires_grad=True) if bias else None)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.bmm(w, xt) + (b if bias else 0)
    yt = torch.relu(yt) if mode == "RELU" else yt
    gy = randn(*yt.shape)
    (yt * torch.tensor(gy)).sum().backward()
    xe = mge.Tensor(x)
    gm = GradManager().attach(list(m.parameters()) + [xe])
    with gm:
        ye = m(xe)
        gm.backward((ye * mge.Tensor(gy)).sum())
    np.testing.assert_allclose(ye.numpy(), yt.detach().numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(m.weight.grad.numpy(), w.grad.numpy(), atol=1e-5, rtol=1e-5)
    if bias:
        np.testing.assert_allclose(m.bias.grad.numpy(), b.grad.numpy(), atol=1e-5, rtol=1e-5)
    assert m.weight.shape == (3, 4, 5)


def test_batch_matmul_activation_rejects_bad_inputs():
    m = M.BatchMatMulActivation(2, 3, 4)
    with pytest.raises(ValueError, match="BatchMatMulActivation: expected an input of shape "
                                         "\\(batch=2, in_features=3, K\\), got \\(2, 5, 4\\)"):
        m(mge.Tensor(randn(2, 5, 4)))
    with pytest.raises(ValueError, match="needs K == out_features"):
        m(mge.Tensor(randn(2, 3, 6)))
    assert M.BatchMatMulActivation(2, 3, 4, bias=False)(mge.Tensor(randn(2, 3, 6))).shape == (
        2, 4, 6)
    with pytest.raises(ValueError, match="nonlinear_mode must be 'identity' or 'relu'"):
        M.BatchMatMulActivation(2, 3, 4, nonlinear_mode="sigmoid")


def test_quant_and_dequant_stubs_are_identity_in_float_mode():
    x = mge.Tensor(randn(2, 3))
    net = M.Sequential(M.QuantStub(), M.Linear(3, 2), M.DequantStub())
    assert M.QuantStub()(x) is x and M.DequantStub(name="dq")(x) is x
    np.testing.assert_array_equal(net(x).numpy(), net[1](x).numpy())
    assert list(M.QuantStub().parameters()) == []
