"""MegEngine's comp_graph_tools (``import engine.utils.comp_graph_tools as cgtools``) over engine's
graph files (engine.jit's dump format): GraphInference to run one, and a read-only view of its
graph (load_graph, VarNode / OpNode) for the traversal helpers.

Op types are engine's op names ("Conv2d", "Conv2dRelu", "Add", ...); a graph input is owned by
a "Host2DeviceCopy" op and a constant by an "ImmutableTensor", as in MegEngine, so code that
looks for inputs or parameters by those names works unchanged. The graph is the dumped one:
ops that an optimised dump folded away are not in it.
"""
import collections

from ..jit import graph_file
from ..jit.loaded import GraphModel, load
from ..jit.program import out_slots

__all__ = ["GraphInference", "load_graph", "VarNode", "OpNode", "get_dep_vars",
           "get_owner_opr_inputs", "get_owner_opr_type", "get_opr_type", "get_oprs_seq",
           "graph_traversal"]


class OpNode:
    """An op of a loaded graph: type, name, inputs and outputs (VarNodes), params (attributes)."""

    def __init__(self, id, type, name, params):
        self.id, self.type, self.name, self.params = id, type, name, params
        self.inputs, self.outputs = [], []

    def __repr__(self):
        return f"OpNode({self.name!r}, type={self.type!r})"


class VarNode:
    """A value of a loaded graph: name, shape, dtype, owner (the OpNode that makes it)."""

    def __init__(self, id, name, shape, dtype):
        self.id, self.name, self.shape, self.dtype = id, name, shape, dtype
        self.owner = None
        self.value = None  # a constant's array (ImmutableTensor); None for computed values

    def __repr__(self):
        return f"VarNode({self.name!r}, shape={self.shape}, dtype={self.dtype})"


LoadedGraph = collections.namedtuple("LoadedGraph", ["graph", "output_vars_list",
                                                     "output_vars_map"])


def load_graph(file):
    """The graph of an engine graph file as VarNodes and OpNodes (MegEngine's G.load_graph):
    LoadedGraph(graph, output_vars_list, output_vars_map)."""
    archive = graph_file.Archive(file)
    try:
        g = archive.graph
        specs = {int(s): (tuple(shape), dt) for s, (shape, dt) in g["specs"].items()}
        vars, oprs = {}, []

        def var(slot, name=None):
            v = vars.get(slot)
            if v is None:
                shape, dt = specs.get(slot, ((), "float32"))
                v = vars[slot] = VarNode(slot, name or f"var_{slot}", shape, dt)
            return v

        def opr(type, name, params, ins, outs):
            o = OpNode(len(oprs), type, name, params)
            o.inputs = [var(s) for s in ins]
            o.outputs = outs
            for v in outs:
                v.owner = o
            oprs.append(o)

        for i in g["inputs"]:
            opr("Host2DeviceCopy", i["name"], {}, [], [var(int(i["slot"]), i["name"])])
        for c in g["constants"]:
            slot = int(c["slot"])
            opr("ImmutableTensor", f"const_{slot}", {}, [], [var(slot, f"const_{slot}")])
            vars[slot].value = archive.array(c["array"])
        for k, n in enumerate(g["nodes"]):
            if "random" in n:
                opr(f"random.{n['random']}", f"{n['random']}_{k}", {}, [],
                    [var(int(n["output"]))])
                continue
            type = n["op"].partition(":")[2]
            opr(type, f"{type}_{k}", dict(n["attrs"]), [int(s) for s in n["inputs"]],
                [var(int(s)) for s in n["outputs"]])
        outputs = []
        for name, slot in zip(g["output_names"], out_slots(archive.decode(g["outputs"]))):
            v = var(slot)
            v.name = name
            outputs.append(v)
        return LoadedGraph(oprs, outputs, collections.OrderedDict(zip(g["output_names"],
                                                                      outputs)))
    finally:
        archive.close()


