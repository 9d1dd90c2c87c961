"""Adaptive pools: windows chosen to give an output of a requested size.

Along a dimension of size ``n`` pooled to ``m`` outputs, output ``i`` covers
input positions ``floor(i * n / m)`` up to ``ceil((i + 1) * n / m)``, PyTorch's
rule. The average of such a box is separable: one averaging matrix (m, n)
per dimension, applied as a matrix product along that dimension
(``along``), so ``adaptive_avg_pool*d`` is composed and differentiates to
any order. ``adaptive_max_pool*d`` finds each window's first maximum on the
arrays and reads the input there (an indexing op: its gradient adds back at
the maxima, and that is differentiable again).

    >>> import chainrule as cr
    >>> adaptive_avg_pool1d(cr.arange(4.0).reshape(1, 1, 4), 2)
    tensor([[[0.5000, 2.5000]]])
"""

import numpy as np

from chainrule.device import array_module
from chainrule.ops._windows import batched
from chainrule.ops.indexing import read_at
from chainrule.registry import register
from chainrule.tensor import Tensor


def along(x, matrix, dim):
    """The matrix (m, n) applied along dimension ``dim`` of x (size n there, m after)."""
    weights = Tensor._make(matrix, False, None)
    if dim in (-1, x.ndim - 1):
        return x @ weights.transpose(0, 1)
    return (x.transpose(dim, -1) @ weights.transpose(0, 1)).transpose(dim, -1)


def adaptive_bounds(size, out):
    """Window starts and ends of an adaptive pool of ``size`` positions into ``out``."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(out) + 1) * size) // out)
    return starts, ends


def averaging_matrix(xp, size, out, dtype):
    """(out, size): row i averages the i-th adaptive window."""
    starts, ends = adaptive_bounds(size, out)
    positions = np.arange(size)
    inside = (positions >= starts[:, None]) & (positions < ends[:, None])
    return xp.asarray(inside / (ends - starts)[:, None], dtype=dtype)


def output_sizes(output_size, image_size, op):
    """``output_size`` as a tuple, None entries meaning the input's size."""
    d = len(image_size)
    if output_size is None or isinstance(output_size, (int, np.integer)):
        sizes = (output_size,) * d
    else:
        sizes = tuple(output_size)
        if len(sizes) == 1:
            sizes = sizes * d
    if len(sizes) != d:
        raise ValueError(f"{op}: output_size must be an int or {d} sizes, got {output_size!r}")
    sizes = tuple(n if s is None else int(s) for s, n in zip(sizes, image_size))
    if min(sizes, default=1) < 0 or (min(image_size, default=1) == 0 and max(sizes) > 0):
        raise ValueError(f"{op}: cannot pool an input of spatial size {tuple(image_size)} to "
                         f"{sizes}")
    return sizes


def adaptive_avg_pool(input, output_size, d, op):
    x, was_batched = batched(input, op, d)
    sizes = output_sizes(output_size, x.shape[2:], op)
    xp = array_module(x.array)
    out = x
    for axis, (size, target) in enumerate(zip(x.shape[2:], sizes)):
        if size != target:
            out = along(out, averaging_matrix(xp, size, target, x.array.dtype), 2 + axis)
    return out if was_batched else out.reshape(out.shape[1:])


@register("nn.functional")
def adaptive_avg_pool1d(input, output_size):
    """Adaptive average pool over (N, C, L), as ``torch.nn.functional.adaptive_avg_pool1d``."""
    return adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


@register("nn.functional")
def adaptive_avg_pool2d(input, output_size):
    """Adaptive average pool over (N, C, H, W), as ``torch.nn.functional.adaptive_avg_pool2d``;
    a None in ``output_size`` keeps that dimension's size."""
    return adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


@register("nn.functional")
def adaptive_avg_pool3d(input, output_size):
    """Adaptive average pool over (N, C, D, H, W), as
    ``torch.nn.functional.adaptive_avg_pool3d``."""
    return adaptive_avg_pool(input, output_size, 3, "adaptive_avg_pool3d")


def window_candidates(starts_and_lengths, image_size):
    """Flat positions of every window's cells: (*out, K), K the largest window's cell count.

    ``starts_and_lengths`` holds, per dimension, the windows' (starts, lengths)
    arrays. Smaller windows repeat their last cell, which comes after the
    original in row-major order, so the first maximum is still the first.
    """
    d = len(image_size)
    widest = [int(lengths.max()) if lengths.size else 1 for _, lengths in starts_and_lengths]
    flat = np.zeros((1,) * (2 * d), dtype=np.int64)
    for axis, ((starts, lengths), k) in enumerate(zip(starts_and_lengths, widest)):
        cells = starts[:, None] + np.minimum(np.arange(k), lengths[:, None] - 1)  # (out, k)
        shape = [1] * (2 * d)
        shape[axis], shape[d + axis] = cells.shape
        flat = flat * image_size[axis] + cells.reshape(shape)
    out = flat.shape[:d]
    return flat.reshape(out + (-1,))


def max_over_candidates(x, candidates):
    """Each window's first maximum: (values, flat indices), both (N, C, *out).

    ``candidates`` (N or 1, C or 1, *out, K) are flat positions in x's planes;
    the values are read from x at the maxima, so they differentiate (and
    again) as indexing does.
    """
    xp = array_module(x.array)
    n, c = x.shape[:2]
    planes = x.reshape(n, c, -1)
    candidates = xp.asarray(candidates)
    out = candidates.shape[2:-1]
    k = candidates.shape[-1]
    flat_candidates = xp.broadcast_to(candidates, (n, c) + out + (k,)).reshape(n, c, -1, k)
    rows = xp.arange(n).reshape(n, 1, 1, 1)
    channels = xp.arange(c).reshape(1, c, 1, 1)
    values = planes.array[rows, channels, flat_candidates]
    first = values.argmax(axis=-1)[..., None] if values.size else values[..., :1].astype(np.int64)
    indices = xp.take_along_axis(flat_candidates, first, axis=-1)[..., 0]
    result = read_at(planes, (rows[..., 0], channels[..., 0], indices))
    return result.reshape((n, c) + out), indices.reshape((n, c) + out).astype(np.int64)


def adaptive_max_pool(input, output_size, return_indices, d, op):
    x, was_batched = batched(input, op, d)
    image_size = tuple(x.shape[2:])
    sizes = output_sizes(output_size, image_size, op)
    bounds = []
    for size, target in zip(image_size, sizes):
        starts, ends = adaptive_bounds(size, target)
        bounds.append((starts, ends - starts))
    candidates = window_candidates(bounds, image_size)
    values, indices = max_over_candidates(x, candidates[None, None])
    indices = Tensor._make(indices, False, None)
    if not was_batched:
        values, indices = values.reshape(values.shape[1:]), indices.reshape(indices.shape[1:])
    return (values, indices) if return_indices else values


@register("nn.functional")
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Adaptive max pool over (N, C, L), as ``torch.nn.functional.adaptive_max_pool1d``; with
    ``return_indices`` also each maximum's position (int64)."""
    return adaptive_max_pool(input, output_size, return_indices, 1, "adaptive_max_pool1d")


@register("nn.functional")
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Adaptive max pool over (N, C, H, W), as ``torch.nn.functional.adaptive_max_pool2d``;
    indices are flat in each plane, ``row * W + column``."""
    return adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


@register("nn.functional")
def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Adaptive max pool over (N, C, D, H, W), as ``torch.nn.functional.adaptive_max_pool3d``."""
    return adaptive_max_pool(input, output_size, return_indices, 3, "adaptive_max_pool3d")
