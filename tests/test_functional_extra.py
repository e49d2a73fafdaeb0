"""Op-table rows (optable.py) and torch comparisons for the functions added for MegEngine's
whole F.* / F.nn.* surface: activations, linalg, layout, complex, bit shifts, lookups, the
extra normalisations, hinge loss, topk_accuracy and multi-head attention."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from optable import Case, U, check_case, distinct, gens, ints

import engine as mge
import engine.functional as F


def softplus_ref(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def lse_ref(x, axis, keepdims=False):
    b = x.max(axis, keepdims=True)
    out = np.log(np.exp(x - b).sum(axis, keepdims=True)) + b
    return out if keepdims else np.squeeze(out, axis)


def diag_grad_input(rng):
    return (rng.uniform(-2, 2, (3, 4)),)


def well_conditioned(rng):
    return (rng.uniform(-0.5, 0.5, (2, 3, 3)) + 2 * np.eye(3),)


def _norm_ref(x, axes, eps=1e-5):
    m = x.mean(axes, keepdims=True)
    v = x.var(axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps)


def lrn_ref(x, n, k, alpha, beta):
    half = n // 2
    sq = np.pad(x * x, ((0, 0), (half, half)) + ((0, 0),) * (x.ndim - 2))
    c = x.shape[1]
    window = sum(sq[:, i:i + c] for i in range(n))
    return x * (k + alpha * window) ** -beta


def pixel_shuffle_ref(x, r):
    n, c, h, w = x.shape
    return x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(
        n, c // (r * r), h * r, w * r)


def hinge_inputs(rng):
    return rng.uniform(-2, 2, (3, 4)), np.where(rng.random((3, 4)) > 0.5, 1.0, -1.0)


def mha_ref(q, k, v, w, heads, mask=None):
    """MegEngine's layout: W_Q, W_K, W_V, W_O as (in, out), then the four biases."""
    n, tgt, e = q.shape
    src = k.shape[1]
    f = w.reshape(-1)
    ws = [f[i * e * e:(i + 1) * e * e].reshape(e, e) for i in range(4)]
    bs = [f[4 * e * e + i * e:4 * e * e + (i + 1) * e] for i in range(4)]
    d = e // heads

    def split(x, t):
        return x.reshape(n, t, heads, d).transpose(0, 2, 1, 3)

    qh = split(q @ ws[0] + bs[0], tgt)
    kh = split(k @ ws[1] + bs[1], src)
    vh = split(v @ ws[2] + bs[2], src)
    s = qh @ kh.transpose(0, 1, 3, 2) * d ** -0.5
    if mask is not None:
        s = s + mask
    s = np.exp(s - s.max(-1, keepdims=True))
    s = s / s.sum(-1, keepdims=True)
    o = (s @ vh).transpose(0, 2, 1, 3).reshape(n, tgt, e)
    return o @ ws[3] + bs[3]


def _mha(q, k, v, w, **kw):
    return F.nn.multi_head_attention(q, k, v, 4, 2, 0.0, 0.0, w, qbias=True, kbias=True,
                                     vbias=True, obias=True, training=False, **kw)[0]


CAUSAL = np.where(np.triu(np.ones((3, 3), bool), 1), -np.inf, 0.0)

