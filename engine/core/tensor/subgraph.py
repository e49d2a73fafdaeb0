"""subgraph_fn: MegEngine's way to declare a small op from elementwise steps, with an optional
hand-written gradient.

The decorated function gets ``(inputs, f, c)``: ``f(name_or_op, *args)`` applies an op (a
name of the table below or an op descriptor of engine.core.ops.builtin), ``c(value)`` makes a
constant. Without ``custom_grad`` it returns ``(outputs, outputs_has_grad)``. With
``custom_grad`` it is a generator: it yields the outputs, receives their gradients, and yields
the inputs' gradients (None for none). engine interprets the steps eagerly with its own ops
(``gopt_level`` and ``jit_fusion``, MegEngine's graph-compile knobs, have no effect); a custom
gradient becomes an engine.autodiff.Function.
"""
from ..autodiff.grad import Function
from ..ops import builtin

_SUB_FROM = builtin.Subtensor(items=[(0, True, False, False, False)])
_SUB_TO = builtin.Subtensor(items=[(0, False, True, False, False)])
_OPS = {("[?:]", 2): _SUB_FROM, ("[:?]", 2): _SUB_TO}
for _name, _mode in [("-", "negate"), ("abs", "abs"), ("exp", "exp"), ("log1p", "log1p"),
                     ("relu", "relu")]:
    _OPS[(_name, 1)] = builtin.Elemwise(mode=_mode)
for _name, _mode in [("+", "add"), ("-", "sub"), ("*", "mul"), ("/", "true_div"),
                     ("//", "floor_div"), ("**", "pow"), ("max", "max"), ("min", "min"),
                     ("additive", "add"), ("exp", "EXP"), ("switch_gt0", "switch_gt0"),
                     ("abs_grad", "abs_grad")]:
    _OPS[(_name, 2)] = builtin.Elemwise(mode=_mode)
_OPS[("cond_leq_mov", 3)] = builtin.Elemwise(mode="cond_leq_mov")
_OPS[("fma3", 3)] = builtin.Elemwise(mode="FUSE_MUL_ADD3")
_OPS[("fma4", 4)] = builtin.Elemwise(mode="FUSE_MUL_ADD4")


def _makers(dtype, device):
    from ...tensor import Tensor
    from .._imperative_rt.core2 import apply

    def f(op, *args, nr_out=None):
        if isinstance(op, str):
            key = (op, len(args))
            if key not in _OPS:
                raise ValueError(f"subgraph_fn: unknown operator {op!r} with {len(args)} inputs")
            op = _OPS[key]
        outs = apply(op, *args)
        if nr_out is None:
            if len(outs) != 1:
                raise ValueError(f"subgraph_fn: {op} gave {len(outs)} outputs; pass nr_out")
            return outs[0]
        return outs

    def c(value, dtype=dtype, device=device):
        return Tensor(value, dtype=dtype if dtype is not None else "float32", device=device)

    return f, c


def subgraph_fn(name, dtype, device, nr_inputs, gopt_level=None, jit_fusion=False,
                custom_grad=False, *, interpret=False):
    r"""Declares an op from elementwise steps (see the module docstring).

    Returns:
        a decorator; the decorated callable takes the inputs and returns a list of outputs.

    Examples:
        >>> import engine as mge
        >>> from engine.core.tensor.utils import subgraph_fn
        >>> @subgraph_fn("Square", dtype="float32", device=None, nr_inputs=1)
        ... def square(inputs, f, c):
        ...     (x,) = inputs
        ...     return (f("*", x, x),), (True,)
        >>> square(mge.tensor([3.0]))[0].numpy()
        array([9.], dtype=float32)
    """

    def decorator(func):
        def run(*args):
            if len(args) != nr_inputs:
                raise TypeError(f"subgraph {name}: expected {nr_inputs} inputs, got {len(args)}")
            f, c = _makers(dtype, device)
            if not custom_grad:
                outputs, has_grad = func(list(args), f, c)
                return [o if g else o.detach() for o, g in zip(outputs, has_grad)]
            return list(_custom_op(name, func, f, c)(*args))

        run.__name__ = name
        return run

    return decorator


def _custom_op(name, func, f, c):
    class SubgraphOp(Function):
        def forward(self, *inputs):
            self.gen = func(list(inputs), f, c)
            outputs = tuple(self.gen.send(None))
            self.shapes = [o.shape for o in outputs]
            return outputs if len(outputs) > 1 else outputs[0]

        def backward(self, *output_grads):
            import engine.functional as F

            grads = [F.zeros(s) if g is None else g for g, s in zip(output_grads, self.shapes)]
            input_grads = tuple(self.gen.send(grads))
            self.gen.close()
            return input_grads if len(input_grads) > 1 else input_grads[0]

    SubgraphOp.__name__ = SubgraphOp.__qualname__ = name
    return _Wrap(SubgraphOp)


class _Wrap:
    """Calls a fresh Function per call and always returns a tuple."""

    def __init__(self, cls):
        self.cls = cls

    def __call__(self, *args):
        out = self.cls()(*args)
        return out if isinstance(out, tuple) else (out,)
