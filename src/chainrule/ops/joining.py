"""Joining and cutting: ``cat``, ``stack``, ``split``, ``chunk`` and ``unbind``.

Cutting a tensor into pieces and gluing pieces together are each other's
adjoints, and each is one graph node: ``cat``'s backward cuts the gradient
into the pieces' shapes (``Split``), and ``Split``'s backward glues the
pieces' gradients back together (``cat``), one array of the input's shape,
with zeros only for pieces that got no gradient. ``unbind`` and ``stack``
are the same pair along a dimension that disappears.

    >>> import chainrule as cr
    >>> a, b = cr.ones(2), cr.zeros(1)
    >>> cr.cat([a, b])
    tensor([1., 1., 0.])
    >>> [tuple(piece.shape) for piece in cr.ones(5).split(2)]
    [(2,), (2,), (1,)]
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

__all__ = ["promoted_dtype"]  # helpers for other ops; the ops themselves are registered


class Cat(Function):
    """[a, b, ...] joined along dim;  each input's gradient is its piece of the gradient."""

    @staticmethod
    def forward(ctx, *tensors, dim):
        ctx.dim, ctx.sizes = dim, [t.shape[dim] for t in tensors]
        return array_module(*(t.array for t in tensors)).concatenate([t.array for t in tensors],
                                                                    axis=dim)

    @staticmethod
    def backward(ctx, grad):
        pieces = Split.apply(grad, ctx.sizes, ctx.dim)
        return tuple(piece if needed else None
                     for piece, needed in zip(pieces, ctx.needs_input_grad))


class _MultiView(Function):
    """A Function whose outputs are all views of its input: they share its version counter."""

    @classmethod
    def apply(cls, x, *args, **params):
        outputs = super().apply(x, *args, **params)
        for out in outputs:
            out._version = x._version
            out._view_of = x
        return outputs


class Split(_MultiView):
    """x cut along dim into pieces x_0, x_1, ...;  d/dx = their gradients joined (cat).

    One node with one output per piece, each of ``sizes[i]`` along dim. Its
    backward builds one array of x's shape, not one per piece: the pieces'
    gradients joined along dim, with zeros only for pieces that got none.
    """

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.input_shape, ctx.sizes, ctx.dim = x.shape, sizes, dim
        lead = (slice(None),) * dim
        pieces, start = [], 0
        for n in sizes:
            pieces.append(x.array[lead + (slice(start, start + n),)])
            start += n
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        shape, dim = ctx.input_shape, ctx.dim
        pieces = [g if g is not None else _zeros_like_piece(grads, shape[:dim] + (n,)
                                                            + shape[dim + 1:])
                  for g, n in zip(grads, ctx.sizes)]
        if len(pieces) == 1:
            return pieces[0], None, None
        return Cat.apply(*pieces, dim=dim), None, None


class Unbind(_MultiView):
    """(x[0], x[1], ...) along dim;  d/dx = their gradients stacked along dim (0 where none)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.input_shape, ctx.dim = x.shape, dim
        lead = (slice(None),) * dim
        return tuple(x.array[lead + (i, Ellipsis)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        shape, dim = ctx.input_shape, ctx.dim
        piece_shape = shape[:dim] + (1,) + shape[dim + 1:]
        pieces = [(g if g is not None else _zeros_like_piece(grads, shape[:dim] + shape[dim + 1:]))
                  .reshape(piece_shape) for g in grads]
        return Cat.apply(*pieces, dim=dim), None


def _zeros_like_piece(grads, shape):
    """Zeros of ``shape``, of the dtype and array module of the gradients that did arrive."""
    given = next(g for g in grads if g is not None)
    return Tensor._make(array_module(given.array).zeros(shape, dtype=given.dtype), False, None)


@register("torch", aliases=("concat", "concatenate"))
def cat(tensors, dim=0):
    """The tensors joined along ``dim``; all other dimensions must match (no broadcasting).

    The dtype is PyTorch's promotion of the inputs' dtypes (``promoted_dtype``).
    As in PyTorch, 1-d empty tensors (shape ``(0,)``) may appear among tensors of
    any rank: they add nothing and are left out.
    """
    tensors = _tensor_list(tensors, "cat")
    dtype = promoted_dtype(t.dtype for t in tensors)
    kept = [(position, t) for position, t in enumerate(tensors) if t.shape != (0,)]
    if not kept:
        kept = [(0, tensors[0])]
    start, first = kept[0]
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack, "
                         "or unsqueeze them first")
    for position, t in kept[1:]:
        if t.ndim != first.ndim:
            raise ValueError(
                f"cat: tensors {start} and {position} have {first.ndim} and {t.ndim} dimensions "
                f"(shapes {tuple(first.shape)} and {tuple(t.shape)}); all must have the same "
                "number of dimensions (only 1-d empty tensors may be mixed in)"
            )
    d = _check_dim(dim, first.ndim, "cat")
    for position, t in kept[1:]:
        if t.shape[:d] + t.shape[d + 1:] != first.shape[:d] + first.shape[d + 1:]:
            raise ValueError(
                f"cat: tensors {start} and {position} have shapes {tuple(first.shape)} and "
                f"{tuple(t.shape)}; all dimensions but dim={dim} must match"
            )
    joined = [t for _, t in kept]
    joined = [t if t.dtype == dtype else t.to(dtype) for t in joined]
    return Cat.apply(*joined, dim=d)


def promoted_dtype(dtypes):
    """PyTorch's promotion of tensors' dtypes: among floats the widest float (an integer
    tensor does not widen float32, unlike numpy's rule), else numpy's integer promotion."""
    dtypes = [np.dtype(dt) for dt in dtypes]
    floats = [dt for dt in dtypes if dt.kind == "f"]
    return np.result_type(*(floats or dtypes))


@register("torch")
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


@register("torch", "Tensor")
def split(tensor, split_size_or_sections, dim=0):
    """``tensor`` cut along ``dim`` into pieces of ``split_size`` (the last may be smaller),
    or of the sizes in a list, which must add up to the dimension's size.

    Returns a tuple of views, the outputs of one graph node (as PyTorch's
    ``SplitBackward``): its backward joins their gradients into one array.
    """
    x = tensor
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
    return Split.apply(x, tuple(sizes), d)


@register("torch", "Tensor")
def chunk(input, chunks, dim=0):
    """``input`` cut along ``dim`` into ``chunks`` pieces of ceil(size / chunks) elements, as
    ``torch.chunk``: the last piece may be smaller, and there may be fewer pieces."""
    chunks = _size(chunks, "chunk")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks}")
    length = input.shape[_check_dim(dim, _at_least_1d(input, "chunk"), "chunk")]
    if length == 0:  # as PyTorch: `chunks` empty pieces
        return split(input, [0] * chunks, dim)
    return split(input, -(-length // chunks), dim)


@register("torch", "Tensor")
def unbind(input, dim=0):
    """The slices of ``input`` along ``dim``, that dimension removed: a tuple of views.

    One graph node (as PyTorch's ``UnbindBackward``); its backward stacks the
    slices' gradients into one array, zeros for slices that got none.

    >>> import chainrule as cr
    >>> [row.tolist() for row in cr.tensor([[1, 2], [3, 4]]).unbind(1)]
    [[1, 3], [2, 4]]
    """
    d = _check_dim(dim, _at_least_1d(input, "unbind"), "unbind")
    if input.shape[d] == 0:
        return ()
    return Unbind.apply(input, d)


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

