"""Indexing and joining ops against PyTorch, from tables, plus their errors.

Each row's result is cubed before it is compared: indexing and joining are
linear, so their gradient alone is a constant and the second-derivative check
would never reach the backward's own backward (the scatter's getitem, pad's
negated pad). Cubing is one-to-one, so the forward check still sees every value.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.ops.indexing import gather, index_select
from chainrule.ops.joining import cat, chunk, split, stack
from chainrule.ops.padding import pad
from tests.tensor.parity import check_op, random_inputs


def cubed(fn):
    return lambda *xs: fn(*xs) ** 3


MASK = np.array([[True, False, True, False, False], [False] * 5,
                 [True, True, False, False, True], [False, False, False, True, False]])
NOTHING = np.zeros((4, 5), dtype=bool)

# name: (ours, theirs, input shapes)
GETITEM = {
    "int": (lambda a: a[1], lambda a: a[1], [(4, 5)]),
    "negative_int": (lambda a: a[-1, 2], lambda a: a[-1, 2], [(4, 5)]),
    "slices": (lambda a: a[1:3, ::2], lambda a: a[1:3, ::2], [(4, 5)]),
    "none_ellipsis_slice": (lambda a: a[None, ..., 1:], lambda a: a[None, ..., 1:], [(3, 4, 5)]),
    "ellipsis_int": (lambda a: a[..., 0], lambda a: a[..., 0], [(3, 4, 5)]),
    "step_minus_two": (lambda a: a[::-2], lambda a: torch.flip(a, [0])[::2], [(5, 3)]),
    "step_minus_one_inner": (lambda a: a[:, ::-1], lambda a: torch.flip(a, [1]), [(4, 5)]),
    "negative_step_bounds": (lambda a: a[3:0:-1], lambda a: torch.flip(a[1:4], [0]), [(5, 2)]),
    "repeated_ints": (lambda a: a[[0, 2, 0]], lambda a: a[[0, 2, 0]], [(4, 5)]),
    "negative_int_list": (lambda a: a[[-1, 0, -1]], lambda a: a[[-1, 0, -1]], [(4, 5)]),
    "int_array_2d": (lambda a: a[np.array([[0, 1], [1, 1]])],
                     lambda a: a[torch.tensor([[0, 1], [1, 1]])], [(3, 4)]),
    "int_tensor": (lambda a: a[cr.tensor([2, 0, 2])], lambda a: a[torch.tensor([2, 0, 2])],
                   [(3, 4)]),
    "bool_mask": (lambda a: a[MASK], lambda a: a[torch.tensor(MASK)], [(4, 5)]),
    "bool_tensor_mask": (lambda a: a[a > 0], lambda a: a[a > 0], [(4, 5)]),
    "bool_row_list": (lambda a: a[[True, False, True, True]],
                      lambda a: a[torch.tensor([True, False, True, True])], [(4, 5)]),
    "slice_then_array": (lambda a: a[1:, [0, 2, 2]], lambda a: a[1:, [0, 2, 2]], [(4, 5)]),
    "arrays_around_slice": (lambda a: a[[0, 1], :, [2, 2]], lambda a: a[[0, 1], :, [2, 2]],
                            [(3, 4, 5)]),
    "broadcast_arrays": (lambda a: a[[[0], [2]], [1, 3, 1]],
                         lambda a: a[[[0], [2]], [1, 3, 1]], [(4, 5)]),
    "int_and_mask": (lambda a: a[1, MASK[2]], lambda a: a[1, torch.tensor(MASK[2])], [(4, 5)]),
    "empty_slice": (lambda a: a[2:2], lambda a: a[2:2], [(4, 5)]),
    "empty_list": (lambda a: a[[]], lambda a: a[torch.tensor([], dtype=torch.long)], [(4, 5)]),
    "empty_mask": (lambda a: a[NOTHING], lambda a: a[torch.tensor(NOTHING)], [(4, 5)]),
    "zero_size_input": (lambda a: a[:, 1], lambda a: a[:, 1], [(0, 3)]),
    "zero_d_none": (lambda a: a[None], lambda a: a[None], [()]),
    "zero_d_ellipsis": (lambda a: a[...], lambda a: a[...], [()]),
}


def put(index, value=None):
    """``y = x * 1; y[index] = w`` (or ``value``): setitem on a non-leaf, as in a model."""
    def fn(x, *w):
        y = x * 1
        y[index] = w[0] if w else value
        return y
    return fn


SETITEM = {
    "row": (put(0), put(0), [(4, 5), (5,)]),
    "column_slice": (put((slice(None), 1)), put((slice(None), 1)), [(4, 5), (4,)]),
    "broadcast_rows": (put([0, 2]), put([0, 2]), [(4, 5), (5,)]),
    # the second write wins, so only it has a gradient (PyTorch gives both one): compare
    # with the one write that stays
    "repeated_rows": (put([1, 1]), put([1]), [(4, 5), (5,)]),
    "repeated_positions": (put(([0, 2, 0], [1, 1, 1])),
                           lambda x, w: put(([2, 0], [1, 1]))(x, w[1:]), [(4, 5), (3,)]),
    "mask_scalar": (put(MASK), put(torch.tensor(MASK)), [(4, 5), ()]),
    "step_slice_broadcast": (put((slice(1, 3), slice(None, None, 2))),
                             put((slice(1, 3), slice(None, None, 2))), [(4, 5), (1, 3)]),
    "value_extra_leading_dim": (put(2), put(2), [(4, 5), (1, 5)]),
    "number": (put((slice(1, None), 0), 2.5), put((slice(1, None), 0), 2.5), [(4, 5)]),
    "numpy_array": (put((slice(1, None), 0), np.array([1.0, 2.0, 3.0])),
                    put((slice(1, None), 0), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)),
                    [(4, 5)]),
}

GATHER_2D = np.array([[0, 0, 3], [1, 2, 1]])
GATHER_3D = np.array([[[1, 0], [0, 0]], [[1, 1], [0, 1]]])

OTHER = {
    "gather_dim1": (lambda a: gather(a, 1, cr.tensor(GATHER_2D)),
                    lambda a: torch.gather(a, 1, torch.tensor(GATHER_2D)), [(2, 4)]),
    "gather_dim0": (lambda a: a.gather(0, cr.tensor(GATHER_2D[:, :2] % 3)),
                    lambda a: a.gather(0, torch.tensor(GATHER_2D[:, :2] % 3)), [(3, 2)]),
    "gather_3d_negative_dim": (lambda a: a.gather(-1, cr.tensor(GATHER_3D)),
                               lambda a: a.gather(-1, torch.tensor(GATHER_3D)), [(3, 2, 4)]),
    "gather_3d_dim_minus_3": (lambda a: a.gather(-3, cr.tensor(GATHER_3D)),
                              lambda a: a.gather(-3, torch.tensor(GATHER_3D)), [(2, 3, 3)]),
    "index_select": (lambda a: index_select(a, 1, cr.tensor([3, 0, 3])),
                     lambda a: torch.index_select(a, 1, torch.tensor([3, 0, 3])), [(2, 4)]),
    "index_select_last": (lambda a: a.index_select(-1, cr.tensor([1])),
                          lambda a: a.index_select(-1, torch.tensor([1])), [(2, 3, 2)]),
    "cat_dim0_with_empty": (lambda a, b, c: cat([a, b, c]), lambda a, b, c: torch.cat([a, b, c]),
                            [(2, 3), (0, 3), (1, 3)]),
    "cat_dim1": (lambda a, b: cat([a, b], 1), lambda a, b: torch.cat([a, b], 1),
                 [(2, 3), (2, 4)]),
    "cat_negative_dim": (lambda a, b: cat((a, b), dim=-1), lambda a, b: torch.cat((a, b), -1),
                         [(2, 1, 3), (2, 1, 2)]),
    "cat_one": (lambda a: cat([a]), lambda a: torch.cat([a]), [(3,)]),
    "stack_dim0": (lambda a, b: stack([a, b]), lambda a, b: torch.stack([a, b]),
                   [(2, 3), (2, 3)]),
    "stack_last": (lambda a, b, c: stack([a, b, c], -1), lambda a, b, c: torch.stack([a, b, c], -1),
                   [(2, 3), (2, 3), (2, 3)]),
    "stack_middle_zero_size": (lambda a, b: stack([a, b], 1), lambda a, b: torch.stack([a, b], 1),
                               [(0, 3), (0, 3)]),
    "stack_zero_d": (lambda a, b: stack([a, b]), lambda a, b: torch.stack([a, b]), [(), ()]),
    "pad_last": (lambda a: pad(a, (1, 2)), lambda a: F.pad(a, (1, 2)), [(3, 4)]),
    "pad_two_dims": (lambda a: pad(a, (1, 2, 0, 1), value=1.5),
                     lambda a: F.pad(a, (1, 2, 0, 1), value=1.5), [(3, 4)]),
    "pad_three_dims": (lambda a: pad(a, (1, 1, 2, 0, 0, 1)),
                       lambda a: F.pad(a, (1, 1, 2, 0, 0, 1)), [(2, 3, 4)]),
    "pad_negative": (lambda a: pad(a, (-1, 2, 1, -2)), lambda a: F.pad(a, (-1, 2, 1, -2)),
                     [(4, 5)]),
    "pad_crop_all": (lambda a: pad(a, (-3, 2)), lambda a: F.pad(a, (-3, 2)), [(2, 3)]),
    "pad_zero_size": (lambda a: pad(a, (1, 1, 1, 1)), lambda a: F.pad(a, (1, 1, 1, 1)),
                      [(0, 3)]),
    "pad_reflect": (lambda a: pad(a, (2, 1), mode="reflect"),
                    lambda a: F.pad(a, (2, 1), mode="reflect"), [(2, 3, 5)]),
    "pad_replicate": (lambda a: pad(a, (1, 2, 2, 1), mode="replicate"),
                      lambda a: F.pad(a, (1, 2, 2, 1), mode="replicate"), [(1, 2, 4, 3)]),
    "pad_circular": (lambda a: pad(a, (2, 3, 1, 0), mode="circular"),
                     lambda a: F.pad(a, (2, 3, 1, 0), mode="circular"), [(1, 2, 4, 3)]),
}

TABLE = {**GETITEM, **SETITEM, **OTHER}


def assert_gradients_stay_in_the_graph(ours, theirs, arrays):
    """Where PyTorch's gradient (create_graph=True) is differentiable, ours must be too:
    check_op skips the second-derivative check for a gradient that left the graph."""
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours_grads = cr.autograd.grad(ours(*xs).sum(), xs, create_graph=True, allow_unused=True)
    torch_grads = torch.autograd.grad(theirs(*ts).sum(), ts, create_graph=True, allow_unused=True)
    for position, (g, e) in enumerate(zip(ours_grads, torch_grads)):
        if e is not None and e.requires_grad:
            assert g is not None and g.requires_grad, f"gradient of input {position} is constant"


@pytest.mark.parametrize("name", list(TABLE))
def test_op_matches_pytorch(name):
    ours, theirs, shapes = TABLE[name]
    arrays = random_inputs(shapes, seed=len(name))
    check_op(cubed(ours), cubed(theirs), arrays)
    assert_gradients_stay_in_the_graph(cubed(ours), cubed(theirs), arrays)


# ---------------------------------------------------------- split and chunk

# name: (ours, theirs, input shape); each returns a tuple of pieces
PIECES = {
    "split_size": (lambda a: split(a, 2), lambda a: torch.split(a, 2), (5, 3)),
    "split_sections_last_dim": (lambda a: a.split([1, 0, 2], dim=-1),
                                lambda a: a.split([1, 0, 2], dim=-1), (2, 3)),
    "split_size_larger": (lambda a: a.split(7, 1), lambda a: a.split(7, 1), (2, 3)),
    "split_zero_size": (lambda a: a.split(2), lambda a: a.split(2), (0, 3)),
    "chunk_three": (lambda a: chunk(a, 3), lambda a: torch.chunk(a, 3), (5, 3)),
    "chunk_fewer_pieces": (lambda a: a.chunk(4), lambda a: a.chunk(4), (6,)),
    "chunk_zero_size": (lambda a: a.chunk(3, dim=1), lambda a: a.chunk(3, dim=1), (2, 0)),
}


def weighted(pieces_fn):
    """The pieces as one scalar, each cubed and weighted by its position, so every piece's
    gradient (and a piece sent to the wrong place) shows in the gradient check."""
    return lambda a: sum((piece ** 3 * (i + 1)).sum() for i, piece in enumerate(pieces_fn(a)))


@pytest.mark.parametrize("name", list(PIECES))
def test_pieces_match_pytorch(name):
    ours, theirs, shape = PIECES[name]
    (array,) = random_inputs([shape], seed=len(name))
    pieces, expected = ours(cr.tensor(array)), theirs(torch.tensor(array))
    assert isinstance(pieces, tuple)
    assert [tuple(p.shape) for p in pieces] == [tuple(e.shape) for e in expected]
    for piece, e in zip(pieces, expected):
        np.testing.assert_array_equal(piece.array, e.numpy())
    check_op(weighted(ours), weighted(theirs), [array])
    assert_gradients_stay_in_the_graph(weighted(ours), weighted(theirs), [array])


def test_the_pieces_are_the_outputs_of_one_node():
    # issue 8 changed this on purpose: split is one node with one output per piece (as
    # PyTorch's SplitBackward), no longer one Slice node per piece
    x = cr.tensor(np.arange(6.0), requires_grad=True)
    first, second = x.split(3)
    assert first.grad_fn is second.grad_fn and (first._output_nr, second._output_nr) == (0, 1)
    second.sum().backward()
    np.testing.assert_array_equal(x.grad.array, [0, 0, 0, 1, 1, 1])


# ------------------------------------------------------- views and copies


def test_basic_indexing_is_a_view_sharing_memory_and_version():
    x = cr.tensor(np.arange(12.0).reshape(3, 4))
    row, element = x[1], x[2, -1]
    assert row._view_of is x and row._version is x._version
    assert element.shape == () and element._version is x._version
    x.add_(1)
    np.testing.assert_array_equal(row.array, [5, 6, 7, 8])
    assert element.item() == 12.0 and row._version[0] == 1


def test_setitem_into_a_view_writes_the_base():
    x = cr.zeros(2, 3)
    row = x[1]
    row[::2] = 7.0
    np.testing.assert_array_equal(x.array, [[0, 0, 0], [7, 0, 7]])


def test_advanced_indexing_is_a_copy():
    x = cr.tensor(np.arange(6.0))
    picked, masked = x[[0, 1]], x[x > 3]
    assert picked._view_of is None and masked._view_of is None
    x.add_(10)
    np.testing.assert_array_equal(picked.array, [0, 1])
    np.testing.assert_array_equal(masked.array, [4, 5])


def test_index_arrays_are_copied_when_indexing():
    index = np.array([0, 0, 2])
    x = cr.tensor(np.arange(3.0), requires_grad=True)
    y = x[index]
    index[:] = 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, [2, 0, 1])


THIRD_ORDER = ["repeated_ints", "bool_mask", "step_slice_broadcast", "repeated_positions",
               "gather_3d_negative_dim", "cat_dim1", "pad_negative"]


@pytest.mark.parametrize("name", THIRD_ORDER)
def test_third_derivative_matches_pytorch(name):
    """Each backward's own backward gets an upstream gradient that depends on x only from
    the third derivative on: g = grad f, then grad |g|**2, then grad of its square."""
    ours, theirs, shapes = TABLE[name]
    arrays = random_inputs(shapes, seed=1)

    def third(fn, lib, inputs):
        (g, *_) = lib.autograd.grad(fn(*inputs).sum(), inputs, create_graph=True)
        (u, *_) = lib.autograd.grad((g * g).sum(), inputs, create_graph=True)
        return lib.autograd.grad((u * u).sum(), inputs, allow_unused=True)

    got = third(cubed(ours), cr, [cr.tensor(a, requires_grad=True) for a in arrays])
    expected = third(cubed(theirs), torch, [torch.tensor(a, requires_grad=True) for a in arrays])
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.array, e.numpy(), rtol=1e-7, atol=1e-9)


# ----------------------------------------------------------------- setitem


def test_setitem_gradients_match_pytorch_for_x_and_value():
    x0, w0 = random_inputs([(3, 4), (4,)], seed=3)
    x, w = cr.tensor(x0, requires_grad=True), cr.tensor(w0, requires_grad=True)
    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    y, ty = x * 1, tx * 1
    y[0], ty[0] = w, tw
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy())
    np.testing.assert_allclose(w.grad.array, tw.grad.numpy())
    assert y.grad_fn.name == "IndexPutBackward"


def test_setitem_bumps_the_version_so_stale_saved_tensors_fail():
    x = cr.tensor(np.ones(3), requires_grad=True)
    y = x * 1
    z = y * y  # saves y
    y[0] = 5.0
    assert y._version[0] == 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_setitem_of_a_grad_value_into_a_plain_tensor_joins_the_graph():
    w = cr.tensor([2.0, 3.0], requires_grad=True)
    x = cr.zeros(3, 2)
    x[1] = w
    assert x.requires_grad and not x.is_leaf
    (x * x).sum().backward()
    np.testing.assert_array_equal(w.grad.array, [4, 6])


def test_setitem_of_a_grad_value_into_an_integer_tensor_carries_no_gradient():
    x = cr.zeros(3, dtype=cr.int64)
    x[0] = cr.tensor(2.5, requires_grad=True)
    assert not x.requires_grad and x.dtype == np.int64
    np.testing.assert_array_equal(x.array, [2, 0, 0])


def test_zero_d_tensors_in_gather_and_index_select():
    x = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    picked, selected = x.gather(0, cr.tensor(0)), x.index_select(0, cr.tensor([0]))
    assert picked.shape == () and selected.shape == ()
    (picked * selected).backward()
    assert x.grad.item() == 6.0


def test_setitem_into_a_leaf_that_requires_grad_raises():
    x = cr.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"__setitem__: a leaf tensor that requires grad"):
        x[0] = 2.0
    np.testing.assert_array_equal(x.array, [1, 1, 1])
    with cr.no_grad():
        x[0] = 2.0
    np.testing.assert_array_equal(x.array, [2, 1, 1])


# ------------------------------------------------------------------- cat dtype


def test_cat_promotes_dtypes_as_torch_and_casts_gradients_back():
    ints = cr.tensor([1, 2])
    floats = cr.tensor([0.5], requires_grad=True)
    joined = cat([ints, floats])
    assert joined.dtype == np.float32  # torch promotes int64 with float32 to float32
    np.testing.assert_array_equal(joined.array, [1, 2, 0.5])
    (joined * joined).sum().backward()
    assert floats.grad.dtype == np.float32
    np.testing.assert_array_equal(floats.grad.array, [1.0])


# ------------------------------------------------------------------- errors

x34 = cr.tensor(np.zeros((3, 4)))

ERRORS = [
    ("getitem_int", lambda: x34[5], IndexError,
     r"__getitem__: x\[5\] is out of range for x of shape \(3, 4\).*axis 0 with size 3"),
    ("getitem_array", lambda: x34[[0, 7], 1:], IndexError,
     r"__getitem__: x\[\[0, 7\], 1:\] is out of range for x of shape \(3, 4\)"),
    ("getitem_mask_shape", lambda: x34[np.array([True, False])], IndexError,
     r"x\[\[True, False\]\] is out of range .*boolean index did not match"),
    ("getitem_too_many", lambda: x34[0, 0, 0], IndexError,
     r"x\[0, 0, 0\] is out of range for x of shape \(3, 4\).*too many indices"),
    ("getitem_float_tensor", lambda: x34[cr.tensor([0.0])], IndexError,
     r"__getitem__: arrays and tensors used as indices must hold integers or booleans, got "
     r"dtype float32"),
    ("getitem_string", lambda: x34["a"], IndexError, r"__getitem__: str 'a' is not a valid index"),
    ("setitem_range", lambda: x34.__setitem__((0, 9), 1.0), IndexError,
     r"__setitem__: x\[0, 9\] is out of range for x of shape \(3, 4\)"),
    ("setitem_broadcast", lambda: x34.__setitem__(0, np.ones(3)), ValueError,
     r"__setitem__: a value of shape \(3,\) cannot be broadcast to the shape \(4,\) of x\[0\], "
     r"x of shape \(3, 4\)"),
    ("setitem_value_type", lambda: x34.__setitem__(0, "a"), TypeError,
     r"__setitem__: value must be a number, an array or a Tensor, got str 'a'"),
    ("gather_float_index", lambda: x34.gather(0, cr.tensor([[0.0]])), TypeError,
     r"gather: index must be an integer tensor, got dtype float32"),
    ("gather_ndim", lambda: x34.gather(0, cr.tensor([0])), ValueError,
     r"gather: index has 1 dimensions but x has 2 \(shapes \(1,\) and \(3, 4\)\)"),
    ("gather_larger", lambda: x34.gather(0, cr.zeros(1, 5, dtype=cr.int64)), ValueError,
     r"gather: index of shape \(1, 5\) is larger than x of shape \(3, 4\) in dimension 1"),
    ("gather_range", lambda: x34.gather(1, cr.tensor([[4]])), IndexError,
     r"gather: index 4 is out of range for dimension 1 with size 4"),
    ("gather_negative", lambda: x34.gather(0, cr.tensor([[-1]])), IndexError,
     r"gather: index -1 is out of range for dimension 0 with size 3"),
    ("gather_dim", lambda: x34.gather(2, cr.tensor([[0]])), IndexError,
     r"gather: dim 2 is out of range for a tensor with 2 dimensions"),
    ("index_select_2d", lambda: x34.index_select(0, cr.tensor([[0]])), ValueError,
     r"index_select: index must be 1-d, got shape \(1, 1\)"),
    ("index_select_range", lambda: x34.index_select(1, cr.tensor([0, 4])), IndexError,
     r"index_select: index 4 is out of range for dimension 1 with size 4"),
    ("cat_empty", lambda: cat([]), ValueError, r"cat: expected a non-empty list of tensors"),
    ("cat_not_a_list", lambda: cat(x34), TypeError, r"cat: expected a list or tuple of tensors"),
    ("cat_element", lambda: cat([x34, np.zeros((3, 4))]), TypeError,
     r"cat: element 1 is a ndarray, not a Tensor"),
    ("cat_zero_d", lambda: cat([cr.tensor(1.0)]), ValueError,
     r"cat: zero-dimensional tensors cannot be concatenated"),
    ("cat_ndim", lambda: cat([x34, cr.zeros(3)]), ValueError,
     r"cat: tensors 0 and 1 have 2 and 1 dimensions \(shapes \(3, 4\) and \(3,\)\)"),
    ("cat_shapes", lambda: cat([x34, x34, cr.zeros(3, 5)]), ValueError,
     r"cat: tensors 0 and 2 have shapes \(3, 4\) and \(3, 5\); all dimensions but dim=0 must match"),
    ("cat_no_broadcasting", lambda: cat([x34, cr.zeros(1, 4)], dim=1), ValueError,
     r"all dimensions but dim=1 must match"),
    ("stack_shapes", lambda: stack([x34, cr.zeros(4, 3)]), ValueError,
     r"stack: tensors 0 and 1 have shapes \(3, 4\) and \(4, 3\); stack needs tensors of equal"),
    ("stack_empty", lambda: stack(()), ValueError, r"stack: expected a non-empty list"),
    ("stack_dim", lambda: stack([x34], 3), IndexError, r"stack: dim 3 is out of range"),
    ("split_sections", lambda: x34.split([1, 1]), ValueError,
     r"split: sizes \[1, 1\] must be non-negative and add up to 3, the size of dimension 0"),
    ("split_negative_section", lambda: x34.split([4, -1]), ValueError,
     r"split: sizes \[4, -1\] must be non-negative"),
    ("split_zero", lambda: x34.split(0), ValueError,
     r"split: split_size must be positive, got 0 for dimension 0 of size 3"),
    ("split_type", lambda: x34.split(1.5), TypeError, r"split: sizes must be ints, got float"),
    ("chunk_zero", lambda: x34.chunk(0), ValueError, r"chunk: chunks must be a positive int, got 0"),
    ("chunk_zero_d", lambda: cr.tensor(1.0).chunk(2), ValueError,
     r"chunk: a 0-d tensor has no dimension to cut"),
    ("split_zero_d", lambda: cr.tensor(1.0).split(1), ValueError,
     r"split: a 0-d tensor has no dimension to cut"),
    ("index_select_zero_d", lambda: cr.tensor(1.0).index_select(0, cr.tensor([0, 0])), ValueError,
     r"index_select: a 0-d tensor takes an index with one value, got 2"),
    ("pad_not_a_tuple", lambda: pad(x34, 1), TypeError, r"pad: pad must be a tuple of ints, got int"),
    ("pad_float", lambda: pad(x34, (1.0, 1)), TypeError, r"pad: sizes must be ints, got float"),
    ("pad_odd", lambda: pad(x34, (1, 2, 3)), ValueError,
     r"pad: pad must hold \(before, after\) pairs for at most 2 dimensions .*got \(1, 2, 3\)"),
    ("pad_too_many", lambda: pad(x34, (1,) * 6), ValueError, r"at most 2 dimensions"),
    ("pad_negative_size", lambda: pad(x34, (-3, -2)), ValueError,
     r"pad: pad \(-3, -2\) crops more than a tensor of shape \(3, 4\) holds"),
    ("pad_crop_beyond", lambda: pad(x34, (0, 0, -4, 5)), ValueError,
     r"pad: pad \(0, 0, -4, 5\) crops more than a tensor of shape \(3, 4\) holds"),
    ("pad_mode", lambda: pad(x34, (1, 1), mode="wrap"), ValueError,
     r"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got 'wrap'"),
    ("pad_reflect_large", lambda: pad(x34, (4, 0), mode="reflect"), ValueError,
     r"pad: reflect padding needs 0 <= amount < size of the dimension \(4\), got 4 and 0"),
    ("pad_reflect_crop_too_large", lambda: pad(x34, (4, -1), mode="reflect"), ValueError,
     r"reflect padding needs 0 <= amount"),
    ("pad_replicate_empty", lambda: pad(cr.zeros(2, 0), (1, 0), mode="replicate"), ValueError,
     r"pad: replicate padding needs a non-empty dimension"),
    ("pad_circular_large", lambda: pad(x34, (0, 5), mode="circular"), ValueError,
     r"pad: circular padding needs 0 <= amount <= size of the dimension \(4\), got 0 and 5"),
]


@pytest.mark.parametrize("name, action, error, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_op_and_the_problem(name, action, error, message):
    before = x34.array.copy()
    with pytest.raises(error, match=message):
        action()
    np.testing.assert_array_equal(x34.array, before)  # nothing half-changed
    assert x34._version[0] == 0
