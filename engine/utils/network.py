"""MegEngine's Network: load a dumped graph file, edit its graph, dump it again.

    net = Network.load("model.mge")
    x = net.var_filter.name("data").as_unique()
    net.replace_vars({x: F.relu(x)})       # ops on VarNodes build graph nodes (network_node.py)
    net.dump("edited.mge")                 # runs with engine.jit.load / GraphInference

The graph is the file's (engine/jit/graph_file.py): inputs are Host2DeviceCopy ops, constants
ImmutableTensor ops, every other node an engine op with its attributes. Network.dump writes it
through trace.dump's writer, so optimize_for_inference runs the same passes (passes.py).
"""
import collections
import fnmatch
import itertools
import re

import numpy as np

from .. import device as _device
from ..core._trace_option import set_symbolic_shape as _set_symbolic_shape
from ..jit import graph_file
from ..jit.program import OP, RANDOM, Program, _Out, out_slots
from .network_node import (
    Host2DeviceCopy,
    ImmutableTensor,
    OpNode,
    RandomDraw,
    VarNode,
    _stand_in,
    str_to_mge_class,  # noqa: F401 (MegEngine code imports it from this module)
)

__all__ = ["Network", "NodeFilter", "set_symbolic_shape", "as_varnode", "as_oprnode"]


def topological(vars):
    """The ops the vars depend on, each after the ops that make its inputs."""
    order, done, stack = [], set(), [v.owner for v in reversed(list(vars)) if v.owner]
    while stack:
        o = stack[-1]
        if id(o) in done:
            stack.pop()
            continue
        waiting = [v.owner for v in o.inputs if v.owner is not None and id(v.owner) not in done]
        if waiting:
            if any(w is o for w in waiting):
                raise ValueError(f"Network: {o!r} reads its own output")
            stack.extend(reversed(waiting))
            continue
        stack.pop()
        done.add(id(o))
        order.append(o)
    return order


def dependent_vars(vars):
    """Every var the vars depend on, themselves included (each once, in op order)."""
    out, seen = [], set()
    for o in topological(vars):
        for v in itertools.chain(o.inputs, o.outputs):
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
    for v in vars:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


