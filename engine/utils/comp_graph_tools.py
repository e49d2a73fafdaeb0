"""MegEngine's comp_graph_tools (``import engine.utils.comp_graph_tools as cgtools``) over engine's
graph files (engine.jit's dump format): GraphInference to run one, and its graph (load_graph:
engine.utils.network_node's VarNode / OpNode, the nodes engine.utils.network edits) for the
traversal helpers.

Op types are engine's op names ("Conv2d", "Conv2dRelu", "Add", ...); a graph input is owned by
a "Host2DeviceCopy" op and a constant by an "ImmutableTensor", as in MegEngine, so code that
looks for inputs or parameters by those names works unchanged. The graph is the dumped one:
ops that an optimised dump folded away are not in it.
"""
import collections

from ..jit.loaded import GraphModel, load
from .network_node import OpNode, VarNode

__all__ = ["GraphInference", "load_graph", "VarNode", "OpNode", "get_dep_vars",
           "get_owner_opr_inputs", "get_owner_opr_type", "get_opr_type", "get_oprs_seq",
           "graph_traversal", "replace_vars", "replace_oprs"]


LoadedGraph = collections.namedtuple("LoadedGraph", ["graph", "output_vars_list",
                                                     "output_vars_map"])


def load_graph(file):
    """The graph of an engine graph file as VarNodes and OpNodes (MegEngine's G.load_graph;
    engine.utils.network_node's nodes, which engine.utils.network edits):
    LoadedGraph(graph, output_vars_list, output_vars_map)."""
    from .network import Network

    net = Network.load(file)
    outputs = list(net.output_vars)
    return LoadedGraph(net.all_oprs, outputs,
                       collections.OrderedDict((v.name, v) for v in outputs))


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
            # (the position by identity: == on VarNodes is elementwise, a graph op)
            var2oprs[v.id].append((o.id, next(i for i, u in enumerate(o.inputs) if u is v)))
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
    from .network import topological

    seq = topological(outputs if isinstance(outputs, (list, tuple)) else [outputs])
    if prune_immtensor:
        seq = [o for o in seq if o.type != "ImmutableTensor"]
    return seq


def replace_vars(dst, varmap):
    """The vars dst (a list) recomputed with each var of varmap ({old: new}) replaced by its new
    one: the ops between are copied, the original graph is left as it was."""
    return _rebuilt(dst, {id(k): v for k, v in varmap.items()}, {})


def replace_oprs(dst, oprmap):
    """The vars dst (a list) recomputed with each op of oprmap ({old: new}, as many outputs)
    replaced by its new one; the original graph is left as it was."""
    for old, new in oprmap.items():
        if len(old.outputs) != len(new.outputs):
            raise ValueError(f"replace_oprs: {old!r} has {len(old.outputs)} outputs, {new!r} "
                             f"{len(new.outputs)}")
    return _rebuilt(dst, {}, {id(k): v for k, v in oprmap.items()})


def _rebuilt(dst, vars, oprs):
    from .network import topological  # (network imports this module's neighbours)

    for o in topological(dst):
        new = oprs.get(id(o))
        if new is not None:
            vars.update((id(a), b) for a, b in zip(o.outputs, new.outputs))
            continue
        if o.op is None or not any(id(v) in vars for v in o.inputs):
            continue  # (inputs, constants and untouched ops are shared)
        copy = OpNode(o.op, o.params, [vars.get(id(v), v) for v in o.inputs])
        for v in o.outputs:
            made = VarNode._make(v._stand.array, v._stand.device, copy, value=None)
            copy.add_out_var(made)
            vars[id(v)] = made
    return [vars.get(id(v), v) for v in dst]


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
