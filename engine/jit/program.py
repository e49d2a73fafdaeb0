"""A recorded call as a static program over backend arrays, and its replay (trace's
without_host=True): each op's forward on arrays, with no Tensor, Module, tape or Python of the
traced function in between, every intermediate freed after its last use.

Values are numbered slots: the call's Tensor inputs, the values it read from outside (parameters
and buffers, read from their Tensor at each replay unless captured as constants), and what each
op, random draw and in-place update produced.

A training step replays too: its backward is ops like the forward's (the tape only decided
which ops to run); an optimizer step is one host step that hands the parameters their
gradients' slots and calls the optimizer (which reads its learning rate and state then); when
the call returns, each parameter's .grad is what the recorded call left there.
"""
import numpy as np

from ..ops import core
from .watch import AliasEvent, OpEvent, RandomEvent, ResetEvent, StepEvent, TraceError

OP, RANDOM, RESET, RESET_INPUT, STEP = 0, 1, 2, 3, 4


class Program:
    """A straight-line program over numbered value slots.

    devices: slot -> device; specs: slot -> (shape, dtype) as recorded. input_slots: the slots
    of the call's Tensor inputs, in order.
    externals: (slot, Tensor or None, constant array or None, shape, dtype) per value read from
    outside: a Tensor is read again at each replay, a constant is fixed. steps: in order,
    (OP, op class, attrs, input slots, output slots, device), (RANDOM, rng, method, args, device,
    slot), (RESET, target Tensor, slot), (RESET_INPUT, input index, slot) or (STEP, optimizer,
    [(parameter, gradient slot or None)]). outputs: the returned structure, Tensors as _Out.
    final_grads: [(parameter, gradient slot or None)], each parameter's .grad when the call
    returns (a training step's).
    """

    def __init__(self, name, devices, specs, input_slots, externals, steps, outputs,
                 final_grads=()):
        self.name = name
        self.final_grads = list(final_grads)
        self.devices = devices
        self.specs = specs
        self.input_slots = input_slots
        self.externals = externals
        self.steps = steps
        self.outputs = outputs
        self.output_slots = set(out_slots(outputs))
        self.output_slots.update(s for _, s in self.final_grads if s is not None)
        self.tensor_names = {}  # returned slot -> the name its Tensor had (dump's var names)
        self._free_after = self._liveness()
        self.op_seconds = {}
        self._compiled = {}  # profiling -> the generated replay (codegen.py)
        # the externals apart (replay reads the Tensors and checks the specs on every call)
        self._external_tensors = [t for _, t, _, _, _ in externals]
        self._external_consts = [c for _, _, c, _, _ in externals]
        self._external_specs = [(shape, dtype) for _, _, _, shape, dtype in externals]

    def _liveness(self):
        """For each step, the slots whose last reader it is (freed right after it); a value
        nothing reads is freed right after the step that makes it."""
        last = {}
        for i, step in enumerate(self.steps):
            for slot in writes(step):
                last.setdefault(slot, i)
            for slot in reads(step):
                last[slot] = i
        free = [[] for _ in self.steps]
        for slot, i in last.items():
            if slot not in self.output_slots:
                free[i].append(slot)
        return free

    # ------------------------------------------------------------------ replay
    def replay(self, inputs, profiling=False):
        for p, _ in self.final_grads:
            if p.grad is not None:
                raise TraceError(f"trace({self.name}): a parameter of shape {tuple(p.shape)} "
                                 "has a gradient before the call; the recorded call started "
                                 "with none and a replay does not add to it: clear the "
                                 "gradients between calls (opt.clear_grad())")
        externals = [c if t is None else t._storage.array
                     for t, c in zip(self._external_tensors, self._external_consts)]
        if [(a.shape, a.dtype) for a in externals] != self._external_specs:
            for a, (shape, dtype) in zip(externals, self._external_specs):
                if a.shape != shape or a.dtype != dtype:
                    raise TraceError(f"trace({self.name}): a tensor the function reads from "
                                     f"outside was {shape}:{dtype} when traced, is "
                                     f"{a.shape}:{a.dtype} now")
        run = self._compiled.get(profiling)
        if run is None:
            from .codegen import generate

            run = self._compiled[profiling] = generate(self, self.op_seconds if profiling
                                                       else None)
        vals, grads = run(inputs, [t._storage.array for t in inputs], externals)
        for (p, _), g in zip(self.final_grads, grads):
            p.grad = None if g is None else core._untracked(g, p._storage.device)
        return self._build(self.outputs, vals, inputs)

    def _build(self, out, vals, inputs):
        if type(out) is _Out:
            if out.slot in self.input_slots:  # the function returned one of its inputs
                return inputs[self.input_slots.index(out.slot)]
            a = vals[out.slot]
            if isinstance(a, np.generic):  # (a 0-d result of a graph built without its shapes)
                a = np.asarray(a)
            return core._untracked(a, self.devices[out.slot])
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


def _plain_step(optimizer):
    from ..optimizer import Optimizer

    Optimizer.step(optimizer)


def reads(step):
    """The slots a step reads."""
    if step[0] == OP:
        return step[3]
    if step[0] in (RESET, RESET_INPUT):
        return (step[2],)
    if step[0] == STEP:
        return [s for _, s in step[2] if s is not None]
    return ()


def writes(step):
    """The slots a step makes."""
    if step[0] == OP:
        return step[4]
    if step[0] == RANDOM:
        return (step[5],)
    return ()


