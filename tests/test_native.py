"""Tests of the native module engine._C itself, below the op layer.

The references are float64 numpy/math; the kernels compute in float32, so tolerances are a few
float32 ulps. CUDA tests drive the raw-pointer entry points through the CUDA runtime via ctypes
(or CuPy when installed), so they need no framework code above _C.
"""

import ctypes
import ctypes.util
import glob
import math
import re

import numpy as np
import pytest

from engine import _C

THRESHOLD = 1 << 15  # csrc/cpu/parallel.h kParallelThreshold
_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu_ref(x):
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def gelu_grad_ref(x, dy):
    x = np.asarray(x, dtype=np.float64)
    cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
    with np.errstate(over="ignore"):
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return np.asarray(dy, dtype=np.float64) * (cdf + x * pdf)


def assert_close_f32(actual, expected, atol=1e-6):
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=2e-6, atol=atol)


def special_values():
    # (9,): zero, both tails, the region where 1 + erf cancels, and |x| large enough that x*x
    # overflows float32 inside the kernel.
    return np.array([0.0, -0.0, 1e-30, -5.0, -9.0, 30.0, -30.0, 1e4, -1e4, 3e38, -3e38], np.float32)


def test_accepts_numpy_scalars_and_0d_arrays():
    for x in (np.float32(1.5), np.array(1.5, np.float32)):
        y = _C.gelu_forward(x)
        assert y.shape == () and y.dtype == np.float32
        np.testing.assert_allclose(y, gelu_ref(1.5), rtol=2e-6)
    assert _C.gelu_backward(np.float32(1.5), np.float32(2.0)).shape == ()
    with pytest.raises(ValueError, match="got float64"):
        _C.gelu_forward(1.5)  # a Python float is float64


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# -- forward ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 5), (2, 3, 4), (0,), (3, 0, 2)])
def test_gelu_forward_matches_erf_reference(rng, shape):
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    y = _C.gelu_forward(x)
    assert_close_f32(y, gelu_ref(x))
    assert y.flags.c_contiguous


def test_gelu_forward_special_values():
    x = special_values()
    y = _C.gelu_forward(x)
    assert_close_f32(y, gelu_ref(x))
    assert y[0] == 0.0
    np.testing.assert_array_equal(y[-2:], [x[-2], 0.0])  # gelu(x) -> x and -> 0 in the tails


def test_gelu_forward_negative_tail_keeps_relative_precision():
    # 1 + erf(x/sqrt2) has no significant digits left at x = -9; the kernel's erfc form does.
    x = np.array([-4.0, -6.0, -9.0], np.float32)
    expected = np.array([0.5 * v * math.erfc(-v / math.sqrt(2.0)) for v in x.astype(np.float64)])
    np.testing.assert_allclose(_C.gelu_forward(x), expected, rtol=1e-5)


@pytest.mark.parametrize("n", [THRESHOLD - 1, THRESHOLD, 1 << 20])
def test_gelu_forward_large_arrays_use_threaded_path(rng, n):
    x = (rng.standard_normal(n) * 4).astype(np.float32)
    assert_close_f32(_C.gelu_forward(x), gelu_ref(x))


def test_gelu_forward_same_result_for_any_thread_count(rng):
    x = rng.standard_normal((1 << 18) + 3).astype(np.float32)
    before = _C.get_num_threads()
    try:
        _C.set_num_threads(1)
        y1 = _C.gelu_forward(x)
        _C.set_num_threads(max(2, before))
        y2 = _C.gelu_forward(x)
    finally:
        _C.set_num_threads(before)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a[::2],
        lambda a: a.reshape(8, 16).T,
        lambda a: np.asfortranarray(a.reshape(8, 16)),
        lambda a: a.reshape(8, 16)[1::3, ::-2],
        lambda a: a.astype(">f4"),  # float32 in non-native byte order is still float32
    ],
    ids=["strided", "transposed", "fortran", "negative-stride", "big-endian"],
)
def test_gelu_forward_non_contiguous_input(rng, make):
    base = rng.standard_normal(128).astype(np.float32)
    x = make(base)
    x_before = x.copy()
    y = _C.gelu_forward(x)
    assert_close_f32(y, gelu_ref(x))
    assert y.flags.c_contiguous
    np.testing.assert_array_equal(x, x_before)


