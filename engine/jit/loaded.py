"""engine.jit.load: a dumped graph file (trace.dump) as a callable model that needs none of the
model's Python code, only engine's ops.

    model = engine.jit.load("resnet.mge")
    logits = model(images)                       # Tensors (or arrays) by position or arg name
    model.run(images)                            # {output name: numpy array} (GraphInference's)

The graph runs as a replayed program (program.py): each op's forward on arrays in the recorded
order, each intermediate freed after its last use. Inputs must have the recorded shapes and
dtypes (the ops' attributes were fixed for them when the graph was traced).
"""
import collections

import numpy as np

from .. import device as _device
from ..random import _default as _default_rng
from ..tensor import Tensor
from . import graph_file
from .program import OP, RANDOM, Program, out_slots
from .watch import returned_tensors

InputSpec = collections.namedtuple("InputSpec", ["name", "shape", "dtype"])


def _check_defined(where, input_slots, externals, steps, outputs):
    """Every slot read is an input, a constant or made by an earlier node."""
    from .program import reads, writes

    defined = set(input_slots) | {e[0] for e in externals}
    for i, step in enumerate(steps):
        missing = [s for s in reads(step) if s not in defined]
        if missing:
            raise graph_file.GraphFileError(f"{where}: the graph is malformed (node {i} reads "
                                            f"slot(s) {missing} before anything makes them)")
        defined.update(writes(step))
    missing = [s for s in out_slots(outputs) if s not in defined]
    if missing:
        raise graph_file.GraphFileError(f"{where}: the graph is malformed (outputs {missing} "
                                        "are never made)")


def load(file, device=None):
    """Loads a graph file written by trace.dump.

    Args:
        file: a path or a binary file object.
        device: where the graph runs ("cpu0", "gpu0", ...); default: engine's default device.

    Returns:
        a GraphModel.
    """
    archive = graph_file.Archive(file)
    try:
        return GraphModel(archive, _device.get(device) if device is not None
                          else _device.get_default_device_obj())
    finally:
        archive.close()


class GraphModel:
    """A loaded graph. Attributes: name, inputs (InputSpec list), output_names, ops (the op
    names in run order), user_info, testcases (dump's input_data with their outputs)."""

    def __init__(self, archive, device):
        g, where = archive.graph, archive.where
        dec = archive.decode
        self.device = device
        try:
            specs = {graph_file.slot(int(s), where): (tuple(shape), graph_file._dtype(dt, where))
                     for s, (shape, dt) in g["specs"].items()}
            size = max(specs) + 1 if specs else 0

            def slot(v):
                v = graph_file.slot(v, where)
                if v not in specs:
                    raise graph_file.GraphFileError(f"{where}: the graph is malformed (slot {v} "
                                                    "has no spec)")
                return v
            self.inputs = [InputSpec(i["name"], tuple(i["shape"]),
                                     graph_file._dtype(i["dtype"], where)) for i in g["inputs"]]
            input_slots = [slot(i["slot"]) for i in g["inputs"]]
            externals = []
            for c in g["constants"]:
                a = archive.array(c["array"])
                k = slot(c["slot"])
                if specs[k][0] != a.shape:
                    raise graph_file.GraphFileError(f"{where}: constant {k} has shape "
                                                    f"{a.shape}, its spec says {specs[k]}")
                a = Tensor(a, dtype=a.dtype, device=device)._storage.array
                externals.append((k, None, a, a.shape, a.dtype))
            steps, self.ops = [], []
            for n in g["nodes"]:
                if "random" in n:
                    if n["random"] not in graph_file.RANDOM_METHODS:
                        raise graph_file.GraphFileError(f"{where}: unknown random draw "
                                                        f"{n['random']!r}")
                    steps.append((RANDOM, _default_rng, n["random"], dec(n["args"]), device,
                                  slot(n["output"])))
                    self.ops.append(f"random.{n['random']}")
                else:
                    op = graph_file.op_by_name(n["op"], where)
                    attrs = {k: dec(v) for k, v in n["attrs"].items()}
                    steps.append((OP, op, attrs, [slot(s) for s in n["inputs"]],
                                  [slot(s) for s in n["outputs"]], device))
                    self.ops.append(op.__name__)
            outputs = dec(g["outputs"])
            for s in out_slots(outputs):
                slot(s)
            _check_defined(where, input_slots, externals, steps, outputs)
            self.output_names = list(g["output_names"])
            self.name = g.get("name", "")
            self.user_info = dec(g.get("user_info"))
            # trace.dump's input_data: [{"inputs": {name: array}, "outputs": {name: array}}]
            self.testcases = [{kind: {k: dec(v) for k, v in arrays.items()}
                               for kind, arrays in case.items()}
                              for case in g.get("testcases", [])]
        except (KeyError, TypeError, ValueError, IndexError) as e:
            if isinstance(e, graph_file.GraphFileError):
                raise
            raise graph_file.GraphFileError(f"{where}: the graph is malformed ({type(e).__name__}"
                                            f": {e})") from None
        devices = [device] * size
        spec_list = [specs.get(s, ((), np.dtype(np.float32))) for s in range(size)]
        self._program = Program(self.name, devices, spec_list, input_slots, externals, steps,
                                outputs)
        self._output_slots = out_slots(outputs)

    def __repr__(self):
        ins = ", ".join(f"{i.name}: {i.shape}:{i.dtype}" for i in self.inputs)
        return f"GraphModel({self.name!r}, inputs=[{ins}], outputs={self.output_names})"

    def _tensors(self, args, kwargs):
        fn = f"GraphModel({self.name})"
        if len(args) > len(self.inputs):
            raise TypeError(f"{fn}: takes {len(self.inputs)} inputs "
                            f"({[i.name for i in self.inputs]}), got {len(args)}")
        given = dict(zip([i.name for i in self.inputs], args))
        for k, v in kwargs.items():
            if k in given:
                raise TypeError(f"{fn}: input {k!r} given twice")
            if k not in {i.name for i in self.inputs}:
                raise TypeError(f"{fn}: no input named {k!r}; inputs are "
                                f"{[i.name for i in self.inputs]}")
            given[k] = v
        missing = [i.name for i in self.inputs if i.name not in given]
        if missing:
            raise TypeError(f"{fn}: missing input(s) {missing}")
        tensors = []
        for spec in self.inputs:
            v = given[spec.name]
            if isinstance(v, Tensor):
                if v.dtype != spec.dtype:
                    raise TypeError(f"{fn}: input {spec.name!r} is {v.dtype}, the graph takes "
                                    f"{spec.dtype}")
                if v._storage.device is not self.device:
                    v = v.to(self.device.name)
            else:
                v = Tensor(np.asarray(v), dtype=spec.dtype, device=self.device)
            if tuple(v.shape) != spec.shape:
                raise ValueError(f"{fn}: input {spec.name!r} has shape {tuple(v.shape)}, the "
                                 f"graph was traced for {spec.shape}")
            tensors.append(v)
        return tensors

    def __call__(self, *args, **kwargs):
        """The outputs, in the traced function's structure, as Tensors."""
        return self._program.replay(self._tensors(args, kwargs))

    def run(self, *inp_args, inp_dict=None):
        """{output name: numpy array} for inputs by position and/or by name (inp_dict), as
        MegEngine's GraphInference.run."""
        out = self._program.replay(self._tensors(inp_args, inp_dict or {}))
        flat = returned_tensors(out)
        return collections.OrderedDict((n, t.numpy()) for n, t in zip(self.output_names, flat))
