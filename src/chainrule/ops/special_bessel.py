"""Bessel and Airy functions, as ``torch.special`` (and ``torch.i0``).

Values come from scipy (``scipy.special``), through the host as in
``chainrule.ops.special_functions``. The modified Bessel functions of the
first kind, ``i0``, ``i0e``, ``i1`` and ``i1e``, are differentiable, their
derivatives written with each other (``i0' = i1``). The others (``bessel_j0``,
``modified_bessel_k1``, ``airy_ai``, ...) have no gradient in PyTorch: their
results never require grad.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 1.0], dtype=cr.float64, requires_grad=True)
    >>> cr.i0(x).sum().backward()
    >>> x.grad  # i1(x)
    tensor([0.0000, 0.5652], dtype=float64)
"""

import numpy as np
import scipy.special

from chainrule.device import array_module
from chainrule.ops.elementwise import sign, where
from chainrule.ops.special_functions import HostUnary, as_tensor_input, float_result_dtype, on_host
from chainrule.registry import register
from chainrule.tensor import Tensor


class BesselI0(HostUnary):
    """I0(x), the modified Bessel function of order 0;  d/dx = I1(x)."""

    compute = staticmethod(scipy.special.i0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * i1(x)


class BesselI0e(HostUnary):
    """e**-|x| I0(x);  d/dx = i1e(x) - sign(x) i0e(x), from the result."""

    compute = staticmethod(scipy.special.i0e)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (i1e(x) - sign(x) * ctx.result)


def _tiny_and_safe(x):
    """Where |x| is at most machine epsilon, and x with those elements set to epsilon.

    I1(x) / x and its kin are 0 / 0 at x = 0; PyTorch takes their limit there
    and evaluates the formula only away from 0, as done here.
    """
    eps = float(np.finfo(x.array.dtype).eps)
    tiny = array_module(x.array).abs(x.array) <= eps
    return tiny, where(tiny, eps, x)


class BesselI1(HostUnary):
    """I1(x), the modified Bessel function of order 1;  d/dx = I0(x) - I1(x) / x (1/2 at 0)."""

    compute = staticmethod(scipy.special.i1)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        tiny, safe = _tiny_and_safe(x)
        return grad * where(tiny, 0.5, i0(safe) - ctx.result / safe)


class BesselI1e(HostUnary):
    """e**-|x| I1(x);  d/dx = i0e(x) - i1e(x) (sign(x) + 1/x) (1/2 at 0), from the result."""

    compute = staticmethod(scipy.special.i1e)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        tiny, safe = _tiny_and_safe(x)
        return grad * where(tiny, 0.5, i0e(safe) - ctx.result * (sign(safe) + 1 / safe))


def _not_differentiable(function, input, op):
    """``function`` of the input's array as a tensor that never requires grad (as PyTorch)."""
    x = as_tensor_input(input, op)
    return Tensor._make(on_host(function, float_result_dtype(x), x.array), False, None)


# ------------------------------------------------------------ declarations


@register("torch", "Tensor", "special", inplace=True)
def i0(input):
    """I0(input), the modified Bessel function of the first kind of order 0."""
    return BesselI0.apply(as_tensor_input(input, "i0"))


@register("special")
def i0e(input):
    """e**-|input| I0(input), the exponentially scaled I0."""
    return BesselI0e.apply(as_tensor_input(input, "i0e"))


@register("special")
def i1(input):
    """I1(input), the modified Bessel function of the first kind of order 1."""
    return BesselI1.apply(as_tensor_input(input, "i1"))


@register("special")
def i1e(input):
    """e**-|input| I1(input), the exponentially scaled I1."""
    return BesselI1e.apply(as_tensor_input(input, "i1e"))


def _airy_ai(x):
    return scipy.special.airy(x)[0]


@register("special")
def airy_ai(input):
    """Ai(input), the Airy function of the first kind (no gradient, as in PyTorch)."""
    return _not_differentiable(_airy_ai, input, "airy_ai")


@register("special")
def bessel_j0(input):
    """J0(input), the Bessel function of the first kind of order 0 (no gradient)."""
    return _not_differentiable(scipy.special.j0, input, "bessel_j0")


@register("special")
def bessel_j1(input):
    """J1(input), the Bessel function of the first kind of order 1 (no gradient)."""
    return _not_differentiable(scipy.special.j1, input, "bessel_j1")


@register("special")
def bessel_y0(input):
    """Y0(input), the Bessel function of the second kind of order 0 (no gradient)."""
    return _not_differentiable(scipy.special.y0, input, "bessel_y0")


@register("special")
def bessel_y1(input):
    """Y1(input), the Bessel function of the second kind of order 1 (no gradient)."""
    return _not_differentiable(scipy.special.y1, input, "bessel_y1")


@register("special")
def modified_bessel_i0(input):
    """I0(input), the modified Bessel function of the first kind of order 0 (no gradient)."""
    return _not_differentiable(scipy.special.i0, input, "modified_bessel_i0")


@register("special")
def modified_bessel_i1(input):
    """I1(input), the modified Bessel function of the first kind of order 1 (no gradient)."""
    return _not_differentiable(scipy.special.i1, input, "modified_bessel_i1")


@register("special")
def modified_bessel_k0(input):
    """K0(input), the modified Bessel function of the second kind of order 0 (no gradient)."""
    return _not_differentiable(scipy.special.k0, input, "modified_bessel_k0")


@register("special")
def modified_bessel_k1(input):
    """K1(input), the modified Bessel function of the second kind of order 1 (no gradient)."""
    return _not_differentiable(scipy.special.k1, input, "modified_bessel_k1")


@register("special")
def scaled_modified_bessel_k0(input):
    """e**input K0(input), the exponentially scaled K0 (no gradient)."""
    return _not_differentiable(scipy.special.k0e, input, "scaled_modified_bessel_k0")


@register("special")
def scaled_modified_bessel_k1(input):
    """e**input K1(input), the exponentially scaled K1 (no gradient)."""
    return _not_differentiable(scipy.special.k1e, input, "scaled_modified_bessel_k1")


def _spherical_j0(x):
    return scipy.special.spherical_jn(0, x)


@register("special")
def spherical_bessel_j0(input):
    """j0(input) = sin(input) / input, the spherical Bessel function of order 0 (no gradient)."""
    return _not_differentiable(_spherical_j0, input, "spherical_bessel_j0")
