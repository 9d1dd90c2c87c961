"""``batch_norm`` and ``instance_norm``: normalise each channel (dim 1) by its statistics.

    y = (x - mean) / sqrt(var + eps) * weight + bias

``batch_norm`` takes the statistics over the batch and every position
(all dims but 1), ``instance_norm`` over the positions of each sample
alone. With ``training`` (``use_input_stats``) the input's own biased
statistics are used, and the running estimates, when given, move in place
towards the input's mean and unbiased variance by ``momentum``, as in
PyTorch; otherwise the running estimates are used. With the input's own
statistics, batch norm is one ``Function`` (``BatchNormTraining``): the input
centred once (and kept for the backward), per-channel sums by ``einsum``, the
affine map in place, and a backward of two per-channel sums and three
passes, where the composition of mean, subtraction, power and the affine
step made a dozen. (64, 64, 8, 8) float32, forward + backward: 0.50 ms,
against 0.90 ms with numpy's ``sum`` for the statistics and a fresh array
for each step of the arithmetic.
Its backward is written in ``Tensor`` ops; with ``create_graph=True`` it
recomputes the statistics from ``x`` with differentiable ops, so second
derivatives are exact. With the running estimates it is composed.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.batch_norm(cr.tensor([[1.0], [3.0]]), None, None, training=True)
    tensor([[-1.0000],
            [ 1.0000]])
"""

import math

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import _mode, no_grad
from chainrule.device import array_module
from chainrule.registry import register
from chainrule.tensor import Tensor

__all__ = []  # the ops are registered


def _check_input(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}; convert it "
                        "with .float()")


def _channel_shape(input):
    """The shape that lines a per-channel vector up with dim 1 of ``input``."""
    if input.ndim < 2:
        return (-1,)
    return (1, -1) + (1,) * (input.ndim - 2)


def _per_channel(t, input, name, op):
    if t is None:
        return None
    channels = input.shape[1] if input.ndim > 1 else input.shape[0]
    if tuple(t.shape) != (channels,):
        raise RuntimeError(f"{op}: {name} must have one value per channel, shape ({channels},), "
                           f"got {tuple(t.shape)} for input of shape {tuple(input.shape)}")
    return t.reshape(_channel_shape(input))


def _normalized(input, mean, variance, eps, weight, bias):
    out = (input - mean) * (variance + eps) ** -0.5
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _write(buffer, values):
    """``buffer[...] = values``, an in-place write outside the graph: the version moves on."""
    buffer.array[...] = values.astype(buffer.dtype, copy=False)
    buffer._version[0] += 1


def _unbiased(variance, count):
    """The biased variance of ``count`` values made unbiased (times count / (count - 1))."""
    return variance * (count / (count - 1)) if count > 1 else variance


def _update_running(running_mean, running_var, mean, unbiased_variance, momentum):
    """running <- (1 - momentum) running + momentum batch, for each estimate given."""
    with no_grad():
        if running_mean is not None:
            _write(running_mean, (1 - momentum) * running_mean.array + momentum * mean)
        if running_var is not None:
            _write(running_var, (1 - momentum) * running_var.array
                   + momentum * unbiased_variance)


