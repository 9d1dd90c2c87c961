"""The elementwise activations of ``torch.nn.functional`` beyond ``relu`` and ``gelu``.

Each is composed of primitives (``where``, ``clamp``, ``exp``, ``sigmoid``,
...), so gradients of every order come from theirs; the exponential linear
units (``elu``, ``celu``, ``selu``) share one ``Function``, whose backward
in Tensor ops gives PyTorch's first and second derivatives at 0. Where PyTorch defines
the derivative at a kink (``hardtanh`` at its bounds, ``threshold`` at the
threshold, ``elu`` at 0), the composition is arranged to give PyTorch's
value: piecewise ops select their pieces with ``where`` on a mask of the
input, so the gradient of a piece flows only where that piece is chosen,
and a piece that could overflow (``exp`` of a large input) is fed a clamped
input, so the branch not chosen never produces inf * 0 = nan.

In-place forms follow PyTorch: ``inplace=True`` where ``torch.nn.functional``
takes it, and the ``*_`` functions where ``torch`` or ``torch.nn.functional``
has them (``torch.selu_``, ``F.elu_``, ``F.hardtanh_``, ...).

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.hardtanh(cr.tensor([-2.0, 0.5, 3.0]))
    tensor([-1.0000,  0.5000,  1.0000])
"""

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.elementwise import (abs, clamp, exp, leaky_relu, log, relu, sigmoid, tanh,
                                       where)
from chainrule.registry import register
from chainrule.tensor import Tensor

__all__ = []  # the ops are registered

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    return x


def _in_place_or_not(input, inplace, op, compute):
    """compute(input), or written into ``input`` (as ``op``) when ``inplace``."""
    _tensor(input, op)
    if inplace:
        return input._modify_in_place(op, compute)
    return compute(input)


def _constant_where(mask, x, fill):
    """x where mask holds, else the array ``fill`` (no gradient flows to it)."""
    return where(mask, x, Tensor._make(fill.astype(x.dtype, copy=False), False, None))


# ---------------------------------------------------------------- exponential linear units


class ELU(Function):
    """scale * x for x > 0, else scale * alpha * (exp(input_scale * x) - 1);
    d/dx = scale, or scale * alpha * input_scale * exp(input_scale * x) for x <= 0.

    As PyTorch's: the slope at 0 is the negative piece's, and the second
    derivative there is 0 (its double backward masks x < 0): the backward
    reads the negative piece at min(x, 0) taken as -relu(-x), whose own
    derivative is 0 at 0.
    """

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.save_for_backward(x)
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        values = x.array
        xp = array_module(values)
        negative = xp.expm1(xp.minimum(values, 0) * input_scale) * (alpha * scale)
        return xp.where(values > 0, values * scale, negative).astype(values.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        slope = exp(-relu(-x) * ctx.input_scale) * (ctx.alpha * ctx.scale * ctx.input_scale)
        return where(x.array > 0, grad * ctx.scale, grad * slope)


def _elu(x, alpha, scale, input_scale):
    return ELU.apply(x, alpha=alpha, scale=scale, input_scale=input_scale)


def _softplus(z):
    """log(1 + exp(z)) without overflow: each piece sees only the inputs it is chosen for.

    Its derivative is sigmoid(z) everywhere (1/2 at 0), and so is every
    higher one, unlike relu(z) + log(1 + exp(-|z|)), whose kinks cancel only
    away from 0.
    """
    upper = clamp(z, min=0)
    lower = clamp(z, max=0)
    return where(z.array > 0, upper + log(1 + exp(-upper)), log(1 + exp(lower)))


@register("nn.functional")
def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, else alpha * (exp(x) - 1);  d/dx = 1 or alpha * exp(x) (alpha at 0)."""
    return _in_place_or_not(input, inplace, "elu_", lambda x: _elu(x, alpha, 1.0, 1.0))


@register("nn.functional", name="elu_")
def elu_in_place(input, alpha=1.0):
    """``elu`` written into ``input``."""
    return elu(input, alpha, inplace=True)


def _celu(x, alpha):
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (the negative piece is alpha * (exp(x / "
                         "alpha) - 1))")
    return _elu(x, alpha, 1.0, 1.0 / alpha)


@register("nn.functional")
def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1));  d/dx = 1 or exp(x / alpha)."""
    return _in_place_or_not(input, inplace, "celu_", lambda x: _celu(x, alpha))


@register("torch", name="celu")
def torch_celu(input, alpha=1.0):
    """``torch.celu``: as ``nn.functional.celu``, without ``inplace``."""
    return celu(input, alpha)


@register("torch", "nn.functional", name="celu_")
def celu_in_place(input, alpha=1.0):
    """``celu`` written into ``input``."""
    return celu(input, alpha, inplace=True)


@register("nn.functional")
def selu(input, inplace=False):
    """scale * (max(0, x) + min(0, alpha * (exp(x) - 1))), PyTorch's fixed alpha and scale."""
    return _in_place_or_not(input, inplace, "selu_",
                            lambda x: _elu(x, SELU_ALPHA, SELU_SCALE, 1.0))


@register("torch", name="selu")
def torch_selu(input):
    """``torch.selu``: as ``nn.functional.selu``, without ``inplace``."""
    return selu(input)


@register("torch", "nn.functional", name="selu_")
def selu_in_place(input):
    """``selu`` written into ``input``."""
    return selu(input, inplace=True)


# ---------------------------------------------------------------- smooth gates


@register("nn.functional")
def silu(input, inplace=False):
    """x * sigmoid(x);  d/dx = s (1 + x (1 - s)) for s = sigmoid(x)."""
    return _in_place_or_not(input, inplace, "silu_", lambda x: x * sigmoid(x))


@register("nn.functional")
def mish(input, inplace=False):
    """x * tanh(softplus(x));  composed, so its derivative is the chain rule's."""
    return _in_place_or_not(input, inplace, "mish_", lambda x: x * tanh(_softplus(x)))


@register("nn.functional")
def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|));  d/dx = 1 - sigmoid(x).

    Written as -softplus(-x) on a softplus whose derivatives are exact at 0 too.
    """
    x = _tensor(input, "logsigmoid")
    return -_softplus(-x)


@register("nn.functional")
def softsign(input):
    """x / (1 + |x|);  d/dx = 1 / (1 + |x|)**2."""
    x = _tensor(input, "softsign")
    return x / (abs(x) + 1)


@register("nn.functional")
def tanhshrink(input):
    """x - tanh(x);  d/dx = tanh(x)**2."""
    x = _tensor(input, "tanhshrink")
    return x - tanh(x)


# ---------------------------------------------------------------- piecewise linear


def _hardtanh(x, min_val, max_val):
    """clamp(x, min_val, max_val);  gradient 1 strictly inside, 0 on the bounds (as PyTorch)."""
    values = x.array
    inside = (values > min_val) & (values < max_val)
    clipped = array_module(values).minimum(array_module(values).maximum(values, min_val), max_val)
    return _constant_where(inside, x, clipped)


@register("nn.functional")
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """min(max(x, min_val), max_val);  d/dx = 1 for min_val < x < max_val, else 0."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} must not exceed max_val {max_val}")
    return _in_place_or_not(input, inplace, "hardtanh_",
                            lambda x: _hardtanh(x, min_val, max_val))


