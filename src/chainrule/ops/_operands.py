"""Helpers shared by the ops: reading operands that may be tensors or plain numbers."""

import numbers

import numpy as np

from chainrule.tensor import Tensor


def data(x):
    """The array behind a tensor; a Python number or array stays as it is."""
    return x.array if isinstance(x, Tensor) else x


def shape_of(x):
    """The shape of a tensor, an array of any backend, or a number (``()``)."""
    return tuple(getattr(data(x), "shape", ()))


_PLAIN_OPERANDS = {Tensor, float, int, np.ndarray, np.float32, np.float64}


def is_array(x):
    """An array of some backend: numpy's, or any array-API array (CuPy's, ...)."""
    return isinstance(x, np.ndarray) or hasattr(x, "__array_namespace__")


def check_operand(x, op):
    """Tensors, real numbers and arrays pass; anything else is a clear TypeError."""
    if type(x) in _PLAIN_OPERANDS:
        return x
    known = isinstance(x, (Tensor, numbers.Number)) or is_array(x)
    if known and not isinstance(x, (bool, complex)):
        return x
    raise TypeError(
        f"{op}: expected a Tensor or a number, got {type(x).__name__}"
        + (f" {x!r}" if isinstance(x, str) else "")
    )


def broadcasting(op, fn, a, b):
    """``fn(a, b)`` on arrays, with the broadcasting error made to name the op."""
    try:
        return fn(a, b)
    except ValueError:
        raise broadcast_error(op, a, b) from None


def broadcast_error(op, a, b):
    """The error for operands whose shapes do not broadcast, naming the op and the shapes."""
    return ValueError(f"{op}: shapes {shape_of(a)} and {shape_of(b)} cannot be broadcast "
                      "together; each dimension must match or be 1 (counting from the last)")
