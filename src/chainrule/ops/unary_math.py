"""Unary math: inverse and hyperbolic trigonometry, sinc, exp/log variants, powers.

Each output element depends on its own input element, so each rule is
``grad * f'(x)``. As in PyTorch, integer and bool inputs to a function whose
values are fractional (``acos``, ``log2``, ``rsqrt``, ...) give the default
float dtype, float32. Rounding, signs and float tests (``floor``, ``sgn``,
``isnan``) are in ``chainrule.ops.unary_math_rounding``.

    >>> import chainrule as cr
    >>> cr.log2(cr.tensor([1, 8]))
    tensor([0., 3.])
"""

import math

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.elementwise import cos, sin, sqrt, where
from chainrule.registry import register
from chainrule.tensor import Tensor

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def _floating(x, op):
    """``x``; an integer or bool tensor becomes float32, torch's default float dtype."""
    x = _tensor(x, op)
    if x.array.dtype.kind in "biu":
        return Tensor._make(x.array.astype(np.float32), False, None)
    return x


def _constant(array):
    """An array as a tensor outside the graph (a mask or a piecewise-constant factor)."""
    return Tensor._make(array, False, None)


# ---------------------------------------------------------------- trigonometry


class Tan(Function):
    """tan(x);  d/dx = 1 + tan(x)**2, from the result."""

    @staticmethod
    def forward(ctx, x):
        return ctx.save_result(array_module(x.array).tan(x.array))

    @staticmethod
    def backward(ctx, grad):
        t = ctx.result
        return grad * (1 + t * t)


