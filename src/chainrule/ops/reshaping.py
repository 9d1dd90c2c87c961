"""Reordering and repeating elements: flips, rolls, rotations, repeats, grids.

``flip`` and ``roll`` move each element to one new place, so their gradient
moves back (``flip`` is its own adjoint, ``roll``'s is the opposite roll).
Repeating (``repeat``, ``tile``, ``repeat_interleave``, ``broadcast_tensors``,
``meshgrid``) copies elements, so an element's gradient is the sum over its
copies: these are built from broadcasting, reshapes and indexing, whose
adjoints do that summing.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0])
    >>> x.flip(0).tolist(), x.roll(1).tolist()
    ([3.0, 2.0, 1.0], [3.0, 1.0, 2.0])
    >>> x.repeat(2).tolist(), x.repeat_interleave(2).tolist()
    ([1.0, 2.0, 3.0, 1.0, 2.0, 3.0], [1.0, 1.0, 2.0, 2.0, 3.0, 3.0])
"""

import itertools

import numpy as np

from chainrule.autograd.broadcasting import broadcast_to_shape
from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.conversion import clone
from chainrule.ops.joining import stack
from chainrule.ops.shape import _shape_arg, reshape, transpose
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

__all__ = []  # the ops are registered


# ------------------------------------------------------------ flips and rolls


class Flip(Function):
    """x reversed along dims;  the gradient is reversed back (flip is its own adjoint)."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return array_module(x.array).flip(x.array, axis=dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims), None


class Roll(Function):
    """x shifted cyclically by shifts along dims;  the gradient is shifted back."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return array_module(x.array).roll(x.array, shifts, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        return Roll.apply(grad, tuple(-s for s in ctx.shifts), ctx.dims), None, None


@register("torch", "Tensor")
def flip(input, dims, *more_dims):
    """``input`` with the order of elements reversed along each of ``dims``
    (``x.flip(0, 1)`` and ``x.flip((0, 1))`` both work, as in PyTorch)."""
    dims = _shape_arg((dims,) + more_dims, "flip")
    axes = tuple(_check_dim(d, input.ndim, "flip") for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"flip: dims {dims} repeat a dimension")
    if input.ndim == 0 or not axes:
        return clone(input)
    return Flip.apply(input, axes)


@register("torch", "Tensor")
def fliplr(input):
    """``input`` flipped left to right (along dim 1); needs at least 2 dims."""
    if input.ndim < 2:
        raise ValueError(f"fliplr: expects at least 2 dimensions, got shape {tuple(input.shape)}")
    return flip(input, 1)


@register("torch", "Tensor")
def flipud(input):
    """``input`` flipped upside down (along dim 0); needs at least 1 dim."""
    if input.ndim < 1:
        raise ValueError("flipud: expects at least 1 dimension, got a 0-d tensor")
    return flip(input, 0)


@register("torch", "Tensor")
def roll(input, shifts, dims=None):
    """Elements shifted cyclically by ``shifts`` along ``dims`` (the flattened tensor when
    ``dims`` is None): ``out[(i + shift) % n] = input[i]``."""
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    shifts = _shape_arg(shifts, "roll")
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: without dims, shifts must be one int, got {shifts}")
        if input.ndim == 0:
            return clone(input)
        return reshape(Roll.apply(reshape(input, -1), shifts, (0,)), input.shape)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(dims) != len(shifts):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    axes = tuple(_check_dim(d, input.ndim, "roll") for d in dims)
    if input.ndim == 0:
        return clone(input)
    return Roll.apply(input, shifts, axes)


