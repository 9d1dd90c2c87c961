"""Numerical calculus and statistics: ``diff``, ``gradient``, ``trapezoid``, ``cov``, distances.

One primitive, ``PNorm`` (the p-norm over some dimensions, with PyTorch's
gradient at zero, at ties of the max and for p < 1); the rest is composed of
slices, sums, products and ``cumsum``, written as PyTorch writes them so
that values agree to the last bits and gradients come from autograd.

    >>> import chainrule as cr
    >>> y = cr.tensor([1.0, 4.0, 9.0], requires_grad=True)
    >>> cr.trapezoid(y).item()                   # (1 + 4) / 2 + (4 + 9) / 2
    9.0
    >>> cr.trapezoid(y).backward()
    >>> y.grad                                   # half weight at the ends
    tensor([0.5000, 1.0000, 0.5000])
"""


import numpy as np

from chainrule.device import array_module
from chainrule.ops.elementwise import clamp, sqrt, where
from chainrule.ops.joining import cat
from chainrule.ops.linalg_norms import p_norm
from chainrule.ops.products import Diagonal, mm
from chainrule.ops.reduction import cumsum
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim


def _constant(array):
    return Tensor._make(array, False, None)


# ---------------------------------------------------------------- p-norms


@register("torch", "Tensor")
def dist(input, other, p=2):
    """The p-norm of input - other (broadcast), over all elements."""
    difference = input - other
    return p_norm(difference, p, tuple(range(difference.ndim)))


@register("torch")
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 (*, P, M) and each row of x2 (*, R, M)."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: x1 and x2 must be (*, P, M) and (*, R, M) with the same M, "
                         f"got shapes {tuple(x1.shape)} and {tuple(x2.shape)}")
    if p < 0:
        raise ValueError(f"cdist: p must be non-negative, got {p}")
    a = x1.reshape(tuple(x1.shape[:-1]) + (1, x1.shape[-1]))
    b = x2.reshape(tuple(x2.shape[:-2]) + (1,) + tuple(x2.shape[-2:]))
    difference = a - b
    return p_norm(difference, p, (difference.ndim - 1,))


@register("torch", "Tensor", inplace=True)
def renorm(input, p, dim, maxnorm):
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to that norm."""
    d = _check_dim(dim, input.ndim, "renorm")
    if p <= 0:
        raise ValueError(f"renorm: p must be positive, got {p}")
    if maxnorm < 0:
        raise ValueError(f"renorm: maxnorm must be non-negative, got {maxnorm}")
    norm = p_norm(input, p, tuple(i for i in range(input.ndim) if i != d), keepdim=True)
    factor = where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return input * factor


# ---------------------------------------------------------------- differences


def _slice(x, dim, start=None, stop=None):
    return x[(slice(None),) * dim + (slice(start, stop),)]


@register("torch", "Tensor")
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim``: out_i = x_(i+1) - x_i, applied n times."""
    if input.ndim == 0:
        raise ValueError("diff: expected a tensor with at least one dimension, got a 0-d one")
    d = _check_dim(dim, input.ndim, "diff")
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    if n == 0:
        return input  # as PyTorch: prepend and append are not used either
    pieces = [t for t in (prepend, input, append) if t is not None]
    x = cat(pieces, dim=d) if len(pieces) > 1 else input
    for _ in range(n):
        later, earlier = _slice(x, d, 1), _slice(x, d, None, -1)
        x = (later ^ earlier) if x.dtype == np.bool_ else later - earlier
    return x


