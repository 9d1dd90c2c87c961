"""The orthogonal polynomials of ``torch.special``: Chebyshev, Hermite, Laguerre, Legendre.

Each is ``P_n(x)`` for a real ``x`` and an integer degree ``n`` (a tensor or a
number; a float ``n`` is truncated toward zero, and a negative, infinite or nan
``n`` gives 0), evaluated as PyTorch does: by the three-term recurrence from
``P_0 = 1`` and ``P_1``, with PyTorch's exact values at the ends of the
interval (``T_n(1) = 1``, ``U_n(-1) = (-1)**n (n + 1)``, ...), and for the
Chebyshev kinds of high degree inside the interval the trigonometric form
(``T_n(x) = cos(n acos x)``). Outside the interval the recurrence runs on and
may overflow to inf or nan, as in PyTorch; the Hermite polynomials give nan
above degree 512 (128 in float32), PyTorch's limit.

None of them has a gradient in PyTorch; their results never require grad.

    >>> import chainrule as cr
    >>> from chainrule import special
    >>> special.chebyshev_polynomial_t(cr.tensor([0.5, 2.0], dtype=cr.float64), 3)
    tensor([-1., 26.], dtype=float64)
"""

import numpy as np

from chainrule.ops._operands import check_operand
from chainrule.ops.special_functions import float_result_dtype, on_host
from chainrule.registry import register
from chainrule.tensor import Tensor


def _degrees(n, dtype):
    """n cast to the op's dtype, then to integers toward zero; not finite -> -1 (gives 0)."""
    n = np.asarray(n).astype(dtype)
    finite = np.isfinite(n) & (np.abs(n) < 2.0 ** 62)
    return np.where(finite, np.trunc(np.where(finite, n, 0)), -1).astype(np.int64)


def _recurrence(x, n, first, step, todo):
    """P_n(x) where ``todo`` holds: P_0 = 1, P_1 = ``first``, P_{k+1} = step(k, P_k, P_{k-1}).

    Stops once every element still running has become nan (as PyTorch's loop does).
    """
    out = np.where(n == 0, 1.0, first).astype(x.dtype)
    top = int(n[todo].max()) if todo.any() else 1
    previous, current, degree = np.ones_like(x), first, 1
    while degree < top:
        running = todo & (n > degree)
        if not running.any() or np.isnan(current[running]).all():
            break
        previous, current = current, step(degree, current, previous)
        degree += 1
        out = np.where(running & (n == degree), current, out)
    return np.where(todo & (n > degree), np.nan, out)  # where the loop stopped on nan


def _chebyshev(kind, x, n, shifted):
    """The Chebyshev polynomial T, U, V or W of degree n at x (at 2x - 1 when ``shifted``)."""
    one = x.dtype.type(1)
    y = x + x - one if shifted else x
    # The ends of [-1, 1]; the shifted ones test x itself (x == 1, x == 0), as PyTorch does.
    at_plus = (x == one) if shifted else (np.abs(x) == one) & (x > 0)
    at_minus = (x == 0) if shifted else (np.abs(x) == one) & (x < 0)
    even = n % 2 == 0
    sign = np.where(even, 1, -1)
    count = (n + 1).astype(x.dtype)  # n + 1
    odd_count = (n + n + 1).astype(x.dtype)  # 2n + 1
    ends = {"t": (1, sign), "u": (count, sign * count), "v": (1, sign * odd_count),
            "w": (odd_count, sign)}[kind]
    threshold = {"t": 6, "u": 8, "v": 8, "w": 8}[kind] if not shifted else (
        4 if kind == "w" else 6)
    trig = (n > threshold) & (np.abs(y) < one) & ~at_plus & ~at_minus
    with np.errstate(all="ignore"):
        theta = np.arccos(np.where(trig, y, 0))
        nf = n.astype(x.dtype)
        if kind == "t":
            closed = np.cos(nf * theta)
        elif kind == "u":
            s = np.sin(theta)
            closed = np.where(s != 0, np.sin((nf + 1) * theta) / s,
                              (nf + 1) * np.cos((nf + 1) * theta) / y)
        elif kind == "v":
            closed = np.where(np.sin(theta / 2) != 1,
                              np.cos((nf + 0.5) * theta) / np.cos(theta / 2), sign * odd_count)
        else:
            fallback = np.where(y > 0, odd_count, sign) if not shifted else sign
            closed = np.where(np.cos(theta / 2) != 1,
                              np.sin((nf + 0.5) * theta) / np.sin(theta / 2), fallback)
        first = {"t": y, "u": y + y, "v": y + y - one, "w": y + y + one}[kind]
        todo = (n >= 0) & ~at_plus & ~at_minus & ~trig
        out = _recurrence(y, n, first, lambda k, q, p: (y + y) * q - p, todo)
    out = np.where(trig, closed, out)
    out = np.where(at_plus & (n >= 0), ends[0], out)
    out = np.where(at_minus & (n >= 0), ends[1], out)
    return np.where(n < 0, 0, out).astype(x.dtype)


def _hermite(x, n, physicists):
    """H_n (physicists') or He_n (probabilists') at x; nan above PyTorch's degree limit."""
    limit = 128 if x.dtype == np.float32 else 512
    with np.errstate(all="ignore"):
        if physicists:
            out = _recurrence(x, n, x + x, lambda k, q, p: (x + x) * q - (2 * k) * p,
                              (n >= 0) & (n <= limit))
        else:
            out = _recurrence(x, n, x, lambda k, q, p: x * q - k * p, (n >= 0) & (n <= limit))
    out = np.where(n > limit, np.nan, out)
    return np.where(n < 0, 0, out).astype(x.dtype)


