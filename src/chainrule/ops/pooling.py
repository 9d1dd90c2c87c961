"""The pools in 1, 2 and 3 dimensions: ``max_pool1d/2d/3d`` and ``avg_pool1d/2d/3d``.

Both rest on the window primitives of ``chainrule.ops.convolution``:
``avg_pool2d`` is composed (a sum over each unfolded window divided by its
size); ``max_pool2d`` is one Function, with one or two outputs (the maxima
and, with ``return_indices=True``, where they are), whose backward places
the gradient on each window's maximum and folds it back into the image.

    >>> import chainrule as cr
    >>> x = cr.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    >>> max_pool2d(x, 2, return_indices=True)[1]
    tensor([[[[ 5,  7],
              [13, 15]]]])
"""

from itertools import product

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops._windows import batched, ntuple, symmetric, window, windows
from chainrule.ops.convolution import Fold, Unfold
from chainrule.registry import register


class MaxPool(Function):
    """The largest element of each window;  d/dx = 1 at each window's maximum, else 0.

    As PyTorch, a window with tied maxima sends its gradient to the first one
    (in row-major order within the window). Overlapping windows add up, which
    the backward gets by folding the gradient placed on each maximum. With
    ``return_indices`` a second output (int64, no gradient) holds each
    maximum's flat position in its input plane (``row * W + column`` in 2-d).
    """

    @staticmethod
    def forward(ctx, x, window, *, return_indices=False):
        ctx.window, ctx.image_size = window, x.shape[2:]
        if _tiles(window, x.shape[2:]):
            return _tiled_forward(ctx, x.array, window, return_indices)
        ctx.tiled = None
        cols = windows(x.array, window, _lowest(x.dtype))
        d = len(window.kernel)
        n, c = cols.shape[:2]
        out_size = cols.shape[2 + d:]
        flat = cols.reshape((n, c, int(np.prod(window.kernel))) + out_size)
        xp = array_module(flat)
        ctx.first_max = flat.argmax(axis=2)[:, :, None]  # argmax picks the first of ties
        ctx.windows_shape = cols.shape
        out = xp.take_along_axis(flat, ctx.first_max, axis=2)[:, :, 0]
        if not return_indices:
            return out
        return out, _plane_positions(ctx.first_max[:, :, 0], window, x.shape[2:], xp)

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        if grad is None:  # only the indices were used
            return None, None
        if ctx.tiled is not None:  # grad placed on each tile's first maximum: one product
            image, out = ctx.tiled
            mask = _first_max_mask(image, out, ctx.window.kernel).reshape(image.shape)
            return TiledMaxPoolGrad.apply(grad, mask, tuple(ctx.window.kernel)), None
        xp = array_module(ctx.first_max)
        d = len(ctx.window.kernel)
        n, c = ctx.windows_shape[:2]
        kernel, out_size = ctx.windows_shape[2:2 + d], ctx.windows_shape[2 + d:]
        offsets = xp.arange(int(np.prod(kernel))).reshape((1, 1, -1) + (1,) * d)
        on_max = (offsets == ctx.first_max).reshape(ctx.windows_shape).astype(grad.dtype)
        spread = grad.reshape((n, c) + (1,) * d + tuple(out_size)) * on_max
        dilation, padding, stride = ctx.window.dilation, ctx.window.padding, ctx.window.stride
        if (stride == tuple(kernel) and set(dilation) == {1} and set(symmetric(padding)) <= {0}
                and all(after == 0 for _, after in padding)
                and tuple(ctx.image_size) == tuple(o * k for o, k in zip(out_size, kernel))):
            # the windows tile the image exactly: folding is only a rearrangement
            order = (0, 1) + tuple(i for axis in range(d) for i in (2 + d + axis, 2 + axis))
            return spread.permute(*order).reshape((n, c) + tuple(ctx.image_size)), None
        return Fold.apply(spread, ctx.image_size, ctx.window), None


def _tiles(window, image_size):
    """Whether the windows tile the image exactly: stride = kernel, no padding or dilation."""
    return (tuple(window.stride) == tuple(window.kernel) and set(window.dilation) == {1}
            and all(before == 0 and after == 0 for before, after in window.padding)
            and all(size % k == 0 for size, k in zip(image_size, window.kernel)))


