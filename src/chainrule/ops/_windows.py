"""Sliding-window geometry shared by convolution and pooling (NCHW images).

A ``Window`` says where the windows lie: each field a (height, width) pair;
``padding`` is ((top, bottom), (left, right)), so "same" padding and
``ceil_mode`` can pad one side more than the other. ``windows`` copies every
window of an image out, the array work behind ``Unfold`` and ``MaxPool2d``.
"""

from collections import namedtuple

import numpy as np

from chainrule.device import array_module, backend_of
from chainrule.tensor import Tensor

Window = namedtuple("Window", "kernel dilation padding stride")


def windows(image, window, fill):
    """Every window of ``image`` (N, C, H, W), padded with ``fill``: (N, C, kh, kw, oh, ow).

    Entry [n, c, i, j, y, x] is the pixel at kernel offset (i, j) of the
    window at output position (y, x); a strided view, copied.
    """
    (kh, kw), (dh, dw), ((top, bottom), (left, right)), (sh, sw) = window
    xp = array_module(image)
    n, c, height, width = image.shape
    if top or bottom or left or right:
        padded = xp.full((n, c, height + top + bottom, width + left + right), fill, image.dtype)
        padded[:, :, top:top + height, left:left + width] = image
    else:
        padded = image
    oh = (padded.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (padded.shape[3] - dw * (kw - 1) - 1) // sw + 1
    s_n, s_c, s_h, s_w = padded.strides
    view = backend_of(padded).as_strided(padded, (n, c, kh, kw, oh, ow),
                                         (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw))
    return xp.ascontiguousarray(view)


def window(op, image_size, kernel_size, dilation, padding, stride, sides=None):
    """Check the window arguments against the image size; the Window and (oh, ow).

    ``sides`` ((top, bottom), (left, right)) replaces ``padding`` where one side
    gets more ("same" with an even span, ceil_mode).
    """
    kernel = pair(kernel_size, op, "kernel_size", minimum=1)
    dilation = pair(dilation, op, "dilation", minimum=1)
    stride = pair(stride, op, "stride", minimum=1)
    if sides is None:
        sides = tuple((p, p) for p in pair(padding, op, "padding", minimum=0))
    padded = [size + before + after for size, (before, after) in zip(image_size, sides)]
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(span > size for span, size in zip(spans, padded)):
        raise ValueError(
            f"{op}: the padded input is {padded[0]} x {padded[1]} per channel, smaller than the "
            f"kernel's span {spans[0]} x {spans[1]} (kernel_size {kernel}, dilation "
            f"{dilation}); use a smaller kernel or more padding"
        )
    out = tuple((size - span) // s + 1 for size, span, s in zip(padded, spans, stride))
    return Window(kernel, dilation, sides, stride), out


def pair(value, op, name, minimum):
    """An int or a pair of ints as a (height, width) pair, each at least ``minimum``."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    both = (value, value) if not isinstance(value, (list, tuple)) else tuple(value)
    if len(both) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 for v in both):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(both) < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return tuple(int(v) for v in both)


def symmetric(sides):
    """The (height, width) padding a Window was given, before any one-sided extra."""
    return tuple(before for before, _ in sides)


def check_tensor(value, op, name):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")


def batched(input, op):
    """(N, C, H, W) as it is, or a (C, H, W) image as a batch of one; and whether it was batched."""
    check_tensor(input, op, "input")
    if input.ndim == 4:
        return input, True
    if input.ndim == 3:
        return input.reshape((1,) + input.shape), False
    raise ValueError(f"{op}: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got shape "
                     f"{tuple(input.shape)}")
