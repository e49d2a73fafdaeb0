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
    """Fills a tensor in place with a scalar.

    Args:
        tensor: the tensor to fill in place (it keeps its identity).
        val: the value, converted to the tensor's dtype.

    Examples:
        >>> w = F.zeros((2, 2))
        >>> M.init.fill_(w, 0.5)
        >>> w.numpy()
        array([[0.5, 0.5],
               [0.5, 0.5]], dtype=float32)
    """
    _check(tensor, "fill_")
    _assign(tensor, np.full(tensor.shape, val, dtype=tensor.dtype))


def zeros_(tensor):
    """Fills a tensor in place with zeros.

    Args:
        tensor: the tensor to fill in place (it keeps its identity).

    Examples:
        >>> w = F.ones(3)
        >>> M.init.zeros_(w)
        >>> w.numpy()
        array([0., 0., 0.], dtype=float32)
    """
    fill_(tensor, 0)


def ones_(tensor):
    """Fills a tensor in place with ones.

    Args:
        tensor: the tensor to fill in place (it keeps its identity).

    Examples:
        >>> w = F.zeros(3)
        >>> M.init.ones_(w)
        >>> w.numpy()
        array([1., 1., 1.], dtype=float32)
    """
    fill_(tensor, 1)


def uniform_(tensor, a=0.0, b=1.0):
    """Fills a tensor in place with samples of the uniform distribution U(a, b).

    The samples come from the engine.random stream, so ``mge.random.seed`` makes them
    repeatable.

    Args:
        tensor: the tensor to fill in place (it keeps its identity).
        a: the lower bound.
        b: the upper bound, >= a.

    Examples:
        >>> w = F.zeros((100,))
        >>> M.init.uniform_(w, -1, 1)
        >>> bool((w.numpy() >= -1).all() and (w.numpy() < 1).all())
        True
    """
    _check(tensor, "uniform_")
    if a > b:
        raise ValueError(f"init.uniform_: lower bound a={a} is greater than upper bound b={b}")
    _assign(tensor, _random.uniform(low=a, high=b, size=tensor.shape, device=tensor.device))


def normal_(tensor, mean=0.0, std=1.0):
    """Fills a tensor in place with samples of the normal distribution N(mean, std ** 2).

    The samples come from the engine.random stream, so ``mge.random.seed`` makes them
    repeatable.

    Args:
        tensor: the tensor to fill in place (it keeps its identity).
        mean: the mean.
        std: the standard deviation, >= 0.

    Examples:
        >>> w = F.zeros((3,))
        >>> M.init.normal_(w, mean=2.0, std=0.0)
        >>> w.numpy()
        array([2., 2., 2.], dtype=float32)
        >>> mge.random.seed(7)
        >>> M.init.normal_(w)
        >>> first = w.numpy()
        >>> mge.random.seed(7)
        >>> M.init.normal_(w)
        >>> bool((w.numpy() == first).all())
        True
    """
    _check(tensor, "normal_")
    if std < 0:
        raise ValueError(f"init.normal_: std must be non-negative, got {std}")
    _assign(tensor, _random.normal(mean=mean, std=std, size=tensor.shape, device=tensor.device))


