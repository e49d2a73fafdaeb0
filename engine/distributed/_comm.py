"""Communicators: one per Group, moving raw arrays (numpy through MPI, CuPy through NCCL).

Before every collective the ranks of the group agree on what they are doing: one small
MPI Allreduce of a fixed record (which collective, dtype, shape, root, whether gradients are
recorded). A rank that calls another collective, or passes another shape or dtype, makes every
rank raise the same clear error naming the ranks and their arguments, instead of a hang or a
silent wrong result. Fields a rank cannot know (the shape a broadcast will deliver) are sent as
wildcards, so the same Allreduce also tells those ranks the root's shape and dtype.
"""
import sys

import numpy as np

_WILD = int(np.iinfo(np.int64).min)
_MAX_DIMS = 8
_DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16", "uint16",
           "int32", "uint32", "int64", "uint64", "bool", "complex64", "complex128"]
_FIELDS = (["op", "dtype", "ndim"] + [f"d{i}" for i in range(_MAX_DIMS)]
           + ["tail", "root", "tracked"])
_F = {name: i for i, name in enumerate(_FIELDS)}
# dtypes MPI reduces natively (mpi4py maps them from the buffer's format)
_MPI_REDUCIBLE = {np.dtype(t) for t in ("float32", "float64", "int8", "uint8", "int16", "uint16",
                                         "int32", "uint32", "int64", "uint64", "complex64",
                                         "complex128")}


_codes = {}


def _dtype_code(dtype):
    code = _codes.get(dtype)
    if code is None:
        name = np.dtype(dtype).name
        code = _DTYPES.index(name) if name in _DTYPES else 100 + sum(name.encode()) % 10000
        _codes[dtype] = code
    return code


def _dtype_name(code):
    return _DTYPES[code] if 0 <= code < len(_DTYPES) else f"dtype#{code}"


def _record(op, shape, dtype, root, tracked):
    """The agreement record as a list of ints (_WILD where this rank does not know)."""
    rec = [_OP_CODES[op], _WILD if dtype is None else _dtype_code(dtype)]
    if shape is None:
        rec += [_WILD] * (2 + _MAX_DIMS)
    else:
        dims = list(shape[:_MAX_DIMS])
        rec.append(len(shape))
        rec += dims + [0] * (_MAX_DIMS - len(dims))
        rec.append(hash(tuple(shape[_MAX_DIMS:])) & 0x7FFFFFFF)
    rec.append(_WILD if root is None else root)
    rec.append(_WILD if tracked is None else int(tracked))
    return rec


def _describe(rec):
    rec = [int(v) for v in rec]
    parts = [OPS[rec[_F["op"]]]]
    if rec[_F["dtype"]] != _WILD:
        parts.append(_dtype_name(rec[_F["dtype"]]))
    if rec[_F["ndim"]] != _WILD:
        n = rec[_F["ndim"]]
        parts.append("shape " + str(tuple(rec[_F["d0"]:_F["d0"] + min(n, _MAX_DIMS)])))
    if rec[_F["root"]] != _WILD:
        parts.append(f"root {rec[_F['root']]}")
    if rec[_F["tracked"]] != _WILD:
        parts.append("recording gradients" if rec[_F["tracked"]] else "not recording")
    return ", ".join(parts)


OPS = ["all_reduce_sum", "all_reduce_max", "all_reduce_min", "all_gather", "reduce_sum",
       "broadcast", "reduce_scatter_sum", "gather", "scatter", "all_to_all", "barrier",
       "remote_send", "remote_recv", "all_gather_object"]
_OP_CODES = {name: i for i, name in enumerate(OPS)}
_N = len(_FIELDS)


class Agreement:
    """What the ranks agreed on: the root's (or common) shape, dtype and tracked flag."""

    __slots__ = ("shape", "dtype", "tracked")

    def __init__(self, shape, dtype, tracked):
        self.shape, self.dtype, self.tracked = shape, dtype, tracked


