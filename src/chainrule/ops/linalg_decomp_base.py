"""What the decompositions share: checks, host round trips, masks and a differentiable solve.

LAPACK (through numpy and scipy) computes the factorizations on the host;
``on_host`` and ``on_device`` take an array there and back, as ``_erf`` does
for scipy.special. The backward rules are written with tensor ops, and
``tril``, ``triu`` and ``diag_embed`` are built here from constant masks
(a product with a constant is differentiable any number of times).
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import _mode
from chainrule.device import array_module, backend_of
from chainrule.tensor import Tensor


def check_tensor(x, op, name="A"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(x).__name__}")
    return x


def check_matrix(x, op, name="A", square=False, floating=True):
    """``x`` is a tensor of (batches of) matrices: at least 2-d, floating, square if asked."""
    check_tensor(x, op, name)
    if x.ndim < 2:
        raise RuntimeError(f"{op}: {name} must have at least 2 dimensions (batches of matrices), "
                           f"got shape {tuple(x.shape)}")
    if square and x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices (shape {tuple(x.shape)})")
    if floating and np.dtype(x.dtype).kind != "f":
        raise RuntimeError(f"{op}: expected {name} to be a floating-point tensor (float32 or "
                           f"float64), got {np.dtype(x.dtype)}; convert it with .double()")
    return x


def on_host(values):
    """The array as a numpy array (LAPACK runs on the host)."""
    return backend_of(values).to_host(values)


def on_device(out, like, dtype=None):
    """``out`` (numpy) on the backend of ``like``, in ``dtype`` (default: ``like``'s)."""
    return backend_of(like).asarray(out, dtype=like.dtype if dtype is None else dtype)


def constant(values, like=None):
    """A tensor that takes no gradient: a mask, a permutation, a saved factor."""
    if like is not None:
        values = on_device(np.asarray(values), like.array)
    return Tensor._make(values, False, None)


def recording():
    """Whether tensor ops record a graph now (in backward: whether create_graph is on)."""
    return bool(_mode.enabled)


def mT(x):
    return x.transpose(-2, -1)


def tril(x, k=0):
    """The lower triangle (on and below diagonal ``k``), as a product with a 0/1 mask."""
    m, n = x.shape[-2:]
    return x * constant(np.tril(np.ones((m, n)), k), x)


def triu(x, k=0):
    m, n = x.shape[-2:]
    return x * constant(np.triu(np.ones((m, n)), k), x)


def eye(m, n, like):
    return constant(np.eye(m, n), like)


def diag_embed(v):
    """(..., k) -> (..., k, k) with ``v`` on the diagonal."""
    k = v.shape[-1]
    return v.unsqueeze(-1) * eye(k, k, v)


def batch_shape(x):
    return tuple(x.shape[:-2])


def each_matrix(array):
    """The matrices of a batch, (..., m, n), one by one, as 2-d host arrays."""
    host = on_host(array)
    return host.reshape((-1,) + host.shape[-2:])


class Solve(Function):
    """X = A^-1 B, A square;  dB = A^-T G,  dA = -A^-T G X^T."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a)
        if a.array.size == 0 or b.array.size == 0:
            shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + tuple(b.shape[-2:])
            return ctx.save_result(array_module(b.array).zeros(shape, dtype=b.array.dtype))
        return ctx.save_result(array_module(a.array, b.array).linalg.solve(a.array, b.array))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        grad_b = Solve.apply(mT(a), grad)
        grad_a = -(grad_b @ mT(ctx.result)) if needs_a else None
        return grad_a, grad_b if needs_b else None


def solve(a, b):
    """A^-1 B for (batches of) square A and matrices B; differentiable in both."""
    return Solve.apply(a, b)


def solve_right(b, a):
    """B A^-1 (``X A = B``), as (A^-T B^T)^T."""
    return mT(Solve.apply(mT(a), mT(b)))
