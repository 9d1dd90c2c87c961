"""``embedding``: rows of a weight matrix picked by integer indices.

Two Functions, each the other's adjoint: ``GatherRows`` picks rows,
``ScatterAddRows`` adds rows back where they came from (repeats adding up);
each one's backward is the other, so derivatives of every order work.

    >>> import chainrule as cr
    >>> embedding(cr.tensor([2, 0]), cr.arange(6.0).reshape(3, 2))
    tensor([[4., 5.],
            [0., 1.]])
"""

from chainrule.autograd.function import Function
from chainrule.device import array_module, backend_of
from chainrule.ops.elementwise import where
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
        rows = array_module(weight.array).take(weight.array, indices, axis=0)  # a copy, even 0-d
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
        rows = grad_rows.array
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
    indices = input.array if isinstance(input, Tensor) else backend_of(weight.array).asarray(input)
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



@register("nn.functional")
def one_hot(tensor, num_classes=-1):
    """An int64 tensor of shape tensor.shape + (num_classes,): 1 at each index, 0 elsewhere.

    ``num_classes=-1`` takes one more than the largest index. Not differentiable.
    """
    indices = tensor.array if isinstance(tensor, Tensor) else None
    if indices is None or indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer (int64) tensor of class indices, got "
                        f"{indices.dtype if indices is not None else type(tensor).__name__}")
    xp = array_module(indices)
    if num_classes == -1:
        if indices.size == 0:
            raise RuntimeError("one_hot: cannot infer the number of classes from an empty "
                               "tensor; pass num_classes")
        num_classes = int(indices.max()) + 1
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise RuntimeError(f"one_hot: class values must be in [0, {num_classes}), got values "
                           f"from {int(indices.min())} to {int(indices.max())}")
    out = (indices[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._make(out, False, None)


_BAG_MODES = ("sum", "mean", "max")


@register("nn.functional")
def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """The sum, mean or max of the ``weight`` rows picked by each bag of indices.

    Bags are the rows of a 2-d ``input``, or the runs of a 1-d ``input``
    starting at each of ``offsets`` (with ``include_last_offset`` the last
    offset ends the last bag). Entries equal to ``padding_idx`` are left out
    (and not counted by "mean"); an empty bag gives zeros.
    ``per_sample_weights`` (mode "sum" only) scales each picked row.
    Composed: the rows picked, then one matrix product with the bag
    membership (a max picks each bag's largest row entries), so every
    gradient comes from those ops.
    """
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag: max_norm, scale_grad_by_freq and sparse are "
                                  "not supported; leave them at their defaults")
    if mode not in _BAG_MODES:
        raise ValueError(f"embedding_bag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights is only supported for "
                                  f"mode='sum', got mode={mode!r}")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"embedding_bag: weight must be a 2-d Tensor (num_embeddings, "
                         f"embedding_dim), got {_describe(weight)}")
    indices = input.array if isinstance(input, Tensor) else backend_of(weight.array).asarray(input)
    xp = array_module(weight.array)
    count = weight.shape[0]
    starts, flat = _bag_starts(indices, offsets, include_last_offset, xp)
    if flat.size and (flat.min() < 0 or flat.max() >= count):
        raise IndexError(f"embedding_bag: index out of range for {count} embeddings; indices "
                         f"must be from 0 to {count - 1}")
    if padding_idx is not None:
        if not -count <= padding_idx < count:
            raise ValueError(f"embedding_bag: padding_idx {padding_idx} must be within the "
                             f"{count} embeddings")
        padding_idx %= count
    positions = xp.arange(flat.shape[0])
    member = (positions[None, :] >= starts[:-1, None]) & (positions[None, :] < starts[1:, None])
    if padding_idx is not None:
        member &= (flat != padding_idx)[None, :]
    rows = GatherRows.apply(weight, indices=flat, padding_idx=None, zero_padding=False)
    if mode == "max":
        return _bag_max(rows, member, weight, xp)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1)
    membership = member.astype(weight.dtype)
    if mode == "mean":
        sizes = membership.sum(axis=1, keepdims=True)
        membership = membership / xp.maximum(sizes, 1)
    return Tensor._make(membership, False, None) @ rows


def _bag_starts(indices, offsets, include_last_offset, xp):
    """Where each bag starts in the flat indices, with the end as a last entry; the flat indices."""
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag: indices must be integers, got dtype {indices.dtype}")
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None when input is 2-d (each row "
                             "is a bag)")
        bags, length = indices.shape
        return xp.arange(bags + 1) * length, indices.reshape(-1)
    if indices.ndim != 1:
        raise ValueError(f"embedding_bag: input must be 1-d or 2-d, got shape {indices.shape}")
    if offsets is None:
        raise ValueError("embedding_bag: offsets is required when input is 1-d")
    starts = offsets.array if isinstance(offsets, Tensor) else xp.asarray(offsets)
    if starts.ndim != 1:
        raise ValueError(f"embedding_bag: offsets must be 1-d, got shape {starts.shape}")
    if not include_last_offset:
        starts = xp.concatenate([starts, xp.asarray([indices.shape[0]], dtype=starts.dtype)])
    return xp.minimum(starts, indices.shape[0]), indices


def _bag_max(rows, member, weight, xp):
    """Each bag's entrywise maximum over its rows (the first on ties); 0 for an empty bag."""
    bags, dim = member.shape[0], weight.shape[1]
    if bags == 0:
        return Tensor._make(xp.zeros((0, dim), weight.dtype), False, None)
    values = rows.array
    if values.shape[0] == 0:
        return Tensor._make(xp.zeros((bags, dim), weight.dtype), False, None)
    masked = xp.where(member[:, :, None], values[None, :, :], -xp.inf)  # (bags, K, dim)
    best = masked.argmax(axis=1)  # (bags, dim)
    picked = rows[best, xp.arange(dim)[None, :]]
    empty = ~member.any(axis=1, keepdims=True)
    if empty.any():
        return where(empty, weight.dtype.type(0), picked)
    return picked
