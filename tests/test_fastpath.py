"""The hot path's objects: engine._C's StorageBase, DeviceCounters and NodeBase
(csrc/bind/fastpath.cpp) and the pure-Python bases kept for a tree without engine._C behave
alike: the same bytes counted on the same events, the same node fields, through the same API."""
import gc
import subprocess
import sys
import weakref

import numpy as np
import pytest

import engine as mge
from engine import allocator
from engine import device as _dev
from engine._native import _C
from engine.ops import core

IMPLS = [pytest.param((allocator._PyStorageBase, _dev._PyDeviceCounters), id="python")]
if _C is not None:
    IMPLS.append(pytest.param((_C.StorageBase, _C.DeviceCounters), id="native"))


@pytest.fixture(params=IMPLS)
def classes(request):
    storage_base, counters_base = request.param

    class Storage(storage_base):
        __slots__ = ()

    class Device(counters_base):
        __slots__ = ("name",)

        def __init__(self):
            self.live = 0
            self.peak = 0

    return Storage, Device


def test_counts_bytes_until_the_storage_dies(classes):
    Storage, Device = classes
    d = Device()
    a = np.zeros(10, "float32")
    s = Storage(a, d)
    assert (s.array is a, s.device is d, s.base, s.nbytes) == (True, True, None, 40)
    assert (d.live, d.peak) == (40, 40)
    t = Storage(np.zeros(5, "float64"), d)
    assert (d.live, d.peak) == (80, 80)
    del s
    gc.collect()
    assert (d.live, d.peak) == (40, 80)  # the peak stays
    del t
    assert (d.live, d.peak) == (0, 80)


def test_a_view_counts_nothing(classes):
    Storage, Device = classes
    d = Device()
    owner = Storage(np.zeros(8, "float32"), d)
    for view in (Storage(owner.array[2:], d, owner), Storage(owner.array[2:], d, base=owner)):
        assert view.base is owner and view.nbytes == 0 and d.live == 32
        del view
        assert d.live == 32


def test_attributes_are_writable_and_weakly_referable(classes):
    Storage, Device = classes
    d = Device()
    s = Storage(np.zeros(4, "float32"), d)
    s.nbytes = 0  # handing the bytes to another handle (DTR's make_replayable does this)
    r = weakref.ref(s)
    b = np.ones(2, "float32")
    s.array, s.base = b, None
    assert s.array is b and r() is s
    del s
    assert r() is None and d.live == 16  # nothing taken off: the 16 bytes were handed over
    d.live = d.peak = 0
    assert (d.live, d.peak) == (0, 0)


def test_a_subclass_with_del_does_its_own_accounting(classes):
    Storage, Device = classes
    d = Device()
    seen = []

    class Owned(Storage):
        __slots__ = ()

        def __del__(self):
            seen.append(self.nbytes)

    s = Owned(np.zeros(4, "float32"), d)
    assert d.live == 16
    del s
    assert seen == [16] and d.live == 16


def test_a_bare_handle_and_init_replaced(classes):
    """DTR builds handles with __new__ and fills them itself, and swaps Storage.__init__."""
    Storage, Device = classes
    d = Device()
    s = Storage.__new__(Storage)
    s.device, s.nbytes = d, 0
    del s
    assert d.live == 0
    plain = Storage.__init__

    def counted(self, array, device, base=None):
        self.array, self.device, self.base, self.nbytes = array, device, base, 7
        device.live += 7

    Storage.__init__ = counted
    try:
        s = Storage(np.zeros(4, "float32"), d)
        assert s.nbytes == 7 and d.live == 7
    finally:
        Storage.__init__ = plain
    assert Storage(np.zeros(1, "float32"), d).nbytes == 4
    del s
    assert d.live == 0


def test_a_device_of_another_type_is_updated_through_its_attributes(classes):
    Storage, _ = classes

    class Other:
        live = 0
        peak = 5

    d = Other()
    s = Storage(np.zeros(4, "float32"), d)
    assert (d.live, d.peak) == (16, 16)
    del s
    assert (d.live, d.peak) == (0, 16)


def test_errors(classes):
    Storage, Device = classes
    with pytest.raises(AttributeError, match="nbytes"):
        Storage([1, 2], Device())
    with pytest.raises(TypeError):
        Storage(np.zeros(1))


