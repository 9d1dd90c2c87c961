"""The pseudoinverse and what is built on it: pinv, pinverse, lstsq, matrix_rank, and the
randomized low-rank SVD and PCA (``svd_lowrank``, ``pca_lowrank``, Halko et al. 2009).
"""

from collections import namedtuple

import numpy as np

from chainrule.autograd.function import Function
from chainrule.ops.creation import randn
from chainrule.ops.linalg_decomp_base import check_matrix, check_tensor, constant, mT, on_device, on_host
from chainrule.ops.linalg_decompositions import qr, svd
from chainrule.registry import register
from chainrule.tensor import Tensor

LstsqResult = namedtuple("LstsqResult", "solution residuals rank singular_values")


def _tolerance(singular_values, m, n, atol, rtol, op):
    """max(atol, rtol * largest singular value) per matrix, PyTorch's defaults (a host array)."""
    atol_given = atol is not None
    atol = 0.0 if atol is None else _number(atol, op)
    if rtol is None:
        rtol = np.finfo(singular_values.dtype).eps * max(m, n)
        if atol_given:  # an explicit atol > 0 and no rtol: rtol is 0, as in PyTorch
            rtol = np.where(np.asarray(atol) > 0, 0.0, rtol)
    else:
        rtol = _number(rtol, op)
    largest = singular_values.max(-1, initial=0.0) if singular_values.size else (
        np.zeros(singular_values.shape[:-1]))
    return np.maximum(atol, np.asarray(rtol) * largest)


def _number(value, op):
    if isinstance(value, Tensor):
        return np.asarray(on_host(value.array), dtype=np.float64)
    if not isinstance(value, (int, float)):
        raise TypeError(f"{op}: atol and rtol must be numbers or tensors, got {type(value).__name__}")
    return float(value)


def _spectrum(host, hermitian):
    """(singular values, and the factors that rebuild A from them) on the host."""
    if hermitian:
        values, vectors = np.linalg.eigh(host, UPLO="L")
        return np.abs(values), (vectors, values, np.swapaxes(vectors, -1, -2))
    u, s, vh = np.linalg.svd(host, full_matrices=False)
    return s, (u, s, vh)


class Pinv(Function):
    """A+ from the SVD, small singular values cut;  dA = -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A)."""

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian, op):
        ctx.save_for_backward(a)
        host = on_host(a.array)
        m, n = host.shape[-2:]
        if host.size == 0:
            return ctx.save_result(on_device(np.zeros(host.shape[:-2] + (n, m)), a.array))
        singular, (u, s, vh) = _spectrum(host, hermitian)
        tol = _tolerance(singular, m, n, atol, rtol, op)
        with np.errstate(divide="ignore"):
            inverse = np.where(singular > tol[..., None], 1 / s, 0.0)
        out = (np.swapaxes(vh, -1, -2) * inverse[..., None, :]) @ np.swapaxes(u, -1, -2)
        return ctx.save_result(on_device(out, a.array))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        p = ctx.result
        pt = mT(p)
        first = -(pt @ grad @ pt)
        left = mT(grad) @ p @ pt
        right = pt @ (p @ mT(grad))
        grad_a = first + (left - a @ (p @ left)) + (right - (right @ p) @ a)
        return grad_a, None, None, None, None


def _pinv(a, atol, rtol, hermitian, op):
    check_matrix(a, op, square=hermitian)
    return Pinv.apply(a, atol, rtol, bool(hermitian), op)


