"""Sampling an image at given points: ``grid_sample``, ``grid_sampler_2d``, ``grid_sampler_3d``.

``grid`` (N, *out, d) holds normalized coordinates in [-1, 1] (x first, then
y, then z) of the points to read from ``input`` (N, C, *spatial). Composed
of Tensor ops, so it differentiates in both the input and the grid, to any
order: the coordinates are unnormalized and padded (``border`` clamps,
``reflection`` folds back) with Tensor arithmetic; the interpolation reads
the input at the corner (or tap) positions, an indexing op, and weights the
reads by Tensor expressions of the coordinates' fractional parts. Points
outside the image read 0 under ``zeros`` padding. Conventions, including the
gradients at clamps and folds, follow PyTorch's CPU kernels.
"""

from itertools import product

import numpy as np

from chainrule.device import array_module
from chainrule.ops._windows import check_tensor
from chainrule.ops.elementwise import where
from chainrule.ops.indexing import read_at
from chainrule.registry import register
from chainrule.tensor import Tensor

_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_PADDINGS = {"zeros": 0, "border": 1, "reflection": 2}
_CUBIC_A = -0.75


@register("nn.functional")
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """``input`` read at the points of ``grid``, as ``torch.nn.functional.grid_sample``.

    4-d input (N, C, H, W) with grid (N, H_out, W_out, 2), or 5-d input with
    grid (N, D_out, H_out, W_out, 3). ``mode``: bilinear, nearest or bicubic
    (4-d only); ``padding_mode``: zeros, border or reflection.
    """
    if mode not in _MODES:
        raise ValueError(f"grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic', got "
                         f"{mode!r}")
    if padding_mode not in _PADDINGS:
        raise ValueError(f"grid_sample: padding_mode must be 'zeros', 'border' or 'reflection', "
                         f"got {padding_mode!r}")
    return sample_grid(input, grid, _MODES[mode], _PADDINGS[padding_mode], bool(align_corners),
                       None, "grid_sample")


@register("torch")
def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):
    """``torch.grid_sampler_2d``: ``grid_sample`` on 4-d input with the modes as ints
    (interpolation 0 bilinear, 1 nearest, 2 bicubic; padding 0 zeros, 1 border, 2 reflection)."""
    return sample_grid(input, grid, interpolation_mode, padding_mode, align_corners, 2,
                       "grid_sampler_2d")


@register("torch")
def grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners):
    """``torch.grid_sampler_3d``: ``grid_sample`` on 5-d input with the modes as ints."""
    return sample_grid(input, grid, interpolation_mode, padding_mode, align_corners, 3,
                       "grid_sampler_3d")


def sample_grid(input, grid, mode, padding, align_corners, d, op):
    check_tensor(input, op, "input")
    check_tensor(grid, op, "grid")
    d = input.ndim - 2 if d is None else d
    if d not in (2, 3) or input.ndim != d + 2 or grid.ndim != d + 2 or grid.shape[-1] != d \
            or grid.shape[0] != input.shape[0]:
        raise ValueError(f"{op}: expected input (N, C, *spatial) with 2 or 3 spatial dimensions "
                         f"and grid (N, *out, {d}) of the same batch, got input "
                         f"{tuple(input.shape)} and grid {tuple(grid.shape)}")
    if mode not in (0, 1, 2) or padding not in (0, 1, 2) or (mode == 2 and d == 3):
        raise ValueError(f"{op}: interpolation_mode must be 0 (bilinear), 1 (nearest) or 2 "
                         f"(bicubic, 2-d only) and padding_mode 0, 1 or 2, got {mode} and "
                         f"{padding}")
    sizes = tuple(input.shape[2:])
    xp = array_module(input.array)
    n = input.shape[0]
    out_shape = tuple(grid.shape[1:-1])
    batch = xp.arange(n).reshape((n,) + (1,) * len(out_shape))
    channels_last = input.permute(0, *range(2, 2 + d), 1)  # reads give (N, *out, C)
    # spatial axis k (depth, height, width order) takes grid coordinate d - 1 - k
    coords = [_unnormalize(grid[..., d - 1 - k], size, align_corners)
              for k, size in enumerate(sizes)]

    def read(positions):
        """input at integer positions (N, *out) per axis; 0 outside the image."""
        inside = None
        clipped = []
        for p, size in zip(positions, sizes):
            within = (p >= 0) & (p < size)
            inside = within if inside is None else inside & within
            clipped.append(xp.clip(p, 0, max(size - 1, 0)).astype(np.int64))
        values = read_at(channels_last, (batch,) + tuple(clipped))
        return values, xp.asarray(inside, dtype=input.array.dtype)[..., None]

    if mode == 2:
        out = _bicubic(coords, sizes, padding, align_corners, read, xp)
    else:
        coords = [_pad(c, size, padding, align_corners, xp) for c, size in zip(coords, sizes)]
        if mode == 1:
            values, inside = read([xp.rint(c.array) for c in coords])
            out = values * inside
        else:
            out = _bilinear(coords, read, xp)
    return out.permute(0, d + 1, *range(1, d + 1))


