"""autodiff.Function: a block of operations with a hand-written gradient (MegEngine's API).

    class Sigmoid(Function):
        def forward(self, x):
            self.y = 1 / (1 + F.exp(-x))
            return self.y

        def backward(self, dy):
            return dy * self.y * (1 - self.y)

    y = Sigmoid()(x)

`forward` runs with recording suppressed (its ops make no tape nodes, exactly like MegEngine,
which suppresses its grads around it); the outputs are then tied to one tape node whose backward
calls the user's `backward`. That backward is written with ordinary ops, so a GradManager that
is still recording while it runs records it: nested GradManagers give higher-order gradients
of whatever the backward computes. Under DTR the values the user keeps on `self` are ordinary
tensors made by ordinary ops, so they can be evicted and recomputed like any other.
"""
from ..ops import core
from ..tensor import Tensor


class Function:
    """Defines a block of operations with customizable differentiation.

    The computation goes in :meth:`forward`, its gradient in :meth:`backward`; state the
    backward needs is kept on ``self``. Each instance should be called once per forward.

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.functional as F
        >>> from engine.autodiff import Function, GradManager
        >>> class Square(Function):
        ...     def forward(self, x):
        ...         self.x = x
        ...         return x * x
        ...     def backward(self, dy):
        ...         return 2 * self.x * dy
        >>> x = mge.tensor([1.0, 2.0, 3.0])
        >>> gm = GradManager().attach(x)
        >>> with gm:
        ...     gm.backward(Square()(x).sum())
        >>> x.grad.numpy()
        array([2., 4., 6.], dtype=float32)
    """

    def forward(self, *args, **kwargs):
        """Applies operations to ``inputs`` and returns results. Subclasses must override it.

        Args:
            args: input tensors (every positional argument must be a Tensor).

        Returns:
            a Tensor or a tuple of Tensors.
        """
        raise NotImplementedError

    def backward(self, *output_grads):
        """The gradients of the inputs given those of the outputs. Subclasses must override it.

        Args:
            output_grads: one gradient per output of :meth:`forward`, None for an output that
                did not contribute to what is being differentiated.

        Returns:
            one gradient per input of :meth:`forward`, in order (a Tensor alone when there is
            one input); None stops the gradient of that input.
        """
        raise NotImplementedError

    def __call__(self, *args):
        for a in args:
            if not isinstance(a, Tensor):
                # MegEngine's wording, which its users' tests match
                raise TypeError(f"op {type(self).__name__} expect type Tensor as inputs, got "
                                f"{type(a).__name__} (a Function takes Tensors only)")
        tracked = core.recording and any(a._node is not None for a in args)
        if not tracked:
            return self.forward(*args)
        saved, core.recording = core.recording, 0
        try:
            out = self.forward(*args)
        finally:
            core.recording = saved
        single = isinstance(out, Tensor)
        outs = (out,) if single else tuple(out) if isinstance(out, (tuple, list)) else None
        if outs is None or not all(isinstance(o, Tensor) for o in outs):
            raise TypeError(f"{type(self).__name__}.forward must return a Tensor or a tuple of "
                            f"Tensors, got {_describe(out)}")
        node = core.Node(_FunctionOp(self, args), args, {}, None, len(outs))
        tied = tuple(core._tensor(o._storage, node, i) for i, o in enumerate(outs))
        return tied[0] if single else tied

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)


class _FunctionOp:
    """What the tape node of one Function call runs: the user's backward, checked."""

    __slots__ = ("fn", "shapes", "remote", "seq")
    differentiable = True
    save_outputs = False

    def __init__(self, fn, args):
        self.fn = fn
        self.shapes = tuple(a.shape for a in args)
        # engine.distributed's collectives: a peer waits for this backward's message, and
        # backward runs them in the reverse of their forward order (seq) on every rank
        self.remote = getattr(fn, "_remote_backward", False)
        self.seq = getattr(fn, "_seq", 0)

    @property
    def __name__(self):
        return type(self.fn).__name__

    def backward(self, ctx, *output_grads):
        name = type(self.fn).__name__
        grads = self.fn.backward(*output_grads)
        if grads is None or isinstance(grads, Tensor):
            grads = (grads,)
        elif isinstance(grads, list):
            grads = tuple(grads)
        if not isinstance(grads, tuple) or len(grads) != len(self.shapes):
            raise ValueError(f"{name}.backward returned {_describe(grads)}; expected one gradient "
                             f"(or None) per forward input, {len(self.shapes)} in all")
        for i, (g, shape) in enumerate(zip(grads, self.shapes)):
            if g is None:
                continue
            if not isinstance(g, Tensor):
                raise TypeError(f"{name}.backward: gradient {i} must be a Tensor or None, got "
                                f"{type(g).__name__}")
            if g.shape != shape:
                raise ValueError(f"{name}.backward: gradient {i} has shape {g.shape}, but input "
                                 f"{i} of forward has shape {shape}")
        return grads


def _describe(x):
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} ({', '.join(type(v).__name__ for v in x)})"
    return type(x).__name__
