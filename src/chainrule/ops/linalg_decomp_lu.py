"""LU and LDL factorizations, their solves, Householder products and the matrix exponential.

``lu_factor`` is the one primitive of the LU family (LAPACK's getrf, with
PyTorch's 1-based pivots); ``linalg.lu`` and ``lu_solve`` unpack its packed
factor with masks and solve with it, so their gradients come from
composing. ``householder_product`` and ``matrix_exp`` are composed of
products, so they have no backward of their own.
"""

import math
from collections import namedtuple

import numpy as np
import scipy.linalg.lapack as lapack

from chainrule.autograd.function import Function
from chainrule.ops.joining import cat
from chainrule.ops.linalg_decomp_base import (check_matrix, check_tensor, constant, each_matrix, eye,
                                              mT, on_device, recording, solve, solve_right, tril,
                                              triu)
from chainrule.registry import register

LUFactorResult = namedtuple("LUFactorResult", "LU pivots")
LUFactorExResult = namedtuple("LUFactorExResult", "LU pivots info")
LUResult = namedtuple("LUResult", "P L U")
LDLFactorResult = namedtuple("LDLFactorResult", "LD pivots")
LDLFactorExResult = namedtuple("LDLFactorExResult", "LD pivots info")


def _lapack(name, matrix):
    return lapack.get_lapack_funcs((name,), (matrix,))[0]


class LUFactor(Function):
    """A = P L U packed in one matrix;  dA = P L^-T [tril(L^T dL, -1) + triu(dU U^T)] U^-T (square A).

    Tall and wide A add the rows (columns) beyond the square part, as in
    PyTorch's ``linalg_lu_backward``.
    """

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        shape = tuple(a.shape)
        m, n = shape[-2:]
        k = min(m, n)
        packed = np.zeros(shape[:-2] + (m, n))
        pivots = np.zeros(shape[:-2] + (k,), dtype=np.int32)
        info = np.zeros(shape[:-2], dtype=np.int32)
        if a.array.size:
            getrf = None
            flat_lu, flat_piv, flat_info = (packed.reshape((-1, m, n)), pivots.reshape((-1, k)),
                                            info.reshape(-1))
            for i, matrix in enumerate(each_matrix(a.array)):
                getrf = getrf or _lapack("getrf", matrix)
                flat_lu[i], piv, flat_info[i] = getrf(matrix)
                flat_piv[i] = piv[:k] + 1
        ctx.arrays = (packed, pivots)
        return (on_device(packed, a.array), on_device(pivots, a.array, np.int32),
                on_device(info, a.array, np.int32))

    @staticmethod
    def backward(ctx, grad_lu, grad_pivots, grad_info):
        (a,) = ctx.saved_tensors
        if a.numel() == 0:
            return constant(np.zeros(tuple(a.shape)), a)
        packed, pivots = ctx.arrays
        if recording() and a.requires_grad:
            packed = LUFactor.apply(a)[0]
        else:
            packed = constant(on_device(packed, a.array))
        m, n = a.shape[-2:]
        k = min(m, n)
        lower, upper = unpack(packed)
        grad_lower = tril(grad_lu[..., :, :k], -1)
        grad_upper = triu(grad_lu[..., :k, :])
        return permutation(pivots, m, a) @ lu_backward(lower, upper, grad_lower, grad_upper)


def unpack(packed):
    """L (m, k) with unit diagonal and U (k, n) from LAPACK's packed LU."""
    m, n = packed.shape[-2:]
    k = min(m, n)
    lower = tril(packed[..., :, :k] if n != k else packed, -1) + eye(m, k, packed)
    upper = triu(packed[..., :k, :] if m != k else packed)
    return lower, upper


def permutation(pivots, m, like):
    """P (m, m) with A = P L U, from LAPACK's 1-based row swaps (a constant)."""
    pivots = np.asarray(pivots)
    batch = pivots.shape[:-1]
    flat = pivots.reshape((-1, pivots.shape[-1]))
    out = np.zeros((flat.shape[0], m, m))
    for b, swaps in enumerate(flat):
        order = np.arange(m)
        for i, p in enumerate(swaps):
            order[i], order[p - 1] = order[p - 1], order[i]
        out[b, order, np.arange(m)] = 1
    return constant(out.reshape(batch + (m, m)), like)


