"""Broadcasting and its adjoint, the two ops the engine itself needs.

Broadcasting copies an array along new or size-1 dimensions; the adjoint of
a copy is a sum, so a gradient that arrives in the broadcast shape is summed
back to the input's shape. The engine does that for every op, in one place
(``engine._conform``): rules such as ``Mul``'s return ``grad * b`` and
need not know that ``a`` was broadcast. ``broadcast_to`` and
``sum_to_shape`` are each other's backward, so this works to any order.
"""

from chainrule.autograd.function import Function
from chainrule.device import array_module

__all__ = ["View", "BroadcastTo", "SumToShape", "sum_to_shape", "broadcast_to_shape"]


class View(Function):
    """A Function whose result shares memory (and so the version counter) with its input."""

    @classmethod
    def apply(cls, x, *args, **params):
        out = super().apply(x, *args, **params)
        out._version = x._version
        out._view_of = x
        return out


class BroadcastTo(View):
    """Copies along new or size-1 dimensions;  the gradient is summed back over them."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        try:
            return array_module(x.array).broadcast_to(x.array, shape)
        except ValueError:
            raise ValueError(
                f"expand: shape {tuple(x.shape)} cannot be broadcast to {tuple(shape)}; each "
                "dimension must match or be 1 (counting from the last)"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return sum_to_shape(grad, ctx.input_shape), None


class SumToShape(Function):
    """The adjoint of broadcasting: sum over the dimensions broadcasting added or stretched.

    Its backward is ``broadcast_to``: copying the gradient back out.
    """

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
        )
        return x.array.sum(axis=axes, keepdims=True).reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to_shape(grad, ctx.input_shape), None


def sum_to_shape(x, shape):
    """Sum ``x`` down to ``shape``, undoing broadcasting; ``x`` itself if already that shape.

    >>> import chainrule as cr
    >>> sum_to_shape(cr.ones(2, 3), (1, 3))
    tensor([[2., 2., 2.]])
    """
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumToShape.apply(x, shape)


def broadcast_to_shape(x, shape):
    """A view of ``x`` broadcast to ``shape``; ``x`` itself if already that shape."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return BroadcastTo.apply(x, shape)
