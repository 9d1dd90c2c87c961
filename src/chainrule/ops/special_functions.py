"""Special functions of the gamma and error-function families, as ``torch.special``.

The values come from scipy (``scipy.special``), one vectorised call per op,
with the array taken through the host so that every backend works (as
``erf`` in ``chainrule.ops.elementwise``). The derivatives are written with
these same ops, so they can be differentiated again: ``lgamma' = digamma``,
``digamma' = polygamma(1, .)``, ``polygamma(n, .)' = polygamma(n + 1, .)``.

Integer and bool inputs give float32 results, as PyTorch's default dtype.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.5, 3.0], dtype=cr.float64, requires_grad=True)
    >>> cr.lgamma(x).sum().backward()
    >>> x.grad  # digamma(x)
    tensor([-1.9635,  0.9228], dtype=float64)
"""

import math
import numbers

import numpy as np
import scipy.special

from chainrule.autograd.function import Function
from chainrule.device import array_module, backend_of
from chainrule.ops._operands import broadcasting, check_operand, data, is_array, shape_of
from chainrule.ops.activation import log_softmax, softmax
from chainrule.ops.elementwise import exp, log, sigmoid, where
from chainrule.ops.reduction import logsumexp
from chainrule.registry import register
from chainrule.tensor import Tensor

_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}


def float_result_dtype(*operands):
    """The dtype PyTorch gives a floating-point op of ``operands`` (tensors or numbers).

    PyTorch's promotion: tensors with dimensions come first, then 0-d tensors,
    then Python numbers; a later group counts only where its kind (bool <
    integer < float) is higher. A float Python number counts as float32, the
    default dtype; an integer or bool result becomes float32 too.
    """
    groups = ([], [], [])
    for x in operands:
        if isinstance(x, Tensor) or is_array(x):
            groups[0 if len(shape_of(x)) else 1].append(np.dtype(data(x).dtype))
        elif isinstance(x, (bool, np.bool_)):
            groups[2].append(np.dtype(bool))
        elif isinstance(x, numbers.Integral):
            groups[2].append(np.dtype(np.int64))
        else:
            groups[2].append(np.dtype(np.float32))
    result = None
    for group in groups:
        if group:
            # within a group the highest kind decides: float32 with int64 stays float32
            top = max(_KIND_RANK[d.kind] for d in group)
            candidate = np.result_type(*(d for d in group if _KIND_RANK[d.kind] == top))
            if result is None or _KIND_RANK[candidate.kind] > _KIND_RANK[result.kind]:
                result = candidate
    if result is None or result.kind != "f":
        return np.dtype(np.float32)
    return result


def on_host(function, dtype, *operands, op=None):
    """``function(*operands)`` on host copies of the arrays, back on their backend in ``dtype``.

    Numbers pass as they are. Broadcasting errors name ``op``.
    """
    arrays = [data(x) for x in operands]
    backend = backend_of(next((a for a in arrays if is_array(a)), np.empty(0)))
    host = [backend.to_host(a) if is_array(a) else a for a in arrays]
    with np.errstate(all="ignore"):
        if len(host) == 2 and op is not None:
            out = broadcasting(op, function, *host)
        else:
            out = function(*host)
    return backend.asarray(out, dtype=dtype)


