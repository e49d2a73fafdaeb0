"""DLPack exchange: engine tensors to and from numpy, torch, CuPy (anything with __dlpack__) and
raw "dltensor" capsules, without copying where the dtype allows."""
import ctypes

import numpy as np

from .. import device as _dev
from ..allocator import Storage
from ..dtype import SUPPORTED

__all__ = ["to_dlpack", "from_dlpack"]

_KDL_CPU, _KDL_CUDA, _KDL_CUDA_HOST, _KDL_CUDA_MANAGED = 1, 2, 3, 13


def to_dlpack(tensor, stream=None):
    """Encodes an engine tensor to DLPack.

    The capsule shares the tensor's memory (numpy's on CPU, CuPy's on GPU).

    Args:
        tensor (Tensor): The input tensor.
        stream (Integer or None): An optional Python integer representing a CUDA stream; the
            current stream is synchronized with it before the capsule is created. If None or
            -1 is passed then no synchronization is performed. Ignored on CPU.

    Returns:
        dltensor, and the data type is PyCapsule.

    Examples:
        >>> import engine as mge
        >>> from engine.utils.dlpack import to_dlpack
        >>> type(to_dlpack(mge.tensor([1.0, 2.0]))).__name__
        'PyCapsule'
    """
    array = tensor._storage.array
    if stream is not None and stream != -1 and not isinstance(array, np.ndarray):
        return array.__dlpack__(stream=stream)
    return array.__dlpack__()


def _capsule_device(capsule):
    """(device_type, device_id) read from a "dltensor" capsule's DLTensor (DLPack's C layout:
    data pointer, then DLDevice {int32 type; int32 id})."""
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    is_valid = ctypes.pythonapi.PyCapsule_IsValid
    is_valid.restype = ctypes.c_int
    is_valid.argtypes = [ctypes.py_object, ctypes.c_char_p]
    if is_valid(capsule, b"dltensor"):
        ptr = get(capsule, b"dltensor")
    elif is_valid(capsule, b"dltensor_versioned"):
        # DLManagedTensorVersioned: {DLPackVersion (2 x uint32); manager_ctx; deleter; flags;
        # DLTensor}: the DLTensor starts after 8 + 8 + 8 + 8 bytes
        ptr = get(capsule, b"dltensor_versioned") + 32
    else:
        raise TypeError("from_dlpack: the capsule is not an unused DLPack 'dltensor' (a capsule "
                        "can be consumed once)")
    dev = (ctypes.c_int32 * 2).from_address(ptr + ctypes.sizeof(ctypes.c_void_p))
    return int(dev[0]), int(dev[1])


class _Capsule:
    """Gives a bare capsule the __dlpack__ protocol that numpy.from_dlpack asks for."""

    def __init__(self, capsule, device):
        self.capsule, self.device = capsule, device

    def __dlpack__(self, *args, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return self.device


def _cupy(what):
    cp = _dev._load_cupy()
    if cp is None:
        raise RuntimeError(f"from_dlpack: {what} is on a CUDA device but no GPU is available "
                           "to engine (is CuPy installed?)")
    return cp


def from_dlpack(ext_tensor, stream=None):
    """Decodes a DLPack to an engine tensor.

    The tensor shares the memory of ``ext_tensor`` when its dtype is one engine keeps
    (bool, uint8, int8, int16, int32, float16, float32); a 64-bit one is converted (a copy, to
    int32/float32, as everywhere in engine).

    Args:
        ext_tensor (PyCapsule): a PyCapsule object with the dltensor, or any object with
            ``__dlpack__`` (numpy array, torch tensor, CuPy array).
        stream (Integer or None): An optional Python integer representing a CUDA stream, user
            needs to know which stream the dlpack is generated. If None then represent
            producers and consumers on the same stream.

    Returns:
        tensor (Tensor): an engine tensor decoded from DLPack.

    Examples:
        >>> import numpy as np
        >>> from engine.utils.dlpack import from_dlpack
        >>> a = np.arange(3, dtype="float32")
        >>> t = from_dlpack(a)
        >>> a[0] = 7
        >>> t.numpy()
        array([7., 1., 2.], dtype=float32)
    """
    from ..ops.core import _tensor
    from ..tensor import Tensor

    if isinstance(stream, int):
        assert stream >= 0, "device stream should be a positive value"
    if hasattr(ext_tensor, "__dlpack__"):
        kind, index = ext_tensor.__dlpack_device__()
        obj = ext_tensor
    else:
        kind, index = _capsule_device(ext_tensor)
        obj = _Capsule(ext_tensor, (kind, index))
    kind = int(kind)
    if kind in (_KDL_CPU, _KDL_CUDA_HOST):
        array = np.from_dlpack(obj)
        device = _dev.get("cpu0")
    elif kind in (_KDL_CUDA, _KDL_CUDA_MANAGED):
        cp = _cupy(type(ext_tensor).__name__)
        if obj is ext_tensor or not hasattr(cp, "fromDlpack"):
            array = cp.from_dlpack(obj)
        else:  # a bare capsule: CuPy's legacy entry reads the device from the capsule itself
            array = cp.fromDlpack(ext_tensor)
        device = _dev.get(f"gpu{int(index)}")
    else:
        raise RuntimeError(f"from_dlpack: DLPack device type {kind} is not supported by engine "
                           "(CPU and CUDA only)")
    if array.dtype in SUPPORTED:
        return _tensor(Storage(array, device))
    return Tensor(array, device=device)
