"""Rearranging channels and pixels: ``pixel_shuffle``, ``pixel_unshuffle``, ``channel_shuffle``.

Each is a reshape, a permutation of dimensions and a reshape back, so each
is composed of those ops: the gradient is the inverse rearrangement.

    >>> import chainrule as cr
    >>> pixel_shuffle(cr.arange(4.0).reshape(1, 4, 1, 1), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
"""

import numpy as np

from chainrule.ops._windows import check_tensor
from chainrule.registry import register


@register("nn.functional")
def pixel_shuffle(input, upscale_factor):
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r), as ``torch.nn.functional.pixel_shuffle``:
    out[..., c, h * r + i, w * r + j] = input[..., c * r * r + i * r + j, h, w]."""
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    x = _image(input, "pixel_shuffle")
    *batch, channels, height, width = x.shape
    if channels % (r * r):
        raise ValueError(f"pixel_shuffle: the number of channels ({channels}, of shape "
                         f"{tuple(x.shape)}) must be divisible by upscale_factor squared "
                         f"({r} * {r})")
    b = len(batch)
    out = x.reshape(tuple(batch) + (channels // (r * r), r, r, height, width))
    out = out.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return out.reshape(tuple(batch) + (channels // (r * r), height * r, width * r))


@register("nn.functional")
def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W), the inverse of ``pixel_shuffle``, as
    ``torch.nn.functional.pixel_unshuffle``."""
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    x = _image(input, "pixel_unshuffle")
    *batch, channels, height, width = x.shape
    if height % r or width % r:
        raise ValueError(f"pixel_unshuffle: height and width ({height} x {width}, of shape "
                         f"{tuple(x.shape)}) must be divisible by downscale_factor ({r})")
    b = len(batch)
    out = x.reshape(tuple(batch) + (channels, height // r, r, width // r, r))
    out = out.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return out.reshape(tuple(batch) + (channels * r * r, height // r, width // r))


@register("nn.functional")
def channel_shuffle(input, groups):
    """(N, g * k, *) -> (N, k * g, *), as ``torch.nn.functional.channel_shuffle``: channel
    ``i * k + j`` moves to ``j * g + i`` (the channels read as a g x k matrix, transposed)."""
    g = _factor(groups, "channel_shuffle", "groups")
    check_tensor(input, "channel_shuffle", "input")
    if input.ndim < 3:
        raise ValueError(f"channel_shuffle: expected an input of at least 3 dimensions (N, C, "
                         f"*), got shape {tuple(input.shape)}")
    n, channels, *rest = input.shape
    if channels % g:
        raise ValueError(f"channel_shuffle: the number of channels ({channels}) must be "
                         f"divisible by groups ({g})")
    out = input.reshape((n, g, channels // g) + tuple(rest)).transpose(1, 2)
    return out.reshape(tuple(input.shape))


def _factor(value, op, name):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    return int(value)


def _image(input, op):
    check_tensor(input, op, "input")
    if input.ndim < 3:
        raise ValueError(f"{op}: expected an input of at least 3 dimensions (*, C, H, W), got "
                         f"shape {tuple(input.shape)}")
    return input
