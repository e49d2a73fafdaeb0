// The hot path's C objects (fastpath.cpp), shared with the op entry (op_apply.cpp): the storage
// handle engine/allocator.py's Storage subclasses and the tape node engine/ops/core.py's Node
// subclasses. Their layouts are private to these two files.
#pragma once

#include <Python.h>

namespace engine {
namespace fastpath {

struct StorageObject {
  PyObject_HEAD PyObject* array;
  PyObject* device;
  PyObject* base;
  Py_ssize_t nbytes;
  PyObject* weakreflist;
};

struct NodeObject {
  PyObject_HEAD PyObject* op;
  PyObject* edges;
  PyObject* attrs;
  PyObject* saved;
  PyObject* n_outputs;
  PyObject* needs_input_grad;
  PyObject* weakreflist;
};

extern PyTypeObject StorageType;  // engine._C.StorageBase
extern PyTypeObject NodeType;     // engine._C.NodeBase

// What Storage(array, device, base) does to a fresh handle: 0, or -1 with the exception set.
int storage_fill(StorageObject* self, PyObject* array, PyObject* device, PyObject* base);
// What Node(op, inputs, attrs, saved, n_outputs) does to a fresh node.
int node_fill(NodeObject* self, PyObject* op, PyObject* inputs, PyObject* attrs, PyObject* saved,
              PyObject* n_outputs);
// tp_init of StorageBase: a Storage class whose tp_init is this one has no Python __init__.
int storage_init(PyObject* self, PyObject* args, PyObject* kwds);
// tp_init of NodeBase, likewise.
int node_init(PyObject* self, PyObject* args, PyObject* kwds);

}  // namespace fastpath
}  // namespace engine
