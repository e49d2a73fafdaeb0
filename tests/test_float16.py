"""float16 (and bfloat16) through every op: each op-table row (optable.all_cases()) runs on
float16 inputs and is compared with the same row on float32 inputs holding the same
(float16-rounded) values. bfloat16 runs the same table when ml_dtypes is installed.

What is checked per row: float outputs stay float16 (an op never silently upcasts), values agree
with the float32 run within float16 tolerance, integer/bool outputs are equal, and the gradients
of the row's float inputs are float16 and agree with the float32 gradients. Ops that accumulate
(reductions, softmax, normalisation, matmul/conv) do so in float32 and cast back, so their error
stays within a few float16 ulps of the result, not of the sum of the terms.
"""
import subprocess
import sys
import zlib

import numpy as np
import pytest
from optable import all_cases

import engine as mge
import engine.functional as F
from engine import dtype as _dt
from engine.autodiff import GradManager

# Rows whose float16 run returns float32 by MegEngine's rules, with the reason. Every other row
# with a float output must return float16.
FLOAT32_RESULT = {
    "cast_float16": "casts to float32 explicitly",
    "zeros_like_add": "adds F.ones(), a float32 tensor: float16 + float32 promotes",
    "arange_linspace_eye": "adds float32 tensors from arange/linspace/eye/full",
    # MegEngine's Reduce(MEAN) computes in and returns float32 for any input dtype, so F.mean
    # and everything reduced with it (var, std, reduction="mean" losses) is float32
    "mean": "F.mean", "var": "F.mean", "std": "F.mean",
    "cross_entropy": "mean", "cross_entropy_smooth": "mean", "ce_fused": "mean",
    "binary_cross_entropy": "mean", "l1_loss": "mean", "smooth_l1_loss": "mean",
    "focal_loss_binary_mean": "mean",
    "hinge_loss": "reduction='mean' is F.mean (MegEngine 1.13: float32 for float16 input)",
    "ctc_loss_mean": "reduction='mean' is F.mean (float32 for any input)",
    # MegEngine 1.13's topk_accuracy returns float32 for float16 logits (checked live)
    "topk_accuracy": "a fraction of the batch, float32 as in MegEngine",
    # complex64 is the only complex dtype: its parts are float32 whatever the inputs were
    # (MegEngine refuses float16 parts; engine widens them and keeps the gradient float16)
    "complex_parts": "F.real/F.imag of complex64", "polar": "F.real/F.imag of complex64",
}

# float16 has an 11-bit mantissa (eps 2**-10), bfloat16 an 8-bit one (eps 2**-7); the tolerance
# allows a few roundings on the way
TOL = {"float16": 1e-2, "bfloat16": 5e-2}
LOW_DTYPES = ["float16", pytest.param("bfloat16", marks=pytest.mark.skipif(
    not _dt._load_bfloat16(), reason="ml_dtypes is not installed"))]


def _float16_cases():
    """Rows with at least one float input: the rows float16 can change."""
    out = []
    for c in all_cases():
        arrays = c.gen(np.random.default_rng(zlib.crc32(c.name.encode())))
        if any(np.asarray(a).dtype.kind == "f" for a in arrays):
            out.append(c)
    return out


CASES = []  # this module adds no op-table rows of its own (optable.all_cases reads CASES)
F16_CASES = _float16_cases()


def _run(case, arrays, dtype, device):
    """The row's output and the gradients of its `grad` inputs, with float inputs in dtype."""
    xs = [mge.tensor(a, dtype=dtype if a.dtype.kind == "f" else None, device=device)
          for a in arrays]
    grad_ins = [xs[i] for i in case.grad]
    if not grad_ins:
        return case.fn(*xs), []
    # `with`: a row that raises must not leave this GradManager recording (later rows would
    # then run their backward in the recorded, higher-order mode)
    with GradManager().attach(grad_ins) as gm:
        out = case.fn(*xs)
        rng = np.random.default_rng(1)
        w = mge.tensor(rng.uniform(0.5, 1.5, out.shape), dtype=out.dtype, device=device)
        gm.backward((out * w).sum())
    return out, [x.grad for x in grad_ins]


def _scale(a):
    """Magnitude for the absolute tolerance: float16 error grows with the values involved."""
    a = np.abs(np.asarray(a, np.float64))
    return max(1.0, float(a.max())) if a.size else 1.0


