"""trace_backward: the recorded steps, the table, and that tracing changes nothing."""

import random
import re
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import Value
from chainrule.autograd.graph import _observers
from chainrule.debug.trace import BackwardTrace, Step, trace_backward
from chainrule.scalar import MLP, weighted_sum
from chainrule.scalar.value import VALUE_RULES

DOCS = Path(__file__).resolve().parents[1] / "docs" / "trace.md"

SEED_TABLE = """\
step  op  value  grad  rule                          contributions
#1    *   15     1     d(a*b)/da = b, d(a*b)/db = a  #2 += 3, x += 5
#2    +   5      3     d(a+b)/da = 1, d(a+b)/db = 1  x += 3
leaves:
  x.grad += 5 + 3 = 8"""


def seed_trace():
    """The seed's ``(x + 2) * x`` at x = 3, traced with x named."""
    x = Value(3.0)
    y = (x + 2) * x
    with trace_backward(names={x: "x"}) as t:
        y.backward()
    return x, t


@pytest.fixture(autouse=True)
def no_observer_left_behind():
    assert _observers.active == []
    yield
    assert _observers.active == [], "a trace left its observer on the engine"


# ------------------------------------------------------------ the seed's example


def test_seed_example_lists_exactly_the_chain_rule_steps():
    x = Value(3.0)
    y = (x + 2) * x
    with trace_backward(names={x: "x"}) as t:
        y.backward()
    assert len(t) == 2
    assert [s.op for s in t] == ["*", "+"]
    assert [s.index for s in t] == [1, 2]
    assert [s.name for s in t] == ["#1", "#2"]
    assert [s.value for s in t] == [15.0, 5.0]
    assert [s.grad for s in t] == [1.0, 3.0]
    assert t[0].rule == "d(a*b)/da = b, d(a*b)/db = a"
    assert t[1].rule == "d(a+b)/da = 1, d(a+b)/db = 1"
    assert [s.inputs for s in t] == [("#2", "x"), ("x",)]
    assert [s.contributions for s in t] == [(3.0, 5.0), (3.0,)]
    assert t[0].input_nodes == (t[1].node, x) and t[0].node is y
    assert x.grad == 8.0
    assert t.contributions_to(x) == [5.0, 3.0] and sum(t.contributions_to(x)) == x.grad
    assert str(t) == SEED_TABLE
    assert repr(t) == "<BackwardTrace: 2 steps>"
    assert isinstance(t, BackwardTrace) and all(isinstance(s, Step) for s in t)


def test_unnamed_leaves_get_letters_in_order_of_first_appearance():
    x, y, z = Value(1.0), Value(2.0), Value(3.0)
    out = (z * y) + x  # the + step meets (z*y) then x; the * step meets z then y
    with trace_backward() as t:
        out.backward()
    assert [s.inputs for s in t] == [("#2", "a"), ("b", "c")]
    assert [name for name, _, _ in t.leaves()] == ["a", "b", "c"]
    assert [node for _, node, _ in t.leaves()] == [x, z, y]
    # a user name takes its letter out of the pool
    with trace_backward(names={z: "a"}) as t:
        out.backward()
    assert [s.inputs for s in t] == [("#2", "b"), ("a", "c")]


def test_inner_nodes_can_be_named():
    x = Value(0.5)
    h = x.tanh()
    out = h * h
    with trace_backward(names={x: "x", h: "h"}) as t:
        out.backward()
    assert [s.name for s in t] == ["#1", "h"]
    assert t[0].inputs == ("h", "h")
    assert str(t).splitlines()[2].startswith("#2 h  tanh")


def test_a_value_used_twice_gets_both_contributions():
    x = Value(3.0)
    y = x * x
    with trace_backward(names={x: "x"}) as t:
        y.backward()
    assert len(t) == 1 and t[0].inputs == ("x", "x") and t[0].contributions == (3.0, 3.0)
    assert sum(t.contributions_to(x)) == x.grad == 6.0
    assert str(t).endswith("x.grad += 3 + 3 = 6")