CASES = [
    # activations
    Case("relu6", gens(U(3, 5, lo=-3, hi=9)), F.relu6, lambda x: np.clip(x, 0, 6), ("Clip",),
         grad=(0,)),
    Case("hsigmoid", gens(U(3, 5, lo=-5, hi=5)), F.hsigmoid,
         lambda x: np.clip(x + 3, 0, 6) / 6, ("Clip", "Div"), grad=(0,)),
    Case("hswish", gens(U(3, 5, lo=-5, hi=5)), F.nn.hswish,
         lambda x: x * np.clip(x + 3, 0, 6) / 6, ("Clip", "Mul"), grad=(0,)),
    Case("softplus", gens(U(3, 5, lo=-4, hi=4)), F.softplus, softplus_ref,
         ("Log1p", "Exp", "Abs", "Relu"), grad=(0,)),
    Case("logsigmoid", gens(U(3, 5, lo=-4, hi=4)), F.nn.logsigmoid,
         lambda x: -softplus_ref(-x), ("Log1p", "Neg"), grad=(0,)),
    Case("logsumexp", gens(U(3, 5)), lambda x: F.logsumexp(x, 1), lambda x: lse_ref(x, 1),
         ("Max", "Exp", "Sum", "Log", "Reshape"), grad=(0,)),
    Case("logsumexp_keepdims", gens(U(2, 3, 4)),
         lambda x: F.nn.logsumexp(x, (0, 2), keepdims=True),
         lambda x: lse_ref(x, (0, 2), True), ("Exp", "Log"), grad=(0,)),
    Case("logaddexp", gens(U(3, 4), U(4)), F.logaddexp, np.logaddexp,
         ("Maximum", "Log1p", "Exp", "Abs"), grad=(0, 1)),
    Case("prelu", gens(U(2, 3, 4), U(1, 3, 1)), F.prelu,
         lambda x, a: np.maximum(x, 0) + a * np.minimum(x, 0), ("Relu", "Minimum", "Mul"),
         grad=(0, 1)),
    # linear algebra
    Case("diag_place", gens(U(3)), lambda x: F.diag(x, k=1), lambda x: np.diag(x, 1),
         ("Diag",), grad=(0,)),
    Case("diag_extract", diag_grad_input, lambda x: F.diag(x, k=-1), lambda x: np.diag(x, -1),
         ("Diag", "PadConstant", "GetItem"), grad=(0,)),
    Case("diag_extract_wide", diag_grad_input, lambda x: F.diag(x, k=2),
         lambda x: np.diag(x, 2), ("Diag", "GetItem"), grad=(0,)),
    Case("diag_int", gens(ints(3)), F.diag, np.diag, ("Diag",)),
    Case("matinv", well_conditioned, F.matinv, np.linalg.inv, ("MatInv", "Matmul", "Transpose"),
         grad=(0,), rtol=1e-4, atol=1e-5),
    Case("svd_values", gens(U(4, 3)), lambda x: F.svd(x, compute_uv=False),
         lambda x: np.linalg.svd(x, compute_uv=False), ("Svd",), rtol=1e-4, atol=1e-5),
    Case("svd_reconstruct", gens(U(2, 3, 5)),
         lambda x: (lambda u, s, vh: F.matmul(u * F.expand_dims(s, 1), vh))(*F.svd(x)),
         lambda x: x, ("Svd", "Matmul"), rtol=1e-4, atol=1e-5),
    # layout
    Case("meshgrid_xy", gens(U(3), U(2)), lambda x, y: F.meshgrid(x, y)[0] * 2
         + F.meshgrid(x, y)[1], lambda x, y: np.meshgrid(x, y)[0] * 2 + np.meshgrid(x, y)[1],
         ("BroadcastTo", "Reshape"), grad=(0, 1)),
    Case("meshgrid_ij3", gens(U(3), U(2), U(4)), lambda x, y, z: F.meshgrid(x, y, z,
                                                                           indexing="ij")[2],
         lambda x, y, z: np.meshgrid(x, y, z, indexing="ij")[2], ("BroadcastTo",), grad=(2,)),
    Case("swapaxes", gens(U(2, 3, 4)), lambda x: F.swapaxes(x, 0, -1),
         lambda x: np.swapaxes(x, 0, -1), ("Transpose",), grad=(0,)),
    Case("pixel_shuffle", gens(U(2, 8, 2, 3)), lambda x: F.pixel_shuffle(x, 2),
         lambda x: pixel_shuffle_ref(x, 2), ("Reshape", "Transpose"), grad=(0,)),
    # complex
    Case("complex_parts", gens(U(3, 4), U(4)),
         lambda a, b: (lambda z: F.real(z) * 2 + F.imag(z))(F.complex(a, b)),
         lambda a, b: a * 2 + b, ("Complex", "Real", "Imag"), grad=(0, 1)),
    Case("polar", gens(U(5, lo=0.5, hi=2), U(5, lo=-3, hi=3)),
         lambda r, t: F.imag(F.polar(r, t)) - F.real(F.polar(r, t)),
         lambda r, t: r * np.sin(t) - r * np.cos(t), ("Complex", "Real", "Imag", "Sin", "Cos"),
         grad=(0, 1)),
    # bit shifts
    Case("left_shift", gens(ints(3, 4, lo=-50, hi=50), ints(4, lo=0, hi=5)), F.left_shift,
         np.left_shift, ("LeftShift",)),
    Case("right_shift", gens(ints(3, 4, lo=-50, hi=50), ints(4, lo=0, hi=5)), F.right_shift,
         np.right_shift, ("RightShift",)),
    # lookups
    Case("embedding", gens(U(5, 3), ints(2, 4, hi=5)), lambda w, i: F.embedding(i, w),
         lambda w, i: w[i], ("GetItem", "GetItemGrad", "Reshape"), grad=(0,)),
    Case("indexing_one_hot", gens(U(4, 3, 2), ints(4, 2, hi=3)),
         lambda x, i: F.indexing_one_hot(x, i, axis=1),
         lambda x, i: np.take_along_axis(x, i[:, None].astype(np.int64), 1)[:, 0],
         ("Gather", "GatherGrad"), grad=(0,)),
    Case("indexing_one_hot_keepdims", gens(U(3, 4), ints(3, hi=4)),
         lambda x, i: F.nn.indexing_one_hot(x, i, 1, keepdims=True),
         lambda x, i: np.take_along_axis(x, i[:, None].astype(np.int64), 1), ("Gather",),
         grad=(0,)),
    # normalisation
    Case("instance_norm", gens(U(2, 3, 4, 2), U(3), U(3)),
         lambda x, w, b: F.nn.instance_norm(x, True, w, b),
         lambda x, w, b: _norm_ref(x, (2, 3)) * w[:, None, None] + b[:, None, None],
         ("GroupNorm", "GroupNormGrad"), grad=(0, 1, 2), atol=1e-5),
    Case("general_norm", gens(U(3, 2, 4), U(3, 4), U(3, 4)),
         lambda x, w, b: F.general_norm(x, (0, -1), True, w, b),
         lambda x, w, b: _norm_ref(x, (0, 2)) * w[:, None] + b[:, None],
         ("GroupNorm", "Transpose"), grad=(0, 1, 2), atol=1e-5),
    Case("general_norm_plain", gens(U(2, 5)), lambda x: F.nn.general_norm(x, 1, affine=False),
         lambda x: _norm_ref(x, (1,)), ("GroupNorm",), grad=(0,), atol=1e-5),
    Case("local_response_norm", gens(U(2, 5, 2, 2)),
         lambda x: F.nn.local_response_norm(x, 3, 1.0, 0.1, 0.75),
         lambda x: lrn_ref(x, 3, 1.0, 0.1, 0.75), ("PadConstant", "GetItem", "Pow"), grad=(0,)),
    Case("sync_batch_norm", gens(U(4, 3, 2)),
         lambda x: F.nn.sync_batch_norm(x, None, None, training=True),
         lambda x: _norm_ref(x, (0, 2)), ("BatchNorm", "BatchNormGrad"), grad=(0,), atol=1e-5),
    Case("sync_batch_norm_eps_max", gens(U(4, 3)),
         lambda x: F.sync_batch_norm(x, None, None, training=True, eps=1e-3, eps_mode="max"),
         lambda x: (x - x.mean(0)) / np.sqrt(np.maximum(x.var(0), 1e-3)), ("Maximum", "Pow"),
         grad=(0,), atol=1e-5),
    # losses and metrics
    Case("hinge_loss", hinge_inputs, F.loss.hinge_loss,
         lambda x, y: np.maximum(1 - x * y, 0).sum(1).mean(), ("Maximum", "Sum"), grad=(0,)),
    Case("hinge_loss_l2", hinge_inputs, lambda x, y: F.nn.hinge_loss(x, y, "L2", "none"),
         lambda x, y: (np.maximum(1 - x * y, 0) ** 2).sum(1), ("Maximum", "Mul"), grad=(0,)),
    Case("topk_accuracy", gens(distinct(6, 4), ints(6, hi=4)),
         lambda x, y: F.metric.topk_accuracy(x, y, 2),
         lambda x, y: np.mean([t in np.argsort(-r)[:2] for r, t in zip(x, y)]),
         ("TopK", "Equal")),
    # attention
    Case("multi_head_attention", gens(U(2, 3, 4), U(2, 5, 4), U(2, 5, 4), U(1, 80, lo=-0.5,
                                                                            hi=0.5)),
         _mha, lambda q, k, v, w: mha_ref(q, k, v, w, 2), ("Matmul", "Softmax"),
         grad=(0, 1, 2, 3), atol=1e-5),
    Case("multi_head_attention_causal", gens(U(1, 3, 4), U(1, 80, lo=-0.5, hi=0.5)),
         lambda x, w: _mha(x, x, x, w, is_causal=True),
         lambda x, w: mha_ref(x, x, x, w, 2, CAUSAL), ("Where", "Softmax"), grad=(0, 1),
         atol=1e-5),
    # MegEngine behaviours of existing functions (issue 11, item 10)
    Case("topk_k_too_large", gens(distinct(2, 3)), lambda x: F.topk(x, 5)[0],
         lambda x: -np.sort(-x, -1), ("TopK",), grad=(0,)),
    Case("topk_negative_k", gens(distinct(5)), lambda x: F.topk(x, -2)[0],
         lambda x: np.sort(x)[:2], ("TopK",), grad=(0,)),
    Case("split_uneven", gens(U(10, 2)), lambda x: F.split(x, 3)[0], lambda x: x[:4],
         ("GetItem",), grad=(0,)),
    Case("concat_0d", gens(U(), U(2)), lambda a, b: F.concat([a, b]),
         lambda a, b: np.concatenate([a[None], b]), ("Concat", "Reshape"), grad=(0, 1)),
    Case("pad_leading_pairs", gens(U(2, 3)), lambda x: F.nn.pad(x, ((1, 2),), "REPLICATE"),
         lambda x: np.pad(x, ((1, 2), (0, 0)), mode="edge"), ("Take",), grad=(0,)),
    Case("norm_int", gens(ints(3, 4, lo=-5, hi=5)), lambda x: F.norm(x, axis=1),
         lambda x: np.linalg.norm(x, axis=1), ("Cast", "Sqrt")),
    Case("sum_int8", lambda r: (r.integers(-100, 100, (4, 5)).astype(np.int8),),
         lambda x: F.sum(x, 1), lambda x: x.sum(1, dtype=np.int8), ("Sum", "Cast")),
    Case("l1_loss_int", gens(ints(3, 4), ints(3, 4)), F.nn.l1_loss,
         lambda x, y: np.abs(x - y).mean().astype(np.float64), ("Abs", "Cast")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op(case, device, monkeypatch):
    check_case(case, device, monkeypatch)


# ---------------------------------------------------------------- torch comparisons
def _pair(*shape, lo=-3.0, hi=3.0, seed=0):
    x = np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)
    return mge.tensor(x), torch.tensor(x, requires_grad=True)


TORCH_UNARY = [
    ("relu6", F.relu6, TF.relu6),
    ("hswish", F.hswish, TF.hardswish),
    ("hsigmoid", F.hsigmoid, TF.hardsigmoid),
    ("softplus", F.softplus, TF.softplus),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid),
    ("logsumexp", lambda x: F.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1)),
    ("pixel_shuffle", lambda x: F.pixel_shuffle(x.reshape(1, 8, 3, 3), 2),
     lambda x: TF.pixel_shuffle(x.reshape(1, 8, 3, 3), 2)),
    ("instance_norm", lambda x: F.instance_norm(x.reshape(2, 3, 4, 3), False),
     lambda x: TF.instance_norm(x.reshape(2, 3, 4, 3))),
    ("diag", lambda x: F.diag(x[0], 2), lambda x: torch.diag(x[0], 2)),
    ("swapaxes", lambda x: F.swapaxes(x, 0, 1), lambda x: torch.swapaxes(x, 0, 1)),
    # torch's LRN divides alpha by the window size, MegEngine's does not
    ("local_response_norm", lambda x: F.local_response_norm(x.reshape(2, 9, 4), 3, 2.0, 0.3,
                                                            0.75),
     lambda x: TF.local_response_norm(x.reshape(2, 9, 4), 3, 0.9, 0.75, 2.0)),
]


