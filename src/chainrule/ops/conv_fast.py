"""The convolution as three primitives, each one matrix product over every window at once.

``conv1d``/``conv2d``/``conv3d`` (``chainrule.ops.convolution``) run on
``Convolution``: the image's windows are copied out once, channel first,

    cols[c, *k, *p, n] = x_padded[n, c, p * stride + k * dilation]   (C, *kernel, *out, N)

so that every group's windows form one matrix (C/groups * kernel, N * out)
and the whole layer is one BLAS call per group: y = W @ cols, with W the
weight as a (O/groups, C/groups * kernel) matrix. The gradients are the two
other bilinear maps of the same three tensors, each again one product:

    dL/dx = ConvolutionInputGrad(g, w):  fold(W^T @ g)  (the windows added back into place)
    dL/dw = ConvolutionWeightGrad(x, g): g @ cols^T      (summed over every sample and position)

Each of the three is the derivative of the others, so their backwards are
written in them and derivatives of every order work:

    d<H, InputGrad(g, w)>/dg = Conv(H, w),   .../dw = WeightGrad(H, g)
    d<K, WeightGrad(x, g)>/dx = InputGrad(g, K),   .../dg = Conv(x, K)

Measured against the composition it replaced (Unfold, then a batched matmul
of the weight with each sample's columns), forward + backward, float32, one
BLAS thread, medians of alternated runs under load: (64, 32, 8, 8) with 64
3x3 filters 10.6 -> 7.7 ms; (16, 16, 4, 4) with 16, 0.51 -> 0.28 ms;
(8, 64, 32, 32) with 64, 34 -> 32 ms. The weight gradient is one product
rather than one per sample and a sum, the forward one product rather than
N small ones, and with the batch last the window copies and the fold move
long contiguous runs (the fold of (64, 32, 8, 8) took 2.4 ms channel-first
with the batch ahead of the rows, 0.8 ms with the batch last).
"""

import math
from itertools import product

from chainrule.autograd.function import Function
from chainrule.device import array_module, backend_of
from chainrule.ops._windows import Window


class Convolution(Function):
    """y = W @ cols(x) per group;  d/dx = ConvolutionInputGrad(g, w), d/dw = ConvolutionWeightGrad(x, g)."""

    @staticmethod
    def forward(ctx, x, weight, window, groups):
        cols = columns(x.array, window)
        ctx.save_for_backward(x, weight)
        ctx.window, ctx.groups = window, groups
        ctx.cols = cols if weight.requires_grad else None  # the weight gradient's operand
        return convolve(cols, weight.array, groups)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight = ctx.needs_input_grad[:2]
        grad_x = grad_weight = None
        # both products take g batch-last: transpose it once when both are needed
        g = _grad_matrix(grad.array, ctx.groups) if needs_x and needs_weight else None
        if needs_x:
            grad_x = ConvolutionInputGrad.apply(grad, weight, ctx.window, ctx.groups,
                                                tuple(x.shape[2:]), grad_matrix=g)
        if needs_weight:
            grad_weight = ConvolutionWeightGrad.apply(x, grad, ctx.window, ctx.groups,
                                                      tuple(weight.shape[2:]), cols=ctx.cols,
                                                      grad_matrix=g)
        ctx.cols = None
        return grad_x, grad_weight, None, None


class ConvolutionInputGrad(Function):
    """dx = fold(W^T @ g): each output's gradient spread over its window, weighted by the kernel;
    d/dg = Convolution(H, w), d/dw = ConvolutionWeightGrad(H, g)."""

    @staticmethod
    def forward(ctx, grad, weight, window, groups, image_size, *, grad_matrix=None):
        ctx.save_for_backward(grad, weight)
        ctx.window, ctx.groups = window, groups
        return input_grad(grad.array, weight.array, window, groups, image_size, grad_matrix)

    @staticmethod
    def backward(ctx, h):
        grad, weight = ctx.saved_tensors
        needs_grad, needs_weight = ctx.needs_input_grad[:2]
        d_grad = d_weight = None
        if needs_grad:
            d_grad = Convolution.apply(h, weight, ctx.window, ctx.groups)
        if needs_weight:
            d_weight = ConvolutionWeightGrad.apply(h, grad, ctx.window, ctx.groups,
                                                   tuple(weight.shape[2:]))
        return d_grad, d_weight, None, None, None


class ConvolutionWeightGrad(Function):
    """dw = g @ cols(x)^T per group, summed over samples and positions;
    d/dx = ConvolutionInputGrad(g, K), d/dg = Convolution(x, K)."""

    @staticmethod
    def forward(ctx, x, grad, window, groups, kernel, *, cols=None, grad_matrix=None):
        ctx.save_for_backward(x, grad)
        ctx.window, ctx.groups = window, groups
        if cols is None:
            cols = columns(x.array, window)
        return weight_grad(cols, grad.array, groups, kernel, grad_matrix)

    @staticmethod
    def backward(ctx, k):
        x, grad = ctx.saved_tensors
        needs_x, needs_grad = ctx.needs_input_grad[:2]
        d_x = d_grad = None
        if needs_x:
            d_x = ConvolutionInputGrad.apply(grad, k, ctx.window, ctx.groups,
                                             tuple(x.shape[2:]))
        if needs_grad:
            d_grad = Convolution.apply(x, k, ctx.window, ctx.groups)
        return d_x, d_grad, None, None, None


