"""Neural-network ops, as in ``torch.nn.functional``: softmax, dropout, embedding.

The convolution and pooling ops live next door, in ``chainrule.ops.convolution``.

``softmax`` and ``log_softmax`` are Functions of their own, for numerical
stability: the forward subtracts each slice's maximum before exponentiating,
so logits of 1e4 give finite values, and the backward is written from the
saved result, with Tensor ops, so it can be differentiated again.

    >>> import chainrule as cr
    >>> cr.tensor([1e4, 0.0]).softmax(dim=0)
    tensor([1., 0.], dtype=float32)
"""

import numbers

import numpy as np

import chainrule.creation as creation
from chainrule.autograd.function import Function
from chainrule.ops.elementwise import exp
from chainrule.tensor import Tensor, _check_dim

__all__ = ["softmax", "log_softmax", "dropout", "embedding"]


class Softmax(Function):
    """s = exp(x) / sum(exp(x)) along dim;  the vector-Jacobian product is s * (g - sum(g * s))."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        exps = np.exp(_shifted(x.data, dim))
        return ctx.save_result(exps / exps.sum(axis=dim, keepdims=True))

    @staticmethod
    def backward(ctx, grad):
        s = ctx.result
        return s * (grad - (grad * s).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    """x - log(sum(exp(x))) along dim;  the vector-Jacobian product is g - exp(result) * sum(g)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        shifted = _shifted(x.data, dim)
        with np.errstate(divide="ignore"):  # an all -inf slice gives nan, as in PyTorch
            log_total = np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        return ctx.save_result(shifted - log_total)

    @staticmethod
    def backward(ctx, grad):
        return grad - exp(ctx.result) * grad.sum(ctx.dim, keepdim=True)


class GatherRows(Function):
    """weight[indices], the rows picked by each index;  its gradient scatter-adds rows back.

    NOTE: as in PyTorch's ``embedding``, the row ``padding_idx`` gets no
    gradient although the forward reads it. With ``zero_padding`` (the
    backward of ``ScatterAddRows``), rows picked at ``padding_idx`` are 0
    instead, which makes the two ops exact adjoints.
    """

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, zero_padding):
        ctx.indices, ctx.padding_idx, ctx.num_rows = indices, padding_idx, weight.shape[0]
        rows = np.take(weight.data, indices, axis=0)  # a copy, even for a 0-d index
        if zero_padding and padding_idx is not None:
            rows[indices == padding_idx] = 0
        return rows

    @staticmethod
    def backward(ctx, grad):
        return ScatterAddRows.apply(grad, indices=ctx.indices, num_rows=ctx.num_rows,
                                    padding_idx=ctx.padding_idx)


class ScatterAddRows(Function):
    """out[r] = sum of the rows of g whose index is r (0 for padding_idx);  adjoint of gathering."""

    @staticmethod
    def forward(ctx, grad_rows, indices, num_rows, padding_idx):
        ctx.indices, ctx.padding_idx = indices, padding_idx
        rows = grad_rows.data
        out = np.zeros((num_rows,) + rows.shape[indices.ndim:], rows.dtype)
        np.add.at(out, indices, rows)  # add.at, unlike +=, adds every repeat of an index
        if padding_idx is not None:
            out[padding_idx] = 0
        return out

    @staticmethod
    def backward(ctx, grad):
        return GatherRows.apply(grad, indices=ctx.indices, padding_idx=ctx.padding_idx,
                                zero_padding=True)


def softmax(input, dim, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``: each slice along ``dim`` becomes a distribution."""
    x = _floating(input, dtype, "softmax")
    return Softmax.apply(x, dim=_reduced_dim(dim, x, "softmax"))


def log_softmax(input, dim, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably as x - max - log(sum(exp(x - max)))."""
    x = _floating(input, dtype, "log_softmax")
    return LogSoftmax.apply(x, dim=_reduced_dim(dim, x, "log_softmax"))


def dropout(input, p=0.5, training=True):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    Composed: ``input * mask`` with a constant mask drawn from chainrule's
    generator (so ``chainrule.manual_seed`` repeats it); the gradient is the
    mask. With ``p=0`` or ``training=False`` the input itself is returned.
    """
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p is the probability of zeroing an element and must be "
                         f"between 0 and 1, got p={p!r}")
    if not training or p == 0:
        return input
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout: input must be a Tensor, got {type(input).__name__}")
    if p == 1:
        return input * np.zeros(input.shape, input.dtype)
    keep = creation.default_generator.random(input.shape) >= p  # read now: manual_seed replaces it
    return input * (keep * input.dtype.type(1 / (1 - p)))


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer indices ``input``.

    The result has shape input.shape + (dim,). Repeated indices add their
    gradients; the row ``padding_idx`` gets none, as in PyTorch.
    """
    indices = input.data if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers (int64 or int32), got dtype "
                        f"{indices.dtype}; convert them with .long()")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"embedding: weight must be a 2-d Tensor (num_embeddings, "
                         f"embedding_dim), got {_describe(weight)}")
    count = weight.shape[0]
    if padding_idx is not None:
        if not -count <= padding_idx < count:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within the "
                             f"{count} embeddings (from {-count} to {count - 1})")
        padding_idx %= count
    outside = (indices < 0) | (indices >= count)
    if outside.any():
        raise IndexError(
            f"embedding: index {indices[outside].flat[0]} is out of range for {count} "
            f"embeddings; indices must be from 0 to {count - 1}"
        )
    return GatherRows.apply(weight, indices=indices, padding_idx=padding_idx, zero_padding=False)


def _shifted(values, dim):
    """values minus the maximum of each slice along dim: exp of it cannot overflow."""
    top = np.max(values, axis=dim, keepdims=True, initial=-np.inf)
    with np.errstate(invalid="ignore"):  # inf - inf = nan, as PyTorch gives for such slices
        return values - top


def _floating(input, dtype, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if dtype is not None:
        input = input.to(dtype)
    if not np.issubdtype(input.dtype, np.floating):
        raise TypeError(f"{op}: expected a floating point tensor, got {input.dtype}; convert it "
                        f"with .float() or pass dtype=")
    return input


def _reduced_dim(dim, x, op):
    """dim as a non-negative axis; None for a 0-d tensor, whose only slice is itself."""
    if dim is None:
        raise TypeError(f"{op}: dim is required (the dimension whose slices are normalized)")
    dim = _check_dim(dim, x.ndim, op)
    return dim if x.ndim else None


def _describe(value):
    if isinstance(value, Tensor):
        return f"shape {tuple(value.shape)}"
    return type(value).__name__


METHODS = {"softmax": softmax, "log_softmax": log_softmax}