def as_tensor_input(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


class HostUnary(Function):
    """f(x) for a scipy function f, the result in the input's float dtype."""

    compute = None  # the elementwise scipy function

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.save_result(on_host(type(ctx).compute, float_result_dtype(x), x.array))


class LogGamma(HostUnary):
    """ln|Gamma(x)|;  d/dx = digamma(x)."""

    compute = staticmethod(scipy.special.gammaln)

    @staticmethod
    def forward(ctx, x):
        out = HostUnary.forward(ctx, x)
        if x.array.dtype.kind != "f":
            return out
        xp = array_module(x.array)
        return ctx.save_result(xp.where(xp.isneginf(x.array), xp.inf, out))  # PyTorch: +inf

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * digamma(x)


class Digamma(HostUnary):
    """psi(x) = Gamma'(x) / Gamma(x);  d/dx = polygamma(1, x)."""

    compute = staticmethod(scipy.special.psi)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * polygamma(1, x)


class Polygamma(Function):
    """psi^(n)(x), the n-th derivative of digamma;  d/dx = psi^(n+1)(x)."""

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.order = n
        return on_host(lambda a: scipy.special.polygamma(n, a), float_result_dtype(x), x.array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * polygamma(ctx.order + 1, x), None


class Erfc(HostUnary):
    """erfc(x) = 1 - erf(x);  d/dx = -2/sqrt(pi) e**(-x**2)."""

    compute = staticmethod(scipy.special.erfc)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (-2 / math.sqrt(math.pi)) * exp(-(x * x))


class Erfinv(HostUnary):
    """erf^-1(x);  d/dx = sqrt(pi)/2 e**(erfinv(x)**2), from the result."""

    compute = staticmethod(scipy.special.erfinv)

    @staticmethod
    def backward(ctx, grad):
        y = ctx.result
        return grad * (math.sqrt(math.pi) / 2) * exp(y * y)


class Erfcx(HostUnary):
    """erfcx(x) = e**(x**2) erfc(x);  d/dx = 2 x erfcx(x) - 2/sqrt(pi), from the result."""

    compute = staticmethod(scipy.special.erfcx)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2 * x * ctx.result - 2 / math.sqrt(math.pi))


class Ndtr(HostUnary):
    """Phi(x), the standard normal CDF;  d/dx = e**(-x**2/2) / sqrt(2 pi)."""

    compute = staticmethod(scipy.special.ndtr)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (1 / math.sqrt(2 * math.pi)) * exp(-0.5 * (x * x))


class Ndtri(HostUnary):
    """Phi^-1(p), the normal quantile;  d/dp = sqrt(2 pi) e**(y**2 / 2), y the result."""

    compute = staticmethod(scipy.special.ndtri)

    @staticmethod
    def backward(ctx, grad):
        y = ctx.result
        return grad * math.sqrt(2 * math.pi) * exp(0.5 * (y * y))


class LogNdtr(HostUnary):
    """ln Phi(x);  d/dx = e**(-x**2/2 - ln Phi(x)) / sqrt(2 pi), from the result."""

    compute = staticmethod(scipy.special.log_ndtr)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (1 / math.sqrt(2 * math.pi)) * exp(-(ctx.result + 0.5 * (x * x)))


class Entropy(HostUnary):
    """-x ln x (0 at x = 0, -inf for x < 0);  d/dx = -(1 + ln x)."""

    compute = staticmethod(scipy.special.entr)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * -(1 + log(x))


class XLogY(Function):
    """x ln y (0 where x = 0);  d/dx = ln y (0 where x = 0 and y <= 0), d/dy = x / y."""

    shift = 0  # y + shift inside the log: 1 for xlog1py
    op = "xlogy"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        function = scipy.special.xlog1py if type(ctx).shift else scipy.special.xlogy
        return on_host(function, float_result_dtype(x, y), x, y, op=type(ctx).op)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        shift = type(ctx).shift
        needs_x, needs_y = ctx.needs_input_grad
        grad_x = grad_y = None
        if needs_x:
            # PyTorch's convention: 0 on the line x = 0 where ln(y + shift) is undefined
            undefined = (data(x) == 0) & (data(y) + shift <= 0)
            same_op = xlog1py if shift else xlogy
            grad_x = where(undefined, 0.0, same_op(grad, y))
        if needs_y:
            grad_y = grad * x / (y + shift) if shift else grad * x / y
        return grad_x, grad_y


class XLog1pY(XLogY):
    """x ln(1 + y) (0 where x = 0);  d/dx = ln(1 + y) (0 at x = 0, y <= -1), d/dy = x / (1 + y)."""

    shift = 1
    op = "xlog1py"


class IncompleteGamma(Function):
    """P(a, x) = gamma(a, x) / Gamma(a);  d/dx = x**(a-1) e**-x / Gamma(a); d/da not implemented."""

    sign = 1  # -1 for the upper one, Q = 1 - P
    compute = staticmethod(scipy.special.gammainc)
    op = "igamma"

    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return on_host(type(ctx).compute, float_result_dtype(a, x), a, x, op=type(ctx).op)

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        needs_a, needs_x = ctx.needs_input_grad
        if needs_a:
            raise RuntimeError(f"the derivative for '{type(ctx).op}: input' is not implemented "
                               "(as in PyTorch); only the second argument has a gradient")
        log_gamma_a = lgamma(a) if isinstance(a, Tensor) else math.lgamma(a)
        density = exp((a - 1) * log(x) - x - log_gamma_a)
        return None, type(ctx).sign * grad * density


class UpperIncompleteGamma(IncompleteGamma):
    """Q(a, x) = 1 - P(a, x);  d/dx = -x**(a-1) e**-x / Gamma(a); d/da not implemented."""

    sign = -1
    compute = staticmethod(scipy.special.gammaincc)
    op = "igammac"


class HurwitzZeta(Function):
    """zeta(s, q) = sum_k (k + q)**-s;  d/dq = -s zeta(s + 1, q); d/ds not implemented."""

    @staticmethod
    def forward(ctx, s, q):
        ctx.save_for_backward(s, q)
        return on_host(scipy.special.zeta, float_result_dtype(s, q), s, q, op="zeta")

    @staticmethod
    def backward(ctx, grad):
        s, q = ctx.saved_tensors
        needs_s, needs_q = ctx.needs_input_grad
        if needs_s:
            raise RuntimeError("the derivative for 'zeta' is not implemented (as in PyTorch) "
                               "for its first argument; only q has a gradient")
        return None, grad * -s * zeta(s + 1, q)


# ------------------------------------------------------------ declarations


@register("torch", "Tensor", inplace=True)
def lgamma(input):
    """ln|Gamma(input)|, elementwise."""
    return LogGamma.apply(as_tensor_input(input, "lgamma"))


@register("special", name="gammaln")
def special_gammaln(input):
    """ln|Gamma(input)|, elementwise (``torch.special.gammaln``, the same as ``lgamma``)."""
    return LogGamma.apply(as_tensor_input(input, "gammaln"))


@register("torch", "Tensor", "special", inplace=True)
def digamma(input):
    """psi(input) = d/dx ln Gamma(x), elementwise."""
    return Digamma.apply(as_tensor_input(input, "digamma"))


@register("special", name="psi")
def special_psi(input):
    """digamma, under scipy's name (``torch.special.psi``)."""
    return Digamma.apply(as_tensor_input(input, "psi"))


def _order(n, op):
    if isinstance(n, Tensor) and n.numel() == 1:
        n = n.item()
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"{op}: n must be a non-negative integer, got {n!r}")
    return int(n)


