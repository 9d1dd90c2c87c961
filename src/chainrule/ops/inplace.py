"""In-place ops: ``add_``, ``mul_``, ``zero_``, ``+=``, ...

Each is its out-of-place op followed by writing the result into the tensor's
memory (``Tensor._modify_in_place``), which keeps the graph right and bumps
the version counter, so a backward that needed the old values fails loudly
instead of silently using the new ones.
"""

import numpy as np

from chainrule.ops.elementwise import clamp, where

__all__ = ["add_", "sub_", "mul_", "div_", "zero_", "fill_", "clamp_"]


def add_(x, other, alpha=1):
    return x._modify_in_place("add_", lambda s: s + (other if alpha == 1 else other * alpha))


def sub_(x, other, alpha=1):
    return x._modify_in_place("sub_", lambda s: s - (other if alpha == 1 else other * alpha))


def mul_(x, other):
    return x._modify_in_place("mul_", lambda s: s * other)


def div_(x, other):
    return x._modify_in_place("div_", lambda s: s / other)


def fill_(x, value):
    """Every element set to ``value``; the gradient to the old values is 0."""
    return x._modify_in_place("fill_", lambda s: where(np.ones(s.shape, bool), value, s))


def zero_(x):
    return fill_(x, 0)


def clamp_(x, min=None, max=None):
    return x._modify_in_place("clamp_", lambda s: clamp(s, min, max))


METHODS = {
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "fill_": fill_, "zero_": zero_,
    "clamp_": clamp_, "clip_": clamp_,
    "__iadd__": add_, "__isub__": sub_, "__imul__": mul_, "__itruediv__": div_,
}
