"""Reductions: many numbers to fewer, along ``dim`` (an int, a tuple, or all).

``dim`` and ``keepdim`` are PyTorch's names; an empty tuple means all
dimensions, as in PyTorch. A reduction's backward puts back the dimensions it
removed (``keepdim``) and broadcasts the gradient over them: each input
element gets the gradient of the output it went into, times how much it
moved that output.

Primitives here: ``sum``, ``amax``/``amin`` (and ``max``/``min``),
selection along a dim (``max(x, dim)``: values and indices, one node with
two outputs), ``logsumexp``, ``prod`` and ``cumsum``. ``mean``, ``var`` and
``std`` are composed from them.
"""

import builtins
import math
from collections import namedtuple

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.elementwise import exp, maximum, minimum, sqrt, where
from chainrule.ops.indexing import ScatterAdd, along_dim
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

__all__ = ["normalize_dims", "restore_dims"]  # helpers for other ops; the ops are registered

# What max(x, dim) and min(x, dim) return, as torch.return_types.max and .min.
max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


# ---------------------------------------------------------------- sum, mean


class Sum(Function):
    """sum_i x_i;  d/dx_i = 1: every element gets the output's gradient."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.input_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return _array(x.array, x.array.sum(axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        grad = restore_dims(grad, ctx.input_shape, ctx.dims, ctx.keepdim)
        return grad.broadcast_to(ctx.input_shape), None, None


@register("torch", "Tensor")
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of the elements, over ``dim`` (all dimensions by default)."""
    input = _cast(input, dtype)
    return Sum.apply(input, normalize_dims(dim, input.ndim, "sum"), keepdim)


@register("torch", "Tensor")
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """sum / count: composed of ``sum`` and a division, so it needs no backward of its own."""
    input = _cast(input, dtype)
    dims = normalize_dims(dim, input.ndim, "mean")
    return Sum.apply(input, dims, keepdim) / _count(input, dims)  # 0 / 0 = nan when empty


# ------------------------------------------------------------ max and min


class _Extreme(Function):
    """Shared by AMax and AMin: the largest (smallest) element over ``dims``."""

    reducer = None  # the array module's function: "max" or "min"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.keepdim = dims, keepdim
        xp = array_module(x.array)
        best = getattr(xp, type(ctx).reducer)(x.array, axis=dims, keepdims=keepdim)
        return ctx.save_result(xp.asarray(best))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = array_module(x.array)
        best = restore_dims(ctx.result, x.shape, ctx.dims, ctx.keepdim).array
        # NaN wins a max (it propagates); then the NaNs share the gradient, as PyTorch's max()
        winners = (x.array == best) | (xp.isnan(x.array) & xp.isnan(best))
        share = winners / winners.sum(axis=ctx.dims, keepdims=True)
        grad = restore_dims(grad, x.shape, ctx.dims, ctx.keepdim)
        return grad * Tensor._make(share.astype(x.dtype), False, None), None, None


class AMax(_Extreme):
    """max_i x_i;  d/dx_i = 1/k at each of the k maxima (ties share evenly), 0 elsewhere."""

    reducer = "max"


class AMin(_Extreme):
    """min_i x_i;  d/dx_i = 1/k at each of the k minima (ties share evenly), 0 elsewhere."""

    reducer = "min"


class _SelectAlongDim(Function):
    """Shared by Max and Min: two outputs, the values and their int64 indices along ``dim``.

    One node for both: only the values carry a gradient, which goes back to
    the selected index (the first of a tie, as PyTorch) by one scatter of the
    input's shape; that scatter's backward is a gather, so every order works.
    """

    pick = None  # the array module's function: "argmax" or "argmin"

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        xp = array_module(x.array)
        values = x.array.reshape(1) if x.ndim == 0 else x.array  # a 0-d tensor: its one element
        index = getattr(xp, type(ctx).pick)(values, axis=dim, keepdims=True)
        picked = xp.take_along_axis(values, index, axis=dim)
        ctx.input_shape, ctx.dim, ctx.index = x.shape, dim, index
        shape = picked.shape if keepdim and x.ndim else _reduced_shape(x.shape, (dim,))
        return picked.reshape(shape), index.astype(np.int64).reshape(shape)

    @staticmethod
    def backward(ctx, grad, grad_indices):
        index, shape = ctx.index, ctx.input_shape
        scattered = ScatterAdd.apply(grad.reshape(index.shape), along_dim(index, ctx.dim),
                                     shape or (1,), unique=True)
        return scattered.reshape(shape), None, None


class Max(_SelectAlongDim):
    """(max_i x_i, argmax_i x_i) along dim;  d/dx = 1 at the selected index, 0 elsewhere."""

    pick = "argmax"


class Min(_SelectAlongDim):
    """(min_i x_i, argmin_i x_i) along dim;  d/dx = 1 at the selected index, 0 elsewhere."""

    pick = "argmin"


