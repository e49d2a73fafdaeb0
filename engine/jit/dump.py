"""trace.dump: a captured Program (capture_as_const=True) to an engine graph file
(graph_file.py), optimised for inference on the way (passes.py) unless told not to."""
import collections
import hashlib
import json

import numpy as np

from .. import version as _version
from ..utils import naming
from . import graph_file, passes, testcases
from .program import OP, RANDOM, RESET, RESET_INPUT, STEP, Program, _Out, out_slots

DumpInfo = collections.namedtuple(
    "DumpInfo", ["nr_opr", "tot_bytes", "tensor_value_bytes", "content_hash", "inputs",
                 "outputs", "params"])
DumpInfo.__doc__ = """What trace.dump wrote (MegEngine's CompGraphDumpResult): the number of
operators (inputs and constants included, as MegEngine counts), the file's bytes, the bytes of
its constants, a 64-bit hash of the graph and its constants, and the input, output and constant
names."""

# MegEngine's optimize_for_inference options. engine's passes run whenever
# optimize_for_inference is True; these layout / precision / backend switches configure MegEngine's
# graph compiler and are accepted without effect.
INFERENCE_OPTIONS = frozenset({
    "enable_io16xc32", "enable_ioc16", "enable_hwcd4", "enable_nchw4", "enable_nchw88",
    "enable_nchw44", "enable_nchw44_dot", "enable_nchw32", "enable_chwn4", "enable_nchw64",
    "enable_fuse_conv_bias_nonlinearity", "enable_fuse_conv_bias_with_z",
    "enable_fuse_preprocess", "enable_fuse_grain", "enable_weight_preprocess",
})


def dump_metadata(graph_modified, optimized, options):
    """MegEngine's model metadata (engine.utils.network.Network.metadata reads it back):
    whether the graph was edited (Network.dump) or traced (trace.dump), whether it was
    optimized for inference, and with which options."""
    out = {"graph_modified": graph_modified, "optimized_for_inference": bool(optimized)}
    if optimized:
        out.update((k, bool(v)) for k, v in (options or {}).items())
    return out


def dump_program(program, file, arg_names=None, output_names=None, optimize=True,
                 user_info=None, options=None, input_data=None, repeat=1, metadata=None):
    where = f"trace({program.name}).dump"
    unknown = sorted(set(options or ()) - INFERENCE_OPTIONS)
    if unknown:
        raise TypeError(f"{where}: unknown option(s) {unknown}; MegEngine's optimize options are "
                        f"{sorted(INFERENCE_OPTIONS)}")
    in_names = _input_names(where, program, arg_names)
    names, structure = _output_names(where, program, output_names)
    nodes, consts, specs = inference_graph(program, where, optimize)
    returned = out_slots(program.outputs)

    enc = graph_file._Encoder(where)
    cases = []
    if input_data is not None:
        for case in _testcases(program, where, in_names, input_data, repeat):
            cases.append({kind: {k: {"array": enc.array(v)} for k, v in arrays.items()}
                          for kind, arrays in case.items()})
    graph = {
        "format": graph_file.FORMAT, "version": graph_file.VERSION,
        "engine": _version.__version__, "name": program.name,
        "inputs": [{"name": n, "slot": s, "shape": list(specs[s][0]),
                    "dtype": str(np.dtype(specs[s][1])), "device": str(program.devices[s])}
                   for n, s in zip(in_names, program.input_slots)],
        "outputs": enc.value(structure, "the returned value"),
        "output_names": names,
        "constants": [{"slot": s, "array": enc.array(a)} for s, a in sorted(consts.items())],
        "nodes": [_node(enc, n) for n in nodes],
        "specs": {str(s): [list(specs[s][0]), str(np.dtype(specs[s][1]))]
                  for s in _slots_used(nodes, consts, program.input_slots, returned)},
        "user_info": enc.value(user_info, "user_info"),
        "testcases": cases,
        "metadata": metadata,
    }
    counter = _Counter(file)
    graph_file.write(counter.target, graph, enc.arrays)
    # (MegEngine counts every operator of the file: its inputs' Host2DeviceCopy and its
    # constants' ImmutableTensor too, as engine.utils.comp_graph_tools.load_graph shows them)
    return DumpInfo(nr_opr=len(set(program.input_slots)) + len(consts) + len(nodes),
                    tot_bytes=counter.bytes(),
                    tensor_value_bytes=sum(int(a.nbytes) for a in consts.values()),
                    content_hash=_content_hash(graph, enc.arrays),
                    inputs=in_names, outputs=names,
                    params=[f"const_{s}" for s in sorted(consts)])


