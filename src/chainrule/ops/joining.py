"""Joining and cutting: ``cat``, ``stack``, ``split``, ``chunk`` and ``pad``.

Cutting a tensor into pieces and gluing pieces together are each other's
adjoints: ``cat``'s backward slices the gradient into the pieces' shapes,
and a slice's backward (in ``ops.indexing``) writes the gradient back into
zeros. ``pad``'s backward is ``pad`` with the amounts negated: what was added
is cut off again, and what was cut off gets a zero gradient.

    >>> import chainrule as cr
    >>> a, b = cr.ones(2), cr.zeros(1)
    >>> cat([a, b])
    tensor([1., 1., 0.], dtype=float32)
    >>> [tuple(piece.shape) for piece in cr.ones(5).split(2)]
    [(2,), (2,), (1,)]
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.ops.indexing import read_at
from chainrule.tensor import Tensor, _check_dim

__all__ = ["cat", "stack", "split", "chunk", "pad"]


class Cat(Function):
    """[a, b, ...] joined along dim;  each input's gradient is its slice of the gradient."""

    @staticmethod
    def forward(ctx, *tensors, dim):
        ctx.dim, ctx.sizes = dim, [t.shape[dim] for t in tensors]
        return np.concatenate([t.data for t in tensors], axis=dim)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        grads, start = [], 0
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad):
            grads.append(read_at(grad, lead + (slice(start, start + size),)) if needed else None)
            start += size
        return tuple(grads)


def cat(tensors, dim=0):
    """The tensors joined along ``dim``; all other dimensions must match (no broadcasting).

    The dtype is numpy's promotion of the inputs' dtypes.
    """
    tensors = _tensor_list(tensors, "cat")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack, "
                         "or unsqueeze them first")
    for position, t in enumerate(tensors[1:], start=1):
        if t.ndim != first.ndim:
            raise ValueError(
                f"cat: tensors 0 and {position} have {first.ndim} and {t.ndim} dimensions "
                f"(shapes {tuple(first.shape)} and {tuple(t.shape)}); all must have the same "
                "number of dimensions"
            )
    d = _check_dim(dim, first.ndim, "cat")
    for position, t in enumerate(tensors[1:], start=1):
        if t.shape[:d] + t.shape[d + 1:] != first.shape[:d] + first.shape[d + 1:]:
            raise ValueError(
                f"cat: tensors 0 and {position} have shapes {tuple(first.shape)} and "
                f"{tuple(t.shape)}; all dimensions but dim={dim} must match"
            )
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    """The tensors (all of one shape) joined along a new dimension ``dim``: unsqueeze + cat."""
    tensors = _tensor_list(tensors, "stack")
    first = tensors[0]
    for position, t in enumerate(tensors[1:], start=1):
        if t.shape != first.shape:
            raise ValueError(
                f"stack: tensors 0 and {position} have shapes {tuple(first.shape)} and "
                f"{tuple(t.shape)}; stack needs tensors of equal shape"
            )
    d = _check_dim(dim, first.ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], dim=d)


