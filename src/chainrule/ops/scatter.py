"""Writing into a tensor at positions: ``scatter``, ``scatter_add``, ``scatter_reduce``,
the ``index_*`` family, ``index_put``, ``put``, ``masked_fill`` and ``masked_scatter``.

Every op here returns a new tensor (its ``NAME_`` variant writes in place).
Writing is ``Scatter``: the gradient of the tensor written into is zero where
it was overwritten, and every written value gets the gradient read back at
its position (PyTorch's convention, also where a position repeats). Adding is
``ScatterAdd`` (its adjoint is reading). ``prod``, ``amax`` and ``amin``
reductions are ``ScatterReduce``, whose backward is written with the op itself,
so derivatives of every order work.

    >>> import chainrule as cr
    >>> x = cr.zeros(3)
    >>> x.scatter_add(0, cr.tensor([0, 2, 0]), cr.tensor([1.0, 2.0, 3.0]))
    tensor([4., 0., 2.])
"""

import numpy as np

from chainrule.autograd.broadcasting import sum_to_shape
from chainrule.autograd.function import Function
from chainrule.device import array_module, backend_of
from chainrule.ops._operands import data
from chainrule.ops.elementwise import where
from chainrule.ops.indexing import (IndexAdd, ScatterAdd, _integer_array, along_dim,
                                    normalize_index, read_at)
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

__all__ = ["Scatter", "ScatterReduce"]

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


class Scatter(Function):
    """x with values written at index;  d/dx = grad with zeros where written;
    d/dvalues = grad read at index (summed over positions a value was broadcast to)."""

    @staticmethod
    def forward(ctx, x, values, index):
        ctx.index, ctx.values_shape = index, tuple(getattr(data(values), "shape", ()))
        out = x.array.copy()
        out[index] = data(values)
        return out

    @staticmethod
    def backward(ctx, grad):
        needs_x, needs_values = ctx.needs_input_grad[:2]
        grad_x = Scatter.apply(grad, 0.0, ctx.index) if needs_x else None
        grad_values = None
        if needs_values:
            grad_values = sum_to_shape(read_at(grad, ctx.index), ctx.values_shape)
        return grad_x, grad_values, None


class ScatterReduce(Function):
    """out = x with src reduced (prod, amax or amin) into it at index, x included or not;
    d/dx, d/dsrc: prod: the product of the others; amax/amin: 1/k at each of the k values
    equal to the result (ties share evenly), as PyTorch."""

    @staticmethod
    def forward(ctx, x, src, index, reduce, include_self):
        ctx.save_for_backward(x, src)
        ctx.index, ctx.reduce, ctx.include_self = index, reduce, include_self
        out = x.array.copy()
        if not include_self:
            out[index] = _identity(reduce, out.dtype)
        backend = backend_of(out)
        host = backend.to_host(out)  # numpy's ufunc.at accumulates repeated positions
        ufunc = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce]
        ufunc.at(host, index, backend.to_host(src.array))
        return ctx.save_result(backend.asarray(host))

    @staticmethod
    def backward(ctx, grad):
        x, src = ctx.saved_tensors
        index, include_self = ctx.index, ctx.include_self
        if ctx.reduce == "prod":
            grad_x, grad_src = _prod_backward(grad, x, src, ctx.result, index, include_self)
        else:
            grad_x, grad_src = _extreme_backward(grad, x, src, ctx.result, index, include_self)
        if not include_self:  # x's values at the written positions took no part
            grad_x = Scatter.apply(grad_x, 0.0, index)
        return grad_x, grad_src, None, None, None


def _identity(reduce, dtype):
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:  # bool
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


def _constant(array, dtype):
    return Tensor._make(array.astype(dtype), False, None)


def _prod_backward(grad, x, src, result, index, include_self):
    """PyTorch's rule: a zero is the product of the others, found by reducing with it set to 1."""
    xp = array_module(x.array)
    masked_x = where(_constant(x.array == 0, bool), 1.0, x).to(x.dtype)
    others = ScatterReduce.apply(masked_x, src, index, "prod", include_self)
    grad_x = grad * others / masked_x
    src_zero = src.array == 0
    zeros_there = xp.zeros(x.shape, dtype=np.int64)
    backend_of(zeros_there).add_at(zeros_there, index, src_zero.astype(np.int64))
    single_zero = src_zero & (zeros_there[index] == 1)
    masked_src = where(_constant(single_zero, bool), 1.0, src).to(src.dtype)
    others_of_zero = ScatterReduce.apply(x, masked_src, index, "prod", include_self)
    divisor = where(_constant(src_zero, bool), 1.0, src).to(src.dtype)
    grad_src = where(_constant(single_zero, bool), read_at(grad * others_of_zero, index),
                     read_at(grad * result, index) / divisor)
    return grad_x, grad_src


