"""Every Value op against PyTorch (float64) and against central finite differences.

One table lists each op once, as a function that works on both a chainrule
``Value`` and a ``torch.Tensor``, with the domain its inputs are drawn from.
"""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.scalar import Value, weighted_sum

REL = 1e-9  # gradients must match PyTorch to this relative tolerance


def floats(lo, hi, avoid_zero=False):
    s = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    return s.filter(lambda v: abs(v) > 1e-3) if avoid_zero else s


ANY = floats(-4, 4)
NONZERO = floats(-4, 4, avoid_zero=True)
POSITIVE = floats(0.05, 4)
SMOOTH_RELU = ANY.filter(lambda v: abs(v) > 1e-3)  # finite differences need no kink

# name: (function of the inputs, input strategies)
OPS = {
    "add": (lambda a, b: a + b, [ANY, ANY]),
    "add_const": (lambda a: a + 2.5, [ANY]),
    "radd_const": (lambda a: 2.5 + a, [ANY]),
    "sub": (lambda a, b: a - b, [ANY, ANY]),
    "rsub_const": (lambda a: 2 - a, [ANY]),
    "mul": (lambda a, b: a * b, [ANY, ANY]),
    "rmul_const": (lambda a: -1.5 * a, [ANY]),
    "div": (lambda a, b: a / b, [ANY, NONZERO]),
    "rdiv_const": (lambda a: 1 / a, [NONZERO]),
    "neg": (lambda a: -a, [ANY]),
    "pow2": (lambda a: a**2, [ANY]),
    "pow3": (lambda a: a**3, [ANY]),
    "pow_neg1": (lambda a: a**-1, [NONZERO]),
    "pow_half": (lambda a: a**0.5, [POSITIVE]),
    "pow_zero": (lambda a: a**0, [ANY]),
    "pow_value": (lambda a, b: a**b, [POSITIVE, ANY]),
    "rpow_2": (lambda a: 2**a, [ANY]),
    "rpow_half": (lambda a: 0.5**a, [ANY]),
    "relu": (lambda a: a.relu(), [SMOOTH_RELU]),
    "exp": (lambda a: a.exp(), [ANY]),
    "log": (lambda a: a.log(), [POSITIVE]),
    "tanh": (lambda a: a.tanh(), [ANY]),
    "sigmoid": (lambda a: a.sigmoid(), [floats(-30, 30)]),
    "x_times_x": (lambda a: a * a, [ANY]),  # one node used twice
}


def chainrule_value_and_grads(fn, xs):
    leaves = [Value(x) for x in xs]
    out = fn(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def torch_value_and_grads(fn, xs):
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = fn(*leaves)
    out.backward()
    return out.item(), [0.0 if leaf.grad is None else leaf.grad.item() for leaf in leaves]


def finite_difference_grads(fn, xs, h=1e-6):
    grads = []
    for i in range(len(xs)):
        up = list(xs)
        down = list(xs)
        up[i] += h
        down[i] -= h
        grads.append((fn(*map(Value, up)).data - fn(*map(Value, down)).data) / (2 * h))
    return grads


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_matches_pytorch_and_finite_differences(name):
    fn, domains = OPS[name]

    @settings(max_examples=40, deadline=None)
    @given(st.tuples(*domains))
    def check(xs):
        value, grads = chainrule_value_and_grads(fn, xs)
        expected_value, expected_grads = torch_value_and_grads(fn, xs)
        assert value == pytest.approx(expected_value, rel=1e-12, abs=1e-300)
        assert grads == pytest.approx(expected_grads, rel=REL, abs=1e-12)
        assert grads == pytest.approx(finite_difference_grads(fn, xs), rel=1e-5, abs=1e-6)

    check()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(ANY, ANY), min_size=1, max_size=6), ANY)
def test_weighted_sum_matches_pytorch(pairs, b):
    ws = [Value(w) for w, _ in pairs]
    xs = [Value(x) for _, x in pairs]
    bias = Value(b)
    out = weighted_sum(ws, xs, bias)
    out.backward()

    tw = torch.tensor([w for w, _ in pairs], dtype=torch.float64, requires_grad=True)
    tx = torch.tensor([x for _, x in pairs], dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    expected = tw @ tx + tb
    expected.backward()

    assert out.data == pytest.approx(expected.item(), rel=1e-12, abs=1e-12)
    assert [w.grad for w in ws] == pytest.approx(tw.grad.tolist(), rel=REL)
    assert [x.grad for x in xs] == pytest.approx(tx.grad.tolist(), rel=REL)
    assert bias.grad == pytest.approx(tb.grad.item(), rel=REL)


def test_weighted_sum_treats_plain_numbers_as_constants():
    w = [Value(2.0), Value(-3.0)]
    out = weighted_sum(w, [1.5, Value(4.0)], Value(0.5))
    assert out.data == 2.0 * 1.5 - 3.0 * 4.0 + 0.5
    assert len(out._prev) == 4  # two weights, the one Value input, the bias
    out.backward()
    assert [p.grad for p in w] == [1.5, 4.0]


# --------------------------------------------------------- domain edges: as PyTorch


def torch_edge(fn, *xs):
    return torch_value_and_grads(fn, xs)


@pytest.mark.parametrize(
    "fn, xs",
    [
        (lambda a: a.relu(), [0.0]),  # relu'(0) = 0
        (lambda a: a**0.5, [0.0]),  # d sqrt(x) at 0 = inf
        (lambda a: a**0, [0.0]),  # d(x**0)/dx = 0 even at 0
        (lambda a: a.exp(), [1000.0]),  # overflows to inf
        (lambda a: a.sigmoid(), [-1000.0]),  # no overflow in exp(-x)
        (lambda a: a.sigmoid(), [1000.0]),
        (lambda a: a.tanh(), [50.0]),
        (lambda a, b: a**b, [0.0, 2.0]),  # d(x**n)/dn at x=0 taken as 0
        (lambda a, b: a**b, [-2.0, 2.0]),  # d(x**n)/dn = x**n ln(x), nan for x<0
        (lambda a: 0**a, [2.0]),
    ],
)
def test_domain_edges_match_pytorch(fn, xs):
    value, grads = chainrule_value_and_grads(fn, xs)
    expected_value, expected_grads = torch_edge(fn, *xs)
    assert value == pytest.approx(expected_value, nan_ok=True)
    assert grads == pytest.approx(expected_grads, nan_ok=True)


@pytest.mark.parametrize(
    "fn, error, words",
    [
        (lambda: Value(0.0).log(), ValueError, ["log", "positive", "0.0"]),
        (lambda: Value(-1.0).log(), ValueError, ["log", "positive", "-1.0"]),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, ["**", "0.0", "-1"]),
        (lambda: 1 / Value(0.0), ZeroDivisionError, ["**", "0.0"]),
        (lambda: Value(1.0) / 0, ZeroDivisionError, ["/", "1.0 / 0", "divides by zero"]),
        (lambda: Value(-8.0) ** 0.5, ValueError, ["**", "-8.0", "no real value"]),
        (lambda: (-8.0) ** Value(0.5), ValueError, ["**", "-8.0", "no real value"]),
        (lambda: Value(10.0) ** 400, OverflowError, ["**", "overflows"]),
    ],
)
def test_domain_errors_name_the_op_and_value(fn, error, words):
    with pytest.raises(error) as info:
        fn()
    for word in words:
        assert word in str(info.value)


def test_relu_at_zero_convention_is_documented():
    assert "PyTorch" in Value.relu.__doc__ and "0" in Value.relu.__doc__
    assert math.isinf(Value(1000.0).exp().data)