def lu_backward(lower, upper, grad_lower, grad_upper):
    """P^T dA from dL, dU for L (m, k) and U (k, n) (the permutation is applied by the caller)."""
    m, n = lower.shape[-2], upper.shape[-1]
    if m == n:
        core = tril(mT(lower) @ grad_lower, -1) + triu(grad_upper @ mT(upper))
        return solve_right(solve(mT(lower), core), mT(upper))
    if m < n:  # wide: U = [U1 U2]; U2 = L^-1 (P^T A)_2 feeds back into L's gradient
        u1, u2 = upper[..., :m], upper[..., m:]
        grad_u1, grad_u2 = grad_upper[..., :m], grad_upper[..., m:]
        core = tril(mT(lower) @ grad_lower - grad_u2 @ mT(u2), -1) + triu(grad_u1 @ mT(u1))
        return cat([solve_right(solve(mT(lower), core), mT(u1)), solve(mT(lower), grad_u2)], -1)
    l1, l2 = lower[..., :n, :], lower[..., n:, :]  # tall: L = [L1; L2], L2 = (P^T A)_2 U^-1
    grad_l1, grad_l2 = grad_lower[..., :n, :], grad_lower[..., n:, :]
    core = tril(mT(l1) @ grad_l1, -1) + triu(grad_upper @ mT(upper) - mT(l2) @ grad_l2)
    return cat([solve_right(solve(mT(l1), core), mT(upper)), solve_right(grad_l2, mT(upper))], -2)


def _lu_factor(a, op):
    check_matrix(a, op)
    return LUFactor.apply(a)


@register("linalg")
def lu_factor(A, *, pivot=True):
    """(LU, pivots): L below the diagonal (unit diagonal implied) and U on and above it."""
    _check_pivot(pivot, "linalg.lu_factor")
    packed, pivots, info = _lu_factor(A, "linalg.lu_factor")
    if int(np.asarray(info.array).max(initial=0)) > 0:
        raise RuntimeError(f"linalg.lu_factor: the factorization of A (shape {tuple(A.shape)}) "
                           "could not be completed: U is singular (a zero pivot); use "
                           "linalg.lu_factor_ex to get info instead of an error")
    return LUFactorResult(packed, pivots)


@register("linalg")
def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): info > 0 marks an exactly singular U, as LAPACK's getrf."""
    _check_pivot(pivot, "linalg.lu_factor_ex")
    return LUFactorExResult(*_lu_factor(A, "linalg.lu_factor_ex"))


@register("linalg")
def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U, L unit lower triangular (m, k), U upper triangular (k, n)."""
    _check_pivot(pivot, "linalg.lu")
    packed, pivots, _ = _lu_factor(A, "linalg.lu")
    lower, upper = unpack(packed)
    return LUResult(permutation(pivots.array, A.shape[-2], A), lower, upper)


@register("torch", "Tensor", name="lu")
def torch_lu(A, pivot=True, get_infos=False):
    """``torch.lu``: (LU, pivots), and infos with get_infos."""
    _check_pivot(pivot, "lu")
    packed, pivots, info = _lu_factor(A, "lu")
    return (packed, pivots, info) if get_infos else (packed, pivots)


def _check_pivot(pivot, op):
    if not pivot:
        raise RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU "
                           "(as in PyTorch); use pivot=True")


@register("linalg")
def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (X A = B if not left; A^T if adjoint), A = P L U given by lu_factor."""
    check_matrix(LU, "linalg.lu_solve", "LU", square=True)
    check_matrix(B, "linalg.lu_solve", "B")
    n = LU.shape[-1]
    rows = B.shape[-2] if left else B.shape[-1]
    if rows != n:
        raise RuntimeError(f"linalg.lu_solve: LU is {n} by {n} but B has shape {tuple(B.shape)}: "
                           f"B needs {n} {'rows' if left else 'columns'}")
    if not left:
        return mT(_lu_solve_left(LU, pivots, mT(B), not adjoint))
    return _lu_solve_left(LU, pivots, B, adjoint)


def _lu_solve_left(packed, pivots, b, adjoint):
    lower, upper = unpack(packed)
    p = permutation(check_tensor(pivots, "lu_solve", "pivots").array, packed.shape[-1], packed)
    if adjoint:  # A^T = U^T L^T P^T
        return p @ solve(mT(lower), solve(mT(upper), b))
    return solve(upper, solve(lower, mT(p) @ b))


@register("torch", "Tensor", name="lu_solve")
def torch_lu_solve(input, LU_data, LU_pivots):
    """``torch.lu_solve(b, LU_data, LU_pivots)``: ``linalg.lu_solve(LU_data, LU_pivots, b)``."""
    return lu_solve(LU_data, LU_pivots, input)


# ------------------------------------------------------------------ LDL


def _ldl_factor(a, hermitian, op):
    check_matrix(a, op, square=True)
    shape = tuple(a.shape)
    n = shape[-1]
    packed = np.zeros(shape)
    pivots = np.zeros(shape[:-1], dtype=np.int32)
    info = np.zeros(shape[:-2], dtype=np.int32)
    if a.array.size:
        flat_ld, flat_piv, flat_info = packed.reshape((-1, n, n)), pivots.reshape((-1, n)), info.reshape(-1)
        for i, matrix in enumerate(each_matrix(a.array)):
            ld, piv, flat_info[i] = _lapack("sytrf", matrix)(matrix, lower=1)
            flat_ld[i], flat_piv[i] = np.tril(ld), piv
    return (constant(on_device(packed, a.array)), constant(on_device(pivots, a.array, np.int32)),
            constant(on_device(info, a.array, np.int32)))


