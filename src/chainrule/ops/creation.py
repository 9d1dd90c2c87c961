"""Making tensors: ``zeros``, ``ones``, ``full``, ``arange``, ``eye``, ``rand``, ``randn``, ...

Sizes are given as PyTorch does, ``zeros(2, 3)`` or ``zeros((2, 3))``;
floats default to float32. Every function takes ``dtype=``, ``device=``
and ``requires_grad=``, and builds its array with the device's backend
(``backend_for(device).xp``); ``*_like`` functions default to the input's
dtype and device. Random tensors draw from a ``chainrule.random.Generator``
(``generator=``, else ``default_generator``, which ``manual_seed`` resets),
so a seed gives the same numbers on every run and every device.

    >>> import chainrule as cr
    >>> cr.zeros(2, 3, dtype=cr.float64, device="cpu").shape
    (2, 3)
    >>> cr.arange(3).new_ones(2)
    tensor([1, 1])
"""

import numbers

import numpy as np

from chainrule.device import backend_for, backend_of
# default_generator and manual_seed are read here by older call sites (creation.default_generator)
from chainrule.random import default_generator, manual_seed, numpy_generator  # noqa: F401
from chainrule.registry import register
from chainrule.tensor import Tensor, _as_dtype, _to_array


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


def _xp(device):
    return backend_for(device).xp


def _fill_dtype(fill_value, dtype):
    """``full``'s dtype: the given one, else bool, int64 or float32 by the value, as PyTorch."""
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if dtype is None and isinstance(fill_value, (int, np.integer)):
        return np.dtype(np.int64)
    return _float(dtype)


# ------------------------------------------------------------ filled tensors


@register("torch")
def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _make(_xp(device).zeros(_size(size, "zeros"), _float(dtype)), requires_grad)


@register("torch")
def ones(*size, dtype=None, device=None, requires_grad=False):
    return _make(_xp(device).ones(_size(size, "ones"), _float(dtype)), requires_grad)


@register("torch")
def empty(*size, dtype=None, device=None, requires_grad=False):
    """A tensor whose values are whatever the memory held."""
    return _make(_xp(device).empty(_size(size, "empty"), _float(dtype)), requires_grad)


@register("torch")
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    dtype = _fill_dtype(fill_value, dtype)
    return _make(_xp(device).full(_size((size,), "full"), fill_value, dtype), requires_grad)


@register("torch")
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """start, start + step, ... below end; ints stay int64, as in PyTorch."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else np.float32
    return _make(_xp(device).arange(start, end, step, dtype=_as_dtype(dtype)), requires_grad)


@register("torch")
def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    return _make(_xp(device).linspace(start, end, steps, dtype=_float(dtype)), requires_grad)


@register("torch")
def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """base ** linspace(start, end, steps); ``start`` and ``end`` may be 0-d tensors."""
    start, end = (float(v.item()) if isinstance(v, Tensor) else v for v in (start, end))
    exponents = np.linspace(start, end, steps, dtype=np.float64)
    dtype = _float(dtype)
    values = np.power(float(base), exponents)
    if dtype.kind in "iub":
        values = np.trunc(values)  # PyTorch computes in the integer type: no rounding up
    return _make(_xp(device).asarray(values.astype(dtype)), requires_grad)


@register("torch")
def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number ``s``; float32 unless ``dtype`` says otherwise."""
    return _make(_xp(device).asarray(s, dtype=_float(dtype)), requires_grad)


@register("torch")
def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix.

    ``offset`` moves the diagonal up (> 0) or down (< 0); row-major order.
    """
    rows, cols = np.tril_indices(row, offset, col)
    return _index_pairs(rows, cols, dtype, device)


@register("torch")
def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row and column indices of the upper triangle of a row x col matrix."""
    rows, cols = np.triu_indices(row, offset, col)
    return _index_pairs(rows, cols, dtype, device)


def _index_pairs(rows, cols, dtype, device):
    dtype = np.dtype(np.int64) if dtype is None else _as_dtype(dtype)
    return _make(_xp(device).asarray(np.stack([rows, cols]).astype(dtype)), False)


@register("torch")
def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return _make(_xp(device).eye(n, m, dtype=_float(dtype)), requires_grad)


# ------------------------------------------------------------ random tensors


