"""engine.logger: MegEngine's logging helpers on top of the standard `logging` module.

Every logger made by get_logger prints through MegEngineLogFormatter (coloured level tags on the
terminal) and, once set_log_file was called, also writes an uncoloured copy with file and line
to that file. The default level comes from the MEGENGINE_LOGGING_LEVEL environment variable
(INFO when unset).

engine has no native (MegBrain) runtime that logs, so the "megbrain" logger only ever prints what
Python code sends to it; set_mgb_log_level sets and returns its level like MegEngine does.
"""
import contextlib
import logging
import os

__all__ = [
    "get_logger", "set_log_file", "set_log_level", "enable_debug_log", "set_mgb_log_level",
    "replace_mgb_log_level", "MegEngineLogFormatter", "MegBrainLogFormatter",
]

_all_loggers = []
_default_level = logging.getLevelName(os.getenv("MEGENGINE_LOGGING_LEVEL", "INFO").upper())
if not isinstance(_default_level, int):  # an unknown name: getLevelName returned "Level X"
    _default_level = logging.INFO


def set_log_file(fout, mode="a"):
    r"""Sets log output file.

    Every record printed by an engine logger is also written, without colours and with its
    source file and line, to this file.

    Args:
        fout: file-like object that supports write and flush, or string for the filename
        mode: specify the mode to open log file if *fout* is a string

    Examples:
        >>> import io
        >>> import engine as mge
        >>> buf = io.StringIO()
        >>> mge.set_log_file(buf)
        >>> mge.get_logger("doc").warning("hello")
        >>> "WRN hello" in buf.getvalue()
        True
        >>> mge.set_log_file(None)
    """
    if isinstance(fout, (str, os.PathLike)):
        fout = open(fout, mode)
    MegEngineLogFormatter.log_fout = fout


class MegEngineLogFormatter(logging.Formatter):
    r"""The formatter of engine's loggers: a green date, a level tag (DBG, WRN, ERR) coloured by
    level, the message; exceptions in blue. Messages longer than ``max_lines`` lines are cut in
    the middle on the terminal (the log file, see :func:`set_log_file`, keeps them whole).

    Args:
        fmt: ignored (the format is fixed, as in MegEngine); kept for logging.Formatter's API.
        datefmt: strftime format of the date.
        style: logging.Formatter's style.
        validate: logging.Formatter's validate.

    Examples:
        >>> import logging
        >>> from engine.logger import MegEngineLogFormatter
        >>> rec = logging.LogRecord("x", logging.WARNING, "f.py", 1, "careful", None, None)
        >>> "WRN careful" in MegEngineLogFormatter().format(rec)
        True
    """

    log_fout = None
    date_full = "[%(asctime)s %(lineno)d@%(filename)s:%(name)s] "
    date = "%(asctime)s "
    msg = "%(message)s"
    max_lines = 256

    def _color_exc(self, msg):
        return "\x1b[34m{}\x1b[0m".format(msg)

    def _color_dbg(self, msg):
        return "\x1b[36m{}\x1b[0m".format(msg)

    def _color_warn(self, msg):
        return "\x1b[1;31m{}\x1b[0m".format(msg)

    def _color_err(self, msg):
        return "\x1b[1;4;31m{}\x1b[0m".format(msg)

    def _color_omitted(self, msg):
        return "\x1b[35m{}\x1b[0m".format(msg)

    def _color_normal(self, msg):
        return msg

    def _color_date(self, msg):
        return "\x1b[32m{}\x1b[0m".format(msg)

    def _set_fmt(self, fmt):
        self._style._fmt = fmt

    def format(self, record):
        tags = {logging.DEBUG: (self._color_dbg, "DBG "),
                logging.WARNING: (self._color_warn, "WRN "),
                logging.ERROR: (self._color_err, "ERR ")}
        color, tag = tags.get(record.levelno, (self._color_normal, ""))
        if self.log_fout:
            self._set_fmt(self.date_full + tag + self.msg)
            text = super().format(record)
            n = text.count("\n") + 1
            if n >= self.max_lines:  # mark long records so a reader of the file can skip them
                head, body = text.split("\n", 1)
                text = "\n".join([head, f"BEGIN_LONG_LOG_{n - 1}_LINES{{", body,
                                  f"}}END_LONG_LOG_{n - 1}_LINES"])
            self.log_fout.write(text + "\n")
            self.log_fout.flush()

        self._set_fmt(self._color_date(self.date) + color(tag + self.msg))
        text = super().format(record)
        if record.exc_text or record.exc_info:
            b = text.find("Traceback ")
            if b != -1:
                text = text[:b] + self._color_exc("  " + text[b:].replace("\n", "\n  "))
        lines = text.split("\n")
        keep = self.max_lines // 2
        if len(lines) >= self.max_lines and len(lines) - 2 * keep > 0:
            mid = self._color_omitted(
                f"[{len(lines) - 2 * keep} log lines omitted (would be written to output file "
                "if set_log_file() has been called;\n the threshold can be set at "
                "MegEngineLogFormatter.max_lines)]")
            text = "\n".join(lines[:keep] + [mid] + lines[-keep:])
        return text


