"""Resizing images: ``interpolate`` and its older names ``upsample``, ``upsample_nearest``,
``upsample_bilinear``.

Every mode is separable: the output along one spatial dimension is a
weighted sum of a few input positions (1 for nearest, 2 for linear, 4 for
cubic), with positions and weights depending only on the sizes. So each
dimension is one linear map, applied by reading the input at those
positions (an indexing op) and adding the weighted reads; the gradient is
the transposed map (indexing's adjoint adds back), and it differentiates
again. ``area`` is the adaptive average pool. Positions and weights follow
PyTorch's CPU kernels: ``align_corners`` maps the corner pixels' centres onto
each other, otherwise pixel centres sit at i + 0.5; a given ``scale_factor``
(unless ``recompute_scale_factor``) sets the step instead of the size ratio.

    >>> import chainrule as cr
    >>> interpolate(cr.tensor([[[0.0, 1.0]]]), size=4, mode="linear", align_corners=True)
    tensor([[[0.0000, 0.3333, 0.6667, 1.0000]]])
"""

import math

import numpy as np

from chainrule.device import array_module
from chainrule.ops._windows import check_tensor
from chainrule.ops.adaptive_pooling import adaptive_avg_pool
from chainrule.ops.indexing import read_at
from chainrule.registry import register
from chainrule.tensor import Tensor

_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution coefficient


@register("nn.functional")
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """``input`` (N, C, *spatial) resized, as ``torch.nn.functional.interpolate``.

    Give the output's spatial ``size`` or a ``scale_factor`` (output size
    floor(size * scale)). Modes: nearest, nearest-exact, linear (3-d input),
    bilinear and bicubic (4-d), trilinear (5-d), area; ``antialias`` widens
    bilinear/bicubic's kernel when shrinking, as PyTorch's.
    """
    check_tensor(input, "interpolate", "input")
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    d = input.ndim - 2
    if d not in (1, 2, 3) or _DIMS.get(mode, d) != d:
        expected = {1: "3-d", 2: "4-d", 3: "5-d"}[_DIMS[mode]] if mode in _DIMS else (
            "3-d, 4-d or 5-d")
        raise ValueError(f"interpolate: mode {mode!r} expects a {expected} input (N, C, "
                         f"*spatial), got shape {tuple(input.shape)}")
    linear = mode in _DIMS
    if align_corners is not None and not linear:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    if antialias and mode not in ("bilinear", "bicubic"):
        raise ValueError(f"interpolate: antialias is only supported for modes bilinear and "
                         f"bicubic, got mode {mode!r}")
    align_corners = bool(align_corners)
    in_size = tuple(input.shape[2:])
    out_size, scales = _output_size(in_size, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        return adaptive_avg_pool(input, out_size, d, "interpolate")
    out = input
    xp = array_module(input.array)
    for axis, (n, m, scale) in enumerate(zip(in_size, out_size, scales)):
        if mode in ("nearest", "nearest-exact"):
            positions = _nearest(n, m, scale, exact=mode == "nearest-exact")
            out = read_at(out, (slice(None),) * (2 + axis) + (xp.asarray(positions),))
            continue
        if antialias:
            positions, weights = _antialiased(n, m, scale, align_corners, mode == "bicubic")
        elif mode == "bicubic":
            positions, weights = _cubic(n, m, scale, align_corners)
        else:
            positions, weights = _linear(n, m, scale, align_corners)
        out = _weighted_reads(out, 2 + axis, positions, weights, xp)
    return out


def _weighted_reads(x, dim, positions, weights, xp):
    """sum_k weights[:, k] * x[..., positions[:, k], ...] along ``dim``: a linear map (m, n)."""
    total = None
    shape = (-1,) + (1,) * (x.ndim - dim - 1)
    for k in range(positions.shape[1]):
        taps = read_at(x, (slice(None),) * dim + (xp.asarray(positions[:, k]),))
        term = taps * Tensor._make(xp.asarray(weights[:, k].reshape(shape), dtype=x.array.dtype),
                                   False, None)
        total = term if total is None else total + term
    return total


def _output_size(in_size, size, scale_factor, recompute_scale_factor):
    """The output's spatial size, and the scale factors the kernels use (None: size ratio)."""
    d = len(in_size)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,) * d
        if len(sizes) != d:
            raise ValueError(f"interpolate: size must have {d} entries for an input with {d} "
                             f"spatial dimensions, got {tuple(sizes)}")
        return tuple(int(s) for s in sizes), (None,) * d
    scales = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else (
        (scale_factor,) * d)
    if len(scales) != d:
        raise ValueError(f"interpolate: scale_factor must have {d} entries for an input with "
                         f"{d} spatial dimensions, got {tuple(scales)}")
    sizes = tuple(int(math.floor(float(n) * float(s))) for n, s in zip(in_size, scales))
    if recompute_scale_factor:
        return sizes, (None,) * d
    return sizes, tuple(float(s) for s in scales)


