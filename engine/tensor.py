"""Tensor and Parameter: a numpy-aligned array type backed by one Storage.

A Tensor is small (__slots__): a storage handle, the node that produced it while a GradManager
was recording (None otherwise), the output index in that node, and its gradient. Methods and
operators forward to engine.functional / engine.ops so that every computation goes through the
one op path (DESIGN §2).
"""
import operator

import numpy as np

from . import device as _dev
from . import dtype as _dt
from .allocator import Storage


def _as_array(data, dtype, device):
    """Backend array for `data` on `device`, with engine's dtype rules applied."""
    xp = device.xp
    if isinstance(data, Tensor):
        arr = data._storage.array
        if data._storage.device is not device:
            arr = _transfer(arr, device)
    elif xp is np or not hasattr(data, "__cuda_array_interface__"):
        if hasattr(data, "__cuda_array_interface__"):  # a CuPy array headed for the CPU
            data = data.get()
        arr = np.asarray(data)
        if xp is not np:
            arr = xp.asarray(arr)
    else:
        arr = xp.asarray(data)
    target = _dt.canonical(dtype) if dtype is not None else _dt.canonical(arr.dtype)
    if arr.dtype != target or (isinstance(data, np.ndarray) and arr is data):
        arr = arr.astype(target)  # also copies user arrays: a tensor never aliases them
    elif isinstance(data, Tensor):
        arr = arr.copy()
    return arr


def _transfer(arr, device):
    if device.xp is np:
        return arr.get()
    with device.xp.cuda.Device(device.index):
        return device.xp.asarray(arr)