def split(x, split_size_or_sections, dim=0):
    """``x`` cut along ``dim`` into pieces of ``split_size`` (the last may be smaller), or
    of the sizes in a list, which must add up to the dimension's size.

    Returns a tuple of slices (views), each with its own graph node.
    """
    d = _check_dim(dim, _at_least_1d(x, "split"), "split")
    length = x.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [_size(n, "split") for n in split_size_or_sections]
        if any(n < 0 for n in sizes) or sum(sizes) != length:
            raise ValueError(
                f"split: sizes {list(sizes)} must be non-negative and add up to {length}, the "
                f"size of dimension {dim} of a tensor of shape {tuple(x.shape)}"
            )
    else:
        size = _size(split_size_or_sections, "split")
        if size < 0 or (size == 0 and length != 0):
            raise ValueError(
                f"split: split_size must be positive, got {size} for dimension {dim} of "
                f"size {length}"
            )
        count = max(-(-length // size), 1) if size else 1
        sizes = [min(size, length - i * size) for i in range(count)]
    lead = (slice(None),) * d
    pieces, start = [], 0
    for n in sizes:
        pieces.append(read_at(x, lead + (slice(start, start + n),)))
        start += n
    return tuple(pieces)


def chunk(x, chunks, dim=0):
    """``x`` cut along ``dim`` into ``chunks`` pieces of ceil(size / chunks) elements, as
    ``torch.chunk``: the last piece may be smaller, and there may be fewer pieces."""
    chunks = _size(chunks, "chunk")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks}")
    length = x.shape[_check_dim(dim, _at_least_1d(x, "chunk"), "chunk")]
    if length == 0:  # as PyTorch: `chunks` empty pieces
        return split(x, [0] * chunks, dim)
    return split(x, -(-length // chunks), dim)


class Pad(Function):
    """x with `before` and `after` elements of value added (or, negative, removed) per
    dimension;  d/dx = the gradient padded by the negated amounts, with zeros."""

    @staticmethod
    def forward(ctx, x, amounts, value):
        ctx.amounts = amounts
        shape = tuple(n + before + after for n, (before, after) in zip(x.shape, amounts))
        out = np.full(shape, value, dtype=x.data.dtype)
        source, target = [], []
        for n, (before, after) in zip(x.shape, amounts):
            kept = max(n - max(-before, 0) - max(-after, 0), 0)  # elements of x that stay
            source.append(slice(max(-before, 0), max(-before, 0) + kept))
            target.append(slice(max(before, 0), max(before, 0) + kept))
        out[tuple(target)] = x.data[tuple(source)]
        return out

    @staticmethod
    def backward(ctx, grad):
        negated = tuple((-before, -after) for before, after in ctx.amounts)
        return Pad.apply(grad, negated, 0), None, None


def pad(x, pad, mode="constant", value=0):
    """``x`` padded as ``torch.nn.functional.pad``: ``pad`` holds (before, after) pairs
    starting from the LAST dimension: ``(left, right, top, bottom, ...)``.

    ``mode="constant"`` fills with ``value`` and allows negative amounts, which
    crop. ``"reflect"``, ``"replicate"`` and ``"circular"`` take their values
    from ``x`` (composed of indexing), and need non-negative amounts.
    """
    amounts = _pad_amounts(x, pad)
    if mode == "constant":
        for n, (before, after) in zip(x.shape, amounts):
            if n + before + after < 0 or min(before, after) < -n:
                raise ValueError(f"pad: pad {tuple(pad)} crops more than a tensor of shape "
                                 f"{tuple(x.shape)} holds")
        if not any(before or after for before, after in amounts):
            return x
        return Pad.apply(x, amounts, value)
    if mode not in _POSITIONS:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    out = x
    for d, (n, (before, after)) in enumerate(zip(x.shape, amounts)):
        if before or after:
            positions = _POSITIONS[mode](np.arange(-before, n + after), n, before, after, mode)
            out = read_at(out, (slice(None),) * d + (positions,))
    return out


def _reflect(positions, n, before, after, mode):
    if before < 0 or after < 0 or max(before, after) >= n:
        raise ValueError(f"pad: {mode} padding needs 0 <= amount < size of the dimension "
                         f"({n}), got {before} and {after}")
    period = 2 * (n - 1)
    folded = np.mod(positions, period) if period else np.zeros_like(positions)
    return np.where(folded < n, folded, period - folded)


def _replicate(positions, n, before, after, mode):
    if before < 0 or after < 0 or n == 0:
        raise ValueError(f"pad: {mode} padding needs a non-empty dimension and non-negative "
                         f"amounts, got size {n} and amounts {before} and {after}")
    return np.clip(positions, 0, n - 1)


def _circular(positions, n, before, after, mode):
    if before < 0 or after < 0 or max(before, after) > n:
        raise ValueError(f"pad: {mode} padding needs 0 <= amount <= size of the dimension "
                         f"({n}), got {before} and {after}")
    return np.mod(positions, n)


_POSITIONS = {"reflect": _reflect, "replicate": _replicate, "circular": _circular}


def _pad_amounts(x, pad):
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad: pad must be a tuple of ints, got {type(pad).__name__}")
    pad = tuple(_size(n, "pad") for n in pad)
    if len(pad) % 2 or len(pad) > 2 * x.ndim:
        raise ValueError(
            f"pad: pad must hold (before, after) pairs for at most {x.ndim} dimensions of a "
            f"tensor of shape {tuple(x.shape)}, got {pad} ({len(pad)} values)"
        )
    pairs = [pad[i:i + 2] for i in range(0, len(pad), 2)]  # last dimension first
    return ((0, 0),) * (x.ndim - len(pairs)) + tuple(reversed(pairs))


def _tensor_list(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors, got an empty one")
    for position, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: element {position} is a {type(t).__name__}, not a Tensor")
    return list(tensors)


def _at_least_1d(x, op):
    if x.ndim == 0:
        raise ValueError(f"{op}: a 0-d tensor has no dimension to cut; reshape it to 1-d first")
    return x.ndim


def _size(n, op):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"{op}: sizes must be ints, got {type(n).__name__} {n!r}")
    return int(n)


METHODS = {"split": split, "chunk": chunk}
