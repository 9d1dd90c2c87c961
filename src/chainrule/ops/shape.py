"""Shape ops: the same numbers, arranged differently.

Their derivatives move the gradient back into the input's arrangement:
the adjoint of reshape is reshape back, of a permutation its inverse, and of
broadcasting (copying along dimensions) the sum over those dimensions:
``broadcast_to`` and ``sum_to_shape`` are each other's backward.
Reshapes, permutations and broadcasts are views: they share the input's
memory and its version counter, as in PyTorch.
"""

import numpy as np

from chainrule.autograd.broadcasting import BroadcastTo, View, broadcast_to_shape, sum_to_shape
from chainrule.autograd.function import Function
from chainrule.tensor import _check_dim

__all__ = ["reshape", "view", "flatten", "transpose", "permute", "squeeze", "unsqueeze",
           "expand", "broadcast_to", "sum_to_shape", "matrix_transpose"]


class Reshape(View):
    """The same elements in a new shape;  the gradient is reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        try:
            return x.data.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} ({x.data.size} "
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
        return x.data.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(tuple(np.argsort(ctx.dims))), None


def reshape(x, *shape):
    """The same elements in ``shape`` (one dimension may be -1, inferred)."""
    shape = _shape_arg(shape, "reshape")
    if x.shape == shape:
        return x
    return Reshape.apply(x, shape)


view = reshape


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    start = _check_dim(start_dim, x.ndim, "flatten")
    end = _check_dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(x.shape[start:end + 1]))
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def permute(x, *dims):
    dims = _shape_arg(dims, "permute")
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)) or len(dims) != x.ndim:
        raise ValueError(
            f"permute: dims {dims} are not a permutation of the {x.ndim} dimensions of a "
            f"tensor of shape {tuple(x.shape)}"
        )
    return Permute.apply(x, tuple(d % x.ndim for d in dims))


def transpose(x, dim0, dim1):
    """Swap two dimensions."""
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    dims = list(range(x.ndim))
    d0, d1 = _check_dim(dim0, x.ndim, "transpose"), _check_dim(dim1, x.ndim, "transpose")
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, tuple(dims))


def matrix_transpose(x):
    """``x.mT``: swap the last two dimensions."""
    if x.ndim < 2:
        raise ValueError(f"mT: needs at least 2 dimensions, got shape {tuple(x.shape)}")
    return transpose(x, -2, -1)


def T(x):
    """``x.T``: all dimensions reversed (a matrix transpose for 2-d)."""
    return x if x.ndim < 2 else Permute.apply(x, tuple(reversed(range(x.ndim))))


def squeeze(x, dim=None):
    """Drop dimensions of size 1 (all of them, or ``dim`` if it has size 1)."""
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = dim if isinstance(dim, tuple) else (dim,)
        dims = {_check_dim(d, x.ndim, "squeeze") for d in dims}
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return reshape(x, shape)


def unsqueeze(x, dim):
    """Insert a dimension of size 1 at ``dim``."""
    d = _check_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def broadcast_to(x, *shape):
    """A view of ``x`` copied along new or size-1 dimensions to ``shape``."""
    shape = _shape_arg(shape, "broadcast_to")
    return broadcast_to_shape(x, shape)


def expand(x, *sizes):
    """``broadcast_to``, where -1 keeps a dimension's size, as ``torch.Tensor.expand``."""
    sizes = _shape_arg(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes given for a tensor of {x.ndim} dimensions")
    shape = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    return broadcast_to(x, shape)


def _shape_arg(shape, op):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    for n in shape:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{op}: sizes must be ints, got {type(n).__name__} {n!r}")
    return tuple(int(n) for n in shape)


METHODS = {
    "reshape": reshape, "view": view, "flatten": flatten, "permute": permute,
    "transpose": transpose, "squeeze": squeeze, "unsqueeze": unsqueeze,
    "expand": expand, "broadcast_to": broadcast_to,
    "mT": property(matrix_transpose), "T": property(T),
}
