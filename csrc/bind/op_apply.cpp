// The entry of every op in C: engine/ops/core.py's Op.apply (op_apply) and its positional twins
// apply1/apply2 (op_call), written out from core._apply_py, which stays the reference and the
// path for everything unusual.
//
// Why: in Python the entry was ~0.8 us of a small op's ~1.0 us (a star-args call, a dozen
// attribute reads, three frames for the Storage/Tensor/Node); torch's whole eager op is ~0.7.
// Here the same steps are a few C attribute reads and slot writes.
//
// What it does, exactly as _apply_py: read each input's storage, array and device (one device,
// else core._device_mismatch raises), call cls.forward(xp, *arrays, **attrs), and turn a
// ValueError/TypeError/IndexError from it into core._reraise's named error. A single ndarray
// result becomes a Storage (a view of input 0 shares its base's, as allocator.storage_for_view
// decides) and a Tensor; while a GradManager records (core.recording) and an input is on the
// tape, a Node too. Every other result (several outputs, scalars, CuPy arrays) goes to
// core._result. Module globals are read on every call, so DTR's swapped core.Storage, the
// recording counter and core.apply_hooks are seen as Python would see them.
#include <Python.h>
#include <structmember.h>

#include "bind/fastpath.h"
#include "bind/registry.h"

namespace engine {
namespace fastpath {
namespace {

// An owned reference, released at scope exit.
class Ref {
 public:
  Ref() = default;
  explicit Ref(PyObject* p) : p_(p) {}
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  ~Ref() { Py_XDECREF(p_); }
  void reset(PyObject* p) { Py_XSETREF(p_, p); }
  PyObject* get() const { return p_; }
  PyObject* release() {
    PyObject* p = p_;
    p_ = nullptr;
    return p;
  }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  PyObject* p_ = nullptr;
};

// What engine.ops.core hands over once at import (setup_op_apply).
struct Setup {
  PyObject* globals = nullptr;  // engine.ops.core's namespace: recording, apply_hooks, Storage
  PyTypeObject* tensor = nullptr;
  PyTypeObject* storage = nullptr;  // the plain engine.allocator.Storage
  PyTypeObject* node = nullptr;     // engine.ops.core.Node
  PyTypeObject* ndarray = nullptr;
  PyObject* py_apply = nullptr;    // core._apply_py(cls, *inputs, **attrs)
  PyObject* py_result = nullptr;   // core._result(cls, out, device, inputs, attrs)
  PyObject* py_reraise = nullptr;  // core._reraise(cls, error, inputs, attrs)
  PyObject* py_mismatch = nullptr;      // core._device_mismatch(cls, inputs)
  PyObject* py_view_storage = nullptr;  // allocator.storage_for_view(array, device, parent)
  PyObject* no_attrs = nullptr;         // core._NO_ATTRS
  PyObject* empty = nullptr;            // ""
  PyObject* zero = nullptr;             // 0
  // offsets of Tensor's slots
  Py_ssize_t storage_slot = 0, node_slot = 0, idx_slot = 0, grad_slot = 0, name_slot = 0;
};
Setup S;

struct Names {
  PyObject *forward, *xp, *n_outputs, *view, *differentiable, *save_outputs, *recording,
      *apply_hooks, *Storage, *apply, *base, *array, *device;
};
Names N{};

constexpr Py_ssize_t kMaxInputs = 8;  // more inputs (concat of many) take _apply_py

PyObject*& slot(PyObject* obj, Py_ssize_t offset) {
  return *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(obj) + offset);
}

// Truth of cls.<name>: 1, 0, or -1 with the exception set.
int class_flag(PyObject* cls, PyObject* name) {
  Ref v(PyObject_GetAttr(cls, name));
  return v ? PyObject_IsTrue(v.get()) : -1;
}

// Truth of the core module's global <name> (an int counter): 1, 0, or -1.
int global_flag(PyObject* name) {
  PyObject* v = PyDict_GetItemWithError(S.globals, name);  // borrowed
  if (v == nullptr) {
    if (!PyErr_Occurred()) PyErr_Format(PyExc_NameError, "engine.ops.core.%U is gone", name);
    return -1;
  }
  return PyObject_IsTrue(v);
}

PyObject* input_tuple(PyObject* const* inputs, Py_ssize_t n) {
  PyObject* t = PyTuple_New(n);
  if (t == nullptr) return nullptr;
  for (Py_ssize_t i = 0; i < n; ++i) {
    Py_INCREF(inputs[i]);
    PyTuple_SET_ITEM(t, i, inputs[i]);
  }
  return t;
}

// The op's attributes as _apply_py sees them: a new dict of the keywords, or _NO_ATTRS for the
// positional entry.
PyObject* attr_dict(PyObject* const* values, PyObject* kwnames, bool positional) {
  if (positional) {
    Py_INCREF(S.no_attrs);
    return S.no_attrs;
  }
  PyObject* d = PyDict_New();
  if (d == nullptr || kwnames == nullptr) return d;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); ++i) {
    if (PyDict_SetItem(d, PyTuple_GET_ITEM(kwnames, i), values[i]) < 0) {
      Py_DECREF(d);
      return nullptr;
    }
  }
  return d;
}