@pytest.mark.parametrize("build, op, rule", [
    (lambda x, y: x + y, "+", "d(a+b)/da = 1, d(a+b)/db = 1"),
    (lambda x, y: x * y, "*", "d(a*b)/da = b, d(a*b)/db = a"),
    (lambda x, y: x**2, "**2", "d(x**n)/dx = n*x**(n-1) with n = 2"),
    (lambda x, y: x**-1.5, "**-1.5", "d(x**n)/dx = n*x**(n-1) with n = -1.5"),
    (lambda x, y: x**y, "**", "d(x**n)/dx = n*x**(n-1), d(x**n)/dn = x**n * ln(x)"),
    (lambda x, y: 2**x, "2**", "d(c**x)/dx = c**x * ln(c) with c = 2"),
    (lambda x, y: x.relu(), "relu", "d(relu(x))/dx = 1 if x > 0 else 0"),
    (lambda x, y: x.exp(), "exp", "d(e**x)/dx = e**x"),
    (lambda x, y: x.log(), "log", "d(ln(x))/dx = 1/x"),
    (lambda x, y: x.tanh(), "tanh", "d(tanh(x))/dx = 1 - tanh(x)**2"),
    (lambda x, y: x.sigmoid(), "sigmoid", "d(s(x))/dx = s(x) * (1 - s(x))"),
    (lambda x, y: weighted_sum([x], [y], Value(0.0)), "w·x+b",
     "d(w·x+b)/dw_i = x_i, d(w·x+b)/dx_i = w_i, d(w·x+b)/db = 1"),
    (lambda x, y: Value(1.0, (x,), "mystery", (2.0,)), "mystery", "local derivatives"),
])
def test_each_value_op_has_its_rule_in_words(build, op, rule):
    x, y = Value(1.5), Value(0.5)
    out = build(x, y)
    with trace_backward() as t:
        out.backward()
    assert (t[0].op, t[0].rule) == (op, rule)


def test_value_rules_can_be_added_for_new_ops(monkeypatch):
    monkeypatch.setitem(VALUE_RULES, "cube", "d(x**3)/dx = 3*x**2")
    x = Value(2.0)
    out = Value(8.0, (x,), "cube", (12.0,))
    with trace_backward() as t:
        out.backward()
    assert t[0].rule == "d(x**3)/dx = 3*x**2"


def test_value_gradients_are_identical_with_tracing_and_contributions_sum_to_them():
    random.seed(1)
    model = MLP(2, [4, 4, 1])
    data = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]

    def loss():
        return sum(((model(x) - y) ** 2 for x, y in data), Value(0.0))

    loss().backward()
    untraced = [p.grad for p in model.parameters()]
    model.zero_grad()
    with trace_backward() as t:
        loss().backward()
    params = model.parameters()
    assert [p.grad for p in params] == untraced
    assert len(t) > 4 * 9  # every neuron of every example left steps
    leaves = {id(node): grads for _, node, grads in t.leaves()}
    assert all(id(p) in leaves for p in params)
    for p in params:  # the engine adds in the order the steps ran; so does sum()
        assert sum(leaves[id(p)]) == p.grad


# ------------------------------------------------------------ tensors


def test_tensor_steps_rules_and_contributions_match_torch():
    xs = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], dtype=np.float32)
    ws = np.array([0.3, -0.7, 1.1], dtype=np.float32)
    x, w = cr.tensor(xs, requires_grad=True), cr.tensor(ws, requires_grad=True)
    b = cr.tensor(0.2, requires_grad=True)
    h = (x * w).tanh()
    loss = (h * x + b).sum()
    with trace_backward(names={x: "x", w: "w", h: "h"}) as t:
        loss.backward()
    assert [s.op for s in t] == ["SumBackward", "AddBackward", "MulBackward", "TanhBackward",
                                 "MulBackward"]
    assert t[2].inputs == ("h", "x") and t[3].name == "h" and t[4].inputs == ("x", "w")
    assert t[1].inputs == ("#3", "a")  # b: an unnamed leaf
    assert t[2].rule == "d/da = b, d/db = a" and t[3].rule.startswith("d/dx = 1 - tanh(x)**2")
    assert all(s.value is None for s in t) and t[3].grad.shape == (2, 3)

    tx, tw = torch.tensor(xs, requires_grad=True), torch.tensor(ws, requires_grad=True)
    tb = torch.tensor(0.2, requires_grad=True)
    ((tx * tw).tanh() * tx + tb).sum().backward()
    for leaf, torch_leaf in [(x, tx), (w, tw), (b, tb)]:
        contributions = t.contributions_to(leaf)
        assert all(g.shape == leaf.shape for g in contributions)
        np.testing.assert_array_equal(sum(contributions), leaf.grad.array)
        np.testing.assert_allclose(leaf.grad.array, torch_leaf.grad.numpy(), rtol=1e-6)
    assert len(t.contributions_to(x)) == 2  # x is used twice: through h and directly
    np.testing.assert_array_equal(t.contributions_to(h)[0], t[3].grad)  # a non-leaf Tensor


