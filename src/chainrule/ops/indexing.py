"""Indexing: ``x[index]``, ``x[index] = value``, ``gather`` and ``index_select``.

Reading elements is linear, so its adjoint writes the gradient back where the
elements came from: ``x[index]`` sends its gradient into zeros of the input's
shape at ``index``, *adding* where an index repeats (``x[[0, 0]]`` uses row 0
twice, so row 0 gets both gradients). That scatter is an op of its own whose
backward reads at ``index`` again, so derivatives of every order work.

Indexing follows numpy (and PyTorch): ints, slices (negative steps too),
``None``, ``...``, boolean masks and integer arrays, lists or tensors, mixed
freely. Basic indexing (ints, slices, ``None``, ``...``) gives a view that
shares memory and the version counter with the input, as in numpy; any
boolean or integer array makes a copy.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> x[[0, 2, 0]].sum().backward()
    >>> x.grad
    tensor([2., 0., 1.])
"""

import numpy as np

from chainrule.autograd.broadcasting import View, sum_to_shape
from chainrule.autograd.function import Function
from chainrule.device import array_module, backend_of
from chainrule.ops._operands import data
from chainrule.ops.elementwise import where
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

# helpers for other ops; the ops themselves are registered
__all__ = ["read_at", "along_dim", "normalize_index", "is_basic", "describe_index"]


# ------------------------------------------------------------------ reading


class Index(Function):
    """x[index];  d/dx = the gradient added back at index into zeros of x's shape.

    Where an index repeats, the gradients add up. With boolean or integer
    arrays in the index the result is a copy.
    """

    @staticmethod
    def forward(ctx, x, index):
        ctx.input_shape, ctx.index = x.shape, index
        read = index
        if is_basic(index) and not any(part is Ellipsis for part in index):
            read = index + (Ellipsis,)  # so x[0, 1] is a 0-d view, not a numpy scalar
        try:
            return x.array[read]
        except IndexError as error:
            raise _out_of_range("__getitem__", index, x.shape, error) from None

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, ctx.index, ctx.input_shape), None


class Slice(View, Index):
    """x[index] for a basic index (ints, slices, None, ...);  d/dx = as Index's.

    The same op as Index, but its result is a view, sharing x's memory and
    version counter, as numpy's is.
    """

    def write_back(self, base, value):
        """An in-place change of this view (``y[0] += 1``): write ``value`` into ``base``
        at the index, moving base's history to the write, and return the new view."""
        base._modify_in_place("__setitem__",
                              lambda source: IndexPut.apply(source, value, self.index))
        return read_at(base, self.index)


class IndexAdd(Function):
    """zeros(shape) with g added at index (repeats accumulate);  d/dg = read at index.

    The backward of indexing, and indexing is its backward.
    """

    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.index = index
        out = array_module(g.array).zeros(shape, dtype=g.array.dtype)
        if is_basic(index):  # no position can repeat: a plain write is enough
            out[index] = g.array
        else:
            backend_of(out).add_at(out, index, g.array)
        return out

    @staticmethod
    def backward(ctx, grad):
        return read_at(grad, ctx.index), None, None


def read_at(x, index):
    """``x[index]`` for an index already normalized by :func:`normalize_index`."""
    return (Slice if is_basic(index) else Index).apply(x, index)


@register("Tensor", name="__getitem__")
def getitem(input, index):
    """``x[index]``, numpy's rules: a view for basic indices, a copy for arrays."""
    return read_at(input, normalize_index(index, "__getitem__", array_module(input.array)))


# ------------------------------------------------------------------ writing


