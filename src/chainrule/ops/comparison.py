"""Comparisons, logical and bitwise ops: ``==``, ``<``, ``&``, ``|``, ``~``, ...

None is differentiable: each result is a new tensor that never requires
grad (bool for comparisons and logical ops, the operands' integer or bool
dtype for bitwise ones), so the engine never visits them. Operands
broadcast, and either may be a Python number.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0])
    >>> (x > 1) & (x < 3)
    tensor([False,  True, False])
"""

import numpy as np

from chainrule.device import array_module
from chainrule.ops._operands import broadcasting, check_operand, data, is_array
from chainrule.registry import register
from chainrule.tensor import Tensor


def _compare(op, ufunc, input, other):
    check_operand(other, op)
    a, b = data(input), data(other)
    return Tensor._make(broadcasting(op, getattr(array_module(a, b), ufunc), a, b), False, None)


@register("torch", "Tensor", operators=("__eq__",))
def eq(input, other):
    """input == other, elementwise."""
    return _compare("eq", "equal", input, other)


@register("torch", "Tensor", aliases=("not_equal",), operators=("__ne__",))
def ne(input, other):
    """input != other, elementwise."""
    return _compare("ne", "not_equal", input, other)


@register("torch", "Tensor", aliases=("less",), operators=("__lt__",))
def lt(input, other):
    """input < other, elementwise."""
    return _compare("lt", "less", input, other)


@register("torch", "Tensor", aliases=("less_equal",), operators=("__le__",))
def le(input, other):
    """input <= other, elementwise."""
    return _compare("le", "less_equal", input, other)


@register("torch", "Tensor", aliases=("greater",), operators=("__gt__",))
def gt(input, other):
    """input > other, elementwise."""
    return _compare("gt", "greater", input, other)


@register("torch", "Tensor", aliases=("greater_equal",), operators=("__ge__",))
def ge(input, other):
    """input >= other, elementwise."""
    return _compare("ge", "greater_equal", input, other)


# ---------------------------------------------------------------- logical


def _logical_operand(x, op):
    if isinstance(x, (Tensor, bool, int, float)) or is_array(x):
        return data(x)
    raise TypeError(f"{op}: expected a Tensor, a number or a bool, got {type(x).__name__}")


def _logical(op, input, other):
    a, b = _logical_operand(input, op), _logical_operand(other, op)
    return Tensor._make(broadcasting(op, getattr(array_module(a, b), op), a, b), False, None)


@register("torch", "Tensor", inplace=True)
def logical_and(input, other):
    """Nonzero in both, elementwise: a bool tensor."""
    return _logical("logical_and", input, other)


@register("torch", "Tensor", inplace=True)
def logical_or(input, other):
    """Nonzero in either, elementwise: a bool tensor."""
    return _logical("logical_or", input, other)


@register("torch", "Tensor", inplace=True)
def logical_xor(input, other):
    """Nonzero in exactly one, elementwise: a bool tensor."""
    return _logical("logical_xor", input, other)


@register("torch", "Tensor", inplace=True)
def logical_not(input):
    """Zero, elementwise: a bool tensor."""
    x = _logical_operand(input, "logical_not")
    return Tensor._make(array_module(x).logical_not(x), False, None)


# ---------------------------------------------------------------- bitwise


def _integral(x, op):
    """The array or number behind ``x``, which must be of an integer or bool dtype."""
    value = data(x)
    if isinstance(value, int):  # bool is an int too
        return value
    dtype = getattr(value, "dtype", None)
    if dtype is None or dtype.kind not in "biu":
        kind = dtype if dtype is not None else type(value).__name__
        raise TypeError(f"{op}: only integer and bool tensors are supported, got {kind}; "
                        "for floats, compare first (x > 0) or use logical_and/logical_or")
    return value


def _bitwise(op, input, other):
    a, b = _integral(input, op), _integral(other, op)
    return Tensor._make(broadcasting(op, getattr(array_module(a, b), op), a, b), False, None)


@register("torch", "Tensor", operators=("__and__",), reflected=("__rand__",), inplace=True,
          inplace_operators=("__iand__",))
