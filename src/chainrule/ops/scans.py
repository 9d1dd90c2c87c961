"""Scans: running results along one dim (``cumprod``, ``cummax``, ``cummin``, ``logcumsumexp``).

Output ``i`` depends on inputs ``0..i`` along ``dim``, so each backward is a
scan running the other way (``cumsum`` and its reversed twin live in
``ops/reduction.py``). A 0-d tensor is scanned as its one element.

    >>> import chainrule as cr
    >>> cr.tensor([1.0, 3.0, 2.0, 5.0]).cummax(0)
    cummax(values=tensor([1., 3., 3., 5.]), indices=tensor([0, 1, 1, 3]))
"""

from collections import namedtuple

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.elementwise import exp, where
from chainrule.ops.indexing import ScatterAdd, along_dim
from chainrule.ops.joining import stack
from chainrule.ops.reduction import ReversedCumSum, _cast, prod
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

# What cummax and cummin return, as torch.return_types.cummax and .cummin.
cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])


def _as_1d(x):
    """The array to scan: a 0-d tensor's one element as shape (1,)."""
    return x.array.reshape(1) if x.ndim == 0 else x.array


class CumProd(Function):
    """y_i = prod_{j <= i} x_j;  dL/dx_j = sum_{i >= j} g_i prod_{k <= i, k != j} x_k.

    Without zeros that is ``reversed_cumsum(g * y) / x``; where a slice holds a
    zero the division is undefined, so the product of the others is formed
    explicitly (``prod`` over a masked (n, n) copy of the slice), as exact at
    zeros as PyTorch's.
    """

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_for_backward(x)
        ctx.dim = dim
        return ctx.save_result(array_module(x.array).cumprod(_as_1d(x), axis=dim).reshape(x.shape))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if x.ndim == 0:
            return grad, None
        if (x.array != 0).all():
            return ReversedCumSum.apply(grad * ctx.result, ctx.dim) / x, None
        return _cumprod_grad_with_zeros(x, grad, ctx.dim), None


def _cumprod_grad_with_zeros(x, grad, dim):
    """sum_i g_i prod_{k <= i, k != j} x_k, with the (i, k) pairs laid out explicitly."""
    n = x.shape[dim]
    moved_x = x.transpose(dim, -1)
    moved_g = grad.transpose(dim, -1)
    xp = array_module(x.array)
    upto = Tensor._make(xp.tril(xp.ones((n, n), dtype=bool)), False, None)  # k <= i
    # rows i, columns k: x_k where k <= i, else 1; then for each j the product over k != j
    table = where(upto, moved_x.unsqueeze(-2), 1.0)  # (..., i, k)
    per_j = []
    for j in range(n):
        others = where(Tensor._make(xp.arange(n) == j, False, None), 1.0, table)
        per_j.append((prod(others, -1) * moved_g * upto[:, j]).sum(-1))
    return stack(per_j, -1).transpose(dim, -1)


@register("torch", "Tensor", inplace=True)
def cumprod(input, dim, *, dtype=None):
    """Running products along ``dim``: y_i = x_0 * x_1 * ... * x_i.

    Integer and bool inputs give int64, as in PyTorch.
    """
    if dtype is None and input.dtype.kind in "biu":
        dtype = np.int64
    input = _cast(input, dtype)
    return CumProd.apply(input, _check_dim(dim, input.ndim, "cumprod"))


class _RunningExtreme(Function):
    """Shared by CumMax and CumMin: values and int64 indices, one node with two outputs.

    The index is the last position where the running extreme was reached (ties
    move it forward, as PyTorch); a NaN wins and stays. The values' gradient
    goes back to those indices, summed where several outputs share one.
    """

    accumulate = None  # the array module's ufunc name: "maximum" or "minimum"

    @staticmethod
    def forward(ctx, x, dim):
        xp = array_module(x.array)
        values = _as_1d(x)
        running = getattr(xp, type(ctx).accumulate).accumulate(values, axis=dim)
        reached = (values == running) | xp.isnan(values)
        shape = [1] * values.ndim
        shape[dim] = values.shape[dim]
        positions = xp.arange(values.shape[dim]).reshape(shape)
        index = xp.maximum.accumulate(xp.where(reached, positions, 0), axis=dim)
        ctx.index, ctx.dim, ctx.input_shape = index, dim, x.shape
        return running.reshape(x.shape), index.astype(np.int64).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad, grad_indices):
        index = ctx.index
        scattered = ScatterAdd.apply(grad.reshape(index.shape), along_dim(index, ctx.dim),
                                     index.shape)
        return scattered.reshape(ctx.input_shape), None


class CumMax(_RunningExtreme):
    """(max_{j <= i} x_j, its index);  d/dx = 1 at each output's index, summed."""

    accumulate = "maximum"


class CumMin(_RunningExtreme):
    """(min_{j <= i} x_j, its index);  d/dx = 1 at each output's index, summed."""

    accumulate = "minimum"


@register("torch", "Tensor")
def cummax(input, dim):
    """Running maxima along ``dim`` and where each was reached: ``(values, indices)``."""
    return cummax_result(*CumMax.apply(input, _check_dim(dim, input.ndim, "cummax")))


@register("torch", "Tensor")
def cummin(input, dim):
    """Running minima along ``dim`` and where each was reached: ``(values, indices)``."""
    return cummin_result(*CumMin.apply(input, _check_dim(dim, input.ndim, "cummin")))


class LogCumSumExp(Function):
    """y_i = log sum_{j <= i} e**x_j;  dL/dx_j = sum_{i >= j} g_i e**(x_j - y_i).

    The forward accumulates ``logaddexp``, exact for any range of values. The
    backward is ``e**(x - c) * reversed_cumsum(g * e**(c - y))`` with ``c`` the
    slice's largest input, which stays finite unless the inputs of one slice
    span more than about 700 (float64's exponent range).
    """

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_for_backward(x)
        ctx.dim = dim
        xp = array_module(x.array)
        with np.errstate(invalid="ignore"):
            out = xp.logaddexp.accumulate(_as_1d(x), axis=dim).reshape(x.shape)
        return ctx.save_result(out)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if x.ndim == 0:
            return grad, None
        xp = array_module(x.array)
        largest = xp.max(x.array, axis=ctx.dim, keepdims=True)
        shift = Tensor._make(xp.where(xp.isfinite(largest), largest, 0), False, None)
        scaled = ReversedCumSum.apply(grad * exp(shift - ctx.result), ctx.dim)
        return exp(x - shift) * scaled, None


@register("torch", "Tensor")
def logcumsumexp(input, dim):
    """log(cumsum(exp(x))) along ``dim``, computed without overflow."""
    if input.dtype.kind != "f":
        raise TypeError(f"logcumsumexp: expected a floating point tensor, got {input.dtype}; "
                        "convert it first, e.g. x.float()")
    return LogCumSumExp.apply(input, _check_dim(dim, input.ndim, "logcumsumexp"))
