"""The op-table machinery shared by every test_*.py that declares `CASES`.

A row (Case) gives an input generator, the engine call, a float64 numpy reference, the op classes
it exercises and which inputs to check the gradient of (against central finite differences of
the reference). `check_case` runs one row on one device; test_ops_table.py's meta-test gathers
the CASES of every test module and fails when a registered op has no row.
"""
import glob
import importlib
import os
import zlib
from dataclasses import dataclass, field

import numpy as np

import engine as mge
from engine.autodiff import GradManager
from engine.ops import REGISTRY


@dataclass
class Case:
    name: str
    gen: object           # rng -> tuple of numpy inputs
    fn: object            # engine tensors -> tensor
    ref: object           # float64 numpy arrays -> array
    ops: tuple            # op class names this row exercises
    grad: tuple = ()      # indices of inputs whose gradient is checked
    rtol: float = 1e-5
    atol: float = 1e-6
    gtol: float = 2e-3
    extra: dict = field(default_factory=dict)


def U(*shape, lo=-2.0, hi=2.0):
    return lambda rng: rng.uniform(lo, hi, shape)


def gens(*gs):
    return lambda rng: tuple(g(rng) for g in gs)


def ints(*shape, lo=0, hi=5):
    return lambda rng: rng.integers(lo, hi, shape).astype(np.int32)


def bools(*shape):
    return lambda rng: rng.random(shape) > 0.5


def distinct(*shape):
    """Values far apart, so max/min/sort have no ties and finite differences are clean."""
    def g(rng):
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.1 + rng.uniform(0, 0.01, n)).reshape(shape) - n * 0.05
    return g


def all_cases():
    """Every Case declared in a tests/test_*.py module's CASES."""
    here = os.path.dirname(os.path.abspath(__file__))
    cases = []
    for path in sorted(glob.glob(os.path.join(here, "test_*.py"))):
        mod = importlib.import_module(os.path.splitext(os.path.basename(path))[0])
        cases += [c for c in getattr(mod, "CASES", []) if isinstance(c, Case)]
    return cases


class _Counter:
    """Counts forward calls of the named op classes."""

    def __init__(self, monkeypatch, names):
        self.calls = dict.fromkeys(names, 0)
        for n in names:
            cls = REGISTRY[n]
            orig = cls.forward

            def counted(*a, _orig=orig, _n=n, **k):
                self.calls[_n] += 1
                return _orig(*a, **k)

            monkeypatch.setattr(cls, "forward", staticmethod(counted))


def _as_f64(a):
    a = np.asarray(a)
    return a.astype(np.float32).astype(np.float64) if a.dtype.kind == "f" else a


def numeric_grad(ref, arrays, i, weights, eps=1e-6):
    """d sum(ref(arrays) * weights) / d arrays[i] by central differences, in float64."""
    x = arrays[i].copy()
    g = np.zeros_like(x)
    for j in range(x.size):
        orig = x.flat[j]
        vals = []
        for d in (eps, -eps):
            x.flat[j] = orig + d
            args = list(arrays)
            args[i] = x
            vals.append(np.sum(np.asarray(ref(*args), dtype=np.float64) * weights))
        x.flat[j] = orig
        g.flat[j] = (vals[0] - vals[1]) / (2 * eps)
    return g


def check_case(case, device, monkeypatch):
    """Forward against the reference, gradients against finite differences, ops really ran."""
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))  # stable across processes
    arrays = [_as_f64(a) for a in case.gen(rng)]
    counter = _Counter(monkeypatch, case.ops)
    xs = [mge.tensor(a, device=device) for a in arrays]
    want = np.asarray(case.ref(*arrays))

    float_ins = [xs[i] for i in case.grad]
    gm = GradManager().attach(float_ins) if float_ins else None
    if gm is not None:
        gm.record()
    out = case.fn(*xs)
    assert str(out.device) == str(device)
    got = out.numpy()
    assert got.shape == want.shape, f"{case.name}: shape {got.shape}, expected {want.shape}"
    if want.dtype.kind == "f":
        assert got.dtype.kind == "f"
        np.testing.assert_allclose(got, want, rtol=case.rtol, atol=case.atol)
    else:
        np.testing.assert_array_equal(got, want.astype(got.dtype))

    if gm is not None:
        weights = rng.uniform(0.5, 1.5, want.shape)
        gm.backward((out * mge.tensor(weights, device=device)).sum())
        for i, x in zip(case.grad, float_ins):
            numeric = numeric_grad(case.ref, arrays, i, weights)
            assert x.grad is not None, f"{case.name}: no gradient for input {i}"
            assert x.grad.shape == x.shape
            np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=case.gtol,
                                       atol=case.gtol, err_msg=f"{case.name}: grad of input {i}")
    not_run = [n for n, k in counter.calls.items() if k == 0]
    assert not not_run, f"{case.name}: row names ops that never ran: {not_run}"
