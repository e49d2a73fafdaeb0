"""How a process joins an MPI job: either it was started by `mpiexec` (the job is already
there), or engine starts the job itself for processes that already exist (dist.launcher's forked
workers, or processes that call init_process_group by hand on one host).

The second case uses MPI's own process manager, not a home-made one. The broker runs
`mpiexec -n N python -c RELAY`: each relay is a real MPI process slot of hydra (MPICH's process
manager), holding the PMI connection hydra opened for that rank (PMI_FD and the PMI_* variables
in its environment). The relay passes that file descriptor over a Unix socket (SCM_RIGHTS) to the
broker, which hands rank r's descriptor to the worker that asks for rank r. The worker puts it in
its environment and imports mpi4py: MPI_Init then talks to hydra as rank r, exactly as if mpiexec
had started it, so COMM_WORLD holds all N workers. When the worker ends it reports its exit code;
the relay exits with it, so mpiexec sees the job end as it would have. (MPI's own dynamic-process
route, Open_port/Accept/Connect between singletons, fails with the pip `mpich` wheel: singletons
share process ids and the intercommunicator refuses them.)

Nothing here imports mpi4py: MPI must be initialised only in the worker, after the fork.
"""
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

# What the relay runs (kept tiny: it starts N times per job).
_RELAY = r"""
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
env = {k: v for k, v in os.environ.items() if k.startswith(("PMI_", "MPI_LOCAL", "HYDI_"))}
fds = [int(env[k]) for k in ("PMI_FD", "HYDI_CONTROL_FD") if k in env]
socket.send_fds(s, [json.dumps(env).encode()], fds)
code = s.recv(16)
sys.exit(int(code) if code.strip().lstrip(b"-").isdigit() else 1)
"""
_FD_VARS = ("PMI_FD", "HYDI_CONTROL_FD")
_LAUNCHED_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")


def launched_by_mpiexec():
    """(rank, size) when this process was started by mpiexec/mpirun, else None."""
    env = os.environ
    for rank_var, size_var in (("PMI_RANK", "PMI_SIZE"),
                               ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")):
        if rank_var in env and size_var in env:
            return int(env[rank_var]), int(env[size_var])
    return None


def find_mpiexec():
    """mpiexec next to this Python (the pip `mpich` wheel puts it there), else on PATH."""
    local = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(local, os.X_OK):
        return local
    found = shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("engine.distributed: no `mpiexec` found next to the Python "
                           f"interpreter ({sys.executable}) or on PATH; install the CPU "
                           "backend with `pip install -e .[dist]` (mpi4py and the mpich wheel)")
    return found


def die_with_parent():
    """Linux: this process gets SIGKILL when its parent dies, so that a killed launcher leaves
    no rank spinning in a collective that will never complete."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def mpi_available():
    try:
        import mpi4py  # noqa: F401  (the package only; mpi4py.MPI would initialise MPI)
    except ImportError:
        return False
    return True


class Broker:
    """Starts an N-rank MPI job of relays and hands out each rank's PMI connection.

    Serves on a Unix socket (`path`): a worker connects, sends its rank, receives that rank's
    environment and descriptors, and keeps the connection open; it sends its exit code when
    it ends (a closed connection without one counts as exit code 1).
    """

    def __init__(self, world_size, timeout=60.0):
        self.world_size = world_size
        self._dir = tempfile.mkdtemp(prefix="engine-mpi-")
        self.path = os.path.join(self._dir, "broker.sock")
        self._listener = socket.socket(socket.AF_UNIX)
        self._listener.bind(self.path)
        self._listener.listen(2 * world_size + 4)
        env = dict(os.environ, HYDRA_LAUNCHER="fork")
        self._job = subprocess.Popen(
            [find_mpiexec(), "-n", str(world_size), sys.executable, "-c", _RELAY, self.path],
            # stdout: hydra's "BAD TERMINATION" banner when a rank fails; the launcher names
            # the rank itself
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self._slots = {}
        self._listener.settimeout(timeout)
        try:
            for _ in range(world_size):
                conn, _ = self._listener.accept()
                msg, fds, _, _ = socket.recv_fds(conn, 1 << 16, len(_FD_VARS))
                env = json.loads(msg)
                self._slots[int(env["PMI_RANK"])] = (conn, env, fds)
        except OSError as e:
            self.close()
            raise RuntimeError(f"engine.distributed: mpiexec did not start {world_size} "
                               f"processes within {timeout:.0f} s ({e})") from None
        self._listener.settimeout(None)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        served = 0
        while served < self.world_size:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            served += 1
            threading.Thread(target=self._hand_out, args=(conn,), daemon=True).start()

    def _hand_out(self, conn):
        relay = None
        try:
            rank = int(conn.recv(16))
            relay, env, fds = self._slots.pop(rank)
            socket.send_fds(conn, [json.dumps(env).encode()], fds)
            for fd in fds:
                os.close(fd)
            # wait for the worker's exit code, or for hydra to end its relay (another rank
            # failed and mpiexec is tearing the job down): then closing the worker's
            # connection tells it the job is over (WorkerLink's watcher)
            ready, _, _ = select.select([conn, relay], [], [])
            code = conn.recv(16) if conn in ready else b""
            code = code if code.strip().lstrip(b"-").isdigit() else b"1"
        except (OSError, ValueError, KeyError):
            code = b"1"
        finally:
            conn.close()
        if relay is not None:
            try:
                relay.sendall(code)
            except OSError:
                pass
            relay.close()

    def close(self):
        try:
            self._listener.close()
        except OSError:
            pass
        for conn, _, fds in self._slots.values():
            for fd in fds:
                os.close(fd)
            conn.close()
        self._slots = {}
        if self._job.poll() is None:
            try:
                self._job.wait(5)
            except subprocess.TimeoutExpired:
                self._job.kill()
        shutil.rmtree(self._dir, ignore_errors=True)


def _mpi_finalized():
    mpi = sys.modules.get("mpi4py.MPI")
    try:
        return mpi is not None and mpi.Is_finalized()
    except Exception:
        return True  # the interpreter is shutting down


class WorkerLink:
    """A worker's end of the broker: joins rank `rank`'s PMI slot, reports the exit code."""

    def __init__(self, path, rank):
        self._sock = socket.socket(socket.AF_UNIX)
        self._sock.connect(path)
        self._sock.sendall(str(rank).encode())
        msg, fds, _, _ = socket.recv_fds(self._sock, 1 << 16, len(_FD_VARS))
        env = json.loads(msg)
        names = [k for k in _FD_VARS if k in env]
        for name, fd in zip(names, fds):
            env[name] = str(fd)
        os.environ.update(env)
        self._reported = False
        self._finishing = False  # set before MPI_Finalize: hydra may end the relay after it
        threading.Thread(target=self._watch, daemon=True).start()

    def finishing(self):
        self._finishing = True

    def _watch(self):
        """The broker closes this connection when the MPI job ends under us (another rank
        failed): this rank would wait in its next collective forever, so it leaves."""
        try:
            self._sock.recv(1)
        except OSError:
            pass
        if not self._reported and not self._finishing and not _mpi_finalized():
            print(f"engine.distributed: rank {os.environ.get('PMI_RANK', '?')}: the MPI job "
                  "ended (another rank failed); exiting", file=sys.stderr, flush=True)
            os._exit(1)

    def report_exit(self, code):
        if not self._reported:
            self._reported = True
            try:
                self._sock.sendall(str(int(code)).encode())
            except OSError:
                pass