def record(name, events, input_storages, outputs, capture_as_const, final_grads=(),
           prior_grads=(), host_made=None, fills=()):
    """The Program of one recorded call: its events (watch.py), its Tensor inputs' Storages when
    it began, and its result; for a training step the parameters' gradients when it returned
    (watch.grads_of) and the gradients its backward added to (prior_grads). host_made: the
    Storages of the Tensors the call built from host data, when the program is to replay
    without the function: one an op reads is refused (it would be frozen at its first value)
    unless it is a constant fill (fills: their ids; F.full and kin)."""
    return _Builder(name, capture_as_const, host_made, fills).build(
        events, input_storages, outputs, final_grads, prior_grads)


class _Builder:
    def __init__(self, name, capture_as_const, host_made=None, fills=()):
        self.name = name
        self.host_made = host_made or {}
        self.fills = fills
        self.capture_as_const = capture_as_const
        self.made = set()       # slots a step of the call (or an input) made
        self.real_targets = set()  # ids of tensors from before the call updated in place
        self.stepped = set()    # ids of parameters an optimizer step updated
        self.slot_of = {}   # id(storage) -> slot
        self.keep = []      # storages seen while building (so their ids stay unique)
        self.devices = []
        self.specs = []
        self.externals = []

    def build(self, events, input_storages, outputs, final_grads, prior_grads):
        input_slots = [self._new_slot(s) for s in input_storages]
        steps = []
        for ev in events:
            if type(ev) is OpEvent:
                ins = [self._slot(t, st) for t, st in zip(ev.inputs, ev.in_st)]
                outs = [self._made(st) for st in ev.out_st]
                steps.append((OP, ev.op, ev.attrs, ins, outs, ev.in_st[0].device))
            elif type(ev) is RandomEvent:
                steps.append((RANDOM, ev.rng, ev.method, ev.args, ev.device,
                              self._made(ev.out_st)))
            elif type(ev) is ResetEvent:
                step = self._reset(ev, input_slots)
                if step is not None:
                    steps.append(step)
            elif type(ev) is StepEvent:
                steps.append((STEP, ev.optimizer, self._grads(ev.grads, "optimizer.step()")))
                self.stepped.update(id(p) for p, _ in ev.grads)
            elif type(ev) is AliasEvent:  # the detached tensor is its source's value
                self.keep.append(ev.out_st)
                self.slot_of[id(ev.out_st)] = self._slot(ev.source, ev.source_st)
        for g in prior_grads:
            slot = self.slot_of.get(id(g._storage))
            if slot is None or slot not in self.made:
                raise TraceError(f"trace({self.name}, without_host=True): the backward adds to a "
                                 "gradient from before the call; clear the gradients before it "
                                 "(opt.clear_grad())")
        final = self._grads(final_grads, "the gradients left when the call returns")
        self.tensor_names = {}
        mapped = self._map_outputs(outputs)
        program = Program(self.name, self.devices, self.specs, input_slots, self.externals,
                          steps, mapped, final)
        program.tensor_names = self.tensor_names
        return program

    def _made(self, storage):
        slot = self._new_slot(storage)
        self.made.add(slot)
        return slot

    def _reset(self, ev, input_slots):
        """The step of target._reset(value), or None when the target was made by this call
        (a gradient clipped in place): its new value is value's slot already."""
        value = self._slot(ev.value, ev.value_st)
        old = self.slot_of.get(id(ev.old))
        if id(ev.target) in self.real_targets or old is None or old not in self.made:
            if old in input_slots:
                return (RESET_INPUT, input_slots.index(old), value)
            self.real_targets.add(id(ev.target))
            return (RESET, ev.target, value)
        return None

    def _grads(self, grads, what):
        out = []
        for p, storage in grads:
            slot = None
            if storage is not None:
                slot = self.slot_of.get(id(storage))
                if slot is None or slot not in self.made:
                    raise TraceError(f"trace({self.name}, without_host=True): {what} uses a "
                                     f"gradient (of a parameter of shape {tuple(p.shape)}) that "
                                     "the call did not compute")
            out.append((p, slot))
        return out

    def _new_slot(self, s):
        slot = self.slot_of.get(id(s))  # (an input passed twice has one slot)
        if slot is None:
            slot = len(self.devices)
            self.devices.append(s.device)
            self.specs.append((tuple(s.array.shape), s.array.dtype))
            self.keep.append(s)
        self.slot_of[id(s)] = slot
        return slot

    def _slot(self, t, storage):
        """The slot of the value (storage) of t an op reads; a new external when nothing made
        it: t (a parameter, a buffer) is read again at each replay."""
        slot = self.slot_of.get(id(storage))
        if id(t) in self.stepped and slot not in self.made:
            raise TraceError(f"trace({self.name}, without_host=True): the call reads a "
                             "parameter after the optimizer step updated it; a replay reads "
                             "parameters before it")
        if slot is not None:
            return slot
        a = storage.array
        if id(storage) in self.host_made and id(storage) not in self.fills:
            raise TraceError(f"trace({self.name}, without_host=True): the call builds a Tensor "
                             f"of shape {tuple(a.shape)} from host data (numpy or Python "
                             "values); a replay would use its first value on every call. Build "
                             "it outside the traced function and pass it in, or trace with "
                             "without_host=False (the default)")
        slot = self._new_slot(storage)
        if self.capture_as_const:
            self.externals.append((slot, None, a.copy(), a.shape, a.dtype))
        else:
            self.externals.append((slot, t, None, a.shape, a.dtype))
        return slot

    def _map_outputs(self, out):
        from ..tensor import Tensor

        if isinstance(out, Tensor):
            slot = self._slot(out, out._storage)
            if out.name:
                self.tensor_names[slot] = out.name
            return _Out(slot)
        if isinstance(out, (tuple, list)):
            mapped = [self._map_outputs(o) for o in out]
            return tuple(mapped) if isinstance(out, tuple) else mapped
        if isinstance(out, dict):
            return {k: self._map_outputs(v) for k, v in out.items()}
        return out  # a Python value: returned as recorded
