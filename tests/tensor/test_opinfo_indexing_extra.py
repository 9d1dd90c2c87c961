"""Indexing, scatter, sorting and searching ops beyond PyTorch's OpInfo samples.

The OpInfo report (``python -m tests.opinfo.report``) checks these ops'
values and gradients on PyTorch's own samples, whose random data has no ties,
zeros or NaN. Here: the cases the samples leave out (ties, zeros, NaN, repeated
indices), checked against PyTorch; the in-place variants and the version
counter; the ops behind the device seam; and the error messages.
"""

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.checking_backend import CheckedArray, checked_tensor, installed, violations


def _ints(m, values):
    return m.tensor(values)


# name -> (fn(module, *float inputs), the float inputs as lists)
CASES = {
    "median_all_ties_share": (lambda m, x: m.median(x), [[1.0, 2.0, 2.0, 3.0]]),
    "nanmedian_all_skips_nan": (lambda m, x: m.nanmedian(x),
                                [[1.0, float("nan"), 4.0, 2.0, float("nan")]]),
    "median_dim_with_nan": (lambda m, x: m.median(x, 1), [[[1.0, float("nan"), 3.0],
                                                           [4.0, 2.0, 0.5]]]),
    "nanmedian_dim_all_nan_row": (lambda m, x: m.nanmedian(x, 1, keepdim=True),
                                  [[[float("nan"), float("nan")], [4.0, 2.0]]]),
    "sort_descending_ties_stable": (lambda m, x: m.sort(x, descending=True, stable=True),
                                    [[2.0, 1.0, 2.0, 1.0, 5.0, 1.0]]),
    "sort_nan_last": (lambda m, x: m.sort(x, 0), [[2.0, float("nan"), -1.0]]),
    "topk_smallest": (lambda m, x: m.topk(x, 2, largest=False), [[3.0, -1.0, 2.0, 0.5]]),
    "kthvalue_keepdim": (lambda m, x: m.kthvalue(x, 2, 0, True), [[[3.0, 1.0], [0.0, 2.0],
                                                                   [5.0, -1.0]]]),
    "mode_ties_pick_smallest_last_index": (lambda m, x: m.mode(x),
                                           [[3.0, 1.0, 2.0, 1.0, 3.0, 3.0, 1.0]]),
    "quantile_vector_q_dim_keepdim": (
        lambda m, x: m.quantile(x, m.tensor([0.25, 0.5, 0.9], dtype=m.float64), dim=1,
                                keepdim=True), [[[1.0, 4.0, 2.0, 8.0], [0.0, -3.0, 5.0, 1.0]]]),
    "quantile_nearest_lower_higher": (
        lambda m, x: [m.quantile(x, 0.4, interpolation=i) for i in ("nearest", "lower",
                                                                     "higher", "midpoint")],
        [[1.0, 4.0, 2.0, 8.0, 3.0]]),
    "nanquantile_with_nan": (lambda m, x: m.nanquantile(x, 0.3, dim=0),
                             [[[1.0, float("nan")], [2.0, 3.0], [float("nan"), 5.0]]]),
    "scatter_reduce_amax_ties": (
        lambda m, x, s: x.scatter_reduce(0, _ints(m, [0, 0, 1]), s, "amax"),
        [[5.0, 1.0], [5.0, 2.0, 1.0]]),
    "scatter_reduce_amin_without_self": (
        lambda m, x, s: x.scatter_reduce(0, _ints(m, [0, 0, 1]), s, "amin", include_self=False),
        [[5.0, 1.0, 7.0], [2.0, 2.0, 3.0]]),
    "scatter_reduce_prod_with_zeros": (
        lambda m, x, s: x.scatter_reduce(0, _ints(m, [0, 0, 1, 1, 2]), s, "prod"),
        [[0.0, 2.0, 3.0], [4.0, 5.0, 0.0, 0.0, 7.0]]),
    "scatter_reduce_mean_without_self": (
        lambda m, x, s: x.scatter_reduce(0, _ints(m, [0, 0, 2]), s, "mean", include_self=False),
        [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
    "index_reduce_amax_ties": (
        lambda m, x, s: x.index_reduce(0, _ints(m, [1, 1]), s, "amax"),
        [[[1.0, 3.0], [2.0, 2.0]], [[2.0, 1.0], [0.0, 2.0]]]),
    "scatter_repeated_positions_all_get_gradient": (
        lambda m, x, s: x.scatter_add(0, _ints(m, [[1, 1]]), s)
        + x.scatter(0, _ints(m, [[0, 1]]), s), [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0]]]),
    "index_put_accumulate_repeats": (
        lambda m, x, v: m.index_put(x, (_ints(m, [0, 2, 0]),), v, accumulate=True),
        [[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]]),
    "put_accumulate_negative": (lambda m, x, v: x.put(_ints(m, [-1, 0, -1]), v, True),
                                [[[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0, 3.0]]),
    "masked_scatter_broadcast_mask": (
        lambda m, x, s: x.masked_scatter(m.tensor([True, False, True]), s),
        [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [7.0, 8.0, 9.0, 10.0, 11.0]]),
    "masked_fill_tensor_value": (
        lambda m, x, v: x.masked_fill(m.tensor([[True], [False]]), v), [[[1.0, 2.0],
                                                                         [3.0, 4.0]], 7.0]),
    "index_fill_repeated_index": (lambda m, x, v: x.index_fill(1, _ints(m, [0, 0, 2]), v),
                                  [[[1.0, 2.0, 3.0]], 5.0]),
    "take_along_dim_broadcast": (
        lambda m, x: m.take_along_dim(x, _ints(m, [[0], [-1]]), 1), [[[1.0, 2.0, 3.0]]]),
}


def _run(module, fn, values):
    xs = [module.tensor(v, dtype=module.float64, requires_grad=True) for v in values]
    out = fn(module, *xs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    floats = [o for o in outs if o.dtype == module.float64]
    rng = np.random.default_rng(0)
    total = sum((o * module.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in floats)
    grads = (torch.autograd.grad if module is torch else cr.autograd.grad)(
        total, xs, allow_unused=True)
    as_array = lambda t: t.detach().numpy()
    return ([as_array(o) for o in outs],
            [np.zeros(np.shape(v)) if g is None else as_array(g) for g, v in zip(grads, values)])


@pytest.mark.filterwarnings("ignore:index_reduce")
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_pytorch(name):
    fn, values = CASES[name]
    ours, ours_grads = _run(cr, fn, values)
    theirs, their_grads = _run(torch, fn, values)
    assert len(ours) == len(theirs)
    for o, t in zip(ours + ours_grads, theirs + their_grads):
        assert o.shape == t.shape and o.dtype == t.dtype
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-12)


def test_sort_is_one_node_and_its_indices_need_no_grad():
    x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, indices = cr.sort(x)
    assert values.grad_fn is not None and values.grad_fn.op_name == "Sort"
    assert not indices.requires_grad and indices.dtype == np.int64
    assert cr.topk(x, 1).values.grad_fn.op_name == "TopK"


def test_in_place_variants_bump_the_version_and_match_pytorch():
    ours, theirs = cr.zeros(3, 4), torch.zeros(3, 4)
    calls = [
        lambda m, x: x.scatter_(1, m.tensor([[0], [1], [2]]), 1.0),
        lambda m, x: x.index_add_(0, m.tensor([0, 0]), m.ones(2, 4), alpha=2),
        lambda m, x: x.masked_fill_(x > 3, -1.0),
        lambda m, x: x.index_fill_(1, m.tensor([3]), 7.0),
        lambda m, x: x.index_copy_(0, m.tensor([2]), m.full((1, 4), 5.0)),
        lambda m, x: x.index_put_((m.tensor([1]), m.tensor([1])), m.tensor(9.0)),
        lambda m, x: x.put_(m.tensor([0]), m.tensor([8.0])),
        lambda m, x: x.masked_scatter_(x == 0, m.arange(20).float()),
        lambda m, x: x.scatter_add_(0, m.tensor([[0, 0, 0, 0]]), m.ones(1, 4)),
        lambda m, x: x.scatter_reduce_(0, m.tensor([[0, 0, 0, 0]]), m.full((1, 4), 100.0),
                                       "amax"),
    ]
    for call in calls:
        version = ours._version[0]
        assert call(cr, ours) is ours
        call(torch, theirs)
        assert ours._version[0] == version + 1
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_in_place_scatter_moves_the_history():
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2
    b.index_fill_(0, cr.tensor([1]), 0.0)
    b.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 0.0, 2.0])


