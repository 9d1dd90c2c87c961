"""``embedding``: rows of a weight matrix picked by integer indices.

Two Functions, each the other's adjoint: ``GatherRows`` picks rows,
``ScatterAddRows`` adds rows back where they came from (repeats adding up);
each one's backward is the other, so derivatives of every order work.

    >>> import chainrule as cr
    >>> embedding(cr.tensor([2, 0]), cr.arange(6.0).reshape(3, 2))
    tensor([[4., 5.],
            [0., 1.]], dtype=float32)
"""

from chainrule.autograd.function import Function
from chainrule.device import array_module, backend_of
from chainrule.registry import register
from chainrule.tensor import Tensor


class GatherRows(Function):
    """weight[indices], the rows picked by each index;  d/dweight scatter-adds the rows back.

    NOTE: as in PyTorch's ``embedding``, the row ``padding_idx`` gets no
    gradient although the forward reads it. With ``zero_padding`` (the
    backward of ``ScatterAddRows``), rows picked at ``padding_idx`` are 0
    instead, which makes the two ops exact adjoints.
    """

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, zero_padding):
        ctx.indices, ctx.padding_idx, ctx.num_rows = indices, padding_idx, weight.shape[0]
        rows = array_module(weight.data).take(weight.data, indices, axis=0)  # a copy, even 0-d
        if zero_padding and padding_idx is not None:
            rows[indices == padding_idx] = 0
        return rows

    @staticmethod
    def backward(ctx, grad):
        return ScatterAddRows.apply(grad, indices=ctx.indices, num_rows=ctx.num_rows,
                                    padding_idx=ctx.padding_idx)


class ScatterAddRows(Function):
    """out[r] = sum of the rows of g whose index is r (0 for padding_idx);  d/dg gathers the rows.

    The adjoint of ``GatherRows``.
    """

    @staticmethod
    def forward(ctx, grad_rows, indices, num_rows, padding_idx):
        ctx.indices, ctx.padding_idx = indices, padding_idx
        rows = grad_rows.data
        backend = backend_of(rows)
        out = backend.xp.zeros((num_rows,) + rows.shape[indices.ndim:], rows.dtype)
        backend.add_at(out, indices, rows)  # unlike +=, adds every repeat of an index
        if padding_idx is not None:
            out[padding_idx] = 0
        return out

    @staticmethod
    def backward(ctx, grad):
        return GatherRows.apply(grad, indices=ctx.indices, padding_idx=ctx.padding_idx,
                                zero_padding=True)


@register("nn.functional")
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer indices ``input``.

    The result has shape input.shape + (dim,). Repeated indices add their
    gradients; the row ``padding_idx`` gets none, as in PyTorch.
    ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not supported.
    """
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported; leave them at their defaults")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"embedding: weight must be a 2-d Tensor (num_embeddings, "
                         f"embedding_dim), got {_describe(weight)}")
    indices = input.data if isinstance(input, Tensor) else backend_of(weight.data).asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers (int64 or int32), got dtype "
                        f"{indices.dtype}; convert them with .long()")
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


def _describe(value):
    if isinstance(value, Tensor):
        return f"shape {tuple(value.shape)}"
    return type(value).__name__

