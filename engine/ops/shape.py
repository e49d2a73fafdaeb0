"""Shape and layout ops: reshape, transpose, broadcast, concat, repeat, tile, flip, roll,
take along an axis, and device copies."""
from .core import Op


class Reshape(Op):
    view = True

    def forward(xp, x, shape):
        return x.reshape(shape)

    def backward(ctx, dy):
        return Reshape.apply(dy, shape=ctx.inputs[0].shape)


class Transpose(Op):
    view = True

    def forward(xp, x, pattern):
        return x.transpose(pattern)

    def backward(ctx, dy):
        p = ctx.attrs["pattern"]
        inverse = tuple(sorted(range(len(p)), key=p.__getitem__))
        return Transpose.apply(dy, pattern=inverse)


class BroadcastTo(Op):
    view = True

    def forward(xp, x, shape):
        return xp.broadcast_to(x, shape)

    def backward(ctx, dy):
        from .elemwise import sum_to

        return sum_to(dy, ctx.inputs[0].shape)


class Concat(Op):
    def forward(xp, *xs, axis):
        return xp.concatenate(xs, axis=axis)

    def backward(ctx, dy):
        from .indexing import GetItem

        axis = ctx.attrs["axis"]
        grads, start = [], 0
        for x, need in zip(ctx.inputs, ctx.needs_input_grad):
            stop = start + x.shape[axis]
            index = (slice(None),) * axis + (slice(start, stop),)
            grads.append(GetItem.apply(dy, index=index) if need else None)
            start = stop
        return tuple(grads)


class Repeat(Op):
    def forward(xp, x, repeats, axis):
        return xp.repeat(x, repeats, axis=axis)

    def backward(ctx, dy):
        # each input element appears `repeats` times in a row along `axis`
        from .reduce import Sum

        x = ctx.inputs[0]
        r, axis = ctx.attrs["repeats"], ctx.attrs["axis"]
        split = x.shape[:axis] + (x.shape[axis], r) + x.shape[axis + 1:]
        return Sum.apply(Reshape.apply(dy, shape=split), axis=(axis + 1,), keepdims=False)


class Tile(Op):
    def forward(xp, x, reps):
        return xp.tile(x, reps)

    def backward(ctx, dy):
        # dy has shape (r0*s0, r1*s1, ...): view it as (r0, s0, r1, s1, ...) and sum the r's
        from .reduce import Sum

        x, reps = ctx.inputs[0], ctx.attrs["reps"]
        split = sum(((r, s) for r, s in zip(reps, x.shape)), ())
        g = Sum.apply(Reshape.apply(dy, shape=split), axis=tuple(range(0, len(split), 2)),
                      keepdims=False)
        return g


class Flip(Op):
    def forward(xp, x, axis):
        return xp.flip(x, axis).copy()

    def backward(ctx, dy):
        return Flip.apply(dy, axis=ctx.attrs["axis"])


class Roll(Op):
    def forward(xp, x, shift, axis):
        return xp.roll(x, shift, axis)

    def backward(ctx, dy):
        shift = ctx.attrs["shift"]
        neg = tuple(-s for s in shift) if isinstance(shift, tuple) else -shift
        return Roll.apply(dy, shift=neg, axis=ctx.attrs["axis"])


class Take(Op):
    """out = x.take(index, axis): picks (possibly repeated) slices along one axis."""

    def forward(xp, x, index, axis):
        return xp.take(x, xp.asarray(index), axis=axis)

    def backward(ctx, dy):
        x = ctx.inputs[0]
        return TakeGrad.apply(dy, index=ctx.attrs["index"], axis=ctx.attrs["axis"],
                              size=x.shape[ctx.attrs["axis"]])


class TakeGrad(Op):
    """Adjoint of Take: scatter-adds slices of dy back to their source positions."""

    def forward(xp, dy, index, axis, size):
        shape = list(dy.shape)
        shape[axis] = size
        out = xp.zeros(shape, dy.dtype)
        moved = xp.moveaxis(out, axis, 0)  # a view: add.at writes through to out
        _add_at(xp, moved, xp.asarray(index), xp.moveaxis(dy, axis, 0))
        return out

    def backward(ctx, ddx):
        return Take.apply(ddx, index=ctx.attrs["index"], axis=ctx.attrs["axis"])


def _add_at(xp, target, index, values):
    if hasattr(xp, "add") and hasattr(xp.add, "at"):
        xp.add.at(target, index, values)
    else:  # CuPy
        import cupyx

        cupyx.scatter_add(target, index, values)


class Copy(Op):
    def forward(xp, x, device):
        from ..tensor import _transfer

        if device.xp is xp and (xp.__name__ == "numpy" or x.device.id == device.index):
            return x.copy()
        return _transfer(x, device)

    def backward(ctx, dy):
        return Copy.apply(dy, device=ctx.inputs[0]._storage.device)

    @classmethod
    def apply(cls, x, device):
        out = super().apply(x, device=device)
        if out._storage.device is not device:
            # a host copy between CPU devices (cpu0 -> cpu1): the array alone says cpu0
            from ..allocator import Storage

            out._storage = Storage(out._storage.array, device)
        return out

    @classmethod
    def _storage(cls, array, device, inputs):
        from .. import device as _dev
        from ..allocator import Storage

        return Storage(array, _dev.of_array(array))
