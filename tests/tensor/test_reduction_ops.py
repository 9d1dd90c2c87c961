"""Reductions against PyTorch, from tables: random inputs, then constructed ones.

``OPS`` rows are checked on random float64 inputs (value, gradient, second
derivative against torch, and finite differences); ``EXACT`` rows on
constructed arrays: ties (where finite differences do not apply), ±1e4
logits, -inf, and zeros for ``prod``.
"""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.ops import reduction
from tests.tensor.parity import check_op, check_table_row, table_cases

INF = np.inf

# torch warns when var's divisor N - correction is <= 0; those rows check that case on purpose
pytestmark = pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning")


def distinct(rng, shape):
    """Values at least 1e-2 apart, so no max or min is tied."""
    count = int(np.prod(shape))
    return rng.permutation(np.linspace(-2, 2, count) if count > 1 else np.ones(count)) \
        .reshape(shape)


def away_from_zero(rng, shape):
    return rng.uniform(0.3, 1.5, size=shape) * rng.choice([-1, 1], size=shape)


FORWARD_ONLY = {"differentiable": [False]}

# name: (ours, theirs, shape sets, domain, options)
OPS = {
    "sum_empty_tuple": (lambda a: a.sum(()), lambda a: a.sum(()), [[(2, 3)]], (-2, 2), {}),
    "max_all": (lambda a: a.max(), lambda a: a.max(), [[(3, 4)], [()], [(1,)], [(2, 1, 3)]],
                distinct, {}),
    "max_dim": (lambda a: a.max(-1).values, lambda a: a.max(-1).values,
                [[(3, 4)], [(2, 3, 1)], [(0, 3)], [()]], distinct, {}),
    "max_dim_keepdim": (lambda a: a.max(0, keepdim=True).values,
                        lambda a: a.max(0, keepdim=True).values, [[(3, 4)], [(1, 5)]],
                        distinct, {}),
    "max_indices": (lambda a: a.max(1).indices, lambda a: a.max(1).indices,
                    [[(3, 4)], [(2, 5, 3)]], distinct, {}),
    "max_other": (lambda a, b: a.max(b), lambda a, b: a.max(b), [[(3, 4), (4,)]], (-2, 2), {}),
    "min_all": (lambda a: a.min(), lambda a: a.min(), [[(3, 4)], [()]], distinct, {}),
    "min_dim": (lambda a: a.min(dim=-2).values, lambda a: a.min(dim=-2).values,
                [[(3, 4)], [(1, 2)], [(4, 0)]], distinct, {}),
    "min_indices_keepdim": (lambda a: a.min(0, True).indices, lambda a: a.min(0, True).indices,
                            [[(3, 4)], [(5,)]], distinct, {}),
    "amax": (lambda a: a.amax(), lambda a: a.amax(), [[(3, 4)], [()], [(1, 1)]], distinct, {}),
    "amax_dims": (lambda a: a.amax((0, -1)), lambda a: a.amax((0, -1)),
                  [[(2, 3, 4)], [(1, 0, 2)], [(2, 1, 1)]], distinct, {}),
    "amax_keepdim": (lambda a: a.amax(1, keepdim=True), lambda a: a.amax(1, keepdim=True),
                     [[(3, 4)], [(0, 2)]], distinct, {}),
    "amin_dims_keepdim": (lambda a: a.amin((2, 0), True), lambda a: a.amin((2, 0), True),
                          [[(2, 3, 4)], [(1, 3, 1)]], distinct, {}),
    "argmax": (lambda a: a.argmax(), lambda a: a.argmax(), [[(3, 4)], [()]], distinct, {}),
    "argmax_dim": (lambda a: a.argmax(-1), lambda a: a.argmax(-1), [[(3, 4)], [(0, 2)], [()]],
                   distinct, {}),
    "argmax_keepdim": (lambda a: a.argmax(keepdim=True), lambda a: a.argmax(keepdim=True),
                       [[(3, 4)]], distinct, {}),
    "argmin_dim_keepdim": (lambda a: a.argmin(0, keepdim=True),
                           lambda a: a.argmin(0, keepdim=True), [[(3, 4)], [(1, 2, 3)]],
                           distinct, {}),
    "var": (lambda a: a.var(), lambda a: a.var(), [[(3, 4)], [(5,)]], (-2, 2), {}),
    "var_dim": (lambda a: a.var(-1), lambda a: a.var(-1), [[(3, 4)], [(2, 3, 2)]], (-2, 2), {}),
    "var_dims_keepdim": (lambda a: a.var((0, 2), keepdim=True),
                         lambda a: a.var((0, 2), keepdim=True), [[(2, 3, 4)], [(3, 1, 2)]],
                         (-2, 2), {}),
    "var_correction_0": (lambda a: a.var(0, correction=0), lambda a: a.var(0, correction=0),
                         [[(3, 4)], [(1, 3)]], (-2, 2), {}),
    "var_correction_float": (lambda a: a.var(1, correction=0.5),
                             lambda a: a.var(1, correction=0.5), [[(3, 4)]], (-2, 2), {}),
    "var_unbiased_false": (lambda a: a.var(1, unbiased=False), lambda a: a.var(1, unbiased=False),
                           [[(3, 4)]], (-2, 2), {}),
    "var_positional_unbiased": (lambda a: a.var(False), lambda a: a.var(False), [[(3, 4)]],
                                (-2, 2), {}),
    "var_empty_dim": (lambda a: a.var(1), lambda a: a.var(1), [[(2, 0)], [(0, 0)]], (-2, 2),
                      FORWARD_ONLY),
    "var_no_degrees_of_freedom": (lambda a: a.var(0), lambda a: a.var(0), [[(1, 3)], [()]],
                                  (-2, 2), FORWARD_ONLY),
    "var_correction_above_count": (lambda a: a.var(1, correction=3),
                                   lambda a: a.var(1, correction=3), [[(2, 2)], [(2, 3)]],
                                   (-2, 2), FORWARD_ONLY),
    "std": (lambda a: a.std(), lambda a: a.std(), [[(3, 4)], [(2,)]], (-2, 2), {}),
    "std_dim_keepdim": (lambda a: a.std(-1, keepdim=True), lambda a: a.std(-1, keepdim=True),
                        [[(3, 4)], [(2, 1, 3)]], (-2, 2), {}),
    "std_correction_0": (lambda a: a.std((0, 1), correction=0),
                         lambda a: a.std((0, 1), correction=0), [[(3, 4)]], (-2, 2), {}),
    "std_unbiased_false": (lambda a: a.std(unbiased=False), lambda a: a.std(unbiased=False),
                           [[(3, 4)]], (-2, 2), {}),
    "std_empty_dim": (lambda a: a.std(0), lambda a: a.std(0), [[(0, 3)], [(1, 3)]], (-2, 2),
                      FORWARD_ONLY),
    "logsumexp": (lambda a: a.logsumexp(1), lambda a: a.logsumexp(1),
                  [[(3, 4)], [(2, 1)], [(0, 3)]], (-3, 3), {}),
    # sums of no terms: -inf, which finite differences cannot compare
    "logsumexp_empty_dim": (lambda a: a.logsumexp(1), lambda a: a.logsumexp(1), [[(2, 0)]],
                            (-3, 3), {"finite_differences": False}),
    "logsumexp_dims_keepdim": (lambda a: reduction.logsumexp(a, (0, -1), keepdim=True),
                               lambda a: torch.logsumexp(a, (0, -1), keepdim=True),
                               [[(2, 3, 4)], [(1, 2, 1)]], (-3, 3), {}),
    "logsumexp_negative_dim": (lambda a: a.logsumexp(-2), lambda a: a.logsumexp(-2),
                               [[(3, 4)], [(2, 3, 2)]], (-3, 3), {}),
    "logsumexp_0d": (lambda a: a.logsumexp(0), lambda a: a.logsumexp(0), [[()]], (-3, 3), {}),
    "prod": (lambda a: a.prod(), lambda a: a.prod(), [[(3, 4)], [()], [(2, 0)], [(1,)]],
             away_from_zero, {}),
    "prod_dim": (lambda a: a.prod(-1), lambda a: a.prod(-1), [[(3, 4)], [(2, 1)], [(2, 0)]],
                 away_from_zero, {}),
    "prod_dim_keepdim": (lambda a: a.prod(0, keepdim=True), lambda a: a.prod(0, keepdim=True),
                         [[(3, 4)], [(0, 3)]], away_from_zero, {}),
    "prod_dims": (lambda a: a.prod((0, 2)), lambda a: a.prod(2).prod(0), [[(2, 3, 4)]],
                  away_from_zero, {}),
    "cumsum": (lambda a: a.cumsum(0), lambda a: a.cumsum(0), [[(3, 4)], [(5,)], [(1, 3)],
                                                              [(0, 2)]], (-2, 2), {}),
    "cumsum_negative_dim": (lambda a: reduction.cumsum(a, -1), lambda a: torch.cumsum(a, -1),
                            [[(3, 4)], [(2, 0)], [(2, 3, 1)]], (-2, 2), {}),
    "cumsum_0d": (lambda a: a.cumsum(0), lambda a: a.cumsum(0), [[()]], (-2, 2), {}),
    "cumsum_then_nonlinear": (lambda a: (a.cumsum(1) ** 3).sum(),
                              lambda a: (a.cumsum(1) ** 3).sum(), [[(3, 4)]], (-1, 1), {}),
    "all": (lambda a: (a > 0).all(), lambda a: (a > 0).all(), [[(3, 4)], [(0,)]], (-2, 2),
            FORWARD_ONLY),
    "all_dim": (lambda a: a.all(1), lambda a: a.all(1), [[(3, 4)], [(2, 0)]], (-2, 2),
                FORWARD_ONLY),
    "any_dims_keepdim": (lambda a: (a > 1).any((0, 1), keepdim=True),
                         lambda a: (a > 1).any((0, 1), keepdim=True), [[(3, 4, 2)]], (-2, 2),
                         FORWARD_ONLY),
}

