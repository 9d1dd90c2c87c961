"""Stacking and splitting by direction: ``hstack``/``vstack``/``dstack``, ``column_stack``,
``block_diag``, ``tensor_split`` and ``hsplit``/``vsplit``/``dsplit``, and the split
variants (``split_with_sizes``, ``unsafe_split``, ``unsafe_chunk``, ``unbind_copy``).

All are ``cat`` and ``split`` (``chainrule.ops.joining``) after a reshape that
gives every tensor the dims to join along, so each split is one graph node
whose backward joins the pieces' gradients, and each join's backward cuts
the gradient into the pieces' shapes.

    >>> import chainrule as cr
    >>> a, b = cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])
    >>> cr.vstack([a, b]).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    >>> cr.column_stack([a, b]).tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    >>> [piece.tolist() for piece in cr.arange(5.0).tensor_split(2)]
    [[0.0, 1.0, 2.0], [3.0, 4.0]]
"""

from chainrule.ops.conversion import clone
from chainrule.ops.joining import (Split, _at_least_1d, _size, _tensor_list, cat, chunk,
                                   promoted_dtype, split, unbind)
from chainrule.ops.padding import pad
from chainrule.ops.reshaping import atleast_1d, atleast_2d, atleast_3d
from chainrule.ops.shape import reshape
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

__all__ = []  # the ops are registered


# ------------------------------------------------------------ stacking


@register("torch", aliases=("row_stack",))
def vstack(tensors):
    """The tensors, made at least 2-d, joined along dim 0 (row after row)."""
    return cat(list(atleast_2d(_tensor_list(tensors, "vstack"))), dim=0)


@register("torch")
def hstack(tensors):
    """The tensors, made at least 1-d, joined along dim 1 (dim 0 for 1-d tensors)."""
    tensors = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(list(tensors), dim=0 if tensors[0].ndim == 1 else 1)


@register("torch")
def dstack(tensors):
    """The tensors, made at least 3-d, joined along dim 2 (depth)."""
    return cat(list(atleast_3d(_tensor_list(tensors, "dstack"))), dim=2)


@register("torch")
def column_stack(tensors):
    """The tensors as columns side by side: 0-d and 1-d tensors become columns (n, 1)."""
    tensors = _tensor_list(tensors, "column_stack")
    return hstack([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors])


@register("torch")
def block_diag(*tensors):
    """The tensors (0-d, 1-d as a row, or 2-d) as blocks on the diagonal of a matrix of zeros."""
    blocks = []
    for position, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"block_diag: argument {position} is a {type(t).__name__}, not a "
                            "Tensor")
        if t.ndim > 2:
            raise ValueError(f"block_diag: argument {position} has shape {tuple(t.shape)}; "
                             "expected at most 2 dimensions")
        blocks.append(reshape(t, (1, t.numel())) if t.ndim < 2 else t)
    if not blocks:
        return Tensor([[]]).reshape(1, 0)
    dtype = promoted_dtype(b.dtype for b in blocks)
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        b = b if b.dtype == dtype else b.to(dtype)
        rows.append(pad(b, (left, width - left - b.shape[1])))
        left += b.shape[1]
    return cat(rows, dim=0)


# ------------------------------------------------------------ splitting


@register("torch", "Tensor")
def tensor_split(input, indices_or_sections, dim=0):
    """``input`` cut along ``dim`` into ``sections`` pieces of near-equal size (the first
    ``size % sections`` one longer), or at the ``indices`` (Python slicing:
    ``x[:i0], x[i0:i1], ..., x[ik:]``)."""
    d = _check_dim(dim, _at_least_1d(input, "tensor_split"), "tensor_split")
    length = input.shape[d]
    split_at = _indices_or_sections(indices_or_sections)
    if isinstance(split_at, int):
        if split_at <= 0:
            raise ValueError(f"tensor_split: the number of sections must be positive, got "
                             f"{split_at}")
        small, extra = divmod(length, split_at)
        return Split.apply(input, tuple(small + (i < extra) for i in range(split_at)), d)
    bounds = [None] + list(split_at) + [None]
    spans = [slice(a, b).indices(length)[:2] for a, b in zip(bounds, bounds[1:])]
    if all(stop >= start for start, stop in spans) and all(
            spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1)):
        return Split.apply(input, tuple(stop - start for start, stop in spans), d)
    # indices out of order: pieces overlap or are empty, so each is read on its own
    return tuple(input[(slice(None),) * d + (slice(a, b),)] for a, b in zip(bounds, bounds[1:]))