_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (as MegEngine and PyTorch).

    Args:
        nonlinearity: "linear", a conv name ("conv2d", "conv_transpose2d", ...) or "sigmoid"
            (gain 1), "tanh" (5/3), "relu" (sqrt(2)) or "leaky_relu"
            (sqrt(2 / (1 + slope ** 2))).
        param: the negative slope for "leaky_relu" (default 0.01).

    Returns:
        the gain, a Python number.

    Examples:
        >>> M.init.calculate_gain("relu")
        1.4142135623730951
        >>> M.init.calculate_gain("leaky_relu", 0)
        1.4142135623730951
        >>> M.init.calculate_gain("tanh")
        1.6666666666666667
    """
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
    """(fan_in, fan_out) of a weight tensor.

    A Linear weight (out, in) gives (in, out); a conv weight (O, I, *k) gives
    (I * prod(k), O * prod(k)); a grouped conv weight (G, O/G, I/G, *k) ignores the group
    axis, as MegEngine.

    Args:
        tensor: a weight with at least 2 dims.

    Returns:
        a tuple of two ints.

    Examples:
        >>> M.init.calculate_fan_in_and_fan_out(F.zeros((3, 5)))
        (5, 3)
        >>> M.init.calculate_fan_in_and_fan_out(F.zeros((8, 4, 3, 3)))
        (36, 72)
        >>> M.init.calculate_fan_in_and_fan_out(F.zeros((2, 4, 2, 3, 3)))
        (18, 36)
    """
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
    """fan_in or fan_out of a weight tensor, as ``mode`` says.

    Args:
        tensor: a weight with at least 2 dims.
        mode: "fan_in" or "fan_out".

    Returns:
        an int.

    Examples:
        >>> w = F.zeros((8, 4, 3, 3))
        >>> M.init.calculate_correct_fan(w, "fan_in"), M.init.calculate_correct_fan(w, "fan_out")
        (36, 72)
    """
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init.calculate_correct_fan: mode must be 'fan_in' or 'fan_out', got "
                         f"{mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor, gain=1.0):
    """Fills a tensor in place with U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))
    (Glorot and Bengio).

    Args:
        tensor: the tensor to fill in place (it keeps its identity).
        gain: the scaling factor, e.g. from :func:`calculate_gain`.

    Examples:
        >>> w = F.zeros((20, 30))
        >>> M.init.xavier_uniform_(w)
        >>> bool(np.abs(w.numpy()).max() <= np.sqrt(6 / 50))
        True
    """
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0):
    """Fills a tensor in place with N(0, std ** 2), std = gain * sqrt(2 / (fan_in +
    fan_out)) (Glorot and Bengio).

    Args:
        tensor: the tensor to fill in place (it keeps its identity).
        gain: the scaling factor, e.g. from :func:`calculate_gain`.

    Examples:
        >>> w = F.zeros((200, 300))
        >>> M.init.xavier_normal_(w)
        >>> round(float(w.numpy().std() / np.sqrt(2 / 500)), 1)
        1.0
    """
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))


def msra_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """Fills a tensor in place with U(-b, b), b = sqrt(3) * gain / sqrt(fan) (He et
    al.), the gain from :func:`calculate_gain`.

    Args:
        tensor: the tensor to fill in place (it keeps its identity).
        a: the negative slope of the leaky_relu that follows (0 for relu).
        mode: "fan_in" (keeps the variance of the forward pass) or "fan_out" (of the backward
            pass).
        nonlinearity: the nonlinearity's name, as in :func:`calculate_gain`.

    Examples:
        >>> w = F.zeros((16, 8, 3, 3))
        >>> M.init.msra_uniform_(w, nonlinearity="relu")
        >>> bool(np.abs(w.numpy()).max() <= np.sqrt(6 / 72))
        True
    """
    fan = calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    uniform_(tensor, -bound, bound)


def msra_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """Fills a tensor in place with N(0, std ** 2), std = gain / sqrt(fan) (He et
    al.), the gain from :func:`calculate_gain`.

    Args:
        tensor: the tensor to fill in place (it keeps its identity).
        a: the negative slope of the leaky_relu that follows (0 for relu).
        mode: "fan_in" (keeps the variance of the forward pass) or "fan_out" (of the backward
            pass).
        nonlinearity: the nonlinearity's name, as in :func:`calculate_gain`.

    Examples:
        >>> w = F.zeros((64, 32, 3, 3))
        >>> M.init.msra_normal_(w, nonlinearity="relu")
        >>> round(float(w.numpy().std() / np.sqrt(2 / 288)), 1)
        1.0
    """
    fan = calculate_correct_fan(tensor, mode)
    normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))