CASES = table_cases(OPS)


@pytest.mark.parametrize("name, case", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_op_matches_pytorch(name, case):
    check_table_row(OPS, name, case)


TIES = {"finite_differences": False}  # at a tie, max is not differentiable: compare with torch

# name: (ours, theirs, arrays, options)
EXACT = {
    "max_ties": (lambda a: a.max(), lambda a: a.max(), [[1.0, 3.0, 3.0]], TIES),
    "max_all_tied": (lambda a: a.max(), lambda a: a.max(), [[[2.0, 2.0], [2.0, 2.0]]], TIES),
    "min_ties": (lambda a: a.min(), lambda a: a.min(), [[[1.0, -1.0], [-1.0, 0.0]]], TIES),
    "amax_ties": (lambda a: a.amax(1), lambda a: a.amax(1),
                  [[[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, 5.0, 1.0]]], TIES),
    "amax_ties_dims": (lambda a: a.amax((0, 1), keepdim=True),
                       lambda a: a.amax((0, 1), keepdim=True),
                       [[[[1.0, 4.0], [4.0, 0.0]], [[4.0, 1.0], [3.0, 4.0]]]], TIES),
    "amin_ties": (lambda a: a.amin(0), lambda a: a.amin(0), [[[1.0, 3.0], [1.0, 2.0]]], TIES),
    "max_dim_ties_first_index": (lambda a: a.max(1).values, lambda a: a.max(1).values,
                                 [[[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]], TIES),
    "max_dim_ties_indices": (lambda a: a.max(1).indices, lambda a: a.max(1).indices,
                             [[[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]], TIES),
    "min_dim_ties": (lambda a: a.min(0).values, lambda a: a.min(0).values,
                     [[[1.0, 3.0], [1.0, 3.0]]], TIES),
    "argmax_ties": (lambda a: a.argmax(1), lambda a: a.argmax(1), [[[1.0, 3.0, 3.0]]], {}),
    "argmin_ties": (lambda a: a.argmin(), lambda a: a.argmin(), [[[1.0, 1.0], [0.0, 0.0]]], {}),
    "max_nan": (lambda a: a.max(), lambda a: a.max(), [[1.0, np.nan, np.nan]], TIES),
    "max_dim_nan": (lambda a: a.max(0).values, lambda a: a.max(0).values, [[1.0, np.nan, 3.0]],
                    TIES),
    "std_zero_variance": (lambda a: a.std(1), lambda a: a.std(1),
                          [[[1.5, 1.5, 1.5], [1.0, 2.0, 4.0]]],
                          {"finite_differences": False, "second_order": False}),
    "logsumexp_large": (lambda a: a.logsumexp(1), lambda a: a.logsumexp(1),
                        [[[1e4, -1e4, 0.0], [1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]]], {}),
    "logsumexp_large_all": (lambda a: a.logsumexp((0, 1)), lambda a: a.logsumexp((0, 1)),
                            [[[1e4, 1e4 - 1.0], [-1e4, 1e4 - 0.5]]], {}),
    "logsumexp_minus_inf": (lambda a: a.logsumexp(1), lambda a: a.logsumexp(1),
                            [[[-INF, -INF], [1.0, -INF], [0.0, 0.0]]], {}),
    "logsumexp_plus_inf": (lambda a: a.logsumexp(1), lambda a: a.logsumexp(1),
                           [[[INF, 1.0], [0.5, 0.0]]], FORWARD_ONLY),
    "prod_one_zero": (lambda a: a.prod(1), lambda a: a.prod(1),
                      [[[1.5, 0.0, -2.0, 0.7], [0.3, 1.2, -0.8, 2.0]]], {}),
    "prod_one_zero_all": (lambda a: a.prod(), lambda a: a.prod(),
                          [[[1.5, -0.5, 1.2], [0.9, 0.0, -1.1]]], {}),
    "prod_two_zeros": (lambda a: a.prod(-1), lambda a: a.prod(-1),
                       [[[0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 1.0, 1.0]]], {}),
    "prod_three_zeros": (lambda a: a.prod(0), lambda a: a.prod(0),
                         [[[0.0, 1.0], [0.0, 0.0], [0.0, 0.0], [2.0, 0.5]]], {}),
    "prod_zeros_keepdim": (lambda a: a.prod(0, keepdim=True), lambda a: a.prod(0, keepdim=True),
                           [[[0.0, 1.2, 0.0], [0.8, 0.0, 0.0], [1.1, -1.3, 0.0]]], {}),
}


@pytest.mark.parametrize("name", list(EXACT))
def test_constructed_inputs_match_pytorch(name):
    ours, theirs, arrays, options = EXACT[name]
    check_op(ours, theirs, [np.array(a, dtype=np.float64) for a in arrays], **options)


@pytest.mark.parametrize("values", [[[1e4, -1e4, 0.0]], [[-1e4, -1e4 + 1.0, -1e4]]])
def test_logsumexp_of_large_logits_has_finite_value_and_gradient(values):
    x = cr.tensor(values, dtype=cr.float32, requires_grad=True)
    out = x.logsumexp(1)
    (grad,) = cr.autograd.grad(out.sum(), [x], create_graph=True)
    (second,) = cr.autograd.grad((grad * grad).sum(), [x])
    for t in (out, grad, second):
        assert np.isfinite(t.array).all()
    np.testing.assert_allclose(grad.array.sum(), 1.0, rtol=1e-3)  # float32 near 1e4: ulp 1e-3


def test_max_with_dim_returns_named_values_and_indices():
    x = cr.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    result = x.max(1)
    values, indices = result
    assert type(result).__name__ == "max" and result._fields == ("values", "indices")
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert type(x.min(0)).__name__ == "min" and x.min(0).indices.tolist() == [0, 1, 0]


def test_dtypes_follow_pytorch():
    ints = cr.tensor([[1, 2], [3, 4]], dtype=cr.int32)
    assert ints.prod().dtype == np.int64 and ints.prod().item() == 24
    assert ints.cumsum(1).dtype == np.int64 and ints.cumsum(1).tolist() == [[1, 3], [3, 7]]
    assert ints.amax().dtype == np.int32 and ints.max(0).values.tolist() == [3, 4]
    assert ints.argmin().dtype == np.int64
    assert ints.logsumexp(1).dtype == np.float32
    np.testing.assert_allclose(ints.logsumexp(1).array,
                               torch.tensor([[1, 2], [3, 4]]).logsumexp(1).numpy(), rtol=1e-6)
    assert cr.tensor([True, False]).any().dtype == np.bool_
    assert cr.tensor([[1.0]]).all(keepdim=True, dim=1).shape == (1, 1)


def test_second_derivative_of_prod_is_exact_with_one_zero():
    x = cr.tensor([2.0, 0.0, 3.0], dtype=cr.float64, requires_grad=True)
    (grad,) = cr.autograd.grad(x.prod(), [x], create_graph=True)
    assert grad.tolist() == [0.0, 6.0, 0.0]
    hessian = [cr.autograd.grad(grad[i], [x], retain_graph=True)[0].tolist() for i in range(3)]
    assert hessian == [[0.0, 3.0, 0.0], [3.0, 0.0, 2.0], [0.0, 2.0, 0.0]]


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("op", ["max", "min", "amax", "amin", "argmax", "argmin"])
def test_reducing_an_empty_tensor_over_all_dims_is_an_error(op):
    x = cr.zeros(2, 0)
    with pytest.raises(ValueError, match=rf"{op}: the tensor of shape \(2, 0\) is empty, so "
                                         rf"it has no {op}; specify the reduction dim"):
        getattr(x, op)()


@pytest.mark.parametrize("op", ["max", "min", "amax", "amin", "argmax", "argmin"])
def test_reducing_over_a_zero_size_dim_is_an_error(op):
    x = cr.zeros(2, 0, 3)
    with pytest.raises(IndexError, match=rf"{op}: expected reduction dim 1 to have non-zero "
                                         rf"size, but the tensor has shape \(2, 0, 3\)"):
        getattr(x, op)(-2)
    result = getattr(x, op)(0)  # other dims may be empty
    values = result[0] if isinstance(result, tuple) else result
    assert values.shape == (0, 3)


@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin"])
def test_max_with_several_dims_points_to_amax(op):
    with pytest.raises(TypeError, match=rf"{op}: dim must be one int, got tuple \(0, 1\); "
                                        "use amax/amin"):
        getattr(cr.zeros(2, 3), op)((0, 1))


@pytest.mark.parametrize("op", ["var", "std"])
def test_correction_and_unbiased_together_is_an_error(op):
    with pytest.raises(TypeError, match=rf"{op}: give correction \(0\) or unbiased \(True\), "
                                        "not both"):
        getattr(cr.zeros(3), op)(correction=0, unbiased=True)


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_of_integers_is_an_error(op):
    with pytest.raises(TypeError, match=rf"{op}: only floating point tensors are supported, "
                                        r"got int64; convert it first, e.g. x.float\(\)"):
        getattr(cr.tensor([1, 2, 3]), op)()


@pytest.mark.parametrize("op", ["amax", "prod", "var", "logsumexp", "all", "cumsum"])
def test_dim_out_of_range_is_an_error(op):
    with pytest.raises(IndexError, match=rf"{op}: dim 2 is out of range for a tensor with 2 "
                                         "dimensions"):
        getattr(cr.zeros(2, 3), op)(2)


def test_a_dim_named_twice_is_an_error():
    with pytest.raises(ValueError, match=r"amax: dim \(1, -1\) names a dimension twice"):
        cr.zeros(2, 3).amax((1, -1))