@register("torch", "Tensor")
def amax(input, dim=None, keepdim=False):
    """The largest element over ``dim`` (all by default); ties share the gradient evenly.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> x.amax().backward()
    >>> x.grad
    tensor([0.0000, 0.5000, 0.5000])
    """
    dims = normalize_dims(dim, input.ndim, "amax")
    _check_not_empty(input, dims, "amax")
    return AMax.apply(input, dims, keepdim)


@register("torch", "Tensor")
def amin(input, dim=None, keepdim=False):
    """The smallest element over ``dim`` (all by default); ties share the gradient evenly."""
    dims = normalize_dims(dim, input.ndim, "amin")
    _check_not_empty(input, dims, "amin")
    return AMin.apply(input, dims, keepdim)


@register("torch", "Tensor")
def max(input, dim=None, keepdim=False):
    """As ``torch.max``: three forms.

    - ``max(x)``: the largest element (a tensor); ties share the gradient evenly.
    - ``max(x, dim)``: ``(values, indices)`` along one dim, one graph node with
      two outputs; the index is the first maximum's, and only it gets the gradient.
    - ``max(x, other)``: the elementwise ``maximum`` of two tensors.

    >>> import chainrule as cr
    >>> cr.tensor([[1.0, 5.0], [7.0, 7.0]]).max(1)
    max(values=tensor([5., 7.]), indices=tensor([1, 0]))
    """
    return _extreme(input, dim, keepdim, "max", AMax, Max, max_result, maximum)


@register("torch", "Tensor")
def min(input, dim=None, keepdim=False):
    """As ``torch.min``: ``min(x)``, ``min(x, dim) -> (values, indices)``, ``min(x, other)``."""
    return _extreme(input, dim, keepdim, "min", AMin, Min, min_result, minimum)


def _extreme(x, dim, keepdim, op, whole, along_dim_op, result, elementwise):
    if isinstance(dim, Tensor):
        return elementwise(x, dim)
    if dim is None:
        _check_not_empty(x, None, op)
        return whole.apply(x, None, keepdim)
    d = _single_dim(dim, x.ndim, op)
    _check_not_empty(x, (d,) if x.ndim else None, op)
    return result(*along_dim_op.apply(x, d, keepdim))


@register("torch", "Tensor")
def argmax(input, dim=None, keepdim=False):
    """Index of the (first) largest element along ``dim``, or in the flattened tensor; int64."""
    return _arg_extreme(input, dim, keepdim, "argmax")


@register("torch", "Tensor")
def argmin(input, dim=None, keepdim=False):
    """Index of the (first) smallest element along ``dim``, or in the flattened tensor; int64."""
    return _arg_extreme(input, dim, keepdim, "argmin")


def _arg_extreme(x, dim, keepdim, op):
    xp = array_module(x.array)
    arg = getattr(xp, op)
    if dim is None:
        _check_not_empty(x, None, op)
        index = xp.asarray(arg(x.array), dtype=np.int64)
        return Tensor._make(index.reshape((1,) * x.ndim) if keepdim else index, False, None)
    d = _single_dim(dim, x.ndim, op)
    _check_not_empty(x, (d,) if x.ndim else None, op)
    if x.ndim == 0:
        return Tensor._make(xp.zeros((), np.int64), False, None)
    return Tensor._make(arg(x.array, axis=d, keepdims=keepdim).astype(np.int64), False, None)


# ---------------------------------------------------------------- var, std