class BatchNormTraining(Function):
    """y = xhat * w + b, xhat = (x - mean) * rstd per channel, rstd = (var + eps)**-1/2, the
    statistics over every dim but 1; dL/dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)),
    gw = g * w; dL/dw = sum(g * xhat); dL/db = sum(g).

    ``mean`` and ``variance`` (arrays, one per channel) are the caller's, so that it can
    update running estimates from them; they are the input's biased statistics.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, variance, eps, centred=None):
        xp = array_module(x.array)
        values = x.array
        shape = _channel_shape(values)
        rstd = 1 / xp.sqrt(variance + values.dtype.type(eps))
        if centred is None:
            centred = values - mean.reshape(shape)
        scale = rstd if weight is None else rstd * weight.array
        out = centred * scale.reshape(shape)
        if bias is not None:
            out += bias.array.reshape(shape)
        ctx.save_for_backward(x, weight)
        ctx.centred, ctx.rstd, ctx.eps = centred, rstd, eps
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        dims = (0,) + tuple(range(2, x.ndim))
        if _mode.enabled:  # create_graph: the statistics as functions of x, to differentiate again
            shape = _channel_shape(x)
            centred = x - x.mean(dims, keepdim=True)
            rstd = ((centred * centred).mean(dims, keepdim=True) + ctx.eps) ** -0.5
            xhat = centred * rstd
            w = None if weight is None else weight.reshape(shape)
            grad_x = grad_weight = grad_bias = None
            if needs_x:
                gw = grad if w is None else grad * w
                grad_x = rstd * (gw - gw.mean(dims, keepdim=True)
                                 - xhat * (gw * xhat).mean(dims, keepdim=True))
            if needs_weight:
                grad_weight = (grad * xhat).sum(dims)
            if needs_bias:
                grad_bias = grad.sum(dims)
            return grad_x, grad_weight, grad_bias, None, None, None
        return _batch_norm_backward(ctx, grad.array, weight, needs_x, needs_weight,
                                    needs_bias) + (None, None, None)


def _channel_sum(values, other=None):
    """Per channel (dim 1), the sum over every other dim of ``values``, or of
    ``values * other`` without making the product.

    ``einsum`` over a (N, C, positions) view: 4 to 5 times faster than
    ``sum(axis=(0, 2, 3))``, whose loop runs over each short row of
    positions in turn ((64, 64, 8, 8) float32: 21 against 96 µs, with the
    product 41 against 131 µs). Both add float32 and float64 in their own
    dtype; half precision keeps ``sum``, which adds it in float32.
    """
    xp = array_module(values)
    if values.dtype.itemsize < 4:
        dims = (0,) + tuple(range(2, values.ndim))
        return (values if other is None else values * other).sum(axis=dims)
    rows = values.reshape(values.shape[0], values.shape[1], math.prod(values.shape[2:]))
    if other is None:
        return xp.einsum("ncp->c", rows)
    return xp.einsum("ncp,ncp->c", rows, other.reshape(rows.shape))


def _batch_norm_backward(ctx, g, weight, needs_x, needs_weight, needs_bias):
    """The first-order gradients as arrays: two per-channel sums and three passes over g."""
    centred, rstd = ctx.centred, ctx.rstd
    shape = _channel_shape(g)
    count = g.size // rstd.size
    sum_g = _channel_sum(g)
    sum_gc = _channel_sum(g, centred)  # sum(g * xhat) = rstd * sum_gc
    grad_x = grad_weight = grad_bias = None
    if needs_x:  # (g - mean(g) - centred * rstd**2 * mean(g * centred)) * scale
        scale = rstd if weight is None else rstd * weight.array
        grad_x = g * scale.reshape(shape)
        grad_x -= centred * (rstd * rstd * sum_gc / count * scale).reshape(shape)
        grad_x -= (sum_g / count * scale).reshape(shape)
        grad_x = Tensor._make(grad_x, False, None)
    if needs_weight:
        grad_weight = Tensor._make(sum_gc * rstd, False, None)
    if needs_bias:
        grad_bias = Tensor._make(sum_g, False, None)
    return grad_x, grad_weight, grad_bias


def batch_statistics(x):
    """The per-channel mean and biased variance of ``x`` (arrays) over every dim but 1, and
    ``x`` less its mean."""
    values = x.array
    count = values.size // values.shape[1]
    mean = _channel_sum(values) / values.dtype.type(count)
    centred = values - mean.reshape(_channel_shape(values))
    return mean, _channel_sum(centred, centred) / values.dtype.type(count), centred


def batch_norm_training(x, weight, bias, eps):
    """Batch norm with the input's own statistics, as one node; also the statistics (arrays:
    mean and biased variance, per channel) for the caller's running estimates."""
    mean, variance, centred = batch_statistics(x)
    out = BatchNormTraining.apply(x, weight, bias, mean, variance, eps, centred=centred)
    return out, mean, variance


@register("nn.functional")
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """(x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1).

    In training (or without running estimates) the mean and biased variance
    of the input over every dim but 1; ``running_mean`` and ``running_var``
    are then updated in place. Otherwise the running estimates are used.
    """
    _check_input(input, "batch_norm")
    dims = (0,) + tuple(range(2, input.ndim))
    count = input.numel() // (input.shape[1] if input.ndim > 1 else 1) if input.ndim else 1
    if training and count == 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {tuple(input.shape)}")
    own_statistics = training or running_mean is None or running_var is None
    if own_statistics and input.ndim >= 2:  # one fused node
        _per_channel(weight, input, "weight", "batch_norm")
        _per_channel(bias, input, "bias", "batch_norm")
        out, mean, variance = batch_norm_training(input, weight, bias, eps)
        if training:
            _update_running(running_mean, running_var, mean, _unbiased(variance, count), momentum)
        return out
    weight = _per_channel(weight, input, "weight", "batch_norm")
    bias = _per_channel(bias, input, "bias", "batch_norm")
    if own_statistics:
        mean = input.mean(dims, keepdim=True)
        centred = input - mean
        variance = (centred * centred).mean(dims, keepdim=True)
        if training:
            _update_running(running_mean, running_var, mean.array.reshape(-1),
                            _unbiased(variance.array.reshape(-1), count), momentum)
    else:
        mean = _per_channel(running_mean, input, "running_mean", "batch_norm")
        variance = _per_channel(running_var, input, "running_var", "batch_norm")
    return _normalized(input, mean, variance, eps, weight, bias)


@register("nn.functional")
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """(x - mean) / sqrt(var + eps) * weight + bias, statistics per sample and channel.

    With ``use_input_stats`` the statistics are each (sample, channel)'s over
    its positions (dims 2...), and the running estimates, when given, move
    towards their average over the batch; otherwise the running estimates
    are used.
    """
    _check_input(input, "instance_norm")
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of at least 3 dims (N, C, L...), "
                         f"got shape {tuple(input.shape)}")
    dims = tuple(range(2, input.ndim))
    count = math.prod(input.shape[2:])
    if use_input_stats and count == 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, "
                         f"got input of shape {tuple(input.shape)}")
    weight = _per_channel(weight, input, "weight", "instance_norm")
    bias = _per_channel(bias, input, "bias", "instance_norm")
    if use_input_stats:
        mean = input.mean(dims, keepdim=True)
        centred = input - mean
        variance = (centred * centred).mean(dims, keepdim=True)
        if running_mean is not None or running_var is not None:
            # PyTorch updates one running estimate per instance, then averages over the batch
            channels = input.shape[1]
            _update_running(running_mean, running_var,
                            mean.array.reshape(-1, channels).mean(axis=0),
                            _unbiased(variance.array, count).reshape(-1, channels).mean(axis=0),
                            momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and "
                             "running_var")
        mean = _per_channel(running_mean, input, "running_mean", "instance_norm")
        variance = _per_channel(running_var, input, "running_var", "instance_norm")
    return _normalized(input, mean, variance, eps, weight, bias)
