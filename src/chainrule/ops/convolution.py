"""Sliding windows: ``unfold``/``fold`` and ``conv2d``, on NCHW images.

Two linear primitives carry everything. ``Unfold`` copies every window of
the (padded) image out, giving an array of shape (N, C, kh, kw, oh, ow):
entry [n, c, i, j, y, x] is the pixel at kernel offset (i, j) of the window
at output position (y, x). ``Fold`` adds such windows back into an image,
summing where they overlap. Each is the other's adjoint, so each one's
backward is the other and derivatives of every order work.

``conv2d`` is built on them from Tensor ops with no backward of its own: a
matrix product of the weight with the unfolded input (per group). The
pools, on the same primitives, live next door in ``chainrule.ops.pooling``.

    >>> import chainrule as cr
    >>> x = cr.arange(9.0).reshape(1, 1, 3, 3)
    >>> conv2d(x, cr.ones(1, 1, 2, 2))
    tensor([[[[ 8., 12.],
              [20., 24.]]]], dtype=float32)
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops._windows import batched, check_tensor, pair, symmetric, window, windows
from chainrule.registry import register


class Unfold(Function):
    """Every window of x copied out: (N, C, H, W) -> (N, C, kh, kw, oh, ow);  d/dx = Fold.

    Linear (the padding is zeros), so its backward is its adjoint ``Fold``:
    each pixel's gradient is the sum of the gradients of its copies.
    """

    @staticmethod
    def forward(ctx, x, window):
        ctx.window, ctx.image_size = window, x.shape[2:]
        return windows(x.data, window, 0)

    @staticmethod
    def backward(ctx, grad):
        return Fold.apply(grad, ctx.image_size, ctx.window), None


class Fold(Function):
    """Windows (N, C, kh, kw, oh, ow) summed back into place (N, C, H, W);  d/dcols = Unfold.

    The adjoint of ``Unfold``, so its backward is ``Unfold`` (zero-padded).
    """

    @staticmethod
    def forward(ctx, cols, image_size, window):
        ctx.window = window
        (kh, kw), (dh, dw), ((top, bottom), (left, right)), (sh, sw) = window
        n, c, _, _, oh, ow = cols.shape
        height, width = image_size
        data = cols.data
        xp = array_module(data)
        out = xp.zeros((n, c, height + top + bottom, width + left + right), data.dtype)
        for i in range(kh):  # one strided slice per kernel offset, not one per pixel
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            for j in range(kw):
                out[:, :, rows, j * dw:j * dw + sw * (ow - 1) + 1:sw] += data[:, :, i, j]
        if top or bottom or left or right:
            out = xp.ascontiguousarray(out[:, :, top:top + height, left:left + width])
        return out

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, ctx.window), None, None


# --------------------------------------------------------------------- functions


@register("nn.functional")
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks as columns, as ``torch.nn.functional.unfold`` (im2col).

    (N, C, H, W) -> (N, C * kh * kw, L), L the number of blocks; channels
    vary slowest along dimension 1. A 3-d (C, H, W) input gives (C * kh * kw, L).
    """
    x, was_batched = batched(input, "unfold")
    where, (oh, ow) = window("unfold", x.shape[2:], kernel_size, dilation, padding, stride)
    n, c = x.shape[:2]
    kh, kw = where.kernel
    cols = Unfold.apply(x, where).reshape(n, c * kh * kw, oh * ow)
    return cols if was_batched else cols.reshape(cols.shape[1:])


@register("nn.functional")
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns summed back into an image, as ``torch.nn.functional.fold`` (col2im).

    (N, C * kh * kw, L) -> (N, C, H, W) with (H, W) = ``output_size``; the
    adjoint of ``unfold``. A 2-d input gives a 3-d (C, H, W) result.
    """
    check_tensor(input, "fold", "input")
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-d or 3-d input (N, C * kh * kw, L), got shape "
                         f"{tuple(input.shape)}")
    was_batched = input.ndim == 3
    x = input if was_batched else input.reshape((1,) + input.shape)
    output_size = pair(output_size, "fold", "output_size", minimum=1)
    where, (oh, ow) = window("fold", output_size, kernel_size, dilation, padding, stride)
    kh, kw = where.kernel
    n, rows, blocks = x.shape
    if rows % (kh * kw):
        raise ValueError(
            f"fold: the input's channel dimension ({rows}, of shape {tuple(input.shape)}) must be "
            f"divisible by the kernel's size kh * kw = {kh} * {kw}"
        )
    if blocks != oh * ow:
        raise ValueError(
            f"fold: input has {blocks} blocks (its last dimension), but output_size "
            f"{output_size} with kernel_size {(kh, kw)}, dilation {where.dilation}, padding "
            f"{symmetric(where.padding)} and stride {where.stride} has {oh} x {ow} = "
            f"{oh * ow} blocks"
        )
    image = Fold.apply(x.reshape(n, rows // (kh * kw), kh, kw, oh, ow), output_size, where)
    return image if was_batched else image.reshape(image.shape[1:])


@register("nn.functional", "torch")
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation, as ``torch.nn.functional.conv2d``.

    input (N, C, H, W) or (C, H, W), weight (O, C / groups, kh, kw), bias (O,).
    Composed: unfold the input, multiply each group's columns by its weights
    as one matrix product, add the bias; the backward comes from those ops.
    ``padding`` is an int, a pair, ``"valid"`` (none) or ``"same"`` (stride 1).
    """
    x, was_batched = batched(input, "conv2d")
    check_tensor(weight, "conv2d", "weight")
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
        check_tensor(bias, "conv2d", "bias")
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(f"conv2d: bias must have shape ({out_channels},) for weight of shape "
                             f"{tuple(weight.shape)}, got {tuple(bias.shape)}")
    padding, sides = _conv_padding(padding, (kh, kw), dilation, stride)
    where, (oh, ow) = window("conv2d", x.shape[2:], (kh, kw), dilation, padding, stride, sides)
    cols = Unfold.apply(x, where)
    depth = group_channels * kh * kw  # the length of one window, within one group
    if groups == 1:
        out = weight.reshape(out_channels, depth) @ cols.reshape(n, depth, oh * ow)
    else:
        out = (weight.reshape(groups, out_channels // groups, depth)
               @ cols.reshape(n, groups, depth, oh * ow))
    out = out.reshape(n, out_channels, oh, ow)
    if bias is not None:
        out = out + bias.reshape(out_channels, 1, 1)
    return out if was_batched else out.reshape(out.shape[1:])


def _conv_padding(padding, kernel, dilation, stride):
    """conv2d's padding: as numbers, or "valid"/"same" as (0, None) or (0, sides)."""
    if not isinstance(padding, str):
        return padding, None
    if padding == "valid":
        return 0, None
    if padding != "same":
        raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got "
                         f"{padding!r}")
    if pair(stride, "conv2d", "stride", minimum=1) != (1, 1):
        raise ValueError(f"conv2d: padding='same' is not supported for strided convolutions "
                         f"(stride={stride}); give the padding as numbers")
    totals = [d * (k - 1) for k, d in zip(kernel, pair(dilation, "conv2d", "dilation", 1))]
    return 0, tuple((total // 2, total - total // 2) for total in totals)  # odd: extra at the end
