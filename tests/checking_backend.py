"""A checking backend: arrays that fail loudly when numpy is used behind the device seam's back.

``CheckedArray`` is an ``np.ndarray`` subclass. Numpy *functions* called on
it (``np.exp(a)``, ``np.add.at(a, ...)``, ``np.concatenate([a, b])``) raise
``SeamViolation``, unless they run inside the checking backend's own array
module ``xp`` (``chainrule.device.array_module(a)`` returns it), whose every
function sets a flag while it runs, hands numpy plain arrays and makes its
array results (numpy scalars too) ``CheckedArray`` again. Array *methods*
and operators (``a.sum()``, ``a + b``, ``a[i] = v``) are the array's own
API, allowed on every backend: each is wrapped to run with the flag set.

What else counts as a violation, with the reason:

- a plain floating-point numpy array handed to ``xp`` or to an array method
  together with checked ones: it was made outside the backend (``np.zeros``,
  ``np.asarray``, ``np.lib.stride_tricks``...), and a GPU array library
  would refuse it. Integer and boolean arrays (indices and masks, which a
  user may give as host arrays) and the converters ``xp.asarray``/``xp.array``
  are exempt;
- a tensor made (``Tensor._make``, the one place tensors are made) from a
  plain floating-point array or a numpy scalar while the backend is
  installed: an op's result that left the backend. The tests also check
  that every output and gradient is a ``CheckedArray``.

Allowed outside ``xp``: ``np.shape``/``np.ndim``/``np.size``/``np.result_type``
(metadata), and a Python operator with a numpy *scalar* on the left
(``np.float64(2) * a``: numpy routes it to ``np.multiply``, and every array
library accepts it).

Each message names the chainrule line, the ``Function`` it ran in and what
the caller called. Every violation is also logged in ``violations``, so one
swallowed by an ``except`` still fails the test. ``installed()`` registers
the backend (device type ``"checked"``) for the length of a ``with`` block.
"""

import contextlib
import importlib
import inspect
import os
import sys
import threading
import types

import numpy as np

from chainrule.device import Backend
from chainrule.tensor import Tensor

device_module = importlib.import_module("chainrule.device")  # chainrule.device is also the class

DEVICE_TYPE = "checked"
violations = []


class SeamViolation(AssertionError):
    """A numpy function ran on a checked array outside the backend's ``xp``."""


class _State(threading.local):
    depth = 0  # > 0 while a function of xp or an array method runs


_state = _State()
_view = np.ndarray.view
_CHAINRULE = os.sep + "chainrule" + os.sep
_HERE = os.path.abspath(__file__)
_METADATA = {"shape", "ndim", "size", "result_type"}
_CONVERTERS = {"asarray", "array", "asanyarray", "ascontiguousarray"}
_BINARY_OPERATORS = {np.add, np.subtract, np.multiply, np.true_divide, np.floor_divide,
                     np.remainder, np.power, np.matmul, np.equal, np.not_equal, np.less,
                     np.less_equal, np.greater, np.greater_equal, np.bitwise_and, np.bitwise_or,
                     np.bitwise_xor, np.divmod}


def _call_site():
    """Where a violation happened: the innermost chainrule frame, the op it ran in, and the
    outermost chainrule function (what the caller called)."""
    frame, site, op, outer = sys._getframe(2), None, None, None
    while frame is not None:
        code, local = frame.f_code, frame.f_locals
        if _CHAINRULE in code.co_filename and os.path.abspath(code.co_filename) != _HERE:
            outer = code.co_name
            if site is None:
                short = code.co_filename[code.co_filename.rindex(_CHAINRULE) + 1:]
                site = f"{short}:{frame.f_lineno} in {code.co_name}"
            op = op or _function_of(code.co_name, local)
        frame = frame.f_back
    if site is None:
        return "(no chainrule frame)"
    return f"{site} ({op or 'no Function'}; called as {outer})"


def _function_of(name, local):
    """``"Mul.backward"`` for a frame of a Function's forward, backward or apply, else None."""
    if name in ("forward", "backward") and "ctx" in local:
        return f"{type(local['ctx']).__name__}.{name}"
    if name == "apply" and isinstance(local.get("cls"), type):
        return f"{local['cls'].__name__}.forward"
    if name == "_wrap_outputs" and "self" in local:
        return f"{type(local['self']).__name__}.forward"
    return None