@register("torch", "Tensor")
def rot90(input, k=1, dims=(0, 1)):
    """``input`` rotated by 90 degrees ``k`` times, from ``dims[0]`` towards ``dims[1]``."""
    if len(dims) != 2:
        raise ValueError(f"rot90: dims must name two dimensions, got {dims}")
    if input.ndim < 2:
        raise ValueError(f"rot90: expects at least 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    d0, d1 = (_check_dim(d, input.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise ValueError(f"rot90: dims must be different, got {dims}")
    turns = k % 4
    if turns == 1:
        return transpose(flip(input, d1), d0, d1)
    if turns == 2:
        return flip(input, d0, d1)
    if turns == 3:
        return transpose(flip(input, d0), d0, d1)
    return clone(input)


# ------------------------------------------------------------ repeating


@register("Tensor")
def repeat(input, *repeats):
    """``input`` repeated ``repeats[i]`` times along dim i (new leading dims for extra
    repeats): ``out[..., a*n + i, ...] = input[..., i, ...]``."""
    repeats = _shape_arg(repeats, "repeat")
    lead = len(repeats) - input.ndim
    if lead < 0:
        raise ValueError(f"repeat: {len(repeats)} repeats given for a tensor of {input.ndim} "
                         "dimensions; give at least one per dimension")
    if any(r < 0 for r in repeats):
        raise ValueError(f"repeat: repeats must be non-negative, got {repeats}")
    shape = (1,) * lead + tuple(input.shape)
    interleaved = tuple(n for size in shape for n in (1, size))
    copies = tuple(n for r, size in zip(repeats, shape) for n in (r, size))
    expanded = broadcast_to_shape(reshape(input, interleaved), copies)
    return clone(reshape(expanded, tuple(r * size for r, size in zip(repeats, shape))))


@register("torch", "Tensor")
def tile(input, dims):
    """``repeat``, with ``dims`` padded with leading 1s to the tensor's rank."""
    dims = _shape_arg((dims,), "tile")
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


@register("torch", "Tensor")
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated ``repeats`` times (an int, or one count per element) along
    ``dim`` (of the flattened tensor when None), copies side by side.

    ``repeat_interleave(counts)`` alone gives each index i repeated counts[i] times.
    """
    if repeats is None:
        counts = _counts(input, "repeat_interleave")
        xp = array_module(input.array)
        return Tensor._make(xp.repeat(xp.arange(counts.size), counts), False, None)
    if dim is None:
        input, d = reshape(input, -1), 0
    else:
        d = _check_dim(dim, input.ndim, "repeat_interleave")
    length = input.shape[d] if input.ndim else 1
    if isinstance(repeats, Tensor):
        counts = _counts(repeats, "repeat_interleave")
        if counts.size not in (1, length):
            raise ValueError(f"repeat_interleave: repeats has {counts.size} counts for "
                             f"dimension {d} of size {length}; give one count or one per element")
        xp = array_module(input.array)
        positions = xp.repeat(xp.arange(length), counts if counts.size == length
                              else int(counts.reshape(-1)[0]))
        result = input[(slice(None),) * d + (positions,)]
    else:
        count = _shape_arg((repeats,), "repeat_interleave")[0]
        if count < 0:
            raise ValueError(f"repeat_interleave: repeats must be non-negative, got {count}")
        copies = input.shape[:d + 1] + (count,) + input.shape[d + 1:]
        spread = broadcast_to_shape(reshape(input, input.shape[:d + 1] + (1,)
                                            + input.shape[d + 1:]), copies)
        result = clone(reshape(spread, input.shape[:d] + (length * count,) + input.shape[d + 1:]))
    if output_size is not None and result.shape[d] != output_size:
        raise ValueError(f"repeat_interleave: output_size {output_size} does not match the "
                         f"{result.shape[d]} elements the repeats give")
    return result


def _counts(repeats, op):
    counts = repeats.array
    if counts.dtype.kind not in "iu" or counts.ndim > 1:
        raise TypeError(f"{op}: repeats must be an int or a 0-d or 1-d integer tensor, got "
                        f"dtype {counts.dtype} and shape {tuple(counts.shape)}")
    if (counts < 0).any():
        raise ValueError(f"{op}: repeats must be non-negative")
    return counts.reshape(-1)


# ------------------------------------------------------------ broadcasting


@register("torch")
def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to together (an int is a 1-d shape)."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return tuple(int(n) for n in np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"broadcast_shapes: shapes {', '.join(map(str, shapes))} cannot be "
                         "broadcast together; each dimension must match or be 1 (counting "
                         "from the last)") from None


@register("torch")
def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape (views); gradients sum back."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(broadcast_to_shape(t, shape) for t in tensors)


@register("torch")
def meshgrid(*tensors, indexing=None):
    """Coordinate grids: output i holds tensor i's values along its own dim, copied along the
    others. ``indexing="ij"`` (default) orders dims as the tensors; ``"xy"`` swaps the first
    two (Cartesian, as numpy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise ValueError(f'meshgrid: indexing must be "ij" or "xy", got {indexing!r}')
    for position, t in enumerate(tensors):
        if not isinstance(t, Tensor) or t.ndim > 1:
            raise ValueError(f"meshgrid: expects 0-d or 1-d tensors, got "
                             f"{getattr(t, 'shape', type(t).__name__)} at position {position}")
    places = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        places[0], places[1] = 1, 0
    shape = [0] * len(tensors)
    for place, t in zip(places, tensors):
        shape[place] = t.numel()
    grids = []
    for place, t in zip(places, tensors):
        along = [1] * len(tensors)
        along[place] = -1
        grids.append(broadcast_to_shape(reshape(t, tuple(along)), tuple(shape)))
    return tuple(grids)


@register("torch")
def cartesian_prod(*tensors):
    """Every tuple (a, b, ...) with a from the first 1-d tensor, b from the second, ...,
    as rows, in row-major order; one tensor is returned as it is."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], dim=1)


@register("torch")
def combinations(input, r=2, with_replacement=False):
    """Rows of the length-``r`` combinations of ``input``'s elements (as
    ``itertools.combinations``, or ``combinations_with_replacement``)."""
    if input.ndim != 1:
        raise ValueError(f"combinations: expects a 1-d tensor, got shape {tuple(input.shape)}")
    if r < 0:
        raise ValueError(f"combinations: r must be non-negative, got {r}")
    if r == 0:
        return Tensor._make(array_module(input.array).zeros(0, dtype=input.dtype), False, None)
    choose = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    rows = list(choose(range(input.shape[0]), r))
    xp = array_module(input.array)
    positions = xp.asarray(rows, dtype=np.intp).reshape(len(rows), r)
    return input[positions]


# ------------------------------------------------------------ at least n dims


def _at_least(tensors, ndim, op, place):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for position, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: element {position} is a {type(t).__name__}, not a Tensor")
    out = tuple(t if t.ndim >= ndim else reshape(t, place(tuple(t.shape))) for t in tensors)
    return out[0] if single else out


@register("torch")
def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (0-d becomes shape (1,)); one tensor in, one out."""
    return _at_least(tensors, 1, "atleast_1d", lambda shape: (1,))


@register("torch")
def atleast_2d(*tensors):
    """Each tensor with at least 2 dims: 0-d becomes (1, 1), shape (n,) becomes (1, n)."""
    return _at_least(tensors, 2, "atleast_2d", lambda shape: (1,) * (2 - len(shape)) + shape)


@register("torch")
def atleast_3d(*tensors):
    """Each tensor with at least 3 dims: 0-d becomes (1, 1, 1), (n,) becomes (1, n, 1),
    (m, n) becomes (m, n, 1)."""
    return _at_least(tensors, 3, "atleast_3d",
                     lambda shape: {0: (1, 1, 1), 1: (1,) + shape + (1,)}.get(len(shape),
                                                                             shape + (1,)))
