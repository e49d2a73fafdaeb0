"""A recorded call as a static program over backend arrays, and its replay (trace's
without_host=True): each op's forward on arrays, with no Tensor, Module, tape or Python of the
traced function in between, every intermediate freed after its last use.

Values are numbered slots: the call's Tensor inputs, the values it read from outside (parameters
and buffers, read from their Tensor at each replay unless captured as constants), and what each
op, random draw and in-place update produced.
"""
import time

import numpy as np

from ..ops import core
from .watch import AliasEvent, OpEvent, RandomEvent, ResetEvent, TraceError

OP, RANDOM, RESET = 0, 1, 2


class Program:
    """A straight-line program over numbered value slots.

    devices: slot -> device; specs: slot -> (shape, dtype) as recorded. input_slots: the slots
    of the call's Tensor inputs, in order.
    externals: (slot, Tensor or None, constant array or None, shape, dtype) per value read from
    outside: a Tensor is read again at each replay, a constant is fixed. steps: in order,
    (OP, op class, attrs, input slots, output slots, device), (RANDOM, rng, method, args, device,
    slot) or (RESET, target Tensor, slot). outputs: the returned structure, Tensors as _Out.
    """

    def __init__(self, name, devices, specs, input_slots, externals, steps, outputs):
        self.name = name
        self.devices = devices
        self.specs = specs
        self.input_slots = input_slots
        self.externals = externals
        self.steps = steps
        self.outputs = outputs
        self.output_slots = set(out_slots(outputs))
        self._free_after = self._liveness()
        self.op_seconds = {}

    def _liveness(self):
        """For each step, the slots whose last reader it is (freed right after it)."""
        last = {}
        for i, step in enumerate(self.steps):
            for slot in reads(step):
                last[slot] = i
        free = [[] for _ in self.steps]
        for slot, i in last.items():
            if slot not in self.output_slots:
                free[i].append(slot)
        return free

    # ------------------------------------------------------------------ replay
    def replay(self, inputs, profiling=False):
        vals = [None] * len(self.devices)
        for slot, t in zip(self.input_slots, inputs):
            vals[slot] = t._storage.array
        for slot, t, const, shape, dtype in self.externals:
            a = const if t is None else t._storage.array
            if a.shape != shape or a.dtype != dtype:
                raise TraceError(f"trace({self.name}): a tensor the function reads from outside "
                                 f"was {shape}:{dtype} when traced, is {a.shape}:{a.dtype} now")
            vals[slot] = a
        seconds = self.op_seconds if profiling else None
        for step, dead in zip(self.steps, self._free_after):
            kind = step[0]
            if kind == OP:
                _, op, attrs, ins, outs, device = step
                t0 = time.perf_counter() if seconds is not None else 0.0
                out = op.forward(device.xp, *[vals[s] for s in ins], **attrs)
                if seconds is not None:
                    seconds[op.__name__] = seconds.get(op.__name__, 0.0) + time.perf_counter() - t0
                if op.n_outputs == 1:
                    out = (out,)
                for s, o in zip(outs, out):
                    vals[s] = np.asarray(o) if isinstance(o, np.generic) else o
            elif kind == RANDOM:
                _, rng, method, args, device, slot = step
                array, _ = rng._draw(method, *args)
                vals[slot] = rng._out(array, device)._storage.array
            else:
                _, target, slot = step
                target._reset(core._untracked(vals[slot], self.devices[slot]))
            for s in dead:
                vals[s] = None
        return self._build(self.outputs, vals, inputs)

    def _build(self, out, vals, inputs):
        if type(out) is _Out:
            if out.slot in self.input_slots:  # the function returned one of its inputs
                return inputs[self.input_slots.index(out.slot)]
            return core._untracked(vals[out.slot], self.devices[out.slot])
        if isinstance(out, tuple):
            return tuple(self._build(o, vals, inputs) for o in out)
        if isinstance(out, list):
            return [self._build(o, vals, inputs) for o in out]
        if isinstance(out, dict):
            return {k: self._build(v, vals, inputs) for k, v in out.items()}
        return out


class _Out:
    """A returned Tensor: the slot of its value."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot


def out_slots(out):
    """The slots of the Tensors in a returned structure, in order."""
    if type(out) is _Out:
        return [out.slot]
    if isinstance(out, (tuple, list)):
        return [s for o in out for s in out_slots(o)]
    if isinstance(out, dict):
        return [s for v in out.values() for s in out_slots(v)]
    return []


def reads(step):
    """The slots a step reads."""
    if step[0] == OP:
        return step[3]
    if step[0] == RESET:
        return (step[2],)
    return ()


def writes(step):
    """The slots a step makes."""
    if step[0] == OP:
        return step[4]
    if step[0] == RANDOM:
        return (step[5],)
    return ()


def record(name, events, inputs, outputs, capture_as_const):
    """The Program of one recorded call: its events (watch.py), Tensor inputs and result."""
    return _Builder(capture_as_const).build(name, events, inputs, outputs)


class _Builder:
    def __init__(self, capture_as_const):
        self.capture_as_const = capture_as_const
        self.slot_of = {}   # id(storage) -> slot
        self.keep = []      # storages seen while building (so their ids stay unique)
        self.devices = []
        self.specs = []
        self.externals = []

    def build(self, name, events, inputs, outputs):
        input_slots = [self._new_slot(t) for t in inputs]
        steps = []
        for ev in events:
            if type(ev) is OpEvent:
                ins = [self._slot(t) for t in ev.inputs]
                outs = [self._new_slot(t) for t in ev.outputs]
                steps.append((OP, ev.op, ev.attrs, ins, outs, ev.inputs[0]._storage.device))
            elif type(ev) is RandomEvent:
                steps.append((RANDOM, ev.rng, ev.method, ev.args, ev.device,
                              self._new_slot(ev.output)))
            elif type(ev) is ResetEvent:
                steps.append((RESET, ev.target, self._slot(ev.value)))
            elif type(ev) is AliasEvent:  # the detached tensor is its source's value
                self.keep.append(ev.output._storage)
                self.slot_of[id(ev.output._storage)] = self._slot(ev.source)
        mapped = self._map_outputs(outputs)
        return Program(name, self.devices, self.specs, input_slots, self.externals, steps,
                       mapped)

    def _new_slot(self, t):
        s = t._storage
        slot = self.slot_of.get(id(s))  # (an input passed twice has one slot)
        if slot is None:
            slot = len(self.devices)
            self.devices.append(s.device)
            self.specs.append((tuple(s.array.shape), s.array.dtype))
            self.keep.append(s)
        self.slot_of[id(s)] = slot
        return slot

    def _slot(self, t):
        """The slot of a value an op reads; a new external when nothing made it."""
        slot = self.slot_of.get(id(t._storage))
        if slot is not None:
            return slot
        slot = self._new_slot(t)
        a = t._storage.array
        if self.capture_as_const:
            self.externals.append((slot, None, a.copy(), a.shape, a.dtype))
        else:
            self.externals.append((slot, t, None, a.shape, a.dtype))
        return slot

    def _map_outputs(self, out):
        from ..tensor import Tensor

        if isinstance(out, Tensor):
            return _Out(self._slot(out))
        if isinstance(out, (tuple, list)):
            mapped = [self._map_outputs(o) for o in out]
            return tuple(mapped) if isinstance(out, tuple) else mapped
        if isinstance(out, dict):
            return {k: self._map_outputs(v) for k, v in out.items()}
        return out  # a Python value: returned as recorded