// A new Storage(array, device, base) of the class core.Storage names now.
PyObject* new_storage(PyObject* array, PyObject* device, PyObject* base) {
  PyObject* cls = PyDict_GetItemWithError(S.globals, N.Storage);  // borrowed
  if (cls == nullptr) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_NameError, "engine.ops.core.Storage is gone");
    return nullptr;
  }
  if (cls == reinterpret_cast<PyObject*>(S.storage) && S.storage->tp_init == storage_init) {
    Ref s(S.storage->tp_alloc(S.storage, 0));
    if (!s || storage_fill(reinterpret_cast<StorageObject*>(s.get()), array, device, base) < 0)
      return nullptr;
    return s.release();
  }
  PyObject* args[] = {array, device, base};  // DTR's storage class, or a swapped __init__
  return PyObject_Vectorcall(cls, args, base == Py_None ? 2 : 3, nullptr);
}

// The Storage of forward's ndarray result `out`: for a view op, what
// allocator.storage_for_view(out, device, parent) gives, its common cases inline.
PyObject* result_storage(PyObject* out, PyObject* device, bool view, PyObject* parent,
                         PyObject* parent_array) {
  if (!view) return new_storage(out, device, Py_None);
  Ref base(PyObject_GetAttr(out, N.base));
  if (!base) return nullptr;
  if (base.get() == Py_None) return new_storage(out, device, Py_None);
  Ref parent_base_array(PyObject_GetAttr(parent_array, N.base));
  if (!parent_base_array) return nullptr;
  if (base.get() != parent_array && base.get() != parent_base_array.get()) {
    PyObject* args[] = {out, device, parent};  // a deeper view chain: allocator's walk
    return PyObject_Vectorcall(S.py_view_storage, args, 3, nullptr);
  }
  // Storage(out, device, parent.base or parent): the Storage that owns the bytes
  Ref owner(PyObject_GetAttr(parent, N.base));
  if (!owner) return nullptr;
  if (owner.get() == Py_None) {
    Py_INCREF(parent);
    owner.reset(parent);
  }
  return new_storage(out, device, owner.get());
}

// A bare Tensor (object.__new__(Tensor)) holding storage and node (both borrowed).
PyObject* new_tensor(PyObject* storage, PyObject* node) {
  PyObject* t = S.tensor->tp_alloc(S.tensor, 0);
  if (t == nullptr) return nullptr;
  PyObject* values[] = {storage, node, S.zero, Py_None, S.empty};
  Py_ssize_t offsets[] = {S.storage_slot, S.node_slot, S.idx_slot, S.grad_slot, S.name_slot};
  for (int k = 0; k < 5; ++k) {
    Py_INCREF(values[k]);
    slot(t, offsets[k]) = values[k];
  }
  return t;
}

// A Node(cls, inputs, attrs, (storage,) or None, 1) for a single-output op.
PyObject* new_node(PyObject* cls, PyObject* inputs, PyObject* attrs, PyObject* storage) {
  int save = class_flag(cls, N.save_outputs);
  if (save < 0) return nullptr;
  Ref saved;
  if (save) {
    saved.reset(PyTuple_Pack(1, storage));
    if (!saved) return nullptr;
  } else {
    Py_INCREF(Py_None);
    saved.reset(Py_None);
  }
  Ref one(PyLong_FromLong(1));
  if (!one) return nullptr;
  if (S.node->tp_init != node_init) {  // a Node with its own __init__: call the class
    PyObject* args[] = {cls, inputs, attrs, saved.get(), one.get()};
    return PyObject_Vectorcall(reinterpret_cast<PyObject*>(S.node), args, 5, nullptr);
  }
  Ref node(S.node->tp_alloc(S.node, 0));
  if (!node || node_fill(reinterpret_cast<NodeObject*>(node.get()), cls, inputs, attrs,
                         saved.get(), one.get()) < 0)
    return nullptr;
  return node.release();
}

