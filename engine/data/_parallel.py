"""The main-process side of DataLoader(num_workers > 0): start workers, keep a bounded number of
batches in flight, hand batches out in sampler order, and shut everything down on exhaustion,
error, Ctrl-C or garbage collection. The worker side and the queue protocol are in _worker.py.
"""
import multiprocessing as mp
import os
import pickle
import queue
import signal
import threading
import time

import numpy as np

from ._worker import worker_loop

# seconds between liveness checks while waiting for a batch
_POLL_S = 0.2
# batches in flight per worker (bounded prefetch)
PREFETCH_PER_WORKER = 2
# seconds a worker gets to exit by itself at shutdown before it is terminated
_JOIN_S = 1.0


def _context():
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else methods[0])


def _describe_exit(code):
    if code is not None and code < 0:
        try:
            return f"exit code {code} (killed by signal {signal.Signals(-code).name})"
        except ValueError:
            return f"exit code {code} (killed by signal {-code})"
    return f"exit code {code}"


class ParallelIter:
    """Iterates `tasks` (per batch: ("indices", [...]), ("items", [...]) or, with
    parallel_stream, ("stream", batch_size)) through workers.

    With divide=True every batch is split into num_workers parts that the workers transform in
    parallel; the main process concatenates the parts in order and collates them.
    """

    def __init__(self, loader, tasks, length):
        self._tasks = tasks
        # parallel_stream: every worker reads its own iterator of the StreamDataset; a worker
        # whose stream ended answers None and gets no more tasks
        self._own_streams = loader._parallel_stream_active
        self._ended = set()  # workers whose stream ended
        self._owner = {}  # batch_idx -> worker
        self._length = length
        self._num_workers = loader.num_workers
        self._timeout = float(loader.timeout)
        self._divide = loader.divide
        self._collator = loader.collator
        self._shut = True  # until the workers exist
        ctx = _context()
        self._task_queues = [ctx.Queue() for _ in range(self._num_workers)]
        self._result_queue = ctx.Queue()
        self._done = ctx.Event()
        # base seed drawn from numpy's global stream: np.random.seed(s) makes workers' random
        # transforms reproducible, and each worker gets its own seed
        base_seed = int(np.random.randint(0, 2**31 - 1))
        self.worker_seeds = [base_seed + i + 1 for i in range(self._num_workers)]
        self._workers = []
        self._lock = threading.Lock()
        self._shut = False  # from here on _shutdown has something to clean up
        for wid in range(self._num_workers):
            proc = ctx.Process(
                target=worker_loop,
                args=(wid, self._num_workers, loader.dataset, loader.transform, loader.collator,
                      not self._divide, self._task_queues[wid], self._result_queue, self._done,
                      self.worker_seeds[wid], os.getpid()),
                daemon=True, name=f"DataLoaderWorker-{wid}")
            proc.start()
            self._workers.append(proc)
        self._sent = 0  # batches dispatched
        self._yielded = 0  # batches handed to the caller
        self._exhausted = False
        self._parts_expected = {}  # batch_idx -> number of parts
        self._parts = {}  # batch_idx -> {part_idx: data}
        for _ in range(PREFETCH_PER_WORKER * self._num_workers):
            if not self._dispatch():
                break

    @property
    def worker_pids(self):
        return [p.pid for p in self._workers]

    def __iter__(self):
        return self

    def __len__(self):
        return self._length

    def _dispatch(self):
        if self._exhausted:
            return False
        try:
            kind, payload = next(self._tasks)
        except StopIteration:
            self._exhausted = True
            return False
        idx = self._sent
        self._sent += 1
        if self._divide:
            step = -(-len(payload) // self._num_workers)  # ceil
            parts = [payload[i:i + step] for i in range(0, len(payload), step)] or [payload]
            for part_idx, part in enumerate(parts):
                self._task_queues[part_idx].put((idx, part_idx, kind, part))
        else:
            parts = [payload]
            wid = idx % self._num_workers
            if self._own_streams:
                live = [w for w in range(self._num_workers) if w not in self._ended]
                if not live:
                    self._exhausted = True
                    self._sent -= 1
                    return False
                wid = live[idx % len(live)]
            self._owner[idx] = wid
            self._task_queues[wid].put((idx, 0, kind, payload))
        self._parts_expected[idx] = len(parts)
        self._parts[idx] = {}
        return True

    def __next__(self):
        if self._shut:
            raise StopIteration
        try:
            if self._yielded == self._sent and self._exhausted:
                self._shutdown()
                raise StopIteration
            while True:
                idx = self._yielded
                while len(self._parts[idx]) < self._parts_expected[idx]:
                    self._receive(idx)
                parts = self._parts.pop(idx)
                del self._parts_expected[idx]
                self._yielded += 1
                wid = self._owner.pop(idx, None)
                if parts[0] is None:  # that worker's stream ended: no batch for this task
                    self._ended.add(wid)
                    self._dispatch()
                    if self._yielded == self._sent and self._exhausted:
                        self._shutdown()
                        raise StopIteration
                    continue
                self._dispatch()
                break
            if not self._divide:
                return pickle.loads(parts[0])
            samples = []
            for part_idx in range(len(parts)):
                samples.extend(pickle.loads(parts[part_idx]))
            return self._collator.apply(samples)
        except StopIteration:
            raise
        except BaseException:
            # worker error, dead worker, timeout, KeyboardInterrupt: no process may outlive it
            self._shutdown()
            raise

    def _receive(self, idx):
        start = time.monotonic()
        while True:
            wait = _POLL_S
            if self._timeout > 0:
                wait = max(0.0, min(_POLL_S, start + self._timeout - time.monotonic()))
            try:
                batch_idx, part_idx, ok, payload = self._result_queue.get(timeout=wait)
            except queue.Empty:
                self._check_workers(idx)
                if self._timeout > 0 and time.monotonic() - start >= self._timeout:
                    raise RuntimeError(
                        f"DataLoader: timed out after {self._timeout:g} s waiting for batch "
                        f"{idx} from the workers (timeout={self._timeout:g}); a sample takes "
                        "too long to load or transform") from None
                continue
            if not ok:
                exc_type, message = payload
                raise _rebuild(exc_type, message)
            self._parts[batch_idx][part_idx] = payload
            return

    def _check_workers(self, idx):
        for wid, proc in enumerate(self._workers):
            if not proc.is_alive():
                raise RuntimeError(
                    f"DataLoader worker {wid} (pid {proc.pid}) exited unexpectedly with "
                    f"{_describe_exit(proc.exitcode)} while batch {idx} was awaited; a crash in "
                    "native code, os._exit or the out-of-memory killer can cause this")

    def _shutdown(self):
        with self._lock:
            if self._shut:
                return
            self._shut = True
        self._done.set()
        for q in self._task_queues:
            try:
                q.put(None)
            except Exception:  # a closed or broken queue: the worker is gone anyway
                pass
        deadline = time.monotonic() + _JOIN_S
        for proc in self._workers:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in self._workers:
            if proc.is_alive():
                proc.terminate()
                proc.join(_JOIN_S)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for q in self._task_queues + [self._result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self._shutdown()
        except Exception:  # interpreter teardown: modules may already be gone
            pass


_WORKER_ERRORS = {}


def _worker_error_type(exc_type):
    """exc_type and RuntimeError at once: `except ValueError` still catches a worker's
    ValueError, and `except RuntimeError` catches every worker error, as in MegEngine."""
    if issubclass(exc_type, RuntimeError):
        return exc_type
    if exc_type not in _WORKER_ERRORS:
        try:
            _WORKER_ERRORS[exc_type] = type(exc_type.__name__, (exc_type, RuntimeError),
                                            {"__module__": exc_type.__module__})
        except TypeError:  # incompatible layouts (OSError, ...): RuntimeError alone
            _WORKER_ERRORS[exc_type] = RuntimeError
    return _WORKER_ERRORS[exc_type]


def _rebuild(exc_type, message):
    # re-raise with the worker's exception type (also a RuntimeError) when it can carry a
    # message, else RuntimeError
    if exc_type is not None and issubclass(exc_type, Exception):
        if exc_type is KeyError:
            # KeyError's str() repr-quotes its argument, which would mangle the traceback text
            return RuntimeError(message)
        try:
            return _worker_error_type(exc_type)(message)
        except Exception:
            pass
    return RuntimeError(message)