class Network:
    """An editable graph: ``output_vars`` and everything they depend on."""

    def __init__(self):
        self.input_vars = []
        self.output_vars = []
        self._metadata = None
        self.user_info = None

    # -------------------------------------------------------------------- files
    @classmethod
    def load(cls, model_path, outspec=None):
        """The graph of an engine graph file (a path or a binary file object). outspec: names of
        vars to take as the outputs instead of the file's (the subgraph they need)."""
        self = cls()
        archive = graph_file.Archive(model_path)
        try:
            g = archive.graph
            specs = {int(s): (tuple(shape), dt) for s, (shape, dt) in g["specs"].items()}
            vars = {}

            def made(opr, slot):  # a computed var: a stand-in of its spec
                v = VarNode._make(_stand_in(*specs[slot]), _device.get_default_device_obj(), opr)
                opr.outputs.append(v)
                vars[slot] = v

            for i in g["inputs"]:
                opr = Host2DeviceCopy(specs[int(i["slot"])][0], specs[int(i["slot"])][1],
                                      name=i["name"])
                vars[int(i["slot"])] = opr.outputs[0]
                self.input_vars.append(opr.outputs[0])
            for c in g["constants"]:
                slot = int(c["slot"])
                opr = ImmutableTensor(archive.array(c["array"]), name=f"const_{slot}")
                vars[slot] = opr.outputs[0]
            for n in g["nodes"]:
                if "random" in n:
                    if n["random"] not in graph_file.RANDOM_METHODS:
                        raise graph_file.GraphFileError(f"{archive.where}: unknown random draw "
                                                        f"{n['random']!r}")
                    made(RandomDraw(n["random"], archive.decode(n["args"])), int(n["output"]))
                    continue
                op = graph_file.op_by_name(n["op"], archive.where)
                attrs = {k: archive.decode(v) for k, v in n["attrs"].items()}
                opr = OpNode(op, attrs, [vars[int(s)] for s in n["inputs"]])
                for s in n["outputs"]:
                    made(opr, int(s))
            for name, slot in zip(g["output_names"], out_slots(archive.decode(g["outputs"]))):
                vars[slot].name = name
                self.output_vars.append(vars[slot])
            self.user_info = archive.decode(g.get("user_info"))
            self._metadata = g.get("metadata")
        except (KeyError, TypeError, IndexError) as e:
            raise graph_file.GraphFileError(f"{archive.where}: the graph is malformed "
                                            f"({type(e).__name__}: {e})") from None
        finally:
            archive.close()
        if outspec is not None:
            by_name = {v.name: v for v in self.all_vars}
            missing = [n for n in outspec if n not in by_name]
            if missing:
                raise ValueError(f"Network.load: can not find {missing} in this model")
            self.output_vars = [by_name[n] for n in outspec]
        return self

    @property
    def metadata(self):
        """{"user_info", "graph_modified", "optimized_for_inference", options...} as dumped,
        or None for a file dumped with enable_metadata=False."""
        if self._metadata is None:
            return None
        return dict(self._metadata, user_info=self.user_info)

    def dump(self, file, *, keep_var_name=1, keep_opr_name=False, keep_param_name=False,
             keep_opr_priority=False, strip_info_file=None, append_json=False,
             optimize_for_inference=True, append=False, user_info=None, enable_metadata=True,
             dump_format=None, compat_older_version=None, **kwargs):
        """Writes the graph as an engine graph file (trace.dump's writer and passes). Inputs are
        the Host2DeviceCopy vars in the order they were made, outputs ``output_vars`` named by
        their names. The keep_* / strip / format arguments describe MegEngine's FlatBuffers
        files: accepted, no effect. kwargs: MegEngine's optimize options (accepted)."""
        from ..jit.dump import dump_metadata, dump_program

        if append:
            raise ValueError("Network.dump: append=True is not supported (a file holds one "
                             "graph)")
        for unused in ("arg_names", "output_names"):
            if kwargs.pop(unused, None):
                raise TypeError(f"Network.dump: {unused} is not supported; rename the vars "
                                "themselves (var.name = ...)")
        program, inputs, out_names = self._program()
        metadata = dump_metadata(True, optimize_for_inference, kwargs) if enable_metadata \
            else None
        return dump_program(program, file, [o.name for o in inputs], out_names,
                            optimize_for_inference, user_info, kwargs, metadata=metadata)

    def _program(self):
        if not self.output_vars:
            raise ValueError("Network.dump: the network has no outputs (add_output)")
        slots, specs, devices = {}, [], []

        def slot(v):
            k = slots.get(id(v))
            if k is None:
                k = slots[id(v)] = len(specs)
                specs.append((tuple(v.shape), np.dtype(v.dtype)))
                devices.append(v._stand.device)
            return k

        oprs = topological(self.output_vars)
        # every input: those the outputs read and the network's own (an input nothing reads,
        # such as one whose values became attributes, stays an input of the file)
        inputs = {id(o): o for o in oprs if isinstance(o, Host2DeviceCopy)}
        inputs.update((id(v.owner), v.owner) for v in self.input_vars
                      if isinstance(v.owner, Host2DeviceCopy))
        inputs = sorted(inputs.values(), key=lambda o: o.id)
        input_slots = [slot(o.outputs[0]) for o in inputs]
        externals, steps = [], []
        for o in oprs:
            if isinstance(o, ImmutableTensor):
                a = o.outputs[0].value
                externals.append((slot(o.outputs[0]), None, a, a.shape, a.dtype))
            elif isinstance(o, RandomDraw):
                from ..random import _default as _default_rng

                v = o.outputs[0]
                steps.append((RANDOM, _default_rng, o.method, o.args, v._stand.device, slot(v)))
            elif not isinstance(o, Host2DeviceCopy):
                steps.append((OP, o.op, dict(o.params), [slot(v) for v in o.inputs],
                              [slot(v) for v in o.outputs], o.outputs[0]._stand.device))
        outs = [_Out(slot(v)) for v in self.output_vars]
        names = [v.name for v in self.output_vars]
        if len(set(names)) != len(names):
            raise ValueError(f"Network.dump: output vars need distinct names, got {names}")
        program = Program("network", devices, specs, input_slots, externals, steps, outs)
        return program, inputs, names

    # -------------------------------------------------------------------- building
    def make_const(self, data, name=None, device=None):
        """A constant (ImmutableTensor) var for the network."""
        return ImmutableTensor(data, name, device).outputs[0]

    def make_input_node(self, shape, dtype, name=None, device=None):
        """An input (Host2DeviceCopy) var for the network: dumped once an output reads it."""
        return Host2DeviceCopy(shape, dtype, name, device).outputs[0]

    def add_output(self, *vars):
        for var in vars:
            if not any(var is v for v in self.output_vars):  # (`is`: == is elementwise)
                self.output_vars.append(var)

    def remove_output(self, *vars):
        for var in vars:
            kept = [v for v in self.output_vars if v is not var]
            if len(kept) == len(self.output_vars):
                raise ValueError(f"Network.remove_output: {var!r} is not an output")
            self.output_vars = kept

    def add_dep_oprs(self, *vars):
        """The vars (default: the outputs), whose ops are part of the graph once an output
        depends on them (a Network is what its outputs need)."""
        return list(vars) if vars else list(self.output_vars)

    def modify_opr_names(self, modifier):
        """Renames every op: modifier is a prefix ("net1" -> "net1.<name>") or a function."""
        if isinstance(modifier, str):
            prefix = modifier
            modifier = lambda name: f"{prefix}.{name}"  # noqa: E731
        for o in self.all_oprs:
            o.name = modifier(o.name)

    def reset_batch_size(self, batchsize, *, blacklist=()):
        """Sets the first dim of every input not named in blacklist (all of them share it)."""
        blacklist = set(blacklist)
        prev = None
        for o in self.data_providers_filter:
            if o.name in blacklist:
                blacklist.remove(o.name)
                continue
            shape = list(o.shape)
            if prev is not None and prev != shape[0]:
                raise ValueError(f"Network.reset_batch_size: batch size mismatch: {prev} and "
                                 f"{shape[0]} (input {o.name!r})")
            prev, shape[0] = shape[0], batchsize
            o.shape = tuple(shape)
        if prev is None:
            raise ValueError("Network.reset_batch_size: no input found")
        if blacklist:
            raise ValueError(f"Network.reset_batch_size: unused items in blacklist {blacklist}")

    def replace_vars(self, repl_dict):
        """Every reader of an old var reads its new one instead ({old: new})."""
        repl = {id(k): v for k, v in repl_dict.items()}
        for var in self.all_vars:
            new = repl.get(id(var))
            if new is None or new is var:
                continue
            for o in var.users:
                o.inputs = [new if i is var else i for i in o.inputs]
                if not any(o is u for u in new.users):
                    new.users.append(o)
            var.users.clear()
        self.output_vars = [repl.get(id(v), v) for v in self.output_vars]
        self.input_vars = [repl.get(id(v), v) for v in self.input_vars]

    def replace_oprs(self, repl_dict):
        """Every old op's outputs are made by its new op instead ({old: new}, same number of
        outputs): readers keep their var objects."""
        for old in self.all_oprs:
            new = next((n for o, n in repl_dict.items() if o is old), None)
            if new is None:
                continue
            if len(old.outputs) != len(new.outputs):
                raise ValueError(f"Network.replace_oprs: can not replace {old!r} "
                                 f"({len(old.outputs)} outputs) with {new!r} "
                                 f"({len(new.outputs)})")
            for var, made in zip(old.outputs, new.outputs):
                var.owner, var._stand, var.value = new, made._stand, made.value
            new.outputs = list(old.outputs)

    # -------------------------------------------------------------------- queries
    def get_opr_by_type(self, oprcls, unique=True):
        return _one(self.opr_filter.type(oprcls).as_list(), unique, oprcls)

    def get_opr_by_name(self, name, unique=True):
        return _one(self.opr_filter.name(name).as_list(), unique, name)

    def get_var_by_name(self, name, unique=True):
        return _one(self.var_filter.name(name).as_list(), unique, name)

    def get_var_receive_oprs(self, var):
        return self.opr_filter.has_input(var).as_list()

    def get_dep_oprs(self, var):
        return topological(var if isinstance(var, (list, tuple)) else [var])

    @property
    def opr_filter(self):
        return NodeFilter(self.all_oprs)

    @property
    def var_filter(self):
        return NodeFilter(self.all_vars)

    @property
    def params_filter(self):
        """The constants (ImmutableTensor ops)."""
        return self.opr_filter.param_provider()

    @property
    def data_providers_filter(self):
        """The inputs (Host2DeviceCopy ops)."""
        return self.opr_filter.data_provider()

    @property
    def dest_vars(self):
        return self.output_vars

    @property
    def all_oprs(self):
        return topological(self.output_vars)

    @property
    def all_vars(self):
        return dependent_vars(self.output_vars)

    @property
    def all_vars_dict(self):
        return self.var_filter.as_dict()

    @property
    def all_oprs_dict(self):
        return self.opr_filter.as_dict()


