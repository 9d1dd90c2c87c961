"""Sliding-window geometry shared by convolution and pooling, in 1, 2 or 3 dimensions.

Images are (N, C, *spatial) with ``d`` spatial dimensions. A ``Window`` says
where the windows lie: each field a d-tuple, one entry per spatial
dimension; ``padding`` holds (before, after) pairs, so "same" padding and
``ceil_mode`` can pad one side more than the other, and a negative ``after``
leaves the end of the image out (the adjoint of a transposed convolution
whose ``output_padding`` reaches past the last window). ``windows`` copies
every window of an image out, the array work behind ``Unfold`` and the pools.
"""

from collections import namedtuple
from itertools import product

import numpy as np

from chainrule.device import array_module, backend_of
from chainrule.tensor import Tensor

Window = namedtuple("Window", "kernel dilation padding stride")

_LAYOUTS = {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}


def padded_image(image, sides, fill):
    """``image`` (N, C, *spatial) with ``fill`` added before and after each spatial dimension
    (``sides`` as (before, after) pairs; a negative ``after`` cuts the end off)."""
    if not any(before or after for before, after in sides):
        return image
    xp = array_module(image)
    spatial = image.shape[2:]
    kept = [size + min(after, 0) for size, (_, after) in zip(spatial, sides)]
    padded = xp.full(image.shape[:2] + tuple(size + before + after for size, (before, after)
                                             in zip(spatial, sides)), fill, image.dtype)
    target = tuple(slice(before, before + k) for (before, _), k in zip(sides, kept))
    padded[(Ellipsis,) + target] = image[(Ellipsis,) + tuple(slice(0, k) for k in kept)]
    return padded


def windows(image, window, fill):
    """Every window of ``image`` (N, C, *spatial), padded with ``fill``: (N, C, *kernel, *out).

    Entry [n, c, *i, *y] is the pixel at kernel offset i of the window at
    output position y; a strided view, copied.
    """
    padded = padded_image(image, window.padding, fill)
    n, c = padded.shape[:2]
    spatial, strides = padded.shape[2:], padded.strides[2:]
    out = tuple((size - d * (k - 1) - 1) // s + 1 for size, k, d, s
                in zip(spatial, window.kernel, window.dilation, window.stride))
    view = backend_of(padded).as_strided(
        padded, (n, c) + tuple(window.kernel) + out,
        padded.strides[:2] + tuple(st * d for st, d in zip(strides, window.dilation))
        + tuple(st * s for st, s in zip(strides, window.stride)))
    return array_module(padded).ascontiguousarray(view)


def fold_windows(cols, image_size, window):
    """The adjoint of ``windows`` (zero fill): windows (N, C, *kernel, *out) added back into
    an image (N, C, *image_size), summing where they overlap."""
    xp = array_module(cols)
    d = len(image_size)
    n, c = cols.shape[:2]
    out_size = cols.shape[2 + d:]
    sides = window.padding
    padded = xp.zeros((n, c) + tuple(size + before + max(after, 0) for size, (before, after)
                                     in zip(image_size, sides)), cols.dtype)
    for offset in product(*(range(k) for k in window.kernel)):  # one strided slice per offset
        target = tuple(slice(i * dil, i * dil + s * (o - 1) + 1, s) for i, dil, s, o
                       in zip(offset, window.dilation, window.stride, out_size))
        padded[(Ellipsis,) + target] += cols[(slice(None), slice(None)) + offset]
    if any(before or after for before, after in sides):
        crop = tuple(slice(before, before + size) for (before, _), size in zip(sides, image_size))
        padded = xp.ascontiguousarray(padded[(Ellipsis,) + crop])
    return padded


def window(op, image_size, kernel_size, dilation, padding, stride, sides=None):
    """Check the window arguments against the image size; the Window and the output size.

    ``sides`` ((before, after) per dimension) replaces ``padding`` where one
    side gets more ("same" with an even span, ceil_mode).
    """
    d = len(image_size)
    kernel = ntuple(kernel_size, d, op, "kernel_size", minimum=1)
    dilation = ntuple(dilation, d, op, "dilation", minimum=1)
    stride = ntuple(stride, d, op, "stride", minimum=1)
    if sides is None:
        sides = tuple((p, p) for p in ntuple(padding, d, op, "padding", minimum=0))
    padded = [size + before + after for size, (before, after) in zip(image_size, sides)]
    spans = [dil * (k - 1) + 1 for k, dil in zip(kernel, dilation)]
    if any(span > size for span, size in zip(spans, padded)):
        raise ValueError(
            f"{op}: the padded input is {_by(padded)} per channel, smaller than the kernel's "
            f"span {_by(spans)} (kernel_size {kernel}, dilation {dilation}); use a smaller "
            f"kernel or more padding"
        )
    out = tuple((size - span) // s + 1 for size, span, s in zip(padded, spans, stride))
    return Window(kernel, dilation, tuple(sides), stride), out


def _by(sizes):
    return " x ".join(str(s) for s in sizes)


def ntuple(value, d, op, name, minimum):
    """An int or a d-tuple of ints as a d-tuple, each at least ``minimum``."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    values = (value,) * d if not isinstance(value, (list, tuple)) else tuple(value)
    if len(values) != d or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   for v in values):
        kind = "a pair of ints" if d == 2 else f"a tuple of {d} ints"
        raise TypeError(f"{op}: {name} must be an int or {kind}, got {value!r}")
    if min(values) < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return tuple(int(v) for v in values)


def pair(value, op, name, minimum):
    """An int or a pair of ints as a (height, width) pair, each at least ``minimum``."""
    return ntuple(value, 2, op, name, minimum)


def symmetric(sides):
    """The padding a Window was given, before any one-sided extra."""
    return tuple(before for before, _ in sides)


def check_tensor(value, op, name):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")


def batched(input, op, d=2):
    """(N, C, *spatial) as it is, or an unbatched (C, *spatial) as a batch of one; and whether
    it was batched. ``d`` is the number of spatial dimensions."""
    check_tensor(input, op, "input")
    if input.ndim == d + 2:
        return input, True
    if input.ndim == d + 1:
        return input.reshape((1,) + input.shape), False
    layout = _LAYOUTS[d]
    raise ValueError(f"{op}: expected a {d + 1}-d {layout} or {d + 2}-d (N, {layout[1:]} input, "
                     f"got shape {tuple(input.shape)}")

