"""Margin and ranking losses, as in ``torch.nn.functional``.

Each is composed of primitives, so gradients of every order come from
theirs. Hinges follow PyTorch's kernels at their kinks: ``clamp_min(., 0)``
(gradient 1 at 0) where PyTorch's formula uses ``clamp_min``
(``margin_ranking_loss``, ``hinge_embedding_loss``, the triplet losses), and
``relu`` (gradient 0 at 0) where its kernel counts only ``z > 0``
(``multi_margin_loss``, ``multilabel_margin_loss``).

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.margin_ranking_loss(cr.tensor([1.0]), cr.tensor([2.0]), cr.tensor([1.0]))
    tensor(1.)
"""

from chainrule.device import array_module, backend_of
from chainrule.ops.activation_pointwise import _softplus
from chainrule.ops.distance import pairwise_distance
from chainrule.ops.elementwise import clamp, minimum, relu, where
from chainrule.ops.loss import _reduce, _reduction
from chainrule.registry import register
from chainrule.tensor import Tensor

__all__ = []  # the ops are registered

_COSINE_EPSILON = 1e-12  # PyTorch's term under each squared magnitude in cosine_embedding_loss


def _constant(array):
    return Tensor._make(array, False, None)


def _array(x, like):
    """The array of a tensor or of anything array-like, on ``like``'s backend."""
    return x.array if isinstance(x, Tensor) else backend_of(like.array).asarray(x)


def _hinge(x):
    """max(x, 0) with gradient 1 at 0, as PyTorch's clamp_min."""
    return clamp(x, min=0)


@register("nn.functional")
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -y (x1 - x2) + margin), reduced: y = 1 asks x1 to rank above x2 by margin."""
    reduction = _reduction(size_average, reduce, reduction, "margin_ranking_loss")
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss: input1, input2 and target must have the same number of "
            f"dimensions, got shapes {tuple(input1.shape)}, {tuple(input2.shape)} and "
            f"{tuple(target.shape)}")
    return _reduce(_hinge(-target * (input1 - input2) + margin), reduction)


@register("nn.functional")
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (both terms where y is neither), reduced."""
    reduction = _reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    y = _array(target, input)
    zero = input.dtype.type(0)
    margin_part = where(y != 1, _hinge(margin - input), zero)
    input_part = where(y != -1, input, zero)
    return _reduce(margin_part + input_part, reduction)


@register("nn.functional")
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x)), reduced; the target gets no gradient (as in PyTorch)."""
    reduction = _reduction(size_average, reduce, reduction, "soft_margin_loss")
    y = _constant(_array(target, input).astype(input.dtype, copy=False))
    return _reduce(_softplus(-y * input), reduction)


@register("nn.functional")
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """-(y log sigmoid(x) + (1 - y) log sigmoid(-x)), weighted, averaged over the classes."""
    reduction = _reduction(size_average, reduce, reduction, "multilabel_soft_margin_loss")
    loss = target * _softplus(-input) + (1 - target) * _softplus(input)
    if weight is not None:
        loss = loss * weight
    classes = input.shape[-1] if input.ndim else 1
    loss = loss.sum(input.ndim - 1) / classes if input.ndim else loss
    return _reduce(loss, reduction)


@register("nn.functional")
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1, reduced.

    cos = sum(x1 x2) / sqrt((sum(x1**2) + 1e-12) (sum(x2**2) + 1e-12)) over the last
    dim; inputs (N, D) with targets (N,), or (D,) with a 0-d target.
    """
    reduction = _reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    y = _array(target, input1)
    if y.ndim not in (0, 1):
        raise RuntimeError(f"cosine_embedding_loss: 0-d or 1-d target expected, got shape "
                           f"{tuple(y.shape)}")
    expected = y.ndim + 1
    if input1.ndim != expected or input2.ndim != expected:
        raise RuntimeError(
            f"cosine_embedding_loss: a {y.ndim}-d target expects {expected}-d inputs, got "
            f"shapes {tuple(input1.shape)} and {tuple(input2.shape)}")
    dim = y.ndim
    products = (input1 * input2).sum(dim)
    magnitude1 = (input1 * input1).sum(dim) + _COSINE_EPSILON
    magnitude2 = (input2 * input2).sum(dim) + _COSINE_EPSILON
    cos = products / (magnitude1 * magnitude2).sqrt()
    zero = cos.dtype.type(0)
    loss = where(y == 1, 1 - cos, zero) + where(y == -1, _hinge(cos - margin), zero)
    return _reduce(loss, reduction)