def _one(found, unique, what):
    if not unique:
        return found
    if len(found) != 1:
        raise ValueError(f"{len(found)} nodes of {what!r} found, expected one")
    return found[0]


def set_symbolic_shape(option):
    """MegEngine's symbolic-shape switch; returns the previous setting."""
    return _set_symbolic_shape(option)


def as_varnode(obj):
    """A VarNode from a VarNode, an OpNode with one output, or an iterable of one of those."""
    if isinstance(obj, VarNode):
        return obj
    if isinstance(obj, OpNode):
        if len(obj.outputs) != 1:
            raise ValueError(f"as_varnode: {obj!r} has {len(obj.outputs)} outputs, expected one")
        return obj.outputs[0]
    val = list(obj)
    if len(val) != 1:
        raise ValueError(f"as_varnode: can not convert a sequence of length {len(val)}")
    return as_varnode(val[0])


def as_oprnode(obj):
    """An OpNode from an OpNode, a VarNode (its owner), or an iterable of one of those."""
    if isinstance(obj, VarNode):
        return obj.owner
    if isinstance(obj, OpNode):
        return obj
    val = list(obj)
    if len(val) != 1:
        raise ValueError(f"as_oprnode: can not convert a sequence of length {len(val)}")
    return as_oprnode(val[0])


