"""engine's own GEMM (engine._C.gemm, csrc/cpu/gemm*): against a float64 reference over odd
sizes, transposes, strides, batches and alpha/beta, on every ISA path this CPU has."""
import numpy as np
import pytest

C = pytest.importorskip("engine._C")

ISAS = [isa for isa in ("avx512", "avx2", "portable")
        if ["portable", "avx2", "avx512"].index(isa)
        <= ["portable", "avx2", "avx512"].index(C.detected_cpu_isa())]


@pytest.fixture(params=ISAS)
def isa(request):
    before = C.cpu_isa()
    C.set_cpu_isa(request.param)
    yield request.param
    C.set_cpu_isa(before)


def _ref(a, b, alpha=1.0, beta=0.0, c=None):
    r = alpha * (a.astype(np.float64) @ b.astype(np.float64))
    return r if c is None or beta == 0 else r + beta * c.astype(np.float64)


def _close(got, want, k):
    # float32 accumulation: error grows like sqrt(k) ulps of the magnitudes involved
    scale = np.abs(want).max() + 1.0
    np.testing.assert_allclose(got, want, rtol=0, atol=4e-7 * np.sqrt(max(k, 1)) * scale * 4)


def _operand(rng, shape, layout):
    """A float32 array of `shape` stored as `layout`: "c" contiguous, "t" a transposed view,
    "s" a strided slice (every other column of a wider array)."""
    if layout == "t":
        return np.ascontiguousarray(rng.standard_normal(shape[::-1], dtype=np.float32)).T
    if layout == "s":
        return rng.standard_normal((shape[0], shape[1] * 2), dtype=np.float32)[:, ::2]
    return rng.standard_normal(shape, dtype=np.float32)


SIZES = [1, 2, 3, 5, 7, 11, 12, 13, 16, 17, 31, 33, 64, 97]


@pytest.mark.parametrize("m", SIZES)
def test_odd_sizes_and_layouts(isa, m):
    rng = np.random.default_rng(m)
    for n in (1, 4, 15, 16, 17, 32, 33, 65):
        for k in (1, 2, 9, 17, 64, 131):
            for la, lb in (("c", "c"), ("t", "c"), ("c", "t"), ("t", "t"), ("s", "s")):
                a, b = _operand(rng, (m, k), la), _operand(rng, (k, n), lb)
                _close(C.gemm(a, b), _ref(a, b), k)


@pytest.mark.parametrize("shape", [(1, 1, 1), (300, 257, 411), (12, 2000, 64), (900, 40, 777),
                                   (5, 3, 1000), (41, 43, 47)])
def test_blocking_edges(isa, shape):
    # past KC / MC / NC so every block edge of the driver is crossed
    m, n, k = shape
    rng = np.random.default_rng(1)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    _close(C.gemm(a, b), _ref(a, b), k)


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (2.5, 0.0), (1.0, 1.0), (-0.5, 0.25),
                                        (0.0, 2.0)])
def test_alpha_beta(isa, alpha, beta):
    rng = np.random.default_rng(2)
    for m, n, k in ((3, 4, 5), (13, 17, 19), (100, 70, 300)):  # (tiny: summed where it lies)
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c0 = rng.standard_normal((m, n), dtype=np.float32)
        out = c0.copy()
        C.gemm(a, b, out=out, alpha=alpha, beta=beta)
        _close(out, _ref(a, b, alpha, beta, c0), k)


def test_beta_zero_ignores_garbage(isa):
    # BLAS's rule: beta == 0 overwrites C, NaN/inf already there do not leak through 0 * NaN
    a = np.ones((20, 30), np.float32)
    b = np.ones((30, 40), np.float32)
    out = np.full((20, 40), np.nan, np.float32)
    C.gemm(a, b, out=out, beta=0.0)
    np.testing.assert_array_equal(out, np.full((20, 40), 30.0, np.float32))
    tiny = np.full((2, 3), np.nan, np.float32)
    C.gemm(a[:2, :4], b[:4, :3], out=tiny, beta=0.0)
    np.testing.assert_array_equal(tiny, np.full((2, 3), 4.0, np.float32))


def test_zero_sizes(isa):
    assert C.gemm(np.ones((0, 3), np.float32), np.ones((3, 4), np.float32)).shape == (0, 4)
    assert C.gemm(np.ones((2, 3), np.float32), np.ones((3, 0), np.float32)).shape == (2, 0)
    # k == 0: the product is empty, C = beta * C
    out = np.full((2, 4), 3.0, np.float32)
    C.gemm(np.ones((2, 0), np.float32), np.ones((0, 4), np.float32), out=out, beta=0.5)
    np.testing.assert_array_equal(out, np.full((2, 4), 1.5, np.float32))
    np.testing.assert_array_equal(
        C.gemm(np.ones((2, 0), np.float32), np.ones((0, 4), np.float32)), np.zeros((2, 4)))


