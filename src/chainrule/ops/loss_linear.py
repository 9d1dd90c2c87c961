"""``linear_cross_entropy``: cross-entropy of logits made by a linear layer, as one call.

    loss = cross_entropy(input @ linear_weight^T + linear_bias, target, ...)

PyTorch offers it so that the logits can be computed in chunks of the
batch (``options``), saving memory on large vocabularies; the result is the
same as the reference composition, which is what chainrule computes (in one
piece: ``options`` is accepted and only changes memory use in PyTorch).

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> round(F.linear_cross_entropy(cr.ones(2, 3), cr.zeros(4, 3), cr.tensor([0, 1])).item(), 4)
    1.3863
"""

from chainrule.ops.loss import cross_entropy
from chainrule.registry import register
from chainrule.tensor import Tensor

__all__ = []  # the op is registered


@register("nn.functional")
def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...).

    ``linear_weight`` is (C, in_features), or (C, d1, ..., dK, in_features)
    for K-dimensional logits (then the logits are (N, C, d1, ..., dK));
    ``ignore_index`` None means -100, as ``cross_entropy``'s default.
    """
    for name, t in (("input", input), ("linear_weight", linear_weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linear_cross_entropy: {name} must be a Tensor, got "
                            f"{type(t).__name__}")
    if input.ndim == 0 or linear_weight.ndim < 2 or input.shape[-1] != linear_weight.shape[-1]:
        raise RuntimeError(
            f"linear_cross_entropy: input (*, in_features) and linear_weight (C, ..., "
            f"in_features) must share in_features, got shapes {tuple(input.shape)} and "
            f"{tuple(linear_weight.shape)}")
    out_features = tuple(linear_weight.shape[:-1])
    rows = linear_weight.reshape(-1, linear_weight.shape[-1])
    logits = (input @ rows.mT).reshape(tuple(input.shape[:-1]) + out_features)
    if linear_bias is not None:
        logits = logits + linear_bias
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index,
                         label_smoothing=label_smoothing)
