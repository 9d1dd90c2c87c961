"""Copies and dtype changes: ``clone``, ``to``, ``float``, ``double``, ``long``, ...

A copy's derivative is the identity; a cast's backward casts the gradient
back to the input's dtype. Casting to an integer or bool dtype is not
differentiable: the result never requires grad.
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.tensor import Tensor, _as_dtype

__all__ = ["clone", "to"]


class Clone(Function):
    """A copy with its own memory;  d/dx = identity."""

    @staticmethod
    def forward(ctx, x):
        return x.data.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cast(Function):
    """The same values in another float dtype;  the gradient is cast back."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.data.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.input_dtype), None


def clone(x):
    return Clone.apply(x)


def to(x, dtype):
    """``x`` as ``dtype`` (``x`` itself if it already is, as in PyTorch)."""
    dtype = _as_dtype(dtype)
    if x.dtype == dtype:
        return x
    if dtype.kind != "f":  # integer and bool results carry no gradient
        return Tensor._make(x.data.astype(dtype), False, None)
    return Cast.apply(x, dtype)


METHODS = {
    "clone": clone, "to": to,
    "float": lambda x: to(x, np.float32), "double": lambda x: to(x, np.float64),
    "half": lambda x: to(x, np.float16), "long": lambda x: to(x, np.int64),
    "int": lambda x: to(x, np.int32), "bool": lambda x: to(x, np.bool_),
    "contiguous": lambda x: x,
}
