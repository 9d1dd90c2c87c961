"""Searching: ``nonzero``, ``argwhere``, ``searchsorted``, ``bucketize``, ``isin``,
``unique``, ``unique_consecutive`` and ``unravel_index``.

These answer with positions, counts or booleans: integer and bool results,
which never require grad, so none of them is a graph node.

    >>> import chainrule as cr
    >>> cr.searchsorted(cr.tensor([1.0, 3.0, 5.0]), cr.tensor([0.0, 3.0, 6.0]))
    tensor([0, 1, 3])
"""

import math
import numbers

import numpy as np

from chainrule.device import array_module, backend_of
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

__all__ = []  # the ops are registered


def _constant(array):
    return Tensor._make(array, False, None)


def _array(x, like=None):
    """The array of a tensor or a number (on ``like``'s device)."""
    if isinstance(x, Tensor):
        return x.array
    backend = backend_of(like.array) if isinstance(like, Tensor) else backend_of(None)
    return backend.xp.asarray(x)


# ------------------------------------------------------------ nonzero


@register("torch", "Tensor")
def nonzero(input, *, as_tuple=False):
    """The int64 indices of the nonzero elements: an (n, ndim) tensor, one row per element
    in row-major order, or with ``as_tuple=True`` one 1-d tensor per dimension."""
    values = input.array
    xp = array_module(values)
    if as_tuple:
        found = xp.nonzero(values.reshape(-1) if values.ndim == 0 else values)
        return tuple(_constant(i.astype(np.int64)) for i in found)
    if values.ndim == 0:
        return _constant(xp.zeros((int(values != 0), 0), dtype=np.int64))
    return _constant(xp.stack(xp.nonzero(values), axis=1).astype(np.int64))


@register("torch", "Tensor")
def argwhere(input):
    """The int64 indices of the nonzero elements, one row each: ``nonzero(input)``."""
    return nonzero(input)


# ---------------------------------------------------- sorted searching


@register("torch")
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where each value of ``input`` would go in ``sorted_sequence`` (sorted along its last
    dim) to keep it sorted: the first such place, or the last with ``right=True`` (or
    ``side="right"``). An N-d sequence searches each of its rows for the matching row of
    input. ``sorter`` gives the order that sorts an unsorted sequence."""
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError("searchsorted: right=True and side='left' contradict each other")
        right = side == "right"
    sequence = _array(sorted_sequence)
    values = _array(input, sorted_sequence)
    xp = array_module(sequence)
    if sorter is not None:
        order = _array(sorter)
        if order.shape != sequence.shape:
            raise ValueError(f"searchsorted: sorter of shape {order.shape} must have the "
                             f"sequence's shape {sequence.shape}")
        sequence = xp.take_along_axis(sequence, order.astype(np.intp), axis=-1)
    how = "right" if right else "left"
    dtype = np.int32 if out_int32 else np.int64
    if sequence.ndim <= 1:
        return _constant(xp.asarray(xp.searchsorted(sequence.reshape(-1), values, side=how),
                                    dtype=dtype))
    if values.shape[:-1] != sequence.shape[:-1]:
        raise ValueError(f"searchsorted: the sequence of shape {sequence.shape} and input of "
                         f"shape {values.shape} must match in all but the last dimension")
    rows = sequence.reshape(-1, sequence.shape[-1])
    wanted = values.reshape(rows.shape[0], -1)
    found = xp.stack([xp.searchsorted(row, w, side=how) for row, w in zip(rows, wanted)])
    return _constant(found.reshape(values.shape).astype(dtype))


@register("torch")
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value: ``i`` with ``boundaries[i-1] < x <= boundaries[i]`` (with
    ``right=True``, ``boundaries[i-1] <= x < boundaries[i]``); boundaries are 1-d, sorted."""
    if boundaries.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-d, got shape "
                         f"{tuple(boundaries.shape)}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


@register("torch")
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each of ``elements`` is among ``test_elements`` (either may be a number);
    ``invert=True`` asks the opposite."""
    like = elements if isinstance(elements, Tensor) else test_elements
    values, tests = _array(elements, like), _array(test_elements, like)
    found = array_module(values).isin(values, tests, invert=invert)
    return _constant(array_module(values).asarray(found, dtype=bool))


# ------------------------------------------------------------ unique


@register("torch", "Tensor")
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of ``input`` (flattened, or distinct slices along ``dim``), in
    sorted order; with ``return_inverse`` also where each element went, with
    ``return_counts`` how often each value occurs."""
    values = input.array
    xp = array_module(values)
    axis = None if dim is None else _check_dim(dim, values.ndim, "unique")
    found = xp.unique(values.reshape(-1) if axis is None else values, return_inverse=True,
                      return_counts=True, axis=axis)
    distinct, inverse, counts = found
    inverse = inverse.reshape(values.shape if axis is None else -1).astype(np.int64)
    return _unique_result(input, distinct, inverse, counts, return_inverse, return_counts)


def _unique_result(x, distinct, inverse, counts, return_inverse, return_counts):
    out = (Tensor._make(distinct.astype(x.dtype), False, None),)
    if return_inverse:
        out += (_constant(inverse),)
    if return_counts:
        out += (_constant(counts.astype(np.int64)),)
    return out[0] if len(out) == 1 else out


@register("torch", "Tensor")
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """``input`` with each run of equal consecutive values (slices along ``dim``) kept once;
    ``return_inverse``: the run of each element; ``return_counts``: each run's length."""
    values = input.array
    xp = array_module(values)
    if dim is None:
        flat, axis = values.reshape(-1), 0
        rows = flat.reshape(-1, 1)
    else:
        axis = _check_dim(dim, values.ndim, "unique_consecutive")
        flat = values
        rows = xp.moveaxis(values, axis, 0).reshape(values.shape[axis], -1)
    n = rows.shape[0]
    starts = xp.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    first = xp.nonzero(starts)[0]
    distinct = xp.take(flat, first, axis=axis)
    inverse = xp.cumsum(starts) - 1
    inverse = inverse.reshape(values.shape if dim is None else -1).astype(np.int64)
    counts = xp.diff(xp.append(first, n))
    return _unique_result(input, distinct, inverse, counts, return_inverse, return_counts)


@register("torch")
def unravel_index(indices, shape):
    """The coordinates in a tensor of ``shape`` of each flat (row-major) index: a tuple of
    int64 tensors, one per dimension, each of indices' shape."""
    flat = _array(indices)
    if flat.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: indices must be an integer tensor, got {flat.dtype}")
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"unravel_index: the shape {shape} must not hold negative sizes")
    size = math.prod(shape)
    xp = array_module(flat)
    if flat.size and (int(flat.min()) < -size or int(flat.max()) >= size):
        raise IndexError(f"unravel_index: indices must be in [{-size}, {size}) for shape "
                         f"{shape}, got values from {int(flat.min())} to {int(flat.max())}")
    remaining = xp.where(flat < 0, flat + size, flat).astype(np.int64)
    coordinates = []
    for n in reversed(shape):
        coordinates.append(remaining % n if n else remaining)
        remaining = remaining // n if n else remaining
    return tuple(_constant(c.astype(np.int64)) for c in reversed(coordinates))