def _unnormalize(coord, size, align_corners):
    """[-1, 1] to pixel coordinates: -1 and 1 are the corner pixels' centres (align_corners)
    or the image's outer edges."""
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _pad(coord, size, padding, align_corners, xp):
    """Coordinates moved inside the image: border clamps, reflection folds back and clamps."""
    if padding == 0:
        return coord
    if padding == 2:
        if align_corners:
            coord = _reflect(coord, 0.0, 2.0 * (size - 1), xp)
        else:
            coord = _reflect(coord, -1.0, 2.0 * size - 1, xp)
    return _clip(coord, size, xp)


def _clip(coord, size, xp):
    """Clamped to [0, size - 1], gradient 0 where it clamps (also at the bounds, as PyTorch)."""
    c = coord.array
    inside = (c > 0) & (c < size - 1)
    return where(inside, coord, xp.clip(c, 0, size - 1).astype(c.dtype))


def _reflect(coord, twice_low, twice_high, xp):
    """Folded back into [low, high] by reflection, as many times as it takes."""
    if twice_low == twice_high:
        return coord * 0.0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    c = coord.array - low
    sign = xp.where(c < 0, -1.0, 1.0).astype(c.dtype)
    distance = (coord - low) * sign
    flips = xp.floor(xp.abs(c) / span)
    extra = distance - flips * span
    return where(flips % 2 == 0, extra + low, (extra * -1.0) + (span + low))


def _bilinear(coords, read, xp):
    bases = [xp.floor(c.array) for c in coords]
    fractions = [c - b for c, b in zip(coords, bases)]
    out = None
    for corner in product((0, 1), repeat=len(coords)):
        weight = None
        for step, f in zip(corner, fractions):
            w = f if step else 1 - f
            weight = w if weight is None else weight * w
        values, inside = read([b + step for b, step in zip(bases, corner)])
        term = values * (weight.unsqueeze(-1) * inside)
        out = term if out is None else out + term
    return out


def _cubic_taps(t):
    """Keys' cubic convolution weights (Tensors) of the taps at -1, 0, 1, 2 from floor(x)."""
    a = _CUBIC_A

    def near(x):
        return ((x * (a + 2) - (a + 3)) * x) * x + 1

    def far(x):
        return ((x * a - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _bicubic(coords, sizes, padding, align_corners, read, xp):
    """4 x 4 taps around each point; each tap's position padded, read 0 outside."""
    bases = [xp.floor(c.array) for c in coords]
    taps = [_cubic_taps(c - b) for c, b in zip(coords, bases)]
    out = None
    for offsets in product(range(4), repeat=2):
        positions = []
        for k, (b, o) in enumerate(zip(bases, offsets)):
            p = b + (o - 1)
            if padding:
                p = _pad(Tensor._make(p, False, None), sizes[k], padding, align_corners, xp).array
            positions.append(p.astype(np.int64))
        values, inside = read(positions)
        weight = taps[0][offsets[0]] * taps[1][offsets[1]]
        term = values * (weight.unsqueeze(-1) * inside)
        out = term if out is None else out + term
    return out
