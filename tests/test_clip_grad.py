"""Gradient clipping against torch.nn.utils: clipped values, returned norm, errors."""

import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.nn.utils import clip_grad_norm_, clip_grad_value_
from chainrule.tensor import Tensor

SHAPES = [(3,), (2, 3), (), (4, 1), (2,)]
NO_GRAD = 4  # this parameter has no gradient: both libraries skip it


def pairs(scale=1.0, dtype=np.float64, seed=0):
    """The same parameters with the same gradients, in each library."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES):
        p = cr.tensor(np.zeros(shape, dtype=dtype), requires_grad=True)
        t = torch.zeros(shape, dtype=torch.float64 if dtype == np.float64 else torch.float32,
                        requires_grad=True)
        if i != NO_GRAD:
            g = (scale * rng.standard_normal(shape)).astype(dtype)
            p.grad, t.grad = cr.tensor(g), torch.tensor(g)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def assert_same_grads(ours, theirs, rtol=1e-13):
    for p, t in zip(ours, theirs):
        if t.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.array, t.grad.numpy(), rtol=rtol, atol=1e-15)


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, "inf", 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = pairs()
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, Tensor) and total.shape == () and total.dtype == np.float64
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-13)
    assert_same_grads(ours, theirs)


def test_clip_grad_norm_float32():
    ours, theirs = pairs(dtype=np.float32)
    total = clip_grad_norm_(ours, 0.5)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    assert total.dtype == np.float32 and ours[0].grad.dtype == np.float32
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    assert_same_grads(ours, theirs, rtol=1e-6)


def test_clip_grad_norm_of_one_tensor_and_of_none():
    p = cr.tensor([3.0, 4.0], requires_grad=True)
    p.grad = cr.tensor(np.array([3.0, 4.0]))
    assert clip_grad_norm_(p, 1.0).item() == 5.0
    np.testing.assert_allclose(p.grad.array, [0.6, 0.8], rtol=1e-6)
    empty = clip_grad_norm_([cr.tensor([1.0], requires_grad=True)], 1.0)
    assert empty.item() == torch.nn.utils.clip_grad_norm_([], 1.0).item() == 0.0


def test_clip_grad_norm_of_a_read_only_grad():
    p = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    p.grad = Tensor._make(np.broadcast_to(np.array([3.0, 4.0, 0.0]), (2, 3)), False, None)
    clip_grad_norm_([p], 1.0)
    np.testing.assert_allclose(p.grad.array, np.array([[3.0, 4.0, 0.0]] * 2) / (50**0.5 + 1e-6))


def test_error_if_nonfinite():
    ours, theirs = pairs()
    ours[1].grad.array[0, 0] = theirs[1].grad[0, 0] = math.nan
    before = [None if p.grad is None else p.grad.array.copy() for p in ours]
    with pytest.raises(RuntimeError) as their_error:
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as error:
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert str(error.value) == "clip_grad_norm_: " + str(their_error.value)
    for p, grad in zip(ours, before):
        if grad is not None:
            np.testing.assert_array_equal(p.grad.array, grad)


def test_a_nonfinite_norm_without_the_error_spreads_as_in_torch():
    ours, theirs = pairs()
    ours[0].grad.array[1] = theirs[0].grad[1] = math.inf
    total = clip_grad_norm_(ours, 1.0, norm_type="inf")
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type="inf")
    assert total.item() == expected.item() == math.inf
    assert_same_grads(ours, theirs)


def test_clip_grad_value_matches_torch():
    ours, theirs = pairs(scale=2.0)
    assert clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    assert_same_grads(ours, theirs, rtol=0)
    assert max(np.abs(p.grad.array).max() for p in ours if p.grad is not None) == 0.7


@pytest.mark.parametrize("call, message", [
    (lambda ps: clip_grad_norm_(ps, -1.0),
     "clip_grad_norm_: max_norm must be a number >= 0, got -1.0"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type=0),
     "norm_type must be a positive number or inf, got 0"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type=-2.0), "got -2.0"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type="fro"), "got 'fro'"),
    (lambda ps: clip_grad_value_(ps, -0.5),
     "clip_grad_value_: clip_value must be a number >= 0, got -0.5"),
])
def test_bad_arguments(call, message):
    ours, _ = pairs()
    with pytest.raises(ValueError) as error:
        call(ours)
    assert message in str(error.value)


def test_parameters_must_be_tensors():
    with pytest.raises(TypeError, match="clip_grad_value_: parameter 1 is a ndarray, not a Tensor"):
        clip_grad_value_([cr.tensor([1.0], requires_grad=True), np.ones(2)], 1.0)