@register("torch", "Tensor")
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sum (x - mean)**2 / (N - correction): composed of mean, sum and a division.

    ``correction=1`` (Bessel's, the default) is the sample variance, 0 the
    population's; ``unbiased=True/False`` is PyTorch's older spelling of 1/0
    (``var(x, dim, unbiased, keepdim)``, ``var(x, unbiased)``). As in PyTorch,
    the divisor is max(N - correction, 0), so too few elements give inf or nan.
    """
    correction = _correction(dim, correction, unbiased, "var")
    if isinstance(dim, bool):  # var(x, False): PyTorch's var(unbiased) form
        dim = None
    _check_floating(input, "var")
    dims = normalize_dims(dim, input.ndim, "var")
    deviation = input - mean(input, dims, keepdim=True)
    return (sum(deviation * deviation, dims, keepdim)
            / builtins.max(_count(input, dims) - correction, 0))


@register("torch", "Tensor")
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sqrt(var(x)): composed. Where std is 0 the gradient is 0, as in PyTorch (not inf * 0)."""
    correction = _correction(dim, correction, unbiased, "std")
    if isinstance(dim, bool):
        dim = None
    _check_floating(input, "std")
    variance = var(input, dim, keepdim=keepdim, correction=correction)
    zero = variance.array == 0
    return where(zero, 0.0, sqrt(where(zero, 1.0, variance)))


def _correction(dim, correction, unbiased, op):
    if isinstance(dim, bool):
        unbiased = dim
    if unbiased is None:
        return 1 if correction is None else correction
    if correction is not None:
        raise TypeError(f"{op}: give correction ({correction}) or unbiased ({unbiased}), not "
                        "both; unbiased=True is correction=1, unbiased=False is correction=0")
    return 1 if unbiased else 0


# -------------------------------------------------------------- logsumexp


class LogSumExp(Function):
    """log sum_i e**x_i;  d/dx_i = e**(x_i - result), the softmax of x."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.keepdim = dims, keepdim
        xp = array_module(x.array)
        values = x.array if x.dtype.kind == "f" else x.array.astype(np.float32)
        # Subtracting the max keeps e**x from overflowing; an infinite max (all -inf, or
        # some +inf) is left unshifted so that -inf - -inf does not make a nan, as PyTorch.
        shift = values.max(axis=dims, keepdims=True) if values.size else xp.zeros(())
        shift = xp.where(xp.isfinite(shift), shift, 0).astype(values.dtype)
        with np.errstate(divide="ignore"):  # log(0) = -inf: an empty or all -inf slice
            out = xp.log(xp.exp(values - shift).sum(axis=dims, keepdims=True)) + shift
        return ctx.save_result(out if keepdim else out.reshape(_reduced_shape(x.shape, dims)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        result = restore_dims(ctx.result, x.shape, ctx.dims, ctx.keepdim)
        with np.errstate(invalid="ignore"):  # -inf - -inf: a slice of all -inf, nan as PyTorch
            softmax = exp(x - result)
        return restore_dims(grad, x.shape, ctx.dims, ctx.keepdim) * softmax, None, None


@register("torch", "Tensor")
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, without overflow: ±1e4 gives finite values and gradients.

    >>> import chainrule as cr
    >>> cr.tensor([1e4, 1e4]).logsumexp(0)
    tensor(10000.6934)
    """
    return LogSumExp.apply(input, normalize_dims(dim, input.ndim, "logsumexp"), keepdim)


# ------------------------------------------------------------------- prod


class Prod(Function):
    """prod_i x_i;  d/dx_i = prod_{j != i} x_j, the product of the others.

    The others' product is computed without dividing by x_i, so it is exact
    where x has zeros: with one zero only that element gets a gradient, with
    two or more none does.
    """

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.keepdim = dims, keepdim
        xp = array_module(x.array)
        return xp.asarray(xp.prod(x.array, axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        grad = restore_dims(grad, x.shape, ctx.dims, ctx.keepdim)
        return grad * ProductOfOthers.apply(x, ctx.dims), None, None


class ProductOfOthers(Function):
    """o_i = prod_{j != i} x_j;  d o_i / d x_k = prod_{j != i, k} x_j (k != i), 0 (k == i).

    prod's derivative, over ``dims``, from exclusive cumulative products.

    Its backward, v_k = sum_{i != k} g_i prod_{j != i, k} x_j, is written per
    slice for 0, 1, 2 or more zeros in the slice, in Tensor ops, so prod's
    second derivative is exact everywhere (zeros included). NOTE: prod's third
    and higher derivatives are exact only for slices without zeros: there the
    formula is a product of the others divided by x, which has no zero case.
    """

    @staticmethod
    def forward(ctx, x, dims):
        ctx.save_for_backward(x)
        ctx.dims = dims
        return _exclusive_products(x.array, dims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        dims = ctx.dims
        zero = x.array == 0
        zeros = zero.sum(axis=dims, keepdims=True)
        nonzero_x = where(zero, 1.0, x)
        q = prod(nonzero_x, dims, keepdim=True)  # the product of the slice's nonzero elements
        inverse = 1 / nonzero_x
        grad_over_x = grad * inverse
        h = sum(where(zero, 0.0, grad_over_x), dims, keepdim=True)  # sum of g_i / x_i, x_i != 0
        grad_at_zeros = sum(where(zero, grad, 0.0), dims, keepdim=True)
        no_zero = q * inverse * (h - grad_over_x)
        one_zero = where(zero, q * h, q * grad_at_zeros * inverse)
        two_zeros = where(zero, q * (grad_at_zeros - grad), 0.0)  # each zero gets the other's g
        return where(zeros == 0, no_zero,
                     where(zeros == 1, one_zero, where(zeros == 2, two_zeros, 0.0))), None


@register("torch", "Tensor")
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of the elements over ``dim`` (all by default); exact gradients with zeros."""
    input = _cast(input, dtype)
    return Prod.apply(input, normalize_dims(dim, input.ndim, "prod"), keepdim)


def _exclusive_products(values, dims):
    """prod_{j != i} x_j for every i, over ``dims``: (product before i) * (product after i)."""
    xp = array_module(values)
    reduced = tuple(range(values.ndim)) if dims is None else dims
    kept = tuple(d for d in range(values.ndim) if d not in reduced)
    order = kept + reduced
    moved = values.transpose(order)
    flat = moved.reshape(moved.shape[:len(kept)] + (math.prod(moved.shape[len(kept):]),))
    before = xp.ones_like(flat)
    after = xp.ones_like(flat)
    before[..., 1:] = xp.cumprod(flat[..., :-1], axis=-1)
    after[..., :-1] = xp.cumprod(flat[..., :0:-1], axis=-1)[..., ::-1]
    return (before * after).reshape(moved.shape).transpose(inverse_permutation(order))


# ----------------------------------------------------------------- cumsum


class CumSum(Function):
    """y_i = sum_{j <= i} x_j along dim;  d/dx_j = sum_{i >= j} g_i, a reversed cumsum."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        values = x.array.reshape(1) if x.ndim == 0 else x.array
        return array_module(values).cumsum(values, axis=dim).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        return ReversedCumSum.apply(grad, ctx.dim), None


class ReversedCumSum(Function):
    """y_i = sum_{j >= i} x_j along dim (cumsum's backward);  its backward is cumsum."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        xp = array_module(x.array)
        flipped = xp.flip(x.array.reshape(1) if x.ndim == 0 else x.array, axis=dim)
        return xp.flip(xp.cumsum(flipped, axis=dim), axis=dim).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        return CumSum.apply(grad, ctx.dim), None


@register("torch", "Tensor")
def cumsum(input, dim, *, dtype=None):
    """Running sums along ``dim``: y_i = x_0 + ... + x_i."""
    input = _cast(input, dtype)
    return CumSum.apply(input, _check_dim(dim, input.ndim, "cumsum"))


# --------------------------------------------------------------- all, any


@register("torch", "Tensor")
def all(input, dim=None, keepdim=False):
    """True where every element over ``dim`` is nonzero; a bool tensor, not differentiable."""
    dims = normalize_dims(dim, input.ndim, "all")
    xp = array_module(input.array)
    return Tensor._make(xp.asarray(xp.all(input.array, axis=dims, keepdims=keepdim)), False, None)


@register("torch", "Tensor")
def any(input, dim=None, keepdim=False):
    """True where some element over ``dim`` is nonzero; a bool tensor, not differentiable."""
    dims = normalize_dims(dim, input.ndim, "any")
    xp = array_module(input.array)
    return Tensor._make(xp.asarray(xp.any(input.array, axis=dims, keepdims=keepdim)), False, None)


# ---------------------------------------------------------------- helpers


def normalize_dims(dim, ndim, op):
    """``dim`` as a sorted tuple of non-negative ints, or None for all dimensions.

    An empty tuple means all dimensions too, as in PyTorch (``x.sum(())``).
    """
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    normalized = tuple(sorted({_check_dim(d, ndim, op) for d in dims}))
    if len(normalized) != len(dims):
        raise ValueError(f"{op}: dim {dim} names a dimension twice")
    return normalized if ndim and normalized else None


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


def inverse_permutation(order):
    """The permutation that undoes ``order`` (``argsort`` of it), as a tuple of ints."""
    inverse = [0] * len(order)
    for position, d in enumerate(order):
        inverse[d] = position
    return tuple(inverse)


def _reduced_shape(shape, dims):
    return () if dims is None else tuple(n for d, n in enumerate(shape) if d not in dims)


def _count(x, dims):
    """How many elements go into each output of a reduction over ``dims``."""
    return x.array.size if dims is None else math.prod(x.shape[d] for d in dims)


def _array(like, value):
    """A reduction's result as an array: numpy gives a scalar when it reduces to one number."""
    return value if value.ndim else array_module(like).asarray(value)


def _cast(x, dtype):
    return x if dtype is None else x.to(dtype)


def _single_dim(dim, ndim, op):
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be one int, got {type(dim).__name__} {tuple(dim)}; "
                        f"use amax/amin to reduce over several dimensions")
    return _check_dim(dim, ndim, op)


def _check_not_empty(x, dims, op):
    """There is no max (min, argmax...) of no elements: PyTorch's errors, with the shape."""
    if dims is None and x.array.size == 0:
        raise ValueError(
            f"{op}: the tensor of shape {tuple(x.shape)} is empty, so it has no {op}; specify "
            "the reduction dim with the 'dim' argument (one whose size is not 0)"
        )
    for d in dims or ():
        if x.shape[d] == 0:
            raise IndexError(
                f"{op}: expected reduction dim {d} to have non-zero size, but the tensor has "
                f"shape {tuple(x.shape)}; there is no {op} of no elements"
            )


def _check_floating(x, op):
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: only floating point tensors are supported, got {x.dtype}; "
                        "convert it first, e.g. x.float()")