def _extreme_backward(grad, x, src, result, index, include_self):
    """The gradient is shared evenly by every value (x's, if included, and src's) equal to
    the result."""
    xp = array_module(x.array)
    x_wins = x.array == result.array
    if not include_self:
        x_wins = x_wins.copy()
        x_wins[index] = False
    src_wins = src.array == result.array[index]
    count = x_wins.astype(x.dtype)
    backend_of(count).add_at(count, index, src_wins.astype(x.dtype))
    share = grad / _constant(xp.maximum(count, 1), x.dtype)
    return share * _constant(x_wins, x.dtype), read_at(share, index) * _constant(src_wins, x.dtype)


# ------------------------------------------------------------------ scatter


def _scatter_operands(input, dim, index, src, op):
    """``(d, positions, src_part)``: the checked dim, the positions ``x[positions]`` written
    (along_dim of index), and src cut to index's shape (a Tensor, or a number)."""
    x = input
    index = _integer_array(x, index, op)
    d = _check_dim(dim, x.ndim, op)
    if max(index.ndim, 1) != max(x.ndim, 1):
        raise ValueError(f"{op}: index of shape {index.shape} and input of shape "
                         f"{tuple(x.shape)} must have the same number of dimensions")
    shape = tuple(x.shape) or (1,)
    index = index.reshape(index.shape or (1,))
    src_is_tensor = isinstance(src, Tensor)
    if src_is_tensor:
        src = src.reshape(tuple(src.shape) or (1,))
        if src.ndim != index.ndim:
            raise ValueError(f"{op}: src of shape {tuple(src.shape)} and index of shape "
                             f"{index.shape} must have the same number of dimensions")
    for axis, n in enumerate(index.shape):
        too_big = (axis != d and n > shape[axis]) or (src_is_tensor and n > src.shape[axis])
        if too_big:
            raise ValueError(
                f"{op}: index of shape {index.shape} is larger than input of shape "
                f"{tuple(x.shape)} or src of shape {tuple(getattr(src, 'shape', ()))} in "
                f"dimension {axis}; index may exceed only input, and only in dim {dim}")
    bad = index[(index < 0) | (index >= shape[d])]
    if bad.size:
        raise IndexError(f"{op}: index {bad.flat[0]} is out of range for dimension {d} with "
                         f"size {shape[d]}; expected 0 <= index < {shape[d]}")
    if src_is_tensor and tuple(src.shape) != index.shape:
        src = read_at(src, tuple(slice(0, n) for n in index.shape))
    return d, along_dim(index, d), src


def _on_at_least_1d(x, compute):
    """Run ``compute`` on x as 1-d when it is 0-d (PyTorch treats it as one element)."""
    if x.ndim:
        return compute(x)
    return compute(x.reshape(1)).reshape(())


@register("torch", "Tensor", inplace=True)
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """``out[index[i][j]][j] = src[i][j]`` (dim=0; likewise for any dim), or ``value``.

    ``reduce="add"`` or ``"multiply"`` combines with what is there instead (PyTorch's
    older form of ``scatter_reduce``).
    """
    if src is None or not isinstance(src, Tensor):
        src, value = None, value if src is None else src
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src (a tensor) and value (a number)")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        if src is None:
            src = input.new_full(tuple(_integer_array(input, index, "scatter").shape), value)
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    d, positions, values = _scatter_operands(input, dim, index, src if value is None else value,
                                             "scatter")
    return _on_at_least_1d(input, lambda x: Scatter.apply(x, values, positions))


@register("torch", "Tensor", inplace=True)
def scatter_add(input, dim, index, src):
    """``out[index[i][j]][j] += src[i][j]`` (dim=0; likewise for any dim), repeats adding up."""
    d, positions, src = _scatter_operands(input, dim, index, src, "scatter_add")
    return _on_at_least_1d(input, lambda x: x + ScatterAdd.apply(src, positions, x.shape))


