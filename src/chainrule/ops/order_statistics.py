"""Order statistics: ``kthvalue``, ``median``, ``nanmedian``, ``mode``, ``quantile`` and
``nanquantile``.

Along a dim, each picks one element per slice and returns ``(values, indices)``
as one node (``sorting.Select``): the gradient goes to the picked index. Over
the whole tensor, ``median`` and ``nanmedian`` share the gradient evenly among
the elements equal to the result, as PyTorch. ``quantile`` is composed of
``sort`` and a linear interpolation between two sorted values, so its gradient
needs no rule of its own. NaN sorts as the largest value.

    >>> import chainrule as cr
    >>> cr.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]]).median(1)
    median(values=tensor([2., 4.]), indices=tensor([2, 0]))
"""

from collections import namedtuple

import numpy as np

from chainrule.device import array_module
from chainrule.ops._operands import data
from chainrule.ops.elementwise import where
from chainrule.ops.joining import stack
from chainrule.ops.sorting import Select, select, sort, sort_order
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

# What these return, as torch.return_types.kthvalue and so on.
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


class KthValue(Select):
    """(the k-th smallest x along dim, its index);  d/dx = 1 at that index, 0 elsewhere."""


class Median(Select):
    """(the lower median of x along dim, its index);  d/dx = 1 at that index, 0 elsewhere."""


class Mode(Select):
    """(the most frequent x along dim, its last index);  d/dx = 1 at that index, 0 elsewhere."""


def _as_1d(x):
    return x.array.reshape(1) if x.ndim == 0 else x.array


def _slice_dim(x, dim, op):
    d = _check_dim(dim, x.ndim, op)
    if x.ndim and x.shape[d] == 0:
        raise IndexError(f"{op}: dimension {d} of the input of shape {tuple(x.shape)} is "
                         "empty; there is no element to pick")
    return d


def _at(order, position, dim):
    """``order`` at ``position`` (an int, or an int array of the kept shape) along ``dim``."""
    xp = array_module(order)
    if isinstance(position, int):
        return xp.take(order, [position], axis=dim)
    return xp.take_along_axis(order, position, axis=dim)


@register("torch", "Tensor")
def kthvalue(input, k, dim=-1, keepdim=False):
    """``(values, indices)``: the ``k``-th smallest element along ``dim`` (k counts from 1)."""
    x = input
    d = _slice_dim(x, dim, "kthvalue")
    size = x.shape[d] if x.ndim else 1
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= size:
        raise IndexError(f"kthvalue: k={k!r} is out of range for dimension {d} of size {size}; "
                         f"expected 1 <= k <= {size}")
    order = sort_order(_as_1d(x), d)
    return kthvalue_result(*select(KthValue, x, _at(order, int(k) - 1, d), d, keepdim))


@register("torch", "Tensor")
def median(input, dim=None, keepdim=False):
    """The lower median: ``median(x)`` over all elements (NaN if any is NaN; the gradient
    shared by the elements equal to it), or ``(values, indices)`` along ``dim``."""
    return _median(input, dim, keepdim, ignore_nan=False)


@register("torch", "Tensor")
def nanmedian(input, dim=None, keepdim=False):
    """``median`` of the elements that are not NaN (NaN where all are)."""
    return _median(input, dim, keepdim, ignore_nan=True)


def _median(x, dim, keepdim, ignore_nan):
    op = "nanmedian" if ignore_nan else "median"
    xp = array_module(x.array)
    if dim is None:
        flat = x.array.reshape(-1)
        if flat.size == 0:
            return Tensor._make(xp.asarray(float("nan"), dtype=x.dtype), False, None)
        value = flat[_median_position(xp, flat, 0, ignore_nan)].reshape(())
        return _evenly_shared(x, value)
    d = _slice_dim(x, dim, op)
    values = _as_1d(x)
    position = _median_position(xp, values, d, ignore_nan)
    result = nanmedian_result if ignore_nan else median_result
    return result(*select(Median, x, position, d, keepdim))


