"""Changing a tensor in place without computing: ``fill_``, ``zero_``, ``resize_``.

The other in-place ops (``add_``, ``mul_``, ``clamp_``, ``+=``, ...) come from
their out-of-place op's declaration (``@register(..., inplace=True)``), which
computes the op and writes the result into the tensor
(``Tensor._modify_in_place``). Filling needs no computation, so it writes
the value straight into the tensor's memory, with no new array; the version
counter is bumped all the same, so a backward that needed the old values
fails loudly instead of silently using the new ones. ``resize_`` gives the
tensor a new shape (and a new array); it is not differentiable, as in PyTorch.

    >>> import chainrule as cr
    >>> x = cr.ones(3)
    >>> x.fill_(2.5)
    tensor([2.5000, 2.5000, 2.5000])
    >>> x.zero_()
    tensor([0., 0., 0.])
    >>> x.resize_(2, 2)
    tensor([[0., 0.],
            [0., 0.]])
"""

import math
import numbers

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops._operands import data
from chainrule.registry import register
from chainrule.tensor import Tensor


class Fill(Function):
    """x[...] = value;  d/dx = 0 (the old values are gone), d/dvalue = sum of the gradient.

    NOTE: forward writes into ``x``'s own array and returns that same array,
    so ``fill_`` allocates nothing; it is only ever applied by ``fill_``,
    through ``Tensor._modify_in_place``, which then bumps the version counter.
    """

    @staticmethod
    def forward(ctx, x, value):
        x.array[...] = data(value)
        return x.array

    @staticmethod
    def backward(ctx, grad):
        needs_x, needs_value = ctx.needs_input_grad
        zeros = Tensor._make(array_module(grad.array).zeros_like(grad.array), False, None)
        return (zeros if needs_x else None,
                grad.sum() if needs_value else None)


@register("Tensor")
def fill_(input, value):
    """Every element set to ``value`` (a number or a 0-d tensor), in place."""
    if not isinstance(value, (Tensor, numbers.Number)):
        raise TypeError(f"fill_: expected a number or a 0-d Tensor, got {type(value).__name__}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill_: only a 0-dimensional value tensor is supported, got a "
                           f"tensor with {value.ndim} dimensions (shape {tuple(value.shape)})")
    return input._modify_in_place("fill_", lambda source: Fill.apply(source, value))


@register("Tensor")
def zero_(input):
    """Every element set to 0, in place."""
    return fill_(input, 0)


@register("Tensor")
def resize_(input, *sizes, memory_format=None):
    """The tensor given shape ``sizes``, in place, keeping its first elements (row-major);
    new elements are zeros (PyTorch leaves them uninitialized).

    Not differentiable, as in PyTorch: a tensor that requires grad cannot be resized.
    """
    shape = _sizes(sizes)
    if input.requires_grad:
        raise RuntimeError(
            f"resize_: cannot resize a tensor that requires grad (shape {tuple(input.shape)}); "
            "resize a detached copy, or use reshape / new_zeros for a differentiable result"
        )
    if shape == tuple(input.shape):
        return input
    xp = array_module(input.array)
    kept = input.array.reshape(-1)[:math.prod(shape)]
    resized = xp.zeros(shape, dtype=input.dtype)
    resized.reshape(-1)[:kept.size] = kept
    # NOTE: the one op that swaps in an array of another shape; the version counter
    # still tells graphs that saved the old values that they are out of date
    input.array = resized
    input._version[0] += 1
    return input


@register("Tensor")
def resize_as_(input, the_template, memory_format=None):
    """``resize_`` to the shape of the tensor ``the_template``."""
    if not isinstance(the_template, Tensor):
        raise TypeError(f"resize_as_: expected a Tensor to take the shape of, got "
                        f"{type(the_template).__name__}")
    return resize_(input, tuple(the_template.shape))


def _sizes(sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    for n in sizes:
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
            raise TypeError(f"resize_: sizes must be non-negative ints, got {sizes}")
    return tuple(int(n) for n in sizes)


class CopyFrom(Function):
    """x[...] = src (broadcast);  d/dx = 0 (overwritten), d/dsrc = the gradient (summed back
    over broadcast dims by the engine, cast to src's dtype)."""

    @staticmethod
    def forward(ctx, x, src):
        ctx.src_dtype = src.dtype
        xp = array_module(x.array)
        try:
            return xp.broadcast_to(src.array, x.shape).astype(x.dtype, copy=True)
        except ValueError:
            raise ValueError(f"copy_: the source of shape {tuple(src.shape)} cannot be "
                             f"broadcast to the tensor's shape {tuple(x.shape)}") from None

    @staticmethod
    def backward(ctx, grad):
        needs_x, needs_src = ctx.needs_input_grad
        zeros = Tensor._make(array_module(grad.array).zeros_like(grad.array), False, None)
        return (zeros if needs_x else None,
                grad.to(ctx.src_dtype) if needs_src else None)


@register("Tensor")
def copy_(input, src, non_blocking=False):
    """This tensor's values replaced by ``src``'s (broadcast, cast to this dtype), in place;
    the gradient flows to ``src``."""
    if not isinstance(src, Tensor):
        src = Tensor._make(array_module(input.array).asarray(src, dtype=input.dtype), False, None)
    return input._modify_in_place("copy_", lambda source: CopyFrom.apply(source, src))