@register("linalg")
def pinv(input, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """The Moore-Penrose pseudoinverse; singular values <= max(atol, rtol * largest) count as 0.

    ``rcond`` is PyTorch's older name for ``rtol``.
    """
    return _pinv(input, atol, rtol if rcond is None else rcond, hermitian, "linalg.pinv")


@register("torch", "Tensor")
def pinverse(input, rcond=1e-15):
    """``linalg.pinv(input, rtol=rcond)``."""
    return _pinv(input, None, rcond, False, "pinverse")


@register("linalg")
def matrix_rank(input, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values > max(atol, rtol * largest), int64 (not differentiable).

    ``tol`` is PyTorch's older name for ``atol`` (with rtol 0).
    """
    if tol is not None:
        atol, rtol = tol, 0.0
    A = input
    check_matrix(A, "linalg.matrix_rank", square=hermitian)
    host = on_host(A.array)
    m, n = host.shape[-2:]
    if host.size == 0:
        rank = np.zeros(host.shape[:-2], dtype=np.int64)
    else:
        singular = _spectrum(host, hermitian)[0]
        tol = _tolerance(singular, m, n, atol, rtol, "linalg.matrix_rank")
        rank = (singular > tol[..., None]).sum(-1)
    return constant(on_device(np.asarray(rank), A.array, np.int64))


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


@register("linalg")
def lstsq(input, b, rcond=None, *, driver=None):
    """(solution, residuals, rank, singular_values): argmin_X ||A X - B||_F, the least-norm one.

    The solution is pinv(A) B (so its gradient is the pseudoinverse's, as in
    PyTorch); which of the other outputs are filled depends on the driver,
    as LAPACK's: residuals for m > n with full rank (not gelsy), the rank
    (not gels), singular values (gelsd and gelss).
    """
    A, B = input, b
    check_matrix(A, "linalg.lstsq")
    check_tensor(B, "linalg.lstsq", "B")
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError(f"linalg.lstsq: parameter `driver` should be one of {_DRIVERS}, "
                           f"got {driver!r}")
    vector = B.ndim == A.ndim - 1
    b = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2:]
    if b.ndim < 2 or b.shape[-2] != m:
        raise RuntimeError(f"linalg.lstsq: A (shape {tuple(A.shape)}) and B (shape "
                           f"{tuple(B.shape)}) must have the same number of rows, {m}")
    solution = _pinv(A, None, rcond, False, "linalg.lstsq") @ b
    host = on_host(A.array)
    singular = np.linalg.svd(host, compute_uv=False) if host.size else np.zeros(
        host.shape[:-2] + (min(m, n),))
    tol = _tolerance(singular, m, n, None, rcond, "linalg.lstsq")
    rank = (singular > tol[..., None]).sum(-1)
    residuals = solution.reshape(-1)[:0]  # empty, in the graph as PyTorch's
    if m > n and driver != "gelsy" and bool(np.all(rank == n)):
        residuals = ((A @ solution - b) ** 2).sum(-2)
    if vector:
        solution = solution.squeeze(-1)
        if residuals.numel():
            residuals = residuals.squeeze(-1)
    rank_out = np.zeros((0,), np.int64) if driver == "gels" else np.asarray(rank, np.int64)
    values = singular if driver in ("gelsd", "gelss") else np.zeros((0,))
    return LstsqResult(solution, residuals, constant(on_device(rank_out, A.array, np.int64)),
                       constant(on_device(values, A.array)))


# ------------------------------------------------------------------ randomized low rank


def _approximate_basis(a, q, niter, m_mean, generator=None):
    """An orthonormal Q (m, q) whose span approximates the range of A - M (Halko et al., alg. 4.4)."""
    probe = randn(a.shape[-1], q, dtype=a.dtype, generator=generator, device=a.device)

    def times(x, y, shift):
        out = x @ y
        return out if shift is None else out - shift @ y

    basis = qr(times(a, probe, m_mean)).Q
    for _ in range(niter):
        basis = qr(times(mT(a), basis, None if m_mean is None else mT(m_mean))).Q
        basis = qr(times(a, basis, m_mean)).Q
    return basis


def _svd_lowrank(a, q, niter, m_mean):
    m, n = a.shape[-2:]
    if m < n:  # work on the tall one
        a = mT(a)
        m_mean = None if m_mean is None else mT(m_mean)
    basis = _approximate_basis(a, q, niter, m_mean)
    small = mT(basis) @ a
    if m_mean is not None:
        small = small - mT(basis) @ m_mean
    u, s, vh = svd(small, full_matrices=False)
    u, v = basis @ u, mT(vh)
    return (v, s, u) if m < n else (u, s, v)


@register("torch")
def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) of rank q with A - M ~ U diag(S) V^T, by a random range finder (Halko et al. 2009)."""
    check_matrix(A, "svd_lowrank")
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    if M is not None:
        M = M.broadcast_to(tuple(A.shape))
    return _svd_lowrank(A, q, niter, M)


@register("torch")
def pca_lowrank(A, q=None, center=True, niter=2):
    """(U, S, V) of the rank-q PCA of A's rows (centered by their mean if center), randomized."""
    check_matrix(A, "pca_lowrank")
    m, n = A.shape[-2:]
    q = min(6, m, n) if q is None else q
    if not 0 <= q <= min(m, n):
        raise ValueError(f"pca_lowrank: q={q} must be in [0, min(m, n)] = [0, {min(m, n)}]")
    if center:
        A = A - A.mean(-2, keepdim=True)
    return _svd_lowrank(A, q, niter, None)
