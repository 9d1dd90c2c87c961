"""Reductions: many numbers to fewer, along ``dim`` (an int, a tuple, or all).

``dim`` and ``keepdim`` are PyTorch's names. A reduction's backward puts
back the dimensions it removed (``keepdim``) and broadcasts the gradient over
them: each input element gets the gradient of the output it went into,
times how much it moved that output.
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.tensor import _check_dim

__all__ = ["sum", "mean", "normalize_dims", "restore_dims"]


class Sum(Function):
    """sum_i x_i;  d/dx_i = 1: every element gets the output's gradient."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.input_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return x.data.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        grad = restore_dims(grad, ctx.input_shape, ctx.dims, ctx.keepdim)
        return grad.broadcast_to(ctx.input_shape), None, None


def sum(x, dim=None, keepdim=False):
    """Sum of the elements, over ``dim`` (all dimensions by default)."""
    return Sum.apply(x, normalize_dims(dim, x.ndim, "sum"), keepdim)


def mean(x, dim=None, keepdim=False):
    """sum / count: composed of ``sum`` and a division, so it needs no backward of its own."""
    dims = normalize_dims(dim, x.ndim, "mean")
    count = int(np.prod([x.shape[d] for d in dims])) if dims is not None else x.data.size
    return Sum.apply(x, dims, keepdim) / count  # 0 / 0 = nan for an empty tensor, as in PyTorch


def normalize_dims(dim, ndim, op):
    """``dim`` as a sorted tuple of non-negative ints, or None for all dimensions."""
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    normalized = tuple(sorted({_check_dim(d, ndim, op) for d in dims}))
    if len(normalized) != len(dims):
        raise ValueError(f"{op}: dim {dim} names a dimension twice")
    return normalized if ndim else None


def restore_dims(grad, input_shape, dims, keepdim):
    """Reinsert the reduced dimensions as size 1, so ``grad`` broadcasts against the input."""
    if keepdim:
        return grad
    if dims is None:
        return grad.reshape((1,) * len(input_shape))
    shape = list(grad.shape)
    for d in dims:
        shape.insert(d, 1)
    return grad.reshape(tuple(shape))


METHODS = {"sum": sum, "mean": mean}
