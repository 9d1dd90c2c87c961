"""Shape, view, split and join ops beyond PyTorch's OpInfo samples.

The OpInfo report (``python -m tests.opinfo.report``) checks these ops'
values and gradients on PyTorch's own samples. Here: cases the samples leave
out (checked against PyTorch), the ops behind the device seam (every array
through the backend, forward, backward and double backward), and the error
messages.
"""

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.checking_backend import CheckedArray, checked_tensor, installed, violations

# ------------------------------------------------------------ against PyTorch

CASES = {
    "tensor_split_out_of_order": (lambda m, x: m.tensor_split(x, [3, 1]), [(5,)]),
    "tensor_split_negative_and_past_end": (lambda m, x: m.tensor_split(x, [-1, 7]), [(5,)]),
    "tensor_split_sections_uneven": (lambda m, x: m.tensor_split(x, 3, dim=1), [(2, 7)]),
    "flip_varargs": (lambda m, x: x.flip(0, 1), [(2, 3)]),
    "roll_flattened": (lambda m, x: m.roll(x, 2), [(2, 3)]),
    "roll_two_dims": (lambda m, x: m.roll(x, (1, -2), (0, 1)), [(3, 4)]),
    "rot90_odd": (lambda m, x: m.rot90(x, 3, (1, 0)), [(2, 3)]),
    "diag_embed_outer_dims": (lambda m, x: m.diag_embed(x, 1, 0, 2), [(2, 3)]),
    "diagonal_negative_offset_3d": (lambda m, x: m.diagonal(x, -1, 2, 0), [(3, 2, 4)]),
    "diagonal_scatter_3d": (lambda m, x, s: m.diagonal_scatter(x, s, 1, 0, 2), [(3, 2, 4), (2, 3)]),
    "block_diag_mixed_ranks": (lambda m, a, b, c: m.block_diag(a, b, c), [(), (3,), (2, 2)]),
    "cartesian_prod_three": (lambda m, a, b, c: m.cartesian_prod(a, b, c), [(2,), (3,), (1,)]),
    "meshgrid_xy_three": (lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy"),
                          [(2,), (3,), (4,)]),
    "repeat_new_dims": (lambda m, x: x.repeat(2, 1, 3), [(2, 2)]),
    "tile_short_dims": (lambda m, x: m.tile(x, (2,)), [(2, 3)]),
    "repeat_interleave_one_count": (
        lambda m, x: m.repeat_interleave(x, m.tensor([2]), dim=0), [(3, 2)]),
    "unfold_overlapping": (lambda m, x: x.unfold(1, 3, 1), [(2, 5)]),
    "movedim_several": (lambda m, x: m.movedim(x, (0, 2), (2, 0)), [(2, 3, 4)]),
    "column_stack_mixed": (lambda m, a, b: m.column_stack([a, b]), [(3,), (3, 2)]),
    "dstack_matrices": (lambda m, a, b: m.dstack([a, b]), [(2, 3), (2, 3)]),
}


