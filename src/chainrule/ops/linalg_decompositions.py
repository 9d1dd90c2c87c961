"""Matrix decompositions: Cholesky, QR, SVD and the symmetric eigendecomposition.

Each is one ``Function``: LAPACK computes the factors, and the backward rule
is the standard one (the same as PyTorch's ``cholesky_backward``,
``linalg_qr_backward``, ``svd_backward`` and ``linalg_eig_backward``),
written with tensor ops. A backward that must be differentiated again needs
the factors as part of the graph: it then recomputes them from the saved
input with the same op (``_factors``), which gives the same arrays.

Outputs are named tuples, as in PyTorch (``torch.return_types``).
"""

from collections import namedtuple

import numpy as np
import scipy.linalg.lapack as lapack

from chainrule.autograd.function import Function
from chainrule.ops.joining import cat
from chainrule.ops.linalg_decomp_base import (check_matrix, constant, diag_embed, each_matrix, eye, mT,
                                              on_device, on_host, recording, solve, solve_right,
                                              tril)
from chainrule.registry import register

CholeskyResult = namedtuple("CholeskyResult", "L info")
QRResult = namedtuple("QRResult", "Q R")
SVDResult = namedtuple("SVDResult", "U S Vh")
OldSVDResult = namedtuple("OldSVDResult", "U S V")
EighResult = namedtuple("EighResult", "eigenvalues eigenvectors")


def _factors(ctx, function, arrays, *params):
    """The forward's outputs as tensors: recomputed in the graph when differentiating twice."""
    (a,) = ctx.saved_tensors
    if recording() and a.requires_grad:
        return function.apply(a, *params)
    return tuple(constant(x, a) for x in arrays)


def _zeros(like):
    return constant(np.zeros(tuple(like.shape)), like)


# ------------------------------------------------------------------ Cholesky


class Cholesky(Function):
    """L with L L^T = (A + A^T)/2;  dA = L^-T Phi(L^T dL) L^-1, Phi: lower part, half diagonal, mirrored.

    The symmetric part of A is factored: the same as factoring A for the
    symmetric matrices the op is defined on, and the gradient is then the
    symmetric matrix PyTorch gives.
    """

    @staticmethod
    def forward(ctx, a, op):
        ctx.save_for_backward(a)
        host = on_host(a.array)
        symmetric = 0.5 * (host + np.swapaxes(host, -1, -2))
        try:
            lower = np.linalg.cholesky(symmetric) if host.size else np.zeros_like(host)
        except np.linalg.LinAlgError:
            raise RuntimeError(f"{op}: the factorization could not be completed because the input "
                               f"of shape {tuple(a.shape)} is not positive-definite "
                               f"({_failed_minor(symmetric)}); Cholesky needs a symmetric "
                               "positive-definite matrix") from None
        return ctx.save_result(on_device(lower, a.array))

    @staticmethod
    def backward(ctx, grad):
        lower = ctx.result
        phi = tril(mT(lower) @ grad)
        phi = 0.5 * (phi + mT(tril(phi, -1)))
        # L^-T phi L^-1 by two solves
        return solve_right(solve(mT(lower), phi), lower), None


def _failed_minor(symmetric):
    for k, matrix in enumerate(symmetric.reshape((-1,) + symmetric.shape[-2:])):
        info = lapack.dpotrf(matrix, lower=1)[1]
        if info > 0:
            where = f" of batch element {k}" if symmetric.ndim > 2 else ""
            return f"the leading minor of order {info}{where} is not positive-definite"
    return "not positive-definite"


def _cholesky(a, upper, op):
    check_matrix(a, op, square=True)
    lower = Cholesky.apply(a, op)
    return mT(lower) if upper else lower


@register("linalg")
def cholesky(input, *, upper=False):
    """L with A = L L^T (or U with A = U^T U if upper) for symmetric positive-definite A."""
    return _cholesky(input, upper, "linalg.cholesky")


@register("torch", "Tensor", name="cholesky")
def torch_cholesky(input, upper=False):
    """``torch.cholesky`` (deprecated in PyTorch for ``linalg.cholesky``)."""
    return _cholesky(input, upper, "cholesky")


@register("linalg")
def cholesky_ex(input, *, upper=False, check_errors=False):
    """(L, info): info[i] > 0 is the order of the first minor that is not positive-definite."""
    check_matrix(input, "linalg.cholesky_ex", square=True)
    try:
        factor = _cholesky(input, upper, "linalg.cholesky_ex")
        info = np.zeros(tuple(input.shape[:-2]), dtype=np.int32)
    except RuntimeError:
        if check_errors:
            raise
        host = each_matrix(input.array)
        info = np.array([lapack.dpotrf(0.5 * (m + m.T), lower=1)[1] for m in host], dtype=np.int32)
        factor = constant(np.zeros(tuple(input.shape)), input)
        info = info.reshape(tuple(input.shape[:-2]))
    return CholeskyResult(factor, constant(on_device(info, input.array, np.int32)))


