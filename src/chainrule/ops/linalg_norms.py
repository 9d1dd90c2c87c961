"""Vector and matrix norms: ``linalg.vector_norm``, ``linalg.matrix_norm``, ``linalg.norm``,
``linalg.cond`` and ``torch.norm``.

``vector_norm`` is a primitive, for PyTorch's gradient conventions at zero
(0 where the norm is 0, a subgradient) and at ties of the inf-norm (shared
evenly). The matrix norms compose it, sums, maxima and singular values.
"""

import math
import numbers

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.elementwise import abs as elementwise_abs
from chainrule.ops.elementwise import where
from chainrule.ops.linalg_decomp_base import check_matrix, check_tensor, constant, eye, solve
from chainrule.ops.linalg_decompositions import svdvals
from chainrule.registry import register
from chainrule.tensor import Tensor


def _dims(dim, ndim, op):
    """``dim`` (None, an int or a sequence) as a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: dimension {d} is out of range for a tensor of {ndim} dims")
        out.append(d % max(ndim, 1))
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {dims} names a dimension twice")
    return tuple(sorted(out)) if ndim else ()


class VectorNorm(Function):
    """(sum |x|**p)**(1/p) over dims;  d/dx = sign(x) |x|**(p-1) / norm**(p-1), 0 where the norm is 0.

    p = inf: the gradient is shared evenly by the entries of largest |x|;
    p = 0 (the count of non-zeros) has gradient 0.
    """

    @staticmethod
    def forward(ctx, x, ord, dims, keepdim):
        ctx.save_for_backward(x)
        ctx.ord, ctx.dims, ctx.keepdim = ord, dims, keepdim
        xp = array_module(x.array)
        size = xp.abs(x.array)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if ord == math.inf:
                out = size.max(axis=dims, keepdims=keepdim, initial=0)
            elif ord == -math.inf:
                out = size.min(axis=dims, keepdims=keepdim, initial=math.inf)
            elif ord == 0:
                out = (size != 0).sum(axis=dims, keepdims=keepdim).astype(x.array.dtype)
            elif ord == 1:
                out = size.sum(axis=dims, keepdims=keepdim)
            elif ord == 2:
                out = xp.sqrt((size * size).sum(axis=dims, keepdims=keepdim))
            else:
                out = (size ** ord).sum(axis=dims, keepdims=keepdim) ** (1.0 / ord)
        return ctx.save_result(xp.asarray(out, dtype=x.array.dtype))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.ord
        norm = ctx.result
        if not ctx.keepdim:
            kept = tuple(1 if d in ctx.dims else s for d, s in enumerate(x.shape))
            grad, norm = grad.reshape(kept), norm.reshape(kept)
        xp = array_module(x.array)
        sign = constant(xp.sign(x.array))
        if p == 0:
            return constant(xp.zeros_like(x.array)), None, None, None
        if p == 1:
            return sign * grad, None, None, None
        if math.isinf(p):
            mask = (xp.abs(x.array) == norm.array) | xp.isnan(x.array)
            count = mask.sum(axis=ctx.dims, keepdims=True)
            return sign * (grad * constant(mask / count)), None, None, None
        # PyTorch's formulas, masks included: differentiated again where x or the norm is 0
        # they give nan, as PyTorch's double backward does
        zero_norm = constant(norm.array == 0)
        if p < 1:
            scaled = where(constant(x.array == 0), 0.0, sign * elementwise_abs(x) ** (p - 1))
            return scaled * grad * norm ** (1 - p), None, None, None
        if p == 2:
            return grad * where(zero_norm, 0.0, x / norm), None, None, None
        scale = where(zero_norm, 0.0, grad / norm ** (p - 1))
        scaled = sign * elementwise_abs(x) ** (p - 1) if p < 2 else x * elementwise_abs(x) ** (p - 2)
        return scaled * scale, None, None, None


def p_norm(x, p, dims, keepdim=False):
    """The ``p``-norm of ``x`` over ``dims`` (a tuple of dims; ``()`` reduces nothing): the one
    norm primitive that the distances, ``dist``, ``cdist`` and ``renorm`` are made of."""
    return VectorNorm.apply(x, float(p), tuple(dims), bool(keepdim))


def _floating(x, dtype, op):
    check_tensor(x, op, "input")
    if dtype is not None:
        x = x.to(dtype)
    if np.dtype(x.dtype).kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point tensor as input, got "
                           f"{np.dtype(x.dtype)}; convert it with .double() or pass dtype=")
    return x


@register("linalg")
def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(sum |x|**ord)**(1/ord) over dim (all by default); ord inf / -inf: max / min |x|; 0: count."""
    x = _floating(input, dtype, "linalg.vector_norm")
    if isinstance(ord, Tensor) or not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    dims = _dims(dim, x.ndim, "linalg.vector_norm")
    if ord < 0 or math.isinf(ord):
        empty = [d for d in dims if x.shape[d] == 0] or (x.numel() == 0 and dims == ())
        if empty:
            raise RuntimeError(f"linalg.vector_norm: cannot compute the {ord} norm of a tensor "
                               f"of shape {tuple(x.shape)} over dims {dims} that are empty")
    return VectorNorm.apply(x, float(ord), dims, bool(keepdim))


