"""A progress bar with ETA for long work: tqdm when installed, else a plain one on stderr."""
import sys
import time

__all__ = ["progress_bar", "format_eta"]


def format_eta(seconds):
    """Seconds as H:MM:SS (or '?' when unknown)."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def progress_bar(iterable, total=None, desc="", file=None, disable=False):
    """Wrap an iterable with a progress bar; `total` defaults to len(iterable) when it has one."""
    if total is None:
        try:
            total = len(iterable)
        except TypeError:
            total = None
    if disable:
        return iter(iterable)
    try:
        from tqdm import tqdm
    except ImportError:
        return _SimpleBar(iterable, total, desc, file or sys.stderr)
    return tqdm(iterable, total=total, desc=desc, file=file, dynamic_ncols=True)


class _SimpleBar:
    """`desc: 40/100 [=====>    ] 1.2 it/s ETA 0:00:50`, redrawn at most twice a second."""

    def __init__(self, iterable, total, desc, file, width=30):
        self.iterable, self.total, self.desc, self.file, self.width = (iterable, total, desc,
                                                                       file, width)

    def __iter__(self):
        start = last = time.perf_counter()
        n = 0
        for item in self.iterable:
            yield item
            n += 1
            now = time.perf_counter()
            if now - last >= 0.5 or n == self.total:
                last = now
                self.file.write("\r" + self.line(n, now - start))
                self.file.flush()
        self.file.write("\n")
        self.file.flush()

    def line(self, n, elapsed):
        rate = n / elapsed if elapsed > 0 else 0.0
        if self.total:
            filled = int(self.width * n / self.total)
            bar = "=" * filled + (">" if filled < self.width else "") + " " * (
                self.width - filled - 1)
            eta = (self.total - n) / rate if rate > 0 else None
            return (f"{self.desc}: {n}/{self.total} [{bar[:self.width]}] {rate:.2f} it/s "
                    f"ETA {format_eta(eta)}")
        return f"{self.desc}: {n} {rate:.2f} it/s"