def _tile_view(image, kernel):
    """(N, C, *spatial) as (N, C, o1, k1, o2, k2, ...): a view, each window's offsets on
    their own axes."""
    return image.reshape(image.shape[:2] + tuple(
        size for s, k in zip(image.shape[2:], kernel) for size in (s // k, k)))


def _offset_slices(tiles, kernel):
    """Each kernel offset's (N, C, *out) slice of a tile view, in row-major order."""
    every = slice(None)
    return [tiles[(every, every) + tuple(i for o in offset for i in (every, o))]
            for offset in product(*(range(k) for k in kernel))]


def _tiled_forward(ctx, image, window, return_indices):
    """The pool of windows that tile the image: a running maximum over the kernel offsets
    (NaN wins, as in argmax), no copy of the windows."""
    xp = array_module(image)
    slices = _offset_slices(_tile_view(image, window.kernel), window.kernel)
    out = slices[0]
    for part in slices[1:]:
        out = xp.maximum(out, part)
    out = xp.array(out, copy=True) if len(slices) == 1 else out
    ctx.tiled = (image, out)
    if not return_indices:
        return out
    mask = _first_max_mask(image, out, window.kernel)
    d = len(window.kernel)
    n, c = image.shape[:2]
    flat = xp.moveaxis(mask, tuple(3 + 2 * a for a in range(d)),
                       tuple(range(2 + d, 2 + 2 * d))).reshape(
        (n, c) + tuple(out.shape[2:]) + (int(np.prod(window.kernel)),))
    offsets = flat.argmax(axis=-1)  # the window's flat offset of its first maximum
    return out, _plane_positions(offsets, window, image.shape[2:], xp)


def _spread_tiles(array, kernel):
    """(N, C, o1, o2, ...) -> (N, C, o1 * k1, o2 * k2, ...): each value repeated over its tile.
    Repeating axis by axis writes contiguous arrays, several times faster than a broadcast
    against the tile view, whose innermost axis is only k long."""
    for axis, k in enumerate(kernel, 2):
        if k != 1:
            array = array.repeat(k, axis=axis)
    return array


def _first_max_mask(image, out, kernel):
    """1 (True) where a pixel is the first maximum of its tile (row-major), as the tile view
    (N, C, o1, k1, o2, k2, ...). NaN counts as the maximum, as in argmax."""
    xp = array_module(image)
    mask = image == _spread_tiles(out, kernel)  # every maximum, in one comparison
    if image.dtype.kind == "f" and xp.isnan(out).any():
        mask |= image != image  # a tile holding NaN has NaN as its maximum
    elif int(xp.count_nonzero(mask)) == out.size:
        # without NaN each tile has at least one maximum: one per tile means no ties
        return mask.reshape(_tile_view(image, kernel).shape)
    mask = mask.reshape(_tile_view(image, kernel).shape)
    taken = None  # the tiles whose first maximum is already kept, offset by offset
    for part in _offset_slices(mask, kernel):
        if taken is None:
            taken = part.copy()
        else:
            part &= ~taken
            taken |= part
    return mask


class TiledMaxPoolGrad(Function):
    """The max pool's input gradient when the windows tile the image:
    dx = spread(g) * mask, each output's gradient repeated over its tile and kept only on the
    tile's first maximum (``mask``, 0/1, the image's shape). Linear in g, so
    d<H, dx>/dg = the sum over each tile of H * mask (Tensor ops: derivatives of every order)."""

    @staticmethod
    def forward(ctx, grad, mask, kernel):
        ctx.mask, ctx.kernel = mask, kernel
        spread = _spread_tiles(grad.array, kernel)
        if spread is grad.array:  # a 1x1 kernel: nothing repeated, so copy before writing
            spread = spread.copy()
        array_module(spread).multiply(spread, mask, out=spread)
        return spread

    @staticmethod
    def backward(ctx, h):
        d = len(ctx.kernel)
        picked = _tile_view(h * ctx.mask.astype(h.dtype), ctx.kernel)
        return picked.sum(tuple(3 + 2 * axis for axis in range(d))), None, None


class MaxPool1d(MaxPool):
    """max_pool1d: the largest element of each window;  d/dx = 1 at each window's maximum."""


class MaxPool2d(MaxPool):
    """max_pool2d: the largest element of each window;  d/dx = 1 at each window's maximum."""


class MaxPool3d(MaxPool):
    """max_pool3d: the largest element of each window;  d/dx = 1 at each window's maximum."""


_MAX_POOLS = {1: MaxPool1d, 2: MaxPool2d, 3: MaxPool3d}


def max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, d, op):
    """The d-dimensional max pool behind max_pool1d/2d/3d."""
    x, was_batched = batched(input, op, d)
    where = _pool_window(op, x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    if not return_indices:
        out = _MAX_POOLS[d].apply(x, where)
        return out if was_batched else out.reshape(out.shape[1:])
    out, indices = _MAX_POOLS[d].apply(x, where, return_indices=True)
    if not was_batched:
        out, indices = out.reshape(out.shape[1:]), indices.reshape(indices.shape[1:])
    return out, indices


@register("nn.functional")
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window, as ``torch.nn.functional.max_pool1d`` (input (N, C, L))."""
    return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1,
                    "max_pool1d")


@register("nn.functional")
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window, as ``torch.nn.functional.max_pool2d``.

    ``stride`` defaults to ``kernel_size``; padding counts as -inf. With
    ``return_indices=True``, also each maximum's flat index into its input
    plane (int64, PyTorch's convention, as ``max_unpool2d`` takes it); both
    come from one node.
    """
    return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2,
                    "max_pool2d")


@register("nn.functional")
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window, as ``torch.nn.functional.max_pool3d`` (input (N, C, D, H, W))."""
    return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3,
                    "max_pool3d")


@register("torch", name="max_pool2d")
def max_pool2d_without_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                               ceil_mode=False):
    """``torch.max_pool2d``: ``nn.functional.max_pool2d`` with torch's parameters (no indices)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
             divisor_override, d, op):
    """The d-dimensional average pool behind avg_pool1d/2d/3d.

    Composed: a sum over each unfolded window, divided by the window's size;
    that size counts zero padding if ``count_include_pad``, never the part
    of a ``ceil_mode`` window beyond the padding; ``divisor_override`` replaces it.
    """
    x, was_batched = batched(input, op, d)
    where = _pool_window(op, x.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
    sums = Unfold.apply(x, where).sum(dim=tuple(range(2, 2 + d)))
    if divisor_override is not None:
        if not divisor_override:
            raise ValueError(f"{op}: divisor_override must be non-zero, got 0")
        divisor = divisor_override
    else:
        xp = array_module(x.array)
        divisor = xp.ones((), dtype=x.dtype)
        for axis, (size, count, k, s, p) in enumerate(zip(
                x.shape[2:], sums.shape[2:], where.kernel, where.stride,
                symmetric(where.padding))):
            sizes = _window_sizes(xp, size, count, k, s, p, count_include_pad)
            divisor = divisor * sizes.reshape((-1,) + (1,) * (d - 1 - axis))
        divisor = divisor.astype(x.dtype)
    out = sums / divisor
    return out if was_batched else out.reshape(out.shape[1:])


@register("nn.functional")
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """The mean of each window, as ``torch.nn.functional.avg_pool1d`` (input (N, C, L))."""
    return avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1,
                    "avg_pool1d")


@register("nn.functional")
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window, as ``torch.nn.functional.avg_pool2d``.

    Composed: a sum over each unfolded window, divided by the window's size;
    that size counts zero padding if ``count_include_pad``, never the part
    of a ``ceil_mode`` window beyond the padding; ``divisor_override`` replaces it.
    """
    return avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                    divisor_override, 2, "avg_pool2d")


@register("nn.functional")
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window, as ``torch.nn.functional.avg_pool3d`` (input (N, C, D, H, W))."""
    return avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                    divisor_override, 3, "avg_pool3d")