@register("nn.functional", name="hardtanh_")
def hardtanh_in_place(input, min_val=-1.0, max_val=1.0):
    """``hardtanh`` written into ``input``."""
    return hardtanh(input, min_val, max_val, inplace=True)


@register("nn.functional")
def relu6(input, inplace=False):
    """min(max(x, 0), 6), PyTorch's hardtanh(x, 0, 6): gradient 0 at 0 and at 6."""
    return _in_place_or_not(input, inplace, "relu6_", lambda x: _hardtanh(x, 0, 6))


@register("nn.functional")
def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6;  d/dx = 1/6 for -3 < x < 3, else 0."""
    def compute(x):
        values = x.array
        inside = (values > -3) & (values < 3)
        outside = (values >= 3).astype(values.dtype)
        return _constant_where(inside, x / 6 + 0.5, outside)

    return _in_place_or_not(input, inplace, "hardsigmoid_", compute)


@register("nn.functional")
def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6;  d/dx = 0 up to -3, x / 3 + 1/2 inside, 1 from 3 (as PyTorch)."""
    def compute(x):
        values = x.array
        middle = (values > -3) & (values < 3)
        zero = Tensor._make(array_module(values).zeros((), values.dtype), False, None)
        return where(middle, x * (x + 3) / 6, where(values >= 3, x, zero))

    return _in_place_or_not(input, inplace, "hardswish_", compute)


@register("nn.functional", "torch", "Tensor")
def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0;  d/dx = 1 there, 0 on [-lambd, lambd]."""
    x = _tensor(input, "hardshrink")
    values = x.array
    kept = (values > lambd) | (values < -lambd)
    return _constant_where(kept, x, array_module(values).zeros_like(values))


@register("nn.functional")
def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, else 0;  d/dx = 1 outside, 0 inside."""
    x = _tensor(input, "softshrink")
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be at least 0, got {lambd}")
    values = x.array
    shift = array_module(values).where(values > lambd, -lambd, lambd).astype(values.dtype)
    kept = (values > lambd) | (values < -lambd)
    return _constant_where(kept, x + Tensor._make(shift, False, None),
                           array_module(values).zeros_like(values))


def _threshold(x, threshold, value):
    values = x.array
    above = values > threshold
    fill = array_module(values).full(values.shape, value).astype(values.dtype)
    return _constant_where(above, x, fill)


@register("nn.functional")
def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value;  d/dx = 1 where x > threshold, else 0."""
    return _in_place_or_not(input, inplace, "threshold_",
                            lambda x: _threshold(x, threshold, value))


@register("torch", name="threshold")
def torch_threshold(input, threshold, value):
    """``torch.threshold``: as ``nn.functional.threshold``, without ``inplace``."""
    return _threshold(_tensor(input, "threshold"), threshold, value)


@register("torch", "nn.functional", name="threshold_")
def threshold_in_place(input, threshold, value):
    """``threshold`` written into ``input``."""
    return _in_place_or_not(input, True, "threshold_", lambda x: _threshold(x, threshold, value))


@register("torch", "nn.functional", name="relu_")
def relu_in_place(input):
    """``relu`` written into ``input`` (``input.relu_()``)."""
    return _tensor(input, "relu_").relu_()


@register("nn.functional", name="leaky_relu_")
def leaky_relu_in_place(input, negative_slope=0.01):
    """``leaky_relu`` written into ``input``."""
    return leaky_relu(input, negative_slope, inplace=True)

