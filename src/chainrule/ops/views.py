"""Views: one tensor's elements read in another arrangement, and their ``*_copy`` twins.

``select``, ``narrow``, ``movedim``, ``t``, ``ravel``, ``unflatten``,
``expand_as``, ``view_as``, ``reshape_as`` and ``Tensor.unfold`` are built
from the primitive views (``reshape``, ``permute``, broadcasting, indexing),
so their gradients are the primitives' adjoints: the gradient is read back
into the input's arrangement, summed where an element was read more than once
(broadcast or overlapping windows). ``sum_to_size`` is broadcasting's adjoint.

PyTorch's ``X_copy`` (``torch.permute_copy``, ``torch.view_copy``, ...) is
the op ``X`` whose result owns its memory: here, ``X`` followed by a copy.

    >>> import chainrule as cr
    >>> x = cr.arange(6.0).reshape(2, 3)
    >>> x.select(1, -1).tolist()
    [2.0, 5.0]
    >>> x.movedim(0, 1).shape
    (3, 2)
    >>> cr.arange(5.0).unfold(0, 2, 2).tolist()
    [[0.0, 1.0], [2.0, 3.0]]
"""

import math

import numpy as np

from chainrule.autograd.broadcasting import sum_to_shape
from chainrule.device import array_module
from chainrule.ops.conversion import clone
from chainrule.ops.shape import (_shape_arg, expand, permute, reshape, squeeze, transpose,
                                 unsqueeze)
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

__all__ = []  # the ops are registered


# ------------------------------------------------------------ picking along a dim


@register("torch", "Tensor")
def select(input, dim, index):
    """The slice ``index`` along ``dim``, that dimension removed: ``x[..., index, ...]``."""
    _has_dims(input, "select")
    d = _check_dim(dim, input.ndim, "select")
    size = input.shape[d]
    i = _int(index, "select", "index")
    if not -size <= i < size:
        raise IndexError(f"select: index {i} is out of range for dimension {dim} of size "
                         f"{size} (tensor of shape {tuple(input.shape)})")
    return input[(slice(None),) * d + (i % size,)]


@register("torch", "Tensor")
def narrow(input, dim, start, length):
    """``length`` elements along ``dim`` from ``start`` (which may count from the end)."""
    _has_dims(input, "narrow")
    d = _check_dim(dim, input.ndim, "narrow")
    size = input.shape[d]
    begin, length = _int(start, "narrow", "start"), _int(length, "narrow", "length")
    if not -size <= begin <= size:
        raise IndexError(f"narrow: start {begin} is out of range for dimension {dim} of size "
                         f"{size}")
    begin %= max(size, 1)
    if length < 0 or begin + length > size:
        raise RuntimeError(f"narrow: start ({begin}) + length ({length}) exceeds the size "
                           f"{size} of dimension {dim} (tensor of shape {tuple(input.shape)})")
    return input[(slice(None),) * d + (slice(begin, begin + length),)]


@register("torch", "Tensor")
def narrow_copy(input, dim, start, length):
    """``narrow``, as a tensor with its own memory."""
    return clone(narrow(input, dim, start, length))


def _has_dims(x, op):
    if x.ndim == 0:
        raise IndexError(f"{op}: cannot be applied to a 0-d tensor; it has no dimension to "
                         "pick from (reshape it to 1-d first)")


def _int(value, op, name):
    if isinstance(value, Tensor):
        if value.numel() != 1 or value.dtype.kind not in "iu":
            raise TypeError(f"{op}: {name} must be an int or a one-element integer tensor, got "
                            f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}")
        return int(value.item())
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


# ------------------------------------------------------------ rearranging dims


@register("torch", "Tensor", aliases=("moveaxis",))
def movedim(input, source, destination):
    """Dimensions ``source`` moved to positions ``destination``; the others keep their order."""
    sources = _dims(source, input.ndim, "movedim")
    destinations = _dims(destination, input.ndim, "movedim")
    if len(sources) != len(destinations):
        raise ValueError(f"movedim: source {source} and destination {destination} must name "
                         "the same number of dimensions")
    if len(set(sources)) != len(sources) or len(set(destinations)) != len(destinations):
        raise ValueError(f"movedim: repeated dim in source {source} or destination "
                         f"{destination}")
    order = [d for d in range(input.ndim) if d not in sources]
    for target, moved in sorted(zip(destinations, sources)):
        order.insert(target, moved)
    return permute(input, tuple(order))


def _dims(dims, ndim, op):
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    return [_check_dim(d, ndim, op) for d in dims]


@register("torch", "Tensor")
def t(input):
    """The transpose of a matrix; a 0-d or 1-d tensor is returned as it is."""
    if input.ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 dimensions, got shape "
                         f"{tuple(input.shape)}; use transpose(dim0, dim1) or .mT")
    return transpose(input, 0, -1)


@register("torch", "Tensor")
def ravel(input):
    """The elements as one dimension, in row-major order."""
    return reshape(input, -1)


