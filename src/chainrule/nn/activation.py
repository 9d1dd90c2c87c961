"""Activation modules, as ``torch.nn``: each a thin ``Module`` around its functional op.

The math and the derivatives live with the ops (``chainrule.nn.functional``).
``inplace=True`` writes the result into the input, as PyTorch's does (through
``Tensor._modify_in_place``, so the version counter and the graph stay right).

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> nn.Hardtanh(-1.0, 1.0)(cr.tensor([-3.0, 0.5, 2.0]))
    tensor([-1.0000,  0.5000,  1.0000])
"""

from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops import creation

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "SELU", "GELU", "SiLU",
           "Mish", "Sigmoid", "Tanh", "LogSigmoid", "Hardtanh", "Hardsigmoid", "Hardswish",
           "Hardshrink", "Softshrink", "Tanhshrink", "Softsign", "Softplus", "Threshold", "GLU",
           "Softmax", "Softmin", "LogSoftmax", "Softmax2d"]


def _apply(fn, x, inplace, name):
    """``fn(x)``, written into ``x`` when ``inplace``."""
    if inplace:
        return x._modify_in_place(name, fn)
    return fn(x)


class _Elementwise(Module):
    """An activation with optional ``inplace=``; subclasses define ``function(x)``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return _apply(self.function, input, self.inplace, type(self).__name__)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_Elementwise):
    """max(0, x)."""

    def function(self, x):
        return F.relu(x)


class ReLU6(_Elementwise):
    """min(max(0, x), 6)."""

    def function(self, x):
        return F.relu6(x)


class SELU(_Elementwise):
    """scale * (max(0, x) + min(0, alpha (e**x - 1))), PyTorch's fixed alpha and scale."""

    def function(self, x):
        return F.selu(x)


class SiLU(_Elementwise):
    """x * sigmoid(x)."""

    def function(self, x):
        return F.silu(x)


class Mish(_Elementwise):
    """x * tanh(softplus(x))."""

    def function(self, x):
        return F.mish(x)


class Hardsigmoid(_Elementwise):
    """relu6(x + 3) / 6."""

    def function(self, x):
        return F.hardsigmoid(x)


class Hardswish(_Elementwise):
    """x * relu6(x + 3) / 6."""

    def function(self, x):
        return F.hardswish(x)


class LeakyReLU(_Elementwise):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def function(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(_Elementwise):
    """x where x > 0, else alpha (e**x - 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__(inplace)
        self.alpha = alpha

    def function(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """x where x > 0, else alpha (e**(x / alpha) - 1)."""

    def function(self, x):
        return F.celu(x, self.alpha)


class Hardtanh(_Elementwise):
    """min(max(x, min_val), max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__(inplace)
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val "
                             f"({min_val})")
        self.min_val, self.max_val = min_val, max_val

    def function(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return (f"min_val={self.min_val}, max_val={self.max_val}"
                + (", inplace=True" if self.inplace else ""))


class Threshold(_Elementwise):
    """x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__(inplace)
        self.threshold, self.value = threshold, value

    def function(self, x):
        return F.threshold(x, self.threshold, self.value)

    def extra_repr(self):
        return (f"threshold={self.threshold}, value={self.value}"
                + (", inplace=True" if self.inplace else ""))


class RReLU(_Elementwise):
    """Leaky ReLU with a random slope from U(lower, upper) while training, their mean in eval."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__(inplace)
        self.lower, self.upper = lower, upper

    def function(self, x):
        return F.rrelu(x, self.lower, self.upper, self.training)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """x where x > 0, else a x with a learned ``a`` (one, or one per channel), initially 0.25."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(creation.empty(num_parameters, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init_module.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


init_module = init  # PReLU's argument ``init`` (PyTorch's name) shadows the module there


class _Stateless(Module):
    """An activation without options; subclasses define ``function(x)``."""

    def forward(self, input):
        return self.function(input)


class Sigmoid(_Stateless):
    """1 / (1 + e**-x)."""

    def function(self, x):
        return F.sigmoid(x)


class Tanh(_Stateless):
    """tanh(x)."""

    def function(self, x):
        return F.tanh(x)


class LogSigmoid(_Stateless):
    """log(1 / (1 + e**-x)), computed without overflow."""

    def function(self, x):
        return F.logsigmoid(x)


class Tanhshrink(_Stateless):
    """x - tanh(x)."""

    def function(self, x):
        return F.tanhshrink(x)


class Softsign(_Stateless):
    """x / (1 + |x|)."""

    def function(self, x):
        return F.softsign(x)


class GELU(Module):
    """x Phi(x), Phi the standard normal CDF (``approximate="tanh"``: its tanh approximation)."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class _Shrink(Module):
    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(_Shrink):
    """x where |x| > lambd, else 0."""

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Softshrink(_Shrink):
    """x - lambd sign(x) where |x| > lambd, else 0."""

    def forward(self, input):
        return F.softshrink(input, self.lambd)


class Softplus(Module):
    """log(1 + e**(beta x)) / beta; linear above ``threshold`` (beta x > threshold)."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class GLU(Module):
    """a * sigmoid(b), with a and b the two halves of the input along ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(Module):
    """e**x_i / sum_j e**x_j along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Softmax):
    """softmax(-x) along ``dim``."""

    def forward(self, input):
        return F.softmin(input, self.dim)


class LogSoftmax(Softmax):
    """log(softmax(x)) along ``dim``, computed stably."""

    def forward(self, input):
        return F.log_softmax(input, self.dim)


class Softmax2d(Module):
    """Softmax over the channels at every position of (N, C, H, W) or (C, H, W) input."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-d or 4-d input, got shape "
                             f"{tuple(input.shape)}")
        return F.softmax(input, -3)
