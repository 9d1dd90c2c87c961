"""Reductions made of others: ``var_mean``, ``std_mean``, ``aminmax``, ``nansum``, ``nanmean``, ``count_nonzero``.

Each is composed of the primitives in ``ops/reduction.py`` (so it needs no
backward of its own): the NaN-skipping ones replace NaN by 0 before summing,
which also sends no gradient to the NaN positions, as in PyTorch.

    >>> import chainrule as cr
    >>> cr.tensor([1.0, float("nan"), 3.0]).nanmean()
    tensor(2.)
"""

from collections import namedtuple

import numpy as np

from chainrule.device import array_module
from chainrule.ops.elementwise import where
from chainrule.ops.reduction import (_cast, _check_not_empty, amax, amin, mean,
                                     normalize_dims, std, sum, var)
from chainrule.registry import register
from chainrule.tensor import Tensor

# What aminmax returns, as torch.return_types.aminmax.
aminmax_result = namedtuple("aminmax", ["min", "max"])


@register("torch")
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var(x), mean(x))`` over ``dim``, with ``var``'s ``correction``/``unbiased``."""
    variance = var(input, dim, unbiased, keepdim, correction=correction)
    return variance, mean(input, None if isinstance(dim, bool) else dim, keepdim)


@register("torch")
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std(x), mean(x))`` over ``dim``, with ``std``'s ``correction``/``unbiased``."""
    deviation = std(input, dim, unbiased, keepdim, correction=correction)
    return deviation, mean(input, None if isinstance(dim, bool) else dim, keepdim)


@register("torch", "Tensor")
def aminmax(input, *, dim=None, keepdim=False):
    """``(amin(x), amax(x))`` over ``dim`` (one int, or all); ties share each gradient evenly."""
    if dim is None:
        _check_not_empty(input, None, "aminmax")
        return aminmax_result(amin(input), amax(input))
    dims = normalize_dims(dim, input.ndim, "aminmax")
    _check_not_empty(input, dims, "aminmax")
    if input.ndim == 0:
        return aminmax_result(amin(input), amax(input))
    return aminmax_result(amin(input, dim, keepdim), amax(input, dim, keepdim))


def _without_nan(x):
    if x.dtype.kind != "f":
        return x
    return where(Tensor._make(array_module(x.array).isnan(x.array), False, None), 0.0, x)


@register("torch", "Tensor")
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as 0; NaN positions get no gradient.  Integer inputs sum to int64."""
    if dtype is None and input.dtype.kind in "biu":
        dtype = np.int64
    return sum(_without_nan(_cast(input, dtype)), dim, keepdim)


@register("torch", "Tensor")
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of the non-NaN elements: nansum / their count (NaN where there are none)."""
    input = _cast(input, dtype)
    if input.dtype.kind != "f":
        raise TypeError(f"nanmean: expected a floating point tensor, got {input.dtype}; "
                        "use mean for integers, or convert first, e.g. x.float()")
    xp = array_module(input.array)
    dims = normalize_dims(dim, input.ndim, "nanmean")
    present = Tensor._make((~xp.isnan(input.array)).astype(input.dtype), False, None)
    return sum(_without_nan(input), dims, keepdim) / sum(present, dims, keepdim)


@register("torch", "Tensor")
def count_nonzero(input, dim=None):
    """How many elements are not zero, over ``dim`` (an int, a tuple, or all): int64."""
    dims = normalize_dims(dim, input.ndim, "count_nonzero")
    xp = array_module(input.array)
    counted = xp.count_nonzero(input.array, axis=dims)
    return Tensor._make(xp.asarray(counted, dtype=np.int64), False, None)


