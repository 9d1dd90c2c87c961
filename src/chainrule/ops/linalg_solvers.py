"""Linear solvers and determinants, as ``torch.linalg``: ``inv``, ``solve``, ``det``, ...

Four primitives, each with its backward in tensor ops (so gradients of
gradients work): ``Inverse``, ``Solve``, ``Det`` and ``SLogDet``. The rest
is composed of them: triangular solves solve with the triangle of ``A``
(its mask makes the gradient triangular, as PyTorch's), the Cholesky solvers
solve with ``L L^T``, ``matrix_power`` multiplies, ``tensorinv`` and
``tensorsolve`` reshape.

    >>> import chainrule as cr
    >>> A = cr.tensor([[2.0, 0.0], [1.0, 3.0]], requires_grad=True)
    >>> cr.linalg.det(A).backward()
    >>> A.grad                                   # det(A) A^-T, the cofactors
    tensor([[ 3., -1.],
            [ 0.,  2.]])
"""

import math
import warnings
from collections import namedtuple

import numpy as np
import scipy.linalg

from chainrule.autograd.function import Function
from chainrule.device import array_module, backend_of
from chainrule.ops.arithmetic import matmul
from chainrule.ops.elementwise import log
from chainrule.registry import register
from chainrule.tensor import Tensor

inv_ex_result = namedtuple("inv_ex", ["inverse", "info"])
solve_ex_result = namedtuple("solve_ex", ["result", "info"])
slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
triangular_solve_result = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


def _singular(op, shape):
    return RuntimeError(f"{op}: the matrix (batch of shape {tuple(shape)}) is singular, so it "
                        "has no inverse; check the input, or use linalg.pinv or linalg.lstsq")


def pivot_info(array):
    """LAPACK's getrf ``info`` per matrix: 0, or the 1-based index of U's first zero pivot."""
    backend = backend_of(array)
    host = backend.to_host(array)
    n = host.shape[-1]
    info = np.zeros(host.shape[:-2], dtype=np.int32)
    for index in np.ndindex(*host.shape[:-2]):
        with warnings.catch_warnings():  # a zero pivot is what we look for, not a warning
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            lu = scipy.linalg.lu_factor(host[index], check_finite=False)[0] if n else host[index]
        zeros = np.flatnonzero(np.diagonal(lu) == 0)
        info[index] = zeros[0] + 1 if zeros.size else 0
    return backend.asarray(info)


