"""A Program (program.py) as one generated Python function: the replay's straight line of op
calls on local variables, each value deleted after its last reader.

Interpreting the steps costs more per op than the op's own dispatch in eager mode (unpacking
each step, indexing a list of values, a keyword call); a generated function pays only the call
of each op's forward, bound beforehand to its array module and attributes (functools.partial).

    run = generate(program)      # run(tensors, inputs, externals) -> (outputs, final grads)
"""
import functools
import time

import numpy as np

from ..ops import core
from .program import OP, RANDOM, RESET, RESET_INPUT, STEP, out_slots, reads, writes


def _as_array(o):
    return np.asarray(o) if isinstance(o, np.generic) else o  # (a 0-d result of numpy)


def _timed(fn, name, seconds):
    def timed(*args):
        t0 = time.perf_counter()
        out = fn(*args)
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0
        return out
    return timed


def _random(rng, method, args, device):
    def draw():
        array, _ = rng._draw(method, *args)
        return rng._out(array, device)._storage.array
    return draw


def _step(optimizer, params, devices):
    from .program import _plain_step

    def step(grads):
        for p, g, d in zip(params, grads, devices):
            p.grad = None if g is None else core._untracked(g, d)
        _plain_step(optimizer)
    return step


def _reset(target, device):
    def reset(a):
        target._reset(core._untracked(a, device))
    return reset


def _reset_input(device):
    def reset(tensors, k, a):
        tensors[k]._reset(core._untracked(a, device))
    return reset


def generate(program, seconds=None):
    """The replay of program as a function run(tensors, inputs, externals): inputs and
    externals are the arrays of program.input_slots and program.externals, in order; tensors
    the call's input Tensors (for in-place updates of an input). Returns ({slot: array} of the
    returned slots, [array or None] of program.final_grads). seconds: a dict to add each op's
    time to (profiling)."""
    slots = set(program.input_slots) | {e[0] for e in program.externals} | set(
        program.output_slots)
    for step in program.steps:
        slots.update(reads(step))
        slots.update(writes(step))
    if any(type(s) is not int or s < 0 for s in slots):  # (only numbers enter the source)
        raise ValueError(f"trace({program.name}): a slot is not a non-negative int")
    env = {"_as_array": _as_array}
    lines = ["def run(tensors, inputs, externals):"]
    if program.input_slots:
        lines.append("    " + ", ".join(f"v{s}" for s in program.input_slots) + ", = inputs")
    if program.externals:
        lines.append("    " + ", ".join(f"v{e[0]}" for e in program.externals) +
                     ", = externals")
        # (the list lets go of them: a parameter's array referenced from here after its last
        # read would make the optimizer's in-place update copy it, engine/optim/_inplace.py)
        lines.append("    externals.clear()")
    for i, (step, dead) in enumerate(zip(program.steps, program._free_after)):
        kind = step[0]
        if kind == OP:
            _, op, attrs, ins, outs, device = step
            fn = functools.partial(op.forward, device.xp, **attrs)
            env[f"f{i}"] = _timed(fn, op.__name__, seconds) if seconds is not None else fn
            call = f"f{i}({', '.join(f'v{s}' for s in ins)})"
            if op.n_outputs == 1:
                wrap = program.specs[outs[0]][0] == ()
                lines.append(f"    v{outs[0]} = {'_as_array(' + call + ')' if wrap else call}")
            else:
                lines.append(f"    {', '.join(f'v{s}' for s in outs)}, = {call}")
                lines += [f"    v{s} = _as_array(v{s})" for s in outs
                          if program.specs[s][0] == ()]
        elif kind == RANDOM:
            _, rng, method, args, device, slot = step
            env[f"r{i}"] = _random(rng, method, args, device)
            lines.append(f"    v{slot} = r{i}()")
        elif kind == STEP:
            _, optimizer, grads = step
            env[f"s{i}"] = _step(optimizer, [p for p, _ in grads],
                                 [None if s is None else program.devices[s] for _, s in grads])
            values = ", ".join("None" if s is None else f"v{s}" for _, s in grads)
            lines.append(f"    s{i}(({values},))" if grads else f"    s{i}(())")
        elif kind == RESET:
            _, target, slot = step
            env[f"t{i}"] = _reset(target, program.devices[slot])
            lines.append(f"    t{i}(v{slot})")
        elif kind == RESET_INPUT:
            _, k, slot = step
            env[f"t{i}"] = _reset_input(program.devices[slot])
            lines.append(f"    t{i}(tensors, {k}, v{slot})")
        if dead:
            lines.append("    del " + ", ".join(f"v{s}" for s in dead))
    returned = sorted(set(out_slots(program.outputs)))
    lines.append("    return {" + ", ".join(f"{s}: v{s}" for s in returned) + "}, [" +
                 ", ".join("None" if s is None else f"v{s}" for _, s in program.final_grads) +
                 "]")
    source = "\n".join(lines) + "\n"
    code = compile(source, f"<trace {program.name}>", "exec")
    exec(code, env)  # noqa: S102 (our own generated source: names and slot numbers only)
    return env["run"]
