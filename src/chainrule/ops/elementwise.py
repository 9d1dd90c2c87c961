"""Elementwise functions: each output element depends on the same input element only.

So each derivative is elementwise too: ``d(f(x))/dx = f'(x)``, and the rule
is ``grad * f'(x)``. Where ``f'`` is cheapest from the result (``exp``,
``tanh``, ``sigmoid``, ``sqrt``), the result is saved instead of the input.
Comparisons (``<``, ``==``, ...) are not differentiable: they return boolean
tensors that never require grad.
"""

import math

import numpy as np

from chainrule.autograd.function import Function
from chainrule.ops._operands import broadcasting, check_operand, data
from chainrule.tensor import Tensor

__all__ = ["exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu",
           "gelu", "softplus", "clamp", "maximum", "minimum", "where"]


class Exp(Function):
    """e**x;  d/dx = e**x, the result itself."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):  # overflows to inf, as in PyTorch
            return ctx.save_result(np.exp(x.data))

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.result


class Log(Function):
    """ln(x);  d/dx = 1 / x.  ln(0) = -inf and ln(x < 0) = nan, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """x ** 0.5;  d/dx = 1 / (2 sqrt(x)), from the result."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            return ctx.save_result(np.sqrt(x.data))

    @staticmethod
    def backward(ctx, grad):
        return grad / (2 * ctx.result)


class Abs(Function):
    """|x|;  d/dx = sign(x).  NOTE: 0 at x = 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sign(x)


class Sin(Function):
    """sin(x);  d/dx = cos(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cos(x)


class Cos(Function):
    """cos(x);  d/dx = -sin(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * sin(x)


class Tanh(Function):
    """tanh(x);  d/dx = 1 - tanh(x)**2, from the result."""

    @staticmethod
    def forward(ctx, x):
        return ctx.save_result(np.tanh(x.data))

    @staticmethod
    def backward(ctx, grad):
        t = ctx.result
        return grad * (1 - t * t)


class Sigmoid(Function):
    """s(x) = 1 / (1 + e**-x);  d/dx = s (1 - s), from the result."""

    @staticmethod
    def forward(ctx, x):
        # e**-|x| never overflows; for x < 0, s(x) = e**x / (1 + e**x)
        e = np.exp(-np.abs(x.data))
        return ctx.save_result(np.where(x.data >= 0, 1 / (1 + e), e / (1 + e)))

    @staticmethod
    def backward(ctx, grad):
        s = ctx.result
        return grad * (s * (1 - s))


class ReLU(Function):
    """max(0, x);  d/dx = 1 where x > 0, else 0.  NOTE: 0 at x = 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        return ctx.save_result(np.maximum(x.data, 0))

    @staticmethod
    def backward(ctx, grad):
        return grad * (ctx.result > 0)


class LeakyReLU(Function):
    """x where x > 0, else slope * x;  d/dx = 1 or slope.  NOTE: slope at x = 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return np.where(x.data > 0, x.data, x.data * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return where(x > 0, grad, grad * ctx.negative_slope), None


class Where(Function):
    """condition ? a : b;  the gradient goes to a where the condition holds, else to b.

    (Where a or b was broadcast, the engine sums its gradient back to its shape.)
    """

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = data(condition).astype(bool)
        ctx.shapes = (np.shape(data(a)), np.shape(data(b)))
        try:
            return np.where(ctx.condition, data(a), data(b))
        except ValueError:
            raise ValueError(
                f"where: shapes {np.shape(ctx.condition)}, {ctx.shapes[0]} and {ctx.shapes[1]} "
                "cannot be broadcast together"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        _, needs_a, needs_b = ctx.needs_input_grad
        zero = grad.data.dtype.type(0)
        return (None,
                where(ctx.condition, grad, zero) if needs_a else None,
                where(ctx.condition, zero, grad) if needs_b else None)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs(x):
    return Abs.apply(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def tanh(x):
    return Tanh.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(x, negative_slope)


def where(condition, a, b):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (either may be a number)."""
    return Where.apply(condition, check_operand(a, "where"), check_operand(b, "where"))


def gelu(x, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; composed, so no backward of its own.

    ``approximate="tanh"`` uses 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))).
    """
    if approximate == "tanh":
        return 0.5 * x * (1 + tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return x * normal_cdf(x)


class Erf(Function):
    """erf(x) = 2/sqrt(pi) * integral_0^x e**-t**2 dt;  d/dx = 2/sqrt(pi) e**-x**2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf(x.data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * exp(-(x * x))


def erf(x):
    return Erf.apply(x)


def normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2."""
    return 0.5 * (1 + erf(x * (1 / math.sqrt(2))))


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e**(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule).

    Written as relu(z) + log(1 + e**-|z|), which never overflows; its
    derivative, sigmoid(beta x), comes from composing the primitives.
    """
    z = x * beta
    smooth = (relu(z) + log(1 + exp(-abs(z)))) / beta
    return where(z > threshold, x, smooth)


def clamp(x, min=None, max=None):
    """x limited to [min, max];  d/dx = 1 inside, 0 where clamped (1 at the bounds, as PyTorch)."""
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    out = x
    if min is not None:
        out = where(x >= min, out, min)
    if max is not None:
        out = where(x <= max, out, max)
    return out


def maximum(a, b):
    """Elementwise max;  the gradient goes to the larger, split evenly on ties (as PyTorch)."""
    return _select(a, b, np.greater, "maximum")


def minimum(a, b):
    """Elementwise min;  the gradient goes to the smaller, split evenly on ties (as PyTorch)."""
    return _select(a, b, np.less, "minimum")


def _select(a, b, wins, op):
    a, b = check_operand(a, op), check_operand(b, op)
    a_wins = broadcasting(op, wins, data(a), data(b))
    tie = data(a) == data(b)
    half = (a + b) * 0.5
    return where(a_wins, a, where(tie, half, b))


def sign(x):
    """-1, 0 or 1 by the sign of x; not differentiable (a constant)."""
    return Tensor._make(np.sign(x.data), False, None)


# ------------------------------------------------------------ comparisons


def _comparison(ufunc, name):
    def compare(a, b):
        check_operand(b, name)
        return Tensor._make(broadcasting(name, ufunc, data(a), data(b)), False, None)

    compare.__name__ = name
    compare.__doc__ = f"Elementwise {name}: a boolean tensor that does not require grad."
    return compare


def _logical(ufunc, name):
    def combine(a, b):
        return Tensor._make(broadcasting(name, ufunc, data(a), data(b)), False, None)

    combine.__name__ = name
    return combine


def logical_not(x):
    return Tensor._make(np.logical_not(x.data) if x.data.dtype == bool else np.invert(x.data),
                        False, None)


eq, ne = _comparison(np.equal, "eq"), _comparison(np.not_equal, "ne")
lt, le = _comparison(np.less, "lt"), _comparison(np.less_equal, "le")
gt, ge = _comparison(np.greater, "gt"), _comparison(np.greater_equal, "ge")


def _erf(values):
    """erf elementwise, from math.erf (exact to double precision; numpy has no erf)."""
    return np.vectorize(math.erf, otypes=[values.dtype])(values) if values.size else values.copy()


METHODS = {
    "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "__abs__": abs, "sin": sin, "cos": cos,
    "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "clamp": clamp, "clip": clamp,
    "sign": sign, "maximum": maximum, "minimum": minimum,
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge,
    "__and__": _logical(np.bitwise_and, "and"), "__or__": _logical(np.bitwise_or, "or"),
    "__xor__": _logical(np.bitwise_xor, "xor"), "__invert__": logical_not,
}
