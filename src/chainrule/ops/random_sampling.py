"""Sampling from distributions: ``bernoulli``, ``multinomial``, ``normal`` and the in-place fills.

Every draw comes from a ``chainrule.random.Generator`` (``generator=``, else
``default_generator``), so ``manual_seed`` repeats it. The in-place fills
(``x.uniform_()``, ``normal_``, ``cauchy_``, ``exponential_``,
``geometric_``, ``log_normal_``, ``bernoulli_``) overwrite the tensor's
values: nothing flows back to the old values, as in PyTorch.

Gradients, as PyTorch defines them: ``normal(mean, std) = mean + std * e``
with ``e ~ N(0, 1)`` held fixed, so d/dmean = 1 and d/dstd = e;
``bernoulli(p)`` is piecewise constant in ``p``, so its gradient is 0.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> cr.bernoulli(cr.tensor([0.0, 1.0])).tolist()
    [0.0, 1.0]
"""

import numbers

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import backend_of
from chainrule.ops.inplace import Fill
from chainrule.random import numpy_generator
from chainrule.registry import register
from chainrule.tensor import Tensor, _as_dtype


def _on_device_of(like, array, dtype):
    """A host draw as an array of ``like``'s backend, in ``dtype``."""
    return backend_of(like).asarray(np.asarray(array), dtype=dtype)


class Drawn(Function):
    """A sample whose value does not move with its inputs;  d/d(inputs) = 0.

    (``bernoulli(p)``: a small change of p changes no sample, almost surely.)
    """

    @staticmethod
    def forward(ctx, probabilities, sample):
        return sample

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, None


@register("torch", "Tensor")
def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (or ``p``, where given), else 0, in ``input``'s dtype."""
    rng = numpy_generator(generator)
    probability = backend_of(input.array).to_host(input.array) if p is None else p
    if p is None and ((probability < 0) | (probability > 1)).any():
        raise ValueError("bernoulli: every probability must be in [0, 1], got values from "
                         f"{probability.min()} to {probability.max()}")
    sample = rng.random(input.shape) < probability
    return Drawn.apply(input, _on_device_of(input.array, sample, input.dtype))


def _fill(input, op, array):
    """``input``'s values replaced by ``array`` (a host draw), in place."""
    drawn = _on_device_of(input.array, array, input.dtype)
    return input._modify_in_place(op, lambda source: Fill.apply(source, drawn))


@register("Tensor")
def bernoulli_(input, p=0.5, *, generator=None):
    """Fill with 1 (probability ``p``, a number or a tensor that broadcasts) or 0."""
    probability = backend_of(p.array).to_host(p.array) if isinstance(p, Tensor) else p
    return _fill(input, "bernoulli_", numpy_generator(generator).random(input.shape) < probability)


@register("Tensor")
def uniform_(input, *args, generator=None, **bounds):
    """Fill from the uniform distribution on [from, to): ``x.uniform_(from=0, to=1)``.

    (``from`` is a Python keyword, so PyTorch's name is accepted as ``**{"from": a}``.)
    """
    low, high = _uniform_bounds(args, bounds)
    return _fill(input, "uniform_", numpy_generator(generator).uniform(low, high, input.shape))


def _uniform_bounds(args, bounds):
    low = bounds.pop("from", bounds.pop("from_", args[0] if args else 0.0))
    high = bounds.pop("to", args[1] if len(args) > 1 else 1.0)
    if bounds or len(args) > 2:
        raise TypeError(f"uniform_: expected uniform_(from=0, to=1, *, generator=None), "
                        f"got the extra arguments {args[2:] or tuple(bounds)}")
    return low, high


@register("Tensor")
def normal_(input, mean=0.0, std=1.0, *, generator=None):
    """Fill from the normal distribution N(mean, std**2)."""
    _check_positive(std, "normal_", "std", allow_zero=True)
    return _fill(input, "normal_", numpy_generator(generator).normal(mean, std, input.shape))


@register("Tensor")
def cauchy_(input, median=0.0, sigma=1.0, *, generator=None):
    """Fill from the Cauchy distribution: median + sigma * tan(pi (u - 1/2))."""
    _check_positive(sigma, "cauchy_", "sigma")
    draw = numpy_generator(generator).standard_cauchy(input.shape)
    return _fill(input, "cauchy_", median + sigma * draw)