def _laguerre(x, n):
    one = x.dtype.type(1)
    with np.errstate(all="ignore"):
        out = _recurrence(x, n, one - x,
                          lambda k, q, p: (((k + k) + (one - x)) * q - k * p) / (k + 1),
                          (n >= 0) & (x != 0))
    out = np.where(x == 0, 1, out)
    return np.where(n < 0, 0, out).astype(x.dtype)


def _legendre(x, n):
    one = x.dtype.type(1)
    ends = np.abs(x) == one
    with np.errstate(all="ignore"):
        out = _recurrence(x, n, x, lambda k, q, p: ((k + k + 1) * x * q - k * p) / (k + 1),
                          (n >= 0) & ~ends)
    out = np.where(ends, np.where((x > 0) | (n % 2 == 0), 1, -1), out)
    return np.where(n < 0, 0, out).astype(x.dtype)


def _polynomial(evaluate, input, n, op):
    """``evaluate(x, n)`` on host arrays broadcast together; the result never requires grad."""
    input, n = check_operand(input, op), check_operand(n, op)
    if not (isinstance(input, Tensor) or isinstance(n, Tensor)):
        raise TypeError(f"{op}: at least one of input and n must be a Tensor")
    dtype = float_result_dtype(input, n)

    def on_arrays(x, degree):
        x, degree = np.broadcast_arrays(np.asarray(x, dtype=dtype), _degrees(degree, dtype))
        return evaluate(x, degree)

    return Tensor._make(on_host(on_arrays, dtype, input, n, op=op), False, None)


# ------------------------------------------------------------ declarations


@register("special")
def chebyshev_polynomial_t(input, n):
    """T_n(input), the Chebyshev polynomial of the first kind: T_n(cos t) = cos(n t)."""
    return _polynomial(lambda x, k: _chebyshev("t", x, k, False), input, n,
                       "chebyshev_polynomial_t")


@register("special")
def chebyshev_polynomial_u(input, n):
    """U_n(input), of the second kind: U_n(cos t) = sin((n + 1) t) / sin t."""
    return _polynomial(lambda x, k: _chebyshev("u", x, k, False), input, n,
                       "chebyshev_polynomial_u")


@register("special")
def chebyshev_polynomial_v(input, n):
    """V_n(input), of the third kind: V_n(cos t) = cos((n + 1/2) t) / cos(t / 2)."""
    return _polynomial(lambda x, k: _chebyshev("v", x, k, False), input, n,
                       "chebyshev_polynomial_v")


@register("special")
def chebyshev_polynomial_w(input, n):
    """W_n(input), of the fourth kind: W_n(cos t) = sin((n + 1/2) t) / sin(t / 2)."""
    return _polynomial(lambda x, k: _chebyshev("w", x, k, False), input, n,
                       "chebyshev_polynomial_w")


@register("special")
def shifted_chebyshev_polynomial_t(input, n):
    """T*_n(input) = T_n(2 input - 1), the first kind shifted to [0, 1]."""
    return _polynomial(lambda x, k: _chebyshev("t", x, k, True), input, n,
                       "shifted_chebyshev_polynomial_t")


@register("special")
def shifted_chebyshev_polynomial_u(input, n):
    """U*_n(input) = U_n(2 input - 1), the second kind shifted to [0, 1]."""
    return _polynomial(lambda x, k: _chebyshev("u", x, k, True), input, n,
                       "shifted_chebyshev_polynomial_u")


@register("special")
def shifted_chebyshev_polynomial_v(input, n):
    """V*_n(input) = V_n(2 input - 1), the third kind shifted to [0, 1]."""
    return _polynomial(lambda x, k: _chebyshev("v", x, k, True), input, n,
                       "shifted_chebyshev_polynomial_v")


@register("special")
def shifted_chebyshev_polynomial_w(input, n):
    """W*_n(input) = W_n(2 input - 1), the fourth kind shifted to [0, 1]."""
    return _polynomial(lambda x, k: _chebyshev("w", x, k, True), input, n,
                       "shifted_chebyshev_polynomial_w")


@register("special")
def hermite_polynomial_h(input, n):
    """H_n(input), the physicists' Hermite polynomial: H_{k+1} = 2x H_k - 2k H_{k-1}."""
    return _polynomial(lambda x, k: _hermite(x, k, True), input, n, "hermite_polynomial_h")


@register("special")
def hermite_polynomial_he(input, n):
    """He_n(input), the probabilists' Hermite polynomial: He_{k+1} = x He_k - k He_{k-1}."""
    return _polynomial(lambda x, k: _hermite(x, k, False), input, n, "hermite_polynomial_he")


@register("special")
def laguerre_polynomial_l(input, n):
    """L_n(input), the Laguerre polynomial: (k+1) L_{k+1} = (2k + 1 - x) L_k - k L_{k-1}."""
    return _polynomial(_laguerre, input, n, "laguerre_polynomial_l")


@register("special")
def legendre_polynomial_p(input, n):
    """P_n(input), the Legendre polynomial: (k+1) P_{k+1} = (2k + 1) x P_k - k P_{k-1}."""
    return _polynomial(_legendre, input, n, "legendre_polynomial_p")