def test_integer_results_of_searching_ops():
    boundaries = cr.tensor([1.0, 3.0, 5.0])
    assert cr.bucketize(cr.tensor([3.0, 6.0]), boundaries, right=True).tolist() == [2, 3]
    assert cr.searchsorted(boundaries, 3.0, side="right").tolist() == 2
    assert cr.searchsorted(boundaries, cr.tensor([3.0]), out_int32=True).dtype == np.int32
    values, inverse, counts = cr.unique(cr.tensor([3, 1, 3]), return_inverse=True,
                                        return_counts=True)
    assert (values.tolist(), inverse.tolist(), counts.tolist()) == ([1, 3], [1, 0, 1], [1, 2])
    assert cr.nonzero(cr.tensor(2.0), as_tuple=True)[0].tolist() == [0]
    assert [t.tolist() for t in cr.unravel_index(cr.tensor([5, -1]), (2, 3))] == [[1, 1],
                                                                                  [2, 2]]


# ------------------------------------------------------------ the device seam

SEAM = {
    "scatters": lambda x, i: (x.scatter(1, i, x[:, :2] ** 2) * x.scatter_add(1, i, x[:, :2])
                              ).sum() + x.index_add(0, cr.tensor([2, 0, 0]), x ** 2).sum(),
    "reductions": lambda x, i: sum(x.scatter_reduce(1, i, x[:, 1:3] ** 2, r).sum()
                                   for r in ("sum", "prod", "mean", "amax", "amin")),
    "writes": lambda x, i: (x.masked_fill(x > 0, 2.0) * x.index_put((i[2],), x[0])
                            * x.masked_scatter(x < 0, x * 3) * x.put(i[0], x[0, :2])).sum(),
    "reads": lambda x, i: (x.take(i) ** 2).sum() + (x.take_along_dim(i, 1) ** 3).sum()
    + (x.masked_select(x > 0) ** 2).sum(),
    "sorting": lambda x, i: (x.sort(1).values * x.sort(0, descending=True).values).sum()
    + (x.topk(2).values ** 2).sum() + (x.kthvalue(2).values ** 2).sum(),
    "statistics": lambda x, i: (x.median(0).values ** 2).sum() + x.median() ** 2
    + (x.quantile(x.new_tensor([0.2, 0.7]), dim=1) ** 2).sum() + (x.mode(1).values ** 2).sum(),
}


