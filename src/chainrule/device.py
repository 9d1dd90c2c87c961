"""Devices and the one seam between chainrule and its array library.

A tensor's arrays live on a *device*; each device type has a *backend*, the
array module that does the work (``numpy`` for ``"cpu"``, the only backend
today). Ops never name numpy for array work: they ask the backend of their
operands, as Chainer's ``get_array_module`` does, so a GPU backend (CuPy)
can be added here without touching a single op::

    xp = array_module(x.array)            # numpy for a CPU array
    out = xp.exp(x.array)

Metadata that is the same for every backend (dtypes, shapes, broadcasting
rules) may still use numpy directly.

    >>> import chainrule as cr
    >>> cr.device("cpu")
    device(type='cpu')
    >>> cr.zeros(2, device="cpu").device
    device(type='cpu')
"""

import math

import numpy as np

from chainrule import host_memory

__all__ = ["device", "Backend", "array_module", "backend_of", "backend_for", "register_backend",
           "cpu"]


class device:
    """Where a tensor's data lives, as ``torch.device``: ``device("cpu")``, ``device("cuda", 0)``.

    ``device("cuda:1")`` and ``device("cuda", 1)`` are the same device; a
    device compares equal to another with the same type and index.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got "
                            f"{type.__class__.__name__} {type!r}")
        if ":" in type:
            if index is not None:
                raise ValueError(f"device: the index is given twice, in {type!r} and as {index}")
            type, _, number = type.partition(":")
            if not number.isdigit():
                raise ValueError(f"device: expected 'TYPE:INDEX' with a number, got {type}:{number}")
            index = int(number)
        if type not in _KNOWN_TYPES:
            raise RuntimeError(
                f"device: expected one of {', '.join(sorted(_KNOWN_TYPES))} device type at start "
                f"of device string: {type}"
            )
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device: the index must be a non-negative int, got {index!r}")
        self.type = type
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


_KNOWN_TYPES = {"cpu", "cuda", "mps", "meta"}


class Backend:
    """One array library behind a device type.

    ``xp`` is the array module (numpy's API); the methods below cover what
    is spelled differently across array libraries (numpy's ``ufunc.at``
    is CuPy's ``cupyx.scatter_add``, and so on). A new backend subclasses
    this and overrides what its library spells differently.
    """

    def __init__(self, device_type, xp):
        self.device = device(device_type)
        self.xp = xp

    def add_at(self, target, index, values):
        """``target[index] += values``, repeated indices adding up (numpy's ``add.at``).

        Rows picked by one integer array (an embedding's or a gather's gradient)
        go through ``add.at`` on the flattened arrays, whose one-dimensional
        loop is 5 to 6 times faster than its loop over rows (a (512, 64)
        gradient into 65 rows: 38 against 240 µs) and adds in the same order,
        so to the same bits.
        """
        xp = self.xp
        if (xp is np and type(index) is np.ndarray and index.dtype.kind in "iu" and target.ndim > 1
                and index.size and target.flags.c_contiguous and target.flags.writeable):
            rows = target.shape[0]
            low, high = int(index.min()), int(index.max())
            if -rows <= low and high < rows:  # out of range: add.at raises its IndexError
                width = math.prod(target.shape[1:])
                if low < 0:
                    index = np.where(index < 0, index + rows, index)
                flat = (index.reshape(-1, 1) * width + np.arange(width)).reshape(-1)
                rows_shape = index.shape + target.shape[1:]
                xp.add.at(target.reshape(-1), flat,
                          np.broadcast_to(values, rows_shape).reshape(-1))
                return
        xp.add.at(target, index, values)

    def transposed_copy(self, matrix):
        """``matrix`` (R, C) transposed, C-contiguous (C, R): a copy unless its transpose
        already is (``ascontiguousarray``'s rule)."""
        return self.xp.ascontiguousarray(self.readable_down_columns(matrix).T)

    def readable_down_columns(self, matrix):
        """``matrix`` (R, C), or a copy of it with the same values, laid out to be read
        down its columns (as copying its transpose does) at full speed.

        When more rows than a cache set holds are read together and they lie a
        multiple of 512 bytes apart, they all fall on a few cache sets and evict
        each other: numpy's copy of the transpose then runs 2 to 5 times slower
        than its size asks (a float32 (64, 4096) source: 554 µs). Copying the
        rows first into a buffer whose rows are one cache line longer spreads
        them over the sets: the two copies together take 128 µs.
        """
        rows, cols = matrix.shape
        if self.xp is not np or rows <= 8 or matrix.size < 16384 or abs(matrix.strides[0]) % 512:
            return matrix
        staged = self.xp.empty((rows, cols + max(64 // matrix.itemsize, 1)), matrix.dtype)
        staged[:, :cols] = matrix
        return staged[:, :cols]

    def max_along(self, values, axis, initial=None):
        """``values.max(axis, keepdims=True)`` (NaN wins; ``initial`` for an empty axis).

        numpy reduces a short last axis row by row, at a fixed cost per row:
        (16, 32, 32) float32 takes 31.7 µs. The maxima of the rows' transpose,
        whose reduced axis is then the outer one, come a whole row of results
        at a time: 13.7 µs with the copy, the same values.
        """
        n = values.shape[axis] if values.ndim and axis is not None else 0
        if (self.xp is np and axis in (-1, values.ndim - 1) and 2 <= n <= 256
                and values.size >= 2048 and values.dtype.kind == "f"):
            rows = values.reshape(values.size // n, n)
            return np.ascontiguousarray(rows.T).max(axis=0).reshape(values.shape[:-1] + (1,))
        if initial is None:
            return values.max(axis=axis, keepdims=True)
        return values.max(axis=axis, keepdims=True, initial=initial)

    def sum_along(self, values, axis, other=None):
        """``(values * other).sum(axis, keepdims=True)`` (``values`` alone without ``other``),
        the product never made.

        Along a last axis of up to 1,024 float32 or float64 numbers this is
        ``einsum``, which adds each row in SIMD lanes instead of numpy's
        per-row pairwise loop: (16, 32, 32) float32 5.6 against 13.4 µs. Its
        rounding differs from ``sum``'s in the last bits (both add in the
        array's dtype).
        """
        n = values.shape[axis] if values.ndim and axis is not None else 0
        same = other is None or (other.shape == values.shape and other.dtype == values.dtype)
        if (self.xp is np and axis in (-1, values.ndim - 1) and n <= 1024 and same
                and values.dtype in _EINSUM_SUM_DTYPES):
            total = (np.einsum("...i->...", values) if other is None
                     else np.einsum("...i,...i->...", values, other))
            return total[..., None]
        return (values if other is None else values * other).sum(axis=axis, keepdims=True)

    def mean_along(self, values, axis):
        """``values.mean(axis, keepdims=True)``: ``sum_along`` over the count for float32 and
        float64; numpy's ``mean`` otherwise (it adds float16 in float32)."""
        if values.dtype in _EINSUM_SUM_DTYPES and values.ndim and values.shape[axis]:
            return self.sum_along(values, axis) / values.dtype.type(values.shape[axis])
        return values.mean(axis=axis, keepdims=True)

    def as_strided(self, array, shape, strides):
        """A read-only view of ``array`` with the given shape and byte strides."""
        return np.lib.stride_tricks.as_strided(array, shape, strides, writeable=False)

    def sliding_window_view(self, array, window_shape, axis=None):
        return np.lib.stride_tricks.sliding_window_view(array, window_shape, axis)

    def asarray(self, data, dtype=None):
        """An array of this backend from ``data`` (a number, list or host array)."""
        return self.xp.asarray(data, dtype=dtype)

    def to_host(self, array):
        """The array as a numpy array in host memory (a no-op for numpy)."""
        return array

    def default_rng(self, seed=None):
        return np.random.default_rng(seed)

    def __repr__(self):
        return f"<Backend {self.device} ({self.xp.__name__})>"


_EINSUM_SUM_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
cpu = device("cpu")
host_memory.keep_freed_memory()  # numpy's fresh arrays each step: see host_memory.py
_numpy_backend = Backend("cpu", np)
_backends_by_array_type = {np.ndarray: _numpy_backend}
_backends_by_device_type = {"cpu": _numpy_backend}


def register_backend(array_type, backend):
    """Make ``backend`` the backend of arrays of ``array_type`` and of its device type."""
    _backends_by_array_type[array_type] = backend
    _backends_by_device_type[backend.device.type] = backend


def unregister_backend(array_type):
    backend = _backends_by_array_type.pop(array_type)
    if _backends_by_device_type.get(backend.device.type) is backend:
        del _backends_by_device_type[backend.device.type]


def backend_of(array):
    """The backend of ``array``; numpy's for numbers and numpy arrays."""
    backend = _backends_by_array_type.get(type(array))
    if backend is not None:
        return backend
    for array_type, candidate in _backends_by_array_type.items():  # subclasses
        if array_type is not np.ndarray and isinstance(array, array_type):
            return candidate
    return _numpy_backend


def array_module(*arrays):
    """The array module for the given arrays (``numpy`` today); the first non-numpy one wins."""
    for array in arrays:
        if type(array) not in _NUMPY_TYPES:
            backend = backend_of(array)
            if backend is not _numpy_backend:
                return backend.xp
    return np


# Types that are numpy's without a lookup: the per-op fast path of array_module.
_NUMPY_TYPES = frozenset({np.ndarray, float, int, bool, np.float16, np.float32, np.float64,
                          np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_})


def backend_for(dev):
    """The backend for a device (a ``device``, a string like ``"cpu"``, or None for the CPU).

    Asking for a device with no backend installed is a clear error, never a
    numpy traceback.
    """
    if dev is None:
        return _numpy_backend
    if type(dev) is not device:
        if isinstance(dev, int) and not isinstance(dev, bool):
            dev = device("cuda", dev)
        else:
            dev = device(dev)
    backend = _backends_by_device_type.get(dev.type)
    if backend is None:
        raise RuntimeError(
            f"device {str(dev)!r} is not available: chainrule has no {dev.type} backend installed "
            "(only 'cpu', on numpy, is built in). Use device='cpu', or test with "
            "chainrule.cuda.is_available() before asking for a GPU"
        )
    return backend


def device_of(array):
    """The device an array lives on."""
    return backend_of(array).device