@register("torch", "special")
def polygamma(n, input):
    """psi^(n)(input), the n-th derivative of digamma (n = 0 is digamma itself)."""
    return Polygamma.apply(as_tensor_input(input, "polygamma"), _order(n, "polygamma"))


@register("Tensor", name="polygamma", inplace=True)
def tensor_polygamma(input, n):
    """``x.polygamma(n)`` is ``polygamma(n, x)``, as ``torch.Tensor.polygamma``."""
    return polygamma(n, input)


@register("torch", "Tensor", inplace=True)
def mvlgamma(input, p):
    """The multivariate log-gamma of dimension p: sum_{j<p} lgamma(x - j/2) + p(p-1)/4 ln pi.

    Composed of ``lgamma``, so its gradient is sum_j digamma(x - j/2).
    Every element must be greater than (p - 1) / 2, as in PyTorch.
    """
    x = as_tensor_input(input, "mvlgamma")
    p = _order(p, "mvlgamma")
    if p < 1:
        raise ValueError(f"mvlgamma: p has to be greater than or equal to 1, got {p}")
    xp = array_module(x.array)
    if not bool(xp.all(x.array > (p - 1) / 2)):
        raise ValueError(f"mvlgamma: all elements must be greater than (p-1)/2 = {(p - 1) / 2} "
                         f"for p = {p}; the smallest is {float(xp.min(x.array))}")
    if x.dtype.kind != "f":
        x = x.float()
    out = lgamma(x)
    for j in range(1, p):
        out = out + lgamma(x - j / 2)
    return out + p * (p - 1) / 4 * math.log(math.pi)