class Asin(Function):
    """asin(x);  d/dx = 1 / sqrt(1 - x**2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):  # nan outside [-1, 1], as in PyTorch
            return array_module(x.array).arcsin(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / sqrt(1 - x * x)


class Acos(Function):
    """acos(x);  d/dx = -1 / sqrt(1 - x**2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return array_module(x.array).arccos(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad / sqrt(1 - x * x)


class Atan(Function):
    """atan(x);  d/dx = 1 / (1 + x**2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x.array).arctan(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * x + 1)


class Sinh(Function):
    """sinh(x);  d/dx = cosh(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):
            return array_module(x.array).sinh(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cosh(x)


class Cosh(Function):
    """cosh(x);  d/dx = sinh(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):
            return array_module(x.array).cosh(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sinh(x)


class Asinh(Function):
    """asinh(x);  d/dx = 1 / sqrt(x**2 + 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x.array).arcsinh(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / sqrt(x * x + 1)


class Acosh(Function):
    """acosh(x);  d/dx = 1 / sqrt(x**2 - 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):  # nan below 1, as in PyTorch
            return array_module(x.array).arccosh(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / sqrt(x * x - 1)


class Atanh(Function):
    """atanh(x);  d/dx = 1 / (1 - x**2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore", divide="ignore"):  # +-inf at +-1, nan beyond
            return array_module(x.array).arctanh(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 - x * x)


class Sinc(Function):
    """sin(pi x) / (pi x), 1 at x = 0;  d/dx = (cos(pi x) pi x - sin(pi x)) / (pi x**2), 0 at 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x.array).sinc(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        at_zero = _constant(x.array == 0)
        # x = 1 at zero keeps the unused branch finite, so differentiating again gives no nan
        safe = where(at_zero, 1.0, x)
        pi_x = math.pi * safe
        slope = (cos(pi_x) * pi_x - sin(pi_x)) / (math.pi * safe * safe)
        return where(at_zero, 0.0, grad * slope)


# ---------------------------------------------------------------- exp and log


class Exp2(Function):
    """2**x;  d/dx = 2**x ln 2, from the result."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):
            return ctx.save_result(array_module(x.array).exp2(x.array))

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.result * _LN2


class Expm1(Function):
    """e**x - 1, exact near 0;  d/dx = e**x, the result + 1."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):
            return ctx.save_result(array_module(x.array).expm1(x.array))

    @staticmethod
    def backward(ctx, grad):
        return grad * (ctx.result + 1)


class Log1p(Function):
    """ln(1 + x), exact near 0;  d/dx = 1 / (1 + x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return array_module(x.array).log1p(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1)


class Log2(Function):
    """log2(x);  d/dx = 1 / (x ln 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return array_module(x.array).log2(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * _LN2)


class Log10(Function):
    """log10(x);  d/dx = 1 / (x ln 10)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return array_module(x.array).log10(x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * _LN10)


class Logit(Function):
    """ln(x / (1 - x)), x clamped to [eps, 1 - eps] if eps is given;  d/dx = 1 / (x (1 - x)).

    NOTE: as in PyTorch, the gradient is 0 where eps clamped x, and nan
    outside [0, 1] when no eps is given.
    """

    @staticmethod
    def forward(ctx, x, eps):
        ctx.save_for_backward(x)
        ctx.eps = eps
        xp = array_module(x.array)
        z = x.array if eps is None else xp.clip(x.array, eps, 1 - eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.log(z / (1 - z))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        if eps is None:
            outside, fill = (x.array < 0) | (x.array > 1), math.nan
        else:
            outside, fill = (x.array < eps) | (x.array > 1 - eps), 0.0
        return where(_constant(outside), fill, grad / (x * (1 - x))), None


# ---------------------------------------------------------------- powers


class Reciprocal(Function):
    """1 / x;  d/dx = -1 / x**2, from the result."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore"):
            return ctx.save_result(array_module(x.array).reciprocal(x.array))

    @staticmethod
    def backward(ctx, grad):
        r = ctx.result
        return -grad * r * r


class Rsqrt(Function):
    """1 / sqrt(x);  d/dx = -1 / (2 x**1.5), -r**3 / 2 from the result r."""

    @staticmethod
    def forward(ctx, x):
        xp = array_module(x.array)
        with np.errstate(divide="ignore", invalid="ignore"):
            return ctx.save_result(xp.reciprocal(xp.sqrt(x.array)))

    @staticmethod
    def backward(ctx, grad):
        r = ctx.result
        return -0.5 * grad * r * r * r


# ------------------------------------------------------------ declarations


@register("torch", "Tensor", aliases=("arcsin",), inplace=True)
def asin(input):
    return Asin.apply(_floating(input, "asin"))


@register("torch", "Tensor", aliases=("arccos",), inplace=True)
def acos(input):
    return Acos.apply(_floating(input, "acos"))


@register("torch", "Tensor", aliases=("arctan",), inplace=True)
def atan(input):
    return Atan.apply(_floating(input, "atan"))


@register("torch", "Tensor", inplace=True)
def tan(input):
    return Tan.apply(_floating(input, "tan"))


@register("torch", "Tensor", inplace=True)
def sinh(input):
    return Sinh.apply(_floating(input, "sinh"))


@register("torch", "Tensor", inplace=True)
def cosh(input):
    return Cosh.apply(_floating(input, "cosh"))


@register("torch", "Tensor", aliases=("arcsinh",), inplace=True)
def asinh(input):
    return Asinh.apply(_floating(input, "asinh"))


@register("torch", "Tensor", aliases=("arccosh",), inplace=True)
def acosh(input):
    return Acosh.apply(_floating(input, "acosh"))


@register("torch", "Tensor", aliases=("arctanh",), inplace=True)
def atanh(input):
    return Atanh.apply(_floating(input, "atanh"))


@register("torch", "Tensor", "special", inplace=True)
def sinc(input):
    """The normalized sinc, sin(pi x) / (pi x), and 1 at x = 0."""
    return Sinc.apply(_floating(input, "sinc"))


@register("torch", "Tensor", inplace=True)
def deg2rad(input):
    """Degrees to radians: input * pi / 180."""
    return _floating(input, "deg2rad") * (math.pi / 180)


@register("torch", "Tensor", inplace=True)
def rad2deg(input):
    """Radians to degrees: input * 180 / pi."""
    return _floating(input, "rad2deg") * (180 / math.pi)


@register("torch", "Tensor", "special", inplace=True)
def exp2(input):
    return Exp2.apply(_floating(input, "exp2"))


@register("torch", "Tensor", "special", inplace=True)
def expm1(input):
    """e**input - 1, accurate for small input."""
    return Expm1.apply(_floating(input, "expm1"))


@register("torch", "Tensor", "special", inplace=True)
def log1p(input):
    """ln(1 + input), accurate for small input."""
    return Log1p.apply(_floating(input, "log1p"))


@register("torch", "Tensor", inplace=True)
def log2(input):
    return Log2.apply(_floating(input, "log2"))


@register("torch", "Tensor", inplace=True)
def log10(input):
    return Log10.apply(_floating(input, "log10"))


@register("torch", "Tensor", "special", inplace=True)
def logit(input, eps=None):
    """ln(p / (1 - p)), the inverse of sigmoid; ``eps`` first clamps p to [eps, 1 - eps]."""
    return Logit.apply(_floating(input, "logit"), eps)


@register("torch", "Tensor", inplace=True)
def reciprocal(input):
    return Reciprocal.apply(_floating(input, "reciprocal"))


@register("torch", "Tensor", inplace=True)
def rsqrt(input):
    """1 / sqrt(input)."""
    return Rsqrt.apply(_floating(input, "rsqrt"))


@register("torch", "Tensor", inplace=True)
def square(input):
    """input * input; integers stay integers (bool becomes int64, as in PyTorch)."""
    x = _tensor(input, "square")
    if x.array.dtype == bool:
        x = _constant(x.array.astype(np.int64))
    return x * x


@register("torch", "Tensor", operators=("__pos__",))
def positive(input):
    """``input`` itself, as ``torch.positive`` (``+x``)."""
    x = _tensor(input, "positive")
    if x.array.dtype == bool:
        raise TypeError("positive: not supported for bool tensors; use logical_not or ~ for "
                        "bool tensors, or convert with .int() first")
    return x
