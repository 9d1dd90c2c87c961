"""Comparisons, logical and bitwise ops: ``==``, ``<``, ``&``, ``|``, ``~``, ...

None is differentiable: each result is a new tensor that never requires
grad (bool for comparisons and logical ops, the operands' integer or bool
dtype for bitwise ones), so the engine never visits them. Operands
broadcast, and either may be a Python number.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0])
    >>> (x > 1) & (x < 3)
    tensor([False,  True, False], dtype=bool)
"""

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
