"""Padding layers, as ``torch.nn``: zero, constant, reflection, replication and circular.

``padding`` is an int (every side) or a tuple in ``F.pad``'s order, last dimension
first: (left, right) in 1-d, (left, right, top, bottom) in 2-d, then (front, back).
"""

from chainrule.nn import functional as F
from chainrule.nn.module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]


class _Pad(Module):
    dims, mode = 1, "constant"

    def __init__(self, padding):
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self.dims)
        if len(padding) != 2 * self.dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or "
                             f"{2 * self.dims} ints, got {tuple(padding)}")
        self.padding = tuple(padding)

    def forward(self, input):
        return F.pad(input, self.padding, mode=self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, mode="constant", value=self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPad(_ConstantPad):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad):
    """Pad with zeros, 1-d."""

    dims, mode = 1, "constant"


class ZeroPad2d(_ZeroPad):
    """Pad with zeros, 2-d."""

    dims, mode = 2, "constant"


class ZeroPad3d(_ZeroPad):
    """Pad with zeros, 3-d."""

    dims, mode = 3, "constant"


class ConstantPad1d(_ConstantPad):
    """Pad with ``value``, 1-d."""

    dims, mode = 1, "constant"


class ConstantPad2d(_ConstantPad):
    """Pad with ``value``, 2-d."""

    dims, mode = 2, "constant"


class ConstantPad3d(_ConstantPad):
    """Pad with ``value``, 3-d."""

    dims, mode = 3, "constant"


class ReflectionPad1d(_Pad):
    """Pad with the input's reflection (the edge not repeated), 1-d."""

    dims, mode = 1, "reflect"


class ReflectionPad2d(_Pad):
    """Pad with the input's reflection (the edge not repeated), 2-d."""

    dims, mode = 2, "reflect"


class ReflectionPad3d(_Pad):
    """Pad with the input's reflection (the edge not repeated), 3-d."""

    dims, mode = 3, "reflect"


class ReplicationPad1d(_Pad):
    """Pad by repeating the edge values, 1-d."""

    dims, mode = 1, "replicate"


class ReplicationPad2d(_Pad):
    """Pad by repeating the edge values, 2-d."""

    dims, mode = 2, "replicate"


class ReplicationPad3d(_Pad):
    """Pad by repeating the edge values, 3-d."""

    dims, mode = 3, "replicate"


class CircularPad1d(_Pad):
    """Pad by wrapping around (the other end's values), 1-d."""

    dims, mode = 1, "circular"


class CircularPad2d(_Pad):
    """Pad by wrapping around (the other end's values), 2-d."""

    dims, mode = 2, "circular"


class CircularPad3d(_Pad):
    """Pad by wrapping around (the other end's values), 3-d."""

    dims, mode = 3, "circular"
