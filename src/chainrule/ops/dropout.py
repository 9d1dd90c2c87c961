"""``dropout``: zero random elements while training, scaling the rest to keep the mean.

Composed: ``input * mask`` with a constant mask, so the gradient is the
mask and needs no Function of its own.

    >>> import chainrule as cr
    >>> x = cr.ones(4)
    >>> dropout(x, p=0.5, training=False) is x
    True
"""

import numbers

from chainrule import random
from chainrule.device import backend_of
from chainrule.registry import register
from chainrule.tensor import Tensor


@register("nn.functional")
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    The mask is drawn from chainrule's generator (so ``chainrule.manual_seed``
    repeats it); the gradient is the mask. With ``p=0`` or ``training=False``
    the input itself is returned. ``inplace=True`` writes the result into
    ``input``.
    """
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p is the probability of zeroing an element and must be "
                         f"between 0 and 1, got p={p!r}")
    if not training or p == 0:
        return input
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout: input must be a Tensor, got {type(input).__name__}")
    if inplace:
        return input._modify_in_place("dropout", lambda source: dropout(source, p, training))
    backend = backend_of(input.data)
    if p == 1:
        return input * backend.xp.zeros(input.shape, input.dtype)
    # the generator is read now, not imported: manual_seed resets it
    keep = backend.asarray(random.default_generator.random(input.shape)) >= p
    return input * (keep * input.dtype.type(1 / (1 - p)))


@register("torch", name="dropout")
def dropout_with_train(input, p, train):
    """``torch.dropout(input, p, train)``: ``nn.functional.dropout`` under torch's names."""
    return dropout(input, p, train)
