"""Ops with several outputs against PyTorch: split, chunk, unbind, max and min along a dim.

Each is one graph node with one output per piece (values and indices for
max/min), as PyTorch's ``SplitBackward0``; its backward gets one gradient
per output, ``None`` for outputs that were not used. Checked in float64
against torch: the values, the index outputs, gradients when only some
outputs are used, second derivatives (Hessian-vector products) and finite
differences (``gradcheck``/``gradgradcheck``), then hooks, ``retain_grad``
and ``autograd.grad`` on one output of such a node, views, and memory.
"""

import tracemalloc

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.testing import gradcheck, gradgradcheck
from tests.tensor.parity import check_op, random_inputs


def distinct(rng, shape):
    """Values at least 1e-2 apart, so no max or min is tied."""
    count = int(np.prod(shape))
    return rng.permutation(np.linspace(-2, 2, count) if count > 1 else np.ones(count)) \
        .reshape(shape)


# name: (ours, theirs, input shape, domain); each returns a tuple of outputs
CASES = {
    "split_size": (lambda a: a.split(2), lambda a: a.split(2), (5, 3), (-2, 2)),
    "split_sections_negative_dim": (lambda a: cr.split(a, [1, 0, 2], dim=-1),
                                    lambda a: torch.split(a, [1, 0, 2], dim=-1), (2, 3), (-2, 2)),
    "split_size_one_dim": (lambda a: a.split(1, dim=1), lambda a: a.split(1, dim=1), (3, 1, 2),
                           (-2, 2)),
    "split_zero_size_dim": (lambda a: a.split(2), lambda a: a.split(2), (0, 3), (-2, 2)),
    "split_empty_pieces": (lambda a: a.split(1), lambda a: a.split(1), (3, 0), (-2, 2)),
    "chunk_three": (lambda a: cr.chunk(a, 3), lambda a: torch.chunk(a, 3), (5, 3), (-2, 2)),
    "chunk_negative_dim": (lambda a: a.chunk(2, -1), lambda a: a.chunk(2, -1), (2, 3, 5),
                           (-2, 2)),
    "chunk_fewer_pieces": (lambda a: a.chunk(4), lambda a: a.chunk(4), (6,), (-2, 2)),
    "chunk_zero_size_dim": (lambda a: a.chunk(3, dim=1), lambda a: a.chunk(3, dim=1), (2, 0),
                            (-2, 2)),
    "unbind": (lambda a: cr.unbind(a), lambda a: torch.unbind(a), (3, 4), (-2, 2)),
    "unbind_negative_dim": (lambda a: a.unbind(-1), lambda a: a.unbind(-1), (2, 3, 4), (-2, 2)),
    "unbind_size_one_dim": (lambda a: a.unbind(1), lambda a: a.unbind(1), (3, 1), (-2, 2)),
    "unbind_1d": (lambda a: a.unbind(), lambda a: a.unbind(), (4,), (-2, 2)),
    "unbind_empty_slices": (lambda a: a.unbind(0), lambda a: a.unbind(0), (2, 0), (-2, 2)),
    "max_dim": (lambda a: a.max(1), lambda a: a.max(1), (3, 4), distinct),
    "max_negative_dim_keepdim": (lambda a: cr.max(a, -1, keepdim=True),
                                 lambda a: torch.max(a, -1, keepdim=True), (2, 3, 4), distinct),
    "max_size_one_dim": (lambda a: a.max(1), lambda a: a.max(1), (3, 1), distinct),
    "max_zero_size_other_dim": (lambda a: a.max(1), lambda a: a.max(1), (0, 3), distinct),
    "max_0d": (lambda a: a.max(0), lambda a: a.max(0), (), distinct),
    "min_dim": (lambda a: a.min(0), lambda a: a.min(0), (3, 4), distinct),
    "min_negative_dim": (lambda a: cr.min(a, dim=-2), lambda a: torch.min(a, dim=-2),
                         (2, 3, 4), distinct),
    "min_0d_keepdim": (lambda a: a.min(-1, True), lambda a: a.min(-1, True), (), distinct),
}


def inputs_for(name, seed=0):
    _, _, shape, domain = CASES[name]
    return random_inputs([shape], domain, seed=seed)


def floating(outputs):
    """Positions of the floating-point outputs (not max's indices), for either library."""
    return [i for i, o in enumerate(outputs) if is_float(o)]


def is_float(t):
    return t.dtype.is_floating_point if isinstance(t, torch.Tensor) else t.dtype.kind == "f"