# ------------------------------------------------------------------------- arrays
#
# Layout: the batch is the last axis of every work array. An image becomes
# (C, *spatial, N), the windows (C, *kernel, *out, N) and a gradient (O, *out, N):
# each window's rows are then runs of out_width * N contiguous numbers, so
# copying them out and adding them back move long runs rather than rows of
# a few pixels, and each group's windows are one matrix (C/groups * kernel,
# out * N) for BLAS.


def _batch_last(image, sides, fill):
    """``image`` (N, C, *spatial) as (C, *padded, N), padded with ``fill`` (``sides`` as
    (before, after) pairs; a negative ``after`` cuts the end off); one copy."""
    if not any(before or after for before, after in sides):
        return _batch_to_last(image)
    rows = backend_of(image).readable_down_columns(
        image.reshape(image.shape[0], math.prod(image.shape[1:])))
    return _padded_batch_last(rows.T.reshape(image.shape[1:] + image.shape[:1]), sides, fill)


def _padded_batch_last(image, sides, fill=0):
    """A batch-last image (C, *spatial, N) padded with ``fill`` (``sides`` as in
    ``_batch_last``); a new array."""
    xp = array_module(image)
    spatial = image.shape[1:-1]
    kept = [size + min(after, 0) for size, (_, after) in zip(spatial, sides)]
    padded = xp.full((image.shape[0],) + tuple(size + before + after for size, (before, after)
                                               in zip(spatial, sides)) + (image.shape[-1],),
                     fill, image.dtype)
    target = tuple(slice(before, before + k) for (before, _), k in zip(sides, kept))
    padded[(slice(None),) + target] = image[(slice(None),) + tuple(slice(0, k) for k in kept)]
    return padded


def _batch_to_last(array):
    """``array`` (N, ...) as a new C-contiguous (..., N)."""
    flat = array.reshape(array.shape[0], math.prod(array.shape[1:]))
    return backend_of(array).transposed_copy(flat).reshape(array.shape[1:] + array.shape[:1])


def columns(image, window):
    """Every window of ``image`` (N, C, *spatial), zero-padded: (C, *kernel, *out, N), one copy
    of a strided view."""
    return _windows_of(_batch_last(image, window.padding, 0), window)


def _windows_of(padded, window):
    """Every window of a padded batch-last image (C, *spatial, N): (C, *kernel, *out, N)."""
    strides = padded.strides[1:-1]
    out = tuple((size - dil * (k - 1) - 1) // s + 1 for size, k, dil, s
                in zip(padded.shape[1:-1], window.kernel, window.dilation, window.stride))
    view = backend_of(padded).as_strided(
        padded, (padded.shape[0],) + tuple(window.kernel) + out + (padded.shape[-1],),
        (padded.strides[0],) + tuple(st * dil for st, dil in zip(strides, window.dilation))
        + tuple(st * s for st, s in zip(strides, window.stride)) + (padded.strides[-1],))
    return array_module(padded).ascontiguousarray(view)