def test_gelu_forward_returns_new_array(rng):
    x = rng.standard_normal(16).astype(np.float32)
    y = _C.gelu_forward(x)
    assert not np.shares_memory(x, y)


# -- backward -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (5,), (4, 6), (2, 3, 4), (0,), (2, 0)])
def test_gelu_backward_matches_analytic_derivative(rng, shape):
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    dx = _C.gelu_backward(x, dy)
    assert_close_f32(dx, gelu_grad_ref(x, dy))


def test_gelu_backward_special_values(rng):
    x = special_values()
    dy = rng.standard_normal(x.shape).astype(np.float32)
    dx = _C.gelu_backward(x, dy)
    assert_close_f32(dx, gelu_grad_ref(x, dy))
    assert np.all(np.isfinite(dx))


def test_gelu_backward_matches_finite_differences(rng):
    x = np.concatenate([np.linspace(-6, 6, 241), rng.standard_normal(64) * 2]).astype(np.float32)
    x64 = x.astype(np.float64)
    h = 1e-5
    numeric = (gelu_ref(x64 + h) - gelu_ref(x64 - h)) / (2 * h)
    dx = _C.gelu_backward(x, np.ones_like(x))
    np.testing.assert_allclose(dx, numeric, rtol=1e-5, atol=1e-6)


def test_gelu_backward_large_and_non_contiguous(rng):
    x = (rng.standard_normal((1 << 10, 1 << 8)) * 3).astype(np.float32)
    dy = rng.standard_normal((1 << 8, 1 << 10)).astype(np.float32).T  # same shape, F-order
    assert_close_f32(_C.gelu_backward(x, dy), gelu_grad_ref(x, dy))
    assert_close_f32(_C.gelu_backward(x[:, ::2], dy[:, ::2]), gelu_grad_ref(x[:, ::2], dy[:, ::2]))


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.int64, np.bool_])
def test_gelu_forward_rejects_other_dtypes(dtype):
    x = np.zeros(3, dtype=dtype)
    name = np.dtype(dtype).name
    with pytest.raises(ValueError, match=f"gelu_forward: expected a float32 array, got {name}"):
        _C.gelu_forward(x)


def test_gelu_backward_rejects_other_dtypes():
    x = np.zeros(3, np.float32)
    with pytest.raises(
        ValueError,
        match=r"gelu_backward: expected a float32 array, got float64 "
        r"\(argument dy\)",
    ):
        _C.gelu_backward(x, np.zeros(3))
    with pytest.raises(ValueError, match=r"got int32 \(argument x\)"):
        _C.gelu_backward(np.zeros(3, np.int32), x)


@pytest.mark.parametrize(
    "x_shape, dy_shape",
    [((2, 3), (3, 2)), ((3,), (3, 1)), ((4,), (5,)), ((), (1,))],
)
def test_gelu_backward_shape_mismatch_names_both_shapes(x_shape, dy_shape):
    x = np.zeros(x_shape, np.float32)
    dy = np.zeros(dy_shape, np.float32)
    pattern = rf"gelu_backward: .*x {re_shape(x_shape)} and dy {re_shape(dy_shape)}"
    with pytest.raises(ValueError, match=pattern):
        _C.gelu_backward(x, dy)


def re_shape(shape):
    return re.escape(str(tuple(shape)))


# -- module surface -----------------------------------------------------------------------------


def test_with_cuda_is_bool_and_matches_entry_points():
    assert isinstance(_C.with_cuda(), bool)
    assert hasattr(_C, "gelu_forward_cuda") == _C.with_cuda()
    assert hasattr(_C, "gelu_backward_cuda") == _C.with_cuda()


def test_num_threads_roundtrip():
    before = _C.get_num_threads()
    assert before >= 1
    try:
        _C.set_num_threads(1)
        assert _C.get_num_threads() == 1
    finally:
        _C.set_num_threads(before)
    with pytest.raises(ValueError, match="set_num_threads"):
        _C.set_num_threads(0)


# -- CUDA ---------------------------------------------------------------------------------------


