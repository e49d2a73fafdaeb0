"""The GPU communicator: NCCL through CuPy (cupy.cuda.nccl), one process per GPU.

The group's MPI communicator stays the control path: the agreement check before each
collective, the exchange of the NCCL unique id (rank 0 makes it, MPI broadcasts it), barriers
and Python objects. The data moves GPU to GPU through NCCL on CuPy's current stream. NCCL has
no gather, scatter or all-to-all: they are grouped sends and receives (ncclGroupStart/End).
"""
import numpy as np

__all__ = ["NCCLComm"]


class NCCLComm:
    def __init__(self, host, device):
        import cupy
        from cupy.cuda import nccl

        self.cp, self.nccl = cupy, nccl
        self.host = host              # the group's MPIComm
        self.ranks, self.rank, self.size = host.ranks, host.rank, host.size
        uid = nccl.get_unique_id() if self.rank == 0 else None
        uid = host.comm.bcast(uid, root=0)
        with cupy.cuda.Device(device):
            self.comm = nccl.NcclCommunicator(self.size, uid, self.rank)
        self._types = {np.dtype(k): getattr(nccl, v) for k, v in (
            ("float16", "NCCL_FLOAT16"), ("float32", "NCCL_FLOAT32"),
            ("float64", "NCCL_FLOAT64"), ("int8", "NCCL_INT8"), ("uint8", "NCCL_UINT8"),
            ("int32", "NCCL_INT32"), ("uint32", "NCCL_UINT32"), ("int64", "NCCL_INT64"),
            ("uint64", "NCCL_UINT64"))}
        self._ops = {"sum": nccl.NCCL_SUM, "max": nccl.NCCL_MAX, "min": nccl.NCCL_MIN}

    # the control path
    def agree(self, *args, **kwargs):
        return self.host.agree(*args, **kwargs)

    def barrier(self):
        self.host.barrier()

    def allgather_object(self, obj):
        return self.host.allgather_object(obj)

    # ------------------------------------------------------------------ helpers
    @property
    def _stream(self):
        return self.cp.cuda.get_current_stream().ptr

    def _typed(self, x):
        """(contiguous array, NCCL type, dtype to cast back to or None)."""
        x = self.cp.ascontiguousarray(x)
        t = self._types.get(x.dtype)
        if t is not None:
            return x, t, None
        if x.dtype == np.bool_:
            return x.view(np.uint8), self.nccl.NCCL_UINT8, np.bool_
        return x.astype(np.float32), self.nccl.NCCL_FLOAT32, x.dtype

    def _bytes(self, x):
        x = self.cp.ascontiguousarray(x)
        return x.reshape(-1).view(np.uint8), x

    @staticmethod
    def _back(out, back):
        if back is None:
            return out
        return out.view(np.bool_) if back == np.bool_ else out.astype(back)

    # ------------------------------------------------------------------ collectives
    def allreduce(self, x, op):
        buf, t, back = self._typed(x)
        if back is not None and back == np.bool_:
            op = "max"
        out = self.cp.empty_like(buf)
        self.comm.allReduce(buf.data.ptr, out.data.ptr, buf.size, t, self._ops[op],
                            self._stream)
        return self._back(out, back)

    def reduce(self, x, op, root=0):
        buf, t, back = self._typed(x)
        out = self.cp.empty_like(buf)
        self.comm.reduce(buf.data.ptr, out.data.ptr, buf.size, t, self._ops[op], root,
                         self._stream)
        return self._back(out, back) if self.rank == root else None

    def reduce_scatter(self, x, op):
        buf, t, back = self._typed(x)
        out = self.cp.empty((buf.shape[0] // self.size,) + buf.shape[1:], dtype=buf.dtype)
        self.comm.reduceScatter(buf.data.ptr, out.data.ptr, out.size, t, self._ops[op],
                                self._stream)
        return self._back(out, back)

    def allgather(self, x):
        raw, x = self._bytes(x)
        out = self.cp.empty((self.size,) + x.shape, dtype=x.dtype)
        self.comm.allGather(raw.data.ptr, out.data.ptr, raw.size, self.nccl.NCCL_UINT8,
                            self._stream)
        return out.reshape((self.size * x.shape[0],) + x.shape[1:])

    def broadcast(self, x, root=0):
        out = self.cp.ascontiguousarray(x).copy() if self.rank == root else x
        raw = out.reshape(-1).view(np.uint8)
        self.comm.broadcast(raw.data.ptr, raw.data.ptr, raw.size, self.nccl.NCCL_UINT8, root,
                            self._stream)
        return out

    def _exchange(self, sends, recvs):
        """Grouped point-to-point: sends/recvs are [(peer, uint8 array)]."""
        u8, s = self.nccl.NCCL_UINT8, self._stream
        self.nccl.groupStart()
        for peer, buf in sends:
            self.comm.send(buf.data.ptr, buf.size, u8, peer, s)
        for peer, buf in recvs:
            self.comm.recv(buf.data.ptr, buf.size, u8, peer, s)
        self.nccl.groupEnd()

    def gather(self, x, root=0):
        raw, x = self._bytes(x)
        if self.rank != root:
            self._exchange([(root, raw)], [])
            return None
        out = self.cp.empty((self.size,) + x.shape, dtype=x.dtype)
        parts = out.reshape(self.size, -1).view(np.uint8)
        parts[root] = raw
        self._exchange([], [(r, parts[r]) for r in range(self.size) if r != root])
        return out.reshape((self.size * x.shape[0],) + x.shape[1:])

    def scatter(self, x, shape, dtype, root=0):
        n = shape[0] // self.size
        out = self.cp.empty((n,) + tuple(shape[1:]), dtype=dtype)
        mine = out.reshape(-1).view(np.uint8)
        if self.rank != root:
            self._exchange([], [(root, mine)])
            return out
        parts = self._bytes(x)[0].reshape(self.size, -1)
        mine[...] = parts[root]
        self._exchange([(r, parts[r]) for r in range(self.size) if r != root], [])
        return out

    def alltoall(self, x):
        raw, x = self._bytes(x)
        out = self.cp.empty_like(x)
        send = raw.reshape(self.size, -1)
        recv = out.reshape(-1).view(np.uint8).reshape(self.size, -1)
        recv[self.rank] = send[self.rank]
        others = [r for r in range(self.size) if r != self.rank]
        self._exchange([(r, send[r]) for r in others], [(r, recv[r]) for r in others])
        return out

    # ------------------------------------------------------------------ point to point
    def send(self, x, dest, meta, tag):
        self.host.comm.Send(np.asarray(meta, dtype=np.int64), dest=dest, tag=tag)
        self._exchange([(dest, self._bytes(x)[0])], [])

    def recv_meta(self, src, tag):
        return self.host.recv_meta(src, tag)

    def recv(self, src, shape, dtype, tag):
        out = self.cp.empty(shape, dtype=dtype)
        self._exchange([], [(src, out.reshape(-1).view(np.uint8))])
        return out
