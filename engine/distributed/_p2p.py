"""Point to point: remote_send / remote_recv (MegEngine's), differentiable across processes."""
import numpy as np

from .. import device as _device
from ..autodiff import grad_manager as _gm
from ..ops import core
from ..tensor import Tensor
from . import group as _group
from ._comm import is_no_grad, no_grad_meta, p2p_meta, parse_meta
from ._plumbing import (
    _BWD_TAG,
    _FWD_TAG,
    _check_tensor,
    _Collective,
    _comm_for,
    _dummy,
    _grad_or_zeros,
    _np_dtype,
    _tracked,
    _wrap,
    _zeros,
)
from .group import WORLD

__all__ = ["remote_send", "remote_recv"]


class _RemoteSend(_Collective):
    def __init__(self, comm, dev, dest):
        super().__init__(None, comm, dev)
        self.dest = dest

    def forward(self, x):
        a = x._storage.array
        self.comm.send(a, self.dest, p2p_meta(a.shape, a.dtype, True), _FWD_TAG)
        self.in_sd = (a.shape, a.dtype)
        return _zeros((1,), a.dtype, self.dev)

    def backward(self, dy):
        meta = self.comm.recv_meta(self.dest, _BWD_TAG)
        if is_no_grad(meta):  # the receiver records no gradient: none comes back
            return None
        shape, dtype, _ = parse_meta(meta)
        return _wrap(self.comm.recv(self.dest, shape, _np_dtype(dtype), _BWD_TAG), self.dev)


class _RemoteRecv(_Collective):
    def __init__(self, comm, dev, src, array):
        super().__init__(None, comm, dev)
        self.src, self.array = src, array

    def forward(self, dummy):
        array, self.array = self.array, None
        self.out_sd = (array.shape, array.dtype)
        return _wrap(array, self.dev)

    def backward(self, dy):
        g = _grad_or_zeros(dy, self.dev, self.out_sd)._storage.array
        self.comm.send(g, self.src, p2p_meta(g.shape, g.dtype, False), _BWD_TAG)
        return None


def _p2p_comm(peer, name):
    sd = _group._sd
    if sd is None or sd.world_size == 1:
        raise RuntimeError(f"{name}: there is no other process to talk to (not in a "
                           "distributed job; start one with dist.launcher or mpiexec)")
    if not isinstance(peer, (int, np.integer)) or not 0 <= peer < sd.world_size \
            or peer == sd.proc_rank:
        raise ValueError(f"{name}: the peer rank must be another rank in [0, {sd.world_size}), "
                         f"got {peer!r} (this is rank {sd.proc_rank})")
    return int(peer)


def remote_send(inp, dest_rank):
    r"""Send tensor to another process.

    Args:
        inp: Tensor to send.
        dest_rank: Rank of destination process.

    Returns:
        None. When gradients are recorded, the gradient of ``inp`` arrives from the destination
        during ``gm.backward()``.

    Examples:
        .. code-block:: python

            if rank == 0:
                F.distributed.remote_send(mge.tensor(1), 1)
            else:
                data = F.distributed.remote_recv(0)   # Tensor(1)
    """
    name = "remote_send"
    _check_tensor(inp, name)
    dest = _p2p_comm(dest_rank, name)
    if inp.ndim > 8:
        raise ValueError(f"{name}: tensors of more than 8 dims cannot be sent, got {inp.shape}")
    dev = inp._storage.device
    comm = _comm_for(WORLD, dev)
    if not _tracked(inp):
        a = inp._storage.array
        comm.send(a, dest, p2p_meta(a.shape, a.dtype, False), _FWD_TAG)
        return None
    out = _RemoteSend(comm, dev, dest)(inp)
    _gm._keep_for_backward(out)
    return None


def remote_recv(src_rank, device=None, inp=None):
    r"""Receive a tensor from another process.

    Args:
        src_rank: Rank of source process.
        device: the device of the result (None: the default device).
        inp: Dummy input (MegEngine's, to place the result): its device is used when
            ``device`` is None.

    Returns:
        Received tensor (its shape and dtype are the sender's).

    Examples:
        .. code-block:: python

            # a pipeline stage: take the previous stage's activation, hand on this one's
            with gm:
                x = F.distributed.remote_recv(rank - 1)
                F.distributed.remote_send(stage(x), rank + 1)
                gm.backward()      # the gradient of x goes back to rank - 1
    """
    name = "remote_recv"
    src = _p2p_comm(src_rank, name)
    dev = _device.get(device.split(":")[0]) if isinstance(device, str) else (
        _device.get(device) if device is not None else
        inp._storage.device if isinstance(inp, Tensor) else _device.get_default_device_obj())
    comm = _comm_for(WORLD, dev)
    shape, dtype, tracked = parse_meta(comm.recv_meta(src, _FWD_TAG))
    array = comm.recv(src, shape, _np_dtype(dtype), _FWD_TAG)
    if not tracked:
        return _wrap(array, dev)
    if not core.recording:  # the sender waits for a gradient in its backward: say none comes
        comm.send(None, src, no_grad_meta(), _BWD_TAG)
        return _wrap(array, dev)
    out = _RemoteRecv(comm, dev, src, array)(_dummy((1,), dtype, dev, True))
    # its backward answers the sender even if out goes unused
    _gm._keep_for_backward(out, only_if_attached=False)
    return out


def _remote_send_nobackward(inp, dest_rank):
    dest = _p2p_comm(dest_rank, "remote_send")
    a = inp._storage.array
    _comm_for(WORLD, inp._storage.device).send(a, dest, p2p_meta(a.shape, a.dtype, False), 31)


def _remote_recv_nobackward(src_rank, device=None, inp=None, shape=None, dtype=None):
    src = _p2p_comm(src_rank, "remote_recv")
    dev = _device.get(device.split(":")[0]) if isinstance(device, str) else (
        _device.get(device) if device is not None else _device.get_default_device_obj())
    comm = _comm_for(WORLD, dev)
    got_shape, got_dtype, _ = parse_meta(comm.recv_meta(src, 31))
    return _wrap(comm.recv(src, got_shape, _np_dtype(got_dtype), 31), dev)