def _cudart():
    """The CUDA runtime through ctypes, or None when no GPU (or no runtime) is usable."""
    names = [ctypes.util.find_library("cudart")]
    names += sorted(glob.glob("/usr/local/cuda*/lib64/libcudart.so*"), reverse=True)
    for name in filter(None, names):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        count = ctypes.c_int(0)
        if lib.cudaGetDeviceCount(ctypes.byref(count)) == 0 and count.value > 0:
            return lib
        return None
    return None


class _DeviceBuffer:
    """A float32 device buffer owned by the ctypes runtime; enough to call _C's raw entry points."""

    def __init__(self, rt, host):
        self.rt, self.n = rt, host.size
        self.ptr = ctypes.c_void_p()
        assert rt.cudaMalloc(ctypes.byref(self.ptr), ctypes.c_size_t(max(4 * self.n, 4))) == 0
        if self.n:
            src = np.ascontiguousarray(host, np.float32)
            assert (
                rt.cudaMemcpy(
                    self.ptr, src.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(4 * self.n), 1
                )
                == 0
            )  # host to device

    def get(self, shape):
        out = np.empty(shape, np.float32)
        if self.n:
            assert (
                self.rt.cudaMemcpy(
                    out.ctypes.data_as(ctypes.c_void_p), self.ptr, ctypes.c_size_t(4 * self.n), 2
                )
                == 0
            )  # device to host
        return out

    def free(self):
        self.rt.cudaFree(self.ptr)


@pytest.fixture
def cudart():
    if not _C.with_cuda():
        pytest.skip("engine._C was built without CUDA")
    rt = _cudart()
    if rt is None:
        pytest.skip("no CUDA device")
    return rt


@pytest.mark.cuda
@pytest.mark.parametrize("n", [0, 1, 1000, (1 << 20) + 7, 20_000_000])
def test_gelu_cuda_matches_cpu(cudart, rng, n):
    x = np.concatenate([special_values(), rng.standard_normal(n) * 4]).astype(np.float32)[:n]
    dy = rng.standard_normal(n).astype(np.float32)
    bx, bdy, by, bdx = (_DeviceBuffer(cudart, a) for a in (x, dy, np.empty(n), np.empty(n)))
    try:
        _C.gelu_forward_cuda(bx.ptr.value or 0, by.ptr.value or 0, n, 0)
        _C.gelu_backward_cuda(bx.ptr.value or 0, bdy.ptr.value or 0, bdx.ptr.value or 0, n, 0)
        assert cudart.cudaDeviceSynchronize() == 0
        y, dx = by.get(n), bdx.get(n)
    finally:
        for b in (bx, bdy, by, bdx):
            b.free()
    # Same HOST_DEVICE math on both sides; only the libm implementations differ.
    np.testing.assert_allclose(y, _C.gelu_forward(x), rtol=4e-6, atol=1e-7)
    np.testing.assert_allclose(dx, _C.gelu_backward(x, dy), rtol=4e-6, atol=1e-6)
    assert_close_f32(y[:100_000], gelu_ref(x[:100_000]))


@pytest.mark.cuda
def test_gelu_cuda_on_cupy_stream(cudart, rng):
    cp = pytest.importorskip("cupy")
    x = cp.asarray((rng.standard_normal((64, 33)) * 3).astype(np.float32))
    dy = cp.asarray(rng.standard_normal((64, 33)).astype(np.float32))
    y, dx = cp.empty_like(x), cp.empty_like(x)
    with cp.cuda.Stream(non_blocking=True) as stream:
        _C.gelu_forward_cuda(x.data.ptr, y.data.ptr, x.size, stream.ptr)
        _C.gelu_backward_cuda(x.data.ptr, dy.data.ptr, dx.data.ptr, x.size, stream.ptr)
        stream.synchronize()
    assert_close_f32(cp.asnumpy(y), gelu_ref(cp.asnumpy(x)))
    assert_close_f32(cp.asnumpy(dx), gelu_grad_ref(cp.asnumpy(x), cp.asnumpy(dy)), atol=1e-6)


@pytest.mark.cuda
def test_gelu_cuda_rejects_negative_n(cudart):
    with pytest.raises(ValueError, match="gelu_forward_cuda: expected n >= 0"):
        _C.gelu_forward_cuda(0, 0, -1, 0)
