"""Binary and ternary math: atan2, hypot, fmod, remainder, fmax, logaddexp, lerp, addcmul, ...

Operands broadcast, and where torch takes a number for one of them, so does
chainrule. Dtypes promote as in PyTorch (``arithmetic.result_dtype``): a 0-d
tensor or a Python number widens the result only when it is of a higher
kind (bool < integer < float), and functions whose values are fractional
(``atan2``, ``hypot``, ``ldexp``) give float32 for integer operands. Each
rule returns gradients in the result's shape; the engine sums them back
over broadcast dimensions.

    >>> import chainrule as cr
    >>> cr.remainder(cr.tensor([-3, 3]), 2)
    tensor([1, 1])
    >>> cr.fmod(cr.tensor([-3, 3]), 2)
    tensor([-1,  1])
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops._operands import broadcasting, check_operand, data
from chainrule.ops.arithmetic import divide_rounded, pow, promoted, sub
from chainrule.ops.conversion import clone
from chainrule.ops.elementwise import exp, where
from chainrule.ops.inplace import fill_
from chainrule.ops.unary_math import exp2
from chainrule.registry import register
from chainrule.tensor import Tensor


def _constant(array):
    """An array as a tensor outside the graph (a mask or a piecewise-constant factor)."""
    return Tensor._make(array, False, None)


def _compute(op, ufunc, a, b):
    """``ufunc(a, b)`` on the operands' arrays, broadcast, with numpy's warnings off
    (inf and nan results are PyTorch's too)."""
    a, b = data(a), data(b)
    with np.errstate(all="ignore"):
        return broadcasting(op, getattr(array_module(a, b), ufunc), a, b)


def _not_differentiable(op):
    return RuntimeError(f"{op}: the derivative is not implemented (as in PyTorch); detach the "
                        "inputs, or compute the op from differentiable ones")


class Atan2(Function):
    """atan2(a, b), the angle of (b, a);  d/da = b / (a**2 + b**2), d/db = -a / (a**2 + b**2)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _compute("atan2", "arctan2", a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        scale = grad / (a * a + b * b)
        return (scale * b if needs_a else None,
                -scale * a if needs_b else None)


class Hypot(Function):
    """sqrt(a**2 + b**2);  d/da = a / result, d/db = b / result."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.save_result(_compute("hypot", "hypot", a, b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        scale = grad / ctx.result
        return (scale * a if needs_a else None,
                scale * b if needs_b else None)


class Copysign(Function):
    """|a| with the sign of b;  d/da = +-1 (result / a, and 0 where a = 0), d/db = 0."""

    @staticmethod
    def forward(ctx, a, b):
        result = _compute("copysign", "copysign", a, b)
        xp = array_module(result)
        with np.errstate(all="ignore"):
            ctx.ratio = xp.where(data(a) == 0, 0, result / data(a)).astype(result.dtype)
        return result

    @staticmethod
    def backward(ctx, grad):
        return grad * _constant(ctx.ratio), None


class Fmax(Function):
    """max(a, b), ignoring nan;  the gradient goes to a where a >= b or b is nan, else to b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_wins = _a_wins("fmax", "greater_equal", a, b)
        return _compute("fmax", "fmax", a, b)

    @staticmethod
    def backward(ctx, grad):
        return _split(ctx, grad)


class Fmin(Function):
    """min(a, b), ignoring nan;  the gradient goes to a where a <= b or b is nan, else to b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_wins = _a_wins("fmin", "less_equal", a, b)
        return _compute("fmin", "fmin", a, b)

    @staticmethod
    def backward(ctx, grad):
        return _split(ctx, grad)


def _a_wins(op, compare, a, b):
    a, b = data(a), data(b)
    xp = array_module(a, b)
    with np.errstate(invalid="ignore"):
        return _constant(broadcasting(op, getattr(xp, compare), a, b) | xp.isnan(b))


def _split(ctx, grad):
    needs_a, needs_b = ctx.needs_input_grad
    return (where(ctx.a_wins, grad, 0.0) if needs_a else None,
            where(ctx.a_wins, 0.0, grad) if needs_b else None)


class Fmod(Function):
    """a - trunc(a / b) b, with the sign of a (C's fmod);  d/da = 1, d/db = -trunc(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        _check_integer_divisor("fmod", a, b)
        return _compute("fmod", "fmod", a, b)

    @staticmethod
    def backward(ctx, grad):
        return _remainder_grads(ctx, grad, "trunc")


class Remainder(Function):
    """a - floor(a / b) b, with the sign of b (Python's %);  d/da = 1, d/db = -floor(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        _check_integer_divisor("remainder", a, b)
        return _compute("remainder", "remainder", a, b)

    @staticmethod
    def backward(ctx, grad):
        return _remainder_grads(ctx, grad, "floor")


def _remainder_grads(ctx, grad, rounding_mode):
    a, b = ctx.saved_tensors
    needs_a, needs_b = ctx.needs_input_grad
    grad_b = None
    if needs_b:
        with np.errstate(all="ignore"):
            quotient = divide_rounded(data(a), data(b), rounding_mode, "remainder")
        grad_b = -grad * _constant(array_module(quotient).asarray(quotient))
    return (grad if needs_a else None), grad_b


def _check_integer_divisor(op, a, b):
    divisor = data(b)
    kinds = [getattr(data(v), "dtype", np.dtype(type(data(v)))).kind for v in (a, b)]
    if all(k in "biu" for k in kinds) and array_module(divisor).any(
            array_module(divisor).asarray(divisor) == 0):
        raise ZeroDivisionError(f"{op}: integer division by zero (the divisor has zeros); "
                                "convert to a float dtype to get nan instead")


class FloorDivide(Function):
    """floor(a / b);  not differentiable (PyTorch declares no derivative)."""

    @staticmethod
    def forward(ctx, a, b):
        return broadcasting("floor_divide",
                            lambda x, y: divide_rounded(x, y, "floor", "floor_divide"),
                            data(a), data(b))

    @staticmethod
    def backward(ctx, grad):
        raise _not_differentiable("floor_divide")


class Heaviside(Function):
    """0 where x < 0, values where x == 0, 1 where x > 0;  not differentiable (as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, values):
        x, values = data(x), data(values)
        xp = array_module(x, values)
        step = broadcasting("heaviside", lambda u, v: xp.where(u == 0, v, u > 0), x, values)
        return step.astype(xp.result_type(x, values))

    @staticmethod
    def backward(ctx, grad):
        raise _not_differentiable("heaviside")


class NextAfter(Function):
    """The next float after a towards b;  d/da = 1, d/db = 0 (as PyTorch takes them)."""

    @staticmethod
    def forward(ctx, a, b):
        return _compute("nextafter", "nextafter", a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class LogAddExp(Function):
    """ln(e**a + e**b);  d/da = 1 / (1 + e**(b - a)), d/db = 1 / (1 + e**(a - b))."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _compute("logaddexp", "logaddexp", a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return (grad / (1 + exp(b - a)) if needs_a else None,
                grad / (1 + exp(a - b)) if needs_b else None)


class LogAddExp2(Function):
    """log2(2**a + 2**b);  d/da = 1 / (1 + 2**(b - a)), d/db = 1 / (1 + 2**(a - b))."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _compute("logaddexp2", "logaddexp2", a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return (grad / (1 + exp2(b - a)) if needs_a else None,
                grad / (1 + exp2(a - b)) if needs_b else None)


class Lerp(Function):
    """s + w (e - s);  d/ds = 1 - w, d/de = w, d/dw = e - s (s: start, e: end, w: weight).

    Computed as end - (end - start)(1 - weight) where |weight| >= 0.5, as in
    PyTorch, so that weight = 1 gives end exactly.
    """

    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        s, e, w = data(start), data(end), data(weight)
        xp = array_module(s, e, w)
        try:
            return xp.where(xp.abs(w) < 0.5, s + w * (e - s), e - (e - s) * (1 - w))
        except ValueError:
            shapes = ", ".join(str(tuple(getattr(v, "shape", ()))) for v in (s, e, w))
            raise ValueError(f"lerp: shapes {shapes} of input, end and weight cannot be "
                             "broadcast together") from None

    @staticmethod
    def backward(ctx, grad):
        start, end, weight = ctx.saved_tensors
        needs_start, needs_end, needs_weight = ctx.needs_input_grad
        return (grad * (1 - weight) if needs_start else None,
                grad * weight if needs_end else None,
                grad * (end - start) if needs_weight else None)


# ------------------------------------------------------------ declarations


def _operand(x, op):
    return check_operand(x, op)


@register("torch", "Tensor", aliases=("arctan2",), inplace=True)
def atan2(input, other):
    """The angle of the point (other, input) in (-pi, pi], elementwise."""
    return Atan2.apply(*promoted(_operand(input, "atan2"), _operand(other, "atan2"), floating=True))


@register("torch", "Tensor", inplace=True)
def hypot(input, other):
    """sqrt(input**2 + other**2), without overflow for large values."""
    return Hypot.apply(*promoted(_operand(input, "hypot"), _operand(other, "hypot"), floating=True))


@register("torch", "Tensor", inplace=True)
def copysign(input, other):
    """|input| with the sign of other (which may be a number), as a float tensor."""
    a, b = promoted(_operand(input, "copysign"), _operand(other, "copysign"), floating=True)
    return Copysign.apply(a, b)


@register("torch", "Tensor")
def fmax(input, other):
    """Elementwise max where a nan loses to a number (nan only where both are nan)."""
    return Fmax.apply(*promoted(_operand(input, "fmax"), _operand(other, "fmax")))


@register("torch", "Tensor")
def fmin(input, other):
    """Elementwise min where a nan loses to a number (nan only where both are nan)."""
    return Fmin.apply(*promoted(_operand(input, "fmin"), _operand(other, "fmin")))


@register("torch", "Tensor", inplace=True)
def fmod(input, other):
    """The remainder of input / other with the sign of input (C's fmod)."""
    return Fmod.apply(*promoted(_operand(input, "fmod"), _operand(other, "fmod")))


@register("torch", "Tensor", operators=("__mod__",), reflected=("__rmod__",), inplace=True,
          inplace_operators=("__imod__",))
def remainder(input, other):
    """The remainder of input / other with the sign of other (Python's %)."""
    return Remainder.apply(*promoted(_operand(input, "remainder"), _operand(other, "remainder")))


@register("torch", "Tensor", operators=("__floordiv__",), reflected=("__rfloordiv__",),
          inplace=True, inplace_operators=("__ifloordiv__",))
def floor_divide(input, other):
    """floor(input / other), as ``div(input, other, rounding_mode="floor")``; not differentiable."""
    a, b = _operand(input, "floor_divide"), _operand(other, "floor_divide")
    return FloorDivide.apply(*promoted(a, b))


@register("torch", "Tensor", inplace=True)
def heaviside(input, values):
    """The step function: 0 below zero, 1 above, and ``values`` where input is 0."""
    a, b = _operand(input, "heaviside"), _operand(values, "heaviside")
    return Heaviside.apply(*promoted(a, b))


@register("torch", "Tensor", inplace=True)
def nextafter(input, other):
    """The next representable float after input in the direction of other."""
    a, b = _operand(input, "nextafter"), _operand(other, "nextafter")
    return NextAfter.apply(*promoted(a, b))


@register("torch", "Tensor")
def logaddexp(input, other):
    """ln(e**input + e**other), without overflow."""
    a, b = _operand(input, "logaddexp"), _operand(other, "logaddexp")
    return LogAddExp.apply(*promoted(a, b, floating=True))


@register("torch", "Tensor")
def logaddexp2(input, other):
    """log2(2**input + 2**other), without overflow."""
    a, b = _operand(input, "logaddexp2"), _operand(other, "logaddexp2")
    return LogAddExp2.apply(*promoted(a, b, floating=True))


@register("torch", "Tensor", inplace=True)
def lerp(input, end, weight):
    """input + weight * (end - input); ``weight`` is a number or a tensor."""
    start, end, weight = (_operand(v, "lerp") for v in (input, end, weight))
    if isinstance(weight, Tensor):
        start, end, weight = promoted(start, end, weight)
    else:
        start, end = promoted(start, end)
    return Lerp.apply(start, end, weight)


@register("torch", "Tensor", inplace=True)
def ldexp(input, other):
    """input * 2**other, as a float tensor."""
    a, b = promoted(_operand(input, "ldexp"), _operand(other, "ldexp"), floating=True)
    return a * exp2(b) if isinstance(b, Tensor) else a * 2.0 ** b


@register("torch", "Tensor", inplace=True)
def float_power(input, exponent):
    """input ** exponent computed in float64 (the result is float64 whatever the inputs)."""
    a, b = _operand(input, "float_power"), _operand(exponent, "float_power")
    a = a.to(np.float64) if isinstance(a, Tensor) else float(a)
    b = b.to(np.float64) if isinstance(b, Tensor) else float(b)
    return pow(a, b)


@register("torch")
def rsub(input, other, *, alpha=1):
    """other - alpha * input (``sub`` with the operands swapped)."""
    return sub(_operand(other, "rsub"), _operand(input, "rsub"), alpha=alpha)


@register("torch", "Tensor", inplace=True)
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2."""
    return input + value * (tensor1 * tensor2) if value != 1 else input + tensor1 * tensor2


@register("torch", "Tensor", inplace=True)
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2 (floating-point tensors only)."""
    for name, t in (("tensor1", tensor1), ("tensor2", tensor2)):
        if isinstance(t, Tensor) and t.array.dtype.kind in "biu":
            raise TypeError(f"addcdiv: integer division is not supported ({name} is "
                            f"{t.array.dtype}); convert to a float dtype, or use addcmul")
    return input + value * (tensor1 / tensor2)


@register("torch")
def fill(input, value):
    """A new tensor of input's shape and dtype with every element ``value`` (a number or
    a 0-d tensor); the gradient goes to ``value``, none to ``input``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fill: expected a Tensor, got {type(input).__name__}")
    return fill_(clone(input), value)


@register("torch", "Tensor", inplace=True)
def gcd(input, other):
    """The greatest common divisor, elementwise (integer tensors only; gcd(0, 0) = 0)."""
    return _integer_only("gcd", input, other)


@register("torch", "Tensor", inplace=True)
def lcm(input, other):
    """The least common multiple, elementwise, never negative (integer tensors only)."""
    return _integer_only("lcm", input, other)


def _integer_only(op, input, other):
    a, b = promoted(_operand(input, op), _operand(other, op))
    for x in (a, b):
        dtype = getattr(data(x), "dtype", np.dtype(type(x)))
        if dtype.kind not in "iu":
            raise TypeError(f"{op}: only integer tensors are supported, got {dtype}")
    return _constant(_compute(op, op, a, b))