def _solve_each(xp, solve_one, a, b):
    """``solve_one`` matrix by matrix, nan for the singular ones (what the *_ex ops return)."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    out = xp.full(batch + b.shape[-2:], xp.nan, dtype=xp.result_type(a, b))
    for index in np.ndindex(*batch):
        try:
            out[index] = solve_one(a[index], b[index])
        except np.linalg.LinAlgError:
            pass
    return out


class Inverse(Function):
    """A^-1;  dA = -A^-T G A^-T."""

    @staticmethod
    def forward(ctx, A, singular_ok=False):
        xp = array_module(A.array)
        try:
            return ctx.save_result(xp.linalg.inv(A.array))
        except np.linalg.LinAlgError:
            if not singular_ok:
                raise _singular("linalg.inv", A.shape) from None
        eye = xp.eye(A.shape[-1], dtype=A.dtype)
        return ctx.save_result(_solve_each(xp, xp.linalg.solve, A.array, eye))

    @staticmethod
    def backward(ctx, grad):
        inverse_t = ctx.result.mT
        return -matmul(matmul(inverse_t, grad), inverse_t)


class Solve(Function):
    """X = A^-1 B (B a batch of matrices);  dB = A^-T G,  dA = -dB X^T."""

    @staticmethod
    def forward(ctx, A, B, singular_ok=False):
        ctx.save_for_backward(A)
        xp = array_module(A.array, B.array)
        batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
        a = xp.broadcast_to(A.array, batch + A.shape[-2:])
        b = xp.broadcast_to(B.array, batch + B.shape[-2:])
        try:
            return ctx.save_result(xp.linalg.solve(a, b))
        except np.linalg.LinAlgError:
            if not singular_ok:
                raise _singular("linalg.solve", A.shape) from None
        return ctx.save_result(_solve_each(xp, xp.linalg.solve, a, b))

    @staticmethod
    def backward(ctx, grad):
        (A,) = ctx.saved_tensors
        grad_B = Solve.apply(A.mT, grad)
        grad_A = -matmul(grad_B, ctx.result.mT) if ctx.needs_input_grad[0] else None
        return grad_A, grad_B if ctx.needs_input_grad[1] else None


class Det(Function):
    """det(A);  dA = G det(A) A^-T, the cofactor matrix (from the minors where A is singular)."""

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        return ctx.save_result(array_module(A.array).linalg.det(A.array))

    @staticmethod
    def backward(ctx, grad):
        (A,) = ctx.saved_tensors
        return grad.reshape(tuple(grad.shape) + (1, 1)) * cofactors(A, ctx.result)


class SLogDet(Function):
    """(sign det(A), log |det(A)|);  dA = G_log A^-T (the sign is piecewise constant)."""

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        sign, logabsdet = array_module(A.array).linalg.slogdet(A.array)
        return sign, logabsdet

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        (A,) = ctx.saved_tensors
        if grad_logabsdet is None:
            return A * 0.0
        return grad_logabsdet.reshape(tuple(grad_logabsdet.shape) + (1, 1)) * Inverse.apply(A).mT


def cofactors(A, det):
    """det(A) A^-T, written so that it can be differentiated again.

    Where some matrix of the batch is singular, each cofactor is the signed
    determinant of its minor instead: the same matrix, and finite there.
    """
    n = A.shape[-1]
    if n == 0 or bool((det.array != 0).all()):
        return det.reshape(tuple(det.shape) + (1, 1)) * Inverse.apply(A).mT
    xp = array_module(A.array)
    keep = xp.array([[j for j in range(n) if j != i] for i in range(n)], dtype=np.intp)
    rows = keep[:, None, :, None]  # minor (i, j): rows without i, columns without j
    columns = keep[None, :, None, :]
    minors = A[(Ellipsis, rows, columns)]  # (..., n, n, n-1, n-1)
    signs = (-1.0) ** (xp.arange(n)[:, None] + xp.arange(n)[None, :])
    return Det.apply(minors) * Tensor._make(signs.astype(A.dtype), False, None)


# ---------------------------------------------------------------- inverse and solve


def _check_square(A, op, name="A"):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(A).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"{op}: {name} must be a square matrix or a batch of them (*, n, n), "
                         f"got shape {tuple(A.shape)}")
    if A.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be floating point, got {A.dtype}; convert it "
                        "with .double() or .float()")


def _info(A, result, check_errors, op):
    """The *_ex ops' info: 0 per solved matrix, else the first zero pivot (1-based)."""
    xp = array_module(A.array)
    if bool(xp.isnan(result.array).any()) or bool(xp.isinf(result.array).any()):
        info = pivot_info(A.array)
    else:
        info = xp.zeros(A.shape[:-2], dtype=np.int32)
    if check_errors and bool((info != 0).any()):
        raise _singular(op, A.shape)
    return Tensor._make(info, False, None)


@register("linalg")
def inv(A):
    """The inverse of each square matrix of A."""
    _check_square(A, "linalg.inv")
    return Inverse.apply(A)


@register("linalg")
def inv_ex(A, *, check_errors=False):
    """(inverse, info): info is 0 for each invertible matrix, else the first zero pivot of its
    LU factorization (1-based), and its inverse is nan; ``check_errors=True`` raises then."""
    _check_square(A, "linalg.inv_ex")
    inverse = Inverse.apply(A, singular_ok=True)
    return inv_ex_result(inverse, _info(A, inverse, check_errors, "linalg.inv_ex"))


