"""Engine mechanics from the house-order issue: in-place copies only where saved, gradient sums."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd.graph import OutputGrads


def test_in_place_copies_old_values_only_when_a_new_node_saved_them():
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = cr.tensor([2.0, 3.0, 4.0], requires_grad=True)
    y = a * 1.0  # a non-leaf we may change in place
    before = y.array
    y.mul_(x)  # Mul saves the old y for d/dx
    assert y.array is before  # written in place, not rebound
    y.sum().backward()
    ta = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tx = torch.tensor([2.0, 3.0, 4.0], requires_grad=True)
    ty = ta * 1.0
    ty.mul_(tx)
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())


def test_in_place_add_records_no_copy():
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2
    y.add_(1.0)
    node = y.grad_fn
    assert node.op_name == "Add"
    assert all(not isinstance(t, cr.Tensor) or t is not y for t, _ in node._saved)


def test_older_saved_value_changed_in_place_still_errors():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    y = a * 1.0
    z = y * y  # saves y
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_fan_in_sums_are_right_without_and_with_create_graph():
    x = cr.tensor([0.5, -1.5], requires_grad=True)
    y = x * x + x * 3 + x.exp()  # three paths meet at x
    (g,) = cr.autograd.grad(y.sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * x.array + 3 + np.exp(x.array), rtol=1e-6)
    (h,) = cr.autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(h.numpy(), 2 + np.exp(x.array), rtol=1e-6)


def test_fan_in_sum_never_writes_into_a_gradient_someone_holds():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * 1.0
    y.register_hook(lambda g: seen.append(g.array.copy()) or None)
    (y + y + y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(seen[0], [3.0, 3.0])


def test_output_grads_add_output_by_output():
    one = cr.tensor([1.0])
    a = OutputGrads.one(one, 0, 2)
    b = OutputGrads.one(one * 2, 1, 2)
    c = a + b + OutputGrads.one(one * 3, 0, 2)
    assert c.grads[0].tolist() == [4.0] and c.grads[1].tolist() == [2.0]