def convolve(cols, weight, groups):
    """y (N, O, *out) = W @ cols per group; cols (C, *kernel, *out, N), W (O, C/groups, *kernel)."""
    xp = array_module(cols)
    d = weight.ndim - 2
    out_channels = weight.shape[0]
    rest = cols.shape[1 + d:]  # (*out, N)
    depth = math.prod(weight.shape[1:])  # one group's window length (sizes explicit: N may be 0)
    if groups == 1:
        y = xp.matmul(weight.reshape(out_channels, depth), cols.reshape(depth, math.prod(rest)))
    else:
        y = xp.matmul(weight.reshape(groups, out_channels // groups, depth),
                      cols.reshape(groups, depth, math.prod(rest)))
    y = backend_of(cols).transposed_copy(y.reshape(out_channels * math.prod(rest[:-1]), rest[-1]))
    return y.reshape(rest[-1:] + (out_channels,) + tuple(rest[:-1]))


def _grad_matrix(grad, groups):
    """g (N, O, *out) as (groups, O/groups, out * N), one copy."""
    moved = _batch_to_last(grad)
    return moved.reshape(groups, grad.shape[1] // groups, math.prod(moved.shape[1:]))


def weight_grad(cols, grad, groups, kernel, g=None):
    """dw (O, C/groups, *kernel) = g @ cols^T per group (``g``: ``_grad_matrix(grad)`` if
    already made).

    Computed as (cols @ g^T)^T: the same sums, but BLAS reads the long
    (positions x batch) axis down both operands' rows. With OpenBLAS's
    AVX-512 kernels that product takes 1.2 to 1.65x less time (32 channels
    on 16 x 16, batch 32: 1.89 -> 1.14 ms); with its AVX2 kernels the two
    are equal.
    """
    xp = array_module(cols)
    g = _grad_matrix(grad, groups) if g is None else g
    depth = cols.shape[0] // groups * math.prod(kernel)
    if groups == 1:
        dw_t = xp.matmul(cols.reshape(depth, g.shape[2]), g[0].T)
    else:
        dw_t = xp.matmul(cols.reshape(groups, depth, g.shape[2]), xp.swapaxes(g, 1, 2))
    dw = xp.ascontiguousarray(xp.swapaxes(dw_t, -1, -2))
    return dw.reshape((grad.shape[1], cols.shape[0] // groups) + tuple(kernel))


def input_grad(grad, weight, window, groups, image_size, g=None):
    """dx (N, C, *image_size): each output's gradient spread over its window, weighted by the
    kernel (``g``: ``_grad_matrix(grad)`` if already made).

    In general fold(W^T @ g): the product (K = O/groups) writes C * kernel
    numbers for each output position, which the fold adds back into place.
    With stride 1, padding within the kernel's reach and O <= C it is a
    convolution instead (``_input_grad_as_convolution``), which measured
    faster there (float32, 3 x 3, one thread: 128 -> 64 channels on 8 x 8,
    batch 64, 9.5 -> 7.0 ms; 64 -> 64 on 16 x 16, 21.3 -> 18.8 ms; with
    O = 2C it was 4% slower, with O = 4C 5%).
    """
    xp = array_module(grad)
    g = _grad_matrix(grad, groups) if g is None else g
    out_channels, group_channels = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    reach = [dil * (k - 1) for k, dil in zip(kernel, window.dilation)]
    if (out_channels <= group_channels * groups and all(s == 1 for s in window.stride)
            and all(0 <= before <= r and 0 <= after <= r
                    for (before, after), r in zip(window.padding, reach))):
        return _input_grad_as_convolution(grad, weight, window, groups, image_size, g, reach)
    w = weight.reshape(groups, out_channels // groups, group_channels * math.prod(kernel))
    if groups == 1:
        cols = xp.matmul(w[0].T, g[0])
    else:
        cols = xp.matmul(xp.swapaxes(w, 1, 2), g)
    rest = tuple(grad.shape[2:]) + (grad.shape[0],)  # (*out, N)
    return fold_columns(cols.reshape((group_channels * groups,) + kernel + rest), image_size,
                        window)


def _input_grad_as_convolution(grad, weight, window, groups, image_size, g, reach):
    """dx for stride 1: the gradient, padded by reach - padding on each side (reach =
    (k - 1) * dilation), correlated with the kernel flipped and its channel axes swapped,

        dx[n, c, i] = sum_{o, j} g_padded[n, o, i + j * dilation] * w[o, c, k - 1 - j],

    one product with K = O/groups * kernel, as long as the forward's, and no fold."""
    xp = array_module(grad)
    out_channels, group_channels = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    n = grad.shape[0]
    depth = out_channels // groups * math.prod(kernel)
    flipped = weight[(slice(None), slice(None)) + (slice(None, None, -1),) * len(kernel)]
    w = xp.swapaxes(flipped.reshape((groups, out_channels // groups, group_channels) + kernel),
                    1, 2).reshape(groups, group_channels, depth)
    sides = tuple((r - before, r - after) for (before, after), r in zip(window.padding, reach))
    spread = Window(kernel, window.dilation, sides, (1,) * len(kernel))
    image = g.reshape((out_channels,) + tuple(grad.shape[2:]) + (n,))
    cols = _windows_of(_padded_batch_last(image, spread.padding), spread)
    width = math.prod(image_size) * n
    if groups == 1:
        dx = xp.matmul(w[0], cols.reshape(depth, width))
    else:
        dx = xp.matmul(w, cols.reshape(groups, depth, width))
    dx = backend_of(dx).transposed_copy(dx.reshape(group_channels * groups * width // n, n))
    return dx.reshape((n, group_channels * groups) + tuple(image_size))


def fold_columns(cols, image_size, window):
    """The adjoint of ``columns``: windows (C, *kernel, *out, N) added back into an image
    (N, C, *image_size), summing where they overlap."""
    xp = array_module(cols)
    d = len(image_size)
    out_size = cols.shape[1 + d:-1]
    sides = window.padding
    padded = xp.zeros((cols.shape[0],) + tuple(size + before + max(after, 0) for size, (before, after)
                                               in zip(image_size, sides)) + (cols.shape[-1],),
                      cols.dtype)
    every = slice(None)
    for offset in product(*(range(k) for k in window.kernel)):  # one strided slice per offset
        target = tuple(slice(i * dil, i * dil + s * (o - 1) + 1, s) for i, dil, s, o
                       in zip(offset, window.dilation, window.stride, out_size))
        padded[(every,) + target] += cols[(every,) + offset]
    crop = tuple(slice(before, before + size) for (before, _), size in zip(sides, image_size))
    return xp.ascontiguousarray(xp.moveaxis(padded[(every,) + crop], -1, 0))