class MPIComm:
    """A group's MPI communicator (mpi4py), for numpy arrays."""

    def __init__(self, mpi_comm, group_ranks):
        from mpi4py import MPI

        self.MPI = MPI
        self.comm = mpi_comm
        self.ranks = group_ranks      # global ranks, in group order
        self.rank = mpi_comm.Get_rank()
        self.size = mpi_comm.Get_size()
        self._ops = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}
        self._send = np.empty(2 * _N, dtype=np.int64)   # agreement buffers, reused
        self._recv = np.empty(2 * _N, dtype=np.int64)
        self._outputs = []   # output arrays handed out, reused once nothing refers to them

    # Output buffers. MPI (UCX underneath) registers each buffer it writes into; a new array
    # per call costs 2-3x the transfer between 256 KB and 4 MB (measured: 1 MB all-reduce 1.0
    # ms into a reused buffer, 2.7 ms into a fresh one). So the outputs of the last few calls
    # are kept and one is reused when no tensor, view or storage refers to it any more (in
    # training: last step's gradient buckets, after clear_grad).
    _POOL_ENTRIES, _POOL_MAX_BYTES = 8, 32 << 20

    def _empty(self, shape, dtype):
        pool = self._outputs
        for i, arr in enumerate(pool):
            # 3 references: the pool's list, `arr` here, getrefcount's argument
            if arr.shape == shape and arr.dtype == dtype and sys.getrefcount(arr) == 3:
                pool.append(pool.pop(i))
                return arr
        arr = np.empty(shape, dtype=dtype)
        if arr.nbytes <= self._POOL_MAX_BYTES:
            pool.append(arr)
            if len(pool) > self._POOL_ENTRIES:
                pool.pop(0)
        return arr

    # ------------------------------------------------------------------ agreement
    def agree(self, op, shape=None, dtype=None, root=None, tracked=None):
        """Check that every rank is in the same collective with compatible arguments.

        Raises RuntimeError (on every rank) naming each rank's arguments when they disagree.
        Kept lean (one preallocated buffer, plain lists): it runs before every collective.
        """
        rec = _record(op, shape, dtype, root, tracked)
        # one MAX all-reduce gives each field's max and (negated) min; wildcards stay minimal
        self._send[:] = rec + [v if v == _WILD else -v for v in rec]
        self.comm.Allreduce(self._send, self._recv, op=self.MPI.MAX)
        out = self._recv.tolist()
        hi, neg_lo = out[:_N], out[_N:]
        for a, b in zip(hi, neg_lo):
            if a != _WILD and a != -b:
                self._disagree(op, rec)
        ndim = hi[_F["ndim"]]
        shape_out = None
        if ndim != _WILD and ndim <= _MAX_DIMS:
            shape_out = tuple(hi[_F["d0"]:_F["d0"] + ndim])
        code = hi[_F["dtype"]]
        return Agreement(shape_out, None if code == _WILD else _dtype_name(code),
                         hi[_F["tracked"]] not in (_WILD, 0))

    def _disagree(self, op, rec):
        allrecs = np.empty((self.size, _N), dtype=np.int64)
        self.comm.Allgather(np.asarray(rec, dtype=np.int64), allrecs)
        lines = [f"group rank {r} (global rank {self.ranks[r]}): {_describe(allrecs[r])}"
                 for r in range(self.size)]
        diff = [f for i, f in enumerate(_FIELDS)
                if len({int(v) for v in allrecs[:, i] if v != _WILD}) > 1]
        what = ("different collectives" if "op" in diff else
                "different dtypes" if "dtype" in diff else
                "different shapes" if any(f.startswith("d") or f in ("ndim", "tail")
                                          for f in diff) else
                "different roots" if "root" in diff else
                "inputs that record gradients on some ranks only")
        raise RuntimeError(f"{op} (rank {self.ranks[self.rank]}): the ranks of the group called "
                           f"it with {what}, so it cannot run:\n  " + "\n  ".join(lines)
                           + "\nEvery rank must call the same collectives in the same order "
                           "with the same shapes and dtypes (gradients recorded on all or none)")

    # ------------------------------------------------------------------ data
    @staticmethod
    def _reducible(x):
        """(array MPI can reduce, dtype to cast the result back to or None)."""
        if x.dtype in _MPI_REDUCIBLE:
            return (x if x.flags.c_contiguous else np.ascontiguousarray(x)), None
        if x.dtype == np.bool_:
            return np.ascontiguousarray(x, dtype=np.uint8), x.dtype
        # float16 / bfloat16: reduce in float32 (MPI has no such types), then round once
        return np.ascontiguousarray(x, dtype=np.float32), x.dtype

    @staticmethod
    def _bytes(x):
        x = np.ascontiguousarray(x)
        return x.reshape(-1).view(np.uint8), x

    def allreduce(self, x, op):
        buf, back = self._reducible(x)
        out = self._empty(buf.shape, buf.dtype)
        if back is not None and back == np.bool_:
            op = "max"  # a sum of booleans is their "or" (uint8 sums would wrap at 256 ranks)
        self.comm.Allreduce(buf, out, op=self._ops[op])
        return out if back is None else out.astype(back)

    def reduce(self, x, op, root=0):
        buf, back = self._reducible(x)
        out = np.empty_like(buf) if self.rank == root else None
        self.comm.Reduce(buf, out, op=self._ops[op], root=root)
        if out is None:
            return None
        return out if back is None else out.astype(back)

    def reduce_scatter(self, x, op):
        buf, back = self._reducible(x)
        out = self._empty((buf.shape[0] // self.size,) + buf.shape[1:], buf.dtype)
        self.comm.Reduce_scatter_block(buf, out, op=self._ops[op])
        return out if back is None else out.astype(back)

    def allgather(self, x):
        raw, x = self._bytes(x)
        out = self._empty((self.size,) + x.shape, x.dtype)
        self.comm.Allgather(raw, out.reshape(-1).view(np.uint8))
        return out.reshape((self.size * x.shape[0],) + x.shape[1:])

    def gather(self, x, root=0):
        raw, x = self._bytes(x)
        out = np.empty((self.size,) + x.shape, dtype=x.dtype) if self.rank == root else None
        self.comm.Gather(raw, None if out is None else out.reshape(-1).view(np.uint8), root=root)
        return None if out is None else out.reshape((self.size * x.shape[0],) + x.shape[1:])

    def broadcast(self, x, root=0):
        out = np.ascontiguousarray(x).copy() if self.rank == root else x
        self.comm.Bcast(out.reshape(-1).view(np.uint8), root=root)
        return out

    def scatter(self, x, shape, dtype, root=0):
        n = shape[0] // self.size
        out = np.empty((n,) + tuple(shape[1:]), dtype=dtype)
        send = self._bytes(x)[0] if self.rank == root else None
        self.comm.Scatter(send, out.reshape(-1).view(np.uint8), root=root)
        return out

    def alltoall(self, x):
        raw, x = self._bytes(x)
        out = np.empty_like(x)
        self.comm.Alltoall(raw, out.reshape(-1).view(np.uint8))
        return out

    # point to point: a small record (shape, dtype, tracked) on `tag`, then the data on tag + 1
    def send(self, x, dest, meta, tag):
        self.comm.Send(np.asarray(meta, dtype=np.int64), dest=dest, tag=tag)
        self.comm.Send(self._bytes(x)[0], dest=dest, tag=tag + 1)

    def recv_meta(self, src, tag):
        meta = np.empty(len(_FIELDS), dtype=np.int64)
        self.comm.Recv(meta, source=src, tag=tag)
        return meta

    def recv(self, src, shape, dtype, tag):
        out = np.empty(shape, dtype=dtype)
        self.comm.Recv(out.reshape(-1).view(np.uint8), source=src, tag=tag + 1)
        return out

    def barrier(self):
        self.comm.Barrier()

    def allgather_object(self, obj):
        return self.comm.allgather(obj)


def p2p_meta(shape, dtype, tracked):
    return np.asarray(_record("remote_send", tuple(shape), dtype, None, tracked), dtype=np.int64)


def parse_meta(meta):
    meta = meta.tolist()
    n = meta[_F["ndim"]]
    return tuple(meta[_F["d0"]:_F["d0"] + n]), _dtype_name(meta[_F["dtype"]]), \
        bool(meta[_F["tracked"]])


class HostStaged:
    """MPI for GPU (CuPy) arrays through host memory: the 'mpi' backend on GPUs (no NCCL, or
    several ranks sharing one GPU, which NCCL refuses)."""

    def __init__(self, host):
        import cupy

        self.cp, self.host = cupy, host
        self.ranks, self.rank, self.size = host.ranks, host.rank, host.size

    def __getattr__(self, name):  # agree, barrier, allgather_object, recv_meta
        return getattr(self.host, name)

    def _up(self, out):
        return None if out is None else self.cp.asarray(out)

    def allreduce(self, x, op):
        return self._up(self.host.allreduce(self.cp.asnumpy(x), op))

    def reduce(self, x, op, root=0):
        return self._up(self.host.reduce(self.cp.asnumpy(x), op, root))

    def reduce_scatter(self, x, op):
        return self._up(self.host.reduce_scatter(self.cp.asnumpy(x), op))

    def allgather(self, x):
        return self._up(self.host.allgather(self.cp.asnumpy(x)))

    def gather(self, x, root=0):
        return self._up(self.host.gather(self.cp.asnumpy(x), root))

    def broadcast(self, x, root=0):
        return self._up(self.host.broadcast(self.cp.asnumpy(x), root))

    def scatter(self, x, shape, dtype, root=0):
        send = self.cp.asnumpy(x) if self.rank == root else None
        return self._up(self.host.scatter(send, shape, dtype, root))

    def alltoall(self, x):
        return self._up(self.host.alltoall(self.cp.asnumpy(x)))

    def send(self, x, dest, meta, tag):
        self.host.send(self.cp.asnumpy(x), dest, meta, tag)

    def recv(self, src, shape, dtype, tag):
        return self._up(self.host.recv(src, shape, dtype, tag))
