"""The group updates (one native call for every tensor of a parameter group, split in chunks
across threads): what the per-tensor kernels and the numpy updates give, tensor by tensor, for
sizes from 0 to several chunks, every SGD/Adam variant and per-tensor Adam step counts; groups
that the native call cannot take fall back per tensor; errors name the list and the index."""
import numpy as np
import pytest

import engine as mge
import engine.optimizer as optim
from engine.optimizer import _inplace

_C = _inplace._C
pytestmark = pytest.mark.skipif(_C is None, reason="engine._C not built")

SIZES = [0, 1, 7, 16384, 16385, 70_001, 3]  # empty, tiny, a chunk edge, several chunks


def arrays(seed, positive=False):
    rng = np.random.default_rng(seed)
    out = [rng.standard_normal(n).astype(np.float32) for n in SIZES]
    return [np.abs(a) for a in out] if positive else out


def copies(xs):
    return [x.copy() for x in xs]


@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_group_equals_per_tensor_and_numpy(momentum, nesterov, monkeypatch):
    p0, g, b0 = arrays(0), arrays(1), arrays(2)
    args = (0.1, 0.01, momentum, nesterov)
    p, b = copies(p0), copies(b0) if momentum else None
    _inplace.sgd_update_group(p, g, b, *args)
    for i in range(len(SIZES)):
        q, c = p0[i].copy(), b0[i].copy() if momentum else None
        _inplace.sgd_update(q, g[i], c, *args)
        np.testing.assert_array_equal(p[i], q)  # the same kernel, chunked differently
        if momentum:
            np.testing.assert_array_equal(b[i], c)
    monkeypatch.setattr(_inplace, "_C", None)
    pn, bn = copies(p0), copies(b0) if momentum else None
    _inplace.sgd_update_group(pn, g, bn, *args)
    for i in range(len(SIZES)):
        np.testing.assert_allclose(p[i], pn[i], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_group_equals_per_tensor_with_own_steps(decoupled, monkeypatch):
    p0, g, m0, v0 = arrays(3), arrays(4), arrays(5), arrays(6, positive=True)
    steps = [float(s) for s in range(1, len(SIZES) + 1)]  # each tensor its own bias correction
    args = (1e-2, 0.9, 0.999, 1e-8, 0.05)
    p, m, v = copies(p0), copies(m0), copies(v0)
    _inplace.adam_update_group(p, g, m, v, steps, *args, decoupled)
    per_tensor = {}
    for native in (True, False):
        if not native:
            monkeypatch.setattr(_inplace, "_C", None)
        per_tensor[native] = [copies(p0), copies(m0), copies(v0)]
        for i, step in enumerate(steps):
            q, mi, vi = (xs[i] for xs in per_tensor[native])
            _inplace.adam_update(q, g[i], mi, vi, *args, step, decoupled)
    for got, same_kernel, numpy_ in zip((p, m, v), per_tensor[True], per_tensor[False]):
        for i in range(len(SIZES)):
            np.testing.assert_array_equal(got[i], same_kernel[i])
            # numpy rounds (1 - beta2) and the bias corrections differently from the kernel
            np.testing.assert_allclose(got[i], numpy_[i], rtol=1e-5, atol=2e-6)


def test_mixed_dtype_group_falls_back_per_tensor():
    p = [mge.Parameter(np.ones(5, np.float32)), mge.Parameter(np.ones(4, np.float16))]
    for t in p:
        t.grad = mge.Tensor(np.full(t.shape, 2, t.dtype), dtype=t.dtype)
    optim.SGD(p, lr=0.25, momentum=0.5).step()
    np.testing.assert_array_equal(p[0].numpy(), np.full(5, 0.5, np.float32))
    np.testing.assert_array_equal(p[1].numpy(), np.full(4, 0.5, np.float16))


def test_group_errors_name_the_list_and_index():
    p, g = [np.zeros(3, np.float32), np.zeros(4, np.float32)], [np.zeros(3, np.float32)]
    with pytest.raises(ValueError, match="sgd_update_group: grads has 1 arrays but params has 2"):
        _C.sgd_update_group_(p, g, None, 0.1, 0.0, 0.0, False)
    g = [np.zeros(3, np.float32), np.zeros(5, np.float32)]
    with pytest.raises(ValueError, match=r"grads\[1\] has shape \(5,\) but the parameter has 4"):
        _C.sgd_update_group_(p, g, None, 0.1, 0.0, 0.0, False)
    frozen = np.zeros(4, np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\[1\] must be a writable C-contiguous array"):
        _C.sgd_update_group_([p[0], frozen], [p[0], frozen], None, 0.1, 0.0, 0.0, False)
    with pytest.raises(ValueError, match="adam_update_group: steps has 1 values but params has 2"):
        _C.adam_update_group_(p, p, p, p, [1.0], 1e-3, 0.9, 0.999, 1e-8, 0.0, False)
