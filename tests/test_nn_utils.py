"""chainrule.nn.utils against torch.nn.utils: parameters as a vector and back, padding
sequences (values, gradients, second order, finite differences), the two halves of
clip_grad_norm_, and their errors."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.nn.utils import (clip_grad_norm_, clip_grads_with_norm_, get_total_norm,
                                parameters_to_vector, vector_to_parameters)
from chainrule.nn.utils.rnn import pad_sequence, unpad_sequence
from chainrule.testing import gradcheck, gradgradcheck

SHAPES = [(2, 3), (4,), (), (1, 2, 2)]


def pairs(shapes=SHAPES, seed=0, requires_grad=True):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    return ([cr.tensor(a, requires_grad=requires_grad) for a in arrays],
            [torch.tensor(a, requires_grad=requires_grad) for a in arrays])


# -------------------------------------------------------- parameters_to_vector

def test_parameters_to_vector_matches_torch_with_its_gradient():
    ours, theirs = pairs()
    vector, expected = parameters_to_vector(ours), torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vector.array, expected.detach().numpy())
    weights = np.arange(vector.shape[0], dtype=np.float64)
    (vector * cr.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.array, t.grad.numpy())


def test_parameters_to_vector_of_a_module_and_finite_differences():
    net = cr.nn.Linear(3, 2).double()
    assert parameters_to_vector(net.parameters()).shape == (8,)
    inputs = tuple(pairs()[0])
    assert gradcheck(lambda *ps: parameters_to_vector(ps) ** 2, inputs)
    assert gradgradcheck(lambda *ps: parameters_to_vector(ps) ** 3, inputs)


def test_vector_to_parameters_matches_torch():
    ours, theirs = pairs(requires_grad=False)
    vec = np.linspace(-1.0, 1.0, 20)  # 4 more values than the parameters need: left unused
    vector_to_parameters(cr.tensor(vec), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(vec), theirs)
    for p, t in zip(ours, theirs):
        assert tuple(p.shape) == tuple(t.shape)
        np.testing.assert_array_equal(p.array, t.numpy())


def test_vector_to_parameters_round_trips_a_module():
    net, other = cr.nn.Linear(3, 2), cr.nn.Linear(3, 2)
    vector_to_parameters(parameters_to_vector(net.parameters()).detach(), other.parameters())
    x = cr.randn(4, 3)
    np.testing.assert_array_equal(net(x).array, other(x).array)
    assert other.weight.requires_grad and other.weight.is_leaf


@pytest.mark.parametrize("call, error, message", [
    (lambda: vector_to_parameters([1.0, 2.0], [cr.zeros(2)]), TypeError,
     "vector_to_parameters: expected torch.Tensor, but got: list"),
    (lambda: vector_to_parameters(cr.zeros(3), [cr.zeros(2), cr.zeros(2)]), RuntimeError,
     "vector_to_parameters: vec has 3 elements but the parameters have 4 in all "
     "(shapes [(2,), (2,)])"),
    (lambda: vector_to_parameters(cr.zeros(2, 2), [cr.zeros(4)]), RuntimeError,
     "vector_to_parameters: vec must be a 1-d Tensor, got shape (2, 2)"),
    (lambda: parameters_to_vector([cr.zeros(2), 3.0]), TypeError,
     "parameters_to_vector: parameter 1 is a float, not a Tensor"),
    (lambda: parameters_to_vector([]), RuntimeError,
     "parameters_to_vector: expected a non-empty list of parameters"),
])
def test_conversion_errors(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value)


# ---------------------------------------------------------------- pad_sequence

PAD_CASES = [
    ([(3,), (1,), (4,)], {}),
    ([(3,), (1,), (4,)], {"batch_first": True, "padding_value": -2.5}),
    ([(2, 3), (5, 3), (0, 3)], {}),  # an empty sequence is all padding
    ([(2, 3, 2), (1, 3, 2)], {"batch_first": True}),
    ([(3,), (1,), (4,)], {"padding_side": "left"}),
    ([(2, 3), (5, 3)], {"batch_first": True, "padding_side": "left", "padding_value": 7.0}),
    ([(4, 2)], {}),
    ([(3, 2), (3, 2)], {"batch_first": True}),
]


@pytest.mark.parametrize("shapes, kwargs", PAD_CASES, ids=[f"{s}-{k}" for s, k in PAD_CASES])
def test_pad_sequence_matches_torch_with_gradients(shapes, kwargs):
    ours, theirs = pairs(shapes, seed=1)
    out = pad_sequence(ours, **kwargs)
    expected = torch.nn.utils.rnn.pad_sequence(theirs, **kwargs)
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(out.array, expected.detach().numpy())
    weights = np.random.default_rng(2).standard_normal(out.shape)
    (out * cr.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.array, t.grad.numpy())


@pytest.mark.parametrize("kwargs", [{}, {"batch_first": True, "padding_side": "left"}])
def test_pad_sequence_finite_differences_and_second_order(kwargs):
    inputs = tuple(pairs([(3, 2), (1, 2), (2, 2)], seed=3)[0])
    assert gradcheck(lambda *seqs: pad_sequence(seqs, **kwargs) ** 2, inputs)
    assert gradgradcheck(lambda *seqs: pad_sequence(seqs, **kwargs) ** 3, inputs)


def test_pad_sequence_dtypes_as_torch():
    """The first sequence's dtype, the others cast to it; the padding value cast too."""
    ints = [np.array([1, 2]), np.array([3, 4, 5])]
    ours = pad_sequence([cr.tensor(a) for a in ints], padding_value=0.5)
    expected = torch.nn.utils.rnn.pad_sequence([torch.tensor(a) for a in ints], padding_value=0.5)
    assert ours.dtype == np.int64 and ours.tolist() == expected.tolist()
    mixed = pad_sequence([cr.tensor([1.0]), cr.tensor(np.array([2.0, 3.0]))])
    assert mixed.dtype == np.float32
    assert pad_sequence(cr.tensor([[1.0, 2.0], [3.0, 4.0]])).shape == (2, 2)  # a tensor's rows