def inference_graph(program, where, optimize=True):
    """The Program's steps as the passes' nodes (passes.py), its constants (slot -> array) and
    specs (slot -> (shape, dtype)), after the inference passes when optimize. A program that
    updates tensors in place (a training-mode forward) is refused: a dump is for inference."""
    # A graph with a backward inside dumps (its returned gradients are outputs like any
    # other); the .grad it leaves on parameters is a side effect a dumped graph does not have.
    # An optimizer step updates parameters in place: that is training, not a graph.
    if any(s[0] == STEP for s in program.steps):
        raise ValueError(f"{where}: the traced function steps an optimizer (it trains); dump "
                         "a function of the inference forward")
    resets = [s for s in program.steps if s[0] in (RESET, RESET_INPUT)]
    if resets:
        raise ValueError(f"{where}: the traced function updates {len(resets)} tensor(s) in place "
                         "(BatchNorm's running statistics in training mode?); a dumped graph is "
                         "for inference: call model.eval() before tracing it")
    consts = {slot: const for slot, _, const, _, _ in program.externals}
    specs = dict(enumerate(program.specs))
    nodes = []
    for step in program.steps:
        if step[0] == OP:
            _, op, attrs, ins, outs, _ = step
            nodes.append({"op": op, "attrs": attrs, "ins": list(ins), "outs": list(outs)})
        elif step[0] == RANDOM:
            _, _, method, args, _, slot = step
            nodes.append({"random": method, "args": args, "ins": [], "outs": [slot]})
    if optimize:
        nodes = passes.optimize(nodes, consts, specs, set(out_slots(program.outputs)))
    return nodes, consts, specs


def optimized_for_replay(program):
    """The Program after the inference passes (passes.py), for a without_host replay of a
    captured inference graph (capture_as_const, opt_level >= 2, as MegEngine's graph compiler
    optimises): None where they do not apply (a training step, in-place updates, a GPU
    program: the passes fold on the host)."""
    if (program.final_grads or any(s[0] in (RESET, RESET_INPUT, STEP) for s in program.steps)
            or any(d.name != "cpu0" for d in program.devices)):
        return None
    nodes, consts, specs = inference_graph(program, f"trace({program.name})", True)
    randoms = {s[5]: s for s in program.steps if s[0] == RANDOM}
    cpu = program.devices[0] if program.devices else None
    size = max(specs) + 1 if specs else 0
    devices = [program.devices[s] if s < len(program.devices) else cpu for s in range(size)]
    steps = []
    for n in nodes:
        if "random" in n:
            steps.append(randoms[n["outs"][0]])
        else:
            steps.append((OP, n["op"], n["attrs"], n["ins"], n["outs"], cpu))
    externals = [(s, None, a, a.shape, a.dtype) for s, a in sorted(consts.items())]
    spec_list = [specs.get(s, ((), np.dtype(np.float32))) for s in range(size)]
    out = Program(program.name, devices, spec_list, program.input_slots, externals, steps,
                  program.outputs)
    out.tensor_names = program.tensor_names
    return out


def _testcases(program, where, in_names, input_data, repeat):
    """[{"inputs": {name: array}, "outputs": {name: array}}]: input_data's cases and what the
    traced program gives on them."""
    from ..ops import core
    from .watch import returned_tensors

    if program.final_grads:
        raise ValueError(f"{where}: input_data test cases need a graph without a backward")
    inputs = [(n, program.specs[s][0], program.specs[s][1])
              for n, s in zip(in_names, program.input_slots)]
    out = []
    for case in testcases.parse(input_data, inputs, repeat, where):
        for n, shape, _ in inputs:
            if case[n].shape != tuple(shape):
                raise ValueError(f"{where}: input_data gives {n!r} the shape {case[n].shape}, "
                                 f"the graph was traced for {tuple(shape)}")
        tensors = [core._untracked(case[n], program.devices[s])
                   for n, s in zip(in_names, program.input_slots)]
        results = returned_tensors(program.replay(tensors))
        names = _output_names(where, program, None)[0] if not isinstance(
            program.outputs, dict) else [str(k) for k in program.outputs]
        out.append({"inputs": case,
                    "outputs": {k: t.numpy() for k, t in zip(names, results)}})
    return out


