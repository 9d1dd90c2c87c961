"""Copies, dtype casts and device moves: ``clone``, ``to``, ``float``, ``cpu``, ...

A copy's derivative is the identity; a cast's backward casts the gradient
back to the input's dtype, and a move's backward moves it back to the
input's device. Casting to an integer or bool dtype is not differentiable:
the result never requires grad. As in PyTorch, ``to`` returns the tensor
itself when nothing changes (unless ``copy=True``).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.5, 2.5], requires_grad=True)
    >>> x.to(cr.float64)
    tensor([1.5000, 2.5000], dtype=float64, grad_fn=<CastBackward>)
    >>> x.to("cpu") is x
    True
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import backend_for, backend_of, device
from chainrule.registry import register
from chainrule.tensor import Tensor, _as_dtype


class Clone(Function):
    """A copy with its own memory;  d/dx = identity."""

    @staticmethod
    def forward(ctx, x):
        return x.array.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cast(Function):
    """The same values in another float dtype;  d/dx = identity, the gradient cast back."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.array.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.input_dtype), None


class ToDevice(Function):
    """The same values on another device;  d/dx = identity, the gradient moved back."""

    @staticmethod
    def forward(ctx, x, backend):
        ctx.input_device = x.device
        host = backend_of(x.array).to_host(x.array)
        return backend.xp.array(host, copy=True)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.input_device), None


@register("torch", "Tensor")
def clone(input, *, memory_format=None):
    """A copy of ``input`` with its own memory, still in the graph."""
    return Clone.apply(input)


@register("Tensor")
def to(input, *args, dtype=None, device=None, non_blocking=False, copy=False, memory_format=None):
    """``input`` on another device and/or as another dtype, as ``torch.Tensor.to``.

    The forms: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
    ``to(other)`` (``other``'s device and dtype), each with the keywords
    ``dtype=``, ``device=``, ``copy=``, ``non_blocking=``. Returns ``input``
    itself when it already has that device and dtype, unless ``copy=True``.
    Asking for a device with no backend (``"cuda"``) is a clear RuntimeError.
    """
    device, dtype, copy = _to_arguments(args, device, dtype, non_blocking, copy)
    out = input
    if device is not None:
        backend = backend_for(device)  # the clear error for a device with no backend
        if backend is not backend_of(input.array):
            out = ToDevice.apply(out, backend)
    if dtype is not None:
        dtype = _as_dtype(dtype)
        if dtype != out.dtype:
            out = _cast(out, dtype)
    if copy and out is input:
        out = Clone.apply(input)
    return out


def _cast(x, dtype):
    if dtype.kind != "f":  # integer and bool results carry no gradient
        return Tensor._make(x.array.astype(dtype), False, None)
    return Cast.apply(x, dtype)


def _to_arguments(args, device_, dtype, non_blocking, copy):
    """Sort ``to``'s positional arguments into (device, dtype, copy), as PyTorch does."""
    args = list(args)
    given = {}
    if args and isinstance(args[0], Tensor):
        other = args.pop(0)
        given = {"device": other.device, "dtype": other.dtype}
    elif args and _is_device(args[0]):
        given["device"] = args.pop(0)
        if args and _is_dtype(args[0]):
            given["dtype"] = args.pop(0)
    elif args and _is_dtype(args[0]):
        given["dtype"] = args.pop(0)
    for name, value in zip(("non_blocking", "copy"), args):
        if not isinstance(value, bool):
            raise TypeError(f"to: expected a dtype, a device or a Tensor, then the bools "
                            f"non_blocking and copy; got {type(value).__name__} {value!r}")
        given[name] = value
    if len(args) > 2:
        raise TypeError(f"to: too many positional arguments ({len(args)} after the target)")
    for name, keyword in (("device", device_), ("dtype", dtype)):
        if keyword is not None:
            if name in given:
                raise TypeError(f"to: {name} is given twice, as an argument and as {name}=")
            given[name] = keyword
    return given.get("device"), given.get("dtype"), given.get("copy", copy)


def _is_device(x):
    return isinstance(x, (str, device)) or (isinstance(x, int) and not isinstance(x, bool))


def _is_dtype(x):
    return isinstance(x, np.dtype) or (isinstance(x, type)
                                       and issubclass(x, (np.generic, float, int)))


@register("Tensor")
def cpu(input, memory_format=None):
    """``input`` on the CPU (itself if it is there already)."""
    return to(input, "cpu")


@register("Tensor")
def cuda(input, device=None, non_blocking=False, memory_format=None):
    """``input`` on a GPU: a clear RuntimeError while no GPU backend is installed."""
    target = "cuda" if device is None else device
    if isinstance(target, int) and not isinstance(target, bool):
        target = f"cuda:{target}"
    return to(input, target, non_blocking=non_blocking)


@register("Tensor")
def type_as(input, other):
    """``input`` as ``other``'s dtype."""
    return to(input, other.dtype)


@register("Tensor")
def contiguous(input, memory_format=None):
    """``input`` itself when its memory is in row-major order, else a row-major copy."""
    return input if input.array.flags.c_contiguous else Clone.apply(input)


@register("Tensor")
def is_contiguous(input, memory_format=None):
    return bool(input.array.flags.c_contiguous)


def _caster(name, dtype):
    """Declare the ``Tensor`` method ``name``: a cast to ``dtype`` (``x.float()``)."""
    def cast(input, memory_format=None):
        return to(input, dtype)

    cast.__name__ = name
    cast.__qualname__ = f"Tensor.{name}"
    cast.__doc__ = f"``input.to({np.dtype(dtype).name})``."
    register("Tensor", name=name)(cast)


for _name, _dtype in (("half", np.float16), ("float", np.float32), ("double", np.float64),
                      ("char", np.int8), ("byte", np.uint8), ("short", np.int16),
                      ("int", np.int32), ("long", np.int64), ("bool", np.bool_)):
    _caster(_name, _dtype)
