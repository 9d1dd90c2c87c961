"""Gradient clipping, as ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.

Both change the ``.grad`` of the given parameters in place, record no graph,
and skip parameters whose grad is None. ``clip_grad_norm_`` is the two steps
PyTorch also offers apart: ``get_total_norm`` of the gradients, then
``clip_grads_with_norm_``. ``foreach`` chooses how torch loops; it is
accepted and changes nothing.

    >>> import chainrule as cr
    >>> w = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()  # grad [6, 8], of norm 10
    >>> clip_grad_norm_([w], max_norm=1.0)
    tensor(10.)
    >>> [round(v, 4) for v in w.grad.tolist()]  # scaled by 1 / (10 + 1e-6)
    [0.6, 0.8]
"""

import math
import numbers

import numpy as np

from chainrule.device import array_module, backend_for
from chainrule.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""Scale all gradients together so that their joint norm is at most ``max_norm``.

    total = || (||g_1||_p, ..., ||g_n||_p) ||_p   (the norm of all gradients as one vector);
    each g_i <- g_i * min(1, max_norm / (total + 1e-6)). ``norm_type`` p is a
    positive number or ``inf`` (the largest absolute value). Returns ``total``,
    the norm before clipping, as a 0-d Tensor.
    """
    name = "clip_grad_norm_"
    grads = _grads(parameters, name)
    _check_non_negative(name, "max_norm", max_norm)
    total = _total_norm(grads, norm_type, error_if_nonfinite, name)
    _scale(grads, max_norm, total.array)
    return total


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""The p-norm of ``tensors`` (a Tensor or an iterable of them) viewed as one vector.

    total = || (||t_1||_p, ..., ||t_n||_p) ||_p, a 0-d Tensor (0. for no tensors).
    """
    name = "get_total_norm"
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    for index, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: tensor {index} is a {type(t).__name__}, not a Tensor")
    return _total_norm(tensors, norm_type, error_if_nonfinite, name)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6)), a norm computed before."""
    name = "clip_grads_with_norm_"
    grads = _grads(parameters, name)
    _check_non_negative(name, "max_norm", max_norm)
    total = total_norm.array if isinstance(total_norm, Tensor) else total_norm
    if grads:
        _scale(grads, max_norm, array_module(grads[0].array).asarray(total))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value]."""
    name = "clip_grad_value_"
    grads = _grads(parameters, name)
    _check_non_negative(name, "clip_value", clip_value)
    for g in grads:
        _write(g, g.array.clip(-clip_value, clip_value))


def _total_norm(tensors, norm_type, error_if_nonfinite, name):
    """The norm of the norms of ``tensors``, as a 0-d Tensor of their common dtype."""
    try:
        p = float(norm_type)
    except (TypeError, ValueError):
        p = math.nan
    if not p > 0:
        raise ValueError(f"{name}: norm_type must be a positive number or inf, got {norm_type!r}")
    if not tensors:
        return Tensor._make(backend_for(None).xp.zeros((), dtype=np.float32), False, None)
    xp = array_module(*(t.array for t in tensors))
    dtype = np.result_type(*(t.dtype for t in tensors))
    norms = xp.stack([_vector_norm(t.array, p).astype(dtype) for t in tensors])
    total = xp.asarray(_vector_norm(norms, p), dtype=dtype)  # a 0-d array
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"{name}: The total norm of order {p} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._make(total, False, None)


def _scale(grads, max_norm, total):
    """g <- g * min(max_norm / (total + 1e-6), 1) for each gradient; nan stays nan, as in torch."""
    coefficient = array_module(total).minimum(max_norm / (total + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):  # inf * 0 is nan, as in torch, without a warning
        for g in grads:
            _write(g, g.array * coefficient)


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
    if grad.array.flags.writeable:
        grad.array[...] = values
    else:
        grad.array = values.astype(grad.array.dtype)  # a copy
    grad._version[0] += 1