def get_dep_vars(var, var_type=None):
    """The VarNodes that var (one or a list) depends on, itself included, whose owner op is of
    var_type (a name or a list; None: all), breadth first."""
    if isinstance(var, VarNode):
        var = [var]
    if isinstance(var_type, str):
        var_type = [var_type]
    out, seen, queue = [], set(), list(var)
    while queue:
        v = queue.pop(0)
        if id(v) in seen:
            continue
        seen.add(id(v))
        queue.extend(get_owner_opr_inputs(v))
        if var_type is None or get_owner_opr_type(v) in var_type:
            out.append(v)
    return out


def get_owner_opr_inputs(var):
    """The inputs of the op that makes var."""
    return var.owner.inputs if var.owner is not None else []


def get_owner_opr_type(var):
    """The type of the op that makes var."""
    return var.owner.type if var.owner is not None else None


def get_opr_type(opr):
    """The type of an op."""
    if not isinstance(opr, OpNode):
        raise TypeError(f"get_opr_type: expected an OpNode, got {type(opr).__name__}")
    return opr.type


def graph_traversal(outputs):
    """(map_oprs, map_vars, var2oprs, opr2receivers, indegree2opr, opr2indegree) of the graph
    the outputs depend on, MegEngine's traversal tables (keys are op / var ids)."""
    map_oprs, map_vars = collections.OrderedDict(), collections.OrderedDict()
    var2oprs = collections.defaultdict(list)
    opr2receivers = collections.defaultdict(list)
    queue = [v.owner for v in outputs if v.owner is not None]
    while queue:
        o = queue.pop(0)
        if o.id in map_oprs:
            continue
        map_oprs[o.id] = o
        for v in o.inputs:
            map_vars[v.id] = v
            var2oprs[v.id].append((o.id, o.inputs.index(v)))
            if v.owner is not None:
                opr2receivers[v.owner.id].append(o.id)
                queue.append(v.owner)
        for v in o.outputs:
            map_vars[v.id] = v
    indegree2opr = collections.defaultdict(set)
    opr2indegree = {}
    for oid, o in map_oprs.items():
        deg = len({v.owner.id for v in o.inputs if v.owner is not None})
        indegree2opr[deg].add(oid)
        opr2indegree[oid] = deg
    return map_oprs, map_vars, var2oprs, opr2receivers, indegree2opr, opr2indegree


def get_oprs_seq(outputs, prune_reshape=False, prune_immtensor=True):
    """The ops the outputs depend on, in an execution order (the file's run order).
    prune_immtensor drops the constants' ImmutableTensor ops. prune_reshape is MegEngine's
    shape-computation pruning: an engine graph has no shape ops to prune (shapes are attributes),
    so it has no effect."""
    map_oprs = graph_traversal(outputs)[0]
    seq = sorted(map_oprs.values(), key=lambda o: o.id)
    if prune_immtensor:
        seq = [o for o in seq if o.type != "ImmutableTensor"]
    return seq


class GraphInference:
    """Loads an engine graph file to run it (MegEngine's cgtools.GraphInference).

    Args:
        file: a path or a binary file object.
        outputs: names of the outputs to return (default: all).
        profiling: accepted (MegEngine's executor profiling; no effect).
        optimize_for_inference: accepted (the passes ran when the file was dumped).
        device: where to run (engine's addition; default: engine's default device).
    """

    def __init__(self, file, outputs=None, profiling=False, optimize_for_inference=False,
                 device=None, **kwargs):
        self._model: GraphModel = load(file, device=device)
        names = self._model.output_names
        if outputs is not None:
            missing = [n for n in outputs if n not in names]
            if missing:
                raise ValueError(f"GraphInference: no output named {missing}; the graph's "
                                 f"outputs are {names}")
        self._outputs = list(outputs) if outputs is not None else names

    @property
    def inputs(self):
        return self._model.inputs

    def run(self, *inp_args, inp_dict=None):
        """{output name: numpy array}, inputs by position (in the dumped arg order) and/or by
        name."""
        result = self._model.run(*inp_args, inp_dict=inp_dict)
        return collections.OrderedDict((n, result[n]) for n in self._outputs)