@register("torch")
def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences along each of ``dim`` (one tensor each), one-sided at the edges.

    ``spacing``: one number for every dim, a number per dim, or a coordinate
    tensor per dim (then the differences are for unevenly spaced samples).
    """
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order}")
    dims = (list(range(input.ndim)) if dim is None
            else [dim] if isinstance(dim, int) else list(dim))
    dims = [_check_dim(d, input.ndim, "gradient") for d in dims]
    if spacing is None:
        spacing = 1
    if isinstance(spacing, (list, tuple)):
        spacings = list(spacing)
        if len(spacings) != len(dims):
            raise ValueError(f"gradient: {len(spacings)} spacings for {len(dims)} dimensions; "
                             "give one per dimension (or one number for all)")
    else:
        spacings = [spacing] * len(dims)
    results = []
    for d, h in zip(dims, spacings):
        if input.shape[d] < edge_order + 1:
            raise ValueError(f"gradient: dimension {d} of shape {tuple(input.shape)} has "
                             f"{input.shape[d]} samples; edge_order={edge_order} needs at "
                             f"least {edge_order + 1}")
        if isinstance(h, Tensor):
            results.append(_gradient_on_coordinates(input, h, d, edge_order))
        else:
            results.append(_gradient_evenly(input, h, d, edge_order))
    return tuple(results)


def _gradient_evenly(f, h, d, edge_order):
    center = (_slice(f, d, 2) - _slice(f, d, 0, -2)) / h
    if edge_order == 1:
        first = (_slice(f, d, 1, 2) - _slice(f, d, 0, 1)) / h
        last = (_slice(f, d, -1) - _slice(f, d, -2, -1)) / h
    else:
        first = (_slice(f, d, 0, 1) * -1.5 + _slice(f, d, 1, 2) * 2
                 - _slice(f, d, 2, 3) * 0.5) / h
        last = (_slice(f, d, -3, -2) * 0.5 + _slice(f, d, -2, -1) * -2
                + _slice(f, d, -1) * 1.5) / h
    return cat([first, center / 2, last], dim=d)


def _gradient_on_coordinates(f, x, d, edge_order):
    """Second-order differences for samples f at coordinates x (1-d) along dim d."""
    shape = [1] * f.ndim
    shape[d] = -1
    step = x[1:] - x[:-1]
    dx1, dx2 = step[:-1], step[1:]
    a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(shape)
    b = ((dx2 - dx1) / (dx1 * dx2)).reshape(shape)
    c = (dx1 / (dx2 * (dx1 + dx2))).reshape(shape)
    center = a * _slice(f, d, 0, -2) + b * _slice(f, d, 1, -1) + c * _slice(f, d, 2)
    if edge_order == 1:
        first = (_slice(f, d, 1, 2) - _slice(f, d, 0, 1)) / step[0]
        last = (_slice(f, d, -1) - _slice(f, d, -2, -1)) / step[-1]
    else:
        s0, s1 = step[0], step[1]
        a = -(2.0 * s0 + s1) / (s0 * (s0 + s1))
        b = (s0 + s1) / (s0 * s1)
        c = -s0 / (s1 * (s0 + s1))
        first = a * _slice(f, d, 0, 1) + b * _slice(f, d, 1, 2) + c * _slice(f, d, 2, 3)
        s1, s2 = step[-2], step[-1]
        a = s2 / (s1 * (s2 + s1))
        b = -(s2 + s1) / (s2 * s1)
        c = (2 * s2 + s1) / (s2 * (s2 + s1))
        last = a * _slice(f, d, -3, -2) + b * _slice(f, d, -2, -1) + c * _slice(f, d, -1)
    return cat([first, center, last], dim=d)


# ---------------------------------------------------------------- trapezoid rule


def _spacings(y, x, d, op):
    """x's differences along d, shaped to broadcast against y's (as NumPy and PyTorch)."""
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise ValueError(f"{op}: x has {x.shape[0]} samples but y has {y.shape[d]} along "
                             f"dim {d}")
        shape = [1] * y.ndim
        shape[d] = x.shape[0]
        x = x.reshape(tuple(shape))
    elif x.ndim < y.ndim:
        x = x.reshape((1,) * (y.ndim - x.ndim) + tuple(x.shape))
    return _slice(x, d, 1) - _slice(x, d, None, -1)


def _trapezoid(y, x, dx, dim, op):
    if y.ndim == 0:
        raise ValueError(f"{op}: y must have at least one dimension")
    d = _check_dim(dim, y.ndim, op)
    if x is not None and dx is not None:
        raise TypeError(f"{op}: give x or dx, not both")
    if y.shape[d] == 0:
        xp = array_module(y.array)
        return _constant(xp.zeros(y.shape[:d] + y.shape[d + 1:], dtype=y.dtype))
    if x is not None:
        spacing = _spacings(y, x, d, op)
        return reduce_sum((_slice(y, d, None, -1) + _slice(y, d, 1)) * spacing, d) / 2.0
    dx = 1 if dx is None else dx
    first, last = y[(slice(None),) * d + (0,)], y[(slice(None),) * d + (-1,)]
    return (reduce_sum(y, d) - (first + last) * 0.5) * dx


@register("torch")
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule along ``dim``: samples y at coordinates x, or spaced dx (default 1)."""
    return _trapezoid(y, x, dx, dim, "trapezoid")


