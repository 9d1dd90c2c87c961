"""Solvers, determinants and products beyond the OpInfo samples: singular matrices,
einsum's other call forms, the torch.* names and the error messages."""

import numpy as np
import pytest
import torch

import chainrule as cr


def _pair(array, requires_grad=True):
    return (torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad),
            cr.tensor(array, dtype=cr.float64, requires_grad=requires_grad))


def _grads_match(ours_out, theirs_out, ours_in, theirs_in, second_order=True):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(tuple(theirs_out.shape))
    theirs_loss = (theirs_out * torch.tensor(w)).sum()
    ours_loss = (ours_out * cr.tensor(w, dtype=cr.float64)).sum()
    (g_t,) = torch.autograd.grad(theirs_loss, theirs_in, create_graph=second_order)
    (g_o,) = cr.autograd.grad(ours_loss, ours_in, create_graph=second_order)
    np.testing.assert_allclose(np.asarray(g_o.array), g_t.detach().numpy(), rtol=1e-7, atol=1e-9)
    if second_order:
        v = rng.standard_normal(tuple(theirs_in.shape))
        (h_t,) = torch.autograd.grad((g_t * torch.tensor(v)).sum(), theirs_in)
        (h_o,) = cr.autograd.grad((g_o * cr.tensor(v, dtype=cr.float64)).sum(), ours_in)
        np.testing.assert_allclose(np.asarray(h_o.array), h_t.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("matrix, second_order", [
    ([[1.0, 2.0], [2.0, 4.0]], True),                                     # rank 1
    ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], True),          # rank 2
    # rank 0 in a batch: torch's second derivative is nan there, ours the finite Hessian
    ([[[0.0, 0.0], [0.0, 0.0]], [[1.0, 2.0], [3.0, 4.0]]], False),
])
def test_det_of_a_singular_matrix_has_torchs_finite_gradient(matrix, second_order):
    a_t, a_o = _pair(matrix)
    _grads_match(cr.linalg.det(a_o), torch.linalg.det(a_t), a_o, a_t, second_order)


def test_einsum_call_forms_and_broadcasting():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    (a_t, a_o), (b_t, b_o) = _pair(a), _pair(b)
    expected = torch.einsum("ij,jk", a_t, b_t)
    for ours in (cr.einsum("ij,jk", a_o, b_o), cr.einsum("ij,jk", [a_o, b_o]),
                 cr.einsum(a_o, [0, 1], b_o, [1, 2], [0, 2])):
        np.testing.assert_allclose(np.asarray(ours.array), expected.detach().numpy())
    c = rng.standard_normal((1, 4))  # size 1 broadcasts against k = 4 (linear: first order)
    (c_t, c_o) = _pair(c)
    _grads_match(cr.einsum("ij,jk,lk->ik", a_o, b_o, c_o),
                 torch.einsum("ij,jk,lk->ik", a_t, b_t, c_t), c_o, c_t, False)
    d = rng.standard_normal((3, 3, 2))
    d_t, d_o = _pair(d)
    _grads_match(cr.einsum("iij->ji", d_o), torch.einsum("iij->ji", d_t), d_o, d_t, False)


def test_torch_names_of_the_linalg_ops():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    a_t, a_o = _pair(a, requires_grad=False)
    for ours, theirs in [(cr.det(a_o), torch.det(a_t)), (a_o.inverse(), a_t.inverse()),
                         (cr.matrix_power(a_o, -2), torch.matrix_power(a_t, -2)),
                         (a_o.slogdet()[1], a_t.slogdet()[1]), (cr.ger(a_o[0], a_o[1]),
                                                                torch.ger(a_t[0], a_t[1]))]:
        np.testing.assert_allclose(np.asarray(ours.array), theirs.numpy())


@pytest.mark.parametrize("call, message", [
    (lambda: cr.mm(cr.ones(2, 3), cr.ones(2, 3)), r"mm: shapes \(2, 3\) and \(2, 3\) cannot"),
    (lambda: cr.bmm(cr.ones(2, 3), cr.ones(2, 3, 1)), r"bmm: input must be 3-d"),
    (lambda: cr.einsum("ij,jk", cr.ones(2, 3)), r"einsum: equation 'ij,jk' has 2 operand"),
    (lambda: cr.einsum("ij->i", cr.ones(2, 3, 4)), r"einsum: subscripts 'ij' do not fit"),
    (lambda: cr.einsum("ij,ij->i", cr.ones(2, 3), cr.ones(2, 4)),
     r"einsum: label 'j' .* has sizes 3 and 4"),
    (lambda: cr.linalg.inv(cr.zeros(2, 2, dtype=cr.float64)), r"linalg.inv: the matrix .* is "
                                                              r"singular"),
    (lambda: cr.linalg.solve(cr.ones(2, 3), cr.ones(2)), r"linalg.solve: A must be a square"),
    (lambda: cr.linalg.solve(cr.eye(3), cr.ones(2, 1)), r"linalg.solve: A of shape \(3, 3\) "
                                                       r"and B of shape \(2, 1\) do not fit"),
    (lambda: cr.linalg.tensorinv(cr.ones(2, 3), ind=1), r"linalg.tensorinv: A of shape"),
    (lambda: cr.cross(cr.ones(2, 2), cr.ones(2, 2)), r"cross: no dimension of size 3"),
    (lambda: cr.gradient(cr.ones(2), edge_order=2), r"gradient: dimension 0 .* needs at least 3"),
    (lambda: cr.cov(cr.ones(2, 3), fweights=cr.ones(3)), r"cov: fweights must be integers"),
    (lambda: cr.cdist(cr.ones(2, 3), cr.ones(2, 4)), r"cdist: x1 and x2 must be"),
])
def test_errors_name_the_op_and_the_fix(call, message):
    with pytest.raises((ValueError, TypeError, RuntimeError, IndexError), match=message):
        call()


def test_inv_ex_and_solve_ex_report_singular_matrices_as_torch():
    batch = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 3.0]],
                      [[0.0, 0.0], [0.0, 1.0]]])
    a_t, a_o = _pair(batch, requires_grad=False)
    inverse, info = cr.linalg.inv_ex(a_o)
    assert info.tolist() == torch.linalg.inv_ex(a_t).info.tolist() == [2, 0, 1]
    np.testing.assert_allclose(np.asarray(inverse.array)[1], np.diag([0.5, 1 / 3]))
    assert np.isnan(np.asarray(inverse.array)[[0, 2]]).all()  # torch leaves LAPACK's inf/nan
    b_t, b_o = _pair(np.ones((3, 2)), requires_grad=False)
    expected = torch.linalg.solve_ex(a_t, b_t).info.tolist()
    assert cr.linalg.solve_ex(a_o, b_o).info.tolist() == expected
    with pytest.raises(RuntimeError, match="linalg.inv_ex: the matrix .* is singular"):
        cr.linalg.inv_ex(a_o, check_errors=True)
