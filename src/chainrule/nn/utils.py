"""Gradient clipping, as ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.

Both change the ``.grad`` of the given parameters in place, record no graph,
and skip parameters whose grad is None.

    >>> import chainrule as cr
    >>> w = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()  # grad [6, 8], of norm 10
    >>> clip_grad_norm_([w], max_norm=1.0)
    tensor(10., dtype=float32)
    >>> [round(v, 4) for v in w.grad.tolist()]  # scaled by 1 / (10 + 1e-6)
    [0.6, 0.8]
"""

import math
import numbers

import numpy as np

from chainrule.device import array_module, backend_for
from chainrule.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    r"""Scale all gradients together so that their joint norm is at most ``max_norm``.

    total = || (||g_1||_p, ..., ||g_n||_p) ||_p   (the norm of all gradients as one vector);
    each g_i <- g_i * min(1, max_norm / (total + 1e-6)). ``norm_type`` p is a
    positive number or ``inf`` (the largest absolute value). Returns ``total``,
    the norm before clipping, as a 0-d Tensor.
    """
    name = "clip_grad_norm_"
    grads = _grads(parameters, name)
    _check_non_negative(name, "max_norm", max_norm)
    try:
        p = float(norm_type)
    except (TypeError, ValueError):
        p = math.nan
    if not p > 0:
        raise ValueError(f"{name}: norm_type must be a positive number or inf, got {norm_type!r}")
    if not grads:
        return Tensor._make(backend_for(None).xp.zeros((), dtype=np.float32), False, None)

    xp = array_module(*(g.data for g in grads))
    dtype = np.result_type(*(g.dtype for g in grads))
    norms = xp.stack([_vector_norm(g.data, p).astype(dtype) for g in grads])
    total = xp.asarray(_vector_norm(norms, p), dtype=dtype)  # a 0-d array
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"{name}: The total norm of order {p} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coefficient = xp.minimum(max_norm / (total + 1e-6), 1.0)  # nan stays nan, as in torch
    with np.errstate(invalid="ignore"):  # inf * 0 is nan, as in torch, without a warning
        for g in grads:
            _write(g, g.data * coefficient)
    return Tensor._make(total, False, None)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value]."""
    name = "clip_grad_value_"
    grads = _grads(parameters, name)
    _check_non_negative(name, "clip_value", clip_value)
    for g in grads:
        _write(g, g.data.clip(-clip_value, clip_value))


def _grads(parameters, name):
    """The gradients (Tensors) of ``parameters``, a Tensor or an iterable of them; None skipped."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for index, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {index} is a {type(p).__name__}, not a Tensor")
        if p.grad is not None:
            grads.append(p.grad)
    return grads


def _check_non_negative(name, argument, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"{name}: {argument} must be a number >= 0, got {value!r}")


def _vector_norm(array, p):
    """||array||_p over all its elements, in float64 at least."""
    xp = array_module(array)
    magnitudes = abs(array.astype(np.result_type(array.dtype, np.float64), copy=False)).ravel()
    if magnitudes.size == 0:
        return xp.zeros((), dtype=np.float64)
    if p == math.inf:
        return magnitudes.max()
    if p == 2:
        return xp.sqrt(magnitudes @ magnitudes)
    return (magnitudes**p).sum() ** (1 / p)


def _write(grad, values):
    """Replace ``grad``'s values in place (a fresh array when its own is read-only)."""
    if grad.data.flags.writeable:
        grad.data[...] = values
    else:
        grad.data = values.astype(grad.data.dtype)  # a copy
    grad._version[0] += 1