@pytest.mark.parametrize("name,ours,theirs", TORCH_UNARY, ids=[t[0] for t in TORCH_UNARY])
def test_against_torch(name, ours, theirs):
    x, tx = _pair(6, 12)
    gm = mge.autodiff.GradManager().attach(x)
    with gm:
        y = ours(x)
        gm.backward(y.sum())
    ty = theirs(tx)
    ty.sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_binary_against_torch():
    (a, ta), (b, tb) = _pair(3, 4), _pair(3, 4, seed=1)
    np.testing.assert_allclose(F.logaddexp(a, b).numpy(),
                               torch.logaddexp(ta, tb).detach().numpy(), rtol=1e-6)
    slope = _pair(1, 3, 1, seed=2)
    x, tx = _pair(2, 3, 4)
    np.testing.assert_allclose(F.prelu(x, slope[0]).numpy(),
                               TF.prelu(tx, slope[1].reshape(3)).detach().numpy(), rtol=1e-6)
    m, tm = _pair(2, 3, 3, seed=3)
    m, tm = m + mge.tensor(3 * np.eye(3, dtype="float32")), tm.detach() + 3 * torch.eye(3)
    np.testing.assert_allclose(F.matinv(m).numpy(), torch.linalg.inv(tm).numpy(), rtol=1e-5,
                               atol=1e-6)
    w, tw = _pair(5, 3)
    idx = np.array([[0, 4], [2, 2]], dtype=np.int32)
    np.testing.assert_allclose(F.embedding(mge.tensor(idx), w).numpy(),
                               TF.embedding(torch.tensor(idx).long(), tw).detach().numpy())


