"""``group_norm``, ``rms_norm`` and ``local_response_norm``, as in ``torch.nn.functional``.

- ``group_norm``: the channels split into groups; each sample's group is
  normalised by its own mean and biased variance, then scaled per channel.
- ``rms_norm``: x / sqrt(mean(x**2) + eps) over the trailing dims, times weight.
- ``local_response_norm``: x / (k + alpha * mean of x**2 over a window of
  ``size`` neighbouring channels)**beta, the window zero-padded at the edges.

All are composed of primitives, so gradients of every order come from theirs.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.rms_norm(cr.tensor([[1.0, -1.0]]), (2,), eps=0.0)
    tensor([[ 1., -1.]])
"""

import numbers

import numpy as np

from chainrule.device import array_module
from chainrule.ops.joining import cat
from chainrule.registry import register
from chainrule.tensor import Tensor

__all__ = []  # the ops are registered


def _check_input(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}; convert it "
                        "with .float()")


@register("nn.functional")
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """(x - mean) / sqrt(var + eps) over each sample's group of C / num_groups channels
    (and all their positions), then * weight + bias per channel."""
    _check_input(input, "group_norm")
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected an input of at least 2 dims (N, C, ...), got "
                           f"shape {tuple(input.shape)}")
    n, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(f"group_norm: expected the number of channels {channels} to be "
                           f"divisible by num_groups, got num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(f"group_norm: {name} must have one value per channel, shape "
                               f"({channels},), got {tuple(t.shape)}")
    grouped = input.reshape(n, num_groups, -1)
    mean = grouped.mean(2, keepdim=True)
    centred = grouped - mean
    variance = (centred * centred).mean(2, keepdim=True)
    out = (centred * (variance + eps) ** -0.5).reshape(tuple(input.shape))
    channel_shape = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(channel_shape)
    if bias is not None:
        out = out + bias.reshape(channel_shape)
    return out


@register("nn.functional")
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x**2) + eps) over the last ``len(normalized_shape)`` dims, times weight.

    ``eps`` None is the machine epsilon of the input's dtype, as in PyTorch.
    """
    _check_input(input, "rms_norm")
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise RuntimeError(
            f"rms_norm: normalized_shape {list(normalized_shape)} must be the last dimensions "
            f"of the input, got input of shape {tuple(input.shape)}")
    if weight is not None and tuple(weight.shape) != normalized_shape:
        raise RuntimeError(f"rms_norm: weight of shape {tuple(weight.shape)} must have "
                           f"normalized_shape {list(normalized_shape)}")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    squares = input * input
    mean_square = squares.mean(dims, keepdim=True) if dims else squares
    out = input * (mean_square + eps) ** -0.5
    return out * weight if weight is not None else out


@register("nn.functional")
def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    """x / (k + alpha / size * sum of x**2 over channels c - size//2 ... c + (size-1)//2)**beta.

    The window runs over dim 1 (channels), zero-padded at the edges, as
    PyTorch's average pooling of the squares does.
    """
    _check_input(input, "local_response_norm")
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3 or more dimensions (N, C, ...), got "
                         f"input of shape {tuple(input.shape)}")
    if input.numel() == 0:
        return input
    squares = input * input
    channels = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    xp = array_module(input.array)
    pad_shape = list(input.shape)
    parts = []
    if before:
        pad_shape[1] = before
        parts.append(Tensor._make(xp.zeros(tuple(pad_shape), input.dtype), False, None))
    parts.append(squares)
    if after:
        pad_shape[1] = after
        parts.append(Tensor._make(xp.zeros(tuple(pad_shape), input.dtype), False, None))
    padded = cat(parts, 1) if len(parts) > 1 else squares
    rest = (slice(None),) * (input.ndim - 2)
    window = padded[(slice(None), slice(0, channels)) + rest]
    for shift in range(1, size):
        window = window + padded[(slice(None), slice(shift, shift + channels)) + rest]
    return input / (window * (alpha / size) + k) ** beta