@pytest.mark.parametrize("call, error, message", [
    (lambda: pad_sequence([]), RuntimeError, "pad_sequence: received an empty list of sequences"),
    (lambda: pad_sequence([cr.zeros(2)], padding_side="middle"), RuntimeError,
     "pad_sequence: Expected padding_side to be one of left or right, but got middle."),
    (lambda: pad_sequence([cr.zeros(2, 3), cr.zeros(2, 4)]), RuntimeError,
     "pad_sequence: sequence 1 has shape (2, 4) but sequence 0 has (2, 3); all must agree "
     "beyond the first (time) dimension"),
    (lambda: pad_sequence([cr.zeros(2), [1.0]]), TypeError,
     "pad_sequence: sequence 1 is a list, not a Tensor"),
    (lambda: pad_sequence([cr.tensor(1.0)]), RuntimeError, "pad_sequence: sequence 0 is 0-d"),
])
def test_pad_sequence_errors(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_undoes_pad_sequence_as_torch(batch_first):
    ours, theirs = pairs([(3, 2), (1, 2), (4, 2)], seed=4)
    lengths = [3, 1, 4]
    got = unpad_sequence(pad_sequence(ours, batch_first=batch_first), cr.tensor(lengths),
                         batch_first=batch_first)
    expected = torch.nn.utils.rnn.unpad_sequence(
        torch.nn.utils.rnn.pad_sequence(theirs, batch_first=batch_first), torch.tensor(lengths),
        batch_first=batch_first)
    for g, e, p in zip(got, expected, ours):
        np.testing.assert_array_equal(g.array, e.detach().numpy())
        np.testing.assert_array_equal(g.array, p.array)
    sum(g.sum() for g in got).backward()
    assert all(np.array_equal(p.grad.array, np.ones(p.shape)) for p in ours)


# ---------------------------------------------- get_total_norm, clip_grads_with_norm_

@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
def test_total_norm_then_clip_is_clip_grad_norm_as_in_torch(norm_type):
    ours, theirs = pairs(seed=5)
    rng = np.random.default_rng(6)
    for p, t in zip(ours, theirs):
        g = rng.standard_normal(p.shape)
        p.grad, t.grad = cr.tensor(g), torch.tensor(g)
    total = get_total_norm([p.grad for p in ours], norm_type=norm_type)
    expected = torch.nn.utils.get_total_norm([t.grad for t in theirs], norm_type=norm_type)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-13)
    clip_grads_with_norm_(ours, 0.5, total, foreach=None)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.5, expected)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.array, t.grad.numpy(), rtol=1e-13)
    again, _ = pairs(seed=5)
    for p, q in zip(again, ours):
        p.grad = cr.tensor(np.array(q.grad.array))
    assert clip_grad_norm_(again, 1e9, norm_type=norm_type, foreach=False).item() <= 0.5 + 1e-9


def test_total_norm_of_nothing_and_its_errors():
    assert get_total_norm([]).item() == torch.nn.utils.get_total_norm([]).item() == 0.0
    with pytest.raises(TypeError, match="get_total_norm: tensor 1 is a float, not a Tensor"):
        get_total_norm([cr.zeros(2), 1.0])
    with pytest.raises(RuntimeError, match="get_total_norm: The total norm of order 2.0 for "
                                           "gradients from `parameters` is non-finite"):
        get_total_norm(cr.tensor([1.0, float("nan")]), error_if_nonfinite=True)