def _indices_or_sections(value):
    """An int (sections) or a tuple of ints (indices), from an int, a sequence or a tensor."""
    if isinstance(value, Tensor):
        if value.dtype.kind not in "iu" or value.ndim > 1:
            raise TypeError(f"tensor_split: a tensor indices_or_sections must be a 0-d or "
                            f"1-d integer tensor, got dtype {value.dtype} and shape "
                            f"{tuple(value.shape)}")
        return int(value.item()) if value.ndim == 0 else tuple(int(i) for i in value.tolist())
    if isinstance(value, (list, tuple)):
        return tuple(_size(i, "tensor_split") for i in value)
    return _size(value, "tensor_split")


def _split_along(input, indices_or_sections, dim, op):
    """hsplit/vsplit/dsplit: equal sections (which must divide the size) or indices."""
    split_at = _indices_or_sections(indices_or_sections)
    if isinstance(split_at, int):
        length = input.shape[dim]
        if split_at <= 0 or length % split_at:
            raise ValueError(f"{op}: cannot split dimension {dim} of size {length} into "
                             f"{split_at} equal sections; give a divisor of {length} or a list "
                             "of indices")
    return tensor_split(input, split_at, dim)


@register("torch", "Tensor")
def hsplit(input, indices_or_sections):
    """``tensor_split`` along dim 1 (dim 0 for a 1-d tensor); sections must divide evenly."""
    if input.ndim < 1:
        raise ValueError("hsplit: expects a tensor with at least 1 dimension, got a 0-d tensor")
    return _split_along(input, indices_or_sections, 1 if input.ndim > 1 else 0, "hsplit")


@register("torch", "Tensor")
def vsplit(input, indices_or_sections):
    """``tensor_split`` along dim 0; needs at least 2 dims; sections must divide evenly."""
    if input.ndim < 2:
        raise ValueError(f"vsplit: expects a tensor with at least 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    return _split_along(input, indices_or_sections, 0, "vsplit")


@register("torch", "Tensor")
def dsplit(input, indices_or_sections):
    """``tensor_split`` along dim 2; needs at least 3 dims; sections must divide evenly."""
    if input.ndim < 3:
        raise ValueError(f"dsplit: expects a tensor with at least 3 dimensions, got shape "
                         f"{tuple(input.shape)}")
    return _split_along(input, indices_or_sections, 2, "dsplit")


@register("torch", "Tensor")
def split_with_sizes(input, split_sizes, dim=0):
    """``input`` cut along ``dim`` into pieces of ``split_sizes`` (which add up to its size)."""
    return split(input, [_size(n, "split_with_sizes") for n in split_sizes], dim)


@register("torch")
def split_with_sizes_copy(input, split_sizes, dim=0):
    """``split_with_sizes``, each piece a tensor with its own memory."""
    return tuple(clone(piece) for piece in split_with_sizes(input, split_sizes, dim))


@register("torch", "Tensor")
def unsafe_split(input, split_size, dim=0):
    """``split``: in PyTorch, without the checks on in-place changes of the pieces."""
    return split(input, split_size, dim)


@register("torch", "Tensor")
def unsafe_chunk(input, chunks, dim=0):
    """``chunk``: in PyTorch, without the checks on in-place changes of the pieces."""
    return chunk(input, chunks, dim)


@register("torch")
def unbind_copy(input, dim=0):
    """``unbind``, each slice a tensor with its own memory."""
    return tuple(clone(piece) for piece in unbind(input, dim))
