"""Sliding windows: ``unfold``/``fold`` and ``conv1d``/``conv2d``/``conv3d``.

Two linear primitives carry everything, in 1, 2 or 3 spatial dimensions.
``Unfold`` copies every window of the (padded) image out, giving an array of
shape (N, C, *kernel, *out), in 2-d (N, C, kh, kw, oh, ow): entry
[n, c, i, j, y, x] is the pixel at kernel offset (i, j) of the window at
output position (y, x). ``Fold`` adds such windows back into an image,
summing where they overlap. Each is the other's adjoint, so each one's
backward is the other and derivatives of every order work.

The convolutions are built on them from Tensor ops with no backward of their
own: a matrix product of the weight with the unfolded input (per group). The
pools and the transposed convolutions, on the same primitives, live next
door in ``chainrule.ops.pooling`` and ``chainrule.ops.conv_transpose``.

    >>> import chainrule as cr
    >>> x = cr.arange(9.0).reshape(1, 1, 3, 3)
    >>> conv2d(x, cr.ones(1, 1, 2, 2))
    tensor([[[[ 8., 12.],
              [20., 24.]]]])
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.ops.conv_fast import Convolution
from chainrule.ops._windows import (batched, check_tensor, fold_windows, ntuple, pair, symmetric,
                                   window, windows)
from chainrule.registry import register


class Unfold(Function):
    """Every window of x copied out: (N, C, *size) -> (N, C, *kernel, *out);  d/dx = Fold.

    Linear (the padding is zeros), so its backward is its adjoint ``Fold``:
    each pixel's gradient is the sum of the gradients of its copies.
    """

    @staticmethod
    def forward(ctx, x, window):
        ctx.window, ctx.image_size = window, x.shape[2:]
        return windows(x.array, window, 0)

    @staticmethod
    def backward(ctx, grad):
        return Fold.apply(grad, ctx.image_size, ctx.window), None


class Fold(Function):
    """Windows (N, C, *kernel, *out) summed back into place (N, C, *size);  d/dcols = Unfold.

    The adjoint of ``Unfold``, so its backward is ``Unfold`` (zero-padded).
    """

    @staticmethod
    def forward(ctx, cols, image_size, window):
        ctx.window = window
        return fold_windows(cols.array, tuple(image_size), window)

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
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation, as ``torch.nn.functional.conv1d``.

    input (N, C, L) or (C, L), weight (O, C / groups, k), bias (O,); as
    ``conv2d`` with one spatial dimension.
    """
    return convolution(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


@register("nn.functional", "torch")
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation, as ``torch.nn.functional.conv2d``.

    input (N, C, H, W) or (C, H, W), weight (O, C / groups, kh, kw), bias (O,).
    Composed: unfold the input, multiply each group's columns by its weights
    as one matrix product, add the bias; the backward comes from those ops.
    ``padding`` is an int, a pair, ``"valid"`` (none) or ``"same"`` (stride 1).
    """
    return convolution(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


@register("nn.functional", "torch")
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d cross-correlation, as ``torch.nn.functional.conv3d``.

    input (N, C, D, H, W) or (C, D, H, W), weight (O, C / groups, kd, kh, kw),
    bias (O,); as ``conv2d`` with three spatial dimensions.
    """
    return convolution(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def convolution(input, weight, bias, stride, padding, dilation, groups, d, op):
    """The d-dimensional cross-correlation behind conv1d/2d/3d: unfold, one matrix product."""
    x, was_batched = batched(input, op, d)
    check_weight(weight, bias, groups, d, op)
    n, channels = x.shape[:2]
    out_channels, group_channels = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    if channels != group_channels * groups:
        raise ValueError(
            f"{op}: given groups={groups}, weight of shape {tuple(weight.shape)} expects input "
            f"with {group_channels * groups} channels, but input of shape {tuple(input.shape)} "
            f"has {channels}"
        )
    padding, sides = _conv_padding(padding, kernel, dilation, stride, op)
    where, out_size = window(op, x.shape[2:], kernel, dilation, padding, stride, sides)
    if x.dtype == weight.dtype:  # one matrix product over every window (ops/conv_fast.py)
        out = Convolution.apply(x, weight, where, groups)
    else:  # mixed dtypes: the composition, whose matmul promotes
        cols = Unfold.apply(x, where)
        depth = group_channels * int(np.prod(kernel))  # one window's length, within one group
        positions = int(np.prod(out_size))
        if groups == 1:
            out = weight.reshape(out_channels, depth) @ cols.reshape(n, depth, positions)
        else:
            out = (weight.reshape(groups, out_channels // groups, depth)
                   @ cols.reshape(n, groups, depth, positions))
        out = out.reshape((n, out_channels) + out_size)
    if bias is not None:
        out = out + bias.reshape((out_channels,) + (1,) * d)
    return out if was_batched else out.reshape(out.shape[1:])


def check_weight(weight, bias, groups, d, op, transposed=False):
    """A convolution's weight is (d + 2)-d, its groups divide the channels, bias matches."""
    check_tensor(weight, op, "weight")
    kernel = ", ".join(("k",) if d == 1 else ("kh", "kw") if d == 2 else ("kd", "kh", "kw"))
    if weight.ndim != d + 2:
        layout = ("in_channels, out_channels / groups" if transposed
                  else "out_channels, in_channels / groups")
        raise ValueError(f"{op}: weight must be {d + 2}-d ({layout}, {kernel}), got shape "
                         f"{tuple(weight.shape)}")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if not transposed and weight.shape[0] % groups:
        raise ValueError(f"{op}: out_channels {weight.shape[0]} (weight.shape[0]) must be "
                         f"divisible by groups={groups}")
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None:
        check_tensor(bias, op, "bias")
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(f"{op}: bias must have shape ({out_channels},) for weight of shape "
                             f"{tuple(weight.shape)}, got {tuple(bias.shape)}")


def _conv_padding(padding, kernel, dilation, stride, op):
    """A convolution's padding: as numbers, or "valid"/"same" as (0, None) or (0, sides)."""
    if not isinstance(padding, str):
        return padding, None
    if padding == "valid":
        return 0, None
    d = len(kernel)
    if padding != "same":
        kind = "a pair" if d == 2 else f"a tuple of {d}"
        raise ValueError(f"{op}: padding must be an int, {kind}, 'valid' or 'same', got "
                         f"{padding!r}")
    if set(ntuple(stride, d, op, "stride", minimum=1)) != {1}:
        raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                         f"(stride={stride}); give the padding as numbers")
    totals = [dil * (k - 1) for k, dil in zip(kernel, ntuple(dilation, d, op, "dilation", 1))]
    return 0, tuple((total // 2, total - total // 2) for total in totals)  # odd: extra at the end
