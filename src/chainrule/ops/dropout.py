"""Random regularizers: ``dropout`` (and its channel-wise and SELU forms), ``rrelu``.

Dropout zeroes random elements while training, scaling the rest to keep the mean.
Composed: ``input * mask`` with a constant mask, so the gradient is the
mask and needs no Function of its own.

    >>> import chainrule as cr
    >>> x = cr.ones(4)
    >>> dropout(x, p=0.5, training=False) is x
    True
"""

import numbers

import numpy as np

from chainrule import random
from chainrule.autograd.function import Function
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
    backend = backend_of(input.array)
    if p == 1:
        return input * backend.xp.zeros(input.shape, input.dtype)
    # the generator is read now, not imported: manual_seed resets it
    keep = backend.asarray(random.default_generator.random(input.shape)) >= p
    return input * (keep * input.dtype.type(1 / (1 - p)))


@register("torch", name="dropout")
def dropout_with_train(input, p, train):
    """``torch.dropout(input, p, train)``: ``nn.functional.dropout`` under torch's names."""
    return dropout(input, p, train)


def _check_probability(p, op):
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"{op}: p is the probability of zeroing an element and must be "
                         f"between 0 and 1, got p={p!r}")


def _keep_mask(input, p, shape):
    """1.0 where an element (or a whole channel, by ``shape``) is kept, drawn now."""
    backend = backend_of(input.array)
    keep = backend.asarray(random.default_generator.random(shape)) >= p
    return keep.astype(input.dtype)


def _feature_shape(input):
    """One draw per (sample, channel): (N, C, 1, ..., 1)."""
    return tuple(input.shape[:2]) + (1,) * (input.ndim - 2)


def _feature_dropout(input, p, training, inplace, op):
    _check_probability(p, op)
    if not training or p == 0:
        return input
    if inplace:
        return input._modify_in_place(op, lambda source: _feature_dropout(source, p, training,
                                                                          False, op))
    if p == 1:
        return input * input.dtype.type(0)
    return input * (_keep_mask(input, p, _feature_shape(input)) * input.dtype.type(1 / (1 - p)))


@register("nn.functional")
def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p``, scale the rest."""
    if input.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 2-d (C, L) or 3-d (N, C, L) input, got shape "
                         f"{tuple(input.shape)}")
    if input.ndim == 2:
        return _feature_dropout(input.unsqueeze(0), p, training, False, "dropout1d").squeeze(0)
    return _feature_dropout(input, p, training, inplace, "dropout1d")


@register("nn.functional")
def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (N, C, H, W) with probability ``p`` and scale the rest by 1 / (1 - p).

    As PyTorch (for now), a 3-d input is taken as (N, C, L): channel-wise 1-d dropout.
    """
    return _feature_dropout(input, p, training, inplace, "dropout2d")


@register("nn.functional")
def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input; scale the rest."""
    if input.ndim == 4:
        return _feature_dropout(input.unsqueeze(0), p, training, False, "dropout3d").squeeze(0)
    return _feature_dropout(input, p, training, inplace, "dropout3d")


# SELU's fixed point: alpha * scale, the value SELU tends to for very negative inputs (negated).
_SELU_ALPHA = 1.7580993408473766


def _alpha_dropout(input, p, training, inplace, op, shape):
    """Dropped elements set to SELU's saturation value, then an affine map keeps mean and variance.

    With keep mask m: out = a (x m + alpha' (1 - m)) + b, where
    a = 1 / sqrt((alpha'^2 p + 1)(1 - p)) and b = -a alpha' p  (Klambauer et al., 2017).
    So d out/dx = a m.
    """
    _check_probability(p, op)
    if not training or p == 0:
        return input
    if inplace:
        return input._modify_in_place(op, lambda source: _alpha_dropout(source, p, training,
                                                                        False, op, shape))
    if p == 1:
        return input * input.dtype.type(0)
    keep = _keep_mask(input, p, shape(input))
    a = 1 / ((_SELU_ALPHA ** 2 * p + 1) * (1 - p)) ** 0.5
    scale = keep * input.dtype.type(a)
    shift = (keep - 1) * input.dtype.type(_SELU_ALPHA * a) + input.dtype.type(_SELU_ALPHA * a * p)
    return input * scale + shift


@register("nn.functional")
def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: keeps the input's mean and variance (see ``_alpha_dropout``)."""
    return _alpha_dropout(input, p, training, inplace, "alpha_dropout", lambda x: x.shape)


@register("nn.functional")
def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """``alpha_dropout`` of whole channels (one draw per sample and channel)."""
    return _alpha_dropout(input, p, training, inplace, "feature_alpha_dropout", _feature_shape)


class RandomizedLeakyReLU(Function):
    """x where x > 0, else a x with a ~ U(lower, upper) drawn per element;  d/dx = 1 or a."""

    @staticmethod
    def forward(ctx, x, slopes):
        ctx.slopes = slopes
        return x.array * slopes

    @staticmethod
    def backward(ctx, grad):
        return grad * Tensor._make(ctx.slopes, False, None), None


@register("nn.functional")
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: while training, each negative element gets a slope drawn from
    U(lower, upper); otherwise the slope is their mean, (lower + upper) / 2.

    NOTE: as PyTorch, x = 0 counts as negative (its gradient is the drawn slope).
    """
    if inplace:
        return input._modify_in_place("rrelu", lambda source: rrelu(source, lower, upper,
                                                                    training))
    backend = backend_of(input.array)
    if training:
        drawn = random.default_generator.uniform(lower, upper, input.shape)
    else:
        drawn = np.full(input.shape, (lower + upper) / 2)
    negative = backend.to_host(input.array) <= 0
    slopes = backend.asarray(np.where(negative, drawn, 1.0), dtype=input.dtype)
    return RandomizedLeakyReLU.apply(input, slopes)
