// The op hot path's objects as C types: the storage handle (engine/allocator.py's Storage), the
// live-bytes counters it updates (engine/device.py's Device) and the tape node that a recording
// GradManager gets per op (engine/ops/core.py's Node, further down).
//
// Every op result gets one Storage; written in Python its __init__ and __del__ (the live-bytes
// accounting on the Device) were two interpreter frames and a handful of int objects per op,
// about a quarter of a small op's dispatch. Here they are a tp_init and a tp_dealloc that add to
// two C integers. engine/allocator.py subclasses StorageBase (class Storage(StorageBase)) and
// engine/device.py subclasses DeviceCounters (class Device(DeviceCounters)), so DTR can still
// swap Storage.__init__ and subclass Storage; both files keep pure-Python bases with the same
// behaviour for a source tree without engine._C.
//
// Behaviour (the Python version's, kept exactly):
//   Storage(array, device, base=None): array, device, base stored as given. With a base the
//   bytes are counted once, on the base (nbytes = 0). Without, nbytes = array.nbytes, added to
//   device.live, and device.peak raised to device.live when it passes it.
//   On destruction: device.live -= nbytes when nbytes is not 0, unless a subclass defines
//   __del__ (which replaces the accounting, as overriding the Python __del__ did).
// device.live and device.peak stay readable and writable from Python (DTR and the memory
// statistics use them); a device object of another type is updated through its attributes.
#include <Python.h>
#include <structmember.h>

#include "bind/fastpath.h"
#include "bind/registry.h"

namespace engine {
namespace fastpath {

PyTypeObject StorageType{};  // filled in by base_type()
PyTypeObject NodeType{};

namespace {

struct CountersObject {
  PyObject_HEAD long long live;  // bytes of live storages on the device
  long long peak;                // the largest `live` since start or the last reset
};

PyMemberDef counters_members[] = {
    {"live", T_LONGLONG, offsetof(CountersObject, live), 0, "bytes of live storages"},
    {"peak", T_LONGLONG, offsetof(CountersObject, peak), 0, "peak of live"},
    {nullptr, 0, 0, 0, nullptr}};

PyTypeObject CountersType{};  // filled in by base_type()

PyObject* str_live = nullptr;
PyObject* str_peak = nullptr;
PyObject* str_nbytes = nullptr;

// device.live += delta; device.peak = max(peak, live) when raise_peak. 0 on success.
int add_live(PyObject* device, Py_ssize_t delta, bool raise_peak) {
  if (PyObject_TypeCheck(device, &CountersType)) {  // engine's Device: two C integers
    auto* c = reinterpret_cast<CountersObject*>(device);
    c->live += delta;
    if (raise_peak && c->live > c->peak) c->peak = c->live;
    return 0;
  }
  PyObject* live = PyObject_GetAttr(device, str_live);
  if (live == nullptr) return -1;
  PyObject* d = PyLong_FromSsize_t(delta);
  if (d == nullptr) {
    Py_DECREF(live);
    return -1;
  }
  PyObject* now = PyNumber_Add(live, d);
  Py_DECREF(live);
  Py_DECREF(d);
  if (now == nullptr) return -1;
  int rc = PyObject_SetAttr(device, str_live, now);
  if (rc == 0 && raise_peak) {
    PyObject* peak = PyObject_GetAttr(device, str_peak);
    if (peak == nullptr) {
      rc = -1;
    } else {
      int above = PyObject_RichCompareBool(now, peak, Py_GT);
      Py_DECREF(peak);
      rc = above < 0 ? -1 : (above ? PyObject_SetAttr(device, str_peak, now) : 0);
    }
  }
  Py_DECREF(now);
  return rc;
}

PyObject* storage_new(PyTypeObject* type, PyObject*, PyObject*) {
  // Arguments are read by tp_init; DTR builds bare handles with StorageBase.__new__(cls).
  return type->tp_alloc(type, 0);  // fields zeroed: nbytes 0, no references
}

}  // namespace

int storage_fill(StorageObject* self, PyObject* array, PyObject* device, PyObject* base) {
  Py_INCREF(array);
  Py_XSETREF(self->array, array);
  Py_INCREF(device);
  Py_XSETREF(self->device, device);
  Py_INCREF(base);
  Py_XSETREF(self->base, base);
  if (base != Py_None) {
    self->nbytes = 0;  // the bytes are counted once, on the base
    return 0;
  }
  PyObject* nb = PyObject_GetAttr(array, str_nbytes);
  if (nb == nullptr) return -1;
  Py_ssize_t bytes = PyLong_AsSsize_t(nb);
  Py_DECREF(nb);
  if (bytes == -1 && PyErr_Occurred()) return -1;
  self->nbytes = bytes;
  return add_live(device, bytes, true);
}

int storage_init(PyObject* self_obj, PyObject* args, PyObject* kwds) {
  auto* self = reinterpret_cast<StorageObject*>(self_obj);
  PyObject* array = nullptr;
  PyObject* device = nullptr;
  PyObject* base = Py_None;
  Py_ssize_t n = PyTuple_GET_SIZE(args);
  if (kwds == nullptr && (n == 2 || n == 3)) {  // the hot path: Storage(array, device)
    array = PyTuple_GET_ITEM(args, 0);
    device = PyTuple_GET_ITEM(args, 1);
    if (n == 3) base = PyTuple_GET_ITEM(args, 2);
  } else {
    static const char* names[] = {"array", "device", "base", nullptr};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|O:Storage", const_cast<char**>(names),
                                     &array, &device, &base))
      return -1;
  }
  return storage_fill(self, array, device, base);
}

