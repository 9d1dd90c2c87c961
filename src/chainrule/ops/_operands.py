"""Helpers shared by the ops: reading operands that may be tensors or plain numbers."""

import numbers

import numpy as np

from chainrule.tensor import Tensor


def data(x):
    """The array behind a tensor; a Python number or array stays as it is."""
    return x.data if isinstance(x, Tensor) else x


_PLAIN_OPERANDS = {Tensor, float, int, np.ndarray, np.float32, np.float64}


def check_operand(x, op):
    """Tensors and real numbers pass; anything else is a clear TypeError."""
    if type(x) in _PLAIN_OPERANDS:
        return x
    if isinstance(x, (Tensor, numbers.Number, np.ndarray)) and not isinstance(x, (bool, complex)):
        return x
    raise TypeError(
        f"{op}: expected a Tensor or a number, got {type(x).__name__}"
        + (f" {x!r}" if isinstance(x, str) else "")
    )


def broadcasting(op, fn, a, b):
    """``fn(a, b)`` on arrays, with numpy's broadcasting error made to name the op."""
    try:
        return fn(a, b)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {tuple(np.shape(a))} and {tuple(np.shape(b))} cannot be broadcast "
            "together; each dimension must match or be 1 (counting from the last)"
        ) from None
