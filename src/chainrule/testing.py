"""Check gradients against finite differences: ``gradcheck`` and ``gradgradcheck``.

For your own ``Function`` s as much as for chainrule's. Both compare, along
random directions ``d``, the directional derivative that backward computes,
``<grad, d>``, with the central difference
``(f(x + h d) - f(x - h d)) / 2h``, in float64. (Checking along directions
instead of element by element, as HIPS autograd does, costs two evaluations
per direction instead of two per input element.) The random directions and
the comparison live on the host; inputs on another device are shifted there
and their outputs and gradients copied back (``Backend.to_host``).

    >>> import chainrule as cr
    >>> x = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t * t).tanh(), (x,))
    True
"""

import numpy as np

from chainrule.autograd.engine import grad as autograd_grad
from chainrule.device import array_module, backend_of
from chainrule.tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Backward disagrees with finite differences."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, directions=3, seed=0):
    """True if backward through ``fn`` matches central differences, else GradcheckError.

    ``inputs`` is a tuple of tensors; those with ``requires_grad`` are checked,
    and should be float64 (float32 differences are too coarse to compare).
    ``fn`` returns a tensor or a tuple of tensors.
    """
    inputs = _as_tuple(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad; nothing to check")
    for i in wrt:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} is {inputs[i].dtype}; use float64 inputs, finite "
                "differences in lower precision are too coarse to compare"
            )
    rng = np.random.default_rng(seed)
    outputs = _as_tuple(fn(*inputs))
    # Every output is weighed; outputs that do not require grad count as constants, so a
    # backward that wrongly drops out of the graph shows up as a mismatch.
    weights = [rng.standard_normal(o.shape) for o in outputs]
    tracked = [k for k, o in enumerate(outputs) if o.requires_grad]
    analytic = [None] * len(wrt)
    if tracked:
        analytic = autograd_grad([outputs[k] for k in tracked], [inputs[i] for i in wrt],
                                 [_like(weights[k], outputs[k]) for k in tracked],
                                 retain_graph=True, allow_unused=True)
    analytic = [np.zeros(inputs[i].shape) if g is None else _host(g.array)
                for i, g in zip(wrt, analytic)]

    def weighted_output(shifted):
        outs = _as_tuple(fn(*shifted))
        return sum(float(np.sum(_host(o.array) * w)) for o, w in zip(outs, weights))

    for _ in range(directions):
        direction = [rng.standard_normal(inputs[i].shape) for i in wrt]
        plus, minus = list(inputs), list(inputs)
        for i, d in zip(wrt, direction):
            x = _host(inputs[i].array)
            plus[i] = _like(x + eps * d, inputs[i]).requires_grad_()
            minus[i] = _like(x - eps * d, inputs[i]).requires_grad_()
        numeric = (weighted_output(plus) - weighted_output(minus)) / (2 * eps)
        predicted = sum(float(np.sum(g * d)) for g, d in zip(analytic, direction))
        if not abs(numeric - predicted) <= atol + rtol * abs(numeric):
            raise GradcheckError(
                f"gradcheck: backward gives a directional derivative of {predicted!r}, finite "
                f"differences give {numeric!r} (difference {abs(numeric - predicted):.3g}, "
                f"allowed {atol + rtol * abs(numeric):.3g})"
            )
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, directions=3, seed=0):
    """gradcheck of the gradient itself: second derivatives against finite differences.

    Checks ``x -> <d fn(x)/dx, w>`` for a fixed random output weight ``w``,
    differentiated with ``create_graph=True``.
    """
    inputs = _as_tuple(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    rng = np.random.default_rng(seed + 1)
    probe = _as_tuple(fn(*inputs))
    weights = [_like(rng.standard_normal(o.shape), o) for o in probe]

    def first_derivatives(*xs):
        outs = [o for o in _as_tuple(fn(*xs))]
        pairs = [(o, w) for o, w in zip(outs, weights) if o.requires_grad]
        if not pairs:
            return tuple(_zeros(xs[i]) for i in wrt)
        grads = autograd_grad([o for o, _ in pairs], [xs[i] for i in wrt], [w for _, w in pairs],
                              create_graph=True, allow_unused=True)
        return tuple(_zeros(xs[i]) if g is None else g for i, g in zip(wrt, grads))

    return gradcheck(first_derivatives, inputs, eps, atol, rtol, directions, seed + 2)


def _host(array):
    return backend_of(array).to_host(array)


def _like(host_array, t):
    """``host_array`` as a tensor on ``t``'s device, in ``t``'s dtype."""
    return Tensor(host_array, dtype=t.dtype, device=t.device)


def _zeros(t):
    """float64 zeros shaped like ``t``, on its device."""
    return Tensor._make(array_module(t.array).zeros(t.shape), False, None)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)