def _matrix_dims(dim, ndim, op):
    if ndim < 2:
        raise RuntimeError(f"{op}: the input must have at least 2 dimensions, got {ndim}")
    if isinstance(dim, numbers.Integral) or len(tuple(dim)) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple of dims, got {dim!r}")
    d0, d1 = (d % ndim for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different, got {tuple(dim)}")
    return d0, d1


def _drop(x, dims):
    """Squeeze the (kept, size 1) dims."""
    shape = [s for d, s in enumerate(x.shape) if d not in dims]
    return x.reshape(tuple(shape))


@register("linalg")
def matrix_norm(input, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """'fro', 'nuc', inf / -inf (max / min row sum of |A|), 1 / -1 (column sums), 2 / -2 (largest /
    smallest singular value), over the two dims in ``dim``."""
    op = "linalg.matrix_norm"
    A = _floating(input, dtype, op)
    d0, d1 = _matrix_dims(dim, A.ndim, op)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        others = [d for d in range(A.ndim) if d not in (d0, d1)]
        values = svdvals(A.permute(*others, d0, d1))
        out = values.sum(-1) if ord == "nuc" else (values.amax(-1) if ord == 2 else values.amin(-1))
        if keepdim:
            for d in sorted((d0, d1)):
                out = out.unsqueeze(d)
        return out
    if ord in (1, -1, math.inf, -math.inf):
        summed, extreme = (d0, d1) if abs(ord) == 1 else (d1, d0)
        if A.shape[extreme] == 0:
            raise RuntimeError(f"{op}: cannot compute the {ord} norm of an empty matrix "
                               f"(shape {tuple(A.shape)})")
        sums = elementwise_abs(A).sum(summed, keepdim=True)
        out = sums.amax(extreme, keepdim=True) if ord > 0 else sums.amin(extreme, keepdim=True)
        return out if keepdim else _drop(out, (d0, d1))
    raise RuntimeError(f"{op}: order {ord!r} is not supported; use 'fro', 'nuc', inf, -inf, 1, "
                       "-1, 2 or -2")


@register("linalg")
def norm(input, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm (1 dim, or ord None over all) or a matrix norm (2 dims, or a 2-d A with ord)."""
    op = "linalg.norm"
    A = input
    check_tensor(A, op, "A")
    if dim is not None:
        dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) != 1:
            raise RuntimeError(f"{op}: dim must be an int or a 1- or 2-tuple, got {dim!r}")
        if isinstance(ord, str):
            raise RuntimeError(f"{op}: order {ord!r} is for matrices; a vector norm needs a number")
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise RuntimeError(f"{op}: if dim is not given but ord is, the input must be 1-d or 2-d, got "
                       f"shape {tuple(A.shape)}; pass dim")


@register("torch", "Tensor", name="norm")
def torch_norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm``: p 'fro' is the 2-norm of the entries, 'nuc' the nuclear norm; a number p is
    the vector p-norm over dim (all dims by default), also for matrices."""
    check_tensor(input, "norm", "input")
    dims = None if dim is None else ((dim,) if isinstance(dim, numbers.Integral) else tuple(dim))
    if isinstance(p, str):
        if p == "fro" and (dims is None or len(dims) <= 2):
            return vector_norm(input, 2, dims, keepdim, dtype=dtype)
        return matrix_norm(input, p, tuple(range(input.ndim)) if dims is None else dims, keepdim,
                           dtype=dtype)
    return vector_norm(input, 2 if p is None else p, dims, keepdim, dtype=dtype)


@register("linalg")
def cond(input, p=None):
    """The condition number: largest / smallest singular value (p None or 2), else
    matrix_norm(A, p) * matrix_norm(A^-1, p)."""
    op = "linalg.cond"
    A = input
    check_matrix(A, op, "A", square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        values = svdvals(A)
        if values.shape[-1] == 0:
            return values.sum(-1)
        largest, smallest = values[..., 0], values[..., -1]
        return largest / smallest if p != -2 else smallest / largest
    n = A.shape[-1]
    inverse = solve(A, eye(n, n, A))
    return matrix_norm(A, p) * matrix_norm(inverse, p)
