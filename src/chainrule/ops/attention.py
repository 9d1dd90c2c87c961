"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``.

    attention(Q, K, V) = softmax(Q K^T * scale + mask) V,   scale = 1 / sqrt(E)

Composed of primitives (matmul, softmax, where, dropout), so the gradient
of every order comes from theirs and there is no backward to write here.
Masks follow PyTorch: for ``scaled_dot_product_attention`` a boolean mask
marks with True the positions that *take part*, and a float mask is added
to the scores; for ``multi_head_attention_forward`` (and
``nn.MultiheadAttention``) a boolean mask marks with True the positions
that are *masked out*. A row of the scores that is masked entirely gives
zeros from ``scaled_dot_product_attention`` (as PyTorch's CPU kernels do),
not NaN.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> q = cr.ones(1, 2, 4)
    >>> F.scaled_dot_product_attention(q, q, q).shape
    (1, 2, 4)
"""

import math

import numpy as np

from chainrule.device import array_module
from chainrule.ops.activation import softmax
from chainrule.ops.dropout import dropout
from chainrule.ops.elementwise import where
from chainrule.ops.joining import cat
from chainrule.ops.linear import linear
from chainrule.registry import register
from chainrule.tensor import Tensor

__all__ = ["float_mask"]  # the ops are registered; float_mask is shared with nn.transformer


def _constant(array):
    return Tensor._make(array, False, None)


def _is_bool(mask):
    return mask.dtype == np.bool_


def float_mask(mask, dtype, name):
    """A boolean mask (True = masked out) as an additive float mask of 0 and -inf; a float
    mask as it is. Any other dtype is an error."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a Tensor, got {type(mask).__name__}")
    if _is_bool(mask):
        xp = array_module(mask.array)
        return _constant(xp.where(mask.array, dtype.type(-np.inf), dtype.type(0)))
    if mask.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {name} are supported, got "
                        f"{mask.dtype}; use a bool mask (True = masked out) or a float mask "
                        "(added to the scores)")
    return mask


def _attend(query, key, value, mask, dropout_p, scale, training=True, safe=True):
    """softmax(query key^T * scale + mask) value, and the attention weights.

    ``mask``: None, a bool tensor (True = take part) or a float tensor (added).
    With ``safe``, rows whose every position is masked give zero weights.
    """
    scores = query @ key.mT
    if scale != 1:
        scores = scores * scale
    dead = None
    if mask is not None:
        xp = array_module(mask.array)
        if _is_bool(mask):
            if safe:
                dead = ~xp.any(mask.array, axis=-1, keepdims=True)
            scores = where(mask, scores, scores.dtype.type(-np.inf))
        else:
            if safe:
                dead = xp.all(xp.isneginf(mask.array), axis=-1, keepdims=True)
            scores = scores + mask
        if dead is not None and not dead.any():
            dead = None
    if dead is not None:  # softmax of an all -inf row is nan; give it zeros instead
        zero = scores.dtype.type(0)
        weights = where(dead, zero, softmax(where(dead, zero, scores), -1))
    else:
        weights = softmax(scores, -1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, training)
    return weights @ value, weights


def _causal(length, source_length, like):
    """The bool mask of causal attention: position i attends to positions j <= i."""
    xp = array_module(like.array)
    return _constant(xp.tri(length, source_length, 0, dtype=bool))


@register("nn.functional")
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, over the last two dims of each.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev).
    ``attn_mask`` broadcasts to (..., L, S): bool (True = take part) or float
    (added to the scores). ``is_causal`` masks out positions j > i (no
    ``attn_mask`` then). ``scale`` defaults to 1 / sqrt(E). ``enable_gqa``
    lets key and value have fewer heads (dim -3) than query, each serving a
    group of query heads. Dropout with ``dropout_p`` always applies, as in
    PyTorch: pass 0 in evaluation.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention: {name} must be a Tensor, got "
                            f"{type(t).__name__}")
        if t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must have at least 2 "
                               f"dimensions (..., sequence, features), got shape {tuple(t.shape)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query {tuple(query.shape)}, key {tuple(key.shape)} "
            f"and value {tuple(value.shape)} do not fit: query and key must share the last "
            "dimension (E), key and value the second-to-last (the source length S)")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: pass either attn_mask or "
                           "is_causal=True, not both (fold the causal mask into attn_mask)")
    if not 0 <= dropout_p <= 1:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got "
                         f"{dropout_p}")
    if enable_gqa:
        key, value = _grouped(query, key), _grouped(query, value)
    if is_causal:
        attn_mask = _causal(query.shape[-2], key.shape[-2], query)
    elif attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"scaled_dot_product_attention: attn_mask must be a Tensor, got "
                            f"{type(attn_mask).__name__}")
        if attn_mask.dtype.kind not in "fb":
            raise TypeError(f"scaled_dot_product_attention: attn_mask must be bool or float, "
                            f"got {attn_mask.dtype}")
    if scale is None:
        scale = 1 / math.sqrt(query.shape[-1])
    out, _ = _attend(query, key, value, attn_mask, dropout_p, scale)
    return out


