"""Collectives on GPU tensors: through host memory (the 'mpi' backend; two ranks may share one
GPU) and through NCCL (one GPU per rank; needs two GPUs)."""
import numpy as np
import pytest

import engine as mge
import engine.distributed as dist

from .common import inputs, needs_mpi
from .test_collectives import SHAPE, _cases, _f32, _weights, _worker, check_case

pytestmark = [pytest.mark.cuda, needs_mpi]


def _setup(n):
    xs = [_f32(x) for x in inputs(n, SHAPE, seed=n)]
    return xs, {name: _weights(n, ref(xs)) for name, (_, ref) in _cases(n).items()}


@pytest.mark.skipif(not mge.is_cuda_available(), reason="no CUDA GPU")
def test_gpu_tensors_through_host_memory():
    # device_type="cpu" ranks holding gpu0 tensors: the data goes GPU -> host -> MPI -> GPU
    xs, weights = _setup(2)
    got = dist.launcher(n_gpus=2, device_type="cpu")(_worker)(xs, weights, "gpu0")
    for name in _cases(2):
        check_case(2, xs, weights, got, name)


@pytest.mark.skipif(mge.get_device_count("gpu") < 2, reason="NCCL needs one GPU per rank")
def test_nccl_collectives_one_gpu_per_rank():
    xs, weights = _setup(2)

    def worker():
        assert dist.get_backend() == "nccl"
        return _worker(xs, weights, f"gpu{dist.get_rank()}")

    got = dist.launcher(n_gpus=2, device_type="gpu")(worker)()
    for name in _cases(2):
        check_case(2, xs, weights, got, name)
    np.testing.assert_array_equal(got[0]["all_reduce_sum"][0], got[1]["all_reduce_sum"][0])
