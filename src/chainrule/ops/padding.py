"""Padding: ``nn.functional.pad``, values added around a tensor (or cut off it).

Constant padding is one op whose backward is itself with the amounts
negated: what was added is cut off again, and what was cut off gets a zero
gradient. The other modes (``reflect``, ``replicate``, ``circular``) copy
values of the tensor outward, so they are composed of indexing: one read at
computed positions per padded dimension, whose backward adds back.

    >>> import chainrule as cr
    >>> cr.nn.functional.pad(cr.ones(2), (1, 2))
    tensor([0., 1., 1., 0., 0.], dtype=float32)
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
        out = array_module(x.data).full(shape, value, dtype=x.data.dtype)
        source, target = [], []
        for n, (before, after) in zip(x.shape, amounts):
            kept = max(n - max(-before, 0) - max(-after, 0), 0)  # elements of x that stay
            source.append(slice(max(-before, 0), max(-before, 0) + kept))
            target.append(slice(max(before, 0), max(before, 0) + kept))
        out[tuple(target)] = x.data[tuple(source)]
        return out

    @staticmethod
    def backward(ctx, grad):
        negated = tuple((-before, -after) for before, after in ctx.amounts)
        return Pad.apply(grad, negated, 0), None, None


@register("nn.functional")
def pad(input, pad, mode="constant", value=None):
    """``input`` padded as ``torch.nn.functional.pad``: ``pad`` holds (before, after) pairs
    starting from the LAST dimension: ``(left, right, top, bottom, ...)``.

    ``mode="constant"`` fills with ``value`` (0 by default) and allows negative
    amounts, which crop. ``"reflect"``, ``"replicate"`` and ``"circular"`` take
    their values from ``input`` (composed of indexing), and need non-negative
    amounts.
    """
    x = input
    amounts = _pad_amounts(x, pad)
    if mode == "constant":
        for n, (before, after) in zip(x.shape, amounts):
            if n + before + after < 0 or min(before, after) < -n:
                raise ValueError(f"pad: pad {tuple(pad)} crops more than a tensor of shape "
                                 f"{tuple(x.shape)} holds")
        if not any(before or after for before, after in amounts):
            return x
        return Pad.apply(x, amounts, 0 if value is None else value)
    if mode not in _POSITIONS:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    xp = array_module(x.data)
    out = x
    for d, (n, (before, after)) in enumerate(zip(x.shape, amounts)):
        if before or after:
            positions = _POSITIONS[mode](xp, xp.arange(-before, n + after), n, before, after,
                                         mode)
            out = read_at(out, (slice(None),) * d + (positions,))
    return out


def _reflect(xp, positions, n, before, after, mode):
    if before < 0 or after < 0 or max(before, after) >= n:
        raise ValueError(f"pad: {mode} padding needs 0 <= amount < size of the dimension "
                         f"({n}), got {before} and {after}")
    period = 2 * (n - 1)
    folded = xp.mod(positions, period) if period else xp.zeros_like(positions)
    return xp.where(folded < n, folded, period - folded)


def _replicate(xp, positions, n, before, after, mode):
    if before < 0 or after < 0 or n == 0:
        raise ValueError(f"pad: {mode} padding needs a non-empty dimension and non-negative "
                         f"amounts, got size {n} and amounts {before} and {after}")
    return xp.clip(positions, 0, n - 1)


def _circular(xp, positions, n, before, after, mode):
    if before < 0 or after < 0 or max(before, after) > n:
        raise ValueError(f"pad: {mode} padding needs 0 <= amount <= size of the dimension "
                         f"({n}), got {before} and {after}")
    return xp.mod(positions, n)


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