def test_engine_uses_the_native_handle_when_built():
    if _C is None:
        pytest.skip("engine._C is not built")
    assert issubclass(allocator.Storage, _C.StorageBase)
    assert isinstance(_dev.get("cpu0"), _C.DeviceCounters)


def test_engine_without_native_module_counts_the_same():
    """A source tree without engine._C imports the pure-Python bases and counts alike."""
    code = (
        "import sys; sys.modules['engine._C'] = None\n"
        "import numpy as np, engine as mge\n"
        "from engine import allocator\n"
        "assert allocator.Storage.__mro__[1] is allocator._PyStorageBase\n"
        "from engine.ops import core\n"
        "assert core.Node.__mro__[1] is core._PyNodeBase\n"
        "a = allocator.get_allocated_memory()\n"
        "from engine.autodiff import GradManager\n"
        "u = mge.tensor(np.zeros(4, 'float32')); gm = GradManager().attach([u])\n"
        "with gm:\n"
        "    v = u * u + u; w = v.reshape(2, 2)\n"
        "    gm.backward(w.sum())\n"
        "assert (u.grad.numpy() == 1).all()\n"
        "del gm\n"
        "assert allocator.get_allocated_memory() - a == 48, allocator.get_allocated_memory()\n"
        "del u, v, w\n"
        "assert allocator.get_allocated_memory() == a\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_live_bytes_of_engine_tensors():
    d = _dev.get("cpu0")
    live, peak = d.live, d.peak
    x = mge.tensor(np.zeros(256, "float32"))
    y = x + x
    assert d.live == live + 2048 and d.peak >= max(peak, live + 2048)
    del x, y
    assert d.live == live


NODE_IMPLS = [pytest.param(core._PyNodeBase, id="python")]
if _C is not None:
    NODE_IMPLS.append(pytest.param(_C.NodeBase, id="native"))


@pytest.fixture(params=NODE_IMPLS)
def node_class(request):
    class Node(request.param):
        __slots__ = ()

    return Node


class _In:
    """What a Node reads of an input Tensor."""

    def __init__(self, storage, node=None, idx=0):
        self._storage, self._node, self._idx = storage, node, idx


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_node_fields(node_class, n):
    ins = [_In(f"s{i}", f"n{i}", i) for i in range(n)]
    attrs, saved = {"axis": 1}, ("out",)
    for inputs in (tuple(ins), ins):
        node = node_class("Op", inputs, attrs, saved, 2)
        assert node.edges == tuple((f"s{i}", f"n{i}", i) for i in range(n))
        assert type(node.edges) is tuple and all(type(e) is tuple for e in node.edges)
        assert (node.op, node.attrs, node.saved, node.n_outputs) == ("Op", attrs, saved, 2)
        assert node.attrs is attrs and node.needs_input_grad is None
    node.needs_input_grad, node.edges, node.saved = (True,), (), None
    assert (node.needs_input_grad, node.edges, node.saved) == ((True,), (), None)
    assert weakref.ref(node)() is node


def test_node_errors(node_class):
    with pytest.raises(AttributeError, match="_storage"):
        node_class("Op", [object()], {}, None, 1)
    with pytest.raises(TypeError):
        node_class("Op", 3, {}, None, 1)
    with pytest.raises(TypeError):
        node_class("Op", [], {})


def test_a_long_chain_of_nodes_frees_without_recursion(node_class):
    head = None
    for _ in range(200_000):
        head = node_class("Op", [_In(None, head, 0)], {}, None, 1)
    r = weakref.ref(head)
    del head
    assert r() is None


def test_engine_node_is_native_when_built():
    if _C is None:
        pytest.skip("engine._C is not built")
    assert issubclass(core.Node, _C.NodeBase)


def test_a_copied_storage_counts_its_own_bytes():
    import copy
    import pickle

    d = _dev.get("cpu0")
    s = allocator.Storage(np.arange(4, dtype="float32"), d)
    live = d.live
    for make in (copy.deepcopy, lambda s: pickle.loads(pickle.dumps(s))):
        c = make(s)
        assert type(c) is allocator.Storage and c.device is d and c.base is None
        np.testing.assert_array_equal(c.array, s.array)
        assert c.array is not s.array and c.nbytes == 16 and d.live == live + 16
        del c
        assert d.live == live