def _run(module, fn, arrays):
    xs = [module.tensor(a, requires_grad=True) for a in arrays]
    out = fn(module, *xs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    rng = np.random.default_rng(0)
    total = sum((o * module.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outs)
    grads = (torch.autograd.grad if module is torch else cr.autograd.grad)(
        total, xs, allow_unused=True)
    as_array = lambda t: t.detach().numpy()
    return ([as_array(o) for o in outs],
            [np.zeros(a.shape) if g is None else as_array(g) for g, a in zip(grads, arrays)])


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_pytorch(name):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(len(name))
    arrays = [rng.standard_normal(shape) for shape in shapes]
    ours, ours_grads = _run(cr, fn, arrays)
    theirs, their_grads = _run(torch, fn, arrays)
    assert len(ours) == len(theirs)
    for o, t in zip(ours + ours_grads, theirs + their_grads):
        assert o.shape == t.shape
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-12)


def test_cat_promotes_as_pytorch_and_leaves_out_1d_empty_tensors():
    ints, floats = cr.tensor([[1, 2]]), cr.tensor([[0.5, 1.5]], requires_grad=True)
    joined = cr.cat([cr.zeros(0), ints, floats])
    assert joined.dtype == np.float32  # torch: int64 with float32 gives float32
    (joined * joined).sum().backward()
    assert floats.grad.dtype == np.float32
    np.testing.assert_array_equal(floats.grad.numpy(), [[1.0, 3.0]])


def test_resize_keeps_the_leading_elements_and_bumps_the_version():
    x = cr.arange(6.0)
    version = x._version[0]
    assert x.resize_(2, 2).tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert x._version[0] == version + 1
    assert x.resize_as_(cr.zeros(5)).shape == (5,)


def test_repeat_interleave_of_counts_alone():
    assert cr.repeat_interleave(cr.tensor([1, 0, 2])).tolist() == [0, 2, 2]


def test_copies_own_their_memory():
    x = cr.arange(6.0).reshape(2, 3)
    for copy in (cr.permute_copy(x, (1, 0)), cr.view_copy(x, (6,)), cr.t_copy(x),
                 cr.diagonal_copy(x), cr.unfold_copy(x, 1, 2, 1), cr.alias_copy(x)):
        assert not np.shares_memory(copy.numpy(), x.numpy())


# ------------------------------------------------------------ the device seam

SEAM = {
    "views": lambda x: (x.select(1, 2) + x.narrow(0, 1, 1).sum() + cr.ravel(x.t())[:3]
                        + x.unfold(1, 2, 1).sum((0, 2))).sum(),
    "diagonals": lambda x: (cr.diag(x) ** 2).sum() + cr.diag_embed(x).sum()
    + (cr.tril(x, 1) * cr.triu(x)).sum() + cr.diagonal_scatter(x, x[0, :3] ** 2).sum(),
    "scatters": lambda x: (cr.select_scatter(x, x[1] ** 2, 0, 0)
                           * cr.slice_scatter(x, x[:, :2] ** 2, 1, 1, 3)).sum(),
    "reorder": lambda x: (cr.flip(x, (0, 1)) * cr.roll(x, 1, 1) * cr.rot90(x, 2)).sum(),
    "repeats": lambda x: (x.repeat(2, 1) ** 2).sum() + (cr.tile(x, (2,)) ** 2).sum()
    + (cr.repeat_interleave(x, cr.tensor([1, 0, 2]), dim=0) ** 2).sum(),
    "grids": lambda x: sum((g ** 2).sum() for g in cr.meshgrid(x[0], x[1], indexing="xy"))
    + (cr.combinations(x[0], 2) ** 2).sum() + (cr.cartesian_prod(x[0], x[1]) ** 2).sum(),
    "stacks": lambda x: (cr.block_diag(x, x[0]) ** 2).sum() + (cr.column_stack([x[0], x[1]])
                                                                ** 2).sum()
    + sum((piece ** 3).sum() for piece in cr.tensor_split(x, [1, 3], dim=1)),
}


@pytest.mark.parametrize("name", sorted(SEAM))
def test_ops_go_through_the_device_seam(name):
    rng = np.random.default_rng(1)
    array = rng.standard_normal((3, 4))
    with installed():
        x = checked_tensor(array, requires_grad=True)
        out = SEAM[name](x) ** 2  # squared, so that the gradient depends on x
        (grad,) = cr.autograd.grad(out, [x], create_graph=True)
        (second,) = cr.autograd.grad((grad ** 2).sum(), [x], allow_unused=True)
    assert not violations
    assert type(out.array) is CheckedArray and type(grad.array) is CheckedArray
    assert second is None or type(second.array) is CheckedArray


# ------------------------------------------------------------ errors

x23 = cr.zeros(2, 3)

ERRORS = [
    ("narrow_past_end", lambda: x23.narrow(1, 2, 2), RuntimeError,
     r"narrow: start \(2\) \+ length \(2\) exceeds the size 3 of dimension 1"),
    ("select_index", lambda: x23.select(0, 2), IndexError,
     r"select: index 2 is out of range for dimension 0 of size 2"),
    ("t_3d", lambda: cr.zeros(1, 2, 3).t(), ValueError,
     r"t: expects a tensor with at most 2 dimensions, got shape \(1, 2, 3\)"),
    ("unflatten_sizes", lambda: x23.unflatten(1, (2, 2)), ValueError,
     r"unflatten: sizes \(2, 2\) do not multiply to 3"),
    ("sum_to_size", lambda: x23.sum_to_size(2, 2), ValueError,
     r"sum_to_size: size \(2, 2\) is not expandable to the tensor's shape \(2, 3\)"),
    ("unfold_size", lambda: x23.unfold(1, 4, 1), RuntimeError,
     r"unfold: size 4 must be in \[0, 3\]"),
    ("movedim_lengths", lambda: cr.movedim(x23, (0, 1), 0), ValueError,
     r"movedim: source \(0, 1\) and destination 0 must name the same number"),
    ("diagonal_same_dims", lambda: x23.diagonal(0, 1, 1), ValueError,
     r"diagonal: dim1 and dim2 must be different dimensions, both are 1"),
    ("diagonal_scatter_src", lambda: cr.diagonal_scatter(x23, cr.zeros(3)), ValueError,
     r"diagonal_scatter: src has shape \(3,\), but diagonal.* has shape \(2,\)"),
    ("select_scatter_src", lambda: cr.select_scatter(x23, cr.zeros(2), 0, 0), ValueError,
     r"select_scatter: src has shape \(2,\), but input.select\(dim, index\) has shape \(3,\)"),
    ("diag_3d", lambda: cr.diag(cr.zeros(1, 1, 1)), ValueError,
     r"diag: expects a 1-d or 2-d tensor, got shape \(1, 1, 1\)"),
    ("tril_1d", lambda: cr.tril(cr.zeros(3)), ValueError,
     r"tril: expects a tensor with at least 2 dimensions"),
    ("fliplr_1d", lambda: cr.fliplr(cr.zeros(3)), ValueError,
     r"fliplr: expects at least 2 dimensions, got shape \(3,\)"),
    ("flip_repeat", lambda: x23.flip(0, -2), ValueError, r"flip: dims \(0, -2\) repeat"),
    ("roll_lengths", lambda: cr.roll(x23, (1, 2), 0), ValueError,
     r"roll: shifts \(1, 2\) and dims \(0,\) must have the same length"),
    ("repeat_too_few", lambda: x23.repeat(2), ValueError,
     r"repeat: 1 repeats given for a tensor of 2 dimensions"),
    ("repeat_interleave_counts", lambda: cr.repeat_interleave(x23, cr.tensor([1, 2]), dim=1),
     ValueError, r"repeat_interleave: repeats has 2 counts for dimension 1 of size 3"),
    ("broadcast_shapes", lambda: cr.broadcast_shapes((2, 3), (4,)), ValueError,
     r"broadcast_shapes: shapes \(2, 3\), \(4,\) cannot be broadcast together"),
    ("meshgrid_indexing", lambda: cr.meshgrid(cr.zeros(2), indexing="yx"), ValueError,
     r'meshgrid: indexing must be "ij" or "xy"'),
    ("meshgrid_2d", lambda: cr.meshgrid(x23), ValueError,
     r"meshgrid: expects 0-d or 1-d tensors, got \(2, 3\) at position 0"),
    ("combinations_2d", lambda: cr.combinations(x23), ValueError,
     r"combinations: expects a 1-d tensor, got shape \(2, 3\)"),
    ("block_diag_3d", lambda: cr.block_diag(cr.zeros(1, 1, 1)), ValueError,
     r"block_diag: argument 0 has shape \(1, 1, 1\); expected at most 2 dimensions"),
    ("hsplit_uneven", lambda: cr.hsplit(x23, 2), ValueError,
     r"hsplit: cannot split dimension 1 of size 3 into 2 equal sections"),
    ("vsplit_1d", lambda: cr.vsplit(cr.zeros(4), 2), ValueError,
     r"vsplit: expects a tensor with at least 2 dimensions, got shape \(4,\)"),
    ("tensor_split_sections", lambda: cr.tensor_split(x23, 0), ValueError,
     r"tensor_split: the number of sections must be positive, got 0"),
    ("cat_ranks", lambda: cr.cat([x23, cr.zeros(2)]), ValueError,
     r"cat: tensors 0 and 1 have 2 and 1 dimensions"),
    ("resize_requires_grad", lambda: cr.zeros(2, requires_grad=True).resize_(3), RuntimeError,
     r"resize_: cannot resize a tensor that requires grad"),
]


@pytest.mark.parametrize("name, call, error, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_op_and_the_problem(name, call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_picking_from_a_0d_tensor_is_an_error_as_in_pytorch():
    for call in (lambda: cr.tensor(1.0).select(0, 0), lambda: cr.tensor(1.0).narrow(0, 0, 1),
                 lambda: cr.select_scatter(cr.tensor(1.0), cr.tensor(2.0), 0, 0)):
        with pytest.raises(IndexError, match="0-d"):
            call()