@register("torch", "Tensor")
def unflatten(input, dim, sizes):
    """Dimension ``dim`` split into ``sizes`` (one of them may be -1, inferred)."""
    d = _check_dim(dim, input.ndim, "unflatten")
    sizes = _shape_arg((sizes,), "unflatten")
    if not sizes:
        raise ValueError("unflatten: sizes must be non-empty")
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) > 1 or (-1 not in sizes and known != input.shape[d]):
        raise ValueError(f"unflatten: sizes {sizes} do not multiply to {input.shape[d]}, the "
                         f"size of dimension {dim} of a tensor of shape {tuple(input.shape)}")
    if -1 in sizes:
        if known == 0 or input.shape[d] % known:
            raise ValueError(f"unflatten: sizes {sizes} cannot be completed to multiply to "
                             f"{input.shape[d]}, the size of dimension {dim}")
        sizes = tuple(input.shape[d] // known if n == -1 else n for n in sizes)
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1:])


# ------------------------------------------------------------ shaped like another


@register("Tensor")
def expand_as(input, other):
    """``input`` broadcast to ``other``'s shape."""
    return expand(input, tuple(_tensor(other, "expand_as").shape))


@register("Tensor")
def view_as(input, other):
    """``input`` viewed with ``other``'s shape."""
    return reshape(input, tuple(_tensor(other, "view_as").shape))


@register("Tensor")
def reshape_as(input, other):
    """``input`` reshaped to ``other``'s shape."""
    return reshape(input, tuple(_tensor(other, "reshape_as").shape))


@register("Tensor")
def sum_to_size(input, *size):
    """``input`` summed down to ``size``, a shape it was broadcast from (broadcasting's adjoint)."""
    shape = _shape_arg(size, "sum_to_size")
    lead = input.ndim - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, input.shape[lead:])):
        raise ValueError(f"sum_to_size: size {shape} is not expandable to the tensor's shape "
                         f"{tuple(input.shape)}")
    return sum_to_shape(input, shape)


def _tensor(other, op):
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: other must be a Tensor, got {type(other).__name__}")
    return other


# ------------------------------------------------------------ windows


@register("Tensor", name="unfold")
def unfold_windows(input, dimension, size, step):
    """Windows of ``size`` elements every ``step`` along ``dimension``, as a new last dim.

    ``out.shape = shape with shape[dimension] -> (shape[dimension] - size) // step + 1,
    plus (size,)``. It reads x at window positions; where windows overlap, an
    element's gradient is the sum over the windows that read it.
    """
    d = _check_dim(dimension, input.ndim, "unfold")
    length = input.shape[d] if input.ndim else 1
    size, step = _int(size, "unfold", "size"), _int(step, "unfold", "step")
    if not 0 <= size <= length:
        raise RuntimeError(f"unfold: size {size} must be in [0, {length}], the size of "
                           f"dimension {dimension} (tensor of shape {tuple(input.shape)})")
    if step <= 0:
        raise RuntimeError(f"unfold: step must be positive, got {step}")
    if input.ndim == 0:
        return reshape(input, 1)
    xp = array_module(input.array)
    count = (length - size) // step + 1
    positions = xp.arange(count)[:, None] * step + xp.arange(size)[None, :]
    windows = input[(slice(None),) * d + (positions,)]
    return movedim(windows, d + 1, -1)


@register("torch")
def unfold_copy(input, dimension, size, step):
    """``Tensor.unfold``, as a tensor with its own memory."""
    return clone(unfold_windows(input, dimension, size, step))


# ------------------------------------------------------------ the *_copy twins


@register("torch")
def alias_copy(input):
    """A copy of ``input`` (``torch.alias`` is the tensor itself, as a view)."""
    return clone(input)


@register("torch")
def view_copy(input, size):
    """``view(size)``, as a tensor with its own memory."""
    return clone(reshape(input, _shape_arg((size,), "view_copy")))


@register("torch")
def expand_copy(input, size, *, implicit=False):
    """``expand(size)``, as a tensor with its own memory."""
    return clone(expand(input, _shape_arg((size,), "expand_copy")))


@register("torch")
def permute_copy(input, dims):
    """``permute(dims)``, as a tensor with its own memory."""
    return clone(permute(input, _shape_arg((dims,), "permute_copy")))


@register("torch")
def transpose_copy(input, dim0, dim1):
    """``transpose(dim0, dim1)``, as a tensor with its own memory."""
    return clone(transpose(input, dim0, dim1))


@register("torch")
def t_copy(input):
    """``t()``, as a tensor with its own memory."""
    return clone(t(input))


@register("torch")
def squeeze_copy(input, dim=None):
    """``squeeze(dim)``, as a tensor with its own memory."""
    return clone(squeeze(input, dim))


@register("torch")
def unsqueeze_copy(input, dim):
    """``unsqueeze(dim)``, as a tensor with its own memory."""
    return clone(unsqueeze(input, dim))
