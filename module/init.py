"""engine.module.init: in-place initialisers with MegEngine's names and formulas.

Each one gives the tensor a new value with `tensor._reset(...)`: the tensor object keeps its
identity (a GradManager attachment or an optimizer's reference stays valid). Random values come
from the global engine.random stream, so `mge.random.seed(s)` makes initialisation repeatable.
"""
import math

import numpy as np

from engine import random as _random
from engine.functional.tensor import full  # noqa: F401  (MegEngine re-exports F.full here)
from engine.tensor import Tensor

__all__ = [
    "fill_", "zeros_", "ones_", "uniform_", "normal_", "calculate_gain",
    "calculate_fan_in_and_fan_out", "calculate_correct_fan", "xavier_uniform_",
    "xavier_normal_", "msra_uniform_", "msra_normal_",
]


def _check(tensor, fn):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init.{fn}: expected a Tensor, got {type(tensor).__name__}")


def _assign(tensor, values):
    """Give `tensor` the numpy/Tensor `values`, cast to its dtype, on its device."""
    tensor._reset(Tensor(values, dtype=tensor.dtype, device=tensor.device))


def fill_(tensor, val):
    """Fill `tensor` with the scalar `val`."""
    _check(tensor, "fill_")
    _assign(tensor, np.full(tensor.shape, val, dtype=tensor.dtype))


def zeros_(tensor):
    fill_(tensor, 0)


def ones_(tensor):
    fill_(tensor, 1)


def uniform_(tensor, a=0.0, b=1.0):
    """Fill `tensor` with samples of U(a, b)."""
    _check(tensor, "uniform_")
    if a > b:
        raise ValueError(f"init.uniform_: lower bound a={a} is greater than upper bound b={b}")
    _assign(tensor, _random.uniform(low=a, high=b, size=tensor.shape, device=tensor.device))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill `tensor` with samples of N(mean, std^2)."""
    _check(tensor, "normal_")
    if std < 0:
        raise ValueError(f"init.normal_: std must be non-negative, got {std}")
    _assign(tensor, _random.normal(mean=mean, std=std, size=tensor.shape, device=tensor.device))


_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """Recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for
    relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope = param, default 0.01)."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"init.calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"init.calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight: (in, out) for a Linear (out, in) weight; for conv weights
    (O, I, *k) fan_in = I * prod(k), fan_out = O * prod(k). A grouped weight (G, O/G, I/G, *k)
    ignores the group axis (MegEngine: fan_in = I/G * prod(k))."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(f"init.calculate_fan_in_and_fan_out: needs a tensor with at least 2 "
                         f"dims, got shape {shape}")
    if len(shape) == 2:
        return shape[1], shape[0]
    if len(shape) >= 5:
        shape = shape[1:]
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def calculate_correct_fan(tensor, mode):
    """fan_in or fan_out of `tensor` as `mode` says."""
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init.calculate_correct_fan: mode must be 'fan_in' or 'fan_out', got "
                         f"{mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor, gain=1.0):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))


def msra_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-b, b) with b = sqrt(3) * gain / sqrt(fan) (He et al.); gain from calculate_gain."""
    fan = calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    uniform_(tensor, -bound, bound)


def msra_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std^2) with std = gain / sqrt(fan) (He et al.)."""
    fan = calculate_correct_fan(tensor, mode)
    normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))
