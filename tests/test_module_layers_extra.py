"""The layers added for MegEngine's whole engine.module surface, against torch where torch has
the same layer (same weights, same input: outputs and gradients), else against numpy."""
import numpy as np
import pytest
from test_module import check_layer, randn

import engine as mge
import engine.functional as F
import engine.module as M
from engine.autodiff import GradManager

torch = pytest.importorskip("torch")


def test_prelu_matches_torch():
    check_layer(M.PReLU(), torch.nn.PReLU(), randn(2, 3, 4, 4))
    m = M.PReLU(3, init=0.1)
    assert m.weight.shape == (1, 3, 1, 1)
    check_layer(m, torch.nn.PReLU(3, init=0.1), randn(2, 3, 4, 4))
    check_layer(M.PReLU(3), torch.nn.PReLU(3), randn(5, 3))


def test_instance_norm_matches_torch():
    check_layer(M.InstanceNorm(3), torch.nn.InstanceNorm2d(3, affine=True), randn(2, 3, 5, 4),
                atol=1e-4)
    check_layer(M.InstanceNorm(3, affine=False), torch.nn.InstanceNorm1d(3), randn(2, 3, 6),
                atol=1e-4)


def test_general_norm_matches_torch_layer_norm_on_trailing_axes():
    check_layer(M.GeneralNorm((4, 5), (1, 2)), torch.nn.LayerNorm((4, 5)), randn(3, 4, 5),
                atol=1e-4)
    # normalising over (0, 2) is a layer norm of the transposed input
    m = M.GeneralNorm((3, 5), (0, -1))
    x = randn(3, 4, 5)
    y = m(mge.tensor(x)).numpy()
    ref = torch.nn.functional.layer_norm(torch.tensor(x).permute(1, 0, 2), (3, 5))
    np.testing.assert_allclose(y, ref.permute(1, 0, 2).numpy(), atol=1e-5)


def test_local_response_norm_matches_torch():
    # torch divides alpha by the window size; MegEngine's LRN does not
    check_layer(M.LocalResponseNorm(5, k=2.0, alpha=0.2, beta=0.75),
                torch.nn.LocalResponseNorm(5, alpha=1.0, beta=0.75, k=2.0), randn(2, 7, 3, 3))


def test_sync_batch_norm_matches_torch_batch_norm_over_several_steps():
    m = M.SyncBatchNorm(3, momentum=0.9, group=None)
    tm = torch.nn.BatchNorm2d(3, momentum=0.1)
    for _ in range(3):
        check_layer(m, tm, randn(4, 3, 2, 2), atol=1e-4)
    np.testing.assert_allclose(m.running_mean.numpy().reshape(3), tm.running_mean.numpy(),
                               atol=1e-5)
    m.eval()
    tm.eval()
    check_layer(m, tm, randn(2, 3, 2, 2), atol=1e-4)
    assert M.SyncBatchNorm(4)(mge.tensor(randn(5, 4))).shape == (5, 4)


def test_pixel_shuffle_and_adaptive_max_pool_match_torch():
    check_layer(M.PixelShuffle(2), torch.nn.PixelShuffle(2), randn(2, 8, 3, 3))
    check_layer(M.AdaptiveMaxPool2d((2, 3)), torch.nn.AdaptiveMaxPool2d((2, 3)),
                randn(2, 3, 4, 6))