class IndexPut(Function):
    """x with value written at index;  d/dx = 1 off index, 0 on it;  d/dvalue = read at index.

    The gradient of ``value`` is the gradient read at index, summed over the
    positions value was broadcast to.

    NOTE: where an integer index repeats, the last write wins (numpy's rule) and
    only it gets a gradient, so the gradient is the true derivative. PyTorch
    leaves repeated writes undefined and gives every copy the gradient.
    """

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index, ctx.value_shape = index, _shape_of(data(value))
        ctx.kept = None
        if isinstance(value, Tensor) and value.requires_grad and not is_basic(index):
            ctx.kept = _last_writes(array_module(x.array), x.shape, index)
        out = x.array.copy()
        try:
            out[index] = data(value)
        except IndexError as error:
            raise _out_of_range("__setitem__", index, x.shape, error) from None
        except ValueError:
            raise ValueError(
                f"__setitem__: a value of shape {ctx.value_shape} cannot be broadcast to the "
                f"shape {out[index].shape} of x[{describe_index(index)}], x of shape "
                f"{tuple(x.shape)}"
            ) from None
        return out

    @staticmethod
    def backward(ctx, grad):
        needs_x, needs_value = ctx.needs_input_grad[:2]
        grad_x = IndexPut.apply(grad, 0.0, ctx.index) if needs_x else None
        grad_value = None
        if needs_value:
            grad_value = read_at(grad, ctx.index)
            if ctx.kept is not None:
                grad_value = where(ctx.kept, grad_value, 0.0)
            missing = len(ctx.value_shape) - grad_value.ndim
            if missing > 0:  # numpy lets value carry extra leading dims of size 1
                grad_value = grad_value.reshape((1,) * missing + tuple(grad_value.shape))
            grad_value = sum_to_shape(grad_value, ctx.value_shape)
        return grad_x, grad_value, None


def _last_writes(xp, shape, index):
    """A mask over x[index]: True where the write is not overwritten by a later one (or
    None when no index repeats)."""
    owner = xp.zeros(shape, dtype=np.intp)
    try:
        order = xp.arange(owner[index].size).reshape(owner[index].shape)
    except IndexError:
        return None  # the write itself reports the bad index
    owner[index] = order
    kept = owner[index] == order
    return None if kept.all() else kept


@register("Tensor", name="__setitem__")
def setitem(input, index, value):
    """``x[index] = value``, in place: bumps the version and moves x's history to the write."""
    index = normalize_index(index, "__setitem__", array_module(input.array))
    value = _value_operand(input, value)
    input._modify_in_place("__setitem__", lambda source: IndexPut.apply(source, value, index))


def _shape_of(value):
    return getattr(value, "shape", ())  # a number has shape ()


def _value_operand(x, value):
    if isinstance(value, Tensor):
        # written into an integer tensor, the value is rounded: no gradient goes through
        return value if x.dtype.kind == "f" else value.detach()
    array = backend_of(x.array).asarray(value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"__setitem__: value must be a number, an array or a Tensor, got "
                        f"{type(value).__name__} {value!r}")
    return array


# --------------------------------------------------------- gather, select


class Gather(Function):
    """out[i][j] = x[index[i][j]][j] (dim=0; likewise for any dim);  the gradient is
    scatter-added back along dim."""

    @staticmethod
    def forward(ctx, x, positions):
        ctx.input_shape, ctx.positions = x.shape, positions
        return x.array[positions]

    @staticmethod
    def backward(ctx, grad):
        return ScatterAdd.apply(grad, ctx.positions, ctx.input_shape), None


class ScatterAdd(Function):
    """zeros(shape) with g[i][j] added at [index[i][j]][j];  d/dg = gather along dim.

    ``unique=True`` promises that no position repeats (max's indices): then a
    plain write does it, with no accumulation.
    """

    @staticmethod
    def forward(ctx, g, positions, shape, unique=False):
        ctx.positions = positions
        out = array_module(g.array).zeros(shape, dtype=g.array.dtype)
        if unique:
            out[positions] = g.array
        else:
            backend_of(out).add_at(out, positions, g.array)
        return out

    @staticmethod
    def backward(ctx, grad):
        return Gather.apply(grad, ctx.positions), None, None


