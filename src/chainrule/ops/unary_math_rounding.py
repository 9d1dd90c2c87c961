"""Rounding, signs and float classification: floor, ceil, trunc, round, frac, sgn, isnan, ...

Rounding ops keep integer tensors as they are (a copy) and have zero
gradient, flat between the steps, as PyTorch takes it; ``frac`` is
``x - trunc(x)``, so its gradient is 1. Sign bits and classifications
(``isfinite``, ``isinf``, ``isnan``, ...) are bool tensors, never in the graph.

    >>> import chainrule as cr
    >>> cr.tensor([-1.5, 2.5]).floor()
    tensor([-2.,  2.])
    >>> cr.isnan(cr.tensor([1.0, float("nan")]))
    tensor([False,  True])
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.elementwise import sign, where
from chainrule.ops.unary_math import _constant, _tensor
from chainrule.registry import register

class Rounding(Function):
    """A rounding of x (floor, ceil, trunc, round);  d/dx = 0 (flat between the steps)."""

    @staticmethod
    def forward(ctx, x, how, decimals):
        xp = array_module(x.array)
        if x.array.dtype.kind in "biu":
            return x.array.copy()
        if how == "round":
            return xp.round(x.array, decimals)
        return getattr(xp, how)(x.array)

    @staticmethod
    def backward(ctx, grad):
        return _constant(array_module(grad.array).zeros_like(grad.array)), None, None


class NanToNum(Function):
    """x with nan, +inf and -inf replaced by numbers;  d/dx = 1 where x is finite, else 0."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return array_module(x.array).nan_to_num(x.array, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        finite = _constant(array_module(x.array).isfinite(x.array))
        return where(finite, grad, 0.0), None, None, None


class Frexp(Function):
    """x = mantissa * 2**exponent, |mantissa| in [0.5, 1);  d mantissa/dx = 2**-exponent."""

    @staticmethod
    def forward(ctx, x):
        mantissa, exponent = array_module(x.array).frexp(x.array)
        ctx.exponent = exponent
        return mantissa, exponent.astype(np.int32)

    @staticmethod
    def backward(ctx, grad_mantissa, grad_exponent):
        xp = array_module(grad_mantissa.array)
        return grad_mantissa * _constant(xp.ldexp(xp.ones_like(grad_mantissa.array), -ctx.exponent))


# ------------------------------------------------------------ declarations


def _rounding(input, how, decimals=0):
    return Rounding.apply(_tensor(input, how), how, decimals)


@register("torch", "Tensor", inplace=True)
def floor(input):
    """The largest integer <= input, elementwise (integer tensors are returned as they are)."""
    return _rounding(input, "floor")


@register("torch", "Tensor", inplace=True)
def ceil(input):
    """The smallest integer >= input, elementwise."""
    return _rounding(input, "ceil")


@register("torch", "Tensor", aliases=("fix",), inplace=True)
def trunc(input):
    """input rounded toward zero, elementwise."""
    return _rounding(input, "trunc")


@register("torch", "Tensor", inplace=True)
def round(input, *, decimals=0):
    """input rounded to ``decimals`` decimal places, halves to even (as PyTorch)."""
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    return _rounding(input, "round", decimals)


@register("special", name="round")
def special_round(input):
    """``torch.special.round``: input rounded to the nearest integer, halves to even."""
    return _rounding(input, "round")


@register("torch", "Tensor", inplace=True)
def frac(input):
    """The fractional part, input - trunc(input), with the sign of input; d/dx = 1."""
    x = _tensor(input, "frac")
    if x.array.dtype.kind in "biu":
        raise TypeError(f"frac: not supported for {x.array.dtype} tensors, only floats")
    return x - trunc(x)


@register("torch", "Tensor", inplace=True)
def sgn(input):
    """The sign of each element, -1, 0 or 1 (for real tensors, as ``sign``); its gradient is 0."""
    x = _tensor(input, "sgn")
    if x.array.dtype == bool:
        return _constant(x.array.copy())
    return sign(x)


@register("torch", "Tensor")
def signbit(input):
    """True where the sign bit is set (negative numbers, -0.0 and -nan), as a bool tensor."""
    x = _tensor(input, "signbit")
    return _constant(array_module(x.array).signbit(x.array))


@register("torch", "Tensor", inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf``.

    The infinities default to the largest and lowest finite values of the dtype.
    """
    x = _tensor(input, "nan_to_num")
    if x.array.dtype.kind in "biu":
        return _constant(x.array.copy())
    return NanToNum.apply(x, nan, posinf, neginf)


def _test(input, op, ufunc):
    x = _tensor(input, op)
    xp = array_module(x.array)
    if x.array.dtype.kind in "biu":  # integers are finite, never nan or inf
        value = ufunc == "isfinite"
        return _constant(xp.full(x.array.shape, value, dtype=bool))
    return _constant(getattr(xp, ufunc)(x.array))


@register("torch", "Tensor")
def isfinite(input):
    """True where input is neither inf, -inf nor nan."""
    return _test(input, "isfinite", "isfinite")


@register("torch", "Tensor")
def isinf(input):
    """True where input is inf or -inf."""
    return _test(input, "isinf", "isinf")


@register("torch", "Tensor")
def isposinf(input):
    """True where input is +inf."""
    return _test(input, "isposinf", "isposinf")


@register("torch", "Tensor")
def isneginf(input):
    """True where input is -inf."""
    return _test(input, "isneginf", "isneginf")


@register("torch", "Tensor")
def isnan(input):
    """True where input is nan."""
    return _test(input, "isnan", "isnan")


@register("torch", "Tensor")
def frexp(input):
    """(mantissa, exponent) with input = mantissa * 2**exponent; the exponent is int32."""
    x = _tensor(input, "frexp")
    if x.array.dtype.kind in "biu":
        raise TypeError(f"frexp: only floating-point tensors are supported, got {x.array.dtype}")
    return Frexp.apply(x)
