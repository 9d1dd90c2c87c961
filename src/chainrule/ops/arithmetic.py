"""Arithmetic: + - * / ** @ and negation, with broadcasting.

The rules return gradients in the result's shape; where an input was
broadcast, the engine sums its gradient back to the input's shape
(``chainrule.autograd.engine``), the one place broadcasting is undone.
"""

import math
import operator

import numpy as np

from chainrule.autograd.broadcasting import sum_to_shape
from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops._operands import broadcasting, check_operand, data
from chainrule.ops.elementwise import log, where
from chainrule.registry import register
from chainrule.tensor import Tensor


class Add(Function):
    """a + b;  d/da = 1, d/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = data(a), data(b)
        return broadcasting("add", operator.add, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """a - b;  d/da = 1, d/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = data(a), data(b)
        return broadcasting("sub", operator.sub, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """a * b;  d/da = b, d/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a, b = data(a), data(b)
        return broadcasting("mul", operator.mul, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return (grad * b if needs_a else None,
                grad * a if needs_b else None)


class Div(Function):
    """a / b;  d/da = 1 / b, d/db = -a / b**2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 = inf, as in PyTorch
            a, b = data(a), data(b)
            return broadcasting("div", operator.truediv, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return (grad / b if needs_a else None,
                -grad * a / (b * b) if needs_b else None)


class Neg(Function):
    """-x;  d/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return -x.data

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """a ** b;  d/da = b * a**(b-1),  d/db = a**b * ln(a).

    NOTE: as in PyTorch, d/da is 0 where b == 0 (even at a == 0), and d/db
    is 0 where a == 0 and b >= 0, where ln(a) would give nan or -inf.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1 = inf, as in PyTorch
            a, b = data(a), data(b)
            return ctx.save_result(broadcasting("pow", operator.pow, a, b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if needs_a:
            if isinstance(b, Tensor):
                grad_a = where(b == 0, 0.0, grad * b * a ** (b - 1))
            else:
                grad_a = grad * 0.0 if b == 0 else grad * b * a ** (b - 1)
        if needs_b:
            if isinstance(a, Tensor):
                zero_base = (a == 0) & (b >= 0)
                grad_b = where(zero_base, 0.0, grad * ctx.result * log(a))
            elif a > 0:  # a constant base c: d(c**b)/db = c**b * ln(c)
                grad_b = grad * ctx.result * math.log(a)
            else:
                grad_b = where(b >= 0, 0.0, grad * math.nan) if a == 0 else grad * math.nan
        return grad_a, grad_b


class MatMul(Function):
    """a @ b, for 1-d, 2-d and batched operands, as ``numpy.matmul``.

    With G the gradient of the result: d/da = G @ b^T, d/db = a^T @ G, on
    the operands seen as matrices (a 1-d ``a`` is a row, a 1-d ``b`` a
    column), summed over broadcast batch dimensions.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return array_module(a.data, b.data).matmul(a.data, b.data)
        except ValueError:
            raise ValueError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied; "
                "the last dimension of the first must equal the "
                + ("only" if b.ndim == 1 else "second-to-last") + " dimension of the second"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        a2 = a if a.ndim > 1 else a.reshape(1, -1)
        b2 = b if b.ndim > 1 else b.reshape(-1, 1)
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g2 = grad.reshape(batch + (a2.shape[-2], b2.shape[-1]))
        grad_a = sum_to_shape(g2 @ b2.mT, a2.shape).reshape(a.shape) if needs_a else None
        grad_b = sum_to_shape(a2.mT @ g2, b2.shape).reshape(b.shape) if needs_b else None
        return grad_a, grad_b


@register("torch", "Tensor", operators=("__add__",), reflected=("__radd__",), inplace=True,
          inplace_operators=("__iadd__",))
def add(input, other, *, alpha=1):
    """input + alpha * other."""
    other = check_operand(other, "add")
    if alpha != 1:
        other = other * alpha
    return Add.apply(check_operand(input, "add"), other)


@register("torch", "Tensor", aliases=("subtract",), operators=("__sub__",),
          reflected=("__rsub__",), inplace=True, inplace_operators=("__isub__",))
def sub(input, other, *, alpha=1):
    """input - alpha * other."""
    other = check_operand(other, "sub")
    if alpha != 1:
        other = other * alpha
    return Sub.apply(check_operand(input, "sub"), other)


@register("torch", "Tensor", aliases=("multiply",), operators=("__mul__",),
          reflected=("__rmul__",), inplace=True, inplace_operators=("__imul__",))
def mul(input, other):
    return Mul.apply(check_operand(input, "mul"), check_operand(other, "mul"))


@register("torch", "Tensor", aliases=("divide", "true_divide"), operators=("__truediv__",),
          reflected=("__rtruediv__",), inplace=True, inplace_operators=("__itruediv__",))
def div(input, other):
    return Div.apply(check_operand(input, "div"), check_operand(other, "div"))


@register("torch", "Tensor", aliases=("negative",), operators=("__neg__",), inplace=True)
def neg(input):
    return Neg.apply(input)


@register("torch", "Tensor", operators=("__pow__",), reflected=("__rpow__",), inplace=True,
          inplace_operators=("__ipow__",))
def pow(input, exponent):
    return Pow.apply(check_operand(input, "pow"), check_operand(exponent, "pow"))


@register("torch", "Tensor", operators=("__matmul__",), reflected=("__rmatmul__",))
def matmul(input, other):
    a, b = _as_tensor(input, "matmul"), _as_tensor(other, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least one dimension, got shapes {tuple(a.shape)} "
            f"and {tuple(b.shape)}; use * to multiply by a scalar"
        )
    return MatMul.apply(a, b)


def _as_tensor(x, op):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x, False, None)
    raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
