"""conv2d / conv_transpose2d: op-table rows against float64 numpy references (gradients by finite
differences), a table of shapes against torch (forward and every gradient), grads of grads,
MegEngine's weight layouts and conv modes, and the kernels' layouts and threading."""
import numpy as np
import pytest
import torch
from optable import Case, U, check_case, gens

import engine as mge
import engine.functional as F
from engine._native import native
from engine.autodiff import GradManager
from engine.functional.conv import _conv2d
from engine.ops import conv_impl


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def conv_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct float64 conv: for each kernel tap, the strided slice of the padded input it reads,
    contracted with that tap's weights."""
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh, ow = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for g in range(groups):
        xg, wg = xp[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                patch = xg[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                           j * dw:j * dw + sw * (ow - 1) + 1:sw]
                out[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch, wg[:, :, i, j])
    return out if b is None else out + b.reshape(1, o, 1, 1)


def conv_transpose_ref(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1,
                       groups=1):
    """Direct float64 transposed conv: every input pixel scatters x * w into the output."""
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    oph, opw = _pair(output_padding)
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    o, cg = og * groups, c // groups
    oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    ow = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    full = np.zeros((n, o, oh + 2 * ph + sh + dh * kh, ow + 2 * pw + sw + dw * kw))
    for g in range(groups):
        xg, wg = x[:, g * cg:(g + 1) * cg], w[g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                full[:, g * og:(g + 1) * og, i * dh:i * dh + sh * h:sh,
                     j * dw:j * dw + sw * wd:sw] += np.einsum("nchw,co->nohw", xg, wg[:, :, i, j])
    out = full[:, :, ph:ph + oh, pw:pw + ow]
    return out if b is None else out + b.reshape(1, o, 1, 1)


ALL_CONV_OPS = ("Conv2d", "Conv2dBackwardData", "Conv2dBackwardFilter")

CASES = [
    Case("conv2d", gens(U(2, 3, 5, 6), U(4, 3, 3, 3), U(1, 4, 1, 1)),
         lambda x, w, b: F.conv2d(x, w, b, padding=1), lambda x, w, b: conv_ref(x, w, b, 1, 1),
         ALL_CONV_OPS, grad=(0, 1, 2), atol=1e-5),
    Case("conv2d_strided_dilated_grouped", gens(U(2, 4, 7, 6), U(6, 2, 3, 2)),
         lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=(2, 1), dilation=(2, 3), groups=2),
         lambda x, w: conv_ref(x, w, None, (2, 1), (2, 1), (2, 3), 2), ALL_CONV_OPS,
         grad=(0, 1), atol=1e-5),
    Case("conv2d_pointwise", gens(U(2, 4, 3, 5), U(6, 2, 1, 1), U(1, 6, 1, 1)),
         lambda x, w, b: F.conv2d(x, w, b, groups=2),
         lambda x, w, b: conv_ref(x, w, b, groups=2), ALL_CONV_OPS, grad=(0, 1, 2), atol=1e-5),
    Case("conv2d_stride_over_kernel", gens(U(1, 2, 9, 8), U(3, 2, 2, 2)),
         lambda x, w: F.conv2d(x, w, stride=3), lambda x, w: conv_ref(x, w, stride=3),
         ALL_CONV_OPS, grad=(0, 1), atol=1e-5),
    Case("conv2d_relu_fused", gens(U(2, 3, 5, 6), U(4, 3, 3, 3), U(1, 4, 1, 1)),
         lambda x, w, b: _conv2d("t", x, w, b, 1, 1, 1, 1, "cross_correlation", "default",
                                 relu=True),
         lambda x, w, b: np.maximum(conv_ref(x, w, b, 1, 1), 0),
         ("Conv2dRelu", "Conv2dBackwardData", "Conv2dBackwardFilter"), grad=(0, 1, 2),
         atol=1e-5),
    Case("conv_transpose2d", gens(U(2, 4, 3, 4), U(4, 3, 3, 2), U(1, 3, 1, 1)),
         lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
         lambda x, w, b: conv_transpose_ref(x, w, b, 2, 1, 1), ALL_CONV_OPS, grad=(0, 1, 2),
         atol=1e-5),
    Case("conv_transpose2d_grouped_dilated", gens(U(1, 4, 4, 3), U(2, 2, 3, 2, 2)),
         lambda x, w: F.conv_transpose2d(x, w, stride=(1, 2), dilation=(2, 1), groups=2),
         lambda x, w: conv_transpose_ref(x, w.reshape(4, 3, 2, 2), None, (1, 2), 0, 0, (2, 1),
                                         2), ALL_CONV_OPS, grad=(0, 1), atol=1e-5),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op(case, device, monkeypatch):
    check_case(case, device, monkeypatch)


# (input shape, weight shape (torch layout), bias, stride, padding, dilation, groups)
TORCH_CONV = [
    ((2, 3, 7, 9), (4, 3, 3, 3), True, 1, 1, 1, 1),
    ((3, 5, 11, 6), (7, 5, 3, 3), False, 2, 0, 1, 1),            # odd sizes
    ((2, 3, 10, 10), (4, 3, 2, 2), True, 4, 0, 1, 1),            # stride > kernel
    ((2, 3, 9, 8), (5, 3, 3, 5), True, (1, 2), (2, 1), 1, 1),    # non-square, asymmetric
    ((2, 4, 12, 11), (6, 4, 3, 3), False, 1, 3, (2, 3), 1),      # dilation
    ((2, 6, 8, 7), (9, 2, 3, 3), True, 1, 1, 1, 3),              # groups
    ((2, 8, 9, 9), (8, 1, 3, 3), True, 2, 1, 1, 8),              # depthwise
    ((2, 4, 10, 7), (12, 1, 3, 3), True, 1, 1, 1, 4),            # depthwise, 3 per channel
    ((1, 6, 12, 12), (6, 1, 5, 5), False, 1, 4, 2, 6),           # depthwise, dilated
    ((2, 16, 5, 4), (8, 16, 1, 1), True, 1, 0, 1, 1),            # 1x1: no im2col
    ((3, 8, 6, 6), (12, 2, 1, 1), False, 1, 0, 1, 4),            # grouped 1x1
    ((2, 8, 9, 9), (16, 8, 1, 1), False, 2, 0, 1, 1),            # strided 1x1 (downsample)
    ((0, 3, 6, 6), (4, 3, 3, 3), True, 1, 1, 1, 1),              # empty batch
    ((4, 16, 20, 20), (16, 16, 3, 3), True, 1, 1, 1, 1),         # big enough for OpenMP
    ((2, 64, 13, 15), (64, 64, 3, 3), True, 1, 1, 1, 1),         # odd sizes on every path
    ((1, 5, 7, 6), (3, 5, 3, 3), False, 1, 0, 1, 1),             # odd output: partial tiles
    ((2, 3, 2, 2), (4, 3, 3, 3), False, 1, 2, 1, 1),             # padding wider than input
]


def _torch_grads(fn, x, w, b, dy, **kw):
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = None if b is None else torch.tensor(b.reshape(-1), requires_grad=True)
    ty = fn(tx, tw, tb, **kw)
    ty.backward(torch.tensor(dy))
    grads = [tx.grad, tw.grad] + ([] if b is None else [tb.grad.reshape(b.shape)])
    return ty.detach().numpy(), [g.numpy() for g in grads]


def _engine_grads(fn, x, w, b, dy, **kw):
    ts = [mge.tensor(a) for a in (x, w) + (() if b is None else (b,))]
    gm = GradManager().attach(ts)
    with gm:
        y = fn(*ts[:2], *(ts[2:] or [None]), **kw)
        gm.backward(y, mge.tensor(dy))
    return y.numpy(), [t.grad.numpy() for t in ts]


def _compare(got, want):
    (y, grads), (ty, tgrads) = got, want
    assert y.shape == ty.shape
    scale = max(1.0, float(np.abs(ty).max(initial=0)))
    np.testing.assert_allclose(y, ty, rtol=1e-4, atol=1e-5 * scale)
    for i, (g, tg) in enumerate(zip(grads, tgrads)):
        assert g.shape == tg.shape, f"grad {i}"
        scale = max(1.0, float(np.abs(tg).max(initial=0)))
        np.testing.assert_allclose(g, tg, rtol=1e-4, atol=1e-5 * scale, err_msg=f"grad {i}")


_ISAS = [i for i in ("avx512", "avx2", "portable")
         if ("portable", "avx2", "avx512").index(i)
         <= ("portable", "avx2", "avx512").index(native().detected_cpu_isa())]


@pytest.fixture(params=[(isa, path) for isa in _ISAS for path in ("flat", "implicit", "winograd")],
                ids=lambda p: "-".join(p))
def gemm_path(request):
    """Every ISA's micro-kernel and every stride-1 conv algorithm (winograd takes the 3x3
    dilation-1 single-group shapes, the flat path the others)."""
    C = native()
    isa, path = C.cpu_isa(), C.conv_path()
    C.set_cpu_isa(request.param[0])
    C.set_conv_path(request.param[1])
    yield request.param
    C.set_cpu_isa(isa)
    C.set_conv_path(path)


def test_zero_input_channels(gemm_path):
    # K = C*kh*kw = 0: the output is the bias alone (then the ReLU), as in torch
    x = np.zeros((2, 0, 5, 5), np.float32)
    w = np.zeros((4, 0, 3, 3), np.float32)
    b = np.arange(-2, 2, dtype=np.float32)
    C = native()
    for relu in (False, True):
        y = C.conv2d_gemm_forward(x, w, b, (1, 1), (1, 1), (1, 1), 1, relu=relu)
        want = np.broadcast_to(b.reshape(1, 4, 1, 1), (2, 4, 5, 5))
        np.testing.assert_array_equal(y, np.maximum(want, 0) if relu else want)
    assert F.conv2d(mge.tensor(x), mge.tensor(w)).numpy().shape == (2, 4, 3, 3)
    with pytest.raises(ValueError, match="depthwise_conv2d_backward_filter"):
        C.depthwise_conv2d_backward_filter(x, np.zeros((2, 0, 5, 5), np.float32), (3, 3),
                                           (1, 1), (1, 1), (1, 1))


@pytest.mark.parametrize("shape", [(4, 32, 32, 32), (2, 64, 24, 24), (16, 32, 40, 40)])
def test_filter_gradient_same_bits_on_any_thread_count(shape):
    # long reductions (N*P >= 2048) take the split-K path, and stride-1 ones with little padding
    # the padded grid's reduction parts (the last shape has two): the choice and the partial
    # sums depend on the shape only
    C = native()
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape, dtype=np.float32)
    dy = rng.standard_normal(shape, dtype=np.float32)
    before = C.get_num_threads()
    try:
        results = []
        for t in (1, 2, 3):
            C.set_num_threads(t)
            results.append(C.conv2d_gemm_backward_filter(x, dy, (3, 3), (1, 1), (1, 1), (1, 1),
                                                         1))
    finally:
        C.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def filter_grad_ref(x, dy, kernel, stride, padding, dilation, groups):
    """float64 dW: for each tap, dy contracted with the (strided) input slice that tap read."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, _pair(stride), _pair(padding), _pair(dilation)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    o, (oh, ow) = dy.shape[1], dy.shape[2:]
    cg, og = x.shape[1] // groups, o // groups
    dw_ = np.zeros((o, cg, kh, kw))
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                           j * dw:j * dw + sw * (ow - 1) + 1:sw]
                dw_[g * og:(g + 1) * og, :, i, j] = np.einsum(
                    "nchw,nohw->oc", patch, dy[:, g * og:(g + 1) * og].astype(np.float64))
    return dw_


# (x shape, kernel, stride, padding, dilation, groups, dy channels): grids of several reduction
# parts (over 16384 positions), partial channel slivers, groups, dilation, padding wider than
# the image; strided ones (always the column packer) against the same reference
FLAT_FILTER = [
    ((16, 32, 40, 40), (3, 3), 1, 1, 1, 1, 32),
    ((3, 13, 47, 45), (3, 3), 1, 1, 1, 1, 19),
    ((5, 12, 30, 33), (5, 3), 1, (2, 1), (1, 2), 3, 9),
    ((2, 4, 3, 3), (3, 3), 1, 3, 1, 1, 6),
    ((40, 8, 20, 21), (3, 3), 1, 1, 1, 2, 8),
    ((16, 32, 64, 64), (3, 3), 2, 1, 1, 1, 40),
    ((3, 17, 23, 30), (3, 5), (2, 3), (1, 2), (2, 1), 1, 16),
    ((4, 6, 19, 17), (7, 7), 2, 3, 1, 2, 10),
    ((2, 16, 9, 9), (1, 1), 2, 0, 1, 1, 24),
]


@pytest.mark.parametrize("xs,kernel,stride,padding,dilation,groups,o", FLAT_FILTER)
def test_filter_gradient_on_the_padded_grid(xs, kernel, stride, padding, dilation, groups, o,
                                            gemm_path):
    # gemm_path "flat" forces cpu/conv_filter_flat.h, "implicit" the column packer
    C = native()
    rng = np.random.default_rng(4)
    x = rng.standard_normal(xs, dtype=np.float32)
    (sh, sw), (ph, pw), (dh, dwl) = _pair(stride), _pair(padding), _pair(dilation)
    oh = (xs[2] + 2 * ph - dh * (kernel[0] - 1) - 1) // sh + 1
    ow = (xs[3] + 2 * pw - dwl * (kernel[1] - 1) - 1) // sw + 1
    dy = rng.standard_normal((xs[0], o, oh, ow), dtype=np.float32)
    got = C.conv2d_gemm_backward_filter(x, dy, kernel, _pair(stride), _pair(padding),
                                        _pair(dilation), groups)
    want = filter_grad_ref(x, dy, kernel, stride, padding, dilation, groups)
    scale = float(np.abs(want).max())
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6 * scale)


# (x shape, w shape, stride, padding, dilation, groups): strides with phases no tap reaches
# (stride > kernel), groups, dilation sharing a factor with the stride, 1x1, padding > kernel/2
PHASE_DATA = [
    ((2, 3, 7, 9), (4, 3, 3, 3), 2, 1, 1, 1),
    ((3, 5, 11, 6), (7, 5, 3, 3), 2, 0, 1, 1),
    ((2, 3, 10, 10), (4, 3, 2, 2), 4, 0, 1, 1),
    ((2, 3, 9, 8), (5, 3, 3, 5), (1, 2), (2, 1), 1, 1),
    ((2, 6, 8, 7), (9, 2, 3, 3), 2, 1, 1, 3),
    ((2, 4, 12, 11), (6, 4, 3, 3), 2, 3, (2, 3), 1),
    ((2, 8, 9, 9), (16, 8, 1, 1), 2, 0, 1, 1),
    ((4, 32, 32, 32), (64, 32, 3, 3), 2, 1, 1, 1),
    ((2, 3, 13, 13), (4, 3, 7, 7), 2, 3, 1, 1),
    ((1, 2, 3, 3), (2, 2, 3, 3), 3, 0, 1, 1),
    ((2, 4, 6, 6), (4, 4, 3, 3), 1, 2, 1, 1),  # stride 1, padding past the flip trick
]


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", PHASE_DATA)
def test_data_gradient_by_stride_phases(xs, ws, stride, padding, dilation, groups):
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal(xs, np.float32), rng.standard_normal(ws, np.float32)
    p = conv_impl.ConvParams(_pair(stride), _pair(padding), _pair(dilation), groups)
    dy = rng.standard_normal((xs[0], ws[0]) + p.out_hw(xs[2:], ws[2:]), np.float32)
    got = native().conv2d_gemm_backward_data(dy, w, xs, p.stride, p.padding, p.dilation, groups)
    # reference: torch's float64 autograd of the same conv
    tx = torch.tensor(x.astype(np.float64), requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, torch.tensor(w.astype(np.float64)), stride=stride,
                                    padding=padding, dilation=dilation, groups=groups)
    ty.backward(torch.tensor(dy.astype(np.float64)))
    want = tx.grad.numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6 * float(np.abs(want).max()))


def test_data_gradient_names_a_mismatched_dy():
    w = np.zeros((4, 3, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"conv2d_gemm_backward_data: dy of shape \(2, 4, 5, 5\)"):
        native().conv2d_gemm_backward_data(np.zeros((2, 4, 5, 5), np.float32), w, (2, 3, 8, 8),
                                           (2, 2), (1, 1), (1, 1), 1)


@pytest.mark.parametrize("xs,ws,bias,stride,padding,dilation,groups", TORCH_CONV)
def test_conv2d_matches_torch(xs, ws, bias, stride, padding, dilation, groups, gemm_path):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(xs, np.float32), rng.standard_normal(ws, np.float32)
    b = rng.standard_normal((1, ws[0], 1, 1), np.float32) if bias else None
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    ty = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), **kw)
    dy = rng.standard_normal(ty.shape, np.float32)
    _compare(_engine_grads(F.conv2d, x, w, b, dy, **kw),
             _torch_grads(torch.nn.functional.conv2d, x, w, b, dy, **kw))


# (input shape, weight shape (C, O/G, kh, kw), bias, stride, padding, output_padding, dilation,
#  groups)
TORCH_CONV_T = [
    ((2, 4, 5, 6), (4, 3, 3, 3), True, 1, 0, 0, 1, 1),
    ((2, 4, 5, 6), (4, 3, 3, 3), True, 2, 1, 1, 1, 1),
    ((3, 5, 4, 7), (5, 2, 2, 3), False, (3, 2), (1, 0), (2, 1), 1, 1),   # stride > kernel
    ((2, 3, 6, 5), (3, 4, 3, 3), True, 1, 2, 0, (2, 1), 1),               # dilation
    ((2, 6, 5, 5), (6, 2, 3, 3), True, 2, 1, 0, 1, 3),                    # groups
    ((2, 6, 5, 5), (6, 1, 3, 3), False, 2, 0, 1, 1, 6),                   # depthwise
    ((2, 8, 5, 6), (8, 4, 1, 1), True, 1, 0, 0, 1, 1),                    # 1x1
    ((0, 4, 5, 6), (4, 3, 3, 3), True, 2, 1, 0, 1, 1),                    # empty batch
    ((4, 16, 16, 16), (16, 8, 4, 4), True, 2, 1, 0, 1, 1),                # OpenMP sizes
]


@pytest.mark.parametrize("xs,ws,bias,stride,padding,output_padding,dilation,groups",
                         TORCH_CONV_T)
def test_conv_transpose2d_matches_torch(xs, ws, bias, stride, padding, output_padding,
                                        dilation, groups):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(xs, np.float32), rng.standard_normal(ws, np.float32)
    o = ws[1] * groups
    b = rng.standard_normal((1, o, 1, 1), np.float32) if bias else None
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation,
              groups=groups)
    ty = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w), **kw)
    dy = rng.standard_normal(ty.shape, np.float32)
    _compare(_engine_grads(F.conv_transpose2d, x, w, b, dy, **kw),
             _torch_grads(torch.nn.functional.conv_transpose2d, x, w, b, dy, **kw))


@pytest.mark.parametrize("pointwise", [False, True])
def test_second_order_grads_match_torch(pointwise):
    """d/d(x, w) of sum(dx * u) + sum(dw * v), where (dx, dw) is the gradient of sum(y * r):
    runs the backward of Conv2dBackwardData and Conv2dBackwardFilter."""
    rng = np.random.default_rng(3)
    k = 1 if pointwise else 3
    x = rng.standard_normal((2, 4, 6, 5), np.float32)
    w = rng.standard_normal((6, 2, k, k), np.float32)
    kw = dict(stride=1 if pointwise else 2, padding=0 if pointwise else 1, groups=2)
    y_shape = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), **kw).shape
    r, u, v = (rng.standard_normal(s, np.float32) for s in (y_shape, x.shape, w.shape))

    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, **kw)
    gx, gw = torch.autograd.grad((ty * torch.tensor(r)).sum(), (tx, tw), create_graph=True)
    ((gx * torch.tensor(u)).sum() + (gw * torch.tensor(v)).sum()).backward()

    ex, ew = mge.tensor(x), mge.tensor(w)
    outer, inner = GradManager().attach([ex, ew]), GradManager().attach([ex, ew])
    with outer:
        with inner:
            inner.backward((F.conv2d(ex, ew, **kw) * mge.tensor(r)).sum())
        gx_e, gw_e = ex.grad, ew.grad
        ex.grad = ew.grad = None
        outer.backward((gx_e * mge.tensor(u)).sum() + (gw_e * mge.tensor(v)).sum())
    np.testing.assert_allclose(gx_e.numpy(), gx.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_grouped_weight_layouts_agree():
    """MegEngine's 5-D (G, O/G, C/G, kh, kw) weight equals the 4-D (O, C/G, kh, kw) form."""
    rng = np.random.default_rng(4)
    x = mge.tensor(rng.standard_normal((2, 6, 7, 7), np.float32))
    w5 = rng.standard_normal((3, 4, 2, 3, 3), np.float32)
    a = F.conv2d(x, mge.tensor(w5), groups=3, padding=1).numpy()
    b = F.nn.conv2d(x, mge.tensor(w5.reshape(12, 2, 3, 3)), groups=3, padding=1).numpy()
    np.testing.assert_array_equal(a, b)
    wt5 = rng.standard_normal((3, 2, 4, 3, 3), np.float32)  # (G, C/G, O/G, kh, kw)
    a = F.conv_transpose2d(x, mge.tensor(wt5), groups=3).numpy()
    b = F.nn.conv_transpose2d(x, mge.tensor(wt5.reshape(6, 4, 3, 3)), groups=3).numpy()
    np.testing.assert_array_equal(a, b)


def test_convolution_mode_flips_the_kernel():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 2, 6, 5), np.float32)
    w = rng.standard_normal((3, 2, 3, 2), np.float32)
    got = F.conv2d(mge.tensor(x), mge.tensor(w), conv_mode="convolution").numpy()
    want = conv_ref(x.astype(np.float64), w[:, :, ::-1, ::-1].astype(np.float64))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("stride,padding,dilation,groups", [
    ((1, 1), (1, 1), (1, 1), 1), ((2, 3), (0, 2), (2, 1), 2), ((1, 1), (0, 0), (1, 1), 1)])