// Whether a recording GradManager needs a Node for this application: 1, 0 or -1.
int needs_node(PyObject* cls, PyObject* const* inputs, Py_ssize_t n) {
  int rec = global_flag(N.recording);
  if (rec <= 0) return rec;
  int diff = class_flag(cls, N.differentiable);
  if (diff <= 0) return diff;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* node = slot(inputs[i], S.node_slot);
    if (node != nullptr && node != Py_None) return 1;
  }
  return 0;
}

// Wrap forward's result `out` (borrowed) as _result does.
PyObject* wrap(PyObject* cls, PyObject* out, PyObject* device, PyObject* const* inputs,
               Py_ssize_t n, PyObject* const* kwvalues, PyObject* kwnames, bool positional,
               PyObject* parent, PyObject* parent_array) {
  Ref n_outputs(PyObject_GetAttr(cls, N.n_outputs));
  if (!n_outputs) return nullptr;
  const bool one = PyLong_CheckExact(n_outputs.get()) && PyLong_AsLong(n_outputs.get()) == 1;
  if (!one || Py_TYPE(out) != S.ndarray) {  // tuples, scalars, CuPy arrays: Python's _result
    Ref ins(input_tuple(inputs, n));
    Ref attrs(ins ? attr_dict(kwvalues, kwnames, positional) : nullptr);
    if (!attrs) return nullptr;
    PyObject* args[] = {cls, out, device, ins.get(), attrs.get()};
    return PyObject_Vectorcall(S.py_result, args, 5, nullptr);
  }
  int view = class_flag(cls, N.view);
  if (view < 0) return nullptr;
  Ref storage(result_storage(out, device, view, parent, parent_array));
  if (!storage) return nullptr;
  int tracked = needs_node(cls, inputs, n);
  if (tracked < 0) return nullptr;
  if (!tracked) return new_tensor(storage.get(), Py_None);
  Ref ins(input_tuple(inputs, n));
  Ref attrs(ins ? attr_dict(kwvalues, kwnames, positional) : nullptr);
  if (!attrs) return nullptr;
  Ref node(new_node(cls, ins.get(), attrs.get(), storage.get()));
  if (!node) return nullptr;
  return new_tensor(storage.get(), node.get());
}

// forward raised: a ValueError/TypeError/IndexError becomes _reraise's error naming the op.
void name_error(PyObject* cls, PyObject* const* inputs, Py_ssize_t n, PyObject* const* kwvalues,
                PyObject* kwnames, bool positional) {
  if (!PyErr_ExceptionMatches(PyExc_ValueError) && !PyErr_ExceptionMatches(PyExc_TypeError) &&
      !PyErr_ExceptionMatches(PyExc_IndexError))
    return;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb != nullptr) PyException_SetTraceback(value, tb);
  Ref t(type), v(value), trace(tb);
  Ref ins(input_tuple(inputs, n));
  Ref attrs(ins ? attr_dict(kwvalues, kwnames, positional) : nullptr);
  if (!attrs) return;
  PyObject* args[] = {cls, value, ins.get(), attrs.get()};
  Ref r(PyObject_Vectorcall(S.py_reraise, args, 4, nullptr));  // raises
}