@register("linalg")
def ldl_factor_ex(input, *, hermitian=False, check_errors=False):
    """(LD, pivots, info): Bunch-Kaufman A = L D L^T, compact as LAPACK's sytrf (not differentiable)."""
    ld, pivots, info = _ldl_factor(input, hermitian, "linalg.ldl_factor_ex")
    if check_errors:
        _check_ldl_info(info, input, "linalg.ldl_factor_ex")
    return LDLFactorExResult(ld, pivots, info)


@register("linalg")
def ldl_factor(input, *, hermitian=False):
    """(LD, pivots): Bunch-Kaufman A = L D L^T of a symmetric A (its lower triangle)."""
    ld, pivots, info = _ldl_factor(input, hermitian, "linalg.ldl_factor")
    _check_ldl_info(info, input, "linalg.ldl_factor")
    return LDLFactorResult(ld, pivots)


def _check_ldl_info(info, a, op):
    if int(np.asarray(info.array).max(initial=0)) > 0:
        raise RuntimeError(f"{op}: the factorization of A (shape {tuple(a.shape)}) has an exactly "
                           "zero diagonal block in D: A is singular")


@register("linalg")
def ldl_solve(LD, pivots, B, *, hermitian=False):
    """X with A X = B, A = L D L^T given by ldl_factor (not differentiable)."""
    check_matrix(LD, "linalg.ldl_solve", "LD", square=True)
    check_matrix(B, "linalg.ldl_solve", "B")
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"linalg.ldl_solve: LD is {n} by {n} but B has shape {tuple(B.shape)}: "
                           f"B needs {n} rows")
    batch = np.broadcast_shapes(tuple(LD.shape[:-2]), tuple(B.shape[:-2]))
    out = np.zeros(batch + tuple(B.shape[-2:]))
    if out.size:
        lds = np.broadcast_to(np.asarray(LD.array), batch + (n, n)).reshape((-1, n, n))
        pivs = np.broadcast_to(np.asarray(pivots.array), batch + (n,)).reshape((-1, n))
        bs = np.broadcast_to(np.asarray(B.array), out.shape).reshape((-1,) + out.shape[-2:])
        flat = out.reshape((-1,) + out.shape[-2:])
        for i in range(flat.shape[0]):
            flat[i] = _lapack("sytrs", lds[i])(lds[i], pivs[i], bs[i], lower=1)[0]
    return constant(on_device(out, B.array))


# ------------------------------------------------------------------ products


@register("linalg")
def householder_product(A, tau):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, v_i the i-th column of A below
    its diagonal with a 1 on it.  Composed of products: no backward of its own.
    """
    check_matrix(A, "linalg.householder_product")
    check_tensor(tau, "linalg.householder_product", "tau")
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if m < n or k > n:
        raise RuntimeError(f"linalg.householder_product: A (shape {tuple(A.shape)}) needs rows >= "
                           f"columns >= tau's length (tau shape {tuple(tau.shape)})")
    reflectors = tril(A, -1) + eye(m, n, A)
    q = eye(m, n, A) + 0 * A  # the graph keeps A even with no reflector (a zero gradient)
    for i in range(k - 1, -1, -1):
        v = reflectors[..., :, i:i + 1]
        q = q - (tau[..., i:i + 1].unsqueeze(-1) * v) @ (mT(v) @ q)
    return q


_TAYLOR_DEGREE = 18
_TAYLOR_RADIUS = 0.5  # the series runs on A / 2**s with norm at most this


@register("torch", "Tensor")
def matrix_exp(A):
    """e**A = sum A**i / i!, by scaling and squaring: (T(A / 2**s))**(2**s), T the degree-18 Taylor
    polynomial, truncation error below 1e-22 relative.  Composed of products: its gradient is the
    Frechet derivative of the same computation, to the same accuracy.
    """
    check_matrix(A, "matrix_exp", square=True)
    if A.dtype != np.float64:  # squaring multiplies rounding errors: float32 is computed in float64
        return matrix_exp(A.to(np.float64)).to(A.dtype)
    n = A.shape[-1]
    host = np.asarray(A.array, dtype=np.float64)
    norm = float(np.abs(host).sum(-2).max(initial=0.0)) if host.size else 0.0
    if not math.isfinite(norm):
        raise RuntimeError("matrix_exp: A has inf or nan entries")
    squarings = max(0, math.ceil(math.log2(norm / _TAYLOR_RADIUS))) if norm > 0 else 0
    x = A * (0.5 ** squarings)
    identity = eye(n, n, A)
    taylor = identity
    for j in range(_TAYLOR_DEGREE, 0, -1):
        taylor = identity + (x @ taylor) * (1.0 / j)
    for _ in range(squarings):
        taylor = taylor @ taylor
    return taylor
