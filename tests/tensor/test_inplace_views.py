"""In-place changes through views made by indexing write through to the base, as in PyTorch."""

import numpy as np
import pytest
import torch

import chainrule as cr


def run(lib, x0):
    x = lib.tensor(x0, requires_grad=True)
    y = x * 2
    y[0] += x[1]          # getitem view, += through it, then setitem
    v = y[:, 1]
    v.mul_(3)             # in-place on a column view
    y[1, 0] = x[0, 0] ** 2
    (y ** 2).sum().backward()
    return y.detach().numpy() if lib is torch else y.array, x.grad.numpy() if lib is torch else x.grad.array


def test_in_place_through_views_matches_pytorch():
    x0 = np.array([[1.0, 2.0], [3.0, 4.0]])
    ours_y, ours_grad = run(cr, x0)
    theirs_y, theirs_grad = run(torch, x0)
    np.testing.assert_allclose(ours_y, theirs_y)
    np.testing.assert_allclose(ours_grad, theirs_grad)


def test_views_other_than_indexing_refuse_in_place_changes_with_a_clear_message():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    with pytest.raises(RuntimeError, match="only views made by basic indexing"):
        y.T.add_(1)
    np.testing.assert_array_equal(y.array, [[1.0, 2.0], [3.0, 4.0]])
