"""Padding: ``nn.functional.pad``, values added around a tensor (or cut off it).

Constant padding is one op whose backward is itself with the amounts
negated: what was added is cut off again, and what was cut off gets a zero
gradient. The other modes (``reflect``, ``replicate``, ``circular``) copy
values of the tensor outward, so they are composed of indexing: one read at
computed positions per padded dimension, whose backward adds back.

    >>> import chainrule as cr
    >>> cr.nn.functional.pad(cr.ones(2), (1, 2))
    tensor([0., 1., 1., 0., 0.])
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.indexing import read_at
from chainrule.registry import register


class Pad(Function):
    """x with values added (or cut off) at each end;  d/dx = the gradient padded by -amounts.

    Per dimension, ``before`` and ``after`` elements of ``value`` are added,
    or removed where negative; the backward pads the gradient with the
    amounts negated (zeros where x was cut off).
    """

    @staticmethod
    def forward(ctx, x, amounts, value):
        ctx.amounts = amounts
        shape = tuple(n + before + after for n, (before, after) in zip(x.shape, amounts))
        out = array_module(x.array).full(shape, value, dtype=x.array.dtype)
        source, target = [], []
        for n, (before, after) in zip(x.shape, amounts):
            kept = max(n - max(-before, 0) - max(-after, 0), 0)  # elements of x that stay
            source.append(slice(max(-before, 0), max(-before, 0) + kept))
            target.append(slice(max(before, 0), max(before, 0) + kept))
        out[tuple(target)] = x.array[tuple(source)]
        return out

    @staticmethod
    def backward(ctx, grad):
        negated = tuple((-before, -after) for before, after in ctx.amounts)
        return Pad.apply(grad, negated, 0), None, None


@register("nn.functional")
def pad(input, pad, mode="constant", value=None):
    """``input`` padded as ``torch.nn.functional.pad``: ``pad`` holds (before, after) pairs
    starting from the LAST dimension: ``(left, right, top, bottom, ...)``.

    ``mode="constant"`` fills with ``value`` (0 by default). ``"reflect"``,
    ``"replicate"`` and ``"circular"`` take their values from ``input``
    (composed of indexing). Negative amounts crop, in every mode.
    """
    x = input
    amounts = _pad_amounts(x, pad)
    if mode == "constant":
        return constant_pad_nd(x, pad, 0 if value is None else value)
    if mode not in _POSITIONS:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    xp = array_module(x.array)
    out = x
    for d, (n, (before, after)) in enumerate(zip(x.shape, amounts)):
        if before or after:
            positions = _POSITIONS[mode](xp, n, before, after, mode)
            out = read_at(out, (slice(None),) * d + (positions,))
    return out


@register("torch")
def constant_pad_nd(input, pad, value=0):
    """``input`` padded with ``value`` as ``torch.constant_pad_nd``: ``pad`` holds (before,
    after) pairs from the last dimension; negative amounts crop."""
    x = input
    amounts = _pad_amounts(x, pad)
    for n, (before, after) in zip(x.shape, amounts):
        if n + before + after < 0 or min(before, after) < -n:
            raise ValueError(f"pad: pad {tuple(pad)} crops more than a tensor of shape "
                             f"{tuple(x.shape)} holds")
    if not any(before or after for before, after in amounts):
        return x
    return Pad.apply(x, amounts, value)


def _reflect(xp, n, before, after, mode):
    if max(before, after) >= n or n + before + after < 0:
        raise ValueError(f"pad: {mode} padding needs 0 <= amount < size of the dimension ({n}), "
                         f"got {before} and {after} (a negative amount crops, at most all)")
    positions = xp.arange(-before, n + after)
    period = 2 * (n - 1)
    folded = xp.mod(positions, period) if period else xp.zeros_like(positions)
    return xp.where(folded < n, folded, period - folded)


def _replicate(xp, n, before, after, mode):
    if n == 0 or n + before + after < 0:
        raise ValueError(f"pad: {mode} padding needs a non-empty dimension and no more cropped "
                         f"than it holds, got size {n} and amounts {before} and {after}")
    return xp.clip(xp.arange(-before, n + after), 0, n - 1)


def _circular(xp, n, before, after, mode):
    """Negative amounts crop first; the positive ones then wrap around what is left."""
    start = max(-before, 0)
    kept = n - start - max(-after, 0)
    grow_before, grow_after = max(before, 0), max(after, 0)
    if kept < 0 or max(grow_before, grow_after) > kept or (kept == 0 and before + after > 0):
        size = f"{n}" if kept == n else f"{n}, {kept} after cropping"
        raise ValueError(f"pad: {mode} padding needs 0 <= amount <= size of the dimension "
                         f"({size}), got {before} and {after}, so that it wraps around at most "
                         f"once (a negative amount crops)")
    if kept == 0:
        return xp.arange(0)
    return start + xp.mod(xp.arange(-grow_before, kept + grow_after), kept)


_POSITIONS = {"reflect": _reflect, "replicate": _replicate, "circular": _circular}


def _pad_amounts(x, pad):
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad: pad must be a tuple of ints, got {type(pad).__name__}")
    pad = tuple(_amount(n) for n in pad)
    if len(pad) % 2 or len(pad) > 2 * x.ndim:
        raise ValueError(
            f"pad: pad must hold (before, after) pairs for at most {x.ndim} dimensions of a "
            f"tensor of shape {tuple(x.shape)}, got {pad} ({len(pad)} values)"
        )
    pairs = [pad[i:i + 2] for i in range(0, len(pad), 2)]  # last dimension first
    return ((0, 0),) * (x.ndim - len(pairs)) + tuple(reversed(pairs))


def _amount(n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"pad: sizes must be ints, got {type(n).__name__} {n!r}")
    return int(n)
