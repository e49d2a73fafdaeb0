"""DLPack exchange with numpy, torch, CuPy and anything else that speaks the protocol.

    t = engine.utils.dlpack.from_dlpack(torch_tensor)      # zero-copy where the device allows
    torch.from_dlpack(engine_tensor)                        # engine.Tensor has __dlpack__
    capsule = engine.utils.dlpack.to_dlpack(engine_tensor)

An engine Tensor is a value: ops never write into it. The array shared through DLPack is its
storage, so a consumer that writes into it changes the tensor (DLPack's zero-copy contract).
"""
import numpy as np

from .. import device as _dev
from ..allocator import Storage
from ..tensor import Tensor


def to_dlpack(tensor, stream=None):
    """A DLPack capsule of `tensor`'s storage (no copy).

    Args:
        tensor: an engine Tensor.
        stream: for a GPU tensor, the consumer's CUDA stream (DLPack's convention); ignored on
            the CPU.

    Returns:
        a PyCapsule named "dltensor", to be consumed once (e.g. by torch.utils.dlpack.from_dlpack).

    Examples:
        >>> import engine as mge
        >>> from engine.utils.dlpack import from_dlpack, to_dlpack
        >>> x = mge.tensor([1.0, 2.0])
        >>> from_dlpack(to_dlpack(x)).numpy()
        array([1., 2.], dtype=float32)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack: expected an engine Tensor, got {type(tensor).__name__}")
    return tensor.__dlpack__(stream)


class _Capsule:
    """Adapts a bare DLPack capsule to the __dlpack__ protocol numpy.from_dlpack expects."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, stream=None):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU: numpy only consumes CPU capsules


def from_dlpack(ext_tensor, stream=None):
    """An engine Tensor sharing the memory of `ext_tensor` (no copy where dtype and device allow).

    Args:
        ext_tensor: an object with ``__dlpack__`` (numpy array, torch tensor, CuPy array, an
            engine Tensor) or a DLPack capsule.
        stream: for GPU producers, the stream the data is ready on (passed to ``__dlpack__``).

    Returns:
        a Tensor on "cpu0" for CPU data, on "gpuN" for CUDA data (CuPy required). A float64 or
        int64 producer is converted (copied) to engine's float32 / int32, as Tensor() does.

    Examples:
        >>> from engine.utils.dlpack import from_dlpack
        >>> a = np.arange(3, dtype="float32")
        >>> t = from_dlpack(a)
        >>> t.numpy(), t.device
        (array([0., 1., 2.], dtype=float32), cpu0)
        >>> from_dlpack(np.arange(3)).dtype
        dtype('int32')
    """
    obj = ext_tensor
    if type(obj).__name__ == "PyCapsule":
        obj = _Capsule(obj)
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule, "
                        f"got {type(ext_tensor).__name__}")
    kind, index = obj.__dlpack_device__()
    if kind == 1:  # kDLCPU
        arr, device = np.from_dlpack(obj), _dev.get("cpu0")
    elif kind == 2:  # kDLCUDA
        import cupy

        arr, device = cupy.from_dlpack(obj), _dev.get(f"gpu{int(index)}")
    else:
        raise ValueError(f"from_dlpack: DLPack device type {kind} is not supported (engine has "
                         "cpu and cuda devices)")
    from ..dtype import canonical

    target = canonical(arr.dtype)
    if arr.dtype != target:
        return Tensor(arr, dtype=target, device=device)
    t = object.__new__(Tensor)
    t._storage = Storage(arr, device)
    t._node, t._idx, t.grad, t.name = None, 0, None, ""
    return t