def _grouped(query, kv):
    """key or value with each of its heads (dim -3) repeated for its group of query heads."""
    heads, kv_heads = query.shape[-3], kv.shape[-3]
    if query.ndim < 3 or heads % kv_heads:
        raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa, the number of query "
                           f"heads ({heads}) must be a multiple of key/value heads ({kv_heads})")
    lead, rest = tuple(kv.shape[:-3]), tuple(kv.shape[-2:])
    groups = heads // kv_heads
    return (kv.unsqueeze(-3).expand(*lead, kv_heads, groups, *rest)
            .reshape(*lead, heads, *rest))


# ------------------------------------------------------------- multi-head attention


@register("nn.functional")
def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention on (L, N, E) query and (S, N, E) key/value (or unbatched (L, E)).

    Each of ``num_heads`` heads attends over its slice of the projected
    query, key and value; the heads' outputs are joined and projected by
    ``out_proj``. Boolean masks mark masked-out positions with True;
    ``attn_mask`` is (L, S) or (N * num_heads, L, S), ``key_padding_mask``
    (N, S). Returns the output and, with ``need_weights``, the attention
    weights (averaged over the heads unless ``average_attn_weights=False``).
    """
    return attention_forward(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
        bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
        key_padding_mask, need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
        k_proj_weight, v_proj_weight, static_k, static_v, average_attn_weights, is_causal)


def attention_forward(query, key, value, embed_dim, num_heads, in_proj_weight, in_proj_bias,
                      bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                      training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                      use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                      v_proj_weight=None, static_k=None, static_v=None,
                      average_attn_weights=True, is_causal=False, batch_first=False):
    """``multi_head_attention_forward``, also on batch-first (N, L, E) inputs (``batch_first``),
    which ``nn.MultiheadAttention`` uses to skip the transposes."""
    op = "multi_head_attention_forward"
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads, op)
    if not batched:
        batch_first = False
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    seq, batch = (1, 0) if batch_first else (0, 1)
    length, n, e = query.shape[seq], query.shape[batch], query.shape[2]
    if e != embed_dim:
        raise RuntimeError(f"{op}: expected query with embedding dimension {embed_dim}, got "
                           f"shape {tuple(query.shape)}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise RuntimeError(f"{op}: embed_dim {embed_dim} is not divisible by num_heads "
                           f"{num_heads}")
    key_padding_mask = float_mask(key_padding_mask, query.dtype, "key_padding_mask")
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{op}: is_causal is a hint and needs attn_mask too; make the mask "
                           "with nn.Transformer.generate_square_subsequent_mask(L)")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # sdpa makes the causal mask itself
    else:
        attn_mask = float_mask(attn_mask, query.dtype, "attn_mask")
        is_causal = False
    q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias,
                       use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight,
                       num_heads, batch_first, op)
    k, v, attn_mask, key_padding_mask = _extend_keys(
        k, v, attn_mask, key_padding_mask, bias_k, bias_v, static_k, static_v, add_zero_attn,
        n, num_heads, length, op)
    source = k.shape[2]
    mask = _joined_mask(attn_mask, key_padding_mask, n, num_heads, length, source, op)
    if not training:
        dropout_p = 0.0
    if need_weights:
        out, weights = _attend(q * math.sqrt(1.0 / head_dim), k, v, mask, dropout_p, 1,
                               training, safe=False)
        if average_attn_weights:
            weights = weights.mean(1)
    else:
        out = scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal)
        weights = None
    # (N, H, L, hd) -> (L, N, E) or (N, L, E)
    out = out.permute(0, 2, 1, 3) if batch_first else out.permute(2, 0, 1, 3)
    out = linear(out.reshape(out.shape[0], out.shape[1], embed_dim), out_proj_weight,
                 out_proj_bias)
    if not batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights


def _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads, op):
    """True for batched (3-d) inputs, False for unbatched (2-d); anything else is an error."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if query.ndim not in (2, 3):
        raise RuntimeError(f"{op}: query must be unbatched 2-D (L, E) or batched 3-D, got shape "
                           f"{tuple(query.shape)}")
    batched = query.ndim == 3
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise RuntimeError(f"{op}: for {query.ndim}-D query, key and value must be "
                           f"{query.ndim}-D too, got shapes {tuple(key.shape)} and "
                           f"{tuple(value.shape)}")
    if key_padding_mask is not None and key_padding_mask.ndim != (2 if batched else 1):
        raise RuntimeError(f"{op}: key_padding_mask must be {'(N, S)' if batched else '(S,)'} "
                           f"for {query.ndim}-D query, got shape {tuple(key_padding_mask.shape)}")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise RuntimeError(f"{op}: attn_mask must be (L, S) or (N * num_heads, L, S), got shape "
                           f"{tuple(attn_mask.shape)}")
    return batched


