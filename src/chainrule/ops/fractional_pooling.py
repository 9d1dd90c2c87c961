"""Fractional max pools: ``fractional_max_pool2d`` and ``fractional_max_pool3d``.

Windows of a fixed size placed at pseudo-random starts (Graham, 2014), as
PyTorch places them: per plane and dimension a sample ``u`` in [0, 1) gives
``alpha = (n - k) / (m - 1)`` and starts ``int((i + u) * alpha) - int(u * alpha)``
for the first m - 1 outputs, ``n - k`` for the last. The samples come from
the default generator (or ``_random_samples``, shape (N, C, d)). Each
window's first maximum is read from the input, so the gradient adds back
there, as with the other max pools.
"""

import numpy as np

from chainrule.device import array_module
from chainrule.ops._windows import batched, ntuple
from chainrule.ops.adaptive_pooling import max_over_candidates
from chainrule.random import numpy_generator
from chainrule.registry import register
from chainrule.tensor import Tensor


def _starts(samples, size, out, k):
    """Window starts (..., out) for samples (...,) along a dimension of ``size``."""
    xp = array_module(samples)
    if out == 1:
        return xp.full(samples.shape + (1,), size - k, dtype=np.int64)
    alpha = (size - k) / (out - 1)
    i = xp.arange(out - 1)
    starts = ((i + samples[..., None]) * alpha).astype(np.int64) - (
        samples[..., None] * alpha).astype(np.int64)
    last = xp.full(samples.shape + (1,), size - k, dtype=np.int64)
    return xp.concatenate([starts, last], axis=-1)


def fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                        random_samples, d, op):
    x, was_batched = batched(input, op, d)
    n, c = x.shape[:2]
    image_size = tuple(x.shape[2:])
    kernel = ntuple(kernel_size, d, op, "kernel_size", minimum=1)
    if output_size is None:
        if output_ratio is None:
            raise ValueError(f"{op}: give output_size or output_ratio")
        ratios = tuple(output_ratio) if isinstance(output_ratio, (list, tuple)) else (
            (output_ratio,) * d)
        if len(ratios) == 1:
            ratios = ratios * d
        if not all(0 < r < 1 for r in ratios):
            raise ValueError(f"{op}: output_ratio must be between 0 and 1, got {output_ratio!r}")
        sizes = tuple(int(size * r) for size, r in zip(image_size, ratios))
    else:
        sizes = ntuple(output_size, d, op, "output_size", minimum=1)
    if any(m + k - 1 > size for m, k, size in zip(sizes, kernel, image_size)):
        raise ValueError(f"{op}: output_size {sizes} plus kernel_size {kernel} minus one must "
                         f"fit in the input's spatial size {image_size}")
    xp = array_module(x.array)
    if random_samples is None:
        samples = xp.asarray(numpy_generator(None).random((n, c, d)), dtype=x.array.dtype)
    else:
        samples = random_samples.array if isinstance(random_samples, Tensor) else random_samples
        if tuple(samples.shape) != (n, c, d):
            raise ValueError(f"{op}: _random_samples must have shape {(n, c, d)}, got "
                             f"{tuple(samples.shape)}")
    flat = xp.zeros((n, c) + (1,) * (2 * d), dtype=np.int64)
    for axis, (size, m, k) in enumerate(zip(image_size, sizes, kernel)):
        # PyTorch's 2-d kernel gives the first sample to the width, its 3-d kernel to the depth
        sample = samples[:, :, d - 1 - axis if d == 2 else axis]
        starts = _starts(sample, size, m, k)  # (n, c, m)
        cells = starts[..., None] + xp.arange(k)  # (n, c, m, k)
        shape = [n, c] + [1] * (2 * d)
        shape[2 + axis], shape[2 + d + axis] = m, k
        flat = flat * size + cells.reshape(shape)
    candidates = flat.reshape((n, c) + sizes + (-1,))
    values, indices = max_over_candidates(x, candidates)
    indices = Tensor._make(indices, False, None)
    if not was_batched:
        values, indices = values.reshape(values.shape[1:]), indices.reshape(indices.shape[1:])
    return (values, indices) if return_indices else values


@register("nn.functional")
def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Fractional max pool over (N, C, H, W), as ``torch.nn.functional.fractional_max_pool2d``:
    windows of ``kernel_size`` at random starts, ``output_size`` (or ``output_ratio`` of the
    input's size) outputs per dimension; random, from the default generator."""
    return fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                               _random_samples, 2, "fractional_max_pool2d")


@register("nn.functional")
def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Fractional max pool over (N, C, D, H, W), as
    ``torch.nn.functional.fractional_max_pool3d``."""
    return fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                               _random_samples, 3, "fractional_max_pool3d")
