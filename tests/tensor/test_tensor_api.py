"""The Tensor API: construction, dtypes, metadata, leaving the graph, introspection, errors.

Checked against PyTorch where the two libraries share the API.
"""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import Tensor


def dtype_name(dtype):
    """'float32' for np.float32 and torch.float32 alike."""
    return str(dtype).replace("torch.", "")


# --------------------------------------------------------------- construction


DATA = [1.5, 3, True, [1.0, 2.0], [1, 2], [[1, 2.5], [3, 4]], [[True, False]],
        np.ones(2), np.ones(2, np.float32), np.arange(3), np.arange(3, dtype=np.int32),
        np.array(2.5), [], [[]]]


@pytest.mark.parametrize("data", DATA, ids=repr)
def test_dtype_and_values_as_torch(data):
    ours, theirs = cr.tensor(data), torch.tensor(data)
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    assert ours.tolist() == theirs.tolist()


def test_default_dtypes():
    assert cr.tensor(1.5).dtype == cr.float32  # Python floats are float32, as in PyTorch
    assert cr.tensor([1, 2]).dtype == cr.int64
    assert cr.tensor(np.ones(2)).dtype == cr.float64  # numpy arrays keep their dtype
    assert cr.tensor([1, 2], dtype=cr.float64).dtype == cr.float64
    assert cr.tensor(np.ones(2), dtype=cr.float32).dtype == cr.float32
    assert cr.tensor(1.5, dtype=cr.float64).item() == 1.5


def test_numpy_float64_scalar_keeps_its_dtype():
    assert dtype_name(torch.tensor(np.float64(1.5)).dtype) == "float64"
    assert cr.tensor(np.float64(1.5)).dtype == cr.float64


def test_tensor_class_takes_data_requires_grad_dtype():
    t = Tensor([1, 2], True, cr.float64)
    assert t.dtype == cr.float64 and t.requires_grad and t.is_leaf and t.grad is None
    keyword = Tensor(data=[1.0], requires_grad=False, dtype=cr.float32)
    assert keyword.dtype == cr.float32 and not keyword.requires_grad


def test_construction_copies_but_from_numpy_shares():
    array = np.zeros(3)
    copied, shared = cr.tensor(array), cr.from_numpy(array)
    array[0] = 5.0
    shared.array[1] = 7.0
    assert copied.tolist() == [0.0, 0.0, 0.0]
    assert shared.tolist() == [5.0, 7.0, 0.0] and array[1] == 7.0
    assert shared.dtype == cr.float64 and np.shares_memory(np.asarray(shared), array)
    assert cr.tensor(copied).tolist() == [0.0] * 3 and not np.shares_memory(
        cr.tensor(copied).array, copied.array)


def test_from_numpy_needs_an_array():
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray, got list"):
        cr.from_numpy([1.0, 2.0])


@pytest.mark.parametrize("bad, words", [
    ("a", r"Tensor: expected a number, a \(nested\) list of numbers or an array, got str 'a'"),
    (None, "got NoneType None"),
    (b"ab", "got bytes"),
    ([[1, 2], [3]], "could not make an array from list: .*inhomogeneous"),
    (["a", "b"], "expected numbers, got elements of type <U1"),
    ({"a": 1}, "expected numbers, got elements of type object"),
], ids=["str", "None", "bytes", "ragged", "list of str", "dict"])
def test_bad_data_is_a_type_error(bad, words):
    with pytest.raises(TypeError, match=words):
        Tensor(bad)
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        torch.tensor(bad)


def test_bad_dtype():
    with pytest.raises(TypeError, match="dtype: 'floaty' is not a dtype"):
        cr.tensor([1.0], dtype="floaty")
    with pytest.raises(TypeError, match="dtype: complex128 is not supported"):
        cr.tensor([1.0], dtype=np.complex128)


# ----------------------------------------------------------------- creation