@register("torch", "Tensor")
def gather(input, dim, index, *, sparse_grad=False):
    """Values of ``input`` along ``dim`` at ``index`` (an int tensor with x's number of dims).

    ``out[i][j][k] = x[index[i][j][k]][j][k]`` for dim=0, and so on; the
    result has index's shape, which may be smaller than x's in every dimension
    but ``dim``. ``sparse_grad`` is accepted for PyTorch's sake; the gradient
    is always dense.
    """
    x = input
    index = _integer_array(x, index, "gather")
    d = _check_dim(dim, x.ndim, "gather")
    if x.ndim == 0:  # as PyTorch: its one element, in index's shape (0-d or one element)
        return gather(x.reshape(1), 0, index.reshape(-1)).reshape(index.shape)
    if index.size == 0:  # nothing is read: the result has index's shape, whatever it is
        nowhere = array_module(index).zeros(index.shape, dtype=np.intp)
        return Gather.apply(x, (nowhere,) * x.ndim)
    if index.ndim != x.ndim:
        raise ValueError(f"gather: index has {index.ndim} dimensions but x has {x.ndim} "
                         f"(shapes {index.shape} and {tuple(x.shape)}); they must match")
    for axis, (n_index, n_x) in enumerate(zip(index.shape, x.shape)):
        if axis != d and n_index > n_x:
            raise ValueError(
                f"gather: index of shape {index.shape} is larger than x of shape "
                f"{tuple(x.shape)} in dimension {axis}; only dim={dim} may be larger"
            )
    _check_positions(index, x.shape[d], "gather", d)
    return Gather.apply(x, along_dim(index, d))


def along_dim(index, dim):
    """The positions ``x[positions]`` reads for ``index`` taken along ``dim``: a tuple of
    int arrays that broadcast to index's shape, ``index`` itself at ``dim``."""
    xp = array_module(index)
    ndim = index.ndim
    positions = [xp.arange(n).reshape((1,) * axis + (n,) + (1,) * (ndim - axis - 1))
                 for axis, n in enumerate(index.shape)]
    positions[dim] = index
    return tuple(positions)


@register("torch", "Tensor")
def index_select(input, dim, index):
    """The entries of ``input`` at positions ``index`` (a 1-d int tensor) along ``dim``.

    Composed of indexing: ``x[:, :, index]`` for dim=2.
    """
    x = input
    index = _integer_array(x, index, "index_select")
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 1-d, got shape {index.shape}")
    if x.ndim == 0:  # as PyTorch: one position, a 0-d result
        if index.size != 1:
            raise ValueError(f"index_select: a 0-d tensor takes an index with one value, got "
                             f"{index.size}")
        return index_select(x.reshape(1), dim, index.reshape(1)).reshape(())
    d = _check_dim(dim, x.ndim, "index_select")
    _check_positions(index, x.shape[d], "index_select", d)
    return read_at(x, (slice(None),) * d + (index.reshape(-1),))


@register("torch", "Tensor")
def take(input, index):
    """``input`` read as if flattened, at ``index`` (an int tensor; negative counts from the
    end); the result has index's shape. Composed of indexing."""
    x = input
    index = _integer_array(x, index, "take")
    _check_positions(index + (index < 0) * x.numel(), x.numel(), "take", 0)
    return read_at(x.reshape(-1), (index,))


@register("torch", "Tensor")
def take_along_dim(input, indices, dim=None):
    """``gather`` along ``dim`` after broadcasting ``input`` and ``indices`` in the other
    dims (as numpy's ``take_along_axis``); with no dim, along the flattened input. Negative
    indices count from the end."""
    x = input
    index = _integer_array(x, indices, "take_along_dim")
    if dim is None:
        x, index, dim = x.reshape(-1), index.reshape(-1), 0
    d = _check_dim(dim, x.ndim, "take_along_dim")
    size = x.shape[d] if x.ndim else 1
    index = index + (index < 0) * size  # negative indices count from the end, unlike gather's
    if index.ndim != x.ndim:
        raise ValueError(f"take_along_dim: indices of shape {index.shape} and input of shape "
                         f"{tuple(x.shape)} must have the same number of dimensions")
    xp = array_module(index)
    try:
        common = xp.broadcast_shapes(*(tuple(s[:d]) + (1,) + tuple(s[d + 1:])
                                       for s in (index.shape, x.shape)))
    except ValueError:
        raise ValueError(f"take_along_dim: input of shape {tuple(x.shape)} and indices of shape "
                         f"{index.shape} cannot be broadcast outside dim {d}") from None
    x_shape = common[:d] + (x.shape[d],) + common[d + 1:]
    index_shape = common[:d] + (index.shape[d],) + common[d + 1:]
    index = xp.broadcast_to(index, index_shape)
    return gather(x if tuple(x.shape) == x_shape else x.expand(x_shape), d, index)