# ------------------------------------------------------------------ QR


class QR(Function):
    """A = Q R;  dA = (dQ + Q copyltu(M)) R^-T, M = R dR^T - dQ^T Q (m >= n; wide A by its square part)."""

    @staticmethod
    def forward(ctx, a, mode):
        ctx.save_for_backward(a)
        ctx.mode = mode
        host = on_host(a.array)
        m, n = host.shape[-2:]
        if host.size == 0:
            k = m if mode == "complete" else min(m, n)
            q = np.broadcast_to(np.eye(m, k), host.shape[:-2] + (m, k)).copy()
            r = np.zeros(host.shape[:-2] + (k, n))
        else:
            q, r = np.linalg.qr(host, mode="complete" if mode == "complete" else "reduced")
        ctx.arrays = (q, r)
        if mode == "r":
            q = np.zeros((0,))
        return on_device(q, a.array), on_device(r, a.array)

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        (a,) = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError("linalg.qr: the derivative of linalg.qr depends on Q, which is not "
                               "computed when mode='r'; use mode='reduced'")
        m, n = a.shape[-2:]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("linalg.qr: the QR decomposition is not differentiable when "
                               f"mode='complete' and nrows > ncols (A is {m} by {n})")
        if a.numel() == 0:
            return _zeros(a), None
        q, r = _factors(ctx, QR, ctx.arrays, "reduced")
        grad_q = _zeros(q) if grad_q is None else grad_q
        grad_r = _zeros(r) if grad_r is None else grad_r
        if m >= n:
            return _qr_square_or_tall(q, r, grad_q, grad_r), None
        # wide: A = Q [U V]; its square part X = Q U, and Y = Q V feeds Q's gradient
        u, v_grad = r[..., :m], grad_r[..., m:]
        y = a[..., m:]
        grad_x = _qr_square_or_tall(q, u, grad_q + y @ mT(v_grad), grad_r[..., :m])
        return cat([grad_x, q @ v_grad], -1), None


def _qr_square_or_tall(q, r, grad_q, grad_r):
    m_ = r @ mT(grad_r) - mT(grad_q) @ q
    copyltu = tril(m_) + mT(tril(m_, -1))
    return solve_right(grad_q + q @ copyltu, mT(r))


def _qr(a, mode, op):
    check_matrix(a, op)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"{op}: qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    q, r = QR.apply(a, mode)
    return QRResult(q, r)


@register("linalg")
def qr(A, mode="reduced"):
    """A = Q R, Q with orthonormal columns, R upper triangular; mode 'reduced', 'complete' or 'r'."""
    return _qr(A, mode, "linalg.qr")


@register("torch", "Tensor", name="qr")
def torch_qr(input, some=True):
    """``torch.qr``: ``linalg.qr`` with mode 'reduced' (some=True) or 'complete'."""
    return _qr(input, "reduced" if some else "complete", "qr")


# ------------------------------------------------------------------ SVD


class SVD(Function):
    """A = U diag(S) Vh;  dA = U [F o (U^T dU - dU^T U) S + diag(dS) + S F o (V^T dV - dV^T V)] Vh + ...

    F_ij = 1 / (S_j^2 - S_i^2) off the diagonal (Townsend's rule, PyTorch's
    ``svd_backward``), plus the parts of dU and dV outside the column spans.
    """

    @staticmethod
    def forward(ctx, a, full_matrices):
        ctx.save_for_backward(a)
        host = on_host(a.array)
        m, n = host.shape[-2:]
        k = min(m, n)
        if host.size == 0:
            um, vn = (m, n) if full_matrices else (k, k)
            u = np.broadcast_to(np.eye(m, um), host.shape[:-2] + (m, um)).copy()
            vh = np.broadcast_to(np.eye(vn, n), host.shape[:-2] + (vn, n)).copy()
            s = np.zeros(host.shape[:-2] + (k,))
        else:
            u, s, vh = np.linalg.svd(host, full_matrices=full_matrices)
        ctx.arrays = (u[..., :k], s, vh[..., :k, :])
        return on_device(u, a.array), on_device(s, a.array), on_device(vh, a.array)

    @staticmethod
    def backward(ctx, grad_u, grad_s, grad_vh):
        (a,) = ctx.saved_tensors
        m, n = a.shape[-2:]
        k = min(m, n)
        if k == 0:
            return _zeros(a), None
        u, s, vh = _factors(ctx, SVD, ctx.arrays, False)
        if grad_u is not None and grad_u.shape[-1] != k:
            grad_u = grad_u[..., :k]
        if grad_vh is not None and grad_vh.shape[-2] != k:
            grad_vh = grad_vh[..., :k, :]
        return svd_backward(u, s, vh, grad_u, grad_s, grad_vh), None


