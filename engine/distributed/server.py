"""MegEngine's distributed Server and Client: a small key-value store over XML-RPC that the
processes of a job use to meet (barriers, broadcast of Python values, user keys) and, in
engine, to join one MPI job when they were not started by mpiexec (see _mpi_job.Broker).
Tensors never travel through it: collectives go through MPI or NCCL.

    server = dist.Server(port=0)          # on the master host; port 0 picks a free port
    client = dist.Client("localhost", server.py_server_port)
    client.user_set("lr", 0.1); client.user_get("lr")
"""
import multiprocessing as mp
import os
import pickle
import threading
import time
import xmlrpc.client
from socketserver import ThreadingMixIn
from xmlrpc.server import SimpleXMLRPCServer

__all__ = ["Server", "Client"]


def _pack(value):
    return xmlrpc.client.Binary(pickle.dumps(value))


def _unpack(data):
    return pickle.loads(data.data)


class _Methods:
    """What the server answers. Blocking calls (barriers) block only their own thread."""

    def __init__(self):
        self._lock = threading.Condition()
        self._user = {}
        self._barriers = {}   # key -> [arrived, generation]
        self._bcast = {}      # key -> [value, readers left]
        self._broker = None

    def connect(self):
        return True

    def group_barrier(self, key, size):
        with self._lock:
            state = self._barriers.setdefault(key, [0, 0])
            generation = state[1]
            state[0] += 1
            if state[0] == size:
                state[0], state[1] = 0, generation + 1
                self._lock.notify_all()
            else:
                while state[1] == generation:
                    self._lock.wait()
        return True

    def user_set(self, key, val):
        with self._lock:
            self._user[key] = val
        return True

    def user_get(self, key):
        with self._lock:
            while key not in self._user:
                self._lock.wait(0.05)
            return self._user[key]

    def user_pop(self, key):
        with self._lock:
            while key not in self._user:
                self._lock.wait(0.05)
            return self._user.pop(key)

    def bcast_val(self, val, key, size):
        # the root passes a value (any picklable), the others pass None and get it
        with self._lock:
            if _unpack(val) is not None:
                self._bcast[key] = [val, size - 1]
                self._lock.notify_all()
                while self._bcast[key][1] > 0:
                    self._lock.wait()
                del self._bcast[key]
                return val
            while key not in self._bcast or self._bcast[key][1] <= 0:
                self._lock.wait()
            entry = self._bcast[key]
            entry[1] -= 1
            self._lock.notify_all()
            return entry[0]

    def mpi_endpoint(self, world_size):
        """The Unix socket of this host's MPI job for `world_size` ranks (started once)."""
        from ._mpi_job import Broker

        with self._lock:
            if self._broker is None:
                self._broker = Broker(world_size)
            elif self._broker.world_size != world_size:
                raise ValueError(f"init_process_group: world_size {world_size} does not match "
                                 f"the job this server started ({self._broker.world_size})")
            return self._broker.path


class _ThreadingServer(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True


def _serve(port, queue):
    from ._mpi_job import die_with_parent

    die_with_parent()
    server = _ThreadingServer(("0.0.0.0", port), logRequests=False, allow_none=True)
    server.register_instance(_Methods())
    queue.put(server.server_address[1])
    server.serve_forever()


class Server:
    r"""Distributed Server for distributed training (MegEngine's), run on the master node.

    It lives in its own process and ends with this object.

    Args:
        port: the server port; 0 picks a free one (read it from ``py_server_port``).

    Examples:
        >>> import engine.distributed as dist
        >>> server = dist.Server(0)
        >>> client = dist.Client("localhost", server.py_server_port)
        >>> client.user_set("answer", 42); client.user_get("answer")
        42
    """

    def __init__(self, port=0):
        if not isinstance(port, int) or isinstance(port, bool) or port < 0:
            raise TypeError(f"Server: port must be an int >= 0, got {port!r}")
        ctx = mp.get_context("fork")
        queue = ctx.Queue(1)
        self.proc = ctx.Process(target=_serve, args=(port, queue), daemon=True)
        self.proc.start()
        self._owner = os.getpid()  # forked children inherit this object, not the process
        self.py_server_port = queue.get(timeout=30)
        # MegEngine keeps a second (C++) server for its collectives; engine has none
        self.mm_server_port = None

    def __del__(self):
        proc = getattr(self, "proc", None)
        if proc is not None and getattr(self, "_owner", None) == os.getpid() and proc.is_alive():
            proc.terminate()


class Client:
    r"""Distributed Client for distributed training (MegEngine's).

    Args:
        master_ip: ip address of the master node (where the Server runs).
        port: the Server's port.
    """

    def __init__(self, master_ip, port):
        self.master_ip = master_ip
        self.port = port
        self.connect()

    def connect(self):
        r"""Check the connection with the server, retrying for up to 30 s."""
        self.proxy = xmlrpc.client.ServerProxy(f"http://{self.master_ip}:{self.port}",
                                               allow_none=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.proxy.connect()
                return
            except OSError as e:
                if time.monotonic() > deadline:
                    raise ConnectionError(f"Client: no distributed Server at "
                                          f"{self.master_ip}:{self.port} ({e})") from None
                time.sleep(0.1)

    def get_mm_server_port(self):
        r"""MegEngine's C++ server port; engine has no such server (returns None)."""
        return None

    def group_barrier(self, key, size):
        r"""Block until `size` processes reached the barrier named `key`."""
        self.proxy.group_barrier(key, size)

    def user_set(self, key, val):
        r"""Set the user-defined key-value (any picklable value)."""
        self.proxy.user_set(key, _pack(val))

    def user_get(self, key):
        r"""Get the user-defined value of `key` (waits until it is set)."""
        return _unpack(self.proxy.user_get(key))

    def user_pop(self, key):
        r"""Get the user-defined value of `key` and delete it."""
        return _unpack(self.proxy.user_pop(key))

    def bcast_val(self, val, key, size):
        r"""Broadcast a picklable value: the root passes it, the other `size - 1` pass None."""
        return _unpack(self.proxy.bcast_val(_pack(val), key, size))

    def mpi_endpoint(self, world_size):
        return self.proxy.mpi_endpoint(world_size)
