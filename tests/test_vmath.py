"""engine's vectorised exp / log (csrc/kernels/vmath.h, cpu/vmath*.cpp) against float64 numpy,
on every SIMD path: within 2 ulp over the whole float range (denormal results included), the
IEEE special values exact, and every tail length giving what the full-vector path gives."""
import numpy as np
import pytest

from engine._native import _C

pytestmark = pytest.mark.skipif(_C is None, reason="engine._C not built")


def ulp_error(got, ref64):
    """|got - ref| in units of the float32 spacing at the correctly rounded reference, for
    finite references; inf and NaN references must be matched exactly (checked separately)."""
    with np.errstate(over="ignore"):
        ref32 = ref64.astype(np.float32)
    spacing = np.spacing(np.abs(ref32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - ref64) / spacing


def check_ulp(got, x, ref_fn, max_ulp):
    with np.errstate(all="ignore"):
        ref = ref_fn(x.astype(np.float64))
        ref32 = ref.astype(np.float32)  # overflows to inf where float32 does
    finite = np.isfinite(ref32)
    err = ulp_error(got[finite], ref[finite])
    worst = int(np.argmax(err)) if err.size else 0
    assert err.size == 0 or err.max() <= max_ulp, (
        f"{err.max():.2f} ulp at x={x[finite][worst]!r}: got {got[finite][worst]!r}, "
        f"want {ref[finite][worst]!r}")
    np.testing.assert_array_equal(got[~finite], ref32[~finite])  # inf / -inf / NaN


def wide_exp_inputs(rng):
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 88.72, 88.7229, 88.73, 89.0, 100.0, -87.33,
               -87.34, -103.27, -103.28, -103.97, -104.0, -110.0, -1e30, 1e30, 1e-30, -1e-30,
               1e-45, 0.5 * np.log(2), -0.5 * np.log(2)]
    return np.concatenate([rng.uniform(-110, 95, 400_000), rng.uniform(-1, 1, 50_000),
                           rng.uniform(-1e-3, 1e-3, 10_000), special]).astype(np.float32)


def wide_log_inputs(rng):
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -1e-40, 1.0, 1e-45, 1e-40, 1.17549435e-38,
               1.1754942e-38, 3.4028235e38, np.sqrt(0.5), np.nextafter(np.sqrt(0.5), 0), 2.0]
    return np.concatenate([np.exp(rng.uniform(-103, 88.7, 400_000)), rng.uniform(0.5, 2, 50_000),
                           1 + rng.uniform(-1e-3, 1e-3, 10_000), special]).astype(np.float32)


def test_exp_within_two_ulp(isa):
    x = wide_exp_inputs(np.random.default_rng(0))
    check_ulp(_C.vexp(x), x, np.exp, 2.0)


def test_log_within_two_ulp(isa):
    x = wide_log_inputs(np.random.default_rng(1))
    check_ulp(_C.vlog(x), x, np.log, 2.0)


def test_sigmoid_within_three_ulp(isa):
    # 1 / (1 + exp(-x)): exp's 1 ulp plus the add and the divide
    x = (wide_exp_inputs(np.random.default_rng(2)) / 4).astype(np.float32)
    check_ulp(_C.sigmoid_forward(x), x, lambda v: 1 / (1 + np.exp(-v)), 3.0)


@pytest.mark.parametrize("fn", ["vexp", "vlog", "sigmoid_forward"])
def test_every_tail_length_matches_the_full_vectors(fn, isa):
    x = np.abs(wide_exp_inputs(np.random.default_rng(3))[:200]) if fn == "vlog" else \
        np.random.default_rng(3).uniform(-20, 20, 200).astype(np.float32)
    full = getattr(_C, fn)(x)
    for n in range(0, 70):
        np.testing.assert_array_equal(getattr(_C, fn)(x[:n]), full[:n], err_msg=f"n={n}")
    np.testing.assert_array_equal(getattr(_C, fn)(x[5:150]), full[5:150])  # unaligned start


def test_isa_paths_agree_within_one_ulp():
    from conftest import ISAS
    x = wide_exp_inputs(np.random.default_rng(4))
    before = _C.cpu_isa()
    try:
        outs = {}
        for name in ISAS:
            _C.set_cpu_isa(name)
            outs[name] = _C.vexp(x)
    finally:
        _C.set_cpu_isa(before)
    ref = outs["portable"]
    finite = np.isfinite(ref)
    for out in outs.values():
        np.testing.assert_array_max_ulp(out[finite], ref[finite], maxulp=1)


def test_dtype_error_names_the_op():
    with pytest.raises(ValueError, match="vexp: expected a float32 array, got float64"):
        _C.vexp(np.zeros(3))