class Tensor:
    """An n-dimensional array on a device, with MegEngine's semantics.

    ``engine.tensor`` is this class (MegEngine's alias), so ``isinstance(x, mge.tensor)`` and
    subclassing both work.

    Args:
        data: array-like (nested lists, numpy array, scalar or Tensor). A Tensor's value is
            copied.
        dtype: target dtype; default keeps the data's kind (float64 -> float32,
            int64 -> int32), float32 for Python floats.
        device: "cpu0", "gpu0", "xpux"...; default is the default device.
        is_const: accepted for MegEngine compatibility. No effect in engine: every tensor is
            a value that ops never write in place.
        no_cache: accepted for MegEngine compatibility. No effect in engine (it keeps no
            per-tensor cache).
        name: the tensor's name (``Tensor.name``).
        format: memory format tag, one of "default", "nchw", "nhwc". engine stores every
            tensor in its logical (NCHW) layout; the tag is kept and reported by
            ``Tensor.format``, it does not change the layout.

    Examples:
        >>> x = mge.tensor([1, 2, 3])
        >>> isinstance(x, mge.Tensor), x.dtype
        (True, dtype('int32'))
    """

    # "__dict__" lets a subclass adopt another tensor's extra attributes the way MegEngine code
    # does (BaseDet's Boxes: `self.__dict__ = boxes.__dict__`); the dict is only created when used.
    __slots__ = ("_storage", "_node", "_idx", "grad", "name", "__dict__", "__weakref__")
    _format = "default"     # class default; a tensor created with another format keeps its own
    dmap_callback = None    # MegEngine's device-mapping hook read by load(); engine's load
    #                         takes map_location instead, so this is only kept for code that sets it

    # Construction happens in __new__ (MegEngine's C++ tensor does the same), so a subclass with
    # its own __init__ that never calls Tensor.__init__ (`Boxes(boxes)`) still holds a value.
    def __new__(cls, data=None, dtype=None, device=None, is_const=False, no_cache=False,
                name=None, format="default"):
        self = object.__new__(cls)
        if data is None:
            data = []
        dev = _dev.get(device) if device is not None else (
            data._storage.device if isinstance(data, Tensor) else _dev.get_default_device_obj())
        self._storage = Storage(_as_array(data, dtype, dev), dev)
        self._node = None
        self._idx = 0
        self.grad = None
        self.name = "" if name is None else name  # MegEngine: unnamed is ""
        if format != "default":
            self.format = format
        return self

    def __init__(self, data=None, dtype=None, device=None, is_const=False, no_cache=False,
                 name=None, format="default"):
        pass  # all done in __new__

    # ----------------------------------------------------------------- attributes
    @property
    def shape(self):
        """The shape, a tuple of ints.

        Examples:
            >>> Tensor(np.zeros((2, 3))).shape
            (2, 3)
        """
        return self._storage.array.shape

    @property
    def ndim(self):
        """The number of dims.

        Examples:
            >>> Tensor(np.zeros((2, 3))).ndim, Tensor(1.).ndim
            (2, 0)
        """
        return self._storage.array.ndim

    @property
    def size(self):
        """The number of elements.

        Examples:
            >>> Tensor(np.zeros((2, 3))).size
            6
        """
        return self._storage.array.size

    @property
    def dtype(self):
        """The element type, a numpy dtype.

        Examples:
            >>> Tensor([1, 2]).dtype, Tensor([1., 2.]).dtype
            (dtype('int32'), dtype('float32'))
        """
        return self._storage.array.dtype

    @property
    def device(self):
        """The device the tensor lives on.

        Examples:
            >>> str(Tensor([1.], device="cpu0").device)
            'cpu0'
        """
        return self._storage.device

    @property
    def T(self):
        """The tensor with its axes reversed (the transpose of a matrix).

        Examples:
            >>> Tensor([[1, 2, 3], [4, 5, 6]]).T.numpy()
            array([[1, 4],
                   [2, 5],
                   [3, 6]], dtype=int32)
        """
        return F.transpose(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def _tuple_shape(self):
        return self.shape  # engine's shapes are always tuples (MegEngine's name for that)

    def value_id(self):
        """An id of the value this tensor holds: equal for tensors sharing one storage."""
        s = self._storage
        return id(s.base or s)

    @property
    def format(self):
        """The memory format tag ("default", "nchw" or "nhwc"). engine keeps every tensor in its
        logical layout whatever the tag says (see the class docstring)."""
        return self._format

    @format.setter
    def format(self, value):
        if value not in _FORMATS:
            raise ValueError(f"Tensor.format: expected one of {_FORMATS}, got {value!r}")
        self._format = value

    @property
    def requires_grad(self):
        """Reserved, as in MegEngine 1.13: reading, setting or deleting it raises AttributeError.
        Gradients are requested with GradManager.attach."""
        raise AttributeError("requires_grad is reserved for future use")

    @requires_grad.setter
    def requires_grad(self, value):
        raise AttributeError("requires_grad is reserved for future use")

    @requires_grad.deleter
    def requires_grad(self):
        raise AttributeError("requires_grad is reserved for future use")

    @property
    def qparams(self):
        """Quantization parameters; None until the quantization API lands (issue 16)."""
        return self.__dict__.get("_qparams")

    def numpy(self):
        """A numpy copy of the data (it never aliases the tensor's storage).

        Returns:
            a numpy array of the tensor's shape and dtype.

        Examples:
            >>> Tensor([[1, 2], [3, 4]]).numpy()
            array([[1, 2],
                   [3, 4]], dtype=int32)
        """
        a = self._storage.array
        return a.copy() if isinstance(a, np.ndarray) else a.get()

    def item(self, *args):
        """The value as a Python number: of the one element, or of the element at index
        ``args`` (``x.item(1, 2)`` is ``x[1, 2].item()``).

        Args:
            *args: optional indices of one element.

        Returns:
            a Python int, float or bool.

        Examples:
            >>> Tensor([2.5]).item()
            2.5
            >>> Tensor([[1, 2], [3, 4]]).item(1, 0)
            3
        """
        if args:
            return self[args].item()
        if self.size != 1:
            raise ValueError(f"item: only a one-element tensor converts to a Python scalar, "
                             f"got shape {self.shape}")
        return self._host().item()

    def tolist(self):
        """The data as (nested) Python lists of Python numbers.

        Examples:
            >>> Tensor([[1, 2], [3, 4]]).tolist()
            [[1, 2], [3, 4]]
        """
        return self._host().tolist()

    def _host(self):
        a = self._storage.array
        return a if isinstance(a, np.ndarray) else a.get()

    def __array__(self, dtype=None, copy=None):
        # Always a copy (MegEngine's semantics): an ndarray aliasing the storage would let numpy
        # writes change this tensor and every view, saved activation and gradient sharing it.
        a = self._host()
        return a.astype(dtype) if dtype is not None else a.copy()

    def astype(self, dtype):
        """A copy converted to another dtype (see :func:`~.astype`).

        Args:
            dtype: the target dtype, a numpy dtype or its name.

        Examples:
            >>> Tensor([1.7, -1.7]).astype("int32").numpy()
            array([ 1, -1], dtype=int32)
        """
        out = F.astype(self, dtype)
        if self._format != "default":  # (a conversion keeps the format tag, as MegEngine's)
            out._format = self._format
        return out

    def detach(self):
        """A tensor sharing this one's storage, outside any autograd graph: no
        gradient flows through it.

        Examples:
            >>> x = Tensor([1., 2.])
            >>> y = x.detach()
            >>> y.numpy(), y is x
            (array([1., 2.], dtype=float32), False)
        """
        t = object.__new__(Tensor)
        s = self._storage
        if s.__class__ is Storage:
            t._storage = Storage(s.array, s.device, base=s.base or s)
        else:  # DTR: a plain view would keep an evicted buffer alive
            t._storage = s.detached()
        t._node, t._idx, t.grad, t.name = None, 0, None, ""
        return t

    def to(self, device, *, _borrow=False):
        """A copy of this tensor on ``device`` (see :func:`~.copy`), differentiable.

        Args:
            device: the target device.
            _borrow: MegEngine's zero-copy move onto another stream of the same device; it is
                accepted and has no effect (engine has one stream per device, so this always
                copies).

        Examples:
            >>> x = Tensor([1., 2.])
            >>> y = x.to("cpu0")
            >>> y.numpy(), str(y.device)
            (array([1., 2.], dtype=float32), 'cpu0')
        """
        return F.copy(self, device)

    def set_value(self, value):
        """Deprecated in MegEngine (use ``x[...] = value``): takes ``value`` as this
        tensor's value, in place.

        Args:
            value: a Tensor or array-like (converted to this tensor's dtype and device).

        Examples:
            >>> x = Tensor([1., 2.])
            >>> x.set_value([3., 4.])
            >>> x.numpy()
            array([3., 4.], dtype=float32)
        """
        if not isinstance(value, Tensor):
            value = Tensor(value, dtype=self.dtype, device=self.device)
        self._reset(value)

    def reset_zero(self):
        """Deprecated in MegEngine (use ``x *= 0``): sets every element to zero,
        in place.

        Examples:
            >>> x = Tensor([1., 2.])
            >>> x.reset_zero()
            >>> x.numpy()
            array([0., 0.], dtype=float32)
        """
        self *= 0

    # DLPack: zero-copy exchange with numpy, torch and CuPy through the backend array.
    def __dlpack__(self, stream=None):
        if stream is not None and not isinstance(stream, int):
            raise TypeError(f"Tensor.__dlpack__: stream must be an int or None, got "
                            f"{type(stream).__name__}")
        a = self._storage.array
        return a.__dlpack__() if stream is None or isinstance(a, np.ndarray) else \
            a.__dlpack__(stream=stream)

    def __dlpack_device__(self):
        return self._storage.array.__dlpack_device__()

    def _reset(self, other):
        """Make self hold other's value and graph position (MegEngine's in-place semantics).

        An attached tensor updated outside recording (`w -= lr * w.grad`) stays attached.
        """
        s = self._storage = other._storage
        if s.__class__ is not Storage:
            s.freeze()  # DTR: an in-place result is never evicted nor recomputed
        if other._node is not None or type(self._node) is not _LeafNode:
            self._node = other._node
            self._idx = other._idx

    def __hash__(self):
        return id(self)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self):
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() style reductions or index one element")
        return bool(self._host().reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iub" or self.size != 1:
            raise TypeError(f"only an integer tensor of one element can be used as an index, "
                            f"got {self.dtype} of shape {self.shape}")
        return int(self.item())

    def __repr__(self):
        body = np.array2string(self._host(), separator=", ", prefix="Tensor(")
        extra = "" if self.dtype == _dt.float32 else f", dtype={self.dtype}"
        return f"Tensor({body}{extra}, device={self.device})"

    def __format__(self, spec):
        return format(self.item(), spec) if self.size == 1 and spec else repr(self)

    def __reduce__(self):
        args = (type(self), self._host().copy(), str(self.device), self.name)
        if self.format != "default":  # copies and pickles keep the format tag (as MegEngine)
            args += (None, self.format)
        return (_rebuild_tensor, args)

    def __setstate__(self, state):
        # a tensor pickled by MegEngine: its __getnewargs__ gave (array, dtype, device, ...) to
        # __new__ and this state holds the quantization parameters; files from before
        # MegEngine 1.2 hold the value here instead ("data", "device", "dtype")
        state = dict(state)
        if "data" in state:
            self._reset(Tensor(state.pop("data"), dtype=state.pop("dtype"),
                               device=state.pop("device")))
        qparams = state.pop("qparams", state.pop("qdict", None))
        if qparams is not None:
            self.__dict__["_qparams"] = qparams

    def _dev_tensor(self):
        """MegEngine's device-side value of the tensor (its runtime's DeviceTensorND): engine's
        Tensor is that value itself."""
        return self

    @property
    def comp_node(self):
        """MegEngine's name of the device a value lives on (a device-tensor attribute)."""
        return self.device

    def __getstate__(self):
        """MegEngine's pickled state of a tensor: its quantization parameters, when set."""
        q = self.qparams
        return {} if q is None else {"qparams": q}

    def __getnewargs__(self):
        """MegEngine's constructor arguments of a pickled tensor (array, dtype, device, is_const,
        no_cache, name, format); engine pickles through __reduce__, this is for code that
        inspects them."""
        return (self.numpy(), self.dtype, self.device.logical_name, False, False, None,
                self.format)

    def __deepcopy__(self, memo):
        t = type(self)(self, device=self.device)
        t.name = self.name
        if self.format != "default":
            t.format = self.format
        memo[id(self)] = t
        return t

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        """The tensor with a new shape (see :func:`~.reshape`).

        Args:
            *shape: the new shape, as ints or one tuple; one entry may be -1 (inferred).

        Examples:
            >>> x = Tensor(np.arange(6, dtype=np.int32))
            >>> x.reshape(2, 3).shape, x.reshape((3, -1)).shape
            ((2, 3), (3, 2))
        """
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, Tensor)):
            shape = shape[0]
        return F.reshape(self, shape)

    def transpose(self, *pattern):
        """The tensor with its axes permuted (see :func:`~.transpose`).

        Args:
            *pattern: the permutation, as ints or one tuple; none reverses the axes.

        Examples:
            >>> x = Tensor(np.zeros((2, 3, 4)))
            >>> x.transpose().shape, x.transpose(0, 2, 1).shape, x.transpose((1, 0, 2)).shape
            ((4, 3, 2), (2, 4, 3), (3, 2, 4))
        """
        if not pattern:
            pattern = tuple(range(self.ndim - 1, -1, -1))
        elif len(pattern) == 1 and isinstance(pattern[0], (tuple, list)):
            pattern = pattern[0]
        return F.transpose(self, pattern)

    def _broadcast(self, *shape):
        """MegEngine's internal spelling of :func:`~.broadcast_to` (its Tensor method, which
        user code and MegEngine's own tests call): the shape as ints, a tuple or a Tensor.

        Examples:
            >>> Tensor([1., 2.])._broadcast(2, 2).numpy()
            array([[1., 2.],
                   [1., 2.]], dtype=float32)
        """
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = shape[0]
        if isinstance(shape, Tensor):
            shape = tuple(int(v) for v in shape.numpy().reshape(-1))
        return F.broadcast_to(self, tuple(shape))

    def flatten(self, start_axis=0, end_axis=-1):
        """Merges the axes ``start_axis`` to ``end_axis`` into one (see
        :func:`~.flatten`).

        Args:
            start_axis: the first axis to merge.
            end_axis: the last axis to merge.

        Examples:
            >>> x = Tensor(np.zeros((2, 3, 4)))
            >>> x.flatten().shape, x.flatten(1).shape
            ((24,), (2, 12))
        """
        return F.flatten(self, start_axis, end_axis)

    # ------------------------------------------------------------- reductions
    def sum(self, axis=None, keepdims=False):
        """Sum over the given axis or axes (see :func:`~.sum`).

        Args:
            axis: an int, a tuple of ints, or None for all elements.
            keepdims: keep the reduced axes with size 1.

        Returns:
            the sums, of the tensor's dtype.

        Examples:
            >>> x = Tensor([[1., 2.], [3., 6.]])
            >>> x.sum().numpy(), x.sum(axis=0).numpy()
            (array(12., dtype=float32), array([4., 8.], dtype=float32))
        """
        return F.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over the given axis or axes (see :func:`~.mean`).

        Args:
            axis: an int, a tuple of ints, or None for all elements.
            keepdims: keep the reduced axes with size 1.

        Returns:
            the means.

        Examples:
            >>> x = Tensor([[1., 2.], [3., 6.]])
            >>> x.mean().numpy(), x.mean(axis=1).numpy()
            (array(3., dtype=float32), array([1.5, 4.5], dtype=float32))
        """
        return F.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        """Largest element over the given axis or axes (see :func:`~.max`).

        Args:
            axis: an int, a tuple of ints, or None for all elements.
            keepdims: keep the reduced axes with size 1.

        Returns:
            the maxima.

        Examples:
            >>> x = Tensor([[1., 2.], [3., 6.]])
            >>> x.max().numpy(), x.max(axis=0).numpy()
            (array(6., dtype=float32), array([3., 6.], dtype=float32))
        """
        return F.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        """Smallest element over the given axis or axes (see :func:`~.min`).

        Args:
            axis: an int, a tuple of ints, or None for all elements.
            keepdims: keep the reduced axes with size 1.

        Returns:
            the minima.

        Examples:
            >>> x = Tensor([[1., 2.], [3., 6.]])
            >>> x.min().numpy(), x.min(axis=1).numpy()
            (array(1., dtype=float32), array([1., 3.], dtype=float32))
        """
        return F.min(self, axis, keepdims)

    def prod(self, axis=None, keepdims=False):
        """Product over the given axis or axes (see :func:`~.prod`).

        Args:
            axis: an int, a tuple of ints, or None for all elements.
            keepdims: keep the reduced axes with size 1.

        Returns:
            the products.

        Examples:
            >>> x = Tensor([[1., 2.], [3., 6.]])
            >>> x.prod().numpy(), x.prod(axis=1).numpy()
            (array(36., dtype=float32), array([ 2., 18.], dtype=float32))
        """
        return F.prod(self, axis, keepdims)

    def var(self, axis=None, keepdims=False):
        """Population variance (ddof 0) over the given axis or axes (see :func:`~.var`).

        Args:
            axis: an int, a tuple of ints, or None for all elements.
            keepdims: keep the reduced axes with size 1.

        Returns:
            the variances.

        Examples:
            >>> x = Tensor([[1., 2.], [3., 6.]])
            >>> x.var(axis=1).numpy()
            array([0.25, 2.25], dtype=float32)
        """
        return F.var(self, axis, keepdims)

    def std(self, axis=None, keepdims=False):
        """Population standard deviation (ddof 0) over the given axis or axes (see :func:`~.std`).

        Args:
            axis: an int, a tuple of ints, or None for all elements.
            keepdims: keep the reduced axes with size 1.

        Returns:
            the standard deviations.

        Examples:
            >>> x = Tensor([[1., 2.], [3., 6.]])
            >>> x.std(axis=1).numpy()
            array([0.5, 1.5], dtype=float32)
        """
        return F.std(self, axis, keepdims)

    def argmax(self, axis=None, keepdims=False):
        """Index of the largest element (see :func:`~.argmax`).

        Args:
            axis: an int, or None for the flattened tensor.
            keepdims: keep the reduced axis with size 1.

        Returns:
            int32 indices.

        Examples:
            >>> x = Tensor([[1., 5.], [3., 2.]])
            >>> x.argmax().numpy(), x.argmax(axis=0).numpy()
            (array(1, dtype=int32), array([1, 0], dtype=int32))
        """
        return F.argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims=False):
        """Index of the smallest element (see :func:`~.argmin`).

        Args:
            axis: an int, or None for the flattened tensor.
            keepdims: keep the reduced axis with size 1.

        Returns:
            int32 indices.

        Examples:
            >>> x = Tensor([[1., 5.], [3., 2.]])
            >>> x.argmin().numpy(), x.argmin(axis=1).numpy()
            (array(0, dtype=int32), array([0, 1], dtype=int32))
        """
        return F.argmin(self, axis, keepdims)

    # -------------------------------------------------------------- operators
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """numpy ufuncs on Tensors (``np.add(t, a)``, ``ndarray + Tensor``) run the matching
        engine function and return a Tensor on the tensor's device, as MegEngine does."""
        if method != "__call__" or kwargs:
            return NotImplemented  # numpy then raises its TypeError
        fn = _UFUNCS.get(ufunc.__name__)
        if fn is not None:
            return getattr(F, fn)(*inputs)
        op = _UFUNC_OPERATORS.get(ufunc.__name__)
        if op is None:
            return NotImplemented
        # numpy operands become Tensors first, so that the operator runs Tensor's method
        # (an ndarray's would call back into this ufunc)
        return op(*(Tensor(i, device=self.device) if isinstance(i, np.ndarray) else
                    i.item() if isinstance(i, np.generic) else i for i in inputs))

    def __add__(self, o):
        return _ew.binary(_ew.Add, self, o)

    def __radd__(self, o):
        return _ew.binary(_ew.Add, o, self)

    def __sub__(self, o):
        return _ew.binary(_ew.Sub, self, o)

    def __rsub__(self, o):
        return _ew.binary(_ew.Sub, o, self)

    def __mul__(self, o):
        return _ew.binary(_ew.Mul, self, o)

    def __rmul__(self, o):
        return _ew.binary(_ew.Mul, o, self)

    def __truediv__(self, o):
        return F.div(self, o)

    def __rtruediv__(self, o):
        return F.div(o, self)

    def __floordiv__(self, o):
        return F.floor_div(self, o)

    def __rfloordiv__(self, o):
        return F.floor_div(o, self)

    def __mod__(self, o):
        return F.mod(self, o)

    def __rmod__(self, o):
        return F.mod(o, self)

    def __pow__(self, o):
        return F.pow(self, o)

    def __rpow__(self, o):
        return F.pow(o, self)

    def __matmul__(self, o):
        return F.matmul(self, o)

    def __rmatmul__(self, o):
        return F.matmul(o, self)

    def __neg__(self):
        return F.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return F.abs(self)

    # round(x), math.floor(x), ... are elementwise and return Tensors, as in MegEngine
    def __round__(self, ndigits=None):
        if ndigits is None:
            return F.round(self)
        scale = 10.0 ** ndigits
        return F.round(self * scale) / scale

    def __floor__(self):
        return F.floor(self)

    def __ceil__(self):
        return F.ceil(self)

    def __trunc__(self):
        return F.trunc(self)

    def __lshift__(self, o):
        return F.left_shift(self, o)

    def __rlshift__(self, o):
        return F.left_shift(o, self)

    def __rshift__(self, o):
        return F.right_shift(self, o)

    def __rrshift__(self, o):
        return F.right_shift(o, self)

    def __contains__(self, value):
        """`value in x`: whether any element equals value."""
        return bool(F.equal(self, value)._host().any())

    def __invert__(self):
        return F.logical_not(self)

    def __and__(self, o):
        return F.logical_and(self, o)

    __rand__ = __and__

    def __or__(self, o):
        return F.logical_or(self, o)

    __ror__ = __or__

    def __xor__(self, o):
        return F.logical_xor(self, o)

    __rxor__ = __xor__

    def __eq__(self, o):
        return F.equal(self, o)

    def __ne__(self, o):
        return F.not_equal(self, o)

    def __lt__(self, o):
        return F.less(self, o)

    def __le__(self, o):
        return F.less_equal(self, o)

    def __gt__(self, o):
        return F.greater(self, o)

    def __ge__(self, o):
        return F.greater_equal(self, o)

    # In place: the tensor keeps its identity and takes the result's value (MegEngine semantics).
    def __iadd__(self, o):
        self._reset(self + o)
        return self

    def __isub__(self, o):
        self._reset(self - o)
        return self

    def __imul__(self, o):
        self._reset(self * o)
        return self

    def __itruediv__(self, o):
        self._reset(self / o)
        return self

    def __ifloordiv__(self, o):
        self._reset(self // o)
        return self

    def __imod__(self, o):
        self._reset(self % o)
        return self

    def __ipow__(self, o):
        self._reset(self ** o)
        return self

    def __imatmul__(self, o):
        self._reset(self @ o)
        return self

    def __iand__(self, o):
        self._reset(self & o)
        return self

    def __ior__(self, o):
        self._reset(self | o)
        return self

    def __ixor__(self, o):
        self._reset(self ^ o)
        return self

    def __ilshift__(self, o):
        self._reset(self << o)
        return self

    def __irshift__(self, o):
        self._reset(self >> o)
        return self

    # --------------------------------------------------------------- indexing
    def __getitem__(self, index):
        return _ix.getitem(self, index)

    def __setitem__(self, index, value):
        self._reset(_ix.setitem(self, index, value))


class Parameter(Tensor):
    """A Tensor that a Module registers as a trainable parameter (what
    ``Module.parameters()`` and the optimizers see).

    Args: as :class:`Tensor`.

    Examples:
        >>> w = mge.Parameter([1., 2.])
        >>> w
        Parameter([1., 2.], device=cpu0)
        >>> isinstance(w, mge.Tensor)
        True
    """

    __slots__ = ()

    def __repr__(self):
        return "Parameter" + super().__repr__()[len("Tensor"):]


# MegEngine's alias: `tensor` is the class itself (isinstance(x, mge.tensor) works).
tensor = Tensor

_FORMATS = ("default", "nchw", "nhwc")


# numpy ufunc name -> engine.functional name, for Tensor.__array_ufunc__
_UFUNCS = {
    "add": "add", "subtract": "sub", "multiply": "mul", "true_divide": "div", "divide": "div",
    "floor_divide": "floor_div", "remainder": "mod", "power": "pow", "negative": "neg",
    "absolute": "abs", "fabs": "abs", "equal": "equal", "not_equal": "not_equal", "less": "less",
    "less_equal": "less_equal", "greater": "greater", "greater_equal": "greater_equal",
    "maximum": "maximum", "minimum": "minimum", "exp": "exp", "log": "log", "sqrt": "sqrt",
    "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh", "floor": "floor", "ceil": "ceil",
    "logical_and": "logical_and", "logical_or": "logical_or", "logical_xor": "logical_xor",
    "logical_not": "logical_not", "square": "square", "log1p": "log1p", "expm1": "expm1",
}

# ufuncs behind Python operators without an engine.functional function of the same meaning
_UFUNC_OPERATORS = {
    "matmul": operator.matmul, "bitwise_and": operator.and_, "bitwise_or": operator.or_,
    "bitwise_xor": operator.xor, "invert": operator.invert, "left_shift": operator.lshift,
    "right_shift": operator.rshift, "positive": operator.pos,
}


def _rebuild_tensor(cls, array, device, name, map_location=None, format="default"):
    """Unpickling hook: map_location is applied by engine.serialization.load."""
    from .serialization import _current_map_location

    loc = _current_map_location(device)
    t = cls(array, dtype=array.dtype, device=loc)
    t.name = "" if name is None else name  # older pickles stored None for no name
    if format != "default":
        t.format = format
    return t


# Late imports: these modules use Tensor, so they come after it.
import engine.functional as F  # noqa: E402

from .ops import elemwise as _ew  # noqa: E402
from .ops import indexing as _ix  # noqa: E402
from .ops.core import LeafNode as _LeafNode  # noqa: E402
