"""Sliding windows: ``unfold``/``fold``, ``conv2d`` and the 2-d pools, on NCHW images.

Two linear primitives carry everything. ``Unfold`` copies every window of
the (padded) image out, giving an array of shape (N, C, kh, kw, oh, ow):
entry [n, c, i, j, y, x] is the pixel at kernel offset (i, j) of the window
at output position (y, x). ``Fold`` adds such windows back into an image,
summing where they overlap. Each is the other's adjoint, so each one's
backward is the other and derivatives of every order work.

On top of them, built from Tensor ops with no backward of their own:
``conv2d`` is a matrix product of the weight with the unfolded input (per
group), ``avg_pool2d`` a sum over each window divided by its size.
``max_pool2d`` is one more Function, whose backward folds the gradient back
onto each window's maximum.

    >>> import chainrule as cr
    >>> x = cr.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]], dtype=float32)
"""

from collections import namedtuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from chainrule.autograd.function import Function
from chainrule.tensor import Tensor

__all__ = ["conv2d", "unfold", "fold", "max_pool2d", "avg_pool2d"]

# Where the windows lie: each field a (height, width) pair; padding is
# ((top, bottom), (left, right)), so "same" and ceil_mode can pad one side more.
Window = namedtuple("Window", "kernel dilation padding stride")


class Unfold(Function):
    """Every window of x copied out: (N, C, H, W) -> (N, C, kh, kw, oh, ow).

    Linear (the padding is zeros), so its backward is its adjoint ``Fold``:
    each pixel's gradient is the sum of the gradients of its copies.
    """

    @staticmethod
    def forward(ctx, x, window):
        ctx.window, ctx.image_size = window, x.shape[2:]
        return _windows(x.data, window, 0)

    @staticmethod
    def backward(ctx, grad):
        return Fold.apply(grad, ctx.image_size, ctx.window), None


class Fold(Function):
    """Windows added back into place: (N, C, kh, kw, oh, ow) -> (N, C, H, W), overlaps summed.

    The adjoint of ``Unfold``, so its backward is ``Unfold`` (zero-padded).
    """

    @staticmethod
    def forward(ctx, cols, image_size, window):
        ctx.window = window
        (kh, kw), (dh, dw), ((top, bottom), (left, right)), (sh, sw) = window
        n, c, _, _, oh, ow = cols.shape
        height, width = image_size
        data = cols.data
        out = np.zeros((n, c, height + top + bottom, width + left + right), data.dtype)
        for i in range(kh):  # one strided slice per kernel offset, not one per pixel
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            for j in range(kw):
                out[:, :, rows, j * dw:j * dw + sw * (ow - 1) + 1:sw] += data[:, :, i, j]
        if top or bottom or left or right:
            out = np.ascontiguousarray(out[:, :, top:top + height, left:left + width])
        return out

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, ctx.window), None, None


class MaxPool2d(Function):
    """The largest element of each window;  d/dx = 1 at each window's maximum, else 0.

    As PyTorch, a window with tied maxima sends its gradient to the first one
    (in row-major order within the window). Overlapping windows add up, which
    the backward gets by folding the gradient placed on each maximum.
    """

    @staticmethod
    def forward(ctx, x, window):
        windows = _windows(x.data, window, _lowest(x.dtype))
        n, c, kh, kw, oh, ow = windows.shape
        flat = windows.reshape(n, c, kh * kw, oh, ow)
        ctx.first_max = flat.argmax(axis=2)[:, :, None]  # argmax picks the first of ties
        ctx.window, ctx.image_size, ctx.windows_shape = window, x.shape[2:], windows.shape
        return np.take_along_axis(flat, ctx.first_max, axis=2)[:, :, 0]

    @staticmethod
    def backward(ctx, grad):
        n, c, kh, kw, oh, ow = ctx.windows_shape
        offsets = np.arange(kh * kw).reshape(1, 1, -1, 1, 1)
        on_max = (offsets == ctx.first_max).reshape(ctx.windows_shape).astype(grad.dtype)
        spread = grad.reshape(n, c, 1, 1, oh, ow) * on_max
        (dh, dw), padding, stride = ctx.window.dilation, ctx.window.padding, ctx.window.stride
        if (stride == (kh, kw) and (dh, dw) == (1, 1) and padding == ((0, 0), (0, 0))
                and ctx.image_size == (oh * kh, ow * kw)):
            # the windows tile the image exactly: folding is only a rearrangement
            return spread.permute(0, 1, 4, 2, 5, 3).reshape(n, c, oh * kh, ow * kw), None
        return Fold.apply(spread, ctx.image_size, ctx.window), None