def _median_position(xp, values, dim, ignore_nan):
    """Where each slice's lower median is along ``dim`` (kept as size 1): NaN last in the
    order; without ignore_nan a slice holding NaN gives its first NaN."""
    order = sort_order(values, dim)
    nan = xp.isnan(values) if values.dtype.kind == "f" else xp.zeros(values.shape, dtype=bool)
    if ignore_nan:
        count = values.shape[dim] - nan.sum(axis=dim, keepdims=True)
        return _at(order, xp.maximum(count - 1, 0) // 2, dim)
    position = _at(order, (values.shape[dim] - 1) // 2, dim)
    has_nan = nan.any(axis=dim, keepdims=True)
    return xp.where(has_nan, xp.argmax(nan, axis=dim, keepdims=True), position)


def _evenly_shared(x, value):
    """``value`` (an element of x) as a function of x whose gradient is shared evenly by the
    elements equal to it (the NaNs, when it is NaN)."""
    xp = array_module(x.array)
    if x.dtype.kind != "f":
        return Tensor._make(value, False, None)
    ties = xp.isnan(x.array) if xp.isnan(value) else x.array == value
    mask = Tensor._make(ties, False, None)
    return where(mask, x, 0.0).sum() / int(ties.sum())


@register("torch", "Tensor")
def mode(input, dim=-1, keepdim=False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest of equally
    frequent ones) and the index of its last occurrence, as PyTorch."""
    x = input
    d = _slice_dim(x, dim, "mode")
    xp = array_module(x.array)
    values = xp.moveaxis(_as_1d(x), d, -1)
    rows = values.reshape(-1, values.shape[-1])
    last = xp.empty(rows.shape[0], dtype=np.int64)
    for r, row in enumerate(rows):
        distinct, counts = xp.unique(row, return_counts=True)
        winner = distinct[xp.argmax(counts)]
        last[r] = row.size - 1 - xp.argmax((row == winner)[::-1])
    position = xp.moveaxis(last.reshape(values.shape[:-1] + (1,)), -1, d)
    return mode_result(*select(Mode, x, position, d, keepdim))


@register("torch", "Tensor")
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-th quantiles (q a number or 1-d tensor in [0, 1]) over ``dim`` (all by
    default), interpolating between sorted values as ``interpolation`` says; NaN where a
    slice holds NaN. A 1-d q adds a leading dimension. Composed of sort: differentiable."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False)


@register("torch", "Tensor")
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` of the elements that are not NaN (NaN where all are)."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True)


def _quantile(x, q, dim, keepdim, interpolation, ignore_nan):
    op = "nanquantile" if ignore_nan else "quantile"
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {_INTERPOLATIONS}, got "
                         f"{interpolation!r}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating point tensor, got {x.dtype}")
    xp = array_module(x.array)
    qs = xp.asarray(data(q), dtype=np.float64)
    if qs.ndim > 1 or ((qs < 0) | (qs > 1)).any():
        raise ValueError(f"{op}: q must be a number or a 1-d tensor of values in [0, 1], got "
                         f"{qs.tolist()}")
    if dim is None:
        kept_shape = (1,) * x.ndim if keepdim else ()
        flat, d = x.reshape(-1), 0
    else:
        d = _check_dim(dim, x.ndim, op)
        flat = x.reshape(1) if x.ndim == 0 else x
        kept_shape = tuple(x.shape) if x.ndim == 0 else (
            x.shape[:d] + ((1,) if keepdim else ()) + x.shape[d + 1:])
    n = flat.shape[d]
    if n == 0:
        raise ValueError(f"{op}: the input of shape {tuple(x.shape)} has no elements along "
                         f"the reduced dimension")
    ordered = sort(flat, d).values
    nan = xp.isnan(flat.array)
    valid = n - nan.sum(axis=d, keepdims=True)
    results = [_one_quantile(ordered, float(p), d, n, valid, ignore_nan, interpolation)
               .reshape(kept_shape) for p in qs.reshape(-1)]
    return results[0] if qs.ndim == 0 else stack(results, 0)


def _one_quantile(ordered, p, d, n, valid, ignore_nan, interpolation):
    xp = array_module(ordered.array)
    if ignore_nan:
        rank = p * (valid - 1.0)
        rank = xp.where(valid == 0, n - 1.0, rank)
    else:
        rank = xp.where(valid < n, n - 1.0, p * (n - 1.0))  # a slice with NaN gives NaN
    if interpolation == "lower":
        rank = xp.floor(rank)
    elif interpolation == "higher":
        rank = xp.ceil(rank)
    elif interpolation == "nearest":
        rank = xp.round(rank)  # half to even, as PyTorch
    below, above = xp.floor(rank).astype(np.int64), xp.ceil(rank).astype(np.int64)
    low = ordered.gather(d, Tensor._make(below, False, None))
    if interpolation in ("lower", "higher", "nearest"):
        return low
    high = ordered.gather(d, Tensor._make(above, False, None))
    weight = 0.5 if interpolation == "midpoint" else rank - below
    weight = xp.where(below == above, 0.0, weight)
    return low + (high - low) * Tensor._make(xp.asarray(weight, dtype=ordered.dtype), False, None)