def _nearest(n, m, scale, exact):
    """PyTorch's nearest source positions (computed in float32, as its kernel does)."""
    step = np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(m)
    targets = np.arange(m, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(targets * step).astype(np.int64), n - 1)


def _step(n, m, scale, align_corners):
    if align_corners:
        return (n - 1) / (m - 1) if m > 1 else 0.0
    return 1.0 / scale if scale else n / m


def _sources(n, m, scale, align_corners, cubic):
    step = _step(n, m, scale, align_corners)
    targets = np.arange(m, dtype=np.float64)
    if align_corners:
        return step * targets
    sources = step * (targets + 0.5) - 0.5
    return sources if cubic else np.maximum(sources, 0.0)


def _linear(n, m, scale, align_corners):
    sources = _sources(n, m, scale, align_corners, cubic=False)
    left = sources.astype(np.int64)
    right_weight = np.clip(sources - left, 0.0, 1.0)
    right = left + (left < n - 1)
    return np.stack([left, right], 1), np.stack([1.0 - right_weight, right_weight], 1)


def _cubic_weights(t):
    """Keys' cubic convolution weights of the 4 taps at offsets -1, 0, 1, 2 from floor(x)."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1)


def _cubic(n, m, scale, align_corners):
    sources = _sources(n, m, scale, align_corners, cubic=True)
    base = np.floor(sources).astype(np.int64)
    positions = np.clip(base[:, None] + np.arange(-1, 3), 0, n - 1)  # edges repeat
    return positions, _cubic_weights(sources - base)


def _antialiased(n, m, scale, align_corners, cubic):
    """With antialias: when shrinking the kernel is stretched by the scale; the weights are
    normalized to sum to 1 (PyTorch's _upsample_*_aa)."""
    step = _step(n, m, scale, align_corners)
    stretch = max(step, 1.0)
    support = (2.0 if cubic else 1.0) * stretch
    centers = step * (np.arange(m) + 0.5)
    starts = np.maximum((centers - support + 0.5).astype(np.int64), 0)
    stops = np.minimum((centers + support + 0.5).astype(np.int64), n)
    width = int((stops - starts).max())
    positions = starts[:, None] + np.arange(width)
    offsets = (positions - centers[:, None] + 0.5) / stretch
    if cubic:
        x = np.abs(offsets)
        a = -0.5  # the antialiased kernel uses a = -0.5, as PIL
        weights = np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                           np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))
    else:
        weights = np.maximum(1.0 - np.abs(offsets), 0.0)
    weights = np.where(positions < stops[:, None], weights, 0.0)
    weights = weights / weights.sum(axis=1, keepdims=True)
    return np.minimum(positions, n - 1), weights


@register("nn.functional")
def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """``interpolate`` under its old name, as ``torch.nn.functional.upsample``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


@register("nn.functional")
def upsample_nearest(input, size=None, scale_factor=None):
    """``interpolate(..., mode="nearest")``, as ``torch.nn.functional.upsample_nearest``."""
    return interpolate(input, size, scale_factor, mode="nearest")


@register("nn.functional")
def upsample_bilinear(input, size=None, scale_factor=None):
    """``interpolate(..., mode="bilinear", align_corners=True)``, as
    ``torch.nn.functional.upsample_bilinear``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