CREATION = [
    ("zeros", lambda lib: lib.zeros(2, 3)),
    ("zeros_tuple", lambda lib: lib.zeros((2, 3))),
    ("ones", lambda lib: lib.ones(4)),
    ("ones_float64", lambda lib: lib.ones(2, 2, dtype=lib.float64)),
    ("full_int", lambda lib: lib.full((2,), 3)),
    ("full_float", lambda lib: lib.full((2, 1), 3.5)),
    ("full_bool", lambda lib: lib.full((2,), True)),
    ("arange_int", lambda lib: lib.arange(5)),
    ("arange_start_end", lambda lib: lib.arange(2, 7, 2)),
    ("arange_float", lambda lib: lib.arange(0, 1, 0.25)),
    ("eye", lambda lib: lib.eye(3)),
    ("eye_rect", lambda lib: lib.eye(2, 3)),
    ("zeros_like_int", lambda lib: lib.zeros_like(lib.tensor([1, 2]))),
    ("ones_like_float64", lambda lib: lib.ones_like(lib.tensor(np.ones((2, 2))))),
    ("zeros_like_dtype", lambda lib: lib.zeros_like(lib.tensor([1, 2]), dtype=lib.float32)),
    ("zero_size", lambda lib: lib.zeros(0, 3)),
]


@pytest.mark.parametrize("name, make", CREATION, ids=[name for name, _ in CREATION])
def test_creation_as_torch(name, make):
    ours, theirs = make(cr), make(torch)
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.array, theirs.numpy())
    assert ours.is_leaf and not ours.requires_grad


def test_random_creation():
    for make in (cr.randn, cr.rand):
        t = make(3, 4)
        assert t.shape == (3, 4) and t.dtype == cr.float32
        assert make(2, dtype=cr.float64).dtype == cr.float64
        assert make(2, requires_grad=True).requires_grad
    uniform = cr.rand(1000).array
    assert uniform.min() >= 0 and uniform.max() < 1
    normal = cr.randn(20000, dtype=cr.float64).array
    assert abs(normal.mean()) < 0.05 and abs(normal.std() - 1) < 0.05


def test_manual_seed_repeats_the_numbers():
    cr.manual_seed(7)
    first = (cr.randn(5).array.copy(), cr.rand(2, 2).array.copy())
    cr.manual_seed(7)
    second = (cr.randn(5).array, cr.rand(2, 2).array)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    cr.manual_seed(8)
    assert not np.array_equal(cr.randn(5).array, first[0])


def test_creation_size_errors():
    with pytest.raises(ValueError, match=r"zeros: sizes must be non-negative ints, got \(-1,\)"):
        cr.zeros(-1)
    with pytest.raises(ValueError, match=r"ones: sizes must be non-negative ints, got \(2.5,\)"):
        cr.ones(2.5)


# ----------------------------------------------------------------- metadata


def test_metadata_as_torch():
    array = np.arange(6.0).reshape(2, 3)
    ours, theirs = cr.tensor(array), torch.tensor(array)
    assert ours.shape == tuple(theirs.shape) == (2, 3)
    assert ours.ndim == theirs.ndim == 2 and ours.dim() == 2
    assert tuple(ours.size()) == tuple(theirs.size())
    assert ours.size(1) == theirs.size(1) == 3 and ours.size(-2) == theirs.size(-2) == 2
    assert ours.numel() == theirs.numel() == 6
    assert len(ours) == len(theirs) == 2
    assert ours.T.shape == tuple(theirs.T.shape) == (3, 2)
    np.testing.assert_array_equal(ours.T.array, theirs.T.numpy())
    assert ours.tolist() == theirs.tolist()
    assert cr.tensor([[4.5]]).item() == torch.tensor([[4.5]]).item() == 4.5
    assert isinstance(cr.tensor(3).item(), int) and isinstance(cr.tensor(3.0).item(), float)
    assert float(cr.tensor([2.5])) == 2.5 and int(cr.tensor(7)) == 7


def test_size_dim_out_of_range():
    with pytest.raises(IndexError, match=r"size: dim 2 is out of range for a tensor with 2 "
                                         r"dimensions \(expected to be in range of \[-2, 1\]\)"):
        cr.zeros(2, 3).size(2)
    with pytest.raises(IndexError):
        torch.zeros(2, 3).size(2)