def test_a_tensor_used_twice():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with trace_backward(names={x: "x"}) as t:
        (x * x).sum().backward()
    assert [s.op for s in t] == ["SumBackward", "MulBackward"]
    assert t[1].inputs == ("x", "x")
    for g in t[1].contributions:
        np.testing.assert_array_equal(g, [1.0, 2.0])
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    (tx * tx).sum().backward()
    np.testing.assert_array_equal(sum(t.contributions_to(x)), x.grad.array)
    np.testing.assert_array_equal(x.grad.array, tx.grad.numpy())
    assert "x.grad += 2 contributions, total (2,) norm 4.472" in str(t)


def test_tensor_gradients_are_identical_with_tracing():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Tanh(), cr.nn.Linear(4, 1))
    inputs, targets = cr.randn(8, 3), cr.randn(8, 1)

    def grads():
        model.zero_grad()
        cr.nn.functional.mse_loss(model(inputs), targets).backward()
        return [p.grad.array.copy() for p in model.parameters()]

    untraced = grads()
    with trace_backward(model=model) as t:
        traced = grads()
    for a, b in zip(untraced, traced):
        np.testing.assert_array_equal(a, b)
    names = [name for name, _, _ in t.leaves()]
    assert sorted(names) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(sum(t.contributions_to(p)), p.grad.array)
        assert f"{name} += ({', '.join(map(str, p.shape))}" in str(t)
    assert "_Outputs" not in str(t) and all(s.op.endswith("Backward") for s in t)


def test_the_record_does_not_change_when_grad_is_later_accumulated_in_place():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with trace_backward() as t:
        (x * 2).sum().backward()
    recorded = t.contributions_to(x)[0]
    (x * 2).sum().backward()  # adds into x.grad in place
    np.testing.assert_array_equal(x.grad.array, [4.0, 4.0])
    np.testing.assert_array_equal(recorded, [2.0, 2.0])
    np.testing.assert_array_equal(t.contributions_to(x)[0], [2.0, 2.0])

    # Add passes its gradient on as it is, so x.grad may be the very array
    # that was AddBackward's upstream gradient.
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with trace_backward() as t:
        ((x + 1) * 2).sum().backward()
    ((x + 1) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [4.0, 4.0])
    assert t[2].op == "AddBackward"
    np.testing.assert_array_equal(t[2].grad, [2.0, 2.0])