def _is_vector_rhs(A, B):
    """PyTorch's rule: B is a (batch of) vector(s) if 1-d, or if it is A's shape less one dim."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


@register("linalg")
def solve(A, B, *, left=True):
    """X with A X = B (``left=False``: X A = B); B a matrix, a vector, or batches of them."""
    return _solve(A, B, left, False)


def _solve(A, B, left, singular_ok):
    _check_square(A, "linalg.solve")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve: B must be a Tensor, got {type(B).__name__}")
    vector = _is_vector_rhs(A, B)
    rhs = B.reshape(tuple(B.shape) + (1,)) if vector else B
    if not left:
        rhs = rhs.mT
    if rhs.ndim < 2 or rhs.shape[-2] != A.shape[-1]:
        raise ValueError(f"linalg.solve: A of shape {tuple(A.shape)} and B of shape "
                         f"{tuple(B.shape)} do not fit: B needs {A.shape[-1]} "
                         + ("rows" if left else "columns"))
    X = Solve.apply(A if left else A.mT, rhs, singular_ok=singular_ok)
    if not left:
        X = X.mT
    return X.reshape(tuple(X.shape[:-1])) if vector else X


@register("linalg")
def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info) of ``solve``: info as ``inv_ex``'s (nan solutions for a singular A)."""
    result = _solve(A, B, left, True)
    return solve_ex_result(result, _info(A, result, check_errors, "linalg.solve_ex"))


def _triangle(A, upper, unitriangular):
    """The upper or lower triangle of A, its diagonal set to 1 when ``unitriangular``."""
    xp = array_module(A.array)
    n = A.shape[-1]
    rows, columns = xp.arange(n)[:, None], xp.arange(n)[None, :]
    inside = (columns > rows) if upper else (columns < rows)
    if not unitriangular:
        inside = inside | (columns == rows)
    triangle = A * Tensor._make(inside.astype(A.dtype), False, None)
    if unitriangular:
        triangle = triangle + Tensor._make(xp.eye(n, dtype=A.dtype), False, None)
    return triangle


@register("linalg")
def solve_triangular(input, B, *, upper, left=True, unitriangular=False):
    """X with T X = B (``left=False``: X T = B), T the upper or lower triangle of input (A)."""
    _check_square(input, "linalg.solve_triangular")
    if B.ndim < 2:
        raise ValueError(f"linalg.solve_triangular: B must be a matrix or a batch of them, "
                         f"got shape {tuple(B.shape)}")
    return solve(_triangle(input, upper, unitriangular), B, left=left)


@register("torch", "Tensor")
def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):
    """(X, a copy of A) with T X = input, T the triangle of A (transposed if ``transpose``)."""
    _check_square(A, "triangular_solve")
    triangle = _triangle(A, upper, unitriangular)
    solution = solve(triangle.mT if transpose else triangle, input)
    return triangular_solve_result(solution, A.clone())


@register("torch", "Tensor")
def cholesky_solve(input, input2, upper=False):
    """X with A X = input, A = L L^T from its Cholesky factor ``input2`` (U^T U if ``upper``)."""
    _check_square(input2, "cholesky_solve", "input2")
    return solve(_from_cholesky(input2, upper), input)


@register("torch", "Tensor")
def cholesky_inverse(input, upper=False):
    """The inverse of A = L L^T (U^T U if ``upper``) from its Cholesky factor ``input``."""
    _check_square(input, "cholesky_inverse", "input")
    return Inverse.apply(_from_cholesky(input, upper))


def _from_cholesky(factor, upper):
    return matmul(factor.mT, factor) if upper else matmul(factor, factor.mT)


# ---------------------------------------------------------------- determinants


@register("linalg")
def det(A):
    """The determinant of each square matrix of A."""
    _check_square(A, "linalg.det")
    return Det.apply(A)


@register("linalg")
def slogdet(A):
    """(sign, log |det|) of each square matrix of A: the determinant without overflow."""
    _check_square(A, "linalg.slogdet")
    return slogdet_result(*SLogDet.apply(A))