def test_strided_batches_and_broadcast(isa):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 13, 21), dtype=np.float32)
    b = rng.standard_normal((6, 21, 35), dtype=np.float32)
    _close(C.gemm(a, b), _ref(a, b), 21)
    # a batch of 1 broadcasts (stride 0), and transposed batch items
    b1 = rng.standard_normal((1, 21, 35), dtype=np.float32)
    _close(C.gemm(a, b1), _ref(a, np.broadcast_to(b1, (6, 21, 35))), 21)
    at = rng.standard_normal((6, 21, 13), dtype=np.float32).transpose(0, 2, 1)
    _close(C.gemm(at, b), _ref(at, b), 21)
    # many small items (the per-item-thread path) and few large ones
    a = rng.standard_normal((64, 4, 5), dtype=np.float32)
    b = rng.standard_normal((64, 5, 3), dtype=np.float32)
    _close(C.gemm(a, b), _ref(a, b), 5)
    a = rng.standard_normal((2, 200, 300), dtype=np.float32)
    b = rng.standard_normal((2, 300, 150), dtype=np.float32)
    _close(C.gemm(a, b), _ref(a, b), 300)


def test_out_with_row_stride(isa):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((10, 8), dtype=np.float32)
    b = rng.standard_normal((8, 6), dtype=np.float32)
    big = np.zeros((10, 16), np.float32)
    C.gemm(a, b, out=big[:, 5:11])
    _close(big[:, 5:11], _ref(a, b), 8)
    assert not big[:, :5].any() and not big[:, 11:].any()


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thread_counts_agree(isa, threads):
    before = C.get_num_threads()
    rng = np.random.default_rng(5)
    a = rng.standard_normal((333, 517), dtype=np.float32)
    b = rng.standard_normal((517, 411), dtype=np.float32)
    try:
        C.set_num_threads(1)
        one = C.gemm(a, b)
        C.set_num_threads(threads)
        many = C.gemm(a, b)
    finally:
        C.set_num_threads(before)
    # each element is the same sum in the same order whatever the split
    np.testing.assert_array_equal(one, many)


@pytest.mark.parametrize("m", [20, 300])  # 20 rows: the team splits columns, 300: rows
@pytest.mark.parametrize("blocks", [2, 3])
def test_threads_across_column_blocks_agree(isa, m, blocks):
    # N past one or two NC blocks (the driver cuts it into equal blocks of whole slivers and a
    # partial last sliver) and K past several KC steps: the places where threads hand B slivers
    # over between blocks
    blk = C.gemm_blocking()
    n, k = (blocks - 1) * blk["nc"] + blk["nr"] + 5, 2 * blk["kc"] + 11
    rng = np.random.default_rng(6)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    before = C.get_num_threads()
    try:
        C.set_num_threads(1)
        one = C.gemm(a, b)
        C.set_num_threads(2)
        for _ in range(3):
            np.testing.assert_array_equal(C.gemm(a, b), one)
    finally:
        C.set_num_threads(before)
    _close(one, _ref(a, b), k)


def test_errors_name_the_problem():
    f = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"gemm: a of shape \(3, 4\) and b of shape \(3, 4\)"):
        C.gemm(f, f)
    with pytest.raises(ValueError,
                       match="gemm: a must be float32 in native byte order, got float64"):
        C.gemm(np.ones((3, 4)), f.T)
    with pytest.raises(ValueError, match="gemm: out has shape"):
        C.gemm(f, f.T, out=np.empty((4, 4), np.float32))
    with pytest.raises(ValueError, match="beta != 0 needs an out"):
        C.gemm(f, f.T, beta=1.0)
    with pytest.raises(ValueError, match="batch sizes"):
        C.gemm(np.ones((2, 3, 4), np.float32), np.ones((3, 4, 5), np.float32))
    with pytest.raises(ValueError, match="supports up to|expected avx512, avx2 or portable"):
        C.set_cpu_isa("sse9")
    with pytest.raises(ValueError, match="gemm: out must be a numpy array, got <class 'list'>"):
        C.gemm(f, f.T, out=[[0.0] * 3] * 3)
    with pytest.raises(ValueError, match="native byte order"):
        C.gemm(f.astype(">f4"), f.T)
    a = np.ones((8, 8), np.float32)
    with pytest.raises(ValueError, match="out shares memory with a or b"):
        C.gemm(a, np.ones((8, 8), np.float32), out=a)


def test_isa_paths_and_blocking():
    assert C.cpu_isa() in ("avx512", "avx2", "portable")
    blk = C.gemm_blocking()
    assert blk["kc"] >= 8 and blk["mc"] % blk["mr"] == 0 and blk["nc"] % blk["nr"] == 0
    assert C.fma_peak_gflops(1, 0.01) > 0
