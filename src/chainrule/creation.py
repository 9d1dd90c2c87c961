"""Making tensors: ``zeros``, ``ones``, ``full``, ``arange``, ``eye``, ``rand``, ``randn``.

Sizes are given as PyTorch does, ``zeros(2, 3)`` or ``zeros((2, 3))``;
floats default to float32. Random tensors come from one generator that
``manual_seed`` resets, so a seed gives the same numbers on every run.
"""

import numpy as np

from chainrule.tensor import Tensor, _as_dtype

__all__ = ["zeros", "ones", "full", "empty", "arange", "linspace", "eye", "rand", "randn",
           "randint", "zeros_like", "ones_like", "full_like", "rand_like", "randn_like",
           "manual_seed", "default_generator"]

default_generator = np.random.default_rng(0)


def manual_seed(seed):
    """Reset the generator behind ``rand``, ``randn``, ``randint``, dropout and init."""
    global default_generator
    default_generator = np.random.default_rng(seed)
    return default_generator


def generator():
    return default_generator


def _make(array, requires_grad):
    return Tensor._make(array, False, None).requires_grad_(requires_grad)


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{op}: sizes must be non-negative ints, got {size}")
    return tuple(int(n) for n in size)


def _float(dtype):
    return np.dtype(np.float32) if dtype is None else _as_dtype(dtype)


def zeros(*size, dtype=None, requires_grad=False):
    return _make(np.zeros(_size(size, "zeros"), _float(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _make(np.ones(_size(size, "ones"), _float(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _make(np.empty(_size(size, "empty"), _float(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None and isinstance(fill_value, (bool, int, np.integer)):
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64
    return _make(np.full(_size((size,), "full"), fill_value, _float(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """start, start + step, ... below end; ints stay int64, as in PyTorch."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else np.float32
    return _make(np.arange(start, end, step, dtype=_as_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _make(np.linspace(start, end, steps, dtype=_float(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    """Uniform on [0, 1)."""
    array = default_generator.random(_size(size, "rand"))
    return _make(array.astype(_float(dtype), copy=False), requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal."""
    array = default_generator.standard_normal(_size(size, "randn"))
    return _make(array.astype(_float(dtype), copy=False), requires_grad)


def randint(low, high=None, size=(), dtype=None):
    if high is None:
        low, high = 0, low
    array = default_generator.integers(low, high, _size((size,), "randint"))
    return _make(array.astype(dtype or np.int64), False)


def zeros_like(x, dtype=None, requires_grad=False):
    return _make(np.zeros(x.shape, dtype or x.dtype), requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    return _make(np.ones(x.shape, dtype or x.dtype), requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    return _make(np.full(x.shape, fill_value, dtype or x.dtype), requires_grad)


def rand_like(x, dtype=None, requires_grad=False):
    return rand(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)


def randn_like(x, dtype=None, requires_grad=False):
    return randn(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad)