def _triplet(anchor, positive, negative, distance, margin, swap, reduction, op):
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            f"{op}: anchor, positive and negative must have the same number of dimensions, "
            f"got shapes {tuple(anchor.shape)}, {tuple(positive.shape)} and "
            f"{tuple(negative.shape)}")
    to_positive = distance(anchor, positive)
    to_negative = distance(anchor, negative)
    if swap:
        to_negative = minimum(to_negative, distance(positive, negative))
    return _reduce(_hinge(margin + to_positive - to_negative), reduction)


@register("nn.functional")
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)), d the pairwise p-norm distance (``swap``: d(a, n)
    becomes min(d(a, n), d(p, n))), reduced."""
    reduction = _reduction(size_average, reduce, reduction, "triplet_margin_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")

    def distance(x1, x2):
        return pairwise_distance(x1, x2, p, eps)

    return _triplet(anchor, positive, negative, distance, margin, swap, reduction,
                    "triplet_margin_loss")


@register("nn.functional")
def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)) for ``distance_function`` d (default:
    ``pairwise_distance``), reduced."""
    reduction = _reduction(None, None, reduction, "triplet_margin_with_distance_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than 0, "
                         f"got {margin}")
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet(anchor, positive, negative, distance, margin, swap, reduction,
                    "triplet_margin_with_distance_loss")


def _rows_and_targets(input, target, op):
    """Input as rows (N, C) (a 0-d or 1-d input is one row), the targets as an int array,
    and the shape of "none"'s result."""
    y = _array(target, input)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices (an integer tensor), got dtype "
                        f"{y.dtype}")
    if input.ndim > 2:
        raise RuntimeError(f"{op}: expected a 0-d, 1-d or 2-d input, got shape "
                           f"{tuple(input.shape)}")
    rows = input.reshape(1, -1) if input.ndim < 2 else input
    return rows, y


@register("nn.functional")
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum over j != y of w_y max(0, margin - x_y + x_j)**p, divided by the classes C.

    ``p`` is 1 or 2; a hinge of exactly 0 gives no gradient, as PyTorch's kernel.
    """
    reduction = _reduction(size_average, reduce, reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    rows, y = _rows_and_targets(input, target, "multi_margin_loss")
    n, classes = rows.shape
    index = y.reshape(-1)
    if index.shape[0] != n:
        raise RuntimeError(f"multi_margin_loss: expected {n} targets for input of shape "
                           f"{tuple(input.shape)}, got target of shape {tuple(y.shape)}")
    if index.size and (index.min() < 0 or index.max() >= classes):
        raise IndexError(f"multi_margin_loss: target out of range for {classes} classes "
                         f"(expected 0 to {classes - 1}), got {index.tolist()}")
    xp = array_module(rows.array)
    picked = rows[xp.arange(n), index].reshape(n, 1)
    hinge = relu(margin - picked + rows)
    if p == 2:
        hinge = hinge * hinge
    others = xp.arange(classes)[None, :] != index[:, None]
    hinge = where(others, hinge, rows.dtype.type(0))
    if weight is not None:
        hinge = hinge * weight[index].reshape(n, 1)
    loss = hinge.sum(1) / classes
    if input.ndim < 2:
        loss = loss.reshape(tuple(y.shape))
    return _reduce(loss, reduction)


@register("nn.functional")
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes k of max(0, 1 - (x_j - x_k)), over C.

    Each row of ``target`` lists class indices, ended by the first -1; a
    class listed twice counts twice, as in PyTorch's kernel.
    """
    reduction = _reduction(size_average, reduce, reduction, "multilabel_margin_loss")
    rows, y = _rows_and_targets(input, target, "multilabel_margin_loss")
    n, classes = rows.shape
    labels = y.reshape(n, -1) if y.ndim else y.reshape(1, 1)
    if labels.shape != (n, classes):
        raise RuntimeError(f"multilabel_margin_loss: target must have the input's shape "
                           f"{tuple(input.shape)}, got {tuple(y.shape)}")
    xp = array_module(rows.array)
    listed = xp.cumprod(labels >= 0, axis=1).astype(bool)  # up to the first -1
    if (labels[listed] >= classes).any():
        raise IndexError(f"multilabel_margin_loss: target out of range for {classes} classes")
    counts = xp.zeros((n, classes), rows.dtype)
    row_of = xp.broadcast_to(xp.arange(n)[:, None], labels.shape)
    backend_of(rows.array).add_at(counts, (row_of[listed], labels[listed]), 1)
    non_target = (counts == 0).astype(rows.dtype)
    pair_weights = counts[:, :, None] * non_target[:, None, :]  # (n, j, k)
    hinge = relu(1 - (rows.unsqueeze(2) - rows.unsqueeze(1)))
    loss = (hinge * _constant(pair_weights)).sum((1, 2)) / classes
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)