// args: cls, the input Tensors, then the keyword values named by kwnames.
PyObject* apply(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, bool positional) {
  const Py_ssize_t n = nargs - 1;
  const Py_ssize_t nkw = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
  if (S.globals == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "op_apply: engine.ops.core has not set it up");
    return nullptr;
  }
  if (n < 1 || n > kMaxInputs || nkw > kMaxInputs)
    return PyObject_Vectorcall(S.py_apply, args, nargs, kwnames);
  PyObject* cls = args[0];
  PyObject* const* inputs = args + 1;
  for (Py_ssize_t i = 0; i < n; ++i) {  // anything but a Tensor with a storage: Python's path
    if (!PyObject_TypeCheck(inputs[i], S.tensor) || slot(inputs[i], S.storage_slot) == nullptr)
      return PyObject_Vectorcall(S.py_apply, args, nargs, kwnames);
  }
  // [spare, xp, arrays..., keyword values...]: forward's vectorcall, with a slot in front
  PyObject* call[2 + 2 * kMaxInputs];
  Ref arrays[kMaxInputs];
  Ref device;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* s = slot(inputs[i], S.storage_slot);
    Ref dev;
    if (Py_TYPE(s) == S.storage) {
      auto* so = reinterpret_cast<StorageObject*>(s);
      if (so->array == nullptr || so->device == nullptr) {
        PyErr_SetString(PyExc_RuntimeError, "op: an input's storage was never initialised");
        return nullptr;
      }
      Py_INCREF(so->array);
      arrays[i].reset(so->array);
      Py_INCREF(so->device);
      dev.reset(so->device);
    } else {  // DTR's storages compute .array on access
      dev.reset(PyObject_GetAttr(s, N.device));
      if (!dev) return nullptr;
      arrays[i].reset(PyObject_GetAttr(s, N.array));
      if (!arrays[i]) return nullptr;
    }
    if (i == 0) {
      device.reset(dev.release());
    } else if (dev.get() != device.get()) {
      Ref ins(input_tuple(inputs, n));
      if (!ins) return nullptr;
      PyObject* margs[] = {cls, ins.get()};
      Ref r(PyObject_Vectorcall(S.py_mismatch, margs, 2, nullptr));  // raises
      return nullptr;
    }
    call[2 + i] = arrays[i].get();
  }
  Ref xp(PyObject_GetAttr(device.get(), N.xp));
  if (!xp) return nullptr;
  Ref forward(PyObject_GetAttr(cls, N.forward));
  if (!forward) return nullptr;
  call[1] = xp.get();
  PyObject* const* kwvalues = args + nargs;
  for (Py_ssize_t k = 0; k < nkw; ++k) call[2 + n + k] = kwvalues[k];
  Ref out(PyObject_Vectorcall(forward.get(), call + 1,
                              static_cast<size_t>(1 + n) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                              kwnames));
  if (!out) {
    name_error(cls, inputs, n, kwvalues, kwnames, positional);
    return nullptr;
  }
  return wrap(cls, out.get(), device.get(), inputs, n, kwvalues, kwnames, positional,
              slot(inputs[0], S.storage_slot), arrays[0].get());
}

// Op.apply's body: classmethod(op_apply), so cls comes first.
PyObject* op_apply(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  if (nargs < 1) {
    PyErr_SetString(PyExc_TypeError, "op_apply(cls, *inputs, **attrs): cls is missing");
    return nullptr;
  }
  return apply(args, nargs, kwnames, false);
}

// apply1(cls, x) / apply2(cls, a, b): the operators' positional entry. While a hook replaces
// Op.apply (core.apply_hooks), it goes through cls.apply so the hook sees the op.
PyObject* op_call(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  if (nargs < 1 || kwnames != nullptr) {
    PyErr_SetString(PyExc_TypeError, "op_call(cls, *inputs) takes the inputs positionally");
    return nullptr;
  }
  if (S.globals != nullptr) {
    int hooked = global_flag(N.apply_hooks);
    if (hooked < 0) return nullptr;
    if (hooked) {
      Ref bound(PyObject_GetAttr(args[0], N.apply));
      if (!bound) return nullptr;
      return PyObject_Vectorcall(bound.get(), args + 1, nargs - 1, nullptr);
    }
  }
  return apply(args, nargs, nullptr, true);
}

// Offset of a __slots__ member of type, or -1 with the exception set.
Py_ssize_t slot_offset(PyTypeObject* type, const char* name) {
  PyObject* d = PyDict_GetItemString(type->tp_dict, name);  // borrowed
  if (d == nullptr || !PyObject_TypeCheck(d, &PyMemberDescr_Type)) {
    PyErr_Format(PyExc_TypeError, "setup_op_apply: %s has no slot %s", type->tp_name, name);
    return -1;
  }
  PyMemberDef* m = reinterpret_cast<PyMemberDescrObject*>(d)->d_member;
  if (m->type != T_OBJECT_EX) {
    PyErr_Format(PyExc_TypeError, "setup_op_apply: %s.%s is not an object slot", type->tp_name,
                 name);
    return -1;
  }
  return m->offset;
}

