"""Shape ops: the same numbers, arranged differently.

Their derivatives move the gradient back into the input's arrangement:
the adjoint of reshape is reshape back, of a permutation its inverse, and of
broadcasting (copying along dimensions) the sum over those dimensions:
``broadcast_to`` and ``sum_to_shape`` are each other's backward (both in
``chainrule.autograd.broadcasting``, since the engine needs them too).
Reshapes, permutations and broadcasts are views: they share the input's
memory and its version counter, as in PyTorch.
"""

import math

import numpy as np

from chainrule.autograd.broadcasting import View, broadcast_to_shape
from chainrule.registry import register
from chainrule.tensor import _check_dim


class Reshape(View):
    """The same elements in a new shape;  the gradient is reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        try:
            return x.array.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} ({x.array.size} "
                f"elements) into shape {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape), None


class Permute(View):
    """Dimensions reordered by ``dims``;  the gradient goes back by the inverse order."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.array.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for position, d in enumerate(ctx.dims):
            inverse[d] = position
        return grad.permute(tuple(inverse)), None


@register("torch", "Tensor")
def reshape(input, *shape):
    """The same elements in ``shape`` (one dimension may be -1, inferred).

    ``reshape(x, (2, 3))`` and ``x.reshape(2, 3)`` both work, as in PyTorch.
    """
    shape = _shape_arg(shape, "reshape")
    if input.shape == shape:
        return input
    return Reshape.apply(input, shape)


@register("Tensor")
def view(input, *shape):
    """``reshape`` as a view; unlike PyTorch's, it never needs a contiguous tensor."""
    return reshape(input, *shape)


@register("torch", "Tensor")
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one."""
    if input.ndim == 0:
        return reshape(input, 1)
    start = _check_dim(start_dim, input.ndim, "flatten")
    end = _check_dim(end_dim, input.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = math.prod(input.shape[start:end + 1])
    return reshape(input, input.shape[:start] + (merged,) + input.shape[end + 1:])


@register("torch", "Tensor")
def permute(input, *dims):
    """Dimensions reordered: ``out.shape[i] = input.shape[dims[i]]``."""
    dims = _shape_arg(dims, "permute")
    ndim = input.ndim
    if sorted(d % max(ndim, 1) for d in dims) != list(range(ndim)) or len(dims) != ndim:
        raise ValueError(
            f"permute: dims {dims} are not a permutation of the {ndim} dimensions of a "
            f"tensor of shape {tuple(input.shape)}"
        )
    return Permute.apply(input, tuple(d % ndim for d in dims))


@register("torch", "Tensor", aliases=("swapdims",))
def transpose(input, dim0, dim1):
    """Swap two dimensions."""
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    dims = list(range(input.ndim))
    d0 = _check_dim(dim0, input.ndim, "transpose")
    d1 = _check_dim(dim1, input.ndim, "transpose")
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, tuple(dims))


@register("torch", "Tensor")
def swapaxes(input, axis0, axis1):
    """``transpose``, in numpy's words."""
    return transpose(input, axis0, axis1)


@register("Tensor", name="mT", is_property=True)
def matrix_transpose(input):
    """``x.mT``: the last two dimensions swapped."""
    if input.ndim < 2:
        raise ValueError(f"mT: needs at least 2 dimensions, got shape {tuple(input.shape)}")
    return transpose(input, -2, -1)


@register("Tensor", name="T", is_property=True)
def reversed_transpose(input):
    """``x.T``: all dimensions reversed (a matrix transpose for 2-d)."""
    if input.ndim < 2:
        return input
    return Permute.apply(input, tuple(reversed(range(input.ndim))))


@register("torch", "Tensor")
def squeeze(input, dim=None):
    """Drop dimensions of size 1 (all of them, or those in ``dim`` that have size 1)."""
    if dim is None:
        shape = tuple(n for n in input.shape if n != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {_check_dim(d, input.ndim, "squeeze") for d in dims}
        shape = tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1))
    return reshape(input, shape)


@register("torch", "Tensor")
def unsqueeze(input, dim):
    """Insert a dimension of size 1 at ``dim``."""
    d = _check_dim(dim, input.ndim + 1, "unsqueeze")
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


@register("torch", "Tensor")
def broadcast_to(input, *size):
    """A view of ``input`` copied along new or size-1 dimensions to ``size``."""
    return broadcast_to_shape(input, _shape_arg(size, "broadcast_to"))


@register("Tensor")
def expand(input, *sizes):
    """``broadcast_to``, where -1 keeps a dimension's size, as ``torch.Tensor.expand``."""
    sizes = _shape_arg(sizes, "expand")
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes given for a tensor of {input.ndim} "
                         "dimensions")
    shape = tuple(input.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    return broadcast_to_shape(input, shape)


def _shape_arg(shape, op):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    for n in shape:  # the common case first: plain ints, given as a tuple
        if type(n) is not int:
            break
    else:
        return shape if type(shape) is tuple else tuple(shape)
    for n in shape:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{op}: sizes must be ints, got {type(n).__name__} {n!r}")
    return tuple(int(n) for n in shape)
