"""engine.onnx.export: a traced inference graph as an ONNX model (opset 17), for onnxruntime,
TensorRT and the rest of the ONNX world.

    engine.onnx.export(model, "model.onnx", example_inputs=(images,))
    engine.onnx.export(traced_fn, "model.onnx")     # a trace(capture_as_const=True), called once

The graph is the one trace.dump writes (engine/jit/dump.py), after the same inference passes
(BatchNorm folded into the conv, constants folded); each engine op becomes ONNX nodes through
engine/onnx/converters.py. Shapes are the traced ones (static). An op with no converter is
named in the error. Needs the `onnx` package.
"""
import numpy as np

from ..jit.dump import inference_graph
from ..jit.program import out_slots
from ..jit.tracing import trace
from .converters import CONVERTERS

__all__ = ["export", "OPSET"]

OPSET = 17


def export(model, file, example_inputs=None, input_names=None, output_names=None,
           opset_version=OPSET, optimize=True, producer_name="engine"):
    """Writes model as ONNX.

    Args:
        model: a trace(capture_as_const=True) already called once, or a Module / function that
            is traced here on example_inputs (put a Module in eval() mode first).
        file: a path or a binary file object.
        example_inputs: the Tensors (a tuple, or one Tensor) to trace model with; not used for
            a trace.
        input_names / output_names: ONNX names of the Tensor inputs / returned Tensors
            (default: a trace's dump names, arg_i / output_i).
        opset_version: the ONNX opset (17 or newer; the converters use opset 17 forms).
        optimize: run the inference passes first (as trace.dump's optimize_for_inference).

    Returns:
        the onnx.ModelProto written.
    """
    try:
        import onnx
    except ImportError:
        raise ImportError("engine.onnx.export needs the onnx package: pip install onnx") \
            from None
    if opset_version < OPSET:
        raise ValueError(f"engine.onnx.export: opset_version must be >= {OPSET}, got "
                         f"{opset_version}")
    program = _program(model, example_inputs)
    where = f"engine.onnx.export({program.name})"
    nodes, consts, specs = inference_graph(program, where, optimize)
    ctx = _Context(onnx, where, consts, specs, nodes)
    ins = _names(input_names, len(program.input_slots), "arg", "input_names", where)
    outs = out_slots(program.outputs)
    onames = _names(output_names, len(outs), "output", "output_names", where)
    for slot, name in zip(program.input_slots, ins):
        ctx.names[slot] = name
    for slot, name in zip(outs, onames):
        if slot not in ctx.names and slot not in consts:  # (a returned input or constant
            ctx.names[slot] = name                        # gets an Identity node below)
    random = [n["random"] for n in nodes if "random" in n]
    if random:
        raise NotImplementedError(f"{where}: random draws ({', '.join(random)}) have no ONNX "
                                  "form; trace the model in eval() mode")
    missing = sorted({n["op"].__name__ for n in nodes if n["op"] not in CONVERTERS})
    if missing:
        raise NotImplementedError(f"{where}: no ONNX conversion for op(s) {', '.join(missing)}")
    for n in nodes:
        CONVERTERS[n["op"]](ctx, n)
    if ctx.problems:
        raise NotImplementedError(f"{where}: cannot convert: {'; '.join(ctx.problems)}")
    for slot, name in zip(outs, onames):
        if ctx.name(slot) != name:  # (a returned input or constant)
            ctx.node("Identity", [ctx.name(slot)], [name])
    graph = onnx.helper.make_graph(
        ctx.onnx_nodes, program.name.replace("<", "").replace(">", ""),
        [ctx.value_info(name, slot) for slot, name in zip(program.input_slots, ins)],
        [ctx.value_info(name, slot) for slot, name in zip(outs, onames)],
        initializer=ctx.initializers)
    proto = onnx.helper.make_model(graph, producer_name=producer_name,
                                   opset_imports=[onnx.helper.make_opsetid("", opset_version)])
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    if hasattr(file, "write"):
        file.write(data)
    else:
        from ..jit.graph_file import write_bytes

        write_bytes(file, data)
    return proto


def _program(model, example_inputs):
    if isinstance(model, trace):
        rec = model._newest
        if not model.capture_as_const:
            raise ValueError("engine.onnx.export: the trace needs capture_as_const=True")
        if rec is None:
            raise ValueError("engine.onnx.export: the trace has not been called yet")
        if rec.program is None:
            raise ValueError(f"engine.onnx.export: the traced call cannot be exported: "
                             f"{rec.no_program_why}")
        return rec.program
    if not callable(model):
        raise TypeError(f"engine.onnx.export: expected a trace, Module or function, got "
                        f"{type(model).__name__}")
    if example_inputs is None:
        raise ValueError("engine.onnx.export: example_inputs are needed to trace a Module or "
                         "function")
    if not isinstance(example_inputs, (tuple, list)):
        example_inputs = (example_inputs,)
    traced = trace(model, capture_as_const=True)
    traced(*example_inputs)
    return _program(traced, None)


def _names(given, n, prefix, what, where):
    if given is None:
        return [f"{prefix}_{i}" for i in range(n)]
    given = [given] if isinstance(given, str) else list(given)
    if len(given) != n or len(set(given)) != n:
        raise ValueError(f"{where}: {what} must be {n} distinct names, got {given}")
    return given


_ONNX_DTYPES = {"float32": 1, "uint8": 2, "int8": 3, "uint16": 4, "int16": 5, "int32": 6,
                "int64": 7, "bool": 9, "float16": 10, "float64": 11, "uint32": 12,
                "uint64": 13, "bfloat16": 16}


class _Context:
    """What converters emit through: value names, constants, nodes; and what they read:
    shapes, dtypes, constant values, whether a value is read later."""

    def __init__(self, onnx, where, consts, specs, nodes):
        self.onnx, self.where = onnx, where
        self.consts, self.specs = consts, specs
        self.names = {}
        self.onnx_nodes, self.initializers = [], []
        self.problems = []
        self._count = 0
        self._read = {s for n in nodes for s in n["ins"]}

    def name(self, slot):
        """The ONNX name of a value; a constant becomes an initializer when first named (a
        converter that reads a constant's value instead, as conv's bias, leaves none unused)."""
        name = self.names.get(slot)
        if name is None:
            name = self.names[slot] = (self.const(self.consts[slot], f"const_{slot}")
                                       if slot in self.consts else f"v{slot}")
        return name

    def temp(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, array, hint):
        name = self.temp(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op_type, inputs, outputs, **attrs):
        self.onnx_nodes.append(self.onnx.helper.make_node(op_type, inputs, outputs,
                                                          name=self.temp(op_type), **attrs))

    def shape(self, slot):
        return tuple(self.specs[slot][0])

    def dtype(self, slot):
        return np.dtype(self.specs[slot][1])

    def is_const(self, slot):
        return slot in self.consts

    def value(self, slot):
        return self.consts[slot]

    def is_read(self, slot):
        return slot in self._read

    def onnx_dtype(self, dtype):
        code = _ONNX_DTYPES.get(str(np.dtype(dtype)))
        if code is None:
            self.unsupported(f"dtype {dtype}")
            return 1
        return code

    def unsupported(self, what):
        self.problems.append(what)

    def value_info(self, name, slot):
        return self.onnx.helper.make_tensor_value_info(name, self.onnx_dtype(self.dtype(slot)),
                                                       list(self.shape(slot)))
