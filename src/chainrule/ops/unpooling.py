"""Undoing a max pool: ``max_unpool1d``, ``max_unpool2d``, ``max_unpool3d``.

Each value of the pooled input goes back to the position in its plane that
``max_pool*d(..., return_indices=True)`` recorded; every other position is 0.
One primitive, ``MaxUnpool``, writes the values at the flat indices; its
backward reads the gradient at them (an indexing op, itself differentiable).

    >>> import chainrule as cr
    >>> max_unpool1d(cr.tensor([[[5.0, 7.0]]]), cr.tensor([[[1, 2]]]), 2)
    tensor([[[0., 5., 7., 0.]]])
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops._windows import batched, check_tensor, ntuple
from chainrule.ops.indexing import read_at
from chainrule.registry import register


class MaxUnpool(Function):
    """zeros (N, C, L_out) with x written at the flat indices;  d/dx = the gradient read there.

    As PyTorch, where an index repeats the written values agree (they are the
    same maximum) and every copy gets the gradient of that position.
    """

    @staticmethod
    def forward(ctx, x, index, out_length):
        ctx.index = index
        out = array_module(x.array).zeros(x.shape[:2] + (out_length,), dtype=x.array.dtype)
        out[index] = x.array
        return out

    @staticmethod
    def backward(ctx, grad):
        return read_at(grad, ctx.index), None, None


def max_unpool(input, indices, kernel_size, stride, padding, output_size, d, op):
    """The d-dimensional unpool behind max_unpool1d/2d/3d."""
    x, was_batched = batched(input, op, d)
    check_tensor(indices, op, "indices")
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"{op}: indices must have the shape of input {tuple(input.shape)}, got "
                         f"{tuple(indices.shape)}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers (int64), got dtype {indices.dtype}")
    kernel = ntuple(kernel_size, d, op, "kernel_size", minimum=1)
    no_stride = stride is None or (isinstance(stride, (list, tuple)) and not stride)
    stride = kernel if no_stride else ntuple(stride, d, op, "stride", minimum=1)
    padding = ntuple(padding, d, op, "padding", minimum=0)
    in_size = tuple(x.shape[2:])
    if output_size is None:
        out_size = tuple((i - 1) * s - 2 * p + k for i, s, p, k
                         in zip(in_size, stride, padding, kernel))
    else:
        out_size = tuple(int(s) for s in tuple(output_size)[-d:])
        if len(out_size) != d:
            raise ValueError(f"{op}: output_size must hold the {d} spatial sizes (or the whole "
                             f"shape), got {tuple(output_size)}")
    n, c = x.shape[:2]
    length = int(np.prod(out_size))
    flat = indices.array.reshape(n, c, -1) if n * c else indices.array.reshape(n, c, 0)
    if flat.size and (flat.min() < 0 or flat.max() >= length):
        raise IndexError(f"{op}: indices must lie in [0, {length}) for output size {out_size}, "
                         f"got values from {flat.min()} to {flat.max()}")
    xp = array_module(x.array)
    index = (xp.arange(n).reshape(n, 1, 1), xp.arange(c).reshape(1, c, 1), flat.astype(np.int64))
    out = MaxUnpool.apply(x.reshape(n, c, flat.shape[2]), index, length)
    out = out.reshape((n, c) + out_size)
    return out if was_batched else out.reshape(out.shape[1:])


@register("nn.functional")
def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """``max_pool1d``'s partial inverse, as ``torch.nn.functional.max_unpool1d``.

    Output length (L - 1) * stride - 2 * padding + kernel_size unless ``output_size`` says.
    """
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 1,
                      "max_unpool1d")


@register("nn.functional")
def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """``max_pool2d``'s partial inverse, as ``torch.nn.functional.max_unpool2d``: each value
    of input goes to its index (``row * W + column``) in a zero plane."""
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 2,
                      "max_unpool2d")


@register("nn.functional")
def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """``max_pool3d``'s partial inverse, as ``torch.nn.functional.max_unpool3d``."""
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 3,
                      "max_unpool3d")
