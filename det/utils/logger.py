"""The "det" logger: console output plus output_dir/log.txt."""
import logging
import os
import sys

__all__ = ["setup_logger", "get_logger"]

_FORMAT = "[%(asctime)s %(name)s] %(message)s"


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time (pytest and tools swap it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


def get_logger():
    """The "det" logger, with its console handler set up on first use."""
    logger = logging.getLogger("det")
    if not logger.handlers:
        setup_logger()
    return logger


def setup_logger(output_dir=None, level=logging.INFO):
    """Configure the "det" logger once per output_dir (idempotent: no duplicated lines)."""
    logger = logging.getLogger("det")
    logger.setLevel(level)
    logger.propagate = False
    fmt = logging.Formatter(_FORMAT, datefmt="%m/%d %H:%M:%S")
    if not any(getattr(h, "_det_console", False) for h in logger.handlers):
        console = _StdoutHandler()
        console.setFormatter(fmt)
        console._det_console = True
        logger.addHandler(console)
    if output_dir is not None:
        path = os.path.abspath(os.path.join(output_dir, "log.txt"))
        for h in list(logger.handlers):
            if getattr(h, "_det_file", None) not in (None, path):
                logger.removeHandler(h)  # one log file: the current run's
                h.close()
        if not any(getattr(h, "_det_file", None) == path for h in logger.handlers):
            os.makedirs(output_dir, exist_ok=True)
            fh = logging.FileHandler(path)
            fh.setFormatter(fmt)
            fh._det_file = path
            logger.addHandler(fh)
    return logger
