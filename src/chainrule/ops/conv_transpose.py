"""Transposed convolutions: ``conv_transpose1d``, ``conv_transpose2d``, ``conv_transpose3d``.

A transposed convolution is the adjoint of a convolution with respect to its
input: every input pixel spreads its channels, weighted by the kernel, over
a window of the output, and overlapping windows add up. Composed of the
window primitives of ``chainrule.ops.convolution``: one matrix product makes
every window's contribution (N, C_out, *kernel, *input size), ``Fold`` adds
them into place. The backward comes from those ops (``Fold``'s is
``Unfold``), so derivatives of every order work.

    >>> import chainrule as cr
    >>> conv_transpose1d(cr.ones(1, 1, 3), cr.ones(1, 1, 2))
    tensor([[[1., 2., 2., 1.]]])
"""

import numpy as np

from chainrule.ops._windows import Window, batched, ntuple
from chainrule.ops.convolution import Fold, check_weight
from chainrule.registry import register


@register("nn.functional", "torch")
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-d transposed convolution, as ``torch.nn.functional.conv_transpose1d``.

    input (N, C_in, L) or (C_in, L), weight (C_in, C_out / groups, k), bias (C_out,).
    Output length (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
    """
    return transposed_convolution(input, weight, bias, stride, padding, output_padding, groups,
                                  dilation, 1, "conv_transpose1d")


@register("nn.functional", "torch")
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-d transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    input (N, C_in, H, W) or (C_in, H, W), weight (C_in, C_out / groups, kh, kw),
    bias (C_out,); the adjoint of ``conv2d`` with respect to its input.
    """
    return transposed_convolution(input, weight, bias, stride, padding, output_padding, groups,
                                  dilation, 2, "conv_transpose2d")


@register("nn.functional", "torch")
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-d transposed convolution, as ``torch.nn.functional.conv_transpose3d``.

    input (N, C_in, D, H, W) or (C_in, D, H, W), weight (C_in, C_out / groups,
    kd, kh, kw), bias (C_out,).
    """
    return transposed_convolution(input, weight, bias, stride, padding, output_padding, groups,
                                  dilation, 3, "conv_transpose3d")


def transposed_convolution(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, d, op):
    """The d-dimensional transposed convolution: one matrix product, then ``Fold``."""
    x, was_batched = batched(input, op, d)
    check_weight(weight, bias, groups, d, op, transposed=True)
    n, channels = x.shape[:2]
    in_channels, group_out = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    if channels != in_channels or in_channels % groups:
        raise ValueError(
            f"{op}: weight of shape {tuple(weight.shape)} expects input with {in_channels} "
            f"channels (divisible by groups={groups}), but input of shape "
            f"{tuple(input.shape)} has {channels}"
        )
    stride = ntuple(stride, d, op, "stride", minimum=1)
    padding = ntuple(padding, d, op, "padding", minimum=0)
    extra = ntuple(output_padding, d, op, "output_padding", minimum=0)
    dilation = ntuple(dilation, d, op, "dilation", minimum=1)
    if any(e >= s and e >= dil for e, s, dil in zip(extra, stride, dilation)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than either stride "
                         f"{stride} or dilation {dilation}")
    in_size = tuple(x.shape[2:])
    out_size = tuple((i - 1) * s - 2 * p + dil * (k - 1) + e + 1 for i, s, p, dil, k, e
                     in zip(in_size, stride, padding, dilation, kernel, extra))
    if min(out_size, default=1) < 1:
        raise ValueError(f"{op}: the output size {out_size} (from input size {in_size}, stride "
                         f"{stride}, padding {padding}, kernel {kernel}) is not positive")
    # After-padding p - output_padding makes the adjoint Unfold give exactly the input's size.
    where = Window(kernel, dilation, tuple((p, p - e) for p, e in zip(padding, extra)), stride)
    depth = group_out * int(np.prod(kernel))
    positions = int(np.prod(in_size))
    group_in = in_channels // groups
    columns = (weight.reshape(groups, group_in, depth).transpose(1, 2)
               @ x.reshape(n, groups, group_in, positions))
    out = Fold.apply(columns.reshape((n, group_out * groups) + kernel + in_size), out_size, where)
    if bias is not None:
        out = out + bias.reshape((group_out * groups,) + (1,) * d)
    return out if was_batched else out.reshape(out.shape[1:])
