"""Regression and likelihood losses: ``smooth_l1_loss``, ``gaussian_nll_loss``,
``poisson_nll_loss`` and ``kl_div``, as in ``torch.nn.functional``.

All are composed of primitives, so gradients of every order come from
theirs; each follows PyTorch's formula, including where it clamps a value
without changing its gradient (``gaussian_nll_loss``'s variance floor).

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.smooth_l1_loss(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]))
    tensor(1.3125)
"""

import math

from chainrule.device import array_module
from chainrule.ops.elementwise import abs, exp, log, where
from chainrule.ops.loss import _reduce, _reduction
from chainrule.registry import register
from chainrule.tensor import Tensor

__all__ = []  # the ops are registered


def _constant(array):
    return Tensor._make(array, False, None)


def _check_tensor(x, op, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


@register("nn.functional")
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """d**2 / (2 beta) where |d| < beta, else |d| - beta / 2, for d = input - target, reduced.

    ``beta`` 0 is the L1 loss |d|.
    """
    reduction = _reduction(size_average, reduce, reduction, "smooth_l1_loss")
    _check_tensor(input, "smooth_l1_loss", "input")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be at least 0, got {beta}")
    d = input - target
    size = abs(d)
    if beta == 0:
        return _reduce(size, reduction)
    loss = where(size.array < beta, d * d * (0.5 / beta), size - 0.5 * beta)
    return _reduce(loss, reduction)


@register("nn.functional")
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """(log(max(var, eps)) + (input - target)**2 / max(var, eps)) / 2 (+ log(2 pi) / 2 if full).

    ``var`` has the input's shape, or lacks its last dim, or has size 1 in
    one dim (one variance shared along it); it may be a number. The floor
    ``eps`` changes the value only: the gradient flows to ``var`` as if
    unclamped, as in PyTorch (which clamps under no_grad).
    """
    _check_tensor(input, "gaussian_nll_loss", "input")
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = _constant(array_module(input.array).full(input.shape, var, dtype=input.dtype))
    elif (var.array < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(
                f"gaussian_nll_loss: var is of incorrect size {tuple(var.shape)} for input "
                f"{tuple(input.shape)}; give it the input's shape, the input's shape without "
                f"its last dim, or size 1 in the one dim it is shared along")
    reduction = _reduction(None, None, reduction, "gaussian_nll_loss")
    values = var.array
    var = var + _constant(array_module(values).maximum(values, values.dtype.type(eps)) - values)
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


@register("nn.functional")
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """exp(input) - target * input (``log_input``), else input - target * log(input + eps),
    reduced; ``full`` adds Stirling's term t log t - t + log(2 pi t) / 2 where t > 1."""
    reduction = _reduction(size_average, reduce, reduction, "poisson_nll_loss")
    _check_tensor(input, "poisson_nll_loss", "input")
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        t = target if isinstance(target, Tensor) else _constant(
            array_module(input.array).asarray(target, dtype=input.dtype))
        above_one = t.array > 1
        safe = where(above_one, t, t.dtype.type(2))  # log is taken only where t > 1
        stirling = safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe)
        loss = loss + where(above_one, stirling, t.dtype.type(0))
    return _reduce(loss, reduction)


def _xlogx(t):
    """t log t, 0 where t = 0 (its derivative log t + 1 wherever t != 0)."""
    zero = t.array == 0
    safe = where(zero, t.dtype.type(1), t)
    return where(zero, t.dtype.type(0), safe * log(safe))


@register("nn.functional")
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log(target) - input) pointwise (input holds log-probabilities), reduced.

    ``log_target``: the target holds log-probabilities too, exp(t) (t - input).
    ``reduction="batchmean"`` divides the sum by the batch size (dim 0), the
    KL divergence's definition; "mean" divides by every element, as PyTorch.
    """
    _check_tensor(input, "kl_div", "input")
    if reduction == "batchmean" and size_average is None and reduce is None:
        batch = input.shape[0] if input.ndim else 1
        return _loss_kl(input, target, log_target).sum() / batch
    reduction = _reduction(size_average, reduce, reduction, "kl_div")
    return _reduce(_loss_kl(input, target, log_target), reduction)


def _loss_kl(input, target, log_target):
    if log_target:
        return exp(target) * (target - input)
    if not isinstance(target, Tensor):
        target = _constant(array_module(input.array).asarray(target, dtype=input.dtype))
    return _xlogx(target) - target * input