@register("Tensor")
def exponential_(input, lambd=1.0, *, generator=None):
    """Fill from the exponential distribution with rate ``lambd`` (mean 1 / lambd)."""
    _check_positive(lambd, "exponential_", "lambd")
    draw = numpy_generator(generator).exponential(1.0 / lambd, input.shape)
    return _fill(input, "exponential_", draw)


@register("Tensor")
def geometric_(input, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise ValueError(f"geometric_: p must be in (0, 1), got {p}")
    return _fill(input, "geometric_", numpy_generator(generator).geometric(p, input.shape))


@register("Tensor")
def log_normal_(input, mean=1.0, std=2.0, *, generator=None):
    """Fill with e**N(mean, std**2)."""
    _check_positive(std, "log_normal_", "std")
    draw = numpy_generator(generator).lognormal(mean, std, input.shape)
    return _fill(input, "log_normal_", draw)


def _check_positive(value, op, name, allow_zero=False):
    if isinstance(value, numbers.Real) and (value < 0 or (value == 0 and not allow_zero)):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{op}: {name} must be {bound}, got {name}={value}")


@register("torch")
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, layout=None, device=None):
    """mean + std * e with e ~ N(0, 1): ``mean`` and ``std`` tensors or numbers (they broadcast).

    With two numbers, ``size`` gives the shape (``normal(0.0, 1.0, (2, 3))``).
    Differentiable: d/dmean = 1, d/dstd = e.
    """
    if layout is not None and str(layout).rsplit(".", 1)[-1] != "strided":
        raise ValueError(f"normal: only the strided (dense) layout is supported, got {layout}")
    rng = numpy_generator(generator)
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal: with a number mean and std, give size, as in "
                            "normal(0.0, 1.0, (2, 3))")
        _check_positive(std, "normal", "std", allow_zero=True)
        dtype = np.dtype(np.float32) if dtype is None else _as_dtype(dtype)
        drawn = Tensor._make(rng.normal(mean, std, tuple(size)).astype(dtype), False, None)
        return drawn if device is None else drawn.to(device)
    if isinstance(std, Tensor) and (backend_of(std.array).to_host(std.array) < 0).any():
        raise ValueError("normal: every std must be >= 0, got a negative one")
    _check_positive(std, "normal", "std", allow_zero=True)
    like = tensors[0]
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    noise = Tensor._make(_on_device_of(like.array, rng.standard_normal(shape), like.dtype),
                         False, None)
    return mean + std * noise


@register("torch", "Tensor")
def multinomial(input, num_samples, replacement=False, *, generator=None):
    """``num_samples`` category indices per row, drawn with the row's (unnormalized) weights.

    Without replacement each index appears at most once per row (so at most as
    many samples as positive weights). int64 indices, never differentiable.
    """
    weights = backend_of(input.array).to_host(input.array).astype(np.float64)
    if input.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-d or 2-d (categories last), got shape "
                         f"{tuple(input.shape)}")
    rows = weights.reshape(-1, weights.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(-1) <= 0).any():
        raise ValueError("multinomial: weights must be finite, non-negative and have a "
                         "positive sum in every row")
    if not replacement and num_samples > (rows > 0).sum(-1).min():
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement "
                         f"from a row with {(rows > 0).sum(-1).min()} non-zero weights")
    rng = numpy_generator(generator)
    if replacement:
        cumulative = np.cumsum(rows / rows.sum(-1, keepdims=True), -1)
        uniform = rng.random((rows.shape[0], num_samples))
        picks = (uniform[:, :, None] >= cumulative[:, None, :]).sum(-1)
        picks = np.minimum(picks, rows.shape[-1] - 1)
    else:
        # Gumbel top-k: the k largest of log w + Gumbel noise are a weighted draw without replacement
        with np.errstate(divide="ignore"):
            keys = np.log(rows) + rng.gumbel(size=rows.shape)
        picks = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    shape = (num_samples,) if input.ndim == 1 else (rows.shape[0], num_samples)
    return Tensor._make(_on_device_of(input.array, picks.reshape(shape), np.int64), False, None)


@register("torch")
def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0, 1, ..., n - 1 (int64 unless ``dtype`` says otherwise)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    order = numpy_generator(generator).permutation(int(n))
    dtype = np.dtype(np.int64) if dtype is None else _as_dtype(dtype)
    out = Tensor._make(order.astype(dtype), False, None)
    out = out if device is None else out.to(device)
    return out.requires_grad_(requires_grad) if requires_grad else out
