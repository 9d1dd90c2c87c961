"""Diagonals and triangles, and writing a part of a tensor into a copy of it.

``diagonal`` reads the elements ``x[i, i + offset]`` of two dimensions (the
diagonal becomes the last dimension); ``diag_embed`` is its adjoint, writing
a vector onto a diagonal of zeros. ``tril``/``triu`` keep a triangle; their
gradient is the same triangle of the gradient.

The ``*_scatter`` ops write ``src`` into a copy of ``input`` at a slice, a
selected index or a diagonal: the gradient of ``input`` is the gradient with
that part zeroed (it was overwritten), the gradient of ``src`` is the
gradient read there.

    >>> import chainrule as cr
    >>> x = cr.arange(9.0).reshape(3, 3)
    >>> x.diagonal().tolist(), x.diagonal(1).tolist()
    ([0.0, 4.0, 8.0], [1.0, 5.0])
    >>> cr.diag(cr.tensor([1.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    >>> cr.select_scatter(cr.zeros(2, 2), cr.ones(2), 0, 1).tolist()
    [[0.0, 0.0], [1.0, 1.0]]
"""

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.conversion import clone
from chainrule.ops.indexing import IndexPut, normalize_index
from chainrule.ops.shape import permute
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

__all__ = []  # the ops are registered


# ------------------------------------------------------------ diagonals


class Diagonal(Function):
    """The diagonal (``offset``) of the (dim1, dim2) planes, as the last dim;  d = embed back."""

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.input_shape, ctx.offset, ctx.dim1, ctx.dim2 = x.shape, offset, dim1, dim2
        return array_module(x.array).diagonal(x.array, offset, dim1, dim2).copy()

    @staticmethod
    def backward(ctx, grad):
        return DiagonalEmbed.apply(grad, ctx.input_shape, ctx.offset, ctx.dim1, ctx.dim2), \
            None, None, None


class DiagonalEmbed(Function):
    """Zeros of ``shape`` with the last dimension of x on a diagonal;  d = that diagonal."""

    @staticmethod
    def forward(ctx, x, shape, offset, dim1, dim2):
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        xp = array_module(x.array)
        rest = [d for d in range(len(shape)) if d not in (dim1, dim2)]
        moved = xp.zeros(tuple(shape[d] for d in rest) + (shape[dim1], shape[dim2]),
                         dtype=x.dtype)
        steps = xp.arange(x.shape[-1])
        moved[..., steps + max(-offset, 0), steps + max(offset, 0)] = x.array
        return xp.moveaxis(moved, (-2, -1), (dim1, dim2))

    @staticmethod
    def backward(ctx, grad):
        return Diagonal.apply(grad, ctx.offset, ctx.dim1, ctx.dim2), None, None, None, None



def _diagonal_plan(x, offset, dim1, dim2, op):
    """The permutation that moves dim1, dim2 last, and the index of the diagonal there."""
    d1, d2 = _distinct_dims(dim1, dim2, x.ndim, op)
    order = tuple(d for d in range(x.ndim) if d not in (d1, d2)) + (d1, d2)
    rows, cols = x.shape[d1], x.shape[d2]
    if offset >= 0:
        length = max(0, min(rows, cols - offset))
    else:
        length = max(0, min(rows + offset, cols))
    xp = array_module(x.array)
    steps = xp.arange(length)
    index = (Ellipsis, steps + max(-offset, 0), steps + max(offset, 0))
    return order, normalize_index(index, op, xp)


@register("torch", "Tensor")
def diagonal(input, offset=0, dim1=0, dim2=1):
    """``out[..., i] = input[..., i, i + offset]`` over dims ``dim1``, ``dim2`` (which are
    removed; the diagonal is the new last dimension). The result is a copy."""
    offset = _offset(offset, "diagonal")
    d1, d2 = _distinct_dims(dim1, dim2, input.ndim, "diagonal")
    return Diagonal.apply(input, offset, d1, d2)


@register("torch")
def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    """``diagonal``, as a tensor with its own memory."""
    return clone(diagonal(input, offset, dim1, dim2))


