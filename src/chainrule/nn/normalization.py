"""Normalisation layers: BatchNorm1d/2d/3d, LayerNorm, GroupNorm, InstanceNorm1d/2d/3d,
RMSNorm and LocalResponseNorm.

Each normalises to zero mean and unit variance, ``(x - mean) / sqrt(var + eps)``,
then scales and shifts by learned ``weight`` and ``bias``; they differ in the
dimensions the statistics are taken over. BatchNorm in training is one fused
node (``chainrule.ops.normalization_batch.BatchNormTraining``, its backward
through the batch statistics in Tensor ops); the others are composed of
primitives or call their functional op. BatchNorm's running statistics are updated in place, out of the
graph, and each update bumps the buffer's version counter (as any in-place
write does), so a graph that saved a buffer before the update refuses to
backward through the stale value.
"""

import numpy as np

from chainrule.ops import creation
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.nn import functional as F
from chainrule.ops.elementwise import sqrt
from chainrule.ops.normalization import layer_norm
from chainrule.ops.normalization_batch import batch_norm_training

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "InstanceNorm1d",
           "InstanceNorm2d", "InstanceNorm3d", "RMSNorm", "LocalResponseNorm"]


class _BatchNorm(Module):
    """Statistics per channel over the batch (and positions); running averages for eval.

    In training the batch's mean and biased variance normalise, and the
    running estimates move by ``momentum`` towards the batch's mean and
    unbiased variance, as in PyTorch; in eval the running estimates are used.
    ``momentum=None`` makes them the cumulative average over all batches
    seen (the factor is 1 / num_batches_tracked).
    """

    expected_ndim = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, "
                             f"got {num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.has_bias = affine and bias
        if affine:
            self.weight = Parameter(creation.ones(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        if self.has_bias:
            self.bias = Parameter(creation.zeros(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype,
                                                                device=device))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype,
                                                              device=device))
            self.register_buffer("num_batches_tracked",
                                 creation.zeros(1, dtype=np.int64, device=device)[0])

    def forward(self, x):
        name = type(self).__name__
        if x.ndim not in self.expected_ndim or x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected input of {' or '.join(map(str, self.expected_ndim))} "
                f"dimensions with {self.num_features} channels at dim 1, got shape {tuple(x.shape)}"
            )
        if self.training or not self.track_running_stats:  # the batch's own statistics
            count = x.array.size // self.num_features
            if count <= 1:
                raise ValueError(f"{name}: expected more than 1 value per channel when training, "
                                 f"got input of shape {tuple(x.shape)}")
            out, batch_mean, batch_var = batch_norm_training(x, self.weight, self.bias, self.eps)
            if self.training and self.track_running_stats:
                self._update_running_stats(batch_mean, batch_var, count)
            return out
        channel_shape = (1, -1) + (1,) * (x.ndim - 2)
        centred = x - self.running_mean.reshape(channel_shape)
        variance = self.running_var.reshape(channel_shape)
        out = centred / sqrt(variance + self.eps)
        if self.weight is not None:
            out = out * self.weight.reshape(channel_shape)
        if self.bias is not None:
            out = out + self.bias.reshape(channel_shape)
        return out

    def _update_running_stats(self, batch_mean, batch_var, count):
        """running <- (1 - m) running + m batch (unbiased variance), in place; versions bumped.

        ``batch_mean`` and ``batch_var`` (biased) are arrays, one value per channel."""
        with no_grad():
            _write(self.num_batches_tracked, self.num_batches_tracked.array + 1)
            m = self.momentum
            if m is None:  # cumulative moving average
                m = 1.0 / self.num_batches_tracked.array.item()
            _write(self.running_mean, (1 - m) * self.running_mean.array + m * batch_mean)
            _write(self.running_var, (1 - m) * self.running_var.array
                   + m * batch_var * count / (count - 1))

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.has_bias}, "
                f"track_running_stats={self.track_running_stats}")


def _write(buffer, values):
    """``buffer[...] = values`` as an in-place write: the version counter moves on."""
    buffer.array[...] = values
    buffer._version[0] += 1


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) inputs, per channel C."""

    expected_ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) images, per channel C."""

    expected_ndim = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch norm of (N, C, D, H, W) volumes, per channel C."""

    expected_ndim = (5,)


class LayerNorm(Module):
    """Normalise each sample over its last dimensions ``normalized_shape``."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*self.normalized_shape, dtype=dtype,
                                                  device=device))
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(creation.zeros(*self.normalized_shape, dtype=dtype,
                                                 device=device))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        k = len(self.normalized_shape)
        if tuple(x.shape[-k:]) != self.normalized_shape:
            raise ValueError(f"LayerNorm: expected input ending in shape {self.normalized_shape}, "
                             f"got {tuple(x.shape)}")
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise each sample over groups of ``num_channels / num_groups`` channels (and all
    positions), then scale and shift per channel."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None,
                 *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        self.weight = (Parameter(creation.ones(num_channels, dtype=dtype, device=device))
                       if affine else None)
        self.bias = (Parameter(creation.zeros(num_channels, dtype=dtype, device=device))
                     if affine and bias else None)
        for name in ("weight", "bias"):
            if getattr(self, name) is None:
                self.register_parameter(name, None)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """Statistics per sample and channel over the positions; by default no affine map and no
    running statistics (PyTorch's defaults), so train and eval behave the same."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input):
        name = type(self).__name__
        unbatched = input.ndim == min(self.expected_ndim)
        if input.ndim not in self.expected_ndim:
            raise ValueError(f"{name}: expected {' or '.join(map(str, self.expected_ndim))}-d "
                             f"input, got shape {tuple(input.shape)}")
        x = input.unsqueeze(0) if unbatched else input
        out = F.instance_norm(
            x, self.running_mean if self.track_running_stats else None,
            self.running_var if self.track_running_stats else None,
            self.weight, self.bias,
            use_input_stats=self.training or not self.track_running_stats,
            momentum=self.momentum if self.momentum is not None else 0.1, eps=self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or (C, L) input."""

    expected_ndim = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or (C, H, W) input."""

    expected_ndim = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance norm of (N, C, D, H, W) or (C, D, H, W) input."""

    expected_ndim = (4, 5)


class RMSNorm(Module):
    """x / sqrt(mean(x**2 over normalized_shape) + eps) * weight."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*self.normalized_shape, dtype=dtype,
                                                  device=device))
        else:
            self.register_parameter("weight", None)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """x / (k + alpha / n * sum of x**2 over ``size`` neighbouring channels)**beta."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