# ----------------------------------------------------------------------- helpers


def _plane_positions(offsets, window, image_size, xp):
    """Flat positions (row-major) in the unpadded plane of each window's maximum, given the
    maximum's flat offset within its window."""
    d = len(image_size)
    out_size = offsets.shape[-d:]
    flat = 0
    rest = offsets
    kernel_strides = np.cumprod((1,) + tuple(window.kernel[:0:-1]))[::-1]  # row-major offsets
    for axis in range(d):
        step = int(kernel_strides[axis])
        within, rest = rest // step, rest % step
        starts = xp.arange(out_size[axis]) * window.stride[axis] - window.padding[axis][0]
        starts = starts.reshape((-1,) + (1,) * (d - 1 - axis))
        flat = flat * image_size[axis] + starts + within * window.dilation[axis]
    return flat.astype(np.int64)


def _pool_window(op, image_size, kernel_size, stride, padding, dilation, ceil_mode):
    """The Window of a pool; ceil_mode pads the bottom and right so the last window fits."""
    d = len(image_size)
    kernel = ntuple(kernel_size, d, op, "kernel_size", minimum=1)
    no_stride = stride is None or (isinstance(stride, (list, tuple)) and not stride)
    stride = kernel if no_stride else ntuple(stride, d, op, "stride", minimum=1)
    padding = ntuple(padding, d, op, "padding", minimum=0)
    dilation = ntuple(dilation, d, op, "dilation", minimum=1)
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