@register("torch", "Tensor")
def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` (broadcast with it) is True, as a 1-d
    tensor in row-major order; composed of indexing with a boolean mask."""
    x = input
    mask = backend_of(x.array).xp.asarray(data(mask))
    if mask.dtype != bool:
        raise TypeError(f"masked_select: mask must be a bool tensor, got dtype {mask.dtype}")
    xp = array_module(mask)
    try:
        shape = xp.broadcast_shapes(tuple(x.shape), mask.shape)
    except ValueError:
        raise ValueError(f"masked_select: mask of shape {mask.shape} cannot be broadcast with "
                         f"input of shape {tuple(x.shape)}") from None
    if tuple(x.shape) != shape:
        x = x.expand(shape)
    return read_at(x, (xp.broadcast_to(mask, shape),))


def _integer_array(x, index, op):
    # a copy, on x's device: later changes to index must not reach the graph
    array = backend_of(x.array).xp.array(data(index))
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {array.dtype}")
    return array


def _check_positions(index, size, op, dim):
    bad = index[(index < 0) | (index >= size)]
    if bad.size:
        raise IndexError(f"{op}: index {bad.flat[0]} is out of range for dimension {dim} with "
                         f"size {size}; expected 0 <= index < {size}")


# ------------------------------------------------------ reading an index


def normalize_index(index, op, xp=np):
    """``index`` as a tuple the array module ``xp`` reads directly: tensors and lists become
    (copied) arrays of ``xp``."""
    parts = index if isinstance(index, tuple) else (index,)
    return tuple(_index_part(part, op, xp) for part in parts)


def _index_part(part, op, xp):
    if part is None or part is Ellipsis or isinstance(part, slice):
        return part
    if isinstance(part, (bool, np.bool_)):
        return xp.asarray(bool(part))
    if isinstance(part, (int, np.integer)):
        return int(part)
    if isinstance(part, Tensor):
        part = part.array
    if isinstance(part, list) and not part:
        return xp.zeros(0, dtype=np.intp)  # an empty list selects nothing (not a float array)
    if isinstance(part, list) or _is_array(part):
        array = xp.array(part)
        if array.dtype.kind in "iu":
            return int(array) if array.ndim == 0 else array
        if array.dtype.kind == "b":
            return array
        raise IndexError(f"{op}: arrays and tensors used as indices must hold integers or "
                         f"booleans, got dtype {array.dtype}")
    raise IndexError(
        f"{op}: {type(part).__name__} {part!r} is not a valid index; use ints, slices, None, "
        "..., boolean masks or integer arrays, lists or tensors"
    )


def _out_of_range(op, index, shape, error):
    return IndexError(f"{op}: x[{describe_index(index)}] is out of range for x of shape "
                      f"{tuple(shape)} ({error})")


def is_basic(index):
    """True for an index of ints, slices, None and ... only: it reads a view."""
    return all(part is None or part is Ellipsis or isinstance(part, (int, slice))
               for part in index)


def _is_array(part):
    return hasattr(part, "dtype") and hasattr(part, "shape")


def describe_index(index):
    """``index`` as it would be written between brackets: ``0, 1:3, None, [2, 0]``."""
    return ", ".join(_describe_part(part) for part in index) or "()"


def _describe_part(part):
    if part is Ellipsis:
        return "..."
    if isinstance(part, slice):
        text = ":".join("" if v is None else str(v) for v in (part.start, part.stop, part.step))
        return text[:-1] if part.step is None else text
    if _is_array(part):
        kind = "boolean mask" if part.dtype == bool else "integer array"
        return str(part.tolist()) if part.size <= 8 else f"<{kind} of shape {part.shape}>"
    return repr(part)

