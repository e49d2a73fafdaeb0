"""F.utils (MegEngine's): the value check _assert_equal and the deprecated aliases of
topk_accuracy and copy kept for old scripts."""
from engine.tensor import Tensor

from ._utils import as_tensor
from .elemwise import abs, maximum, minimum
from .metric import topk_accuracy  # noqa: F401  (deprecated here since MegEngine 1.3)
from .tensor import copy  # noqa: F401  (deprecated here since MegEngine 1.3)

__all__ = ["topk_accuracy"]


def _assert_equal(expect, actual, *, maxerr=0.0001, verbose=False):
    r"""Check that two tensors are equal up to ``maxerr`` and return ``expect``.

    The error is ``max(|expect - actual| / max(min(|expect|, |actual|), 1))``: the absolute
    error for small values, the relative error for large ones.

    Args:
        expect: the expected tensor.
        actual: the tensor to check, of expect's shape.
        maxerr: the largest allowed error.
        verbose: print the error.

    Returns:
        expect.

    Examples:
        >>> x = Tensor([1, 2, 3], dtype="float32")
        >>> F.utils._assert_equal(x, Tensor([1, 2, 3], dtype="float32"), maxerr=0).numpy()
        array([1., 2., 3.], dtype=float32)
    """
    expect = as_tensor(expect, "_assert_equal")
    actual = as_tensor(actual, "_assert_equal", like=expect)
    if expect.shape != actual.shape:
        raise RuntimeError(f"_assert_equal: shapes differ: expect {expect.shape}, actual "
                             f"{actual.shape}")
    one = Tensor(1.0, dtype="float32", device=expect.device)
    err = (abs(expect - actual) / maximum(minimum(abs(expect), abs(actual)), one)).max().item()
    if verbose:
        print(f"_assert_equal: maxerr={err}")
    if not err <= maxerr:  # MegEngine's AssertEqual op raises RuntimeError
        raise RuntimeError(f"_assert_equal: error {err} is larger than maxerr {maxerr} "
                             f"(expect {expect.numpy()}, actual {actual.numpy()})")
    return expect