def _heads(x, num_heads, batch_first):
    """(L, N, E) or (N, L, E) -> (N, H, L, E / H)."""
    a, b, e = x.shape
    x = x.reshape(a, b, num_heads, e // num_heads)
    return x.permute(0, 2, 1, 3) if batch_first else x.permute(1, 2, 0, 3)


def _project(query, key, value, w, b, separate, w_q, w_k, w_v, num_heads, batch_first, op):
    """q, k, v projected and split into heads: (N, H, L or S, head_dim) each."""
    e = query.shape[-1]
    if not separate:
        if w is None:
            raise RuntimeError(f"{op}: in_proj_weight is None; pass it, or "
                               "use_separate_proj_weight=True with q/k/v_proj_weight")
        if key is value and query is key:  # self-attention: one product for q, k and v
            a, n = query.shape[:2]
            packed = linear(query, w, b).reshape(a, n, 3, num_heads, e // num_heads)
            order = (2, 0, 3, 1, 4) if batch_first else (2, 1, 3, 0, 4)
            return packed.permute(*order).unbind(0)
        w_q, w_k, w_v = w.chunk(3)
    elif w_q is None or w_k is None or w_v is None:
        raise RuntimeError(f"{op}: use_separate_proj_weight=True needs q_proj_weight, "
                           "k_proj_weight and v_proj_weight")
    b_q = b_k = b_v = None
    if b is not None:
        b_q, b_k, b_v = b.chunk(3)
    if tuple(key.shape[:2]) != tuple(value.shape[:2]):
        raise RuntimeError(f"{op}: key {tuple(key.shape)} and value {tuple(value.shape)} must "
                           "have the same sequence and batch dimensions")
    return tuple(_heads(linear(x, wx, bx), num_heads, batch_first)
                 for x, wx, bx in ((query, w_q, b_q), (key, w_k, b_k), (value, w_v, b_v)))


def _extend_keys(k, v, attn_mask, key_padding_mask, bias_k, bias_v, static_k, static_v,
                 add_zero_attn, n, num_heads, length, op):
    """bias_k/bias_v appended, static_k/static_v substituted, the zero position added; the
    masks padded with a column of zeros for each appended position."""
    head_dim = k.shape[-1]
    if (bias_k is None) != (bias_v is None):
        raise RuntimeError(f"{op}: bias_k and bias_v go together; pass both or neither")
    if bias_k is not None:
        if static_k is not None or static_v is not None:
            raise RuntimeError(f"{op}: bias_k/bias_v cannot be added to static_k/static_v")
        k = cat([k, bias_k.reshape(1, num_heads, 1, head_dim).expand(n, num_heads, 1,
                                                                     head_dim)], 2)
        v = cat([v, bias_v.reshape(1, num_heads, 1, head_dim).expand(n, num_heads, 1,
                                                                     head_dim)], 2)
        attn_mask, key_padding_mask = _pad_column(attn_mask), _pad_column(key_padding_mask)
    for name, static in (("static_k", static_k), ("static_v", static_v)):
        if static is not None and tuple(static.shape[::2]) != (n * num_heads, head_dim):
            raise RuntimeError(f"{op}: {name} must be (N * num_heads, S, head_dim) = "
                               f"({n * num_heads}, S, {head_dim}), got {tuple(static.shape)}")
    if static_k is not None:
        k = static_k.reshape(n, num_heads, static_k.shape[1], head_dim)
    if static_v is not None:
        v = static_v.reshape(n, num_heads, static_v.shape[1], head_dim)
    if add_zero_attn:
        xp = array_module(k.array)
        k = cat([k, _constant(xp.zeros((n, num_heads, 1, head_dim), k.dtype))], 2)
        v = cat([v, _constant(xp.zeros((n, num_heads, 1, head_dim), v.dtype))], 2)
        attn_mask, key_padding_mask = _pad_column(attn_mask), _pad_column(key_padding_mask)
    return k, v, attn_mask, key_padding_mask


def _pad_column(mask):
    if mask is None:
        return None
    xp = array_module(mask.array)
    return cat([mask, _constant(xp.zeros(tuple(mask.shape[:-1]) + (1,), mask.dtype))], -1)


def _joined_mask(attn_mask, key_padding_mask, n, num_heads, length, source, op):
    """attn_mask and key_padding_mask as one additive mask broadcasting to (N, H, L, S)."""
    mask = None
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (length, source):
                raise RuntimeError(f"{op}: the 2-D attn_mask must be (L, S) = "
                                   f"{(length, source)}, got {tuple(attn_mask.shape)}")
        elif tuple(attn_mask.shape) != (n * num_heads, length, source):
            raise RuntimeError(f"{op}: the 3-D attn_mask must be (N * num_heads, L, S) = "
                               f"{(n * num_heads, length, source)}, got {tuple(attn_mask.shape)}")
        else:
            attn_mask = attn_mask.reshape(n, num_heads, length, source)
        mask = attn_mask
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (n, source):
            raise RuntimeError(f"{op}: key_padding_mask must be (N, S) = {(n, source)}, got "
                               f"{tuple(key_padding_mask.shape)}")
        padding = key_padding_mask.reshape(n, 1, 1, source)
        mask = padding if mask is None else mask + padding
    return mask
