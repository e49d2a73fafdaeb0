"""Pooling and normalisation: op-table rows against float64 numpy references (forward and
finite-difference gradients), then comparisons with PyTorch (forward, gradients, running
statistics, second-order gradients) over odd sizes, strides, padding and empty batches."""
import numpy as np
import pytest
from optable import Case, U, check_case, distinct, gens

import engine as mge
import engine.functional as F
from engine.autodiff import GradManager
from engine.ops import norm as N
from engine.ops import pooling as P
from engine.ops.nn import AddRelu

torch = pytest.importorskip("torch")
TF = torch.nn.functional


# ----------------------------------------------------------------- float64 numpy references
def pool_ref(x, kernel, stride, padding, mode):
    """mode "max", "average" (divisor counts padding) or "average_count_exclude_padding"."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x.shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    inside = np.pad(np.ones((h, w)), ((ph, ph), (pw, pw)))
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            if mode == "max":
                out[:, :, i, j] = win.max((2, 3))
            elif mode == "average":
                out[:, :, i, j] = win.sum((2, 3)) / (kh * kw)
            else:
                count = inside[i * sh:i * sh + kh, j * sw:j * sw + kw].sum()
                out[:, :, i, j] = win.sum((2, 3)) / count
    return out


def adaptive_ref(x, oshp, mode):
    """MegEngine's rule: stride = in // out, kernel = in - (out - 1) * stride."""
    h, w = x.shape[2:]
    stride = (h // oshp[0], w // oshp[1])
    kernel = (h - (oshp[0] - 1) * stride[0], w - (oshp[1] - 1) * stride[1])
    return pool_ref(x, kernel, stride, (0, 0), mode)


def max_scatter_ref(x, dy, kernel, stride, padding):
    """dx of max pooling: dy added at each window's first maximum."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    dx = np.zeros_like(x)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            y0, x0 = i * sh - ph, j * sw - pw
            ys, xs = slice(max(y0, 0), min(y0 + kh, h)), slice(max(x0, 0), min(x0 + kw, w))
            win = x[:, :, ys, xs].reshape(n, c, -1)
            k = win.argmax(2)
            wy, wx = np.divmod(k, xs.stop - xs.start)
            for a in range(n):
                for b in range(c):
                    dx[a, b, ys.start + wy[a, b], xs.start + wx[a, b]] += dy[a, b, i, j]
    return dx


def bn_ref(x, w, b, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


def gn_ref(x, groups, w, b, eps=1e-5):
    n, c = x.shape[:2]
    xg = x.reshape(n, groups, -1)
    y = ((xg - xg.mean(2, keepdims=True)) / np.sqrt(xg.var(2, keepdims=True) + eps))
    shape = (1, c) + (1,) * (x.ndim - 2)
    return y.reshape(x.shape) * w.reshape(shape) + b.reshape(shape)


def ln_ref(x, ndims, w, b, eps=1e-5):
    axes = tuple(range(x.ndim - ndims, x.ndim))
    mu, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


# --------------------------------------------------------------------------- the op table
K3S2P1 = dict(kernel=(3, 3), stride=(2, 2), padding=(1, 1))


def _argmax_of(x, geom):
    return P.MaxPool2d.apply(x.detach(), **geom)[1]


def _gather(x):
    return P.MaxPool2dGather.apply(x, _argmax_of(x, K3S2P1), **K3S2P1)


def _scatter(x, dy):
    return P.MaxPool2dGrad.apply(dy, _argmax_of(x, K3S2P1), in_hw=x.shape[2:], **K3S2P1)


def _avg_grad(dy):
    return P.AvgPool2dGrad.apply(dy, in_hw=(5, 6), kernel=(3, 2), stride=(2, 2), padding=(1, 1),
                                 count_include_pad=False)


def _avg_grad_ref(dy):
    """dx of avg pooling by its definition: the transpose of the forward's linear map."""
    n, c = dy.shape[:2]
    jac = np.stack([pool_ref(e.reshape(1, 1, 5, 6), (3, 2), (2, 2), (1, 1),
                             "average_count_exclude_padding").ravel() for e in np.eye(30)])
    return (dy.reshape(n * c, -1) @ jac.T).reshape(n, c, 5, 6)


def _nchw_param(v):
    return v.reshape(1, -1, 1, 1)


def _bn_relu(x, w, b):
    return N.BatchNormRelu.apply(x, w, b, eps=1e-5)[0]


def _bn_relu_grad(x, dz, w, b):
    z, mean, var = N.BatchNormRelu.apply(x, w, b, eps=1e-5)
    return N.BatchNormReluGrad.apply(x, dz, z, mean, var, w, eps=1e-5, need_dx=True)[0]


def _bn_relu_grad_ref(x, dz, w, b, eps=1e-5):
    """d/dx of sum(dz * relu(bn(x))), float64."""
    axes, shape = (0, 2, 3), (1, -1, 1, 1)
    xhat = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    g = np.where(xhat * w.reshape(shape) + b.reshape(shape) > 0, dz, 0) * w.reshape(shape)
    rstd = 1 / np.sqrt(x.var(axes, keepdims=True) + eps)
    return rstd * (g - g.mean(axes, keepdims=True) -
                   xhat * (g * xhat).mean(axes, keepdims=True))


CASES = [
    Case("max_pool2d", gens(distinct(2, 3, 7, 6)), lambda x: F.max_pool2d(x, 3, 2, 1),
         lambda x: pool_ref(x, (3, 3), (2, 2), (1, 1), "max"), ("MaxPool2d", "MaxPool2dGrad"),
         grad=(0,)),
    Case("max_pool2d_stride_gt_kernel", gens(distinct(1, 2, 9, 8)),
         lambda x: F.max_pool2d(x, (2, 3), stride=(3, 4)),
         lambda x: pool_ref(x, (2, 3), (3, 4), (0, 0), "max"), ("MaxPool2d",), grad=(0,)),
    Case("max_pool2d_gather", gens(distinct(2, 2, 6, 5)), _gather,
         lambda x: pool_ref(x, (3, 3), (2, 2), (1, 1), "max"),
         ("MaxPool2dGather", "MaxPool2dGrad"), grad=(0,)),
    Case("max_pool2d_grad", gens(distinct(2, 2, 6, 5), U(2, 2, 3, 3)), _scatter,
         lambda x, dy: max_scatter_ref(x, dy, (3, 3), (2, 2), (1, 1)),
         ("MaxPool2dGrad", "MaxPool2dGather"), grad=(1,)),
    Case("avg_pool2d_exclude_pad", gens(U(2, 3, 7, 6)), lambda x: F.avg_pool2d(x, 3, 2, 1),
         lambda x: pool_ref(x, (3, 3), (2, 2), (1, 1), "average_count_exclude_padding"),
         ("AvgPool2d", "AvgPool2dGrad"), grad=(0,)),
    Case("avg_pool2d_include_pad", gens(U(2, 2, 5, 7)),
         lambda x: F.avg_pool2d(x, (2, 3), (1, 2), (1, 1), mode="average"),
         lambda x: pool_ref(x, (2, 3), (1, 2), (1, 1), "average"), ("AvgPool2d",), grad=(0,)),
    Case("avg_pool2d_grad", gens(U(2, 2, 3, 4)), _avg_grad, _avg_grad_ref,
         ("AvgPool2dGrad", "AvgPool2d"), grad=(0,)),
    Case("adaptive_avg_pool2d", gens(U(2, 3, 7, 9)), lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
         lambda x: adaptive_ref(x, (3, 4), "average"), ("AvgPool2d",), grad=(0,)),
    Case("adaptive_max_pool2d", gens(distinct(2, 2, 8, 5)),
         lambda x: F.adaptive_max_pool2d(x, 2), lambda x: adaptive_ref(x, (2, 2), "max"),
         ("MaxPool2d",), grad=(0,)),
    Case("batch_norm_train", gens(U(4, 3, 5, 3), U(3, lo=0.5, hi=1.5), U(3)),
         lambda x, w, b: F.batch_norm(x, weight=_nchw_param(w), bias=_nchw_param(b),
                                      training=True),
         bn_ref, ("BatchNorm", "BatchNormGrad"), grad=(0, 1, 2), atol=1e-5),
    # (the fused pair a traced training step uses, engine/jit/passes.py)
    Case("batch_norm_relu", gens(U(4, 3, 5, 3), U(3, lo=0.5, hi=1.5), U(3)), _bn_relu,
         lambda x, w, b: np.maximum(bn_ref(x, w, b), 0), ("BatchNormRelu", "ReluGrad"),
         grad=(0, 1, 2), atol=1e-5),
    Case("batch_norm_relu_grad", gens(U(4, 3, 5, 3), U(4, 3, 5, 3), U(3, lo=0.5, hi=1.5), U(3)),
         _bn_relu_grad, _bn_relu_grad_ref, ("BatchNormRelu", "BatchNormReluGrad"), grad=(),
         atol=1e-4),
    Case("add_relu", gens(U(2, 3, 4, 5), U(2, 3, 4, 5)), lambda a, b: AddRelu.apply(a, b),
         lambda a, b: np.maximum(a + b, 0), ("AddRelu", "ReluGrad"), grad=(0, 1)),
    Case("batch_norm_1d", gens(U(6, 4), U(4, lo=0.5, hi=1.5), U(4)),
         lambda x, w, b: F.batch_norm(x, weight=w, bias=b, training=True),
         bn_ref, ("BatchNorm", "BatchNormGrad"), grad=(0, 1, 2), atol=1e-5),
    Case("batch_norm_eval", gens(U(3, 4, 3, 2), U(4), U(4, lo=0.5, hi=2), U(4), U(4)),
         lambda x, m, v, w, b: F.batch_norm(x, _nchw_param(m), _nchw_param(v), w, b),
         lambda x, m, v, w, b: (x - _nchw_param(m)) / np.sqrt(_nchw_param(v) + 1e-5)
         * _nchw_param(w) + _nchw_param(b), ("Pow", "Mul"), grad=(0, 1, 2, 3, 4), atol=1e-5),
    Case("group_norm", gens(U(3, 6, 4, 3), U(6, lo=0.5, hi=1.5), U(6)),
         lambda x, w, b: F.nn.group_norm(x, 3, True, w, b), lambda x, w, b: gn_ref(x, 3, w, b),
         ("GroupNorm", "GroupNormGrad"), grad=(0, 1, 2), atol=1e-5),
    Case("layer_norm_2d_shape", gens(U(3, 4, 5), U(4, 5, lo=0.5, hi=1.5), U(4, 5)),
         lambda x, w, b: F.nn.layer_norm(x, (4, 5), True, w, b),
         lambda x, w, b: ln_ref(x, 2, w, b), ("GroupNorm", "GroupNormGrad"), grad=(0, 1, 2),
         atol=1e-5),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op(case, device, monkeypatch):
    if device != "cpu0":
        pytest.skip("pooling and normalisation have CPU kernels only so far")
    check_case(case, device, monkeypatch)


# ------------------------------------------------------------------ against PyTorch
def _grads(fn, arrays, weights, attach):
    """Output of fn(*tensors) and the gradients of sum(out * weights) w.r.t. `attach` inputs."""
    xs = [mge.tensor(a) for a in arrays]
    gm = GradManager().attach([xs[i] for i in attach])
    with gm:
        out = fn(*xs)
        gm.backward((out * mge.tensor(weights)).sum())
    return out.numpy(), [xs[i].grad.numpy() for i in attach]


def _torch_grads(fn, arrays, weights, attach):
    ts = [torch.tensor(a, requires_grad=i in attach) for i, a in enumerate(arrays)]
    out = fn(*ts)
    (out * torch.tensor(weights)).sum().backward()
    return out.detach().numpy(), [ts[i].grad.numpy() for i in attach]


def _compare(ours, theirs, arrays, attach=(0,), tol=1e-5, seed=0):
    out_shape = theirs(*[torch.tensor(a) for a in arrays]).shape
    weights = np.random.default_rng(seed).uniform(0.5, 1.5, tuple(out_shape)).astype(np.float32)
    got, got_g = _grads(ours, arrays, weights, attach)
    want, want_g = _torch_grads(theirs, arrays, weights, attach)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    for g, w in zip(got_g, want_g):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


POOLS = [
    # (input shape, kernel, stride, padding)
    ((2, 3, 7, 9), 3, 2, 1),
    ((1, 2, 11, 6), (3, 2), (4, 3), (1, 0)),   # stride > kernel
    ((2, 2, 5, 5), 1, 1, 0),                   # 1x1
    ((2, 1, 4, 6), 1, 2, 0),                   # 1x1 with stride
    ((3, 2, 8, 8), 2, None, 0),                # stride defaults to the kernel
    ((1, 1, 3, 3), 3, 1, 1),                   # kernel as large as the input
    ((0, 3, 6, 6), 3, 2, 1),                   # empty batch
]


@pytest.mark.parametrize("shape,k,s,p", POOLS)
def test_max_pool2d_matches_torch(shape, k, s, p):
    _compare(lambda x: F.max_pool2d(x, k, s, p), lambda x: TF.max_pool2d(x, k, s, p),
             [_rand(*shape)])


@pytest.mark.parametrize("mode", ["average", "average_count_exclude_padding"])
@pytest.mark.parametrize("shape,k,s,p", POOLS)
def test_avg_pool2d_matches_torch(shape, k, s, p, mode):
    include = mode == "average"
    _compare(lambda x: F.avg_pool2d(x, k, s, p, mode=mode),
             lambda x: TF.avg_pool2d(x, k, s, p, count_include_pad=include), [_rand(*shape)])


@pytest.mark.parametrize("shape,oshp", [((2, 3, 8, 12), (4, 3)), ((1, 2, 7, 7), 1),
                                        ((2, 2, 6, 5), (6, 5)), ((0, 2, 4, 4), 2)])
def test_adaptive_pools_match_torch_when_output_divides_input(shape, oshp):
    x = _rand(*shape)
    _compare(lambda x: F.adaptive_avg_pool2d(x, oshp), lambda x: TF.adaptive_avg_pool2d(x, oshp),
             [x])
    _compare(lambda x: F.adaptive_max_pool2d(x, oshp), lambda x: TF.adaptive_max_pool2d(x, oshp),
             [x])


def test_adaptive_pool_uses_megengine_windows_when_output_does_not_divide():
    # 7 -> 3: stride 2, kernel 3, windows [0,3) [2,5) [4,7) (PyTorch would use [0,3) [2,5) [4,7)
    # too here; 8 -> 3 shows the difference: MegEngine [0,4) [2,6) [4,8), PyTorch [0,3) ...).
    x = _rand(1, 2, 8, 7)
    got = F.adaptive_avg_pool2d(mge.tensor(x), 3).numpy()
    np.testing.assert_allclose(got, adaptive_ref(x.astype(np.float64), (3, 3), "average"),
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(got, TF.adaptive_avg_pool2d(torch.tensor(x), 3).numpy())


def test_max_pool_gradient_goes_to_the_first_of_tied_maxima():
    x = np.zeros((1, 1, 4, 4), np.float32)
    _compare(lambda x: F.max_pool2d(x, 2, 1), lambda x: TF.max_pool2d(x, 2, 1), [x])


@pytest.mark.parametrize("shape", [(4, 3, 5, 7), (16, 8, 3, 3), (5, 6), (3, 4, 10)])
@pytest.mark.parametrize("momentum", [0.9, 0.7])
def test_batch_norm_training_matches_torch(shape, momentum):
    c = shape[1]
    x, w, b = _rand(*shape) * 3 + 1, _rand(c, seed=1), _rand(c, seed=2)
    rm, rv = _rand(c, seed=3), np.abs(_rand(c, seed=4)) + 0.5
    pshape = (1, c) + (1,) * (len(shape) - 2)
    ours_rm, ours_rv = mge.tensor(rm.reshape(pshape)), mge.tensor(rv.reshape(pshape))
    _compare(lambda x, w, b: F.batch_norm(x, ours_rm, ours_rv, w.reshape(pshape),
                                          b.reshape(pshape), training=True, momentum=momentum),
             lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
             [x, w, b], attach=(0, 1, 2), tol=2e-5)
    # PyTorch's momentum weighs the new value; its running_var is the unbiased one, like ours.
    t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
    TF.batch_norm(torch.tensor(x), t_rm, t_rv, training=True, momentum=1 - momentum)
    np.testing.assert_allclose(ours_rm.numpy().ravel(), t_rm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_rv.numpy().ravel(), t_rv.numpy(), rtol=1e-5, atol=1e-6)
    assert ours_rm.shape == pshape


def test_batch_norm_eval_matches_torch():
    x, w, b = _rand(3, 4, 5, 5), _rand(4, seed=1), _rand(4, seed=2)
    rm, rv = _rand(4, seed=3), np.abs(_rand(4, seed=4)) + 0.5
    _compare(lambda x, w, b: F.batch_norm(x, mge.tensor(rm), mge.tensor(rv), w, b),
             lambda x, w, b: TF.batch_norm(x, torch.tensor(rm), torch.tensor(rv), w, b),
             [x, w, b], attach=(0, 1, 2))


def test_batch_norm_not_inplace_returns_new_stats_and_keeps_old():
    x = _rand(8, 3, 4, 4)
    rm, rv = mge.tensor(np.zeros((1, 3, 1, 1), np.float32)), mge.tensor(np.ones((1, 3, 1, 1)))
    out, new_m, new_v = F.batch_norm(mge.tensor(x), rm, rv, training=True,
                                     inplace=False)
    np.testing.assert_array_equal(rm.numpy(), 0)
    np.testing.assert_allclose(new_m.numpy().ravel(), 0.1 * x.mean((0, 2, 3)), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(new_v.numpy().ravel(), 0.9 + 0.1 * x.var((0, 2, 3), ddof=1),
                               rtol=1e-5)
    assert out.shape == x.shape


def test_batch_norm_running_stats_stay_out_of_the_graph():
    x = mge.tensor(_rand(4, 2, 3, 3))
    w = mge.tensor(np.ones((1, 2, 1, 1), np.float32))
    rm, rv = mge.tensor(np.zeros((1, 2, 1, 1))), mge.tensor(np.ones((1, 2, 1, 1)))
    gm = GradManager().attach([x, w])
    with gm:
        y = F.batch_norm(x, rm, rv, w, training=True)
        gm.backward((y * y).sum())
    assert rm._node is None and rv._node is None and w.grad is not None


def test_batch_norm_empty_batch_keeps_running_stats():
    rm, rv = mge.tensor(np.full((1, 3, 1, 1), 0.5)), mge.tensor(np.full((1, 3, 1, 1), 2.0))
    out = F.batch_norm(mge.tensor(np.zeros((0, 3, 4, 4))), rm, rv, training=True)
    assert out.shape == (0, 3, 4, 4)
    np.testing.assert_array_equal(rm.numpy(), 0.5)
    np.testing.assert_array_equal(rv.numpy(), 2.0)


def test_batch_norm_channel_last():
    x, w = _rand(2, 5, 4, 3), _rand(3, seed=1)
    rm, rv = mge.tensor(np.zeros((1, 1, 1, 3))), mge.tensor(np.ones((1, 1, 1, 3)))
    got = F.batch_norm(mge.tensor(x), rm, rv, mge.tensor(w.reshape(1, 1, 1, 3)), training=True,
                       param_dim="dim_111c").numpy()
    want = TF.batch_norm(torch.tensor(x).permute(0, 3, 1, 2), None, None, torch.tensor(w),
                         training=True).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert rm.shape == (1, 1, 1, 3) and not np.allclose(rm.numpy(), 0)


@pytest.mark.parametrize("shape,groups", [((2, 6, 5, 3), 3), ((3, 4, 7), 4), ((2, 8), 2),
                                          ((2, 4, 3, 3), 1), ((0, 4, 3, 3), 2)])
def test_group_norm_matches_torch(shape, groups):
    c = shape[1]
    _compare(lambda x, w, b: F.nn.group_norm(x, groups, True, w, b),
             lambda x, w, b: TF.group_norm(x, groups, w, b),
             [_rand(*shape) * 2 - 1, _rand(c, seed=1), _rand(c, seed=2)], attach=(0, 1, 2),
             tol=2e-5)


@pytest.mark.parametrize("shape,ns", [((4, 7), (7,)), ((2, 3, 5, 6), (5, 6)), ((3, 300), 300),
                                      ((0, 5), (5,))])
def test_layer_norm_matches_torch(shape, ns):
    nst = (ns,) if isinstance(ns, int) else ns
    w, b = _rand(*nst, seed=1), _rand(*nst, seed=2)
    _compare(lambda x, w, b: F.nn.layer_norm(x, ns, True, w, b),
             lambda x, w, b: TF.layer_norm(x, nst, w, b), [_rand(*shape), w, b],
             attach=(0, 1, 2), tol=2e-5)


def test_norms_without_affine_match_torch():
    x = _rand(3, 4, 5)
    _compare(lambda x: F.nn.layer_norm(x, 5, affine=False), lambda x: TF.layer_norm(x, (5,)),
             [x])
    _compare(lambda x: F.nn.group_norm(x, 2, affine=False), lambda x: TF.group_norm(x, 2), [x])
    _compare(lambda x: F.batch_norm(x, training=True),
             lambda x: TF.batch_norm(x, None, None, training=True), [x])


# Second order: a GradManager records the backward, so the norms' backward runs as ops.
SECOND_ORDER = [
    ("batch_norm", (6, 3, 2, 2),
     lambda x, w: F.batch_norm(x, weight=w.reshape(1, 3, 1, 1), training=True),
     lambda x, w: TF.batch_norm(x, None, None, w, training=True)),
    ("group_norm", (2, 4, 3, 2), lambda x, w: F.nn.group_norm(x, 2, True, w),
     lambda x, w: TF.group_norm(x, 2, w)),
    ("layer_norm", (5, 4), lambda x, w: F.nn.layer_norm(x, 4, True, w),
     lambda x, w: TF.layer_norm(x, (4,), w)),
    ("max_pool2d", (2, 4, 5, 5), lambda x, w: F.max_pool2d(x, 3, 2, 1) * w.reshape(1, 4, 1, 1),
     lambda x, w: TF.max_pool2d(x, 3, 2, 1) * w.reshape(1, 4, 1, 1)),
    ("avg_pool2d", (2, 4, 5, 5), lambda x, w: F.avg_pool2d(x, 2, 1, 1) * w.reshape(1, 4, 1, 1),
     lambda x, w: TF.avg_pool2d(x, 2, 1, 1, count_include_pad=False) * w.reshape(1, 4, 1, 1)),
]


@pytest.mark.parametrize("name,shape,ours,theirs", SECOND_ORDER, ids=[s[0] for s in SECOND_ORDER])
def test_second_order_matches_torch(name, shape, ours, theirs):
    x_np, w_np = _rand(*shape), _rand(shape[1], seed=1) + 2
    v = np.random.default_rng(5).uniform(0.5, 1.5, shape).astype(np.float32)
    x, w = mge.tensor(x_np), mge.tensor(w_np)
    outer, inner = GradManager().attach([x, w]), GradManager().attach([x, w])
    with outer:
        with inner:
            y = ours(x, w)
            inner.backward((y * y).sum())  # squared, so the first gradient depends on x
        gx = x.grad
        x.grad = w.grad = None
        outer.backward((gx * mge.tensor(v)).sum())
    tx = torch.tensor(x_np, requires_grad=True)
    tw = torch.tensor(w_np, requires_grad=True)
    (tgx,) = torch.autograd.grad((theirs(tx, tw) ** 2).sum(), tx, create_graph=True)
    want_gx, want_gw = torch.autograd.grad((tgx * torch.tensor(v)).sum(), (tx, tw))
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(x.grad.numpy(), want_gx.numpy(), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(w.grad.numpy(), want_gw.numpy(), rtol=1e-3, atol=1e-3)
