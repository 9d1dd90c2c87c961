"""Activations that mix an element with others along a dim or a channel.

``glu`` gates one half of a dim with the other half, ``prelu`` learns a
negative slope per channel (dim 1), ``softmin`` is the softmax of the
negated input. All are composed of primitives, so their gradients of every
order come from those.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.glu(cr.tensor([1.0, 0.0]), dim=0)
    tensor([0.5000])
"""

from chainrule.ops.activation import softmax
from chainrule.ops.comparison import gt
from chainrule.ops.elementwise import sigmoid, where
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

__all__ = []  # the ops are registered


@register("nn.functional")
def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the first and second halves of ``input`` along ``dim``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"glu: input must be a Tensor, got {type(input).__name__}")
    if input.ndim == 0:
        raise RuntimeError("glu: does not support scalars (0-d tensors); the input needs a dim "
                           "of even size to halve")
    dim = _check_dim(dim, input.ndim, "glu")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {dim} is size "
                           f"{size} (input shape {tuple(input.shape)})")
    before = (slice(None),) * dim
    first = input[before + (slice(0, size // 2),)]
    second = input[before + (slice(size // 2, size),)]
    return first * sigmoid(second)


@register("nn.functional", "torch", "Tensor")
def prelu(input, weight):
    """x where x > 0, else weight * x, weight one value or one per channel (dim 1).

    d/dx = 1 or weight (weight at 0, as PyTorch); d/dweight = x where x <= 0,
    summed over all but the channel dim.
    """
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"prelu: {name} must be a Tensor, got {type(t).__name__}")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: expected weight to be a scalar or 1-d tensor, got shape "
                           f"{tuple(weight.shape)}")
    count = weight.numel()
    if count != 1:
        channels = input.shape[1] if input.ndim > 1 else 1
        if channels != count:
            raise RuntimeError(
                f"prelu: weight has {count} values but the input of shape "
                f"{tuple(input.shape)} has {channels} channels (dim 1); pass one value, or one "
                f"per channel")
    if input.ndim != weight.ndim:
        shape = [1] * input.ndim
        if input.ndim > 1:
            shape[1] = count
        weight = weight.reshape(tuple(shape))
    return where(gt(input, 0), input, weight * input)


def _softmax_dim(ndim):
    """PyTorch's implicit dim for softmax-like ops called without ``dim`` (deprecated there)."""
    return 0 if ndim in (0, 1, 3) else 1


@register("nn.functional")
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``: each slice becomes a distribution favouring small values.

    ``dtype`` casts the input first. Without ``dim``, PyTorch's old implicit
    choice applies: dim 0 for 0-, 1- and 3-d inputs, else dim 1.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"softmin: input must be a Tensor, got {type(input).__name__}")
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim(input.ndim)
    return softmax(-input, dim)