class MegBrainLogFormatter(MegEngineLogFormatter):
    r"""The formatter of the "megbrain" logger: like :class:`MegEngineLogFormatter` with a yellow
    ``[mgb]`` date. engine has no native runtime that logs; the class exists for code that
    formats its own records with it.

    Args:
        fmt: ignored (the format is fixed); kept for logging.Formatter's API.
        datefmt: strftime format of the date.
        style: logging.Formatter's style.
        validate: logging.Formatter's validate.

    Examples:
        >>> import logging
        >>> from engine.logger import MegBrainLogFormatter
        >>> rec = logging.LogRecord("x", logging.INFO, "f.py", 1, "hi", None, None)
        >>> "[mgb]" in MegBrainLogFormatter().format(rec)
        True
    """

    date = "%(asctime)s[mgb] "

    def _color_date(self, msg):
        return "\x1b[33m{}\x1b[0m".format(msg)


def get_logger(name=None, formatter=MegEngineLogFormatter):
    r"""Gets engine logger with given name.

    The first call for a name sets it up (its own stream handler with ``formatter``, no
    propagation to the root logger, the default level); later calls return it unchanged.

    Args:
        name: the logger's name (None: the root logger).
        formatter: the logging.Formatter class its handler uses.

    Returns:
        a ``logging.Logger``.

    Examples:
        >>> import engine as mge
        >>> log = mge.get_logger("my.module")
        >>> log is mge.get_logger("my.module")
        True
        >>> log.propagate
        False
    """
    logger = logging.getLogger(name)
    if getattr(logger, "_init_done__", None):
        return logger
    logger._init_done__ = True
    logger.propagate = False
    logger.setLevel(_default_level)
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(datefmt="%d %H:%M:%S"))
    handler.setLevel(0)
    del logger.handlers[:]
    logger.addHandler(handler)
    _all_loggers.append(logger)
    return logger


def set_log_level(level, update_existing=True):
    r"""Sets default logging level.

    Args:
        level: logging level given by python :mod:`logging` module (an int or a name)
        update_existing: whether to update existing loggers

    Returns:
        the previous default level.

    Examples:
        >>> import logging
        >>> import engine as mge
        >>> old = mge.set_log_level(logging.ERROR)
        >>> mge.get_logger("doc.level").level == logging.ERROR
        True
        >>> _ = mge.set_log_level(old)
    """
    global _default_level
    origin = _default_level
    _default_level = level
    if update_existing:
        for lg in _all_loggers:
            lg.setLevel(level)
    return origin


_megbrain_logger = get_logger("megbrain", MegBrainLogFormatter)


class Logger:
    """MegEngine's runtime logger (``core._imperative_rt.Logger``): its level is the "megbrain"
    logger's, in MegBrain's LogLevel names.

    Examples:
        >>> from engine.logger import Logger
        >>> old = Logger().set_log_level(Logger.LogLevel.Error)
        >>> Logger().set_log_level(old) == Logger.LogLevel.Error
        True
    """

    class LogLevel:
        Debug, Info, Warn, Error = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR

    def set_log_level(self, level):
        """Sets the level (a LogLevel); returns the previous one."""
        origin = _megbrain_logger.level
        _megbrain_logger.setLevel(level)
        return origin


_imperative_rt_logger = Logger()


def set_mgb_log_level(level):
    r"""Sets megbrain log level.

    engine has no native MegBrain runtime that logs: this sets the level of the "megbrain" Python
    logger and remembers it, nothing more.

    Args:
        level: new log level (an int or a name of :mod:`logging`)

    Returns:
        original log level

    Examples:
        >>> import logging
        >>> from engine.logger import set_mgb_log_level
        >>> old = set_mgb_log_level(logging.ERROR)
        >>> set_mgb_log_level(old) == logging.ERROR
        True
    """
    origin = _megbrain_logger.level
    _megbrain_logger.setLevel(level)
    return origin


@contextlib.contextmanager
def replace_mgb_log_level(level):
    r"""Replaces megbrain log level in a block and restore after exiting.

    Args:
        level: new log level

    Examples:
        >>> import logging
        >>> from engine.logger import replace_mgb_log_level, set_mgb_log_level
        >>> with replace_mgb_log_level(logging.ERROR):
        ...     pass
    """
    old = set_mgb_log_level(level)
    try:
        yield
    finally:
        set_mgb_log_level(old)


def enable_debug_log():
    r"""Sets logging level to debug for all components.

    Examples:
        >>> import logging
        >>> import engine as mge
        >>> mge.enable_debug_log()
        >>> mge.get_logger("doc.debug").level == logging.DEBUG
        True
        >>> _ = mge.set_log_level(logging.INFO)
    """
    set_log_level(logging.DEBUG)
    set_mgb_log_level(logging.DEBUG)
