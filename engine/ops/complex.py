"""complex64 tensors built from and taken apart into float32 real and imaginary parts. The
gradients treat a complex number as the pair (real, imag) of independent reals."""
import numpy as np

from .core import Op


class Complex(Op):
    def forward(xp, re, im):
        out = xp.empty(np.broadcast_shapes(re.shape, im.shape), dtype="complex64")
        out.real = re
        out.imag = im
        return out

    def backward(ctx, dz):
        from .elemwise import sum_to

        re, im = ctx.inputs
        return sum_to(Real.apply(dz), re.shape), sum_to(Imag.apply(dz), im.shape)


class Real(Op):
    def forward(xp, z):
        return xp.ascontiguousarray(z.real)

    def backward(ctx, dy):
        return Complex.apply(dy, dy * 0)


class Imag(Op):
    def forward(xp, z):
        return xp.ascontiguousarray(z.imag)

    def backward(ctx, dy):
        return Complex.apply(dy * 0, dy)
