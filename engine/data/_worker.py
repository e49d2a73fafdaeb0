"""The worker-process side of DataLoader(num_workers > 0).

Protocol (one task queue per worker, one shared result queue):
    task   = (batch_idx, part_idx, kind, payload)   kind "indices": dataset indices to read;
                                                    kind "items": samples already read (streams)
                                                    kind "stream": read this many samples from
                                                    the worker's own stream (parallel_stream)
           | None                                   exit
    result = (batch_idx, part_idx, ok, payload)     ok: payload is the pickled batch (collated,
                                                    or the transformed list when the batch is
                                                    divided between workers; None: the worker's
                                                    stream has ended); not ok: a
                                                    (exception type or None, message) pair
The worker pickles its result itself, so an unpicklable batch becomes an error in the main
process instead of being dropped silently by the queue's feeder thread (which would hang it).
"""
import os
import pickle
import queue
import random
import signal
import traceback

import numpy as np

from engine._native import single_threaded_after_fork

# seconds between checks that the main process still wants us (done event, parent alive)
WORKER_POLL_S = 0.5


class WorkerInfo:
    """What a dataset or transform can learn about the worker it runs in (get_worker_info)."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    # MegEngine's names for the same fields (a StreamDataset read with parallel_stream=True
    # splits its data with worker_info.idx and worker_info.worker)
    @property
    def idx(self):
        return self.id

    @property
    def worker(self):
        return self.num_workers

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


_worker_info = None


def get_worker_info():
    """What a dataset or transform can learn about the DataLoader worker it runs in.

    Returns:
        in a worker process (``DataLoader(num_workers > 0)``), its WorkerInfo with ``id``,
        ``num_workers``, ``seed`` and ``dataset`` (the worker's copy); in the main process,
        None.

    Examples:
        >>> mge.data.get_worker_info() is None
        True
    """
    return _worker_info


def seed_worker(seed):
    """Seed every random stream a dataset or transform may use: Python's, numpy's global one
    (the vision transforms draw from it) and engine.random's."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    from engine import random as engine_random

    engine_random.seed(seed)


def _picklable_type(exc_type):
    try:
        pickle.loads(pickle.dumps(exc_type))
        return exc_type
    except Exception:
        return None


def _error_payload(worker_id, exc):
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    message = (f"Caught {type(exc).__name__} in DataLoader worker process {worker_id} "
               f"(pid {os.getpid()}).\nOriginal traceback (in the worker):\n{text}")
    return _picklable_type(type(exc)), message


_END = object()


def _read_stream(state, dataset, count):
    """Up to `count` samples from this worker's own iterator of a StreamDataset."""
    if "iter" not in state:
        state["iter"] = iter(dataset)
    samples = []
    for sample in state["iter"]:
        samples.append(sample)
        if len(samples) == count:
            break
    return samples


def _run_task(dataset, transform, collator, kind, payload, collate, state):
    if kind == "indices":
        samples = [dataset[i] for i in payload]
    elif kind == "stream":
        samples = _read_stream(state, dataset, payload)
        if not samples:
            return _END
    else:
        samples = payload
    samples = transform.apply_batch(samples)
    return collator.apply(samples) if collate else list(samples)


def worker_loop(worker_id, num_workers, dataset, transform, collator, collate, task_queue,
                result_queue, done_event, seed, parent_pid):
    global _worker_info
    # Ctrl-C reaches the whole process group; the main process decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    single_threaded_after_fork()
    seed_worker(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    stream_state = {}
    try:
        while True:
            try:
                task = task_queue.get(timeout=WORKER_POLL_S)
            except queue.Empty:
                if done_event.is_set() or os.getppid() != parent_pid:
                    break
                continue
            if task is None:
                break
            if done_event.is_set():
                continue  # shutting down: drain without working
            batch_idx, part_idx, kind, payload = task
            try:
                batch = _run_task(dataset, transform, collator, kind, payload, collate,
                                  stream_state)
                message = (batch_idx, part_idx, True, None if batch is _END else
                           pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
            except Exception as exc:
                message = (batch_idx, part_idx, False, _error_payload(worker_id, exc))
            result_queue.put(message)
    finally:
        if done_event.is_set():
            # nobody will read what is still buffered: exit without waiting to flush it
            result_queue.cancel_join_thread()
