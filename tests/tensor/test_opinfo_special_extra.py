"""Special functions beyond the OpInfo samples: dtypes, in-place forms, conventions, errors."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import special


def ours(t):
    return cr.tensor(t.numpy()) if isinstance(t, torch.Tensor) else t


def same(out, expected, rtol=1e-6, atol=1e-9):
    assert str(out.dtype) == str(expected.dtype).replace("torch.", "")
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=rtol, atol=atol)


INTS, FLOATS = torch.tensor([1, 2, 3]), torch.tensor([0.25, 1.5, 2.5])


@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfc", "erfinv", "i0"])
@pytest.mark.parametrize("t", [INTS, FLOATS, FLOATS.double(), torch.tensor([True, False])],
                         ids=["int64", "float32", "float64", "bool"])
def test_unary_ops_give_torchs_float_dtype(name, t):
    same(getattr(cr, name)(ours(t)), getattr(torch, name)(t), rtol=1e-5)


@pytest.mark.parametrize("x, y", [(INTS, 2.5), (2, FLOATS), (FLOATS, FLOATS.double()[0]),
                                  (FLOATS.double(), FLOATS), (INTS, INTS), (FLOATS, INTS)])
def test_xlogy_promotes_as_torch(x, y):
    same(cr.xlogy(ours(x), ours(y)), torch.xlogy(x, y), rtol=1e-5)
    if all(isinstance(v, torch.Tensor) and v.is_floating_point() for v in (x, y)):
        same(cr.igamma(ours(x), ours(y)), torch.igamma(x, y), rtol=1e-5)


def test_in_place_and_method_forms():
    a = [0.5, 2.5]
    for method, args in [("lgamma_", ()), ("digamma_", ()), ("polygamma_", (2,)),
                         ("mvlgamma_", (2,)), ("erfc_", ()), ("i0_", ()), ("xlogy_", (3.0,)),
                         ("igamma_", (torch.tensor(1.5),)),
                         ("igammac_", (torch.tensor(1.5),))]:
        x, t = cr.tensor(a, dtype=cr.float64), torch.tensor(a, dtype=torch.float64)
        if method == "mvlgamma_":
            x, t = x + 1, t + 1
        getattr(x, method)(*(ours(v) for v in args))
        getattr(t, method)(*args)
        same(x, t)
    x = cr.tensor(a, dtype=cr.float64)
    same(x.polygamma(3), torch.tensor(a, dtype=torch.float64).polygamma(3))
    same(special.psi(x), torch.special.psi(torch.tensor(a, dtype=torch.float64)))
    same(special.gammaln(x), torch.special.gammaln(torch.tensor(a, dtype=torch.float64)))


def test_xlogy_gradient_is_zero_on_the_line_x_equals_zero_where_log_is_undefined():
    x = cr.tensor([0.0, 0.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = cr.tensor([-1.0, 0.0, 3.0], dtype=cr.float64, requires_grad=True)
    tx = torch.tensor([0.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    ty = torch.tensor([-1.0, 0.0, 3.0], dtype=torch.float64, requires_grad=True)
    gx, gy = cr.autograd.grad(cr.xlogy(x, y).sum(), (x, y))
    ex, ey = torch.autograd.grad(torch.xlogy(tx, ty).sum(), (tx, ty))
    np.testing.assert_array_equal(gx.array, ex.numpy())
    np.testing.assert_array_equal(gy.array, ey.numpy())


def test_gradients_with_a_number_as_first_argument():
    y = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    ty = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    for name, fn, tfn in [("xlogy", cr.xlogy, torch.xlogy),
                          ("igamma", cr.igamma, torch.igamma),
                          ("zeta", special.zeta, torch.special.zeta)]:
        (g,) = cr.autograd.grad(fn(2.0, y).sum(), y)
        (e,) = torch.autograd.grad(tfn(torch.tensor(2.0, dtype=torch.float64)
                                       if name == "igamma" else 2.0, ty).sum(), ty)
        np.testing.assert_allclose(g.array, e.numpy(), rtol=1e-10)


def test_i1_gradient_at_zero_is_one_half():
    x = cr.tensor([0.0, 1.0], dtype=cr.float64, requires_grad=True)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    for fn, tfn in [(special.i1, torch.special.i1), (special.i1e, torch.special.i1e)]:
        (g,) = cr.autograd.grad(fn(x).sum(), x)
        (e,) = torch.autograd.grad(tfn(t).sum(), t)
        np.testing.assert_allclose(g.array, e.numpy(), rtol=1e-10)


def test_derivatives_torch_does_not_implement_raise():
    a = cr.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for 'igamma: input' is not implemented"):
        cr.igamma(a, 1.0).sum().backward()
    with pytest.raises(RuntimeError, match="derivative for 'zeta' is not implemented"):
        special.zeta(a, 1.0).sum().backward()


def test_functions_torch_does_not_differentiate_never_require_grad():
    x = cr.tensor([0.5, 2.0], requires_grad=True)
    for fn in (special.bessel_j0, special.airy_ai, special.modified_bessel_k1,
               special.spherical_bessel_j0):
        assert not fn(x).requires_grad
    assert not special.legendre_polynomial_p(x, 3).requires_grad


POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
               "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
               "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
               "laguerre_polynomial_l", "legendre_polynomial_p"]


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_follow_torchs_conventions(name):
    """Ends of the interval, high degrees (trigonometric form), |x| > 1, and n < 0, inf, 2.7."""
    xs = np.array([0.0, 1.0, -1.0, 0.5, -0.3, 0.999, 1.5, -2.0, 3.0, 1e-20])
    ns = np.array([-3, 0, 1, 2, 5, 7, 9, 12, 30, 600, 2.7, -0.5, np.inf, -np.inf, np.nan])
    x, n = np.meshgrid(xs, ns)
    expected = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n))
    same(getattr(special, name)(cr.tensor(x), cr.tensor(n)), expected, rtol=1e-9, atol=1e-9)


def test_polynomials_take_numbers_and_integer_tensors():
    fn, tfn = special.chebyshev_polynomial_t, torch.special.chebyshev_polynomial_t
    same(fn(ours(INTS), ours(INTS)), tfn(INTS, INTS))
    same(fn(0.5, ours(INTS)), tfn(0.5, INTS))
    same(fn(ours(FLOATS.double()), 3), tfn(FLOATS.double(), 3))


def test_bad_arguments_name_the_op_and_the_fix():
    with pytest.raises(ValueError, match=r"mvlgamma: all elements must be greater than \(p-1\)/2"):
        cr.mvlgamma(cr.tensor([0.2]), 2)
    with pytest.raises(ValueError, match="mvlgamma: p has to be greater than or equal to 1"):
        cr.mvlgamma(cr.tensor([2.0]), 0)
    with pytest.raises(ValueError, match="polygamma: n must be a non-negative integer"):
        cr.polygamma(-1, cr.tensor([1.0]))
    with pytest.raises(ValueError, match=r"xlogy: shapes \(2,\) and \(3,\) cannot be broadcast"):
        cr.xlogy(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="chebyshev_polynomial_t: shapes"):
        special.chebyshev_polynomial_t(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="lgamma: expected a Tensor, got list"):
        cr.lgamma([1.0])
    with pytest.raises(TypeError, match="xlogy: at least one of input and other must be a Tensor"):
        cr.xlogy(1.0, 2.0)