@register("special", name="multigammaln")
def special_multigammaln(input, p):
    """The multivariate log-gamma (``torch.special.multigammaln``, the same as ``mvlgamma``)."""
    return mvlgamma(input, p)


@register("torch", "Tensor", "special", inplace=True)
def erfc(input):
    """1 - erf(input), elementwise (exact also where erf is close to 1)."""
    return Erfc.apply(as_tensor_input(input, "erfc"))


@register("torch", "Tensor", "special", inplace=True)
def erfinv(input):
    """The inverse error function, elementwise: inf at 1, nan outside [-1, 1]."""
    return Erfinv.apply(as_tensor_input(input, "erfinv"))


@register("special")
def erfcx(input):
    """e**(input**2) erfc(input), the scaled complementary error function."""
    return Erfcx.apply(as_tensor_input(input, "erfcx"))


@register("special")
def ndtr(input):
    """The standard normal CDF at input."""
    return Ndtr.apply(as_tensor_input(input, "ndtr"))


@register("special")
def ndtri(input):
    """The inverse of the standard normal CDF (the quantile), elementwise."""
    return Ndtri.apply(as_tensor_input(input, "ndtri"))


@register("special")
def log_ndtr(input):
    """ln of the standard normal CDF, accurate far into the lower tail."""
    return LogNdtr.apply(as_tensor_input(input, "log_ndtr"))


@register("special")
def entr(input):
    """-input ln(input) elementwise: 0 at 0, -inf below 0."""
    return Entropy.apply(as_tensor_input(input, "entr"))


def _operands(input, other, op):
    input, other = check_operand(input, op), check_operand(other, op)
    if not (isinstance(input, Tensor) or isinstance(other, Tensor)):
        raise TypeError(f"{op}: at least one of input and other must be a Tensor")
    return input, other


@register("torch", "Tensor", "special", inplace=True)
def xlogy(input, other):
    """input * ln(other), and 0 where input == 0 (unless other is nan)."""
    return XLogY.apply(*_operands(input, other, "xlogy"))


@register("special")
def xlog1py(input, other):
    """input * ln(1 + other), and 0 where input == 0 (unless other is nan)."""
    return XLog1pY.apply(*_operands(input, other, "xlog1py"))


@register("torch", "Tensor", inplace=True)
def igamma(input, other):
    """The regularized lower incomplete gamma function P(input, other)."""
    return IncompleteGamma.apply(*_operands(input, other, "igamma"))


@register("special", name="gammainc")
def special_gammainc(input, other):
    """P(input, other), the regularized lower incomplete gamma (``torch.special.gammainc``)."""
    return igamma(input, other)


@register("torch", "Tensor", inplace=True)
def igammac(input, other):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P."""
    return UpperIncompleteGamma.apply(*_operands(input, other, "igammac"))


@register("special", name="gammaincc")
def special_gammaincc(input, other):
    """Q(input, other), the regularized upper incomplete gamma (``torch.special.gammaincc``)."""
    return igammac(input, other)


@register("special")
def zeta(input, other):
    """The Hurwitz zeta function zeta(input, other) = sum_k (k + other)**-input."""
    return HurwitzZeta.apply(*_operands(input, other, "zeta"))



# ------------------------------------------------- torch.special's names for ops of other kinds


@register("special")
def expit(input):
    """The logistic sigmoid, 1 / (1 + e**-x): ``torch.special``'s name for ``sigmoid``."""
    return sigmoid(input)


@register("special", name="softmax")
def special_softmax(input, dim, *, dtype=None):
    """``softmax`` along ``dim``, under ``torch.special``."""
    return softmax(input, dim, dtype=dtype)


@register("special", name="log_softmax")
def special_log_softmax(input, dim, *, dtype=None):
    """``log_softmax`` along ``dim``, under ``torch.special``."""
    return log_softmax(input, dim, dtype=dtype)


@register("special", name="logsumexp")
def special_logsumexp(input, dim, keepdim=False):
    """``logsumexp`` over ``dim``, under ``torch.special``."""
    return logsumexp(input, dim, keepdim)