def _node(enc, n):
    if "random" in n:
        return {"random": n["random"], "args": enc.value(tuple(n["args"]), "a random draw"),
                "output": n["outs"][0]}
    op = n["op"]
    attrs = {k: enc.value(v, f"attribute {k!r} of {op.__name__}") for k, v in n["attrs"].items()}
    return {"op": graph_file.op_name(op), "attrs": attrs, "inputs": n["ins"],
            "outputs": n["outs"]}


def _slots_used(nodes, consts, input_slots, returned):
    used = set(consts) | set(input_slots) | set(returned)
    for n in nodes:
        used.update(n["ins"])
        used.update(n["outs"])
    return sorted(used)


def _input_names(where, program, arg_names):
    n = len(program.input_slots)
    if arg_names is None:
        return [f"arg_{i}" for i in range(n)]
    if isinstance(arg_names, str):
        arg_names = (arg_names,)
    arg_names = [a if a is not None else f"arg_{i}" for i, a in enumerate(arg_names)]
    if len(arg_names) != n:
        raise ValueError(f"{where}: wrong number of arg_names, should be {n} values (the "
                         f"traced call's Tensor arguments), got {len(arg_names)}")
    if len(set(arg_names)) != n:
        raise ValueError(f"{where}: arg_names must be distinct, got {arg_names}")
    return list(arg_names)


def _output_names(where, program, output_names):
    """The names of the returned Tensors, and the returned structure (unchanged)."""
    out = program.outputs
    n = len(out_slots(out))
    if n == 0:
        raise ValueError("the traced function without return values cannot be dumped, the "
                         "traced function should return List[Tensor] or Dict[str, Tensor]")
    if isinstance(output_names, str):
        output_names = (output_names,)
    if isinstance(out, dict):
        if output_names:
            raise TypeError(f"{where}: cannot specify output_names when the output is already "
                            "a dict (its keys name the outputs)")
        names = [str(k) for k, v in out.items() if type(v) is _Out]
        if len(names) != n:
            raise ValueError(f"{where}: a dict output names its Tensors by its keys; nested "
                             "values need output_names-free flat dicts")
        return names, out
    if output_names:
        output_names = list(output_names)
        if len(output_names) != n:
            raise ValueError(f"{where}: wrong number of output_names, should be {n} values, "
                             f"got {len(output_names)}")
        if len(set(output_names)) != n:
            raise ValueError(f"{where}: output_names must be distinct, got {output_names}")
        return output_names, out
    return _default_names(program, out_slots(out)), out


def _default_names(program, slots):
    """MegEngine's names for unnamed outputs (engine/utils/naming.py): the Tensor's own name,
    else its op's ("ADD"), in AutoNaming's scope, numbered where repeated."""
    made_by = {}
    for step in program.steps:
        if step[0] == OP:
            for s in step[4]:
                made_by[s] = naming.op_display_name(step[1])
        elif step[0] == RANDOM:
            made_by[step[5]] = step[2]
    names = []
    for s in slots:
        name = program.tensor_names.get(s)
        if not name:
            name = naming.AutoNaming.gen_name(made_by.get(s, "const" if s not in
                                                          program.input_slots else "input"))
        names.append(name)
    return naming.unique_names(names)


def _content_hash(graph, arrays):
    h = hashlib.sha256(json.dumps(graph, sort_keys=True, default=str).encode())
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return int.from_bytes(h.digest()[:8], "little")


class _Counter:
    """The file to write, and afterwards how many bytes went into it."""

    def __init__(self, file):
        import os

        self.path = os.fspath(file) if isinstance(file, (str, os.PathLike)) else None
        self.target = file
        self.start = None if self.path else _tell(file)

    def bytes(self):
        import os

        if self.path:
            return os.path.getsize(self.path)
        end = _tell(self.target)
        return None if end is None or self.start is None else end - self.start


def _tell(f):
    try:
        return f.tell()
    except (AttributeError, OSError):
        return None