def _violation(message):
    message = f"device seam bypassed at {_call_site()}: {message}"
    violations.append(message)
    raise SeamViolation(message)


# ------------------------------------------------------ plain <-> checked


def _plain(x, originals, where):
    """``x`` with every CheckedArray (also inside lists, tuples and dicts) as a plain view."""
    kind = type(x)
    if kind is CheckedArray:
        plain = _view(x, np.ndarray)
        originals[id(plain)] = (plain, x)
        return plain
    if kind is np.ndarray:
        if x.dtype.kind in "fc" and where.rpartition(".")[2] not in _CONVERTERS:
            _violation(f"a plain numpy {x.dtype} array of shape {x.shape} was passed to {where} "
                       "with checked arrays: it was made outside the backend (np.zeros, "
                       "np.asarray, ...); make it with xp = array_module(...) instead")
        return x
    if kind is list or kind is tuple:
        return kind(_plain(item, originals, where) for item in x)
    if kind is dict:
        return {key: _plain(value, originals, where) for key, value in x.items()}
    return x


def _checked(x, originals):
    """``x`` with every plain array viewed as a CheckedArray (an argument's view: the argument).

    A numpy scalar (``a.sum()`` of numpy) becomes a 0-d CheckedArray, as a
    GPU array library returns a 0-d array: a result never leaves the backend.
    """
    kind = type(x)
    if kind is np.ndarray:
        original = originals.get(id(x))
        if original is not None and original[0] is x:
            return original[1]
        return _view(x, CheckedArray)
    if isinstance(x, (np.number, np.bool_)):
        return _view(np.asarray(x), CheckedArray)
    if kind is list or kind is tuple:
        return kind(_checked(item, originals) for item in x)
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # a namedtuple
        return kind(*(_checked(item, originals) for item in x))
    return x


def _run_checked(fn, args, kwargs, where):
    """``fn`` on plain views of the arguments, with the flag set; its array results checked."""
    originals = {}
    args = _plain(args, originals, where)
    kwargs = _plain(kwargs, originals, where)
    _state.depth += 1
    try:
        result = fn(*args, **kwargs)
    finally:
        _state.depth -= 1
    return _checked(result, originals)


def plain(array):
    """A checked array as a plain numpy view (for the tests' own comparisons)."""
    return _view(array, np.ndarray) if isinstance(array, CheckedArray) else np.asarray(array)


# ---------------------------------------------------------- the array type


class CheckedArray(np.ndarray):
    """A numpy array that refuses numpy functions outside the checking backend's ``xp``."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__ + ("" if method == "__call__" else f".{method}")
        if _state.depth == 0:
            scalar_operator = (method == "__call__" and ufunc in _BINARY_OPERATORS
                               and len(inputs) == 2 and isinstance(inputs[0], np.generic))
            if not scalar_operator:
                _violation(f"numpy.{name} was called on a CheckedArray outside the backend; "
                           f"write xp = array_module(x) and call xp.{name}")
        return _run_checked(getattr(ufunc, method), inputs, kwargs, f"numpy.{name}")

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if _state.depth == 0 and name not in _METADATA:
            module = func.__module__ or "numpy"
            _violation(f"{module}.{name} was called on a CheckedArray outside the backend; "
                       f"write xp = array_module(x) and call xp.{name} (or a Backend method)")
        return _run_checked(func, args, kwargs, f"numpy.{name}")


_NOT_WRAPPED = {"__new__", "__init__", "__getattribute__", "__setattr__", "__delattr__",
                "__class__", "__init_subclass__", "__subclasshook__", "__reduce__",
                "__reduce_ex__", "__getstate__", "__setstate__", "__sizeof__", "__dir__",
                "__format__", "__class_getitem__", "__buffer__", "__release_buffer__", "__hash__"}


def _method(name, base):
    def method(self, *args, **kwargs):
        return _run_checked(base, (self,) + args, kwargs, f"ndarray.{name}")

    method.__name__ = method.__qualname__ = name
    return method


def _iterate(self):
    return iter(_run_checked(list, (self,), {}, "ndarray.__iter__"))


for _name in dir(np.ndarray):
    if _name in _NOT_WRAPPED or _name.startswith("__array"):
        continue
    _attribute = inspect.getattr_static(np.ndarray, _name)
    if isinstance(_attribute, (types.GetSetDescriptorType, types.MemberDescriptorType,
                               property, classmethod, staticmethod)) or not callable(_attribute):
        continue
    setattr(CheckedArray, _name, _method(_name, getattr(np.ndarray, _name)))
CheckedArray.__iter__ = _iterate


# ------------------------------------------------------ the array module


class _CheckedUfunc:
    """A numpy ufunc whose calls and methods (``at``, ``reduce``, ...) run checked."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _run_checked(self._ufunc, args, kwargs, f"xp.{self.__name__}")

    def __getattr__(self, name):
        value = getattr(self._ufunc, name)
        if callable(value):
            where = f"xp.{self.__name__}.{name}"
            return lambda *args, **kwargs: _run_checked(value, args, kwargs, where)
        return value