@register("torch", "Tensor", inplace=True)
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into ``input`` at ``index`` along ``dim`` with ``reduce`` ("sum",
    "prod", "mean", "amax" or "amin"); ``include_self=False`` leaves input's values at the
    written positions out. Positions nothing is written to keep input's value."""
    d, positions, src = _scatter_operands(input, dim, index, src, "scatter_reduce")
    return _on_at_least_1d(input, lambda x: _reduce_into(x, src, positions, reduce,
                                                         include_self, "scatter_reduce"))


def _reduce_into(x, src, positions, reduce, include_self, op):
    if reduce not in _REDUCTIONS:
        raise ValueError(f"{op}: reduce must be one of {_REDUCTIONS}, got {reduce!r}")
    if reduce in ("prod", "amax", "amin"):
        return ScatterReduce.apply(x, src, positions, reduce, include_self)
    base = x if include_self else Scatter.apply(x, 0.0, positions)
    total = base + ScatterAdd.apply(src, positions, x.shape)
    if reduce == "sum":
        return total
    xp = array_module(x.array)
    count = xp.ones(x.shape, dtype=np.int64)
    if not include_self:
        count[positions] = 0
    backend_of(count).add_at(count, positions, 1)
    count = xp.maximum(count, 1)  # positions nothing went to keep x's value
    if x.dtype.kind in "iub":
        return Tensor._make((total.array // count).astype(x.dtype), False, None)
    return total / _constant(count, x.dtype)


# ------------------------------------------------------------ index_* ops


def _along_dim_operands(input, dim, index, source, op):
    """``(d, positions)`` for writing ``source`` (input's shape but index's length at dim)
    into input at ``index`` (1-d) along ``dim``; input and source at least 1-d."""
    x = input
    index = _integer_array(x, index, op).reshape(-1)
    d = _check_dim(dim, x.ndim, op)
    shape, source_shape = tuple(x.shape) or (1,), tuple(source.shape) or (1,)
    expected = shape[:d] + (index.size,) + shape[d + 1:]
    if source_shape != expected:
        raise ValueError(f"{op}: source of shape {tuple(source.shape)} does not fit input of "
                         f"shape {tuple(x.shape)} with {index.size} indices along dim {d}; "
                         f"expected shape {expected}")
    bad = index[(index < -shape[d]) | (index >= shape[d])]
    if bad.size:
        raise IndexError(f"{op}: index {bad.flat[0]} is out of range for dimension {d} with "
                         f"size {shape[d]}")
    index = index % shape[d] if shape[d] else index
    xp = array_module(index)
    full = xp.broadcast_to(index.reshape((1,) * d + (-1,) + (1,) * (len(shape) - d - 1)),
                           source_shape)
    return d, along_dim(full, d)


def _source_1d(source):
    return source.reshape(tuple(source.shape) or (1,))


@register("torch", "Tensor", inplace=True)
def index_add(input, dim, index, source, *, alpha=1):
    """``out[..., index[i], ...] += alpha * source[..., i, ...]`` along ``dim``, repeats
    adding up."""
    d, positions = _along_dim_operands(input, dim, index, source, "index_add")
    scaled = _source_1d(source) if alpha == 1 else _source_1d(source) * alpha
    return _on_at_least_1d(input, lambda x: x + ScatterAdd.apply(scaled, positions, x.shape))


@register("torch", "Tensor", inplace=True)
def index_copy(input, dim, index, source):
    """``out[..., index[i], ...] = source[..., i, ...]`` along ``dim``."""
    d, positions = _along_dim_operands(input, dim, index, source, "index_copy")
    return _on_at_least_1d(input, lambda x: Scatter.apply(x, _source_1d(source), positions))


@register("torch", "Tensor", inplace=True)
def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """Reduce ``source`` into ``input`` at ``index`` along ``dim`` with ``reduce`` ("prod",
    "mean", "amax" or "amin"), as ``scatter_reduce`` with index spread over source."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise ValueError(f"index_reduce: reduce must be 'prod', 'mean', 'amax' or 'amin', got "
                         f"{reduce!r}")
    d, positions = _along_dim_operands(input, dim, index, source, "index_reduce")
    return _on_at_least_1d(input, lambda x: _reduce_into(
        x, _source_1d(source), positions, reduce, include_self, "index_reduce"))


@register("torch", "Tensor", inplace=True)
def index_fill(input, dim, index, value):
    """``input`` with ``value`` (a number or 0-d tensor) at ``index`` along ``dim``; value's
    gradient is the sum of the gradient over the filled entries."""
    x = input
    index = _integer_array(x, index, "index_fill").reshape(-1)
    d = _check_dim(dim, x.ndim, "index_fill")
    size = x.shape[d] if x.ndim else 1
    bad = index[(index < -size) | (index >= size)]
    if bad.size:
        raise IndexError(f"index_fill: index {bad.flat[0]} is out of range for dimension {d} "
                         f"with size {size}")
    filled = array_module(index).zeros(tuple(x.shape) or (1,), dtype=bool)
    filled[(slice(None),) * d + (index,)] = True
    return _fill(x, filled.reshape(x.shape), value, "index_fill")


@register("torch", "Tensor", inplace=True)
def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or 0-d tensor) where ``mask`` (bool, broadcast)
    is True."""
    mask = backend_of(input.array).xp.asarray(data(mask))
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {mask.dtype}")
    return _fill(input, mask, value, "masked_fill")


def _fill(x, mask, value, op):
    if isinstance(value, Tensor):
        if value.ndim:
            raise ValueError(f"{op}: value must be a number or a 0-d tensor, got a tensor of "
                             f"shape {tuple(value.shape)}")
        if x.dtype.kind != "f":
            value = value.detach()
    elif x.dtype.kind in "iub" and isinstance(value, float):
        value = int(value) if x.dtype.kind != "b" else bool(value)
    out = where(_constant(mask, bool), value, x)
    return out if out.dtype == x.dtype else out.to(x.dtype)


@register("torch", "Tensor", inplace=True)
def masked_scatter(input, mask, source):
    """``input`` with the first elements of ``source`` (in order) written where ``mask``
    (bool, broadcast with input) is True."""
    x = input
    xp = backend_of(x.array).xp
    mask = xp.asarray(data(mask))
    if mask.dtype != bool:
        raise TypeError(f"masked_scatter: mask must be a bool tensor, got dtype {mask.dtype}")
    try:
        shape = xp.broadcast_shapes(tuple(x.shape), mask.shape)
    except ValueError:
        raise ValueError(f"masked_scatter: mask of shape {mask.shape} cannot be broadcast with "
                         f"input of shape {tuple(x.shape)}") from None
    mask = xp.broadcast_to(mask, shape)
    count = int(mask.sum())
    if count > source.numel():
        raise ValueError(f"masked_scatter: the mask selects {count} elements but source has "
                         f"only {source.numel()}")
    if tuple(x.shape) != shape:
        x = x.expand(shape)
    values = source.reshape(-1)
    if count != source.numel():
        values = read_at(values, (slice(0, count),))
    return Scatter.apply(x, values if x.dtype.kind == "f" else values.detach(), (mask,))


@register("torch", "Tensor", inplace=True)
def index_put(input, indices, values, accumulate=False):
    """``input`` with ``values`` (broadcast) written at ``input[indices]`` (a tuple of int or
    bool tensors, or None for all of a dim), added there with ``accumulate=True``."""
    x = input
    index = normalize_index(tuple(slice(None) if i is None else i for i in indices),
                            "index_put", array_module(x.array))
    try:
        selected = array_module(x.array).empty(tuple(x.shape), dtype=bool)[index].shape
    except IndexError as error:
        raise IndexError(f"index_put: the indices do not fit input of shape "
                         f"{tuple(x.shape)} ({error})") from None
    if not isinstance(values, Tensor):
        values = x.new_tensor(values)
    if tuple(values.shape) != selected:
        values = values.expand(selected)
    if accumulate:
        return x + IndexAdd.apply(values, index, tuple(x.shape))
    return Scatter.apply(x, values, index)


@register("torch", "Tensor", inplace=True)
def put(input, index, source, accumulate=False):
    """``input`` read as if flattened, with ``source`` written at ``index`` (negative counts
    from the end), added there with ``accumulate=True``."""
    x = input
    index = _integer_array(x, index, "put").reshape(-1)
    n = x.numel()
    bad = index[(index < -n) | (index >= n)]
    if bad.size:
        raise IndexError(f"put: index {bad.flat[0]} is out of range for a tensor of "
                         f"{n} elements (shape {tuple(x.shape)})")
    if source.numel() != index.size:
        raise ValueError(f"put: source has {source.numel()} elements but index has "
                         f"{index.size}; they must match")
    positions = (index % n if n else index,)
    flat, values = x.reshape(-1), source.reshape(-1)
    if accumulate:
        out = flat + ScatterAdd.apply(values, positions, (n,))
    else:
        out = Scatter.apply(flat, values, positions)
    return out.reshape(x.shape)
