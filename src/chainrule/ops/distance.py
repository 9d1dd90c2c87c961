"""Norms and distances between vectors: ``normalize``, ``cosine_similarity``,
``pairwise_distance`` and ``pdist``, as in ``torch.nn.functional``.

They share one primitive, the p-norm along dims (``VectorNorm``), whose
backward follows PyTorch's ``norm_backward`` case by case (p = 0, 1, 2,
inf, below and above 1), including its zeros where the norm is 0; the
backward recomputes the norm with ``VectorNorm`` itself, so it
differentiates again.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.pairwise_distance(cr.tensor([[3.0, 4.0]]), cr.tensor([[0.0, 0.0]]), eps=0.0)
    tensor([5.])
"""



from chainrule.device import array_module
from chainrule.ops.elementwise import sign
from chainrule.ops.linalg_norms import p_norm
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

__all__ = []  # the ops are registered


def _constant(array):
    return Tensor._make(array, False, None)


def _size(x):
    """|x| as sign(x) * x: its derivative, sign(x), is taken as a constant (0 at 0)."""
    return sign(x) * x


def _vector_norm(x, p, dims, keepdim=False):
    """The p-norm of ``x`` over ``dims`` (a tuple; () reduces a 0-d tensor over nothing)."""
    return p_norm(x, p, dims, keepdim)


def _check_tensor(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


@register("nn.functional")
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along ``dim``: each slice scaled to p-norm 1."""
    _check_tensor(input, "normalize")
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    dims = (_check_dim(dim, input.ndim, "normalize"),) if input.ndim else ()
    norm = _vector_norm(input, p, dims, keepdim=True)
    return input / norm.clamp_min(eps)


def _broadcast_pair(x1, x2, op):
    xp = array_module(x1.array)
    try:
        shape = xp.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise ValueError(f"{op}: x1 of shape {tuple(x1.shape)} and x2 of shape "
                         f"{tuple(x2.shape)} cannot be broadcast together") from None
    if tuple(x1.shape) != shape:
        x1 = x1.expand(*shape)
    if tuple(x2.shape) != shape:
        x2 = x2.expand(*shape)
    return x1, x2


def _clamped_keeping_gradient(norm, eps):
    """max(norm, eps) in value, with the gradient of norm itself (PyTorch clamps under no_grad)."""
    values = norm.array
    lifted = array_module(values).maximum(values, values.dtype.type(eps)) - values
    return norm + _constant(lifted)


@register("nn.functional", "torch")
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum((x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps))) along ``dim``, x1, x2 broadcast."""
    _check_tensor(x1, "cosine_similarity", "x1")
    _check_tensor(x2, "cosine_similarity", "x2")
    x1, x2 = _broadcast_pair(x1, x2, "cosine_similarity")
    if x1.ndim == 0:
        dims = ()
        reduce = lambda t: t  # noqa: E731  (a 0-d tensor is its own sum)
    else:
        axis = _check_dim(dim, x1.ndim, "cosine_similarity")
        dims = (axis,)
        reduce = lambda t: t.sum(axis)  # noqa: E731
    n1 = _clamped_keeping_gradient(_vector_norm(x1, 2, dims, keepdim=True), eps)
    n2 = _clamped_keeping_gradient(_vector_norm(x2, 2, dims, keepdim=True), eps)
    return reduce((x1 / n1) * (x2 / n2))


@register("nn.functional", "torch")
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (of the broadcast shape)."""
    _check_tensor(x1, "pairwise_distance", "x1")
    _check_tensor(x2, "pairwise_distance", "x2")
    difference = x1 - x2 + eps
    dims = (difference.ndim - 1,) if difference.ndim else ()
    return _vector_norm(difference, p, dims, keepdim)


@register("nn.functional", "torch")
def pdist(input, p=2):
    """||x_i - x_j||_p for every pair of rows i < j of ``input`` (N, M), in row-major order."""
    _check_tensor(input, "pdist")
    if input.ndim != 2:
        raise RuntimeError(f"pdist: only supports 2-d tensors (N, M), got shape "
                           f"{tuple(input.shape)}")
    if p < 0:
        raise RuntimeError(f"pdist: only supports non-negative p values, got {p}")
    n = input.shape[0]
    first, second = array_module(input.array).triu_indices(n, 1)
    return _vector_norm(input[first] - input[second], p, (1,))

