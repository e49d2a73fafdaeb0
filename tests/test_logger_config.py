"""engine.logger, engine.config, engine.version, F.debug_param and the engine.core paths:
MegEngine's names, defaults, validation and semantics (knobs with no effect keep their values)."""
import io
import logging
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import engine as mge
import engine.functional as F
from engine import config, logger
from engine.core import _trace_option
from engine.core.tensor import dtype as qdt
from engine.core.tensor.utils import make_shape_tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_top_level_logger_names_are_the_logger_module_functions():
    for name in ("get_logger", "set_log_file", "set_log_level", "enable_debug_log"):
        assert getattr(mge, name) is getattr(logger, name)


def test_get_logger_is_set_up_once_and_does_not_propagate():
    lg = mge.get_logger("test.once")
    assert lg is mge.get_logger("test.once")
    assert lg.propagate is False and len(lg.handlers) == 1
    assert isinstance(lg.handlers[0].formatter, logger.MegEngineLogFormatter)
    mgb = logging.getLogger("megbrain")
    assert isinstance(mgb.handlers[0].formatter, logger.MegBrainLogFormatter)


def test_set_log_level_returns_the_old_one_and_updates_existing_loggers():
    lg = mge.get_logger("test.level")
    old = mge.set_log_level(logging.ERROR)
    try:
        assert lg.level == logging.ERROR
        assert mge.get_logger("test.level.new").level == logging.ERROR
        mge.set_log_level(logging.WARNING, update_existing=False)
        assert lg.level == logging.ERROR  # not touched
    finally:
        mge.set_log_level(old)
    assert lg.level == old


def test_log_file_gets_uncoloured_records_with_their_source_line():
    buf = io.StringIO()
    mge.set_log_file(buf)
    try:
        mge.get_logger("test.file").warning("disk %d%% full", 90)
    finally:
        mge.set_log_file(None)
    text = buf.getvalue()
    assert "WRN disk 90% full" in text and "test_logger_config.py:test.file" in text
    assert "\x1b[" not in text


def test_set_log_file_by_name(tmp_path):
    path = tmp_path / "log.txt"
    mge.set_log_file(str(path), mode="w")
    try:
        mge.get_logger("test.fname").error("boom")
    finally:
        logger.MegEngineLogFormatter.log_fout.close()
        mge.set_log_file(None)
    assert "ERR boom" in path.read_text()


def test_formatter_cuts_long_messages_on_the_terminal_only():
    fmt = logger.MegEngineLogFormatter()
    rec = logging.LogRecord("x", logging.INFO, "f.py", 1, "\n".join(map(str, range(400))),
                            None, None)
    out = fmt.format(rec)
    assert "log lines omitted" in out and out.count("\n") < 300


def test_mgb_log_level_set_returns_previous_and_replace_restores():
    old = logger.set_mgb_log_level(logging.ERROR)
    assert logger.set_mgb_log_level(logging.INFO) == logging.ERROR
    with logger.replace_mgb_log_level(logging.DEBUG):
        assert logging.getLogger("megbrain").level == logging.DEBUG
    assert logging.getLogger("megbrain").level == logging.INFO
    logger.set_mgb_log_level(old)


def test_enable_debug_log_lowers_every_logger():
    lg = mge.get_logger("test.debug")
    mge.enable_debug_log()
    try:
        assert lg.level == logging.DEBUG
        assert logging.getLogger("megbrain").level == logging.DEBUG
    finally:
        mge.set_log_level(logging.INFO)
        logger.set_mgb_log_level(logging.INFO)


def test_default_level_comes_from_the_environment():
    code = "import logging, engine as mge; print(mge.get_logger('e').level == logging.ERROR)"
    env = dict(os.environ, MEGENGINE_LOGGING_LEVEL="error")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "True", out.stderr


def test_version_is_pyprojects():
    text = open(os.path.join(ROOT, "pyproject.toml")).read()
    want = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M).group(1)
    assert mge.__version__ == mge.version.__version__ == want


def test_full_sync_runs():
    x = mge.tensor([1.0]) + 1
    assert mge._full_sync() is None
    assert float(x.numpy()[0]) == 2.0