def test_multi_head_attention_matches_torch():
    e, h = 8, 2
    m = M.MultiHeadAttention(e, h)
    tm = torch.nn.MultiheadAttention(e, h, batch_first=True)
    flat = m.io_weight_bias.numpy()[0]
    ws = [flat[i * e * e:(i + 1) * e * e].reshape(e, e) for i in range(4)]
    bs = [flat[4 * e * e + i * e:4 * e * e + (i + 1) * e] for i in range(4)]
    with torch.no_grad():  # torch keeps (out, in) weights: ours transposed
        tm.in_proj_weight.copy_(torch.tensor(np.concatenate([w.T for w in ws[:3]])))
        tm.in_proj_bias.copy_(torch.tensor(np.concatenate(bs[:3])))
        tm.out_proj.weight.copy_(torch.tensor(ws[3].T))
        tm.out_proj.bias.copy_(torch.tensor(bs[3]))
    q, k = randn(2, 3, e), randn(2, 5, e)
    qe, ke = mge.tensor(q), mge.tensor(k)
    gm = GradManager().attach([qe, m.io_weight_bias])
    with gm:
        out, weights = m(qe, ke, ke, need_weights=True, average_attn_weights=True)
        gm.backward(out.sum())
    qt = torch.tensor(q, requires_grad=True)
    tout, tweights = tm(qt, torch.tensor(k), torch.tensor(k), need_weights=True)
    tout.sum().backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(weights.numpy(), tweights.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(qe.grad.numpy(), qt.grad.numpy(), atol=1e-5)
    grad_wo = m.io_weight_bias.grad.numpy()[0, 3 * e * e:4 * e * e].reshape(e, e)
    np.testing.assert_allclose(grad_wo.T, tm.out_proj.weight.grad.numpy(), atol=1e-5)


def test_multi_head_attention_init_and_errors():
    m = M.MultiHeadAttention(4, 2, attn_dropout=0.5, kdim=6, vdim=3)
    assert m.io_weight_bias.shape == (1, (4 + 6 + 3 + 4) * 4 + 16)
    assert m.attn_dropout == 0.0  # MegEngine's reset_parameters zeroes the dropouts
    assert np.all(m.io_weight_bias.numpy()[0, -16:] == 0)
    with pytest.raises(ValueError, match="embed_dim \\(5\\) must be divisible"):
        M.MultiHeadAttention(5, 2)


def test_elemwise_modes():
    a, b, c = mge.tensor([1.0, -3.0]), mge.tensor([2.0, 1.0]), mge.tensor([0.5, 0.5])
    np.testing.assert_allclose(M.Elemwise("ADD")(a, b).numpy(), [3.0, -2.0])
    np.testing.assert_allclose(M.Elemwise("fuse_add_relu")(a, b).numpy(), [3.0, 0.0])
    np.testing.assert_allclose(M.Elemwise("fuse_mul_add3")(a, b, c).numpy(), [2.5, -2.5])
    np.testing.assert_allclose(M.Elemwise("true_div")(a, b).numpy(), [0.5, -3.0])
    np.testing.assert_allclose(M.Elemwise("h_swish")(a).numpy(), F.hswish(a).numpy())
    with pytest.raises(ValueError, match="Elemwise: unknown method 'nope'"):
        M.Elemwise("nope")


def test_pad_and_concat():
    x = mge.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(M.Pad(((1, 1), (1, 2)), mode="reflect")(x).numpy(),
                                  np.pad(x.numpy(), ((1, 1), (1, 2)), mode="reflect"))
    np.testing.assert_array_equal(M.Pad(((0, 1),), constant_val=7)(x).numpy(),
                                  np.pad(x.numpy(), ((0, 1), (0, 0)), constant_values=7))
    np.testing.assert_array_equal(M.Concat()([x, x], axis=1).numpy(),
                                  np.concatenate([x.numpy()] * 2, 1))


def test_init_full_follows_the_value():
    assert M.init.full((2,), 3).dtype == np.int32
    assert M.init.full((2,), 1.5).dtype == np.float32
    assert M.init.full((2,), 3, dtype="float32").dtype == np.float32


def test_new_layers_survive_save_and_load(tmp_path):
    net = M.Sequential(M.Elemwise("relu"), M.PReLU(), M.Pad(((0, 1),)), M.PixelShuffle(1))
    path = tmp_path / "net.mge"
    mge.save(net, str(path))
    back = mge.load(str(path))
    x = mge.tensor(randn(1, 1, 2, 2))
    np.testing.assert_array_equal(back(x).numpy(), net(x).numpy())
