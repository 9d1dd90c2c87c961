"""Neural-network ops against ``torch.nn.functional``, from one table.

softmax, log_softmax, conv2d, unfold/fold, max_pool2d, avg_pool2d and
embedding are checked by ``check_op`` (value, gradient, second derivative,
finite differences, in float64); dropout, whose mask is random, by its
statistics and its gradient; every error message by its words.
"""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.ops.activation import log_softmax, softmax
from chainrule.ops.convolution import conv2d, fold, unfold
from chainrule.ops.dropout import dropout
from chainrule.ops.embedding import embedding
from chainrule.ops.pooling import avg_pool2d, max_pool2d
from tests.tensor.parity import check_op, random_inputs


def distinct(rng, shape):
    """Values spaced at least 1e-2 apart: no ties for max pooling, even under finite differences."""
    return rng.permutation(np.linspace(-2, 2, int(np.prod(shape)))).reshape(shape)


def second_backward(op, torch_op):
    """The vector-Jacobian product (x, v) -> d<op(x), v>/dx, in both libraries.

    As a function of v it is the op's backward; differentiating it runs the
    backward's own backward (Fold's Unfold, ScatterAdd's Gather...).
    """
    def ours(x, v):
        x = x.detach().requires_grad_()
        (grad,) = cr.autograd.grad(op(x), [x], v, create_graph=True)
        return grad

    def theirs(x, v):
        x = x.detach().requires_grad_()
        (grad,) = torch.autograd.grad(torch_op(x), [x], v, create_graph=True)
        return grad

    return ours, theirs


# ------------------------------------------------------------------- the table

SOFTMAX_CASES = [((3, 4), 1), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((2, 3, 4), -2),
                 ((1, 5), 0), ((4, 1), 1), ((0, 4), 1), ((3, 0), -1), ((), 0), ((5,), -1)]

