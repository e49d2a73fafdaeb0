"""Raw-array updates for the optimizers: in place, outside autograd, fused kernels (one native
call for a whole parameter group of float32 host arrays, else one per tensor).

Why in place is safe here: `writable_array(t)` hands out t's backend array only when nothing else
can observe it (no view or detached tensor shares it, no recorded autograd graph or other
Storage references it). Otherwise t first gets a private copy, so whoever shared the old value
keeps seeing it - exactly MegEngine's `p -= lr * g`, which rebinds p to a new value. Either way
the tensor object keeps its identity, so a GradManager attachment stays valid.

The ownership test counts references to the Storage and to its array. The counts an exclusively
owned tensor has are measured once at import on a fresh tensor, through the same function, so the
test does not depend on the interpreter's reference-counting details; anything extra (a view, a
graph edge, an allocator registry) makes it fall back to the copy, never to a wrong result.
"""
import sys

import numpy as np

from engine._native import _C, stream_ptr
from engine.allocator import Storage
from engine.ops.core import LeafNode
from engine.tensor import Tensor

_getrefcount = sys.getrefcount


def _refcounts(t):
    """References to t's Storage and to its array, as seen from here."""
    s = t._storage
    return _getrefcount(s), _getrefcount(s.array)


_probe = Tensor(np.zeros(1, np.float32))
_EXCLUSIVE = _refcounts(_probe)  # what an exclusively owned tensor shows
del _probe


def writable_array(t):
    """t's contiguous backend array, safe to overwrite in place (see the module docstring)."""
    if type(t._node) is not LeafNode:
        t._node, t._idx = None, 0  # the new value is no longer the output of a recorded op
    if t._storage.__class__ is not Storage:  # DTR: other values may be recomputed from this
        s = t._storage                          # one, so the update goes to a plain copy
        own = s.device.xp.array(s.array, order="C", copy=True)
        t._storage = Storage(own, s.device)
        return own
    n_storage, n_array = _refcounts(t)  # before any local below holds a reference
    s = t._storage
    arr = s.array
    if (n_storage <= _EXCLUSIVE[0] and n_array <= _EXCLUSIVE[1] and s.base is None
            and arr.flags.c_contiguous and getattr(arr.flags, "writeable", True)):
        return arr
    own = s.device.xp.array(arr, order="C", copy=True)
    t._storage = Storage(own, s.device)
    return own


def _native_ok(xp, *arrays):
    return _C is not None and all(a.dtype == np.float32 for a in arrays) and (
        xp is np or _C.with_cuda())


def sgd_update(param, grad, buf, lr, weight_decay, momentum, nesterov):
    """One SGD step on raw arrays (param and buf written in place; buf None: no momentum)."""
    xp = _xp(param)
    state = (param,) if buf is None else (param, buf)
    if _native_ok(xp, grad, *state):
        if xp is np:
            _C.sgd_update_(param, grad, buf, lr, weight_decay, momentum, nesterov)
        else:
            grad = xp.ascontiguousarray(grad)
            _C.sgd_update_cuda(param.data.ptr, grad.data.ptr, 0 if buf is None else buf.data.ptr,
                               param.size, lr, weight_decay, momentum, nesterov, stream_ptr(xp))
        return
    dtype = param.dtype.type
    g = grad.astype(param.dtype, copy=True)
    if weight_decay:
        g += dtype(weight_decay) * param
    if buf is not None:
        buf *= dtype(momentum)
        buf += g
        g = g + dtype(momentum) * buf if nesterov else buf
    param -= dtype(lr) * g


def adam_update(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step,
                decoupled):
    """One Adam / AdamW step (step counts from 1) on raw arrays, written in place."""
    xp = _xp(param)
    bc1, bc2 = 1.0 - beta1 ** step, 1.0 - beta2 ** step
    if _native_ok(xp, grad, param, exp_avg, exp_avg_sq):
        args = (lr, beta1, beta2, eps, weight_decay, bc1, bc2, decoupled)
        if xp is np:
            _C.adam_update_(param, grad, exp_avg, exp_avg_sq, *args)
        else:
            grad = xp.ascontiguousarray(grad)
            _C.adam_update_cuda(param.data.ptr, grad.data.ptr, exp_avg.data.ptr,
                                exp_avg_sq.data.ptr, param.size, *args, stream_ptr(xp))
        return
    dtype = param.dtype.type
    g = grad.astype(param.dtype, copy=True)
    if weight_decay and not decoupled:
        g += dtype(weight_decay) * param
    exp_avg *= dtype(beta1)
    exp_avg += dtype(1 - beta1) * g
    exp_avg_sq *= dtype(beta2)
    exp_avg_sq += dtype(1 - beta2) * g * g
    delta = (exp_avg / dtype(bc1)) / (xp.sqrt(exp_avg_sq / dtype(bc2)) + dtype(eps))
    if weight_decay and decoupled:
        delta += dtype(weight_decay) * param
    param -= dtype(lr) * delta


def _group_native_ok(*lists):
    """One native group call takes it: float32 numpy arrays throughout."""
    return _C is not None and all(type(a) is np.ndarray and a.dtype == np.float32
                                  for arrays in lists for a in arrays)


def sgd_update_group(params, grads, bufs, lr, weight_decay, momentum, nesterov):
    """sgd_update over lists of raw arrays (bufs None: no momentum), in one native call when
    they are all float32 host arrays (one parallel region, no per-tensor call overhead)."""
    if not params:
        return
    if _group_native_ok(params, grads, bufs or ()):
        _C.sgd_update_group_(params, grads, bufs, lr, weight_decay, momentum, nesterov)
        return
    for i, (p, g) in enumerate(zip(params, grads)):
        sgd_update(p, g, None if bufs is None else bufs[i], lr, weight_decay, momentum, nesterov)


def adam_update_group(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps,
                      weight_decay, decoupled):
    """adam_update over lists of raw arrays, steps[i] tensor i's step count; one native call
    when they are all float32 host arrays."""
    if not params:
        return
    if _group_native_ok(params, grads, exp_avgs, exp_avg_sqs):
        _C.adam_update_group_(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps,
                              weight_decay, decoupled)
        return
    for p, g, m, v, step in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        adam_update(p, g, m, v, lr, beta1, beta2, eps, weight_decay, step, decoupled)


def _xp(array):
    return np if isinstance(array, np.ndarray) else sys.modules["cupy"]


def array_module(array):
    """numpy or cupy, whichever holds `array` (for updates written with plain array ops)."""
    return _xp(array)
