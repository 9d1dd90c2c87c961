"""Pointwise math beyond the OpInfo samples: error messages, dtype promotion, integer edge cases.

The values, gradients and second derivatives of these ops against PyTorch
are checked by PyTorch's own OpInfo samples (``tests/opinfo``); here: what
the samples do not reach.
"""

import numpy as np
import pytest
import torch

import chainrule as cr


def same(ours, theirs):
    assert str(np.dtype(ours.dtype)) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(np.asarray(ours.array, dtype=np.float64),
                               theirs.double().numpy(), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("call, error, words", [
    (lambda: cr.div(cr.tensor([1.0]), 2, rounding_mode="round"), ValueError,
     ["div", "rounding_mode", "'trunc'", "'round'"]),
    (lambda: cr.div(cr.tensor([7, 8]), cr.tensor([2, 0]), rounding_mode="floor"),
     ZeroDivisionError, ["div", "integer division by zero", "float"]),
    (lambda: cr.floor_divide(cr.tensor([7]), 0), ZeroDivisionError, ["floor_divide", "zero"]),
    (lambda: cr.fmod(cr.tensor([7]), cr.tensor([0])), ZeroDivisionError, ["fmod", "zero"]),
    (lambda: cr.tensor([7]) % 0, ZeroDivisionError, ["remainder", "zero"]),
    (lambda: cr.positive(cr.tensor([True])), TypeError, ["positive", "bool"]),
    (lambda: cr.round(cr.tensor([1.5]), decimals=1.5), TypeError, ["round", "decimals", "int"]),
    (lambda: cr.frac(cr.tensor([1, 2])), TypeError, ["frac", "int64"]),
    (lambda: cr.frexp(cr.tensor([1, 2])), TypeError, ["frexp", "floating-point", "int64"]),
    (lambda: cr.addcdiv(cr.tensor([1.0]), cr.tensor([1]), cr.tensor([2])), TypeError,
     ["addcdiv", "integer division", "tensor1", "addcmul"]),
    (lambda: cr.gcd(cr.tensor([4.0]), cr.tensor([6.0])), TypeError, ["gcd", "integer", "float32"]),
    (lambda: cr.isclose(cr.tensor([1.0]), cr.tensor([1.0], dtype=cr.float64)), TypeError,
     ["isclose", "float32", "float64", "same dtype"]),
    (lambda: cr.isclose(cr.tensor([1.0]), cr.tensor([1.0]), rtol=-1), ValueError,
     ["isclose", "non-negative", "rtol=-1"]),
    (lambda: cr.equal(cr.tensor([1.0]), [1.0]), TypeError, ["equal", "Tensor", "list"]),
    (lambda: cr.lerp(cr.zeros(2), cr.zeros(3), 0.5), ValueError,
     ["lerp", "(2,)", "(3,)", "broadcast"]),
    (lambda: cr.fill([1.0], 2.0), TypeError, ["fill", "Tensor", "list"]),
    (lambda: cr.acos([0.5]), TypeError, ["acos", "Tensor", "list"]),
    (lambda: cr.atan2(cr.zeros(2), cr.zeros(3)), ValueError, ["atan2", "(2,)", "(3,)"]),
    (lambda: cr.bitwise_left_shift(cr.tensor([1.0]), 2), TypeError,
     ["bitwise_left_shift", "integer"]),
])
def test_bad_input_names_the_op_and_the_fix(call, error, words):
    with pytest.raises(error) as raised:
        call()
    for word in words:
        assert word in str(raised.value), f"{word!r} not in {str(raised.value)!r}"


def test_ops_torch_declares_no_derivative_for_say_so_in_backward():
    a = cr.tensor([3.0, -4.0], requires_grad=True)
    out = cr.floor_divide(a, 2)
    assert out.requires_grad  # as torch's: its graph node raises on backward
    with pytest.raises(RuntimeError, match="floor_divide: the derivative is not implemented"):
        out.sum().backward()


# ---------------------------------------------------------------- dtypes


@pytest.mark.parametrize("name", ["acos", "asinh", "tan", "log2", "rsqrt", "sinc", "exp2",
                                  "expm1", "reciprocal", "deg2rad", "logit"])
def test_integer_and_bool_inputs_give_float32(name):
    for values in ([0, 1, 2], [True, False]):
        same(getattr(cr, name)(cr.tensor(values)), getattr(torch, name)(torch.tensor(values)))


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sgn", "square",
                                  "nan_to_num"])