@register("torch")
def trapz(y, x=None, *, dx=None, dim=-1):
    """``trapezoid``, by its older name."""
    return _trapezoid(y, x, dx, dim, "trapz")


@register("torch")
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid rule along ``dim``: one fewer element than y along it."""
    if y.ndim == 0:
        raise ValueError("cumulative_trapezoid: y must have at least one dimension")
    d = _check_dim(dim, y.ndim, "cumulative_trapezoid")
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid: give x or dx, not both")
    pairs = _slice(y, d, None, -1) + _slice(y, d, 1)
    if x is not None:
        return cumsum(pairs * _spacings(y, x, d, "cumulative_trapezoid"), d) / 2.0
    dx = 1 if dx is None else dx
    return cumsum(dx / 2.0 * pairs, d)


# ---------------------------------------------------------------- covariance


@register("torch", "Tensor")
def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance of the variables in the rows of input (observations in the columns).

    ``fweights`` (integer repeat counts) and ``aweights`` (observation weights)
    weigh the observations; ``correction=1`` is Bessel's (N - 1).
    """
    if input.ndim > 2:
        raise ValueError(f"cov: input must have at most 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    observations = x.shape[1]
    weights = None
    if fweights is not None:
        _check_weights(fweights, observations, "fweights", "iu")
        weights = fweights
    if aweights is not None:
        _check_weights(aweights, observations, "aweights", "f")
        weights = aweights if weights is None else weights * aweights
    if weights is None:
        total = observations
        average = reduce_sum(x, 1) / total
    else:
        total = reduce_sum(weights)
        if bool((total.array == 0).all()):
            raise ValueError("cov: the weights sum to zero, so they cannot be normalized")
        average = reduce_sum(x * weights, 1) / total
    if weights is not None and aweights is not None and correction != 0:
        norm_factor = total - correction * reduce_sum(weights * aweights) / total
    else:
        norm_factor = total - correction
    if float(norm_factor.array if isinstance(norm_factor, Tensor) else norm_factor) <= 0:
        norm_factor = norm_factor * 0  # torch warns and divides by 0: inf and nan
    centered = x - average.reshape(-1, 1)
    product = mm(centered, (centered if weights is None else centered * weights).mT)
    with np.errstate(divide="ignore", invalid="ignore"):
        covariance = product / norm_factor
    return covariance.squeeze()


def _check_weights(w, observations, name, kinds):
    if not isinstance(w, Tensor):
        raise TypeError(f"cov: {name} must be a Tensor, got {type(w).__name__}")
    if w.ndim > 1 or w.numel() != observations:
        raise ValueError(f"cov: {name} must be 1-d with one weight per observation "
                         f"({observations}), got shape {tuple(w.shape)}")
    if w.dtype.kind not in kinds:
        raise TypeError(f"cov: {name} must be "
                        + ("integers" if kinds == "iu" else "floating point")
                        + f", got {w.dtype}")
    if bool((w.array < 0).any()):
        raise ValueError(f"cov: {name} cannot be negative")


@register("torch", "Tensor")
def corrcoef(input):
    """Pearson's correlation coefficients of the rows of input, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    stddev = sqrt(Diagonal.apply(c, 0, 0, 1))
    c = c / stddev.reshape(-1, 1)
    c = c / stddev.reshape(1, -1)
    return clamp(c, -1, 1)