def test_generic_path_agrees_with_native(stride, padding, dilation, groups):
    """The array-module-generic path (used for CuPy arrays) against the native CPU path."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 4, 9, 8), np.float32)
    w = rng.standard_normal((6, 4 // groups, 3, 3), np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    p = conv_impl.ConvParams(stride, padding, dilation, groups)
    y = conv_impl.forward(np, x, w, b, p)
    np.testing.assert_allclose(conv_impl._generic_forward(np, x, w, b, p), y, rtol=1e-5,
                               atol=1e-5)
    dy = rng.standard_normal(y.shape, np.float32)
    np.testing.assert_allclose(conv_impl._generic_backward_data(np, dy, w, x.shape[2:], p),
                               conv_impl.backward_data(np, dy, w, x.shape[2:], p), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(conv_impl._generic_backward_filter(np, x, dy, (3, 3), p),
                               conv_impl.backward_filter(np, x, dy, (3, 3), p), rtol=1e-4,
                               atol=1e-4)


@pytest.mark.parametrize("o,cg,g,k", [(6, 4, 2, (3, 3)), (40, 33, 1, (3, 3)), (39, 17, 3, (5, 2))])
def test_flip_filter_is_the_rotated_transposed_filter(o, cg, g, k):
    w = np.random.default_rng(5).standard_normal((o, cg) + k, dtype=np.float32)
    want = w.reshape(g, o // g, cg, *k).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    got = native().conv_flip_filter(w, g)
    np.testing.assert_array_equal(got, want.reshape(g * cg, o // g, *k))
    with pytest.raises(ValueError, match="conv_flip_filter: expected a weight"):
        native().conv_flip_filter(w, 7)  # O not divisible by the groups


def test_im2col_entries_and_col2im_adjoint():
    """im2col's (G, K, N*P) buffer holds the windows of x (zero padding), and col2im is its
    adjoint: <im2col(x), c> == <x, col2im(c)>; both also write into a given `out`."""
    C = native()
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, 7, 6), np.float32)
    win = dict(kernel=(3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    col = C.conv_im2col(x, **win)
    p = conv_impl.ConvParams((2, 1), (1, 2), (1, 2), 2)
    want = conv_impl._generic_columns(np, x, (3, 2), p)                     # (N, G, K, P)
    assert col.shape == (2, 2 * 3 * 2, 3 * want.shape[3])
    np.testing.assert_array_equal(col, want.transpose(1, 2, 0, 3).reshape(col.shape))
    c = rng.standard_normal(col.shape, np.float32)
    back = C.conv_col2im(c, x.shape, **win)
    np.testing.assert_allclose(np.vdot(col.astype(np.float64), c),
                               np.vdot(x.astype(np.float64), back), rtol=1e-5)
    out = np.full(col.shape, np.nan, np.float32)
    assert C.conv_im2col(x, out=out, **win) is out
    np.testing.assert_array_equal(out, col)
    out = np.full(x.shape, np.nan, np.float32)
    C.conv_col2im(c, x.shape, out=out, **win)
    np.testing.assert_array_equal(out, back)
    with pytest.raises(ValueError, match=r"conv_im2col: out has shape \(2, 12, 5\)"):
        C.conv_im2col(x, out=np.empty((2, 12, 5), np.float32), **win)


def test_chunked_batches_match_unchunked(monkeypatch):
    """Splitting the batch into column-buffer chunks (one sample each here) changes nothing."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 6, 9, 7), np.float32)
    w = rng.standard_normal((4, 3, 3, 3), np.float32)
    p = conv_impl.ConvParams((1, 2), (1, 1), (1, 1), 2)
    whole = [conv_impl.forward(np, x, w, None, p)]
    dy = rng.standard_normal(whole[0].shape, np.float32)
    whole += [conv_impl.backward_data(np, dy, w, x.shape[2:], p),
              conv_impl.backward_filter(np, x, dy, (3, 3), p)]
    monkeypatch.setattr(conv_impl, "CHUNK_BYTES", 1)
    assert len(conv_impl._chunks(5, 100)) == 5
    chunked = [conv_impl.forward(np, x, w, None, p),
               conv_impl.backward_data(np, dy, w, x.shape[2:], p),
               conv_impl.backward_filter(np, x, dy, (3, 3), p)]
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_threads_do_not_change_results():
    """The OpenMP loops give the same bits with one thread as with several."""
    C = native()
    rng = np.random.default_rng(8)
    x = mge.tensor(rng.standard_normal((4, 16, 24, 24), np.float32))
    w = mge.tensor(rng.standard_normal((8, 16, 3, 3), np.float32))
    old = C.get_num_threads()
    results = []
    try:
        for threads in (1, max(2, old)):
            C.set_num_threads(threads)
            gm = GradManager().attach([x, w])
            with gm:
                gm.backward(F.conv2d(x, w, padding=1, stride=2).sum())
            results.append((x.grad.numpy(), w.grad.numpy()))
            x.grad = w.grad = None
    finally:
        C.set_num_threads(old)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_non_contiguous_inputs():
    """Views (an NHWC array transposed to NCHW, a strided weight) give the same results."""
    rng = np.random.default_rng(10)
    x_nhwc = rng.standard_normal((3, 7, 6, 4), np.float32)
    w = rng.standard_normal((5, 4, 3, 3), np.float32)
    x = F.transpose(mge.tensor(x_nhwc), (0, 3, 1, 2))
    w_view = F.transpose(mge.tensor(w.transpose(1, 0, 2, 3).copy()), (1, 0, 2, 3))
    dy = mge.tensor(rng.standard_normal((3, 5, 4, 3), np.float32))
    want = conv_ref(x_nhwc.transpose(0, 3, 1, 2).astype(np.float64), w.astype(np.float64),
                    stride=(2, 2), padding=(1, 1))
    for weight in (mge.tensor(w), w_view):
        got = F.conv2d(x, weight, stride=2, padding=1)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)
        dx = F.conv_transpose2d(dy, weight, stride=2, padding=1, output_padding=(0, 1))
        np.testing.assert_allclose(dx.numpy(), conv_transpose_ref(
            dy.numpy().astype(np.float64), w.astype(np.float64), None, 2, 1, (0, 1)),
            rtol=1e-5, atol=1e-5)


def test_flat_bias_matches_megengine_bias_shape():
    """A (O,) bias works like MegEngine's (1, O, 1, 1) one, and gets a gradient of its shape."""
    rng = np.random.default_rng(11)
    x = mge.tensor(rng.standard_normal((2, 3, 5, 5), np.float32))
    w = mge.tensor(rng.standard_normal((4, 3, 3, 3), np.float32))
    b4 = rng.standard_normal((1, 4, 1, 1), np.float32)
    grads = []
    for b in (mge.tensor(b4), mge.tensor(b4.reshape(4))):
        gm = GradManager().attach([b])
        with gm:
            y = F.conv2d(x, w, b, padding=1)
            gm.backward((y * y).sum())
        assert b.grad.shape == b.shape
        grads.append((y.numpy(), b.grad.numpy().reshape(4)))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-6)
