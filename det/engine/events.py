"""Scalars of a run (EventStorage) and the writers that print or save them.

Writers: ConsoleWriter (one line per log period: ETA, iteration, each loss term, lr, time/iter,
data time, peak memory), JSONWriter (output_dir/metrics.json, one json object per line) and
TensorboardWriter (event files, when tensorboardX or tensorboard is installed).
"""
import json
import os
import statistics
from collections import defaultdict

from det.utils.logger import get_logger
from det.utils.progress import format_eta

__all__ = ["EventStorage", "ConsoleWriter", "JSONWriter", "TensorboardWriter",
           "tensorboard_available"]


class EventStorage:
    """History of named scalars: name -> [(iteration, value), ...]."""

    def __init__(self):
        self._history = defaultdict(list)
        self._last_written = {}  # writer id -> {name: entries of the history already written}

    def put_scalar(self, iteration, name, value):
        self._history[name].append((int(iteration), float(value)))

    def put_scalars(self, iteration, **scalars):
        for name, value in scalars.items():
            self.put_scalar(iteration, name, value)

    def history(self, name):
        return list(self._history.get(name, ()))

    def names(self):
        return list(self._history)

    def latest(self, name):
        """(iteration, value) of the last put, or None."""
        h = self._history.get(name)
        return h[-1] if h else None

    def median(self, name, window):
        """Median of the last `window` values (loss curves are noisy; detectron2 prints this)."""
        h = self._history.get(name)
        return statistics.median(v for _, v in h[-window:]) if h else None

    def new_since_last_write(self, writer):
        """{name: [(iteration, value), ...]} put since `writer` last asked (every entry, so a
        file written every 20 iterations still holds the whole curve)."""
        done = self._last_written.setdefault(id(writer), {})
        out = {}
        for name, h in self._history.items():
            start = done.get(name, 0)
            if start < len(h):
                out[name] = h[start:]
                done[name] = len(h)
        return out


class ConsoleWriter:
    """`eta: 0:01:02  iter: 40/100  loss_cls: 0.6  ...  total_loss: 1.2  time: 0.31 s/it
    data_time: 0.002  lr: 0.0100  max_mem: 512M`, loss terms as medians over `window`."""

    def __init__(self, trainer, window=20):
        self.trainer = trainer
        self.window = window

    def write(self):
        import engine as mge

        t = self.trainer
        s = t.storage
        done = t.iter + 1
        parts = []
        step_time = s.median("time", self.window)
        if step_time is not None:
            parts.append(f"eta: {format_eta(step_time * (t.max_iter - done))}")
        parts.append(f"iter: {done}/{t.max_iter}")
        for name in s.names():
            if name.startswith("loss") or name == "total_loss":
                parts.append(f"{name}: {s.median(name, self.window):.4g}")
        for name in s.names():
            if name.startswith("bbox/") and s.latest(name)[0] == t.iter:
                parts.append(f"{name}: {s.latest(name)[1]:.2f}")
        if step_time is not None:
            parts.append(f"time: {step_time:.4f} s/it")
        if s.latest("data_time") is not None:
            parts.append(f"data_time: {s.median('data_time', self.window):.4f}")
        if s.latest("lr") is not None:
            parts.append(f"lr: {s.latest('lr')[1]:.6g}")
        parts.append(f"max_mem: {mge.get_max_allocated_memory() / 2**20:.0f}M")
        get_logger().info("  ".join(parts))

    def close(self):
        pass


class JSONWriter:
    """Appends {"iteration": i, name: value, ...} lines to a file (one object per write)."""

    def __init__(self, trainer, path):
        self.trainer = trainer
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._file = open(path, "a")

    def write(self):
        new = self.trainer.storage.new_since_last_write(self)
        by_iter = defaultdict(dict)
        for name, entries in new.items():
            for it, value in entries:
                by_iter[it][name] = value
        for it in sorted(by_iter):
            self._file.write(json.dumps({"iteration": it + 1, **by_iter[it]}) + "\n")
        self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.close()


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter

        return SummaryWriter
    except ImportError:
        pass
    import importlib.util

    if importlib.util.find_spec("tensorboard") is not None:
        try:
            from torch.utils.tensorboard import SummaryWriter

            return SummaryWriter
        except ImportError:
            pass
    return None


def tensorboard_available():
    return _summary_writer_class() is not None


class TensorboardWriter:
    """Scalars to TensorBoard event files in `log_dir` (needs tensorboardX or tensorboard)."""

    def __init__(self, trainer, log_dir):
        cls = _summary_writer_class()
        if cls is None:
            raise ImportError("TensorboardWriter needs tensorboardX or tensorboard (with torch)")
        self.trainer = trainer
        self._writer = cls(log_dir)

    def write(self):
        for name, entries in self.trainer.storage.new_since_last_write(self).items():
            for it, value in entries:
                self._writer.add_scalar(name, value, it + 1)

    def close(self):
        self._writer.close()