@pytest.mark.parametrize("masked", [False, True])
def test_multi_head_attention_against_torch(masked):
    """torch packs W as (out, in) and runs sequence-first: transpose both ways."""
    rng = np.random.default_rng(0)
    n, tgt, src, e, h = 2, 3, 5, 8, 2
    q, k, v = (rng.standard_normal((n, t, e)).astype(np.float32) for t in (tgt, src, src))
    w = (rng.standard_normal(4 * e * e + 4 * e) * 0.3).astype(np.float32)
    ws = [w[i * e * e:(i + 1) * e * e].reshape(e, e) for i in range(4)]
    bs = [w[4 * e * e + i * e:4 * e * e + (i + 1) * e] for i in range(4)]
    kpm = np.zeros((n, src), bool)
    kpm[0, 4] = kpm[1, 0] = True
    out, weights = F.nn.multi_head_attention(
        mge.tensor(q), mge.tensor(k), mge.tensor(v), e, h, 0.0, 0.0, mge.tensor(w[None]),
        qbias=True, kbias=True, vbias=True, obias=True, need_weights=True,
        average_attn_weights=True, key_padding_mask=mge.tensor(kpm) if masked else None,
        training=False)
    t = [torch.tensor(a) for a in (q, k, v)]
    tout, tweights = TF.multi_head_attention_forward(
        *(x.transpose(0, 1) for x in t), e, h,
        torch.tensor(np.concatenate([ws[0].T, ws[1].T, ws[2].T])),
        torch.tensor(np.concatenate(bs[:3])), None, None, False, 0.0,
        torch.tensor(ws[3].T), torch.tensor(bs[3]), training=False,
        key_padding_mask=torch.tensor(kpm) if masked else None, need_weights=True,
        average_attn_weights=True)
    np.testing.assert_allclose(out.numpy(), tout.transpose(0, 1).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(weights.numpy(), tweights.numpy(), rtol=1e-5, atol=1e-6)


def test_complex_dtype_and_values():
    z = F.complex(mge.tensor([1.0, 2.0]), mge.tensor([3.0, 4.0]))
    assert z.dtype == np.complex64
    np.testing.assert_array_equal(z.numpy(), np.array([1 + 3j, 2 + 4j], np.complex64))
    p = F.polar(mge.tensor([2.0]), mge.tensor([np.pi / 2]))
    np.testing.assert_allclose(p.numpy(), [2j], atol=1e-6)


def test_svd_shapes_and_orthogonality():
    x = mge.tensor(np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32))
    u, s, vh = F.svd(x, full_matrices=True)
    assert (u.shape, s.shape, vh.shape) == ((3, 3), (3,), (5, 5))
    np.testing.assert_allclose((u.numpy().T @ u.numpy()), np.eye(3), atol=1e-5)


