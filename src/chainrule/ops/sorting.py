"""Sorting: ``sort``, ``argsort``, ``msort`` and ``topk``.

Sorting only moves elements, so the gradient of the sorted values goes back
to where each came from: one scatter of the input's shape (its backward a
gather, so every order works). The sort is stable, and NaN sorts as the
largest value, as in PyTorch. ``sort`` and ``topk`` are one graph node with
two outputs, the values and their int64 indices (which never require grad).

    >>> import chainrule as cr
    >>> cr.tensor([3.0, 1.0, 2.0]).sort(descending=True)
    sort(values=tensor([3., 2., 1.]), indices=tensor([0, 2, 1]))
"""

from collections import namedtuple

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.indexing import ScatterAdd, along_dim
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

__all__ = ["Select", "sort_order", "select"]

# What sort and topk return, as torch.return_types.sort and .topk.
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


class Select(Function):
    """(x at index along dim, index);  d/dx = the gradient scattered back to index.

    ``index`` (positions along ``dim``, x's shape elsewhere) names each
    element once, so the scatter is a plain write. The base of sort, topk,
    kthvalue, median and mode: each subclass names its op.
    """

    @staticmethod
    def forward(ctx, x, index, dim, keepdim):
        xp = array_module(x.array)
        values = x.array.reshape(1) if x.ndim == 0 else x.array
        picked = xp.take_along_axis(values, index, axis=dim)
        ctx.input_shape, ctx.dim, ctx.index = x.shape, dim, index
        shape = picked.shape
        if x.ndim == 0:
            shape = ()
        elif not keepdim:
            shape = picked.shape[:dim] + picked.shape[dim + 1:]
        return picked.reshape(shape), index.astype(np.int64).reshape(shape)

    @staticmethod
    def backward(ctx, grad, grad_indices):
        index, shape = ctx.index, ctx.input_shape
        scattered = ScatterAdd.apply(grad.reshape(index.shape), along_dim(index, ctx.dim),
                                     shape or (1,), unique=True)
        return scattered.reshape(shape), None, None, None


class Sort(Select):
    """(sorted x, where each came from) along dim;  d/dx = the gradient sent back to its place."""


class TopK(Select):
    """(the k largest (smallest) x along dim, their indices);  d/dx = 1 at each, 0 elsewhere."""


def select(op, x, index, dim, keepdim=True):
    """``(values, indices)`` of ``x`` at ``index`` along ``dim`` as one node of class ``op``."""
    return op.apply(x, index, dim, keepdim)


def sort_order(array, dim, descending=False):
    """The stable order that sorts ``array`` along ``dim`` (NaN last, or first when
    descending, as the largest value): ties keep their order in both directions."""
    xp = array_module(array)
    if not descending:
        return xp.argsort(array, axis=dim, kind="stable")
    n = array.shape[dim]
    # a stable ascending sort of the reversed array, reversed, keeps ties in their order
    reversed_order = xp.argsort(xp.flip(array, axis=dim), axis=dim, kind="stable")
    return n - 1 - xp.flip(reversed_order, axis=dim)


def _as_1d(x):
    return x.array.reshape(1) if x.ndim == 0 else x.array


@register("torch", "Tensor")
def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)``: ``input`` sorted along ``dim``; the sort is always stable
    (``stable`` is accepted for PyTorch's sake), NaN counting as the largest value."""
    x = input
    d = _check_dim(dim, x.ndim, "sort")
    order = sort_order(_as_1d(x), d, descending)
    return sort_result(*select(Sort, x, order, d))


@register("torch", "Tensor")
def argsort(input, dim=-1, descending=False, stable=False):
    """The int64 indices that sort ``input`` along ``dim`` (a stable sort)."""
    x = input
    d = _check_dim(dim, x.ndim, "argsort")
    order = sort_order(_as_1d(x), d, descending).astype(np.int64)
    return Tensor._make(order.reshape(x.shape), False, None)


@register("torch", "Tensor")
def msort(input):
    """``input`` sorted along its first dimension: ``sort(input, dim=0).values``."""
    return sort(input, dim=0).values


@register("torch", "Tensor")
def topk(input, k, dim=-1, largest=True, sorted=True):
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) elements along
    ``dim``, in sorted order; the gradient goes to the elements picked."""
    x = input
    d = _check_dim(dim, x.ndim, "topk")
    size = x.shape[d] if x.ndim else 1
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= size:
        raise ValueError(f"topk: k={k!r} is out of range for dimension {d} of size {size} "
                         f"(input of shape {tuple(x.shape)}); expected 0 <= k <= {size}")
    order = sort_order(_as_1d(x), d, descending=largest)
    picked = array_module(order).take(order, np.arange(k), axis=d)
    return topk_result(*select(TopK, x, picked, d))
