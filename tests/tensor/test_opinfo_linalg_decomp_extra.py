"""Decompositions and norms beyond the OpInfo samples.

PyTorch's first OpInfo samples of ``svd`` are empty matrices, and those of
``eigh``, ``eigvalsh`` and ``pinv(hermitian=True)`` are not symmetric (its
own gradcheck symmetrizes them with ``gradcheck_wrapper_hermitian_input``):
here the same ops run on full, symmetric inputs, against torch and against
central differences. Also the error messages.
"""

import numpy as np
import pytest
import scipy.linalg
import torch

import chainrule as cr

RNG = np.random.default_rng(0)


def pair(array):
    return (cr.tensor(array, requires_grad=True),
            torch.tensor(array, requires_grad=True))


def grads_match(ours_out, torch_out, ours_in, torch_in, second_order=True):
    """Values, gradients of sum(out * w) and (with second_order) of sum(grad * v) match torch."""
    np.testing.assert_allclose(ours_out.array, torch_out.detach().numpy(), rtol=1e-7, atol=1e-9)
    w = RNG.standard_normal(tuple(torch_out.shape))
    (g_ours,) = cr.autograd.grad((ours_out * cr.tensor(w)).sum(), [ours_in], create_graph=True)
    (g_torch,) = torch.autograd.grad((torch_out * torch.tensor(w)).sum(), [torch_in],
                                     create_graph=True)
    np.testing.assert_allclose(g_ours.array, g_torch.detach().numpy(), rtol=1e-6, atol=1e-8)
    if second_order:
        v = RNG.standard_normal(tuple(torch_in.shape))
        (h_ours,) = cr.autograd.grad((g_ours * cr.tensor(v)).sum(), [ours_in])
        (h_torch,) = torch.autograd.grad((g_torch * torch.tensor(v)).sum(), [torch_in])
        np.testing.assert_allclose(h_ours.array, h_torch.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize("full_matrices", [False, True])
def test_svd_of_full_matrices_matches_torch(shape, full_matrices):
    ours, theirs = pair(RNG.standard_normal(shape))
    k = min(shape[-2:])
    pieces = [
        # U diag(S) Vh and S do not depend on the signs of the singular vectors
        lambda u, s, vh: (u[..., :k] * s.unsqueeze(-2)) @ vh[..., :k, :],
        lambda u, s, vh: s,
        # |U| and |Vh| bring in the 1 / (s_j^2 - s_i^2) terms
        lambda u, s, vh: u[..., :k].abs(),
        lambda u, s, vh: vh[..., :k, :].abs(),
    ]
    for piece in pieces:
        grads_match(piece(*cr.linalg.svd(ours, full_matrices=full_matrices)),
                    piece(*torch.linalg.svd(theirs, full_matrices=full_matrices)), ours, theirs)


def test_torch_svd_returns_v():
    ours, theirs = pair(RNG.standard_normal((4, 3)))
    u, s, v = cr.svd(ours)
    tu, ts, tv = torch.svd(theirs)
    grads_match((u * s.unsqueeze(-2)) @ v.mT, (tu * ts.unsqueeze(-2)) @ tv.mT, ours, theirs)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_of_symmetric_input_matches_torch_and_differences(uplo):
    a = RNG.standard_normal((2, 4, 4))
    ours, theirs = pair(a)
    for piece in (lambda values, vectors: values, lambda values, vectors: vectors.abs()):
        grads_match(piece(*cr.linalg.eigh(ours + ours.mT, UPLO=uplo)),
                    piece(*torch.linalg.eigh(theirs + theirs.mT, UPLO=uplo)), ours, theirs)
    x = cr.tensor(a, requires_grad=True)
    assert cr.testing.gradcheck(lambda t: cr.linalg.eigvalsh(t + t.mT, UPLO=uplo), (x,))


def test_pinv_hermitian_of_symmetric_input_matches_torch():
    a = RNG.standard_normal((4, 4))
    ours, theirs = pair(a)
    grads_match(cr.linalg.pinv(ours + ours.mT, hermitian=True),
                torch.linalg.pinv(theirs + theirs.mT, hermitian=True), ours, theirs)
    x = cr.tensor(a, requires_grad=True)
    assert cr.testing.gradcheck(lambda t: cr.linalg.pinv(t + t.mT, hermitian=True), (x,))


@pytest.mark.parametrize("shape", [(4, 4), (6, 4), (4, 6)])
def test_lu_factor_gradients_match_torch(shape):
    ours, theirs = pair(RNG.standard_normal(shape))
    grads_match(cr.linalg.lu_factor(ours).LU, torch.linalg.lu_factor(theirs).LU, ours, theirs)


def test_matrix_exp_float32_is_exact_to_float32():
    a = RNG.uniform(-3, 3, (3, 5, 5)).astype(np.float32)
    exact = np.stack([scipy.linalg.expm(m.astype(np.float64)) for m in a])
    ours = np.asarray(cr.matrix_exp(cr.tensor(a)).data)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, exact, rtol=1e-6, atol=1e-6 * np.abs(exact).max())


@pytest.mark.parametrize("call, message", [
    (lambda: cr.linalg.cholesky(cr.tensor([[1.0, 2.0], [2.0, 1.0]])),
     r"linalg.cholesky: .*shape \(2, 2\) is not positive-definite \(the leading minor of order 2"),
    (lambda: cr.linalg.cholesky(cr.ones(2, 3)),
     "linalg.cholesky: A must be batches of square matrices, but they are 2 by 3 matrices"),
    (lambda: cr.linalg.svd(cr.ones(3)), r"linalg.svd: A must have at least 2 dimensions.*\(3,\)"),
    (lambda: cr.linalg.qr(cr.ones(2, 2), mode="thin"), "linalg.qr: qr received unrecognized mode"),
    (lambda: cr.linalg.eigh(cr.ones(2, 2), UPLO="X"), "linalg.eigh: UPLO must be 'L' or 'U'"),
    (lambda: cr.linalg.vector_norm(cr.tensor([1, 2])),
     "linalg.vector_norm: expected a floating-point tensor as input, got int64"),
    (lambda: cr.linalg.lstsq(cr.ones(3, 2), cr.ones(3, 1), driver="nope"),
     "linalg.lstsq: parameter `driver` should be one of"),
    (lambda: cr.linalg.lu_solve(*cr.linalg.lu_factor(cr.eye(3)), cr.ones(2, 1)),
     "linalg.lu_solve: LU is 3 by 3 but B has shape \\(2, 1\\): B needs 3 rows"),
    (lambda: cr.linalg.norm(cr.ones(2, 2, 2), ord=2),
     "linalg.norm: if dim is not given but ord is, the input must be 1-d or 2-d"),
    (lambda: cr.linalg.matrix_norm(cr.ones(2, 2), ord=3), "linalg.matrix_norm: order 3 is not"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises((RuntimeError, TypeError, IndexError), match=message):
        call()


def test_cholesky_ex_reports_instead_of_raising():
    out = cr.linalg.cholesky_ex(cr.tensor([[[4.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]))
    assert out.info.tolist() == [0, 2]
