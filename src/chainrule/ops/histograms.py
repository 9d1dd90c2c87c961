"""Histograms: ``bincount``, ``histc``, ``histogram`` and ``histogramdd``.

Counting is piecewise constant, so none of these is differentiable (as in
PyTorch): the results never require grad. The counting itself is numpy's,
done on the host and brought back to the input's device.

    >>> import chainrule as cr
    >>> cr.bincount(cr.tensor([0, 1, 1, 3]))
    tensor([1, 2, 0, 1])
"""

from collections import namedtuple

import numpy as np

from chainrule.device import backend_of
from chainrule.ops._operands import data
from chainrule.registry import register
from chainrule.tensor import Tensor

__all__ = []  # the ops are registered

# What histogram and histogramdd return, as torch.return_types.histogram and .histogramdd.
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])
histogramdd_result = namedtuple("histogramdd", ["hist", "bin_edges"])


def _on_device(like, array, dtype):
    return Tensor._make(backend_of(like).asarray(np.asarray(array), dtype=dtype), False, None)


def _host(x):
    """The array of a tensor (or a number, or None) as a numpy array on the host."""
    if x is None:
        return None
    values = data(x)
    return np.asarray(backend_of(values).to_host(values))


@register("torch", "Tensor")
def bincount(input, weights=None, minlength=0):
    """How often each non-negative int occurs in the 1-d ``input`` (``out[i]`` counts the
    i's), or the sum of their ``weights``; at least ``minlength`` bins."""
    values = _host(input)
    if values.ndim != 1 or values.dtype.kind not in "iu":
        raise ValueError(f"bincount: input must be a 1-d tensor of ints, got shape "
                         f"{values.shape} and dtype {values.dtype}")
    if values.size and values.min() < 0:
        raise ValueError(f"bincount: input must hold non-negative ints, got {values.min()}")
    if minlength < 0:
        raise ValueError(f"bincount: minlength must be non-negative, got {minlength}")
    weights_host = _host(weights)
    if weights_host is not None and weights_host.shape != values.shape:
        raise ValueError(f"bincount: weights of shape {weights_host.shape} must have input's "
                         f"shape {values.shape}")
    counts = np.bincount(values, weights=weights_host, minlength=minlength)
    if weights_host is None:
        dtype = np.int64
    else:  # float weights keep their dtype; other weights count in float64, as PyTorch
        dtype = weights_host.dtype if weights_host.dtype.kind == "f" else np.float64
    return _on_device(input.array, counts, dtype)


@register("torch", "Tensor")
def histc(input, bins=100, min=0, max=0):
    """Counts of ``input`` in ``bins`` equal bins over [min, max] (the data's range when
    min == max); values outside are left out. The result has input's dtype."""
    values = _host(input).reshape(-1)
    if bins <= 0:
        raise ValueError(f"histc: bins must be positive, got {bins}")
    low, high = float(min), float(max)
    if low > high:
        raise ValueError(f"histc: max must be larger than min, got min={min}, max={max}")
    if low == high and values.size:
        low, high = float(values.min()), float(values.max())
    if low == high:  # one value (or none): a range of width 2 around it
        low, high = low - 1, high + 1
    finite = values[(values >= low) & (values <= high)]
    counts, _ = np.histogram(finite, bins=bins, range=(low, high))
    return _on_device(input.array, counts, input.dtype)


@register("torch", "Tensor")
def histogram(input, bins, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)``: counts (or sums of ``weight``; ``density=True`` normalizes to
    unit area) of ``input`` in ``bins`` (a number of equal bins over ``range``, by default
    the data's, or a 1-d tensor of increasing edges)."""
    points = _host(input).reshape(-1, 1)
    hist, edges = _count(points, [bins], range, weight, density)
    return histogram_result(_on_device(input.array, hist, input.dtype),
                            _on_device(input.array, edges[0], input.dtype))


@register("torch")
def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)`` of the points in ``input``'s rows (its last dim holds the D
    coordinates): ``bins`` is an int, one int per dim, or one tensor of edges per dim;
    ``range`` is ``[low_0, high_0, low_1, ...]``."""
    points = _host(input)
    dims = points.shape[-1] if points.ndim else 1
    points = points.reshape(-1, dims)
    per_dim = [bins] * dims if isinstance(bins, int) else list(bins)
    if len(per_dim) != dims:
        raise ValueError(f"histogramdd: {len(per_dim)} bins given for points with {dims} "
                         "coordinates; give one per coordinate")
    hist, edges = _count(points, per_dim, range, weight, density)
    return histogramdd_result(_on_device(input.array, hist, input.dtype),
                              tuple(_on_device(input.array, e, input.dtype) for e in edges))


def _count(points, bins, ranges, weight, density):
    """PyTorch's histogram of ``points`` (N, D): a value counts in the bin whose edges hold it
    (the last bin also holds its right edge); values outside the outer edges are left out."""
    dims = points.shape[1]
    edges = []
    for d, n in enumerate(bins):
        if not isinstance(n, int):
            edges.append(_host(n).astype(np.float64))
            continue
        if ranges is not None:
            low, high = float(ranges[2 * d]), float(ranges[2 * d + 1])
        elif points.shape[0]:
            low, high = float(points[:, d].min()), float(points[:, d].max())
        else:
            low, high = 0.0, 0.0
        if low == high:
            low, high = low - 0.5, high + 0.5
        edges.append(np.linspace(low, high, n + 1))
    inside = np.ones(points.shape[0], dtype=bool)
    positions = []
    for d, e in enumerate(edges):
        column = points[:, d]
        inside &= (column >= e[0]) & (column <= e[-1])
        position = np.searchsorted(e, column, side="right") - 1
        positions.append(np.minimum(position, len(e) - 2))
    shape = tuple(len(e) - 1 for e in edges)
    hist = np.zeros(shape, dtype=np.float64)
    weights = np.ones(points.shape[0]) if weight is None else _host(weight).reshape(-1)
    np.add.at(hist, tuple(p[inside] for p in positions), weights[inside])
    if density:
        volumes = np.ones(shape)
        for d, e in enumerate(edges):
            volumes = volumes * np.diff(e).reshape((1,) * d + (-1,) + (1,) * (dims - d - 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            hist = hist / (hist.sum() * volumes)
    return hist, edges