namespace {

int storage_traverse(PyObject* self_obj, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<StorageObject*>(self_obj);
  Py_VISIT(self->array);
  Py_VISIT(self->device);
  Py_VISIT(self->base);
  return 0;
}

int storage_clear(PyObject* self_obj) {
  auto* self = reinterpret_cast<StorageObject*>(self_obj);
  Py_CLEAR(self->array);
  Py_CLEAR(self->base);
  // device stays: dealloc still has to take the bytes off its counter
  return 0;
}

void storage_dealloc(PyObject* self_obj) {
  auto* self = reinterpret_cast<StorageObject*>(self_obj);
  PyObject_GC_UnTrack(self_obj);
  if (self->weakreflist != nullptr) PyObject_ClearWeakRefs(self_obj);
  // A subclass with its own __del__ takes over the accounting, as it would overriding the
  // Python __del__ (DTRStorage: its record counts the bytes and frees them).
  if (self->nbytes != 0 && self->device != nullptr && Py_TYPE(self_obj)->tp_finalize == nullptr) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);  // a dealloc must not disturb a pending exception
    if (add_live(self->device, -self->nbytes, false) < 0) PyErr_WriteUnraisable(self_obj);
    PyErr_Restore(type, value, tb);
  }
  Py_CLEAR(self->array);
  Py_CLEAR(self->device);
  Py_CLEAR(self->base);
  Py_TYPE(self_obj)->tp_free(self_obj);
}

PyMemberDef storage_members[] = {
    {"array", T_OBJECT, offsetof(StorageObject, array), 0, "the backend array"},
    {"device", T_OBJECT, offsetof(StorageObject, device), 0, "the Device it lives on"},
    {"base", T_OBJECT, offsetof(StorageObject, base), 0,
     "the Storage that owns the bytes of this view, or None"},
    {"nbytes", T_PYSSIZET, offsetof(StorageObject, nbytes), 0,
     "bytes this storage counts on its device (0 for views)"},
    {nullptr, 0, 0, 0, nullptr}};

// ------------------------------------------------------------------------------ the tape node
// engine/ops/core.py's Node (class Node(NodeBase)): one recorded op application. Made once per
// op while a GradManager records; in Python its __init__ (six slots and an edge tuple per
// input) was a fifth of a recorded op. Node(op, inputs, attrs, saved, n_outputs) keeps op,
// attrs, saved and n_outputs as given, edges = tuple((t._storage, t._node, t._idx) for t in
// inputs), and needs_input_grad = None.

PyObject* str_storage = nullptr;
PyObject* str_node = nullptr;
PyObject* str_idx = nullptr;