def _function(fn, where):
    def checked(*args, **kwargs):
        return _run_checked(fn, args, kwargs, where)

    checked.__name__ = getattr(fn, "__name__", where)
    checked.__doc__ = getattr(fn, "__doc__", None)
    return checked


class CheckingModule(types.ModuleType):
    """numpy (or one of its submodules) with every function running checked."""

    def __init__(self, module, name):
        super().__init__(name)
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        where = f"{self.__name__}.{name}"
        if isinstance(value, np.ufunc):
            value = _CheckedUfunc(value)
        elif isinstance(value, types.ModuleType):
            if value.__name__.startswith("numpy"):
                value = CheckingModule(value, f"{self.__name__}.{name}")
        elif callable(value) and not isinstance(value, type):
            value = _function(value, where)
        setattr(self, name, value)  # look each name up once
        return value


class _CheckedGenerator:
    """A numpy Generator whose draws are checked arrays."""

    def __init__(self, generator):
        self._generator = generator

    def __getattr__(self, name):
        value = getattr(self._generator, name)
        if callable(value):
            return _function(value, f"Generator.{name}")
        return value


xp = CheckingModule(np, "xp")


class CheckingBackend(Backend):
    """The backend of ``CheckedArray``: numpy's, every array operation run through ``xp``."""

    def __init__(self):
        super().__init__(DEVICE_TYPE, xp)

    def as_strided(self, array, shape, strides):
        return self.xp.lib.stride_tricks.as_strided(array, shape, strides, writeable=False)

    def sliding_window_view(self, array, window_shape, axis=None):
        return self.xp.lib.stride_tricks.sliding_window_view(array, window_shape, axis)

    def to_host(self, array):
        return _view(array, np.ndarray)

    def default_rng(self, seed=None):
        return _CheckedGenerator(np.random.default_rng(seed))


# ------------------------------------------------------------ installing


_make = Tensor.__dict__["_make"]  # the classmethod every tensor is made by


def _watching_make(cls, data, *args, **kwargs):
    """``Tensor._make`` that refuses a floating-point array of another backend (or a scalar)."""
    if type(data) is not CheckedArray and _state.depth == 0:
        dtype = getattr(data, "dtype", None)
        if not isinstance(data, (np.ndarray, np.generic)) or dtype.kind in "fc":
            _violation(f"a tensor was made from a plain {type(data).__name__} "
                       f"({dtype}, shape {np.shape(data)}), not an array of the backend")
    return _make.__func__(cls, data, *args, **kwargs)


@contextlib.contextmanager
def installed(watch_tensors=True):
    """Register the checking backend (device ``"checked"``) for the block; yield it.

    ``watch_tensors``: also refuse every tensor made from a plain floating-point
    numpy array in the block (turn it off where the block moves data to the CPU).
    """
    added = DEVICE_TYPE not in device_module._KNOWN_TYPES
    device_module._KNOWN_TYPES.add(DEVICE_TYPE)
    backend = CheckingBackend()
    device_module.register_backend(CheckedArray, backend)
    if watch_tensors:
        Tensor._make = classmethod(_watching_make)
    del violations[:]
    try:
        yield backend
    finally:
        Tensor._make = _make
        device_module.unregister_backend(CheckedArray)
        if added:
            device_module._KNOWN_TYPES.discard(DEVICE_TYPE)


def checked_tensor(array, requires_grad=False, dtype=None):
    """A tensor whose data is a CheckedArray copy of ``array``."""
    data = np.array(array, dtype=dtype, copy=True)
    t = _make.__func__(Tensor, _view(data, CheckedArray), False, None)
    return t.requires_grad_(True) if requires_grad else t
