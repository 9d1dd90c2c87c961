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
from chainrule.ops._operands import (broadcast_error, broadcasting, check_operand, data,
                                     is_array)
from chainrule.ops.conversion import Cast
from chainrule.ops.elementwise import log, where
from chainrule.registry import register
from chainrule.tensor import Tensor


class Add(Function):
    """a + b;  d/da = 1, d/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        try:  # inline rather than through data(): this runs for every add and its backward
            x = a.array if isinstance(a, Tensor) else a
            y = b.array if isinstance(b, Tensor) else b
            if (type(y) is float or type(y) is int) and x.shape == () and x.dtype.kind == "f":
                # a 0-d float array plus a Python number: numpy's scalar arithmetic gives the
                # same value and dtype as the ufunc, at a third of its call cost (apply makes
                # the scalar an array again); `h = h + 1` chains are made of nothing else
                return x[()] + y
            return x + y
        except ValueError:
            raise broadcast_error("add", data(a), data(b)) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """a - b;  d/da = 1, d/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        try:  # inline rather than through data(): this runs for every sub and its backward
            return ((a.array if isinstance(a, Tensor) else a)
                    - (b.array if isinstance(b, Tensor) else b))
        except ValueError:
            raise broadcast_error("sub", data(a), data(b)) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """a * b;  d/da = b, d/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        if ctx._recording:  # keep only what backward reads: b for d/da, a for d/db
            needs_a, needs_b = ctx.needs_input_grad
            ctx.save_for_backward(a if needs_b else None, b if needs_a else None)
        try:  # inline rather than through data(): this runs for every mul and its backward
            return ((a.array if isinstance(a, Tensor) else a)
                    * (b.array if isinstance(b, Tensor) else b))
        except ValueError:
            raise broadcast_error("mul", data(a), data(b)) from None

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
        if ctx._recording:  # a is read only for d/db
            ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
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
        return -x.array

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


class DivRounded(Function):
    """a / b rounded toward zero ("trunc") or down ("floor");  d/da = d/db = 0 (a step function)."""

    @staticmethod
    def forward(ctx, a, b, rounding_mode):
        a, b = data(a), data(b)
        return broadcasting("div", lambda x, y: divide_rounded(x, y, rounding_mode, "div"), a, b)

    @staticmethod
    def backward(ctx, grad):
        return None, None, None


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
            return array_module(a.array, b.array).matmul(a.array, b.array)
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
    if _same_kind(input, other):
        return Add.apply(input, other if alpha == 1 else other * alpha)  # nothing to promote
    other = check_operand(other, "add")
    if alpha != 1:
        other = other * alpha
    input = check_operand(input, "add")
    if _numpy_agrees(input, other):
        return Add.apply(input, other)
    return Add.apply(*promoted(input, other))


@register("torch", "Tensor", aliases=("subtract",), operators=("__sub__",),
          reflected=("__rsub__",), inplace=True, inplace_operators=("__isub__",))
def sub(input, other, *, alpha=1):
    """input - alpha * other."""
    if _same_kind(input, other):
        return Sub.apply(input, other if alpha == 1 else other * alpha)  # nothing to promote
    other = check_operand(other, "sub")
    if alpha != 1:
        other = other * alpha
    input = check_operand(input, "sub")
    if _numpy_agrees(input, other):
        return Sub.apply(input, other)
    return Sub.apply(*promoted(input, other))


@register("torch", "Tensor", aliases=("multiply",), operators=("__mul__",),
          reflected=("__rmul__",), inplace=True, inplace_operators=("__imul__",))
def mul(input, other):
    if _same_kind(input, other):
        return Mul.apply(input, other)  # the hot path: nothing to check or promote
    input, other = check_operand(input, "mul"), check_operand(other, "mul")
    if _numpy_agrees(input, other):
        return Mul.apply(input, other)
    return Mul.apply(*promoted(input, other))


@register("torch", "Tensor", aliases=("divide",), operators=("__truediv__",),
          reflected=("__rtruediv__",), inplace=True, inplace_operators=("__itruediv__",))
def div(input, other, *, rounding_mode=None):
    """input / other; ``rounding_mode`` "trunc" or "floor" rounds the quotient (zero gradient).

    True division of integers gives float32, torch's default float dtype.
    """
    a, b = check_operand(input, "div"), check_operand(other, "div")
    if rounding_mode is None:
        return Div.apply(*promoted(a, b, floating=True))
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError("div: rounding_mode must be None, 'trunc' or 'floor', "
                         f"got {rounding_mode!r}")
    return DivRounded.apply(*promoted(a, b), rounding_mode)


@register("torch", "Tensor", inplace=True)
def true_divide(input, other):
    """input / other, always true division (as ``div`` without a rounding mode)."""
    return div(input, other)


def divide_rounded(a, b, rounding_mode, op):
    """a / b on arrays (or numbers), rounded toward zero ("trunc") or down ("floor").

    Integers divide exactly, and dividing an integer by zero is an error, as in PyTorch.
    """
    xp = array_module(a, b)
    integral = all(_is_integral(v) for v in (a, b))
    if not integral:
        with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 = inf or nan, as in PyTorch
            if rounding_mode == "floor":
                return xp.floor_divide(a, b)
            return xp.trunc(xp.true_divide(a, b))
    if xp.any(xp.asarray(b) == 0):
        raise ZeroDivisionError(f"{op}: integer division by zero (the divisor has zeros); "
                                "convert to a float dtype to get inf or nan instead")
    quotient = xp.floor_divide(a, b)
    if rounding_mode == "trunc":  # floor is one too low where the division is inexact and negative
        quotient = quotient + ((quotient * b != a) & ((xp.asarray(a) < 0) != (xp.asarray(b) < 0)))
    return quotient


def _is_integral(value):
    if isinstance(value, (bool, int, np.integer, np.bool_)):
        return True
    return getattr(value, "dtype", np.dtype(float)).kind in "biu"


# ------------------------------------------------------------ type promotion

_DEFAULT_FLOAT = np.dtype(np.float32)


_KINDS = {"b": 0, "i": 1, "u": 1, "f": 2}


def _kind(dtype):
    """0 for bool, 1 for integers, 2 for floats: torch promotes only upward across kinds."""
    return _KINDS[dtype.kind]


def _number_dtype(value):
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(value, (int, np.integer)):
        return np.dtype(np.int64)
    return _DEFAULT_FLOAT


def result_dtype(*operands):
    """The dtype torch gives an elementwise op on ``operands`` (tensors and numbers).

    Tensors with dimensions decide; a 0-d tensor or a Python number counts
    only where it is of a higher kind (bool < integer < float): a float32
    tensor times a float64 0-d tensor, or times 2.5, stays float32, while an
    int64 tensor times 2.5 gives the default float dtype, float32.
    """
    dimensioned = zero_dim = number = None
    for x in operands:
        array = x.array if isinstance(x, Tensor) else x if is_array(x) else None
        if array is not None:
            if array.ndim:
                dimensioned = _promote_pair(dimensioned, array.dtype)
            else:
                zero_dim = _promote_pair(zero_dim, array.dtype)
        elif x is not None:
            number = _promote_pair(number, _number_dtype(x))
    result = dimensioned
    for dtype in (zero_dim, number):
        if dtype is not None and (result is None or _kind(dtype) > _kind(result)):
            result = dtype
    return result


def _promote_pair(a, b):
    """torch's promotion of two dtypes: across kinds the higher kind's dtype (int64 and
    float32 give float32, where numpy gives float64); within a kind, the wider."""
    if a is None or a == b:
        return b
    if _kind(a) != _kind(b):
        return a if _kind(a) > _kind(b) else b
    return np.promote_types(a, b)


def _same_kind(a, b):
    """The hot path of + - *: a float tensor with a Python float or int (either side), or two
    tensors of one dtype, where numpy's result dtype is torch's and no check is needed."""
    if type(a) is Tensor:
        other = type(b)
        if other is float or other is int:
            return a.array.dtype.kind == "f"
        return other is Tensor and a.array.dtype == b.array.dtype
    return (type(b) is Tensor and (type(a) is float or type(a) is int)
            and b.array.dtype.kind == "f")


def _numpy_agrees(a, b):
    """True in the common cases, where numpy's result dtype is already torch's: two tensors of
    one dtype, a float tensor and a float, a tensor (not bool) and an int, either way round.

    The hot path of every + - * / (forward and backward): checked before ``promoted``.
    """
    if type(a) is not Tensor:
        a, b = b, a
        if type(a) is not Tensor:
            return False
    other = type(b)
    if other is float:
        return a.array.dtype.kind == "f"
    if other is Tensor:
        return a.array.dtype == b.array.dtype
    return other is int and a.array.dtype.kind != "b"


def _tensor_of(a, b):
    return a if type(a) is Tensor else b


def promoted(*operands, floating=False):
    """``operands`` with each tensor cast to their ``result_dtype`` (a float dtype if ``floating``).

    Numbers stay numbers (numpy treats them as weak, like torch); numpy scalars
    become Python numbers so they are weak too. Casting a tensor that requires
    grad is differentiable; nothing is cast where the dtypes already agree.
    """
    if len(operands) == 2 and _numpy_agrees(*operands) and (
            not floating or _tensor_of(*operands).array.dtype.kind == "f"):
        return operands
    dtype = result_dtype(*operands)
    if floating and dtype is not None and dtype.kind != "f":
        dtype = _DEFAULT_FLOAT
    out = []
    for x in operands:
        if isinstance(x, Tensor):
            if x.array.dtype != dtype:
                x = (Cast.apply(x, dtype) if x.requires_grad
                     else Tensor._make(x.array.astype(dtype), False, None))
        elif is_array(x):
            x = x if x.dtype == dtype else x.astype(dtype)
        elif isinstance(x, np.generic):
            x = x.item()
        out.append(x)
    return out


@register("torch", "Tensor", aliases=("negative",), operators=("__neg__",), inplace=True)
def neg(input):
    return Neg.apply(input)


@register("torch", "Tensor", operators=("__pow__",), reflected=("__rpow__",), inplace=True,
          inplace_operators=("__ipow__",))
def pow(input, exponent):
    return Pow.apply(*promoted(check_operand(input, "pow"), check_operand(exponent, "pow")))


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
