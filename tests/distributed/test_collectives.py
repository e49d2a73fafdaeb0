"""Each collective against numpy on 2, 3 and 4 CPU ranks: forward values, and the gradient of
the sum of every rank's loss against central differences of the numpy reference (float64 on
float32-representable inputs; engine computes in float32, as MegEngine)."""
import numpy as np
import pytest

import engine as mge
import engine.distributed as dist
import engine.functional as F
from engine.autodiff import GradManager

from .common import inputs, needs_mpi, numeric_grad, run

SHAPE = (12, 12)  # splits in 2, 3 and 4 along both axes


def _chunks(x, n, axis):
    return np.split(x, n, axis=axis)


def _all_to_all(xs, split_axis, concat_axis):
    n = len(xs)
    return [np.concatenate([_chunks(x, n, split_axis)[r] for x in xs], axis=concat_axis)
            for r in range(n)]


# name -> (engine call on rank r's tensor, numpy reference: list of inputs -> list of outputs,
# None where the rank gets None), with group = the ranks in reverse order for "_rev" cases
def _cases(n):
    rev = list(range(n))[::-1]
    return {
        "all_reduce_sum": (lambda x, g: F.distributed.all_reduce_sum(x),
                           lambda xs: [sum(xs)] * n),
        "all_reduce_max": (lambda x, g: F.distributed.all_reduce_max(x),
                           lambda xs: [np.max(xs, axis=0)] * n),
        "all_reduce_min": (lambda x, g: F.distributed.all_reduce_min(x),
                           lambda xs: [np.min(xs, axis=0)] * n),
        "all_gather": (lambda x, g: F.distributed.all_gather(x),
                       lambda xs: [np.concatenate(xs)] * n),
        "all_gather_axis1": (lambda x, g: F.distributed.all_gather(x, axis=1),
                             lambda xs: [np.concatenate(xs, axis=1)] * n),
        "all_gather_rev": (lambda x, g: F.distributed.all_gather(x, g),
                           lambda xs: [np.concatenate([xs[r] for r in rev])] * n),
        "reduce_scatter_sum": (lambda x, g: F.distributed.reduce_scatter_sum(x),
                               lambda xs: _chunks(sum(xs), n, 0)),
        "reduce_scatter_sum_axis1": (
            lambda x, g: F.distributed.reduce_scatter_sum(x, axis=1),
            lambda xs: _chunks(sum(xs), n, 1)),
        "reduce_sum": (lambda x, g: F.distributed.reduce_sum(x),
                       lambda xs: [sum(xs)] + [None] * (n - 1)),
        "reduce_sum_rev": (lambda x, g: F.distributed.reduce_sum(x, g),
                           lambda xs: [None] * (n - 1) + [sum(xs)]),
        "broadcast": (lambda x, g: F.distributed.broadcast(x),
                      lambda xs: [xs[0]] * n),
        "broadcast_rev": (lambda x, g: F.distributed.broadcast(x, g),
                          lambda xs: [xs[-1]] * n),
        "gather": (lambda x, g: F.distributed.gather(x),
                   lambda xs: [np.concatenate(xs)] + [None] * (n - 1)),
        "gather_axis1": (lambda x, g: F.distributed.gather(x, axis=1),
                         lambda xs: [np.concatenate(xs, axis=1)] + [None] * (n - 1)),
        "scatter": (lambda x, g: F.distributed.scatter(x),
                    lambda xs: _chunks(xs[0], n, 0)),
        "scatter_axis1": (lambda x, g: F.distributed.scatter(x, axis=1),
                          lambda xs: _chunks(xs[0], n, 1)),
        "all_to_all": (lambda x, g: F.distributed.all_to_all(x),
                       lambda xs: _all_to_all(xs, 0, 0)),
        "all_to_all_1_0": (lambda x, g: F.distributed.all_to_all(x, split_axis=1),
                           lambda xs: _all_to_all(xs, 1, 0)),
        "all_to_all_0_1": (lambda x, g: F.distributed.all_to_all(x, concat_axis=1),
                           lambda xs: _all_to_all(xs, 0, 1)),
    }


def _weights(n, ys):
    rng = np.random.RandomState(7)
    return [None if y is None else _f32(rng.randn(*y.shape)) for y in ys]


def _f32(a):
    return a.astype(np.float32).astype(np.float64)


def _worker(xs, weights_by_case, device="cpu0"):
    n = dist.get_world_size()
    r = dist.get_rank()
    group = dist.new_group(list(range(n))[::-1])
    out = {}
    for name, (call, _) in _cases(n).items():
        x = mge.tensor(xs[r].astype(np.float32), device=device)
        gm = GradManager().attach(x)
        with gm:
            y = call(x, group)
            w = weights_by_case[name][r]
            if y is None:
                gm.backward()
            else:
                gm.backward((y * mge.tensor(w.astype(np.float32), device=device)).sum())
        out[name] = (None if y is None else y.numpy(),
                     None if x.grad is None else x.grad.numpy())
    return out


@pytest.fixture(scope="module", params=[2, 3, 4], ids=lambda n: f"{n}ranks")
def results(request):
    n = request.param
    xs = [_f32(x) for x in inputs(n, SHAPE, seed=n)]
    weights = {name: _weights(n, ref(xs)) for name, (_, ref) in _cases(n).items()}
    return n, xs, weights, run(n, _worker, xs, weights)


def check_case(n, xs, weights, got, name):
    ref = _cases(n)[name][1]
    expect = ref(xs)
    w = weights[name]

    def total_loss(inputs_):
        return sum(float((y * wr).sum()) for y, wr in zip(ref(inputs_), w) if y is not None)

    expect_grads = numeric_grad(total_loss, xs)
    for r in range(n):
        y, g = got[r][name]
        if expect[r] is None:
            assert y is None, f"{name}: rank {r} should get None"
        else:
            np.testing.assert_allclose(y, expect[r], rtol=1e-6, atol=1e-6,
                                       err_msg=f"{name}: forward on rank {r}")
        if g is None:  # the input is not used (broadcast/scatter off the root): no gradient
            assert np.all(expect_grads[r] == 0), f"{name}: rank {r} got no gradient"
            continue
        np.testing.assert_allclose(g, expect_grads[r], rtol=1e-5, atol=1e-5,
                                   err_msg=f"{name}: gradient on rank {r}")


@needs_mpi
@pytest.mark.parametrize("name", list(_cases(2)))
def test_forward_and_gradient(results, name):
    check_case(*results, name)