@register("torch", "Tensor")
def logdet(input):
    """log det(input): nan where the determinant is negative, -inf where it is 0."""
    _check_square(input, "logdet", "input")
    sign, logabsdet = SLogDet.apply(input)
    with np.errstate(invalid="ignore", divide="ignore"):
        return logabsdet + log(sign.detach())


# ---------------------------------------------------------------- built from them


class _IdentityOf(Function):
    """The identity matrices of A's shape;  dA = 0 (A^0 does not depend on A)."""

    @staticmethod
    def forward(ctx, A):
        xp = array_module(A.array)
        return xp.broadcast_to(xp.eye(A.shape[-1], dtype=A.dtype), A.shape).copy()

    @staticmethod
    def backward(ctx, grad):
        return grad * 0.0


@register("linalg")
def matrix_power(A, n):
    """A^n by repeated squaring; A^0 is the identity, A^-n is (A^-1)^n."""
    _check_square(A, "linalg.matrix_power")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:
        return _IdentityOf.apply(A)
    base = Inverse.apply(A) if n < 0 else A
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


@register("linalg")
def tensorinv(input, ind=2):
    """The inverse of input (A) seen as a map from its first ``ind`` dimensions to the rest."""
    A = input
    if ind <= 0:
        raise ValueError(f"linalg.tensorinv: ind must be a positive integer, got {ind}")
    rows, columns = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if math.prod(rows) != math.prod(columns):
        raise ValueError(f"linalg.tensorinv: A of shape {tuple(A.shape)} is not invertible as "
                         f"a map {rows} -> {columns}: the products of the sizes must be equal")
    matrix = A.reshape(math.prod(rows), math.prod(columns))
    return inv(matrix).reshape(columns + rows)


@register("linalg")
def tensorsolve(input, other, dims=None):
    """X with tensordot(A, X, X.ndim) = B for A = input, B = other; ``dims`` of A moved last."""
    A, B = input, other
    if dims is not None:
        moved = [d % A.ndim for d in dims]
        A = A.permute(tuple(d for d in range(A.ndim) if d not in moved) + tuple(moved))
    rest = tuple(A.shape[B.ndim:])
    if math.prod(rest) != math.prod(B.shape) or A.ndim < B.ndim:
        raise ValueError(f"linalg.tensorsolve: A of shape {tuple(A.shape)} does not fit B of "
                         f"shape {tuple(B.shape)}: A's dimensions after the first {B.ndim} must "
                         f"hold as many elements as B ({math.prod(B.shape)})")
    matrix = A.reshape(math.prod(B.shape), math.prod(rest))
    return solve(matrix, B.reshape(-1)).reshape(rest)


@register("linalg")
def vander(x, *, N=None):
    """The Vandermonde matrix: columns x^0, x^1, ..., x^(N-1) (N = x's last size by default)."""
    if x.ndim == 0:
        x = x.reshape(1)
    N = x.shape[-1] if N is None else N
    if N < 0:
        raise ValueError(f"linalg.vander: N must be non-negative, got {N}")
    xp = array_module(x.array)
    powers = Tensor._make(xp.arange(N).astype(x.dtype), False, None)
    return x.reshape(tuple(x.shape) + (1,)) ** powers


# ---------------------------------------------------------------- torch.* names of the same ops


@register("torch", "Tensor", name="det")
def det_of(input):
    """``linalg.det``, as ``torch.det`` and ``Tensor.det``."""
    return det(input)


@register("torch", "Tensor", name="slogdet")
def slogdet_of(input):
    """``linalg.slogdet``, as ``torch.slogdet`` and ``Tensor.slogdet``."""
    return slogdet(input)


@register("torch", "Tensor")
def inverse(input):
    """``linalg.inv``, as ``torch.inverse`` and ``Tensor.inverse``."""
    return inv(input)


@register("torch", "Tensor", name="matrix_power")
def matrix_power_of(input, n):
    """``linalg.matrix_power``, as ``torch.matrix_power`` and ``Tensor.matrix_power``."""
    return matrix_power(input, n)