def test_tensor_rules_come_from_the_op_docstring():
    class Cube(cr.autograd.Function):
        """x**3;  d/dx = 3 x**2.  More detail that is not the rule."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.array**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2

    class Undocumented(Cube):
        pass

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    m = cr.tensor([[1.0], [2.0]], requires_grad=True)
    with trace_backward() as t:
        (Cube.apply(x).log() + Undocumented.apply(x)).matmul(m).sum().backward()
    rules = {s.op: s.rule for s in t}
    assert rules["CubeBackward"] == "d/dx = 3 x**2"
    assert rules["UndocumentedBackward"] == "UndocumentedBackward"
    assert rules["LogBackward"] == "d/dx = 1 / x"  # the sentence after it is left out
    assert rules["MatMulBackward"] == "MatMulBackward"  # its docstring states no rule

    with trace_backward() as t:  # "(dim=0; likewise ...);  the gradient ...": the ";  " counts
        cr.gather(m, 0, cr.tensor([[1], [0]], dtype=cr.int64)).sum().backward()
    assert t[1].rule == "the gradient is scatter-added back along dim"


def test_grad_with_inputs_traces_only_the_part_it_runs():
    x, y = cr.tensor(2.0, requires_grad=True), cr.tensor(3.0, requires_grad=True)
    z = x * y + y.exp()
    with trace_backward(names={x: "x", y: "y"}) as t:
        (gx,) = cr.autograd.grad(z, [x])
    assert float(gx) == 3.0
    assert [s.op for s in t] == ["AddBackward", "MulBackward"]  # exp leads only to y: not run
    assert t[0].inputs == ("#2", "ExpBackward")
    assert "ExpBackward += 1" in str(t)


# ------------------------------------------------------------ observers cleaned up


def test_nested_traces_both_record_and_leave_no_observer():
    x = Value(2.0)
    with trace_backward() as outer:
        (x * x).backward()
        with trace_backward() as inner:
            (x + 1).backward()
        assert len(_observers.active) == 1
    assert [s.op for s in outer] == ["*", "+"] and [s.op for s in inner] == ["+"]


def test_overlapping_traces_leave_no_observer():
    x = Value(2.0)
    first, second = trace_backward(), trace_backward()
    a = first.__enter__()
    (x * 3).backward()
    b = second.__enter__()
    first.__exit__(None, None, None)  # closed before the one opened after it
    (x + 3).backward()
    second.__exit__(None, None, None)
    assert [s.op for s in a] == ["*"] and [s.op for s in b] == ["+"]


def test_an_exception_in_the_block_or_in_backward_leaves_no_observer():
    x = Value(2.0)
    with pytest.raises(ZeroDivisionError):
        with trace_backward():
            (x * 2).backward()
            1 / 0
    assert _observers.active == []

    w = cr.tensor([1.0], requires_grad=True)
    w.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError), ExitStack() as stack:
        stack.enter_context(trace_backward())
        (w * 2).sum().backward()
    assert _observers.active == []


# ------------------------------------------------------------ formatting


def test_markdown_table():
    x, t = seed_trace()
    lines = t.to_markdown().splitlines()
    assert lines[:4] == [
        "| step | op | value | grad | rule | contributions |",
        "|---:|---|---:|---:|---|---|",
        "| #1 | `*` | 15 | 1 | `d(a*b)/da = b, d(a*b)/db = a` | #2 += 3, x += 5 |",
        "| #2 | `+` | 5 | 3 | `d(a+b)/da = 1, d(a+b)/db = 1` | x += 3 |",
    ]
    assert lines[4:] == ["", "Leaves:", "", "- x.grad += 5 + 3 = 8"]
    y = Value(1.0, (x,), "|x|", (1.0,))
    with trace_backward() as t:
        y.backward()
    assert "`\\|x\\|`" in t.to_markdown()  # a pipe would end the cell


def test_long_input_lists_are_shortened_in_the_table_only():
    ws, xs = [Value(0.1 * i) for i in range(10)], [Value(1.0) for _ in range(10)]
    out = weighted_sum(ws, xs, Value(0.0))
    with trace_backward() as t:
        out.backward()
    assert len(t[0].inputs) == 21
    assert str(t).splitlines()[1].endswith("h += 1, ... 13 more")
    assert t.to_text(max_inputs=None).splitlines()[1].endswith("u += 1")
    assert "... 19 more" in t.to_markdown(max_inputs=2)

    x = Value(0.5)
    total = sum((x * float(i) for i in range(1, 11)), Value(0.0))  # x in 10 steps
    with trace_backward(names={x: "x"}) as t:
        total.backward()
    assert str(t).endswith("x.grad += 10 contributions, total 55")
    assert t.to_text(max_inputs=None).endswith("x.grad += 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 = 55")


def test_an_empty_trace_says_what_to_do():
    with trace_backward() as t:
        pass
    assert len(t) == 0 and list(t) == [] and t.leaves() == []
    assert str(t) == t.to_markdown() == (
        "no backward steps recorded: call .backward() inside the with-block")


def test_the_guide_shows_the_table_the_code_prints():
    text_blocks = re.findall(r"```text\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert text_blocks[0].rstrip("\n") == SEED_TABLE


# ------------------------------------------------------------ bad input


@pytest.mark.parametrize("kwargs, message", [
    ({"names": ["x"]}, r"trace_backward: names= must be a dict from Value or Tensor to str, "
                       r"got list \['x'\]; e\.g\. names=\{x: 'x'\}"),
    ({"names": {"x": "x"}}, r"trace_backward: names= keys must be Values or Tensors, got str 'x' "
                            r"\(named 'x'\); use the object itself"),
    ({"names": {Value(1.0): 1}}, r"trace_backward: names= values must be str, got int 1 for "
                                 r"Value\(data=1\.0000, grad=0\.0000\)"),
    ({"model": 3}, r"trace_backward: model= must be a chainrule.nn.Module \(something with "
                   r"named_parameters\(\)\), got int 3; for Values, pass names="),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(TypeError, match=message):
        with trace_backward(**kwargs):
            pass