def _drawn(array, dtype, device, requires_grad):
    """A tensor of ``array`` (drawn on the generator's device) as ``dtype`` on ``device``."""
    backend = backend_for(device)
    if backend is not backend_of(array):
        array = backend.xp.array(backend_of(array).to_host(array), copy=True)
    return _make(array.astype(dtype, copy=False), requires_grad)


@register("torch")
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    array = numpy_generator(generator).random(_size(size, "rand"))
    return _drawn(array, _float(dtype), device, requires_grad)


@register("torch")
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    array = numpy_generator(generator).standard_normal(_size(size, "randn"))
    return _drawn(array, _float(dtype), device, requires_grad)


@register("torch")
def randint(*args, size=None, low=None, high=None, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers drawn uniformly from [low, high), low 0 unless given.

    As PyTorch: ``randint(high, size)`` or ``randint(low, high, size)``,
    positionally or by keyword.
    """
    low, high, size = _randint_arguments(args, low, high, size)
    array = numpy_generator(generator).integers(low, high, _size((size,), "randint"))
    dtype = np.dtype(np.int64) if dtype is None else _as_dtype(dtype)
    return _drawn(array, dtype, device, requires_grad)


def _randint_arguments(args, low, high, size):
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if len(args) == 2 and low is None and high is None:
        low, high = args
    elif len(args) == 1 and high is None:
        high = args[0]
    elif len(args) == 1 and low is None:
        low = args[0]
    elif args:
        raise TypeError(f"randint: expected randint(high, size) or randint(low, high, size), "
                        f"got the positional arguments {tuple(args)}")
    if high is None or size is None:
        raise TypeError("randint: high and size are required, as in randint(10, (3,)) "
                        "or randint(0, 10, (3,))")
    for name, bound in (("low", low), ("high", high)):
        if bound is not None and not isinstance(bound, numbers.Integral):
            raise TypeError(f"randint: {name} must be an int, got {type(bound).__name__}")
    return 0 if low is None else low, high, size


# ------------------------------------------------------------ like another tensor


def _like(input, dtype, device):
    return (input.dtype if dtype is None else _as_dtype(dtype),
            input.device if device is None else device)


@register("torch")
def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _make(_xp(device).zeros(input.shape, dtype), requires_grad)


@register("torch")
def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _make(_xp(device).ones(input.shape, dtype), requires_grad)


@register("torch")
def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _make(_xp(device).empty(input.shape, dtype), requires_grad)


@register("torch")
def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _make(_xp(device).full(input.shape, fill_value, dtype), requires_grad)


@register("torch")
def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    dtype, device = _like(input, dtype, device)
    return rand(input.shape, generator=generator, dtype=dtype, device=device,
                requires_grad=requires_grad)


@register("torch")
def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False,
               memory_format=None):
    dtype, device = _like(input, dtype, device)
    return randn(input.shape, generator=generator, dtype=dtype, device=device,
                 requires_grad=requires_grad)


@register("torch")
def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad=False, memory_format=None):
    """``randint`` with ``input``'s shape, dtype and device; ``randint_like(x, high)`` works too."""
    if high is None:
        low, high = 0, low
    dtype, device = _like(input, dtype, device)
    return randint(low, high, input.shape, generator=generator, dtype=dtype, device=device,
                   requires_grad=requires_grad)


# ------------------------------------------------------------ Tensor.new_*


def _new(input, dtype, device):
    """Defaults of the ``new_*`` methods: ``input``'s dtype and device."""
    return _like(input, dtype, device)


@register("Tensor")
def new_zeros(input, *size, dtype=None, device=None, requires_grad=False):
    dtype, device = _new(input, dtype, device)
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


@register("Tensor")
def new_ones(input, *size, dtype=None, device=None, requires_grad=False):
    dtype, device = _new(input, dtype, device)
    return ones(*size, dtype=dtype, device=device, requires_grad=requires_grad)


@register("Tensor")
def new_empty(input, *size, dtype=None, device=None, requires_grad=False):
    dtype, device = _new(input, dtype, device)
    return empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)


@register("Tensor")
def new_full(input, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    dtype, device = _new(input, dtype, device)
    return full(size, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


@register("Tensor")
def new_tensor(input, data, *, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``, with ``input``'s dtype and device by default."""
    dtype, device = _new(input, dtype, device)
    return _make(_to_array(data, dtype, device), requires_grad)