@register("torch", "Tensor")
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``src`` written on its diagonal (``diagonal``'s layout)."""
    order, index = _diagonal_plan(input, _offset(offset, "diagonal_scatter"), dim1, dim2,
                                  "diagonal_scatter")
    permuted = permute(input, order)
    _check_src(src, permuted[index].shape, "diagonal_scatter", "diagonal(input, offset, dim1, "
                                                               "dim2)")
    inverse = [0] * len(order)
    for position, d in enumerate(order):
        inverse[d] = position
    return permute(IndexPut.apply(permuted, src, index), tuple(inverse))


@register("torch", "Tensor")
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Each vector along ``input``'s last dim written on a diagonal of zeros spanning the new
    dims ``dim1``, ``dim2`` (the adjoint of ``diagonal``)."""
    offset = _offset(offset, "diag_embed")
    d1, d2 = _distinct_dims(dim1, dim2, input.ndim + 1, "diag_embed")
    vectors = input.reshape(-1) if input.ndim == 0 else input
    side = vectors.shape[-1] + abs(offset)
    shape = list(vectors.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, side)
    return DiagonalEmbed.apply(vectors, tuple(shape), offset, d1, d2)


@register("torch", "Tensor")
def diag(input, diagonal=0):
    """A 1-d ``input`` on the ``diagonal``-th diagonal of a square matrix of zeros; of a
    matrix, its ``diagonal``-th diagonal."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return _diagonal_of(input, diagonal)
    raise ValueError(f"diag: expects a 1-d or 2-d tensor, got shape {tuple(input.shape)}")


_diagonal_of = diagonal  # diag's parameter named `diagonal` hides the op


@register("torch", "Tensor")
def diagflat(input, offset=0):
    """The flattened ``input`` on the ``offset``-th diagonal of a square matrix of zeros."""
    return diag_embed(input.reshape(-1), offset, 0, 1)


def _distinct_dims(dim1, dim2, ndim, op):
    d1, d2 = _check_dim(dim1, ndim, op), _check_dim(dim2, ndim, op)
    if d1 == d2:
        raise ValueError(f"{op}: dim1 and dim2 must be different dimensions, both are {d1}")
    return d1, d2


def _offset(offset, op):
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise TypeError(f"{op}: offset must be an int, got {type(offset).__name__} {offset!r}")
    return offset


# ------------------------------------------------------------ triangles


class Tril(Function):
    """x on and below the k-th diagonal, 0 above;  the gradient is masked the same way."""

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return array_module(x.array).tril(x.array, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return Tril.apply(grad, ctx.diagonal), None


class Triu(Function):
    """x on and above the k-th diagonal, 0 below;  the gradient is masked the same way."""

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return array_module(x.array).triu(x.array, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return Triu.apply(grad, ctx.diagonal), None


@register("torch", "Tensor", inplace=True)
def tril(input, diagonal=0):
    """The lower triangle of the last two dims: elements with ``j - i <= diagonal`` kept."""
    _matrices(input, "tril")
    return Tril.apply(input, _offset(diagonal, "tril"))


@register("torch", "Tensor", inplace=True)
def triu(input, diagonal=0):
    """The upper triangle of the last two dims: elements with ``j - i >= diagonal`` kept."""
    _matrices(input, "triu")
    return Triu.apply(input, _offset(diagonal, "triu"))


def _matrices(x, op):
    if x.ndim < 2:
        raise ValueError(f"{op}: expects a tensor with at least 2 dimensions (matrices in the "
                         f"last two), got shape {tuple(x.shape)}")


# ------------------------------------------------------------ scatters


@register("torch", "Tensor")
def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``src`` written at ``index`` along ``dim``
    (where ``input.select(dim, index)`` reads)."""
    if input.ndim == 0:
        raise IndexError("select_scatter: cannot be applied to a 0-d input; it has no "
                         "dimension to select from")
    d = _check_dim(dim, input.ndim, "select_scatter")
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select_scatter: index {index} is out of range for dimension {dim} "
                         f"of size {size}")
    where = normalize_index((slice(None),) * d + (index % size,), "select_scatter")
    _check_src(src, input.array[where].shape, "select_scatter", "input.select(dim, index)")
    return IndexPut.apply(input, src, where)


@register("torch", "Tensor")
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` written at ``start:end:step`` along ``dim``."""
    d = _check_dim(dim, input.ndim, "slice_scatter")
    if step <= 0:
        raise ValueError(f"slice_scatter: step must be positive, got {step}")
    where = normalize_index((slice(None),) * d + (slice(start, end, step),), "slice_scatter")
    _check_src(src, input.array[where].shape, "slice_scatter",
               "input[..., start:end:step] along dim")
    return IndexPut.apply(input, src, where)


def _check_src(src, shape, op, where):
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}: src must be a Tensor, got {type(src).__name__}")
    if tuple(src.shape) != tuple(shape):
        raise ValueError(f"{op}: src has shape {tuple(src.shape)}, but {where} has shape "
                         f"{tuple(shape)}; they must be equal")