@pytest.mark.parametrize("name", list(CASES))
def test_outputs_match_pytorch(name):
    ours, theirs, _, _ = CASES[name]
    (array,) = inputs_for(name)
    x = cr.tensor(array, dtype=cr.float64, requires_grad=True)
    outputs, expected = ours(x), theirs(torch.tensor(array, requires_grad=True))
    assert isinstance(outputs, tuple) and len(outputs) == len(expected)
    for out, e in zip(outputs, expected):
        assert tuple(out.shape) == tuple(e.shape)
        np.testing.assert_array_equal(out.array, e.detach().numpy())
        assert out.dtype == e.detach().numpy().dtype  # float64 values, int64 indices
        assert out.requires_grad == e.requires_grad
    if outputs:  # every output comes from one node, in order
        node = outputs[0].grad_fn
        assert node is not None and node.num_outputs == len(outputs)
        for position, out in enumerate(outputs):
            if out.requires_grad:
                assert out.grad_fn is node and out._output_nr == position
            else:
                assert out.grad_fn is None


def used_outputs(name):
    """Which outputs the loss uses: all, the first, the last, and a middle one."""
    ours, _, _, _ = CASES[name]
    (array,) = inputs_for(name)
    count = len(floating(ours(cr.tensor(array, dtype=cr.float64))))
    subsets = {"all": tuple(range(count))}
    if count > 1:
        subsets.update(first=(0,), last=(count - 1,))
    if count > 2:
        subsets["middle"] = (count // 2,)
    return subsets


def weighted_sum(pieces_fn, used):
    """sum_i (i + 1) * sum(output_i ** 3) over the used outputs: every output's gradient, and
    an output sent to the wrong place, shows; cubing makes the second derivative non-zero."""
    def loss(a):
        outputs = pieces_fn(a)
        chosen = [outputs[i] for i in floating(outputs)]
        total = (a * 0).sum()  # so a loss of no outputs is still a tensor
        for i in used:
            total = total + (chosen[i] ** 3).sum() * (i + 1)
        return total
    return loss


GRADIENT_CASES = [(name, subset) for name in CASES for subset in used_outputs(name)]


@pytest.mark.parametrize("name, subset", GRADIENT_CASES,
                         ids=[f"{n}-{s}" for n, s in GRADIENT_CASES])
def test_gradients_of_some_outputs_match_pytorch(name, subset):
    """Value, gradient and Hessian-vector product against torch, then finite differences;
    outputs left out of the loss reach backward as None."""
    ours, theirs, _, _ = CASES[name]
    used = used_outputs(name)[subset]
    check_op(weighted_sum(ours, used), weighted_sum(theirs, used), inputs_for(name, seed=1))


@pytest.mark.parametrize("name", list(CASES))
def test_gradcheck_of_all_outputs_at_once(name):
    ours, _, _, _ = CASES[name]
    (array,) = inputs_for(name, seed=2)
    x = cr.tensor(array, dtype=cr.float64, requires_grad=True)

    def cubed(a):
        return tuple(o ** 3 if is_float(o) else o for o in ours(a))

    assert gradcheck(cubed, (x,))
    assert gradgradcheck(cubed, (x,))


# -------------------------------------------------------- max and min along a dim


@pytest.mark.parametrize("op", ["max", "min"])
def test_gradient_through_values_and_indices(op):
    """The indices pick elements again (gather): the gradient flows through both outputs."""
    def program(lib, a):
        values, indices = getattr(a, op)(1)
        again = a.gather(1, indices.unsqueeze(1)).squeeze(1)
        return (values ** 2 * again).sum()

    check_op(lambda a: program(cr, a), lambda a: program(torch, a),
             random_inputs([(4, 5)], distinct, seed=3))


@pytest.mark.parametrize("op, values", [
    ("max", [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, -1.0, 5.0]]),
    ("min", [[1.0, 1.0, 3.0], [2.0, 2.0, 2.0], [0.0, 4.0, 0.0]]),
])
def test_ties_send_the_gradient_to_the_selected_index(op, values):
    array = np.array(values)
    x, t = cr.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    ours, theirs = getattr(x, op)(1), getattr(t, op)(1)
    np.testing.assert_array_equal(ours.indices.array, theirs.indices.numpy())
    (ours.values * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    (theirs.values * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.array, t.grad.numpy())
    assert (x.grad.array != 0).sum(axis=1).tolist() == [1, 1, 1]  # one element per row


def test_max_result_is_a_named_pair():
    x = cr.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    result = x.max(1)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert type(result).__name__ == "max" and type(x.min(1)).__name__ == "min"
    assert indices.dtype == np.int64 and not indices.requires_grad and indices.grad_fn is None
    assert values.grad_fn.name == "MaxBackward" and values.grad_fn.num_outputs == 2


def test_max_of_integers_carries_no_gradient():
    values, indices = cr.tensor([[1, 5], [7, 0]]).max(1)
    assert values.tolist() == [5, 7] and values.dtype == np.int64 and not values.requires_grad
    assert indices.tolist() == [1, 0]


# ------------------------------------------------- one output of a multi-output node


def test_hook_and_retain_grad_on_one_output():
    array = random_inputs([(6, 2)], seed=4)[0]

    def run(lib, x):
        a, b, c = x.chunk(3)
        b.retain_grad()
        seen = []
        a.register_hook(lambda g: seen.append(g.sum().item()) or g * 10)
        ((a * b).sum() + (c ** 2).sum() + b.sum()).backward()
        return x.grad, b.grad, seen, a

    ours = run(cr, cr.tensor(array, requires_grad=True))
    theirs = run(torch, torch.tensor(array, requires_grad=True))
    np.testing.assert_allclose(ours[0].array, theirs[0].numpy())  # the hook's * 10 included
    np.testing.assert_allclose(ours[1].array, theirs[1].numpy())  # retained on output 1 only
    np.testing.assert_allclose(ours[2], theirs[2])
    assert ours[3].grad is None  # output 0 did not retain its gradient


def test_removed_hook_on_one_output_no_longer_runs():
    x = cr.tensor(np.ones(4), requires_grad=True)
    first, second = x.split(2)
    handle = second.register_hook(lambda g: g * 3)
    handle.remove()
    (first.sum() + second.sum()).backward()
    np.testing.assert_array_equal(x.grad.array, [1, 1, 1, 1])


def test_grad_with_respect_to_output_one_of_a_multi_output_node():
    array = random_inputs([(3, 4)], seed=5)[0]

    def run(lib, x):
        a, b, c = x.unbind(0)
        y = (a * b).sum() + (b ** 3).sum() + c.sum()
        (gb,) = lib.autograd.grad(y, [b], create_graph=True)
        (gx,) = lib.autograd.grad((gb ** 2).sum(), [x])
        return gb, gx

    ours = run(cr, cr.tensor(array, requires_grad=True))
    theirs = run(torch, torch.tensor(array, requires_grad=True))
    np.testing.assert_allclose(ours[0].array, theirs[0].detach().numpy())
    np.testing.assert_allclose(ours[1].array, theirs[1].numpy())


def test_an_output_used_twice_and_another_unused():
    array = random_inputs([(5, 3)], seed=6)[0]
    for lib in (cr, torch):
        x = lib.tensor(array, requires_grad=True)
        a, _, c = x.split([2, 1, 2])
        ((a * c).sum() + (a ** 2).sum()).backward()
        if lib is cr:
            ours = x.grad.array
    np.testing.assert_allclose(ours, x.grad.numpy())
    assert (ours[2] == 0).all()


# ----------------------------------------------------------------- views


def test_pieces_are_views_sharing_the_version_counter():
    x = cr.tensor(np.arange(6.0))
    first, second = x.split(3)
    rows = cr.tensor(np.arange(6.0).reshape(2, 3)).unbind(0)
    assert first._version is x._version and second._view_of is x
    assert rows[1]._view_of is not None
    x.add_(1)
    assert first.tolist() == [1, 2, 3] and second._version[0] == 1
    second.mul_(2)  # writes through to x, as numpy and PyTorch views do
    assert x.tolist() == [1, 2, 3, 8, 10, 12]


def test_changing_a_piece_in_place_under_autograd_is_an_error():
    x = cr.tensor(np.ones(4), requires_grad=True)
    y = x * 1
    first, _ = y.split(2)
    with pytest.raises(RuntimeError, match="in-place"):
        first.mul_(2)


# ------------------------------------------------------------ one node, one array


def test_split_backward_makes_one_gradient_array_not_one_per_piece():
    """The old split (one Slice node per piece) made k arrays of x's size in backward."""
    x = cr.tensor(np.ones((256, 64)), requires_grad=True)
    pieces = x.chunk(16, dim=1)
    loss = pieces[0].sum()
    for piece in pieces[1:]:
        loss = loss + piece.sum()
    tracemalloc.start()
    try:
        loss.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * x.array.nbytes, f"backward peaked at {peak / x.array.nbytes:.1f} x's size"
    np.testing.assert_array_equal(x.grad.array, 1.0)


def test_node_protocol_of_a_multi_output_node():
    x = cr.tensor(np.ones((4, 3)), requires_grad=True)
    pieces = x.unbind(1)
    node = pieces[0].grad_fn
    assert node.name == "UnbindBackward" and node.num_outputs == 3
    assert node.inputs == (x,) and node.input_shapes == ((4, 3),)
    assert node.rule == ("(x[0], x[1], ...) along dim;  d/dx = their gradients stacked along "
                         "dim (0 where none).")


def test_unbind_of_an_empty_dim_is_empty():
    assert cr.zeros(0, 3).unbind(0) == ()
    with pytest.raises(ValueError, match="unbind: a 0-d tensor has no dimension to cut"):
        cr.tensor(1.0).unbind()