@pytest.mark.parametrize("low", LOW_DTYPES)
@pytest.mark.parametrize("case", F16_CASES, ids=[c.name for c in F16_CASES])
def test_low_precision_matches_float32(case, low, device):
    if low == "bfloat16" and device != "cpu0":
        pytest.skip("CuPy arrays have no bfloat16 dtype: bfloat16 is a CPU (numpy) storage type")
    low_dt, tol = _dt.canonical(low), TOL[low]
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    # round the float inputs to the low dtype once, so both runs see the same values
    arrays = [np.asarray(a).astype(low_dt).astype(np.float32) if np.asarray(a).dtype.kind == "f"
              else np.asarray(a) for a in case.gen(rng)]
    out16, g16 = _run(case, arrays, low, device)
    out32, g32 = _run(case, arrays, "float32", device)
    want = out32.numpy()
    got = out16.numpy()
    assert got.shape == want.shape
    if want.dtype.kind == "f":
        expect = _dt.float32 if case.name in FLOAT32_RESULT else low_dt
        assert got.dtype == expect, f"{case.name}: output dtype {got.dtype}, want {expect}"
        np.testing.assert_allclose(got.astype(np.float32), want, rtol=tol,
                                   atol=tol * _scale(want), err_msg=case.name)
    else:
        np.testing.assert_array_equal(got, want, err_msg=case.name)
    for i, a, b in zip(case.grad, g16, g32):
        assert a is not None, f"{case.name}: no {low} gradient for input {i}"
        assert a.dtype == low_dt, f"{case.name}: grad {i} dtype {a.dtype}, want {low}"
        np.testing.assert_allclose(a.numpy().astype(np.float32), b.numpy(), rtol=tol,
                                   atol=tol * _scale(b.numpy()),
                                   err_msg=f"{case.name}: grad of input {i}")


NORMS = [
    ("layer_norm", (2, 3, 4), 4, lambda x, w, b: F.nn.layer_norm(x, 4, True, w, b)),
    ("group_norm", (2, 4, 3), 4, lambda x, w, b: F.nn.group_norm(x, 2, True, w, b)),
    ("batch_norm", (5, 3, 2), 3, lambda x, w, b: F.nn.batch_norm(x, weight=w, bias=b,
                                                                 training=True)),
]


@pytest.mark.parametrize("low", LOW_DTYPES)
@pytest.mark.parametrize("name,shape,c,fn", NORMS, ids=[n[0] for n in NORMS])
def test_norm_gradients_keep_dtype_when_backward_is_recorded(name, shape, c, fn, low):
    # a recorded backward (higher-order gradients) runs the norms' backward as ops that mix x
    # with the float32 statistics; the gradients must still come back in x's dtype
    rng = np.random.default_rng(0)
    x = mge.tensor(rng.standard_normal(shape), dtype=low)
    w, b = mge.tensor(rng.uniform(0.5, 1.5, c), dtype=low), mge.tensor(np.zeros(c), dtype=low)
    outer = GradManager().attach([x])
    with outer:
        with GradManager().attach([x, w, b]) as inner:
            y = fn(x, w, b)
            inner.backward((y * y).sum())
        assert [t.grad.dtype for t in (x, w, b)] == [_dt.canonical(low)] * 3, name
        g = x.grad
        x.grad = None
        outer.backward((g * g).sum())
    assert x.grad.dtype == _dt.canonical(low), name


def test_is_number_knows_bfloat16():
    assert _dt.is_number(_dt.float16) and _dt.is_number("int32") and _dt.is_number(_dt.uint8)
    assert not _dt.is_number(_dt.bool_) and not _dt.is_number("complex64")
    if _dt._load_bfloat16():
        assert _dt.is_number(_dt.bfloat16) and _dt.bfloat16.kind not in "iuf"
        from engine.functional.math import _check_non_finite  # GradScaler-style check

        assert _check_non_finite([mge.tensor([1.0, np.inf], dtype="bfloat16")]).item() == 1


# Long accumulations: a float16 accumulator stalls at 2048 (2048 + 1 rounds back to 2048), so
# these sums of ones are exact only when the op accumulates in float32.
N = 4096
ACCUMULATING = [
    ("sum", lambda x: F.sum(x), N),
    ("cumsum", lambda x: F.cumsum(x, 1)[0, -1], N),
    ("matmul", lambda x: F.matmul(x, x, transpose_b=True)[0, 0], N),
    ("linear", lambda x: F.nn.linear(x, x)[0, 0], N),
    ("conv2d", lambda x: F.conv2d(F.reshape(x, (1, N, 1, 1)), F.reshape(x, (1, N, 1, 1)))
     .flatten()[0], N),
    ("mean_is_float32", lambda x: F.mean(x) * N, N),
    ("softmax", lambda x: F.softmax(x, 1)[0, 0] * N, 1.0),
    ("mean_logsumexp_ce", lambda x: F.nn.cross_entropy(F.zeros((1, N), x.dtype),
                                                  mge.tensor([0])), float(np.log(N))),
    ("norm", lambda x: F.norm(x.flatten()), 64.0),
    ("batch_norm_stats", lambda x: F.nn.batch_norm(
        F.reshape(x, (N, 1)), training=True, momentum=0.9)[0, 0] + 1, 1.0),
]


