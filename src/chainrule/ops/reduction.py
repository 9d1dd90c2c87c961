"""Reductions: many numbers to fewer, along ``dim`` (an int, a tuple, or all).

``dim`` and ``keepdim`` are PyTorch's names; an empty tuple means all
dimensions, as in PyTorch. A reduction's backward puts back the dimensions it
removed (``keepdim``) and broadcasts the gradient over them: each input
element gets the gradient of the output it went into, times how much it
moved that output.

Primitives here: ``sum``, ``amax``/``amin`` (and ``max``/``min``),
selection along a dim (``max(x, dim)``), ``logsumexp``, ``prod`` and
``cumsum``. ``mean``, ``var`` and ``std`` are composed from them.
"""

import builtins
from collections import namedtuple

import numpy as np

from chainrule.autograd.function import Function
from chainrule.ops.elementwise import exp, maximum, minimum, sqrt, where
from chainrule.tensor import Tensor, _check_dim

__all__ = ["sum", "mean", "normalize_dims", "restore_dims", "max", "min", "amax", "amin",
           "argmax", "argmin", "var", "std", "logsumexp", "prod", "all", "any", "cumsum"]

# What max(x, dim) and min(x, dim) return, as torch.return_types.max and .min.
max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


# ---------------------------------------------------------------- sum, mean


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
    return Sum.apply(x, dims, keepdim) / _count(x, dims)  # 0 / 0 = nan when empty, as PyTorch


# ------------------------------------------------------------ max and min