def test_numpy_and_asarray_share_memory():
    t = cr.tensor([1.0, 2.0])
    assert t.numpy() is t.array
    view = np.asarray(t)
    view[0] = 9.0
    assert t.tolist() == [9.0, 2.0]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


# ------------------------------------------------------------ graph membership


def test_detach_shares_data_and_leaves_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.array, y.array)
    d.array[0] = 5.0
    assert y.tolist()[0] == 5.0
    ty = torch.tensor([1.0, 2.0], requires_grad=True) * 2
    assert ty.detach().is_leaf and not ty.detach().requires_grad


def test_requires_grad_and_is_leaf():
    x = cr.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    y = x * 2
    assert y.requires_grad and not y.is_leaf
    assert x.requires_grad_(False) is x and not x.requires_grad
    with pytest.raises(RuntimeError, match="requires_grad_: you can only change requires_grad "
                                           "of leaf tensors; use .detach()"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="only tensors of floating point dtype can require"):
        cr.tensor([1, 2]).requires_grad_()


def test_grad_fn_is_introspectable():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).exp()
    assert y.grad_fn.name == "ExpBackward" and repr(y.grad_fn) == "<ExpBackward>"
    (mul,) = y.grad_fn.inputs
    assert mul.name == "MulBackward"
    assert mul.inputs == (x,)  # a leaf's node is the tensor itself
    assert mul.next_nodes == (x, None)  # one per positional input; the constant 2 needs none
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = (tx * 2).exp()
    assert type(ty.grad_fn).__name__.startswith(y.grad_fn.name)
    assert type(ty.grad_fn.next_functions[0][0]).__name__.startswith(mul.name)
    assert x.grad_fn is None and (x * 2).detach().grad_fn is None


def test_repr_shows_data_dtype_and_grad_fn():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(cr.tensor([[1, 2], [3, 4]])) == "tensor([[1, 2],\n        [3, 4]])"
    assert repr(cr.tensor(np.array(0.5))) == "tensor(0.5000, dtype=float64)"


@pytest.mark.parametrize("values", [
    [0.5, 2.25, 3.0], [1.0, 2.0], [1e-5, 1.0], [2e8, 1.0], [[1.5, -2.0], [3.0, 4.25]],
    [float("nan"), 1.5, float("inf")], [], [1, 2, 300], [True, False], [[[0.1]]], 0.333333,
    [[0.0] * 3] * 0,
])
def test_repr_reads_as_pytorchs(values):
    """The same layout as torch's print: precision, whole floats, scientific notation,
    alignment, bools, and the dtype shown only where it is not a default."""
    theirs = repr(torch.tensor(values))
    assert repr(cr.tensor(values)) == theirs
    assert repr(cr.tensor(values, dtype=cr.float64)) == repr(
        torch.tensor(values, dtype=torch.float64)).replace("torch.", "")


# ---------------------------------------------------------- leaving the graph


def test_item_needs_one_element():
    with pytest.raises(ValueError, match=r"item: only a tensor with one element can be "
                                         r"converted to a Python number; this one has shape "
                                         r"\(2,\)"):
        cr.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError):
        torch.tensor([1.0, 2.0]).item()


def test_numpy_of_a_tensor_that_requires_grad_suggests_detach():
    with pytest.raises(RuntimeError, match=r"can't call numpy\(\) on a tensor that requires "
                                           r"grad; use tensor.detach\(\).numpy\(\)"):
        cr.tensor([1.0], requires_grad=True).numpy()
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        torch.tensor([1.0], requires_grad=True).numpy()


def test_bool_of_a_tensor():
    with pytest.raises(RuntimeError, match="bool: the truth value of a tensor with 2 elements is "
                                           r"ambiguous; use .any\(\) or .all\(\)"):
        bool(cr.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(torch.tensor([1.0, 2.0]))
    assert bool(cr.tensor([0.0])) is bool(torch.tensor([0.0])) is False
    assert bool(cr.tensor(3)) is True


def test_len_of_a_0d_tensor():
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(cr.tensor(1.0))
