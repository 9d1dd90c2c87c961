"""Weight initialisation, in place, with PyTorch's names and formulas.

Draws come from ``generator=`` (a ``chainrule.Generator``), by default
chainrule's ``default_generator``, so ``chainrule.manual_seed(s)`` makes a
model's initial weights repeatable; they are copied to the tensor's device.
Each function fills its tensor without recording a graph, bumps its
version counter as any in-place write, and returns it.

The variance-preserving bounds: for ``fan_in`` inputs per unit, Kaiming
(He) initialisation keeps the variance of activations through ReLU layers,
``std = gain / sqrt(fan_in)``; Xavier (Glorot) balances forward and backward,
``std = gain * sqrt(2 / (fan_in + fan_out))``. A uniform U(-b, b) has
standard deviation b / sqrt(3).
"""

import math

from chainrule.autograd.grad_mode import no_grad
from chainrule.device import backend_of
from chainrule.random import numpy_generator

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "fan_in_and_fan_out", "default_layer_init_"]

_LINEAR_GAINS = {"linear", "conv1d", "conv2d", "conv3d", "sigmoid", "conv_transpose1d",
                 "conv_transpose2d", "conv_transpose3d"}


def calculate_gain(nonlinearity, param=None):
    """The factor by which a nonlinearity scales the standard deviation to preserve."""
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def fan_in_and_fan_out(tensor):
    """Inputs and outputs per unit: (in, out) x receptive field, for Linear and Conv weights."""
    if tensor.ndim < 2:
        raise ValueError(
            f"init: fan in and fan out need a tensor of at least 2 dimensions, got shape "
            f"{tuple(tensor.shape)}"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fill(tensor, values):
    with no_grad():
        tensor.array[...] = values
        tensor._version[0] += 1
    return tensor


def _drawn(tensor, values):
    """Drawn ``values`` as an array of ``tensor``'s backend and dtype."""
    values = backend_of(values).to_host(values)
    return backend_of(tensor.array).asarray(values, dtype=tensor.dtype)


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with draws from U(a, b)."""
    draws = numpy_generator(generator).uniform(a, b, tensor.shape)
    return _fill(tensor, _drawn(tensor, draws))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with draws from N(mean, std**2)."""
    draws = numpy_generator(generator).normal(mean, std, tensor.shape)
    return _fill(tensor, _drawn(tensor, draws))


def constant_(tensor, value):
    return _fill(tensor, value)


def zeros_(tensor):
    return _fill(tensor, 0)


def ones_(tensor):
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def default_layer_init_(weight, bias=None):
    """PyTorch's default for ``Linear`` and ``Conv2d``: ``kaiming_uniform_`` with
    a = sqrt(5) for the weight, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and
    the same bound for the bias, so a model ported from PyTorch starts alike."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
        uniform_(bias, -bound, bound)