def test_topk_accuracy_tuple_and_alias():
    logits = mge.tensor([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    top1, top3 = F.topk_accuracy(logits, mge.tensor([2, 0]), (1, 3))
    assert top1.item() == 0.5 and top3.item() == 1.0
    assert F.nn.roi_align is F.vision.roi_align and F.nn.nms is F.vision.nms
    assert F.nn.roi_pooling is F.vision.roi_pooling


def test_multi_head_attention_unbatched_dropout_and_kv_dims():
    rng = np.random.default_rng(1)
    e, h = 4, 2
    w = mge.tensor((rng.standard_normal((1, 4 * e * e + 4 * e)) * 0.3).astype(np.float32))
    x = mge.tensor(rng.standard_normal((3, e)).astype(np.float32))
    kw = dict(qbias=True, kbias=True, vbias=True, obias=True, need_weights=True)
    out, wts = F.nn.multi_head_attention(x, x, x, e, h, 0.0, 0.0, w, training=False, **kw)
    bout, bwts = F.nn.multi_head_attention(F.expand_dims(x, 0), F.expand_dims(x, 0),
                                           F.expand_dims(x, 0), e, h, 0.0, 0.0, w,
                                           training=False, **kw)
    assert out.shape == (3, e) and wts.shape == (h, 3, 3)
    np.testing.assert_allclose(out.numpy(), bout.numpy()[0], rtol=1e-6)
    dropped, _ = F.nn.multi_head_attention(x, x, x, e, h, 0.5, 0.5, w, training=True, **kw)
    assert not np.allclose(dropped.numpy(), out.numpy())
    # key/value feature sizes other than embed_dim (torch: separate projection weights)
    m = mge.module.MultiHeadAttention(e, h, kdim=6, vdim=3)
    tm = torch.nn.MultiheadAttention(e, h, kdim=6, vdim=3, batch_first=True)
    flat = m.io_weight_bias.numpy()[0]
    sizes = [(e, e), (6, e), (3, e), (e, e)]
    parts, at = [], 0
    for r, c in sizes:
        parts.append(flat[at:at + r * c].reshape(r, c))
        at += r * c
    with torch.no_grad():
        tm.q_proj_weight.copy_(torch.tensor(parts[0].T))
        tm.k_proj_weight.copy_(torch.tensor(parts[1].T))
        tm.v_proj_weight.copy_(torch.tensor(parts[2].T))
        tm.out_proj.weight.copy_(torch.tensor(parts[3].T))
        tm.in_proj_bias.zero_()
        tm.out_proj.bias.zero_()
    q = rng.standard_normal((2, 3, e)).astype(np.float32)
    k = rng.standard_normal((2, 5, 6)).astype(np.float32)
    v = rng.standard_normal((2, 5, 3)).astype(np.float32)
    ours, _ = m(mge.tensor(q), mge.tensor(k), mge.tensor(v))
    theirs, _ = tm(torch.tensor(q), torch.tensor(k), torch.tensor(v))
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-5)