@pytest.mark.parametrize("name,fn,want", ACCUMULATING, ids=[a[0] for a in ACCUMULATING])
def test_float16_accumulates_in_float32(name, fn, want, device):
    x = mge.tensor(np.ones((1, N)), dtype="float16", device=device)
    got = fn(x)
    # MegEngine's means (and mean-reduced losses) return float32
    assert got.dtype == (_dt.float32 if name.startswith("mean") else _dt.float16)
    np.testing.assert_allclose(float(got.item()), want, rtol=2e-3)


def test_float16_matmul_in_float32_beats_float16_accumulation(device):
    # 1000 terms of ~0.3: the float32 accumulator rounds once at the end
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 0.6, (4, 1000)).astype(np.float16)
    b = rng.uniform(0, 1.0, (1000, 3)).astype(np.float16)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    got = F.matmul(mge.tensor(a, device=device), mge.tensor(b, device=device)).numpy()
    assert got.dtype == np.float16
    # within one float16 rounding of the exact result
    np.testing.assert_allclose(got, exact, rtol=2 ** -10)


def test_bfloat16_without_ml_dtypes_names_what_is_missing():
    # a fresh interpreter where ml_dtypes cannot be imported
    code = ("import sys; sys.modules['ml_dtypes'] = None\n"
            "import engine as mge\n"
            "try:\n    mge.tensor([1.0], dtype='bfloat16')\n"
            "except TypeError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "bfloat16 needs the ml_dtypes package" in out
    assert "float16" in out and "float32" in out  # what is available instead


@pytest.mark.parametrize("first_mention", [
    "mge.tensor([1.0, 2.0], dtype='bfloat16')",
    "mge.tensor(np.array([1.0, 2.0], ml_dtypes.bfloat16))",  # an array the user made with ml_dtypes
    "mge.tensor([1.0, 2.0]).astype(mge.dtype.bfloat16)",
    "mge.tensor([1.0, 2.0]).astype('bfloat16')",
])
def test_bfloat16_is_registered_on_first_mention(first_mention):
    """engine does not import ml_dtypes (~0.5 s of numpy ufunc registration) until bfloat16
    is named, and then it is a dtype like the others."""
    pytest.importorskip("ml_dtypes")
    code = ("import sys, numpy as np, engine as mge\n"
            "assert 'ml_dtypes' not in sys.modules\n"
            "import ml_dtypes\n"
            f"t = {first_mention}\n"
            "d = mge.dtype\n"
            "assert t.dtype == d.bfloat16 and t.dtype is d.bfloat16, t.dtype\n"
            "assert d.is_float('bfloat16') and d.is_low_precision(t.dtype)\n"
            "assert d.is_bfloat16(t.dtype) and d.bfloat16 in d.SUPPORTED\n"
            "assert (t * 2.0).dtype == d.bfloat16\n"
            "assert (t.astype('float32') + t).dtype == d.float32\n"
            "print((t.sum()).numpy())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert float(out) == 3.0


def test_low_precision_promotion():
    assert _dt.promote(_dt.float16, _dt.float32) == _dt.float32
    assert _dt.promote(_dt.float16, _dt.int32) == _dt.float16
    if _dt._load_bfloat16():
        assert _dt.promote(_dt.float16, _dt.bfloat16) == _dt.float32  # neither holds the other
        x = mge.tensor([1.5, 2.0], dtype="bfloat16")
        assert (x * 2.0).dtype == _dt.bfloat16  # a Python float stays weak
        assert _dt.is_bfloat16(x.dtype) and not _dt.is_bfloat16(_dt.float16)


@pytest.mark.parametrize("n", [4096, 4099, 70001])
def test_native_half_conversion_is_numpys_astype(n):
    # the F16C path (engine/ops/_kernels.py) must round exactly as numpy does, edges included
    from engine.ops import _kernels

    if not _kernels._has_f16c():
        pytest.skip("this CPU has no F16C: numpy's astype is used")
    x = (np.random.default_rng(n).standard_normal(n) * 3e4).astype(np.float32)
    x[:10] = [np.inf, -np.inf, np.nan, 65519.0, 65520.0, 6e-8, 2.9802322e-08, -0.0, 1e-45, 1.5]
    with np.errstate(over="ignore"):
        want = x.astype(np.float16)
    got = _kernels.to_dtype(x, np.dtype(np.float16))
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))
    back = _kernels.f32(want[::1])
    np.testing.assert_array_equal(back, want.astype(np.float32))
    strided = want[::2]  # a non-contiguous input is copied first
    np.testing.assert_array_equal(_kernels.f32(strided), strided.astype(np.float32))