def test_config_defaults_set_and_validation():
    assert (config.async_level, config.benchmark_kernel, config.deterministic_kernel,
            config.disable_memory_forwarding) == (2, False, False, False)
    try:
        config.async_level = 0
        assert config.async_level == 0
        with pytest.raises(AssertionError, match="async_level should be 0, 1 or 2"):
            config.async_level = 3
        assert config.async_level == 0
        config.benchmark_kernel = True
        config.deterministic_kernel = True
        config.disable_memory_forwarding = 1
        assert config.benchmark_kernel is True and config.deterministic_kernel is True
        assert config.disable_memory_forwarding is True
    finally:
        config.async_level = 2
        config.benchmark_kernel = config.deterministic_kernel = False
        config.disable_memory_forwarding = False


def test_config_override_restores_on_exit_and_on_error():
    with config._override(benchmark_kernel=True, deterministic_kernel=True, async_level=1,
                          compute_mode="float32"):
        assert config.benchmark_kernel and config.deterministic_kernel
        assert config.async_level == 1 and config._compute_mode == "float32"
    assert (config.benchmark_kernel, config.async_level, config._compute_mode) == (
        False, 2, "default")
    with pytest.raises(RuntimeError):
        with config._override(async_level=0):
            raise RuntimeError
    assert config.async_level == 2

    @config._override(deterministic_kernel=True)
    def f():
        return config.deterministic_kernel

    assert f() is True and config.deterministic_kernel is False


def test_config_knobs_change_no_result():
    x = mge.tensor(np.arange(6, dtype="float32").reshape(2, 3))
    ref = F.matmul(x, x.T).numpy()
    with config._override(benchmark_kernel=True, deterministic_kernel=True, async_level=0):
        np.testing.assert_array_equal(F.matmul(x, x.T).numpy(), ref)


def test_execution_strategy_strings_flags_and_errors():
    S = F.debug_param.Strategy
    assert F.debug_param.get_execution_strategy() == S.HEURISTIC
    try:
        F.debug_param.set_execution_strategy("PROFILE_REPRODUCIBLE")
        assert F.debug_param.get_execution_strategy() == S.PROFILE | S.REPRODUCIBLE
        assert config.benchmark_kernel and config.deterministic_kernel
        F.debug_param.set_execution_strategy(S.REPRODUCIBLE)
        assert F.debug_param.get_execution_strategy() == S.HEURISTIC | S.REPRODUCIBLE
        config.benchmark_kernel = True
        assert F.debug_param.get_execution_strategy() == S.PROFILE | S.REPRODUCIBLE
        with pytest.raises(ValueError, match="Valid option can only be one of"):
            F.debug_param.set_execution_strategy("FAST")
        with pytest.raises(AssertionError, match="set_execution_strategy"):
            F.debug_param.set_execution_strategy(3)
    finally:
        F.debug_param.set_execution_strategy("HEURISTIC")
    assert not config.benchmark_kernel and not config.deterministic_kernel


def test_trace_option_keeps_the_value():
    assert _trace_option.use_symbolic_shape() is False
    assert _trace_option.set_symbolic_shape(True) is False
    assert _trace_option.use_symbolic_shape() is True
    assert _trace_option.set_symbolic_shape(False) is True


def test_quantized_dtypes_carry_megengines_metadata():
    q = qdt.qint8(0.1)
    assert q == np.int8 and q.metadata == {"mgb_dtype": {"name": "QuantizedS8", "scale": 0.1}}
    u = qdt.quint8(0.2, 3)
    assert u.metadata == {"mgb_dtype": {"name": "Quantized8Asymm", "scale": 0.2,
                                        "zero_point": 3}}
    assert qdt.is_quantize(q) and not qdt.is_quantize("float32")
    assert qdt.get_scale(u) == 0.2 and qdt.get_zero_point(u) == 3
    assert qdt.is_dtype_equal(qdt.qint8(0.1), qdt.qint8(0.1))
    assert not qdt.is_dtype_equal(qdt.qint8(0.1), qdt.qint8(0.2))
    with pytest.raises(ValueError, match=r"zero_point should be within \[0, 255\]"):
        qdt.quint8(0.1, 300)
    with pytest.raises(ValueError, match="not a quantized dtype"):
        qdt.get_scale("float32")
    assert qdt.get_dtype_bit("float16") == 16 and qdt.get_dtype_bit("bool") == 1


def test_make_shape_tuple():
    assert make_shape_tuple([2, 3]) == (2, 3)
    assert make_shape_tuple(np.array([4, 5])) == (4, 5)
    assert make_shape_tuple(mge.tensor([6, 7])) == (6, 7)
    assert make_shape_tuple((np.int32(2), 3.0)) == (2, 3)
    with pytest.raises(TypeError, match="make_shape_tuple"):
        make_shape_tuple([2.5])