def test_rounding_and_integer_preserving_ops_keep_integers(name):
    same(getattr(cr, name)(cr.tensor([-3, 0, 5])), getattr(torch, name)(torch.tensor([-3, 0, 5])))


@pytest.mark.parametrize("name, a, b", [
    ("copysign", [1, 2], -2.5),                       # int tensor, float number: float32
    ("fmod", [1, 2], 1.5),
    ("remainder", [1, 2], 1.5),
    ("remainder", [1.0, 2.0], np.float64(1.5)),       # a numpy scalar is a number too
    ("remainder", [True, False], 3),                  # bool tensor, int number: int64
    ("atan2", [1, 2], [3, 4]),                        # integer tensors: float32
    ("copysign", [1, 2], [-3, 4]),
    ("fmax", [1, 2], [3, 0]),                         # integers stay integers
    ("ldexp", [1, 2], [3, 4]),
    ("float_power", [1, 2], [3, 4]),                  # always float64
])
def test_numbers_promote_as_in_pytorch(name, a, b):
    ours_b = cr.tensor(b) if isinstance(b, list) else b
    theirs_b = torch.tensor(b) if isinstance(b, list) else b.item() if isinstance(b, np.generic) else b
    same(getattr(cr, name)(cr.tensor(a), ours_b), getattr(torch, name)(torch.tensor(a), theirs_b))


def test_a_zero_dim_tensor_does_not_upcast_a_tensor_of_its_kind():
    x, scalar = cr.tensor([1.0, 2.0]), cr.tensor(3.0, dtype=cr.float64)
    assert cr.atan2(x, scalar).dtype == cr.float32
    assert cr.div(cr.tensor([1, 2]), scalar).dtype == cr.float64  # a higher kind does
    assert cr.div(cr.tensor([1, 2]), cr.tensor([2, 4])).dtype == cr.float32


def test_integer_division_rounds_as_pytorch():
    a, b = [-7, 7, -6, 5], [2, -2, 3, 5]
    for mode in ("trunc", "floor"):
        same(cr.div(cr.tensor(a), cr.tensor(b), rounding_mode=mode),
             torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode))
    same(cr.tensor(a) // cr.tensor(b), torch.tensor(a) // torch.tensor(b))
    same(cr.fmod(cr.tensor(a), cr.tensor(b)), torch.fmod(torch.tensor(a), torch.tensor(b)))
    same(cr.tensor(a) % cr.tensor(b), torch.tensor(a) % torch.tensor(b))


def test_shifts_out_of_range_as_pytorch():
    x, s = [1, -8, 5, -1], [-1, -2, 63, 70]
    same(cr.tensor(x) << cr.tensor(s), torch.tensor(x) << torch.tensor(s))
    same(cr.tensor(x) >> cr.tensor(s), torch.tensor(x) >> torch.tensor(s))


def test_closeness_gives_bools():
    a, b = [1.0, float("nan"), float("inf")], [1.0 + 1e-9, float("nan"), float("inf")]
    for equal_nan in (False, True):
        same(cr.isclose(cr.tensor(a), cr.tensor(b), equal_nan=equal_nan),
             torch.isclose(torch.tensor(a), torch.tensor(b), equal_nan=equal_nan))
    assert cr.allclose(cr.tensor([1.0]), cr.tensor([1.0])) is True
    assert cr.equal(cr.tensor([1.0]), cr.tensor([1.0, 2.0])) is False


def test_in_place_variants_and_aliases():
    x = cr.tensor([0.25, 0.5])
    assert x.clone().arccos_().allclose(cr.acos(x))
    assert cr.arctan2(x, x).allclose(cr.atan2(x, x))
    assert cr.fix(cr.tensor([-1.5])).item() == -1.0
    y = cr.tensor([5, 7])
    y //= 2
    y %= 2
    assert y.tolist() == [0, 1]
    assert (+x) is x