PyObject* setup_op_apply(PyObject*, PyObject* args) {
  PyObject *globals, *tensor, *storage, *node, *ndarray;
  Setup s;
  if (!PyArg_ParseTuple(args, "O!O!O!O!O!OOOOOO:setup_op_apply", &PyDict_Type, &globals,
                        &PyType_Type, &tensor, &PyType_Type, &storage, &PyType_Type, &node,
                        &PyType_Type, &ndarray, &s.py_apply, &s.py_result, &s.py_reraise,
                        &s.py_mismatch, &s.py_view_storage, &s.no_attrs))
    return nullptr;
  s.tensor = reinterpret_cast<PyTypeObject*>(tensor);
  s.storage = reinterpret_cast<PyTypeObject*>(storage);
  s.node = reinterpret_cast<PyTypeObject*>(node);
  s.ndarray = reinterpret_cast<PyTypeObject*>(ndarray);
  if (!PyType_IsSubtype(s.storage, &StorageType) || !PyType_IsSubtype(s.node, &NodeType)) {
    PyErr_SetString(PyExc_TypeError,
                    "setup_op_apply: Storage and Node must subclass StorageBase and NodeBase");
    return nullptr;
  }
  const char* names[] = {"_storage", "_node", "_idx", "grad", "name"};
  Py_ssize_t* offsets[] = {&s.storage_slot, &s.node_slot, &s.idx_slot, &s.grad_slot,
                           &s.name_slot};
  for (int k = 0; k < 5; ++k)
    if ((*offsets[k] = slot_offset(s.tensor, names[k])) < 0) return nullptr;
  s.empty = PyUnicode_FromString("");
  s.zero = PyLong_FromLong(0);
  if (s.empty == nullptr || s.zero == nullptr) return nullptr;
  s.globals = globals;
  // Held for the life of the process, as the module holds them.
  for (PyObject* o : {globals, tensor, storage, node, ndarray, s.py_apply, s.py_result,
                      s.py_reraise, s.py_mismatch, s.py_view_storage, s.no_attrs})
    Py_INCREF(o);
  S = s;
  Py_RETURN_NONE;
}

PyMethodDef methods[] = {
    {"op_apply", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(op_apply)),
     METH_FASTCALL | METH_KEYWORDS,
     "op_apply(cls, *inputs, **attrs): Op.apply's body (engine.ops.core._apply_py in C)."},
    {"op_call", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(op_call)),
     METH_FASTCALL | METH_KEYWORDS,
     "op_call(cls, *inputs): apply1/apply2, through cls.apply while an apply hook is on."},
    {"setup_op_apply", setup_op_apply, METH_VARARGS,
     "setup_op_apply(core_globals, Tensor, Storage, Node, ndarray, _apply_py, _result, "
     "_reraise, _device_mismatch, storage_for_view, no_attrs): engine.ops.core's handover."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace
}  // namespace fastpath

ENGINE_BINDINGS(op_apply) {
  using namespace fastpath;
  const char* names[] = {"forward",  "xp",          "n_outputs", "view",  "differentiable",
                         "save_outputs", "recording", "apply_hooks", "Storage", "apply",
                         "base",     "array",       "device"};
  PyObject** fields[] = {&N.forward,   &N.xp,        &N.n_outputs,   &N.view,
                         &N.differentiable, &N.save_outputs, &N.recording, &N.apply_hooks,
                         &N.Storage,   &N.apply,     &N.base,        &N.array, &N.device};
  for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); ++k) {
    *fields[k] = PyUnicode_InternFromString(names[k]);
    if (*fields[k] == nullptr) throw py::error_already_set();
  }
  for (PyMethodDef* d = methods; d->ml_name != nullptr; ++d) {
    PyObject* f = PyCFunction_NewEx(d, nullptr, m.ptr());
    if (f == nullptr) throw py::error_already_set();
    m.add_object(d->ml_name, py::reinterpret_steal<py::object>(f));
  }
}

}  // namespace engine
