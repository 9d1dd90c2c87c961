"""The scalar engine as a whole: random expression trees, accumulation, deep graphs, memory."""

import gc
import sys
import weakref

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.autograd import topological_order
from chainrule.scalar import Value

# Ops that are smooth and defined everywhere, so any tree of them is too.
UNARY = {
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "exp_tanh": lambda a: a.tanh().exp(),
    "log1p_sq": lambda a: (1 + a * a).log(),
    "square": lambda a: a**2,
    "neg": lambda a: -a,
    "recip_1p_sq": lambda a: 1 / (1 + a**2),
    "pow_exponent": lambda a: 1.5**a.tanh(),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div_safe": lambda a, b: a / (2 + b.tanh()),
    "pow_value": lambda a, b: (1 + a * a) ** b.tanh(),
}


def trees(n_leaves):
    leaf = st.integers(0, n_leaves - 1).map(lambda i: ("leaf", i))
    return st.recursive(
        leaf,
        lambda sub: st.one_of(
            st.tuples(st.sampled_from(sorted(UNARY)), sub),
            st.tuples(st.sampled_from(sorted(BINARY)), sub, sub),
        ),
        max_leaves=12,
    )


def evaluate(tree, leaves):
    """Build the same expression from chainrule Values or torch tensors."""
    if tree[0] == "leaf":
        return leaves[tree[1]]
    if tree[0] in UNARY:
        return UNARY[tree[0]](evaluate(tree[1], leaves))
    return BINARY[tree[0]](evaluate(tree[1], leaves), evaluate(tree[2], leaves))


@settings(max_examples=150, deadline=None)
@given(trees(3), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_random_expressions_match_pytorch_and_finite_differences(tree, xs):
    leaves = [Value(x) for x in xs]
    out = evaluate(tree, leaves)
    out.backward()

    torch_leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    torch_out = evaluate(tree, torch_leaves)
    if torch_out.requires_grad:
        torch_out.backward()
    expected = [0.0 if t.grad is None else t.grad.item() for t in torch_leaves]

    assert out.data == pytest.approx(torch_out.item(), rel=1e-12, abs=1e-12)
    assert [v.grad for v in leaves] == pytest.approx(expected, rel=1e-9, abs=1e-12)

    h = 1e-6
    for i in range(3):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        numeric = (evaluate(tree, list(map(Value, up))).data
                   - evaluate(tree, list(map(Value, down))).data) / (2 * h)
        assert leaves[i].grad == pytest.approx(numeric, rel=1e-4, abs=1e-5)


# ------------------------------------------------------------- accumulation


def test_a_value_used_twice_gets_both_contributions():
    x = Value(3.0)
    y = x * x
    z = y + y  # z = 2x^2, dz/dx = 4x
    z.backward()
    assert x.grad == 12.0
    assert y.grad == 2.0


def test_backward_twice_adds_exactly_twice_the_gradient():
    # The tutorial's engine would give x.grad = 3 * 12 here: a second call
    # re-propagates the interior nodes' already-accumulated gradients.
    x = Value(3.0)
    y = x * x
    z = y + y
    z.backward()
    z.backward()
    assert x.grad == 24.0
    assert y.grad == 4.0
    assert z.grad == 2.0


def test_gradients_sum_until_reset():
    x = Value(2.0)
    (x * 3).backward()
    (x * 5).backward()
    assert x.grad == 8.0
    x.grad = 0.0
    (x**2).backward()
    assert x.grad == 4.0


def test_repr_is_the_tutorials():
    x = Value(3.0)
    (x**2).backward()
    assert repr(x) == "Value(data=3.0000, grad=6.0000)"


def test_int_data_is_stored_as_float():
    assert Value(3).data == 3.0 and type(Value(3).data) is float


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: Value("3"), ["Value()", "str", "'3'", "float(x)"]),
        (lambda: Value(None), ["Value()", "NoneType"]),
        (lambda: Value(3.0) ** "a", ["**", "str", "'a'"]),
        (lambda: Value(3.0) + "a", ["+", "str"]),
        (lambda: Value(3.0) * [1], ["*", "list"]),
        (lambda: Value(True), ["Value()", "bool"]),
    ],
)
def test_bad_input_raises_type_error_naming_op_and_type(make, words):
    with pytest.raises(TypeError) as info:
        make()
    for word in words:
        assert word in str(info.value)


def test_assigning_a_backward_closure_explains_local_gradients():
    x = Value(1.0)
    with pytest.raises(AttributeError, match="_local_grads"):
        x._backward = lambda: None


def test_a_custom_op_is_a_value_with_local_gradients():
    x = Value(2.0)
    cube = Value(x.data**3, _children=(x,), _op="cube", _local_grads=(3 * x.data**2,))
    cube.backward()
    assert x.grad == 12.0


def test_a_node_with_inputs_but_no_local_gradients_is_rejected():
    x = Value(2.0)
    with pytest.raises(TypeError, match="_local_grads"):
        Value(4.0, (x,), "square")
    with pytest.raises(ValueError, match="1 inputs but 2 local gradients"):
        Value(4.0, (x,), "square", (1.0, 2.0))


# ------------------------------------------------------- deep graphs, memory


def test_a_million_node_chain_backpropagates_without_recursion():
    limit = sys.getrecursionlimit()
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1
    y.backward()
    assert x.grad == 1.0
    assert y.data == 1_000_001.0
    assert sys.getrecursionlimit() == limit


def test_sum_of_a_million_values():
    xs = [Value(0.5) for _ in range(1_000_000)]
    total = sum(xs)
    total.backward()
    assert total.data == 500_000.0
    assert xs[0].grad == 1.0 and xs[-1].grad == 1.0


def test_a_dropped_graph_is_freed_without_the_cycle_collector():
    gc.disable()
    try:
        x = Value(1.5)
        y = (x * x + 1).tanh()
        y.backward()
        interior = weakref.ref(y._prev[0])
        del y
        assert interior() is None  # freed by reference counting alone
        assert x.grad != 0.0
    finally:
        gc.enable()


def test_topological_order_lists_inputs_first_and_is_deterministic():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e, lambda v: v._prev)
    position = {id(v): i for i, v in enumerate(order)}
    for node in order:
        for child in node._prev:
            assert position[id(child)] < position[id(node)]
    assert order == topological_order(e, lambda v: v._prev)
    assert order[-1] is e and len(order) == 5