class NodeFilter:
    """Chained filters over nodes: ``net.opr_filter.type(ImmutableTensor).name("*:W")``,
    ``.has_input(var)``, ``.as_list()`` / ``as_unique()`` / ``as_dict()`` / ``as_count()``."""

    def __init__(self, node_iter):
        if isinstance(node_iter, VarNode):  # a var: the ops it depends on, its own excluded
            node_iter = topological([node_iter])[:-1]
        elif isinstance(node_iter, OpNode):
            node_iter = topological(node_iter.inputs)
        self._iter = node_iter

    @classmethod
    def make_all_deps(cls, *dest_vars):
        return cls(topological(dest_vars))

    def __iter__(self):
        return iter(self._iter)

    def _where(self, keep):
        return NodeFilter([n for n in self if keep(n)])

    def type(self, node_type):
        if isinstance(node_type, str):
            return self._where(lambda n: n.type == node_type)
        return self._where(lambda n: isinstance(n, node_type))

    def not_type(self, node_type):
        return self._where(lambda n: not isinstance(n, node_type))

    def check_type(self, node_type):
        nodes = list(self)
        for n in nodes:
            if not isinstance(n, node_type):
                raise TypeError(f"all nodes should be {node_type.__name__}; got {n!r}")
        return NodeFilter(nodes)

    def param_provider(self):
        return self.type(ImmutableTensor)

    def data_provider(self):
        return self.type(Host2DeviceCopy)

    def name(self, pattern, ignorecase=True):
        """Nodes whose name matches a glob pattern (? and *)."""
        rx = re.compile(fnmatch.translate(pattern), re.IGNORECASE if ignorecase else 0)
        return self._where(lambda n: rx.match(n.name) is not None)

    def has_input(self, var):
        var = as_varnode(var)
        return self._where(lambda n: any(var is i for i in n.inputs))

    def as_list(self):
        return list(self)

    def as_unique(self):
        nodes = list(self)
        if len(nodes) != 1:
            raise ValueError(f"as_unique: {len(nodes)} nodes, expected one: {nodes[:5]}")
        return nodes[0]

    def as_dict(self):
        return collections.OrderedDict((n.name, n) for n in self)

    def as_count(self):
        return sum(1 for _ in self)


