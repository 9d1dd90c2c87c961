"""The 2-d pools, on NCHW images: ``max_pool2d`` and ``avg_pool2d``.

Both rest on the window primitives of ``chainrule.ops.convolution``:
``avg_pool2d`` is composed (a sum over each unfolded window divided by its
size); ``max_pool2d`` is one Function, with one or two outputs (the maxima
and, with ``return_indices=True``, where they are), whose backward places
the gradient on each window's maximum and folds it back into the image.

    >>> import chainrule as cr
    >>> x = cr.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]], dtype=float32)
    >>> max_pool2d(x, 2, return_indices=True)[1]
    tensor([[[[ 5,  7],
              [13, 15]]]], dtype=int64)
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops._windows import batched, pair, symmetric, window, windows
from chainrule.ops.convolution import Fold, Unfold
from chainrule.registry import register


class MaxPool2d(Function):
    """The largest element of each window;  d/dx = 1 at each window's maximum, else 0.

    As PyTorch, a window with tied maxima sends its gradient to the first one
    (in row-major order within the window). Overlapping windows add up, which
    the backward gets by folding the gradient placed on each maximum. With
    ``return_indices`` a second output (int64, no gradient) holds each
    maximum's flat position in its input plane, ``row * W + column``.
    """

    @staticmethod
    def forward(ctx, x, window, *, return_indices=False):
        cols = windows(x.data, window, _lowest(x.dtype))
        n, c, kh, kw, oh, ow = cols.shape
        flat = cols.reshape(n, c, kh * kw, oh, ow)
        xp = array_module(flat)
        ctx.first_max = flat.argmax(axis=2)[:, :, None]  # argmax picks the first of ties
        ctx.window, ctx.image_size, ctx.windows_shape = window, x.shape[2:], cols.shape
        out = xp.take_along_axis(flat, ctx.first_max, axis=2)[:, :, 0]
        if not return_indices:
            return out
        return out, _plane_positions(ctx.first_max[:, :, 0], window, x.shape[3], xp)

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        if grad is None:  # only the indices were used
            return None, None
        xp = array_module(ctx.first_max)
        n, c, kh, kw, oh, ow = ctx.windows_shape
        offsets = xp.arange(kh * kw).reshape(1, 1, -1, 1, 1)
        on_max = (offsets == ctx.first_max).reshape(ctx.windows_shape).astype(grad.dtype)
        spread = grad.reshape(n, c, 1, 1, oh, ow) * on_max
        (dh, dw), padding, stride = ctx.window.dilation, ctx.window.padding, ctx.window.stride
        if (stride == (kh, kw) and (dh, dw) == (1, 1) and padding == ((0, 0), (0, 0))
                and ctx.image_size == (oh * kh, ow * kw)):
            # the windows tile the image exactly: folding is only a rearrangement
            image = spread.permute(0, 1, 4, 2, 5, 3).reshape(n, c, oh * kh, ow * kw)
            return image, None
        return Fold.apply(spread, ctx.image_size, ctx.window), None


@register("nn.functional")
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window, as ``torch.nn.functional.max_pool2d``.

    ``stride`` defaults to ``kernel_size``; padding counts as -inf. With
    ``return_indices=True``, also each maximum's flat index into its input
    plane (int64, PyTorch's convention, as ``max_unpool2d`` takes it); both
    come from one node.
    """
    x, was_batched = batched(input, "max_pool2d")
    where = _pool_window("max_pool2d", x.shape[2:], kernel_size, stride, padding, dilation,
                         ceil_mode)
    if not return_indices:
        out = MaxPool2d.apply(x, where)
        return out if was_batched else out.reshape(out.shape[1:])
    out, indices = MaxPool2d.apply(x, where, return_indices=True)
    if not was_batched:
        out, indices = out.reshape(out.shape[1:]), indices.reshape(indices.shape[1:])
    return out, indices


@register("torch", name="max_pool2d")
def max_pool2d_without_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                               ceil_mode=False):
    """``torch.max_pool2d``: ``nn.functional.max_pool2d`` with torch's parameters (no indices)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


@register("nn.functional")
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window, as ``torch.nn.functional.avg_pool2d``.

    Composed: a sum over each unfolded window, divided by the window's size;
    that size counts zero padding if ``count_include_pad``, never the part
    of a ``ceil_mode`` window beyond the padding; ``divisor_override`` replaces it.
    """
    x, was_batched = batched(input, "avg_pool2d")
    where = _pool_window("avg_pool2d", x.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
    sums = Unfold.apply(x, where).sum(dim=(2, 3))
    if divisor_override is not None:
        if not divisor_override:
            raise ValueError("avg_pool2d: divisor_override must be non-zero, got 0")
        divisor = divisor_override
    else:
        xp = array_module(x.data)
        (height, width), (ph, pw) = x.shape[2:], symmetric(where.padding)
        divisor = xp.outer(
            _window_sizes(xp, height, sums.shape[2], where.kernel[0], where.stride[0], ph,
                          count_include_pad),
            _window_sizes(xp, width, sums.shape[3], where.kernel[1], where.stride[1], pw,
                          count_include_pad),
        ).astype(x.dtype)
    out = sums / divisor
    return out if was_batched else out.reshape(out.shape[1:])


# ----------------------------------------------------------------------- helpers


def _plane_positions(offsets, window, width, xp):
    """Flat positions ``row * width + column`` in the unpadded plane of each window's offset."""
    (kh, kw), (dh, dw), ((top, _), (left, _)), (sh, sw) = window
    oh, ow = offsets.shape[-2:]
    rows = (xp.arange(oh) * sh - top).reshape(oh, 1) + (offsets // kw) * dh
    columns = (xp.arange(ow) * sw - left).reshape(1, ow) + (offsets % kw) * dw
    return (rows * width + columns).astype(np.int64)


def _pool_window(op, image_size, kernel_size, stride, padding, dilation, ceil_mode):
    """The Window of a pool; ceil_mode pads the bottom and right so the last window fits."""
    kernel = pair(kernel_size, op, "kernel_size", minimum=1)
    no_stride = stride is None or (isinstance(stride, (list, tuple)) and not stride)
    stride = kernel if no_stride else pair(stride, op, "stride", minimum=1)
    padding = pair(padding, op, "padding", minimum=0)
    dilation = pair(dilation, op, "dilation", minimum=1)
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
    where, _ = window(op, image_size, kernel, dilation, padding, stride, tuple(sides))
    return where


def _pool_output_size(size, span, stride, pad, ceil_mode):
    """PyTorch's rule: with ceil_mode, a last window must start inside the input or left padding."""
    reach = size + 2 * pad - span
    count = (-(-reach // stride) if ceil_mode else reach // stride) + 1
    if ceil_mode and (count - 1) * stride >= size + pad:
        count -= 1
    return count


def _window_sizes(xp, size, count, kernel, stride, pad, count_include_pad):
    """avg_pool2d's divisors along one axis, as PyTorch counts them."""
    starts = xp.arange(count) * stride - pad
    ends = xp.minimum(starts + kernel, size + pad)
    if count_include_pad:
        return ends - starts
    return xp.minimum(ends, size) - xp.maximum(starts, 0)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min