# input shape, weight shape, bias, keyword arguments: a grid over stride, padding,
# dilation and groups (1, 2, depthwise); bias, kernel shape and batch vary along it.
CONV_GRID = [
    ((1 + i % 2, 4, 7, 6), (4, 4 // groups, 3 - i % 2, 2 + i % 2), i % 3 != 1,
     {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups})
    for i, (stride, padding, dilation, groups) in enumerate(itertools.product(
        (1, 2), (0, 1, (1, 2)), (1, 2), (1, 2, 4)))
]
CONV_EXTRA = [
    ((0, 2, 5, 5), (3, 2, 3, 3), True, {"padding": 1}),  # an empty batch
    ((3, 5, 5), (2, 3, 3, 3), True, {"padding": 1}),  # one unbatched image
    ((2, 3, 6, 6), (6, 1, 2, 3), True, {"groups": 3, "stride": (2, 1)}),  # depth multiplier 2
    ((2, 2, 5, 6), (3, 2, 3, 2), True, {"padding": "same"}),
    ((1, 2, 6, 6), (3, 2, 2, 3), False, {"padding": "same", "dilation": (2, 1)}),
    ((2, 2, 5, 6), (3, 2, 3, 3), False, {"padding": "valid", "dilation": 2}),
    ((2, 3, 1, 1), (2, 3, 1, 1), True, {}),  # size-1 image and kernel
]


def conv_row(input_shape, weight_shape, bias, kwargs):
    shapes = [input_shape, weight_shape] + ([(weight_shape[0],)] if bias else [])
    return (lambda x, w, b=None: conv2d(x, w, b, **kwargs),
            lambda x, w, b=None: F.conv2d(x, w, b, **kwargs), [shapes], (-1, 1), {})


UNFOLD_CASES = [((2, 3, 5, 6), {"kernel_size": 2}), ((1, 2, 6, 5), {"kernel_size": (3, 2)}),
                ((2, 2, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": (2, 1)}),
                ((1, 1, 4, 5), {"kernel_size": (1, 2), "padding": (1, 2), "stride": (2, 3)}),
                ((0, 2, 4, 4), {"kernel_size": 2}), ((3, 4, 4), {"kernel_size": 2, "stride": 2})]
# fold input shape (N, C * kh * kw, L), keyword arguments
FOLD_CASES = [((2, 12, 20), {"output_size": (5, 6), "kernel_size": 2}),
              ((1, 6, 9), {"output_size": 5, "kernel_size": (3, 2), "stride": 2, "padding": 1}),
              ((2, 8, 9), {"output_size": (7, 7), "kernel_size": 2, "dilation": 2, "stride": 2}),
              ((8, 9), {"output_size": (7, 7), "kernel_size": 2, "dilation": 2, "stride": 2})]

MAX_POOL_CASES = [((2, 3, 6, 6), {"kernel_size": 2}), ((1, 2, 7, 5), {"kernel_size": 3}),
                  ((2, 2, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
                  ((1, 2, 6, 7), {"kernel_size": (2, 3), "stride": 1, "padding": (1, 0)}),
                  ((1, 2, 7, 7), {"kernel_size": 2, "dilation": 2, "padding": 1}),
                  ((2, 1, 7, 6), {"kernel_size": 2, "ceil_mode": True}),
                  ((1, 2, 8, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
                  # the last ceil_mode window would start in the right padding: dropped
                  ((1, 2, 5, 5), {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}),
                  ((0, 2, 4, 4), {"kernel_size": 2}), ((2, 5, 5), {"kernel_size": 2})]
AVG_POOL_CASES = [((2, 3, 6, 6), {"kernel_size": 2}), ((1, 2, 7, 5), {"kernel_size": 3}),
                  ((2, 2, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
                  ((2, 2, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1,
                                  "count_include_pad": False}),
                  ((1, 2, 6, 7), {"kernel_size": (2, 3), "stride": 1, "padding": (1, 0)}),
                  ((2, 1, 7, 6), {"kernel_size": 2, "ceil_mode": True}),
                  ((1, 2, 8, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
                  ((1, 2, 8, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                                  "count_include_pad": False}),
                  ((1, 2, 5, 5), {"kernel_size": 2, "divisor_override": 3}),
                  # the last ceil_mode window would start in the right padding: dropped
                  ((1, 2, 5, 5), {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}),
                  ((0, 2, 4, 4), {"kernel_size": 2}), ((2, 5, 5), {"kernel_size": 2})]

# index shape, (num_embeddings, dim), padding_idx; indices repeat (10 or more drawn below 5)
EMBEDDING_CASES = [((4,), (5, 3), None), ((3, 4), (5, 2), None), ((2, 6), (5, 3), 1),
                   ((12,), (5, 4), -1), ((0,), (5, 3), None), ((), (5, 3), None)]


def _embedding_row(index_shape, weight_shape, padding_idx):
    rows = weight_shape[0]

    def draw(rng, shape):
        return rng.standard_normal(shape) if shape == weight_shape else rng.integers(0, rows, shape)
    return (lambda i, w: embedding(i, w, padding_idx=padding_idx),
            lambda i, w: F.embedding(i, w, padding_idx=padding_idx),
            [[index_shape, weight_shape]], draw,
            # the padding row gets no gradient by design: finite differences would disagree
            {"finite_differences": padding_idx is None})


OPS = {}
for k, (shape, dim) in enumerate(SOFTMAX_CASES):
    OPS[f"softmax_{k}"] = (lambda x, d=dim: softmax(x, d), lambda x, d=dim: F.softmax(x, d),
                           [[shape]], (-3, 3), {})
    OPS[f"log_softmax_{k}"] = (lambda x, d=dim: x.log_softmax(d),
                               lambda x, d=dim: F.log_softmax(x, d), [[shape]], (-3, 3), {})
# dtype= casts the float32 input first; float32 is too coarse for finite differences
OPS["softmax_method_dtype"] = (lambda x: x.float().softmax(-1, dtype=cr.float64),
                               lambda x: x.float().softmax(-1, dtype=torch.float64), [[(2, 3)]],
                               (-3, 3), {"finite_differences": False})
for k, case in enumerate(CONV_GRID + CONV_EXTRA):
    OPS[f"conv2d_{k}"] = conv_row(*case)
for k, (shape, kwargs) in enumerate(UNFOLD_CASES):
    OPS[f"unfold_{k}"] = (lambda x, a=kwargs: unfold(x, **a), lambda x, a=kwargs: F.unfold(x, **a),
                          [[shape]], (-2, 2), {})
for k, (shape, kwargs) in enumerate(FOLD_CASES):
    OPS[f"fold_{k}"] = (lambda x, a=kwargs: fold(x, **a), lambda x, a=kwargs: F.fold(x, **a),
                        [[shape]], (-2, 2), {})
for k, (shape, kwargs) in enumerate(MAX_POOL_CASES):
    OPS[f"max_pool2d_{k}"] = (lambda x, a=kwargs: max_pool2d(x, **a),
                              lambda x, a=kwargs: F.max_pool2d(x, **a), [[shape]], distinct, {})
for k, (shape, kwargs) in enumerate(AVG_POOL_CASES):
    OPS[f"avg_pool2d_{k}"] = (lambda x, a=kwargs: avg_pool2d(x, **a),
                              lambda x, a=kwargs: F.avg_pool2d(x, **a), [[shape]], (-2, 2), {})
for k, case in enumerate(EMBEDDING_CASES):
    OPS[f"embedding_{k}"] = _embedding_row(*case)

# The backward of each primitive, differentiated: (x, v) -> vjp, differentiated in v.
_BACKWARDS = {
    "unfold": (lambda x: unfold(x, 2, padding=1, stride=2), lambda x: F.unfold(x, 2, padding=1,
                                                                               stride=2),
               [(2, 2, 5, 5), (2, 8, 9)], (-2, 2)),
    "fold": (lambda x: fold(x, (5, 5), 2, dilation=2), lambda x: F.fold(x, (5, 5), 2, dilation=2),
             [(1, 8, 9), (1, 2, 5, 5)], (-2, 2)),
    "max_pool2d": (lambda x: max_pool2d(x, 3, 2, 1), lambda x: F.max_pool2d(x, 3, 2, 1),
                   [(2, 2, 6, 6), (2, 2, 3, 3)], distinct),
    "avg_pool2d": (lambda x: avg_pool2d(x, 3, 2, 1), lambda x: F.avg_pool2d(x, 3, 2, 1),
                   [(2, 2, 6, 6), (2, 2, 3, 3)], (-2, 2)),
}
for name, (op, torch_op, shapes, domain) in _BACKWARDS.items():
    OPS[f"backward_of_{name}"] = (*second_backward(op, torch_op), [shapes], domain,
                                  {"differentiable": [False, True]})
for padding_idx in (None, 2):
    indices = np.array([[0, 2, 2], [4, 0, 2]])
    OPS[f"backward_of_embedding_{padding_idx}"] = (
        *second_backward(lambda w, p=padding_idx: embedding(cr.tensor(indices), w, p),
                         lambda w, p=padding_idx: F.embedding(torch.tensor(indices), w, p)),
        [[(5, 3), (2, 3, 3)]], (-2, 2), {"differentiable": [False, True]})

CASES = [(name, i) for name, row in OPS.items() for i in range(len(row[2]))]


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on even kernels
@pytest.mark.parametrize("name, case", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_op_matches_pytorch(name, case):
    ours, theirs, shape_sets, domain, options = OPS[name]
    arrays = random_inputs(shape_sets[case], domain, seed=case)
    check_op(ours, theirs, arrays, **options)


# --------------------------------------------------------- softmax at the edges


@pytest.mark.parametrize("op, torch_op", [(softmax, F.softmax), (log_softmax, F.log_softmax)])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_of_huge_logits_is_finite_and_matches_pytorch(op, torch_op, dim):
    logits = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [-1e4, -1e4, 3.0, 2.0], [0.5, 1e4, -1e4, 1.0]])
    check_op(lambda x: op(x, dim), lambda x: torch_op(x, dim), [logits],
             finite_differences=False)
    x = cr.tensor(logits, dtype=cr.float64, requires_grad=True)
    out = op(x, dim)
    (grad,) = cr.autograd.grad((out * out).sum(), [x])
    assert np.isfinite(out.array).all() and np.isfinite(grad.array).all()


def test_softmax_sums_to_one_and_third_derivative_matches_pytorch():
    x = random_inputs([(3, 4)], seed=5)[0]
    probe = np.random.default_rng(1).standard_normal((3, 4))
    ours = cr.tensor(x, dtype=cr.float64, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    np.testing.assert_allclose(softmax(ours, 1).array.sum(1), 1.0)
    results = []
    for lib, t, fn in ((cr, ours, log_softmax), (torch, theirs, F.log_softmax)):
        y = (fn(t, 1) ** 3).sum()
        (g,) = lib.autograd.grad(y, [t], create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(probe)).sum(), [t], create_graph=True)
        (third,) = lib.autograd.grad((h * h).sum(), [t])
        results.append(np.asarray(third.detach().numpy() if lib is torch else third.array))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-7, atol=1e-9)


# -------------------------------------------- sliding windows, all orders


@pytest.mark.parametrize("op, torch_op, shapes", [
    (lambda x, w: conv2d(x, w, stride=2, padding=1, groups=2),
     lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2), [(1, 2, 5, 5), (2, 1, 3, 3)]),
    (lambda x, w: max_pool2d(x * w.sum(), 2, 1), lambda x, w: F.max_pool2d(x * w.sum(), 2, 1),
     [(1, 2, 4, 4), (2,)]),
])
def test_third_derivatives_through_windows_match_pytorch(op, torch_op, shapes):
    arrays = random_inputs(shapes, distinct, seed=2)
    probes = random_inputs(shapes, seed=3)
    results = []
    for lib in (cr, torch):
        xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        y = (op(*xs) ** 3).sum() if lib is cr else (torch_op(*xs) ** 3).sum()
        grads = lib.autograd.grad(y, xs, create_graph=True)
        hvp = lib.autograd.grad(sum((g * lib.tensor(p)).sum() for g, p in zip(grads, probes)),
                                xs, create_graph=True)
        third = lib.autograd.grad(sum((h * h).sum() for h in hvp), xs)
        results.append([t.detach().numpy() if lib is torch else t.array for t in third])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


def test_max_pool_sends_a_tied_window_gradient_to_its_first_maximum():
    x = np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [2.0, 3.0, 1.0]]]])
    ours = cr.tensor(x, dtype=cr.float64, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    max_pool2d(ours, 2, 1).sum().backward()
    F.max_pool2d(theirs, 2, 1).sum().backward()
    np.testing.assert_array_equal(ours.grad.array, theirs.grad.numpy())


def test_conv2d_keeps_float32():
    x = cr.randn(2, 3, 6, 6, requires_grad=True)
    w = cr.randn(4, 3, 3, 3, requires_grad=True)
    out = max_pool2d(conv2d(x, w, cr.zeros(4), padding=1), 2)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == np.float32


# ------------------------------------------------------------------- dropout


def test_dropout_keeps_the_mean_and_drops_a_fraction_p():
    x = cr.ones(200_000, dtype=cr.float64)
    out = dropout(x, p=0.3)
    assert abs(out.array.mean() - 1.0) < 0.01
    assert abs((out.array == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(np.unique(out.array), [0.0, 1 / 0.7])


def test_dropout_gradient_is_the_scaled_mask():
    x = cr.tensor(random_inputs([(50, 40)], (0.5, 2.0))[0], dtype=cr.float64, requires_grad=True)
    out = dropout(x, p=0.25)
    out.backward(cr.ones(50, 40, dtype=cr.float64))
    kept = out.array != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(x.grad.array, kept / 0.75)
    np.testing.assert_allclose(out.array, x.array * x.grad.array)


def test_dropout_repeats_under_manual_seed():
    x = cr.ones(1000)
    cr.manual_seed(7)
    first = dropout(x, 0.5).array
    cr.manual_seed(7)
    again = dropout(x, 0.5).array
    unseeded = dropout(x, 0.5).array
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, unseeded)


def test_dropout_is_the_identity_at_p_0_or_in_eval_and_zeros_at_p_1():
    x = cr.randn(4, 5, requires_grad=True)
    assert dropout(x, p=0.0) is x
    assert dropout(x, p=0.6, training=False) is x
    out = dropout(x, p=1.0)
    out.sum().backward()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.array, 0.0)
    np.testing.assert_array_equal(x.grad.array, 0.0)


# --------------------------------------------------------------- embedding


def test_embedding_adds_the_gradients_of_repeated_indices_and_skips_padding():
    weight = cr.ones(4, 2, dtype=cr.float64, requires_grad=True)
    embedding(cr.tensor([[1, 3, 1], [1, 0, 3]]), weight, padding_idx=3).sum().backward()
    np.testing.assert_array_equal(weight.grad.array, [[1, 1], [3, 3], [0, 0], [0, 0]])


def test_embedding_of_one_index_copies_the_row():
    weight = cr.ones(4, 2)
    row = embedding(cr.tensor(1), weight)
    row.array[:] = 5.0
    assert row.shape == (2,)
    np.testing.assert_array_equal(weight.array, 1.0)


# ------------------------------------------------------------------ errors

ERRORS = [
    (lambda: softmax(cr.tensor([1, 2]), 0), TypeError, "softmax: expected a floating point"),
    (lambda: softmax(cr.ones(2, 3), 2), IndexError, "softmax: dim 2 is out of range"),
    (lambda: log_softmax(cr.ones(2, 3), None), TypeError, "log_softmax: dim is required"),
    (lambda: softmax([1.0, 2.0], 0), TypeError, "softmax: input must be a Tensor, got list"),
    (lambda: conv2d(cr.ones(1, 4, 5, 5), cr.ones(2, 3, 3, 3)), ValueError,
     "conv2d: given groups=1, weight of shape (2, 3, 3, 3) expects input with 3 channels"),
    (lambda: conv2d(cr.ones(1, 4, 5, 5), cr.ones(3, 2, 3, 3), groups=2), ValueError,
     "out_channels 3 (weight.shape[0]) must be divisible by groups=2"),
    (lambda: conv2d(cr.ones(1, 4, 5, 5), cr.ones(4, 4, 3, 3), groups=0), ValueError,
     "conv2d: groups must be a positive int, got 0"),
    (lambda: conv2d(cr.ones(1, 1, 2, 2), cr.ones(1, 1, 3, 3)), ValueError,
     "conv2d: the padded input is 2 x 2 per channel, smaller than the kernel's span 3 x 3"),
    (lambda: conv2d(cr.ones(1, 1, 5, 5), cr.ones(1, 1, 3)), ValueError,
     "conv2d: weight must be 4-d"),
    (lambda: conv2d(cr.ones(1, 1, 5, 5), cr.ones(2, 1, 3, 3), cr.ones(3)), ValueError,
     "conv2d: bias must have shape (2,)"),
    (lambda: conv2d(cr.ones(1, 1, 5, 5), cr.ones(1, 1, 3, 3), stride=2, padding="same"),
     ValueError, "padding='same' is not supported for strided convolutions"),
    (lambda: conv2d(cr.ones(1, 1, 5, 5), cr.ones(1, 1, 3, 3), padding="full"), ValueError,
     "conv2d: padding must be an int, a pair, 'valid' or 'same', got 'full'"),
    (lambda: conv2d(cr.ones(1, 1, 5, 5), cr.ones(1, 1, 3, 3), stride=0), ValueError,
     "conv2d: stride must be positive, got 0"),
    (lambda: conv2d(cr.ones(1, 1, 5, 5), cr.ones(1, 1, 3, 3), padding=(1, 2, 3)), TypeError,
     "conv2d: padding must be an int or a pair of ints, got (1, 2, 3)"),
    (lambda: conv2d(cr.ones(5, 5), cr.ones(1, 1, 3, 3)), ValueError,
     "conv2d: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got shape (5, 5)"),
    (lambda: conv2d(np.ones((1, 1, 5, 5)), cr.ones(1, 1, 3, 3)), TypeError,
     "conv2d: input must be a Tensor, got ndarray"),
    (lambda: unfold(cr.ones(1, 1, 4, 4), 2, padding=-1), ValueError,
     "unfold: padding must be non-negative, got -1"),
    (lambda: fold(cr.ones(1, 12, 20), (5, 5), 2), ValueError,
     "fold: input has 20 blocks (its last dimension), but output_size (5, 5) with kernel_size "
     "(2, 2), dilation (1, 1), padding (0, 0) and stride (1, 1) has 4 x 4 = 16 blocks"),
    (lambda: fold(cr.ones(1, 10, 16), (5, 5), 2), ValueError,
     "fold: the input's channel dimension (10, of shape (1, 10, 16)) must be divisible by the "
     "kernel's size kh * kw = 2 * 2"),
    (lambda: fold(cr.ones(16), (5, 5), 2), ValueError, "fold: expected a 2-d or 3-d input"),
    (lambda: max_pool2d(cr.ones(1, 1, 5, 5), 3, padding=2), ValueError,
     "max_pool2d: pad should be at most half of effective kernel size, but got pad=2, "
     "kernel_size=3 and dilation=1"),
    (lambda: max_pool2d(cr.ones(1, 1, 1, 1), 3), ValueError,
     "max_pool2d: the padded input is 1 x 1 per channel, smaller than the kernel's span 3 x 3"),
    (lambda: avg_pool2d(cr.ones(1, 1, 4, 4), 2, divisor_override=0), ValueError,
     "avg_pool2d: divisor_override must be non-zero"),
    (lambda: dropout(cr.ones(3), p=1.5), ValueError, "dropout: p is the probability of zeroing "
     "an element and must be between 0 and 1, got p=1.5"),
    (lambda: dropout(cr.ones(3), p=-0.1), ValueError, "got p=-0.1"),
    (lambda: dropout([1.0, 2.0], p=0.5), TypeError, "dropout: input must be a Tensor, got list"),
    (lambda: embedding(cr.tensor([0, 5, 7]), cr.ones(5, 2)), IndexError,
     "embedding: index 5 is out of range for 5 embeddings; indices must be from 0 to 4"),
    (lambda: embedding(cr.tensor([-1]), cr.ones(5, 2)), IndexError,
     "embedding: index -1 is out of range for 5 embeddings"),
    (lambda: embedding(cr.tensor([0.0, 1.0]), cr.ones(5, 2)), TypeError,
     "embedding: indices must be integers (int64 or int32), got dtype float32"),
    (lambda: embedding(cr.tensor([0]), cr.ones(5)), ValueError,
     "embedding: weight must be a 2-d Tensor (num_embeddings, embedding_dim), got shape (5,)"),
    (lambda: embedding(cr.tensor([0]), cr.ones(5, 2), padding_idx=5), ValueError,
     "embedding: padding_idx 5 must be within the 5 embeddings (from -5 to 4)"),
]


@pytest.mark.parametrize("call, error, words", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors_name_the_op_and_the_values(call, error, words):
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)
