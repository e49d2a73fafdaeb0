"""trace(sublinear_memory_config=...): recomputation planned ahead of time on a replayed
program (a training step's), the offline form of DTR's trade: a value that waits long
between two uses (a forward activation the backward reads again) is freed after the first and
recomputed just before the second, from inputs that are alive then anyway.

Only cheap ops are recomputed (elementwise, activations, normalisation, shape and pooling
ops: memory-bound work, a fraction of a conv's), and only where every input of the chain is
alive at the recompute point (a parameter, a value the step reads there anyway) or can itself
be recomputed that way, so no other lifetime grows. Recomputing runs the same kernels on the
same inputs: the step's results are bit for bit those without the plan. The greedy order
takes the biggest bytes x waiting time first (DTR's cost model with the wait known in
advance).
"""
from .program import OP, STEP, Program, reads, writes

_CHEAP_MODULES = ("elemwise", "nn", "norm", "shape", "pooling")
_MAX_DEPTH = 3


def _cheap(op):
    return op.__module__.rsplit(".", 1)[-1] in _CHEAP_MODULES


def plan(program, min_bytes=1 << 16, min_gap=8):
    """The program with recomputations inserted (a new Program), or the program itself when
    nothing qualifies."""
    steps = list(program.steps)
    devices, specs = list(program.devices), list(program.specs)
    always = set(program.input_slots) | {e[0] for e in program.externals} | \
        set(program.output_slots)
    changed = False
    tried = set()
    while True:
        producer, uses = _index(steps)
        best = None
        for v, p in producer.items():
            if v in always or v in tried or not _cheap(steps[p][1]):
                continue
            nbytes = _nbytes(specs[v])
            if nbytes < min_bytes:
                continue
            points = [p] + uses.get(v, [])
            gaps = [(b - a, a, b) for a, b in zip(points, points[1:]) if b - a >= min_gap]
            if gaps:
                gap, a, b = max(gaps)
                score = nbytes * gap
                if best is None or score > best[0]:
                    best = (score, v, a, b)
        if best is None:
            break
        _, v, a, b = best
        tried.add(v)
        new = _materialise(v, b, steps, producer, uses, always, devices, specs, 0)
        if new is None:
            continue
        inserted, slot = new
        # every use of v from b on reads the recomputed value instead
        tail = [_rename(s, v, slot) for s in steps[b:]]
        steps = steps[:b] + inserted + tail
        tried.add(slot)
        changed = True
    if not changed:
        return program
    out = Program(program.name, devices, specs, program.input_slots, program.externals, steps,
                  program.outputs, program.final_grads)
    out.tensor_names = program.tensor_names
    return out


def _index(steps):
    producer, uses = {}, {}
    for i, s in enumerate(steps):
        for slot in reads(s):
            uses.setdefault(slot, []).append(i)
        if s[0] == OP:
            for slot in writes(s):
                producer[slot] = i
    return producer, uses


def _nbytes(spec):
    shape, dtype = spec
    n = 1
    for d in shape:
        n *= d
    return n * dtype.itemsize


def _alive_at(u, b, uses, always):
    return u in always or any(i >= b for i in uses.get(u, ()))


def _materialise(v, b, steps, producer, uses, always, devices, specs, depth):
    """([steps to insert before b], the slot holding v's value there), or None."""
    p = producer.get(v)
    if p is None or depth >= _MAX_DEPTH or not _cheap(steps[p][1]):
        return None
    _, op, attrs, ins, outs, device = steps[p]
    inserted, new_ins = [], []
    for u in ins:
        if _alive_at(u, b, uses, always):
            new_ins.append(u)
            continue
        sub = _materialise(u, b, steps, producer, uses, always, devices, specs, depth + 1)
        if sub is None:
            return None
        inserted += sub[0]
        new_ins.append(sub[1])
    new_outs = []
    for s in outs:
        new_outs.append(len(devices))
        devices.append(devices[s])
        specs.append(specs[s])
    inserted.append((OP, op, attrs, new_ins, new_outs, device))
    return inserted, new_outs[outs.index(v)]


def _rename(step, old, new):
    if step[0] != OP:
        if old in reads(step):
            kind = step[0]
            if kind == STEP:  # (STEP, optimizer, [(param, slot)])
                return (kind, step[1], [(p, new if s == old else s) for p, s in step[2]])
            return step[:2] + (new,)  # RESET / RESET_INPUT: (kind, target, slot)
        return step
    _, op, attrs, ins, outs, device = step
    return (OP, op, attrs, [new if s == old else s for s in ins], outs, device)