class _Extreme(Function):
    """Shared by AMax and AMin: the largest (smallest) element over ``dims``."""

    reducer = None

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.keepdim = dims, keepdim
        return ctx.save_result(type(ctx).reducer(x.data, axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        best = restore_dims(ctx.result, x.shape, ctx.dims, ctx.keepdim).data
        # NaN wins a max (it propagates); then the NaNs share the gradient, as PyTorch's max()
        winners = (x.data == best) | (np.isnan(x.data) & np.isnan(best))
        share = winners / winners.sum(axis=ctx.dims, keepdims=True)
        grad = restore_dims(grad, x.shape, ctx.dims, ctx.keepdim)
        return grad * Tensor._make(share.astype(x.dtype), False, None), None, None


class AMax(_Extreme):
    """max_i x_i;  d/dx_i = 1/k at each of the k maxima (ties share evenly), 0 elsewhere."""

    reducer = staticmethod(np.max)


class AMin(_Extreme):
    """min_i x_i;  d/dx_i = 1/k at each of the k minima (ties share evenly), 0 elsewhere."""

    reducer = staticmethod(np.min)


class _TakeAlongDim(Function):
    """Shared by Max and Min: x at ``indices`` along ``dim`` (one element per slice)."""

    @staticmethod
    def forward(ctx, x, indices, dim, keepdim):
        ctx.input_shape, ctx.dim, ctx.keepdim, ctx.indices = x.shape, dim, keepdim, indices
        values = np.take_along_axis(x.data, indices, axis=dim)
        return values if keepdim else values.squeeze(dim)

    @staticmethod
    def backward(ctx, grad):
        shape, dim = ctx.input_shape, ctx.dim
        positions = np.arange(shape[dim]).reshape((-1,) + (1,) * (len(shape) - dim - 1))
        chosen = Tensor._make((positions == ctx.indices).astype(grad.dtype), False, None)
        grad = restore_dims(grad, shape, (dim,), ctx.keepdim)
        return grad * chosen, None, None, None


class Max(_TakeAlongDim):
    """max_i x_i along one dim, with its index;  d/dx = 1 at that index only, 0 elsewhere."""


class Min(_TakeAlongDim):
    """min_i x_i along one dim, with its index;  d/dx = 1 at that index only, 0 elsewhere."""


def amax(x, dim=None, keepdim=False):
    """The largest element over ``dim`` (all by default); ties share the gradient evenly.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> x.amax().backward()
    >>> x.grad
    tensor([0. , 0.5, 0.5], dtype=float32)
    """
    dims = normalize_dims(dim, x.ndim, "amax")
    _check_not_empty(x, dims, "amax")
    return AMax.apply(x, dims, keepdim)


def amin(x, dim=None, keepdim=False):
    """The smallest element over ``dim`` (all by default); ties share the gradient evenly."""
    dims = normalize_dims(dim, x.ndim, "amin")
    _check_not_empty(x, dims, "amin")
    return AMin.apply(x, dims, keepdim)


def max(x, dim=None, keepdim=False):
    """As ``torch.max``: three forms.

    - ``max(x)``: the largest element (a tensor); ties share the gradient evenly.
    - ``max(x, dim)``: ``(values, indices)`` along one dim; the index is the first
      maximum's, and only it gets the gradient.
    - ``max(x, other)``: the elementwise ``maximum`` of two tensors.
    """
    return _extreme(x, dim, keepdim, "max", AMax, Max, np.argmax, max_result, maximum)


def min(x, dim=None, keepdim=False):
    """As ``torch.min``: ``min(x)``, ``min(x, dim) -> (values, indices)``, ``min(x, other)``."""
    return _extreme(x, dim, keepdim, "min", AMin, Min, np.argmin, min_result, minimum)


def _extreme(x, dim, keepdim, op, whole, along_dim, arg, result, elementwise):
    if isinstance(dim, Tensor):
        return elementwise(x, dim)
    if dim is None:
        _check_not_empty(x, None, op)
        return whole.apply(x, None, keepdim)
    d = _single_dim(dim, x.ndim, op)
    _check_not_empty(x, (d,) if x.ndim else None, op)
    if x.ndim == 0:  # the one element, at index 0
        return result(along_dim.apply(x.reshape(1), np.zeros(1, np.int64), 0, False),
                      Tensor._make(np.zeros((), np.int64), False, None))
    indices = arg(x.data, axis=d, keepdims=True).astype(np.int64)
    values = along_dim.apply(x, indices, d, keepdim)
    return result(values, Tensor._make(indices if keepdim else indices.squeeze(d), False, None))


def argmax(x, dim=None, keepdim=False):
    """Index of the (first) largest element along ``dim``, or in the flattened tensor; int64."""
    return _arg_extreme(x, dim, keepdim, np.argmax, "argmax")


def argmin(x, dim=None, keepdim=False):
    """Index of the (first) smallest element along ``dim``, or in the flattened tensor; int64."""
    return _arg_extreme(x, dim, keepdim, np.argmin, "argmin")


def _arg_extreme(x, dim, keepdim, arg, op):
    if dim is None:
        _check_not_empty(x, None, op)
        index = np.asarray(arg(x.data), dtype=np.int64)
        return Tensor._make(index.reshape((1,) * x.ndim) if keepdim else index, False, None)
    d = _single_dim(dim, x.ndim, op)
    _check_not_empty(x, (d,) if x.ndim else None, op)
    if x.ndim == 0:
        return Tensor._make(np.zeros((), np.int64), False, None)
    return Tensor._make(arg(x.data, axis=d, keepdims=keepdim).astype(np.int64), False, None)


# ---------------------------------------------------------------- var, std


def var(x, dim=None, correction=1, keepdim=False, unbiased=None):
    """sum (x - mean)**2 / (N - correction): composed of mean, sum and a division.

    ``correction=1`` (Bessel's) is the sample variance, 0 the population's;
    ``unbiased=True/False`` is the older spelling of 1/0. As in PyTorch, the
    divisor is max(N - correction, 0), so too few elements give inf or nan.
    """
    correction = _correction(dim, correction, unbiased, "var")
    if isinstance(dim, bool):  # var(x, False): PyTorch's var(unbiased) form
        dim = None
    _check_floating(x, "var")
    dims = normalize_dims(dim, x.ndim, "var")
    deviation = x - mean(x, dims, keepdim=True)
    return sum(deviation * deviation, dims, keepdim) / builtins.max(_count(x, dims) - correction, 0)


def std(x, dim=None, correction=1, keepdim=False, unbiased=None):
    """sqrt(var(x)): composed. Where std is 0 the gradient is 0, as in PyTorch (not inf * 0)."""
    correction = _correction(dim, correction, unbiased, "std")
    if isinstance(dim, bool):
        dim = None
    _check_floating(x, "std")
    variance = var(x, dim, correction, keepdim)
    zero = variance.data == 0
    return where(zero, 0.0, sqrt(where(zero, 1.0, variance)))


def _correction(dim, correction, unbiased, op):
    if isinstance(dim, bool):
        unbiased = dim
    if unbiased is None:
        return correction
    if correction != 1:
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
        values = x.data if x.dtype.kind == "f" else x.data.astype(np.float32)
        # Subtracting the max keeps e**x from overflowing; an infinite max (all -inf, or
        # some +inf) is left unshifted so that -inf - -inf does not make a nan, as PyTorch.
        shift = np.max(values, axis=dims, keepdims=True) if values.size else np.zeros(())
        shift = np.where(np.isfinite(shift), shift, 0).astype(values.dtype)
        with np.errstate(divide="ignore"):  # log(0) = -inf: an empty or all -inf slice
            out = np.log(np.sum(np.exp(values - shift), axis=dims, keepdims=True)) + shift
        return ctx.save_result(out if keepdim else out.reshape(_reduced_shape(x.shape, dims)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        result = restore_dims(ctx.result, x.shape, ctx.dims, ctx.keepdim)
        with np.errstate(invalid="ignore"):  # -inf - -inf: a slice of all -inf, nan as PyTorch
            softmax = exp(x - result)
        return restore_dims(grad, x.shape, ctx.dims, ctx.keepdim) * softmax, None, None


def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, without overflow: ±1e4 gives finite values and gradients.

    >>> import chainrule as cr
    >>> cr.tensor([1e4, 1e4]).logsumexp(0)
    tensor(10000.693, dtype=float32)
    """
    return LogSumExp.apply(x, normalize_dims(dim, x.ndim, "logsumexp"), keepdim)


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
        return np.prod(x.data, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        grad = restore_dims(grad, x.shape, ctx.dims, ctx.keepdim)
        return grad * ProductOfOthers.apply(x, ctx.dims), None, None


class ProductOfOthers(Function):
    """o_i = prod_{j != i} x_j over ``dims`` (prod's derivative), from exclusive cumulative
    products;  d o_i / d x_k = prod_{j != i, k} x_j for k != i, and 0 for k == i.

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
        return _exclusive_products(x.data, dims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        dims = ctx.dims
        zero = x.data == 0
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


def prod(x, dim=None, keepdim=False):
    """Product of the elements over ``dim`` (all by default); exact gradients with zeros."""
    return Prod.apply(x, normalize_dims(dim, x.ndim, "prod"), keepdim)


def _exclusive_products(values, dims):
    """prod_{j != i} x_j for every i, over ``dims``: (product before i) * (product after i)."""
    reduced = tuple(range(values.ndim)) if dims is None else dims
    kept = tuple(d for d in range(values.ndim) if d not in reduced)
    order = kept + reduced
    moved = values.transpose(order)
    flat = moved.reshape(moved.shape[:len(kept)] + (int(np.prod(moved.shape[len(kept):])),))
    before = np.ones_like(flat)
    after = np.ones_like(flat)
    np.cumprod(flat[..., :-1], axis=-1, out=before[..., 1:])
    after[..., :-1] = np.cumprod(flat[..., :0:-1], axis=-1)[..., ::-1]
    return (before * after).reshape(moved.shape).transpose(np.argsort(order))


# ----------------------------------------------------------------- cumsum


class CumSum(Function):
    """y_i = sum_{j <= i} x_j along dim;  d/dx_j = sum_{i >= j} g_i, a reversed cumsum."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(np.atleast_1d(x.data), axis=dim).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        return ReversedCumSum.apply(grad, ctx.dim), None


class ReversedCumSum(Function):
    """y_i = sum_{j >= i} x_j along dim (cumsum's backward);  its backward is cumsum."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        flipped = np.flip(np.atleast_1d(x.data), axis=dim)
        return np.flip(np.cumsum(flipped, axis=dim), axis=dim).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        return CumSum.apply(grad, ctx.dim), None


def cumsum(x, dim):
    """Running sums along ``dim``: y_i = x_0 + ... + x_i."""
    return CumSum.apply(x, _check_dim(dim, x.ndim, "cumsum"))


# --------------------------------------------------------------- all, any


def all(x, dim=None, keepdim=False):
    """True where every element over ``dim`` is nonzero; a bool tensor, not differentiable."""
    dims = normalize_dims(dim, x.ndim, "all")
    return Tensor._make(np.asarray(np.all(x.data, axis=dims, keepdims=keepdim)), False, None)


def any(x, dim=None, keepdim=False):
    """True where some element over ``dim`` is nonzero; a bool tensor, not differentiable."""
    dims = normalize_dims(dim, x.ndim, "any")
    return Tensor._make(np.asarray(np.any(x.data, axis=dims, keepdims=keepdim)), False, None)


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


def _reduced_shape(shape, dims):
    return () if dims is None else tuple(n for d, n in enumerate(shape) if d not in dims)


def _count(x, dims):
    """How many elements go into each output of a reduction over ``dims``."""
    return x.data.size if dims is None else int(np.prod([x.shape[d] for d in dims]))


def _single_dim(dim, ndim, op):
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be one int, got {type(dim).__name__} {tuple(dim)}; "
                        f"use amax/amin to reduce over several dimensions")
    return _check_dim(dim, ndim, op)


def _check_not_empty(x, dims, op):
    """There is no max (min, argmax...) of no elements: PyTorch's errors, with the shape."""
    if dims is None and x.data.size == 0:
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


METHODS = {
    "sum": sum, "mean": mean, "max": max, "min": min, "amax": amax, "amin": amin,
    "argmax": argmax, "argmin": argmin, "var": var, "std": std, "logsumexp": logsumexp,
    "prod": prod, "all": all, "any": any, "cumsum": cumsum,
}