# --------------------------------------------------------------------- functions


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks as columns, as ``torch.nn.functional.unfold`` (im2col).

    (N, C, H, W) -> (N, C * kh * kw, L), L the number of blocks; channels
    vary slowest along dimension 1. A 3-d (C, H, W) input gives (C * kh * kw, L).
    """
    x, batched = _batched(input, "unfold")
    window, (oh, ow) = _window("unfold", x.shape[2:], kernel_size, dilation, padding, stride)
    n, c = x.shape[:2]
    kh, kw = window.kernel
    cols = Unfold.apply(x, window).reshape(n, c * kh * kw, oh * ow)
    return cols if batched else cols.reshape(cols.shape[1:])


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns summed back into an image, as ``torch.nn.functional.fold`` (col2im).

    (N, C * kh * kw, L) -> (N, C, H, W) with (H, W) = ``output_size``; the
    adjoint of ``unfold``. A 2-d input gives a 3-d (C, H, W) result.
    """
    _check_tensor(input, "fold", "input")
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-d or 3-d input (N, C * kh * kw, L), got shape "
                         f"{tuple(input.shape)}")
    batched = input.ndim == 3
    x = input if batched else input.reshape((1,) + input.shape)
    output_size = _pair(output_size, "fold", "output_size", minimum=1)
    window, (oh, ow) = _window("fold", output_size, kernel_size, dilation, padding, stride)
    kh, kw = window.kernel
    n, rows, blocks = x.shape
    if rows % (kh * kw):
        raise ValueError(
            f"fold: the input's channel dimension ({rows}, of shape {tuple(input.shape)}) must be "
            f"divisible by the kernel's size kh * kw = {kh} * {kw}"
        )
    if blocks != oh * ow:
        raise ValueError(
            f"fold: input has {blocks} blocks (its last dimension), but output_size "
            f"{output_size} with kernel_size {(kh, kw)}, dilation {window.dilation}, padding "
            f"{_symmetric(window.padding)} and stride {window.stride} has {oh} x {ow} = "
            f"{oh * ow} blocks"
        )
    image = Fold.apply(x.reshape(n, rows // (kh * kw), kh, kw, oh, ow), output_size, window)
    return image if batched else image.reshape(image.shape[1:])


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation, as ``torch.nn.functional.conv2d``.

    input (N, C, H, W) or (C, H, W), weight (O, C / groups, kh, kw), bias (O,).
    Composed: unfold the input, multiply each group's columns by its weights
    as one matrix product, add the bias; the backward comes from those ops.
    ``padding`` is an int, a pair, ``"valid"`` (none) or ``"same"`` (stride 1).
    """
    x, batched = _batched(input, "conv2d")
    _check_tensor(weight, "conv2d", "weight")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-d (out_channels, in_channels / groups, kh, "
                         f"kw), got shape {tuple(weight.shape)}")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    n, channels = x.shape[:2]
    out_channels, group_channels, kh, kw = weight.shape
    if channels != group_channels * groups:
        raise ValueError(
            f"conv2d: given groups={groups}, weight of shape {tuple(weight.shape)} expects input "
            f"with {group_channels * groups} channels, but input of shape {tuple(input.shape)} "
            f"has {channels}"
        )
    if out_channels % groups:
        raise ValueError(f"conv2d: out_channels {out_channels} (weight.shape[0]) must be "
                         f"divisible by groups={groups}")
    if bias is not None:
        _check_tensor(bias, "conv2d", "bias")
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(f"conv2d: bias must have shape ({out_channels},) for weight of shape "
                             f"{tuple(weight.shape)}, got {tuple(bias.shape)}")
    padding, sides = _conv_padding(padding, (kh, kw), dilation, stride)
    window, (oh, ow) = _window("conv2d", x.shape[2:], (kh, kw), dilation, padding, stride, sides)
    cols = Unfold.apply(x, window)
    depth = group_channels * kh * kw  # the length of one window, within one group
    if groups == 1:
        out = weight.reshape(out_channels, depth) @ cols.reshape(n, depth, oh * ow)
    else:
        out = (weight.reshape(groups, out_channels // groups, depth)
               @ cols.reshape(n, groups, depth, oh * ow))
    out = out.reshape(n, out_channels, oh, ow)
    if bias is not None:
        out = out + bias.reshape(out_channels, 1, 1)
    return out if batched else out.reshape(out.shape[1:])


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The maximum of each window, as ``torch.nn.functional.max_pool2d``.

    ``stride`` defaults to ``kernel_size``; padding counts as -inf.
    """
    x, batched = _batched(input, "max_pool2d")
    window = _pool_window("max_pool2d", x.shape[2:], kernel_size, stride, padding, dilation,
                          ceil_mode)
    out = MaxPool2d.apply(x, window)
    return out if batched else out.reshape(out.shape[1:])


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window, as ``torch.nn.functional.avg_pool2d``.

    Composed: a sum over each unfolded window, divided by the window's size;
    that size counts zero padding if ``count_include_pad``, never the part
    of a ``ceil_mode`` window beyond the padding; ``divisor_override`` replaces it.
    """
    x, batched = _batched(input, "avg_pool2d")
    window = _pool_window("avg_pool2d", x.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
    sums = Unfold.apply(x, window).sum(dim=(2, 3))
    if divisor_override is not None:
        if not divisor_override:
            raise ValueError("avg_pool2d: divisor_override must be non-zero, got 0")
        divisor = divisor_override
    else:
        (height, width), (ph, pw) = x.shape[2:], _symmetric(window.padding)
        divisor = np.outer(
            _window_sizes(height, sums.shape[2], window.kernel[0], window.stride[0], ph,
                          count_include_pad),
            _window_sizes(width, sums.shape[3], window.kernel[1], window.stride[1], pw,
                          count_include_pad),
        ).astype(x.dtype)
    out = sums / divisor
    return out if batched else out.reshape(out.shape[1:])


# ----------------------------------------------------------------------- helpers


def _windows(image, window, fill):
    """The numpy side of ``Unfold``: a strided view of the image padded with ``fill``, copied."""
    (kh, kw), (dh, dw), ((top, bottom), (left, right)), (sh, sw) = window
    n, c, height, width = image.shape
    if top or bottom or left or right:
        padded = np.full((n, c, height + top + bottom, width + left + right), fill, image.dtype)
        padded[:, :, top:top + height, left:left + width] = image
    else:
        padded = image
    oh = (padded.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (padded.shape[3] - dw * (kw - 1) - 1) // sw + 1
    s_n, s_c, s_h, s_w = padded.strides
    view = as_strided(padded, (n, c, kh, kw, oh, ow),
                      (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw), writeable=False)
    return np.ascontiguousarray(view)


def _window(op, image_size, kernel_size, dilation, padding, stride, sides=None):
    """Check the window arguments against the image size; the Window and (oh, ow).

    ``sides`` ((top, bottom), (left, right)) replaces ``padding`` where one side
    gets more ("same" with an even span, ceil_mode).
    """
    kernel = _pair(kernel_size, op, "kernel_size", minimum=1)
    dilation = _pair(dilation, op, "dilation", minimum=1)
    stride = _pair(stride, op, "stride", minimum=1)
    if sides is None:
        sides = tuple((p, p) for p in _pair(padding, op, "padding", minimum=0))
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


def _pool_window(op, image_size, kernel_size, stride, padding, dilation, ceil_mode):
    """The Window of a pool; ceil_mode pads the bottom and right so the last window fits."""
    kernel = _pair(kernel_size, op, "kernel_size", minimum=1)
    stride = kernel if stride is None or stride == [] else _pair(stride, op, "stride", minimum=1)
    padding = _pair(padding, op, "padding", minimum=0)
    dilation = _pair(dilation, op, "dilation", minimum=1)
    sides = []
    for size, k, s, p, d in zip(image_size, kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        if p > span // 2:
            raise ValueError(
                f"{op}: pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
        count = _pool_output_size(size, span, s, p, ceil_mode)
        sides.append((p, max(p, (count - 1) * s + span - size - p)))
    window, _ = _window(op, image_size, kernel, dilation, padding, stride, tuple(sides))
    return window


def _pool_output_size(size, span, stride, pad, ceil_mode):
    """PyTorch's rule: with ceil_mode, a last window must start inside the input or left padding."""
    reach = size + 2 * pad - span
    count = (-(-reach // stride) if ceil_mode else reach // stride) + 1
    if ceil_mode and (count - 1) * stride >= size + pad:
        count -= 1
    return count


def _window_sizes(size, count, kernel, stride, pad, count_include_pad):
    """avg_pool2d's divisors along one axis, as PyTorch counts them."""
    starts = np.arange(count) * stride - pad
    ends = np.minimum(starts + kernel, size + pad)
    if count_include_pad:
        return ends - starts
    return np.minimum(ends, size) - np.maximum(starts, 0)


def _conv_padding(padding, kernel, dilation, stride):
    """conv2d's padding: as numbers, or "valid"/"same" as (0, None) or (0, sides)."""
    if not isinstance(padding, str):
        return padding, None
    if padding == "valid":
        return 0, None
    if padding != "same":
        raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got "
                         f"{padding!r}")
    if _pair(stride, "conv2d", "stride", minimum=1) != (1, 1):
        raise ValueError(f"conv2d: padding='same' is not supported for strided convolutions "
                         f"(stride={stride}); give the padding as numbers")
    totals = [d * (k - 1) for k, d in zip(kernel, _pair(dilation, "conv2d", "dilation", 1))]
    return 0, tuple((total // 2, total - total // 2) for total in totals)  # odd: extra at the end


def _pair(value, op, name, minimum):
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    pair = (value, value) if not isinstance(value, (list, tuple)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return tuple(int(v) for v in pair)


def _symmetric(sides):
    """The (height, width) padding a Window was given, before any one-sided extra."""
    return tuple(before for before, _ in sides)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _check_tensor(value, op, name):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")


def _batched(input, op):
    """(N, C, H, W) as it is, or a (C, H, W) image as a batch of one; and whether it was batched."""
    _check_tensor(input, op, "input")
    if input.ndim == 4:
        return input, True
    if input.ndim == 3:
        return input.reshape((1,) + input.shape), False
    raise ValueError(f"{op}: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got shape "
                     f"{tuple(input.shape)}")


METHODS = {}