def svd_backward(u, s, vh, grad_u, grad_s, grad_vh):
    """The gradient of A from those of its reduced factors U (m, k), S (k), Vh (k, n)."""
    m, n = u.shape[-2], vh.shape[-1]
    k = s.shape[-1]
    if grad_u is None and grad_vh is None:
        return (u * grad_s.unsqueeze(-2)) @ vh
    off_diagonal = constant(1 - np.eye(k), s)
    s2 = s * s
    gaps = s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye(k, k, s)  # S_j^2 - S_i^2, 1 on the diagonal
    f = off_diagonal / gaps
    inner = diag_embed(grad_s) if grad_s is not None else 0
    if grad_u is not None:
        j = mT(u) @ grad_u
        inner = inner + (f * (j - mT(j))) * s.unsqueeze(-2)
    v = mT(vh)
    if grad_vh is not None:
        grad_v = mT(grad_vh)
        kk = mT(v) @ grad_v
        inner = inner + s.unsqueeze(-1) * (f * (kk - mT(kk)))
    grad_a = u @ inner @ vh
    if grad_u is not None and m > k:
        grad_a = grad_a + ((grad_u - u @ (mT(u) @ grad_u)) / s.unsqueeze(-2)) @ vh
    if grad_vh is not None and n > k:
        grad_a = grad_a + u @ mT((grad_v - v @ (mT(v) @ grad_v)) / s.unsqueeze(-2))
    return grad_a


def _svd(a, full_matrices, op):
    check_matrix(a, op)
    return SVD.apply(a, bool(full_matrices))


@register("linalg")
def svd(A, full_matrices=True, *, driver=None):
    """A = U diag(S) Vh, singular values S descending; U, Vh square if full_matrices."""
    return SVDResult(*_svd(A, full_matrices, "linalg.svd"))


@register("torch", "Tensor", name="svd")
def torch_svd(input, some=True, compute_uv=True):
    """``torch.svd``: (U, S, V) with V = Vh^T; without compute_uv, U and V are zeros."""
    u, s, vh = _svd(input, not some, "svd")
    if not compute_uv:
        return OldSVDResult(constant(np.zeros(tuple(u.shape)), input), s,
                            constant(np.zeros(tuple(vh.shape)), input))
    return OldSVDResult(u, s, mT(vh))


@register("linalg")
def svdvals(A, *, driver=None):
    """The singular values of A, descending."""
    return _svd(A, False, "linalg.svdvals")[1]


# ------------------------------------------------------------------ eigh


class Eigh(Function):
    """A = V diag(L) V^T (A's UPLO triangle);  dA = V [diag(dL) + F o skew(V^T dV)/2] V^T, F_ij = 1/(L_j - L_i)."""

    @staticmethod
    def forward(ctx, a, uplo):
        ctx.save_for_backward(a)
        ctx.uplo = uplo
        host = on_host(a.array)
        n = host.shape[-1]
        if host.size == 0:
            values = np.zeros(host.shape[:-1])
            vectors = np.broadcast_to(np.eye(n), host.shape).copy()
        else:
            values, vectors = np.linalg.eigh(host, UPLO=uplo)
        ctx.arrays = (values, vectors)
        return on_device(values, a.array), on_device(vectors, a.array)

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        if n == 0 or a.numel() == 0:
            return _zeros(a), None
        values, vectors = _factors(ctx, Eigh, ctx.arrays, ctx.uplo)
        inner = diag_embed(grad_values) if grad_values is not None else 0
        if grad_vectors is not None:
            x = mT(vectors) @ grad_vectors
            gaps = values.unsqueeze(-2) - values.unsqueeze(-1) + eye(n, n, values)
            off_diagonal = constant(1 - np.eye(n), values)
            inner = inner + off_diagonal * (0.5 * (x - mT(x))) / gaps
        return vectors @ inner @ mT(vectors), None


def _eigh(a, uplo, op):
    check_matrix(a, op, square=True)
    if uplo not in ("L", "U"):
        raise RuntimeError(f"{op}: UPLO must be 'L' or 'U', got {uplo!r}")
    return Eigh.apply(a, uplo)


@register("linalg")
def eigh(input, UPLO="L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric A (its UPLO triangle)."""
    return EighResult(*_eigh(input, UPLO, "linalg.eigh"))


@register("linalg")
def eigvalsh(input, UPLO="L"):
    """The eigenvalues of a symmetric A (its UPLO triangle), ascending."""
    return _eigh(input, UPLO, "linalg.eigvalsh")[0]


@register("Tensor", name="mH", is_property=True)
def matrix_adjoint(input):
    """The conjugate transpose of the last two dims; for real tensors, ``mT``."""
    return mT(input)