@pytest.mark.parametrize("name", sorted(SEAM))
def test_ops_go_through_the_device_seam(name):
    rng = np.random.default_rng(1)
    array = rng.standard_normal((3, 4))
    with installed():
        x = checked_tensor(array, requires_grad=True)
        index = checked_tensor(np.array([[0, 1], [3, 3], [2, 0]]))
        out = SEAM[name](x, index) ** 2
        (grad,) = cr.autograd.grad(out, [x], create_graph=True)
        (second,) = cr.autograd.grad((grad ** 2).sum(), [x], allow_unused=True)
    assert not violations
    assert type(out.array) is CheckedArray and type(grad.array) is CheckedArray
    assert second is None or type(second.array) is CheckedArray


def test_searching_and_counting_ops_go_through_the_device_seam():
    rng = np.random.default_rng(1)
    with installed():
        x = checked_tensor(rng.standard_normal((3, 4)))
        ints = checked_tensor(np.array([0, 2, 2, 5]))
        outs = [cr.nonzero(x > 0), cr.argwhere(x), cr.searchsorted(x.sort(1).values, x),
                cr.bucketize(x, x[0].sort().values), cr.isin(x, x[0]), cr.argsort(x),
                *cr.unique(x, return_inverse=True, return_counts=True),
                *cr.unique_consecutive(ints, return_inverse=True, return_counts=True),
                cr.bincount(ints), cr.histc(x, 4), *cr.histogram(x, 3),
                cr.histogramdd(x, 2).hist, *cr.unravel_index(ints, (2, 3))]
    assert not violations
    assert all(type(o.array) is CheckedArray for o in outs)


# ------------------------------------------------------------ errors

x23 = cr.zeros(2, 3)