// (t._storage, t._node, t._idx), or nullptr with the exception set
PyObject* edge_of(PyObject* t) {
  PyObject* parts[3];
  PyObject* names[3] = {str_storage, str_node, str_idx};
  for (int k = 0; k < 3; ++k) {
    parts[k] = PyObject_GetAttr(t, names[k]);
    if (parts[k] == nullptr) {
      for (int j = 0; j < k; ++j) Py_DECREF(parts[j]);
      return nullptr;
    }
  }
  PyObject* edge = PyTuple_New(3);
  if (edge == nullptr) {
    for (auto* p : parts) Py_DECREF(p);
    return nullptr;
  }
  for (int k = 0; k < 3; ++k) PyTuple_SET_ITEM(edge, k, parts[k]);  // steals
  return edge;
}

PyObject* node_new(PyTypeObject* type, PyObject*, PyObject*) { return type->tp_alloc(type, 0); }

}  // namespace

int node_init(PyObject* self_obj, PyObject* args, PyObject* kwds) {
  auto* self = reinterpret_cast<NodeObject*>(self_obj);
  PyObject *op, *inputs, *attrs, *saved, *n_outputs;
  if (kwds == nullptr && PyTuple_GET_SIZE(args) == 5) {  // the hot path: all positional
    op = PyTuple_GET_ITEM(args, 0);
    inputs = PyTuple_GET_ITEM(args, 1);
    attrs = PyTuple_GET_ITEM(args, 2);
    saved = PyTuple_GET_ITEM(args, 3);
    n_outputs = PyTuple_GET_ITEM(args, 4);
  } else {
    static const char* names[] = {"op", "inputs", "attrs", "saved", "n_outputs", nullptr};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOO:Node", const_cast<char**>(names), &op,
                                     &inputs, &attrs, &saved, &n_outputs))
      return -1;
  }
  return node_fill(self, op, inputs, attrs, saved, n_outputs);
}

int node_fill(NodeObject* self, PyObject* op, PyObject* inputs, PyObject* attrs, PyObject* saved,
              PyObject* n_outputs) {
  PyObject* seq = PySequence_Fast(inputs, "Node: inputs must be a sequence of Tensors");
  if (seq == nullptr) return -1;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  PyObject* edges = PyTuple_New(n);
  if (edges == nullptr) {
    Py_DECREF(seq);
    return -1;
  }
  PyObject** items = PySequence_Fast_ITEMS(seq);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* edge = edge_of(items[i]);
    if (edge == nullptr) {
      Py_DECREF(edges);
      Py_DECREF(seq);
      return -1;
    }
    PyTuple_SET_ITEM(edges, i, edge);
  }
  Py_DECREF(seq);
  Py_INCREF(op);
  Py_XSETREF(self->op, op);
  Py_XSETREF(self->edges, edges);
  Py_INCREF(attrs);
  Py_XSETREF(self->attrs, attrs);
  Py_INCREF(saved);
  Py_XSETREF(self->saved, saved);
  Py_INCREF(n_outputs);
  Py_XSETREF(self->n_outputs, n_outputs);
  Py_INCREF(Py_None);
  Py_XSETREF(self->needs_input_grad, Py_None);
  return 0;
}

