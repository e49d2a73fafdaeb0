"""MegEngine's megbrain_graph: the computing-graph API under its tracing, over engine's graph
nodes (engine.utils.network_node).

    g = Graph()
    x = InputNode(device="xpux", dtype="float32", graph=g)
    y = OutputNode(apply_normal_varnode(Elemwise(Elemwise.Mode.NEGATE), x.outputs[0])[0])
    f = g.compile(y.outputs[0])
    f.execute(); x.set_value(t); y.get_value()     # -t

Ops applied to the graph's VarNodes build nodes (network_node.py); `compile` turns what its
outputs need into a Program of engine ops (engine/jit/program.py), run on each execution with
the inputs' values. MegEngine runs a compiled graph asynchronously and an output's value is
awaited; here an execution runs when its result is first asked for (get_value, wait, an output
callback) or at once (f()), after the inputs are set: the same values in the same order of
calls. `load_graph` / `dump_graph` read and write engine graph files (trace.dump's format).
"""
import io
import types

import numpy as np

from ...utils.comp_graph_tools import LoadedGraph, load_graph
from ...utils.network_node import Host2DeviceCopy, ImmutableTensor, OpNode, VarNode

CompGraphLoadResult = LoadedGraph

__all__ = ["Graph", "InputNode", "OutputNode", "AttrOutputNode", "input_callback",
           "output_callback", "apply_normal_varnode", "load_graph", "dump_graph",
           "CompGraphLoadResult", "VarNode", "OpNode"]


class Graph:
    """A computing graph: inputs (InputNode, input_callback), constants (make_const), ops on
    its VarNodes, and compile(outputs). ``options`` takes MegBrain's graph options
    (async_exec_level, graph_opt_level, ...): kept, no effect (engine runs one Program)."""

    def __init__(self):
        self.options = types.SimpleNamespace()
        self._feeds = {}   # id(input var) -> a function giving its value at execution

    def make_const(self, data, dtype=None, device=None, name=None):
        if dtype is not None:
            data = np.asarray(data, dtype=dtype)
        return ImmutableTensor(data, name=name, device=_device_name(device)).outputs[0]

    def _input(self, feed, device, dtype, shape):
        opr = Host2DeviceCopy(shape or (1,), dtype, device=_device_name(device))
        var = opr.outputs[0]
        self._feeds[id(var)] = feed
        return var

    def compile(self, *outputs):
        """An executable of the graph that computes `outputs` (vars or OutputNodes' vars)."""
        return _Function(self, [o[0] if isinstance(o, (list, tuple)) else o for o in outputs])


def _device_name(device):
    return None if device is None else str(device)


class _Function:
    def __init__(self, graph, outputs):
        from ...utils.network import Network

        net = Network()
        net.output_vars = list(outputs)
        self._graph = graph
        self._program, inputs, _ = net._program()
        self._inputs = [o.outputs[0] for o in inputs]  # (in the program's order)
        self._outputs = outputs
        self._armed = False
        for var in outputs:
            var.__dict__["_function"] = self  # (what an OutputNode's get_value awaits)

    def execute(self):
        self._armed = True
        return self

    def wait(self):
        if self._armed:
            self._run()
        return self

    def __call__(self):
        return self.execute().wait()

    def _run(self):
        from ...tensor import Tensor

        self._armed = False
        values = []
        for var in self._inputs:
            feed = self._graph._feeds.get(id(var))
            if feed is None:
                raise RuntimeError(f"megbrain_graph: input {var.name!r} of the compiled graph "
                                   "belongs to no InputNode / input_callback of this graph")
            value = feed()
            values.append(value if isinstance(value, Tensor) else Tensor(value))
        results = self._program.replay(values)
        for var, value in zip(self._outputs, results):
            for sink in _sinks(var):
                sink(value)


def _sinks(var):
    return var.__dict__.setdefault("_sinks", [])


class InputNode(OpNode):
    """A graph input whose value is given by set_value before the execution reads it."""

    def __init__(self, *, device=None, dtype=None, shape=None, graph=None):
        super().__init__(name="InputNode")
        self._value = None
        self.outputs = [graph._input(self._read, device, dtype, shape)]

    def _read(self):
        if self._value is None:
            raise RuntimeError("megbrain_graph.InputNode: the graph runs before set_value gave "
                               "this input a value")
        return self._value

    def set_value(self, value):
        self._value = value


def input_callback(callback, *, device=None, dtype=None, shape=None, graph=None):
    """A graph input whose value callback() gives at each execution: (var, its op)."""
    var = graph._input(callback, device, dtype, shape)
    return var, var.owner


class _Sink:
    """Where an executed graph puts one output's value, for get_value."""

    def __init__(self, var, keep):
        self.var, self.keep, self.value = var, keep, None
        self.outputs = [var]
        self.graph = _PendingGraph()
        _sinks(var).append(self._put)

    def _put(self, value):
        self.value = self.keep(value)

    def get_value(self):
        function = self.var.__dict__.get("_function")
        if function is not None:
            function.wait()
        if self.value is None:
            return self._no_value()
        return self.value

    def _no_value(self):
        raise RuntimeError(f"megbrain_graph: {self.var!r} has no value: compile the graph with "
                           "this output and execute it")


class _PendingGraph:
    """OutputNode(var).graph.compile(outputs).execute() on a var of no Graph (a loaded file's
    constant): nothing to run."""

    def compile(self, outputs):
        return self

    def execute(self):
        return self

    def wait(self):
        return self


class OutputNode(_Sink):
    """An output of a compiled graph: get_value() gives its value (a Tensor) after an
    execution. A var of a loaded graph file that holds a constant gives the constant."""

    def __init__(self, var):
        super().__init__(var, lambda t: t)

    def get_value(self):
        from ...tensor import Tensor

        if self.value is None and getattr(self.var, "value", None) is not None:
            return Tensor(self.var.value)
        return super().get_value()

    def _no_value(self):
        raise RuntimeError(f"OutputNode: {self.var!r} is computed by the graph; compile and "
                           "execute its Graph, or run a dumped file with "
                           "engine.utils.comp_graph_tools.GraphInference to read it")


class AttrOutputNode(_Sink):
    """An output whose shape, dtype and device are read after an execution (get_value)."""

    def __init__(self, var):
        super().__init__(var, lambda t: types.SimpleNamespace(shape=t.shape, dtype=t.dtype,
                                                              device=t.device))


def output_callback(callback, var, borrow=False):
    """callback(value) with var's value (a Tensor) after each execution; returns the var to
    compile."""
    _sinks(var).append(callback)
    return var


def apply_normal_varnode(op, *args):
    """An op descriptor (engine.core.ops.builtin) applied to graph vars: its output vars."""
    from .._imperative_rt.core2 import apply

    return list(apply(op, *args))


def dump_graph(output_vars, *, keep_var_name=1, keep_opr_name=False, keep_param_name=False,
               keep_opr_priority=False, strip_info_file=None, append_json=False, metadata=None,
               **kwargs):
    """(bytes of an engine graph file of output_vars, its DumpInfo); MegEngine's naming and
    strip options describe its FlatBuffers files: accepted, no effect."""
    from ...utils.network import Network

    net = Network()
    net.output_vars = list(output_vars)
    buf = io.BytesIO()
    info = net.dump(buf, optimize_for_inference=False, user_info=None)
    return buf.getvalue(), info