def bitwise_and(input, other):
    """input & other, elementwise (logical and for bool tensors)."""
    return _bitwise("bitwise_and", input, other)


@register("torch", "Tensor", operators=("__or__",), reflected=("__ror__",), inplace=True,
          inplace_operators=("__ior__",))
def bitwise_or(input, other):
    """input | other, elementwise (logical or for bool tensors)."""
    return _bitwise("bitwise_or", input, other)


@register("torch", "Tensor", operators=("__xor__",), reflected=("__rxor__",), inplace=True,
          inplace_operators=("__ixor__",))
def bitwise_xor(input, other):
    """input ^ other, elementwise (logical xor for bool tensors)."""
    return _bitwise("bitwise_xor", input, other)


@register("torch", "Tensor", operators=("__invert__",), inplace=True)
def bitwise_not(input):
    """~input, elementwise (logical not for bool tensors)."""
    x = _integral(input, "bitwise_not")
    return Tensor._make(array_module(x).invert(x), False, None)


def _shift(op, ufunc, input, other):
    """``a << b`` or ``a >> b``; a shift by a negative amount or by the bit width or more
    gives 0 to the left and the sign (0 or -1) to the right, as in PyTorch."""
    a, b = _integral(input, op), _integral(other, op)
    xp = array_module(a, b)
    width = 8 * xp.result_type(a, b).itemsize
    outside = (xp.asarray(b) < 0) | (xp.asarray(b) >= width)
    amount = xp.clip(b, 0, width - 1)
    shifted = broadcasting(op, getattr(xp, ufunc), a, amount)
    if ufunc == "left_shift":
        shifted = xp.where(outside, 0, shifted).astype(shifted.dtype)
    else:
        shifted = xp.where(outside, xp.right_shift(a, width - 1), shifted).astype(shifted.dtype)
    return Tensor._make(shifted, False, None)


@register("torch", "Tensor", operators=("__lshift__",), reflected=("__rlshift__",), inplace=True,
          inplace_operators=("__ilshift__",))
def bitwise_left_shift(input, other):
    """input << other, elementwise (integer tensors): input * 2**other, bits shifted out lost."""
    return _shift("bitwise_left_shift", "left_shift", input, other)


@register("torch", "Tensor", operators=("__rshift__",), reflected=("__rrshift__",), inplace=True,
          inplace_operators=("__irshift__",))
def bitwise_right_shift(input, other):
    """input >> other, elementwise (integer tensors): floor(input / 2**other)."""
    return _shift("bitwise_right_shift", "right_shift", input, other)


# ---------------------------------------------------------------- closeness


@register("torch", "Tensor")
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise, as a bool tensor.

    Equal values (infinities included) are close; nan is close to nan only
    with ``equal_nan=True``. Both tensors must have the same dtype, as in PyTorch.
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"isclose: expected two Tensors, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    a, b = input.array, other.array
    if a.dtype != b.dtype:
        raise TypeError(f"isclose: input is {a.dtype} but other is {b.dtype}; convert one "
                        "so that both have the same dtype")
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be non-negative, got rtol={rtol}, "
                         f"atol={atol}")
    xp = array_module(a, b)
    close = broadcasting("isclose", xp.equal, a, b)
    if a.dtype != bool:
        if a.dtype.kind != "f":  # integers compare in floating point, as the tolerance is one
            a, b = a.astype(np.float64), b.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            error = xp.abs(a - b)
            close = close | (xp.isfinite(error) & (error <= atol + rtol * xp.abs(b)))
        if equal_nan:
            close = close | (xp.isnan(a) & xp.isnan(b))
    return Tensor._make(close, False, None)


@register("torch", "Tensor")
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of input is close to other's (see ``isclose``): a Python bool."""
    close = isclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return bool(array_module(close.array).all(close.array))


@register("torch", "Tensor")
def equal(input, other):
    """Whether input and other have the same shape and the same elements: a Python bool."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"equal: expected two Tensors, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    if input.array.shape != other.array.shape:
        return False
    return bool(array_module(input.array).all(input.array == other.array))