namespace {

int node_traverse(PyObject* self_obj, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<NodeObject*>(self_obj);
  Py_VISIT(self->op);
  Py_VISIT(self->edges);
  Py_VISIT(self->attrs);
  Py_VISIT(self->saved);
  Py_VISIT(self->n_outputs);
  Py_VISIT(self->needs_input_grad);
  return 0;
}

int node_clear(PyObject* self_obj) {
  auto* self = reinterpret_cast<NodeObject*>(self_obj);
  Py_CLEAR(self->op);
  Py_CLEAR(self->edges);
  Py_CLEAR(self->attrs);
  Py_CLEAR(self->saved);
  Py_CLEAR(self->n_outputs);
  Py_CLEAR(self->needs_input_grad);
  return 0;
}

void node_dealloc(PyObject* self_obj) {
  PyObject_GC_UnTrack(self_obj);
  if (reinterpret_cast<NodeObject*>(self_obj)->weakreflist != nullptr)
    PyObject_ClearWeakRefs(self_obj);
  // A long chain of nodes (an RNN unrolled over many steps) frees recursively through edges;
  // the trashcan turns that recursion into a loop, as it does for Python objects.
  Py_TRASHCAN_BEGIN(self_obj, node_dealloc);
  node_clear(self_obj);
  Py_TYPE(self_obj)->tp_free(self_obj);
  Py_TRASHCAN_END;
}

PyMemberDef node_members[] = {
    {"op", T_OBJECT, offsetof(NodeObject, op), 0, "the Op class applied"},
    {"edges", T_OBJECT, offsetof(NodeObject, edges), 0,
     "(storage, node, index) of each input, in order"},
    {"attrs", T_OBJECT, offsetof(NodeObject, attrs), 0, "the op's attributes"},
    {"saved", T_OBJECT, offsetof(NodeObject, saved), 0,
     "output storages when op.save_outputs, else None"},
    {"n_outputs", T_OBJECT, offsetof(NodeObject, n_outputs), 0, "number of outputs"},
    {"needs_input_grad", T_OBJECT, offsetof(NodeObject, needs_input_grad), 0,
     "per input, whether backward must compute its gradient (set by the sweep)"},
    {nullptr, 0, 0, 0, nullptr}};

// Fill in a static base type that Python classes subclass; with a dealloc it holds objects
// (GC-tracked, weakly referable through weaklist), without one it holds plain numbers.
template <typename Object>
PyTypeObject* base_type(PyTypeObject& t, const char* name, const char* doc, PyMemberDef* members,
                        newfunc new_fn, initproc init = nullptr, destructor dealloc = nullptr,
                        traverseproc traverse = nullptr, inquiry clear = nullptr,
                        Py_ssize_t weaklist = 0) {
  // (what PyVarObject_HEAD_INIT sets; PyType_Ready fills in the metatype from the base)
  Py_SET_REFCNT(reinterpret_cast<PyObject*>(&t), 1);
  t.tp_name = name;
  t.tp_basicsize = sizeof(Object);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | (dealloc ? Py_TPFLAGS_HAVE_GC : 0);
  t.tp_doc = doc;
  t.tp_members = members;
  t.tp_new = new_fn;
  t.tp_init = init;
  t.tp_dealloc = dealloc;
  t.tp_traverse = traverse;
  t.tp_clear = clear;
  t.tp_weaklistoffset = weaklist;
  return &t;
}

}  // namespace
}  // namespace fastpath

ENGINE_BINDINGS(fastpath) {
  using namespace fastpath;
  str_live = PyUnicode_InternFromString("live");
  str_peak = PyUnicode_InternFromString("peak");
  str_nbytes = PyUnicode_InternFromString("nbytes");
  str_storage = PyUnicode_InternFromString("_storage");
  str_node = PyUnicode_InternFromString("_node");
  str_idx = PyUnicode_InternFromString("_idx");
  for (PyObject* name : {str_live, str_peak, str_nbytes, str_storage, str_node, str_idx})
    if (name == nullptr) throw py::error_already_set();
  PyTypeObject* types[] = {
      base_type<StorageObject>(
          StorageType, "engine._C.StorageBase",
          "One backend array and its live-bytes accounting (engine.allocator).", storage_members,
          storage_new, storage_init, storage_dealloc, storage_traverse, storage_clear,
          offsetof(StorageObject, weakreflist)),
      base_type<CountersObject>(CountersType, "engine._C.DeviceCounters",
                                "A device's live and peak bytes (engine.device.Device's base).",
                                counters_members, PyType_GenericNew),
      base_type<NodeObject>(NodeType, "engine._C.NodeBase",
                            "One recorded op application (engine.ops.core.Node's base).",
                            node_members, node_new, node_init, node_dealloc, node_traverse,
                            node_clear, offsetof(NodeObject, weakreflist)),
  };
  for (PyTypeObject* type : types) {
    if (PyType_Ready(type) < 0) throw py::error_already_set();
    // a static type: the module's reference is enough
    m.add_object(type->tp_name + sizeof("engine._C.") - 1,
                 py::handle(reinterpret_cast<PyObject*>(type)));
  }
}

}  // namespace engine