ERRORS = [
    ("scatter_index_too_big", lambda: x23.scatter(0, cr.tensor([[0, 1, 2, 0]]), 1.0),
     ValueError, r"scatter: index of shape \(1, 4\) is larger than input of shape \(2, 3\)"),
    ("scatter_index_range", lambda: x23.scatter_add(0, cr.tensor([[2]]), cr.ones(1, 1)),
     IndexError, r"scatter_add: index 2 is out of range for dimension 0 with size 2"),
    ("scatter_ranks", lambda: x23.scatter(0, cr.tensor([0]), 1.0), ValueError,
     r"scatter: index of shape \(1,\) and input of shape \(2, 3\) must have the same number"),
    ("scatter_both", lambda: x23.scatter(0, cr.tensor([[0]]), cr.ones(1, 1), 2.0), TypeError,
     r"scatter: give exactly one of src"),
    ("scatter_reduce_name", lambda: x23.scatter_reduce(0, cr.tensor([[0]]), cr.ones(1, 1),
                                                       "max"),
     ValueError, r"scatter_reduce: reduce must be one of"),
    ("index_add_source", lambda: x23.index_add(0, cr.tensor([0]), cr.ones(2, 3)), ValueError,
     r"index_add: source of shape \(2, 3\) does not fit input of shape \(2, 3\) with 1 "
     r"indices along dim 0; expected shape \(1, 3\)"),
    ("index_reduce_name", lambda: x23.index_reduce(0, cr.tensor([0]), cr.ones(1, 3), "sum"),
     ValueError, r"index_reduce: reduce must be 'prod', 'mean', 'amax' or 'amin'"),
    ("index_fill_range", lambda: x23.index_fill(1, cr.tensor([3]), 1.0), IndexError,
     r"index_fill: index 3 is out of range for dimension 1 with size 3"),
    ("masked_fill_mask_dtype", lambda: x23.masked_fill(cr.zeros(2, 3), 1.0), TypeError,
     r"masked_fill: mask must be a bool tensor"),
    ("masked_fill_value_shape", lambda: x23.masked_fill(x23 > 0, cr.ones(2)), ValueError,
     r"masked_fill: value must be a number or a 0-d tensor"),
    ("masked_scatter_short", lambda: x23.masked_scatter(x23 == 0, cr.ones(5)), ValueError,
     r"masked_scatter: the mask selects 6 elements but source has only 5"),
    ("put_range", lambda: x23.put(cr.tensor([6]), cr.ones(1)), IndexError,
     r"put: index 6 is out of range for a tensor of 6 elements"),
    ("put_sizes", lambda: x23.put(cr.tensor([0, 1]), cr.ones(1)), ValueError,
     r"put: source has 1 elements but index has 2"),
    ("take_range", lambda: x23.take(cr.tensor([-7])), IndexError,
     r"take: index -1 is out of range"),
    ("take_along_dim_ranks", lambda: x23.take_along_dim(cr.tensor([0]), 1), ValueError,
     r"take_along_dim: indices of shape \(1,\) and input of shape \(2, 3\) must have"),
    ("topk_k", lambda: x23.topk(4), ValueError,
     r"topk: k=4 is out of range for dimension 1 of size 3"),
    ("kthvalue_k", lambda: x23.kthvalue(0), IndexError,
     r"kthvalue: k=0 is out of range for dimension 1 of size 3"),
    ("median_empty_dim", lambda: cr.zeros(2, 0).median(1), IndexError,
     r"median: dimension 1 of the input of shape \(2, 0\) is empty"),
    ("quantile_q", lambda: x23.quantile(1.5), ValueError,
     r"quantile: q must be a number or a 1-d tensor of values in \[0, 1\]"),
    ("quantile_interpolation", lambda: x23.quantile(0.5, interpolation="cubic"), ValueError,
     r"quantile: interpolation must be one of"),
    ("quantile_int", lambda: cr.tensor([1, 2]).quantile(0.5), TypeError,
     r"quantile: input must be a floating point tensor"),
    ("searchsorted_side", lambda: cr.searchsorted(cr.zeros(3), cr.zeros(1), side="up"),
     ValueError, r"searchsorted: side must be 'left' or 'right'"),
    ("searchsorted_rows", lambda: cr.searchsorted(x23, cr.zeros(3, 1)), ValueError,
     r"searchsorted: the sequence of shape \(2, 3\) and input of shape \(3, 1\) must match"),
    ("bucketize_2d", lambda: cr.bucketize(cr.zeros(1), x23), ValueError,
     r"bucketize: boundaries must be 1-d"),
    ("bincount_negative", lambda: cr.bincount(cr.tensor([1, -1])), ValueError,
     r"bincount: input must hold non-negative ints"),
    ("histc_range", lambda: cr.histc(x23, bins=3, min=2, max=1), ValueError,
     r"histc: max must be larger than min"),
    ("histogramdd_bins", lambda: cr.histogramdd(x23, [2, 2]), ValueError,
     r"histogramdd: 2 bins given for points with 3 coordinates"),
    ("unravel_range", lambda: cr.unravel_index(cr.tensor([6]), (2, 3)), IndexError,
     r"unravel_index: indices must be in \[-6, 6\) for shape \(2, 3\)"),
]


@pytest.mark.parametrize("name, call, error, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_op_and_the_problem(name, call, error, message):
    with pytest.raises(error, match=message):
        call()
