"""The array fast paths give what the plain formulation gives.

layer_norm, softmax and log_softmax take their first-order backward on arrays and the
create_graph backward in Tensor ops: both equal the op composed from elementary ops (value,
gradient, second order). The rows scatter-add behind embedding's gradient equals numpy's
add.at bit for bit, and relu's forward equals numpy's maximum(x, 0) bit for bit."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.device import backend_for

RNG = np.random.default_rng(7)


def composed_layer_norm(x, weight, bias, dims, eps=1e-5):
    centred = x - x.mean(dims, keepdim=True)
    out = centred / ((centred * centred).mean(dims, keepdim=True) + eps).sqrt()
    if weight is not None:
        out = out * weight
    return out + bias if bias is not None else out


def composed_softmax(x, dim):
    shifted = x - x.amax(dim, keepdim=True).detach()
    e = shifted.exp()
    return e / e.sum(dim, keepdim=True)


def composed_log_softmax(x, dim):
    shifted = x - x.amax(dim, keepdim=True).detach()
    return shifted - shifted.exp().sum(dim, keepdim=True).log()


def first_and_second_order(fn, inputs, w):
    """d sum(fn * w)/d inputs, then d sum(those grads * v)/d inputs (v fixed per shape)."""
    out = fn(*inputs)
    grads = cr.autograd.grad((out * w).sum(), inputs, create_graph=True)
    firsts = [g.detach().numpy() for g in grads]
    total = sum((g * cr.tensor(np.random.default_rng(g.ndim).standard_normal(g.shape))).sum()
                for g in grads)
    seconds = cr.autograd.grad(total, inputs, allow_unused=True)
    plain = cr.autograd.grad((fn(*inputs) * w).sum(), inputs)  # the array path
    return out.detach().numpy(), firsts, [p.numpy() for p in plain], seconds


CASES = [
    ("layer_norm last dim", (4, 5, 6), (2,), True, True),
    ("layer_norm two dims", (3, 4, 5), (1, 2), True, False),
    ("layer_norm no affine", (2, 7), (1,), False, False),
    ("layer_norm bias only", (2, 7), (1,), False, True),
    ("layer_norm 1-d", (6,), (0,), True, True),
]


@pytest.mark.parametrize("name,shape,dims,with_weight,with_bias", CASES)
def test_layer_norm_equals_its_composition(name, shape, dims, with_weight, with_bias):
    normalized = tuple(shape[d] for d in dims)
    x = cr.tensor(RNG.standard_normal(shape), requires_grad=True)
    weight = cr.tensor(RNG.standard_normal(normalized), requires_grad=True) if with_weight else None
    bias = cr.tensor(RNG.standard_normal(normalized), requires_grad=True) if with_bias else None
    inputs = [t for t in (x, weight, bias) if t is not None]
    w = cr.tensor(RNG.standard_normal(shape))

    def fused(*args):
        it = iter(args[1:])
        return cr.layer_norm(args[0], normalized, next(it) if with_weight else None,
                             next(it) if with_bias else None)

    def composed(*args):
        it = iter(args[1:])
        return composed_layer_norm(args[0], next(it) if with_weight else None,
                                   next(it) if with_bias else None, dims)

    value, firsts, plain, seconds = first_and_second_order(fused, inputs, w)
    c_value, c_firsts, c_plain, c_seconds = first_and_second_order(composed, inputs, w)
    np.testing.assert_allclose(value, c_value, rtol=1e-10, atol=1e-12)
    for a, b, p in zip(firsts, c_firsts, plain):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(p, b, rtol=1e-9, atol=1e-11)  # the array path
    for a, b in zip(seconds, c_seconds):
        if b is not None:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("op,composed", [(cr.softmax, composed_softmax),
                                         (cr.log_softmax, composed_log_softmax)])
@pytest.mark.parametrize("shape,dim", [((3, 4, 5), -1), ((3, 4, 5), 1), ((6,), 0), ((2, 0, 3), 2)])
def test_softmaxes_equal_their_compositions(op, composed, shape, dim):
    x = cr.tensor(RNG.standard_normal(shape) * 3, requires_grad=True)
    w = cr.tensor(RNG.standard_normal(shape))
    value, firsts, plain, seconds = first_and_second_order(lambda t: op(t, dim), [x], w)
    c_value, c_firsts, _, c_seconds = first_and_second_order(lambda t: composed(t, dim), [x], w)
    np.testing.assert_allclose(value, c_value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(firsts[0], c_firsts[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(plain[0], c_firsts[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(seconds[0].numpy(), c_seconds[0].numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("shape", [(4, 9), (16, 32, 32), (3, 2000)])
def test_the_first_order_softmax_backward_is_the_tensor_formula(shape):
    """The array backward sums rows with einsum, the Tensor one with sum: float32 rounding
    apart, no more."""
    x = cr.tensor(RNG.standard_normal(shape).astype(np.float32), requires_grad=True)
    g = cr.tensor(RNG.standard_normal(shape).astype(np.float32))
    (plain,) = cr.autograd.grad(x.softmax(-1), x, g)
    (graphed,) = cr.autograd.grad(x.softmax(-1), x, g, create_graph=True)
    assert plain.dtype == cr.float32
    np.testing.assert_allclose(plain.numpy(), graphed.detach().numpy(), rtol=2e-6, atol=2e-7)


def test_a_0d_softmax_is_one_with_zero_gradient():
    x = cr.tensor(2.5, requires_grad=True)
    y = cr.softmax(x, 0)
    y.backward()
    assert float(y) == 1.0 and float(x.grad) == 0.0


@pytest.mark.parametrize("index_shape,rows,width", [((37,), 5, (3,)), ((4, 6), 9, (2, 3)),
                                                     ((50,), 3, (1,))])
def test_rows_scatter_add_is_add_at_to_the_bit(index_shape, rows, width):
    backend = backend_for("cpu")
    index = RNG.integers(-rows, rows, index_shape)
    values = RNG.standard_normal(index_shape + width).astype(np.float32)
    ours = np.zeros((rows,) + width, np.float32)
    backend.add_at(ours, index, values)
    theirs = np.zeros((rows,) + width, np.float32)
    np.add.at(theirs, index, values)
    np.testing.assert_array_equal(ours, theirs)


def test_rows_scatter_add_broadcasts_values_and_refuses_bad_rows_as_add_at_does():
    backend = backend_for("cpu")
    ours, theirs = np.zeros((4, 3)), np.zeros((4, 3))
    backend.add_at(ours, np.array([0, 2, 2]), np.array([1.0, 2.0, 3.0]))
    np.add.at(theirs, np.array([0, 2, 2]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(IndexError):
        backend.add_at(ours, np.array([0, 4]), np.ones((2, 3)))
    np.testing.assert_array_equal(ours, theirs)  # nothing half-added


def test_embedding_gradient_sums_repeated_rows():
    weight = cr.tensor(RNG.standard_normal((5, 3)), requires_grad=True)
    index = cr.tensor([[1, 4, 1], [0, 1, 4]])
    g = RNG.standard_normal((2, 3, 3))
    cr.nn.functional.embedding(index, weight).backward(cr.tensor(g))
    expected = np.zeros((5, 3))
    np.add.at(expected, index.numpy(), g)
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-15)


@pytest.mark.parametrize("array", [
    RNG.standard_normal((16, 32, 256)).astype(np.float32),  # the fast path
    RNG.standard_normal((40, 50)),  # float64
    RNG.standard_normal((64, 64, 8, 8)).astype(np.float32)[:, ::2],  # not contiguous
    RNG.standard_normal((3, 5)).astype(np.float32),  # small
])
def test_relu_is_maximum_with_zero_to_the_bit(array):
    array = array.copy() if array.flags.c_contiguous else array
    flat = array.reshape(-1) if array.flags.c_contiguous else None
    if flat is not None:
        flat[:5] = [np.nan, -0.0, 0.0, -np.inf, np.inf]
    out = cr.relu(cr.tensor(array)).numpy()
    expected = np.maximum(array, 0)
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))


def test_relu_zeros_are_not_shared_writable_state():
    big = cr.tensor(RNG.standard_normal(5000).astype(np.float32))
    first = cr.relu(big)
    first.add_(1.0)  # the result is its own array, not the cached zeros
    again = cr.relu(-big.abs())
    assert float(again.abs().sum()) == 0.0


def test_changing_a_layer_norm_output_in_place_leaves_its_gradient_alone():
    x = cr.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    g = cr.tensor(RNG.standard_normal((3, 4)))
    (expected,) = cr.autograd.grad(cr.layer_norm(x, (4,)), x, g)
    y = cr.layer_norm(x, (4,))
    y.add_(5.0)  # the output's array is not the xhat the backward reads
    (after,) = cr.autograd.grad(y, x, g)
    np.testing.assert_array_equal(after.numpy(), expected.numpy())


@pytest.mark.parametrize("shape,dtype", [((64, 4096), np.float32), ((64, 2048), np.float64),
                                         ((8, 65536), np.float32), ((4096, 64), np.float32),
                                         ((100, 3000), np.float32), ((0, 1024), np.float32),
                                         ((256, 256), np.complex128), ((64, 1024), np.int16)])
def test_transposed_copy_is_the_transpose_to_the_bit(shape, dtype):
    """Staged through padded rows or not, the result is the C-contiguous transpose, a copy
    unless the transpose already was C-contiguous (a Fortran-ordered source)."""
    backend = backend_for("cpu")
    rng = np.random.default_rng(5)
    matrix = (rng.standard_normal(shape) * 100).astype(dtype)
    for source in (matrix, matrix[:, ::2], np.asfortranarray(matrix)):
        out = backend.transposed_copy(source)
        assert out.flags.c_contiguous
        if not source.T.flags.c_contiguous:
            assert not np.shares_memory(out, source)
        np.testing.assert_array_equal(out, source.T)
        assert out.dtype == source.dtype
        readable = backend.readable_down_columns(source)
        np.testing.assert_array_equal(readable, source)


def _rows_with_specials(shape, dtype):
    values = (RNG.standard_normal(shape) * 10).astype(dtype)
    flat = values.reshape(-1, shape[-1])
    flat[0, 1] = np.nan
    flat[1, :] = -np.inf
    flat[2, 0] = np.inf
    return values


@pytest.mark.parametrize("shape", [(16, 32, 32), (512, 65), (4, 300), (64, 10), (2, 3, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_along_is_numpys_max_to_the_bit(shape, dtype):
    backend = backend_for("cpu")
    values = _rows_with_specials(shape, dtype) if shape[0] > 2 else RNG.standard_normal(shape)
    for axis in (-1, len(shape) - 1, 0):
        np.testing.assert_array_equal(backend.max_along(values, axis),
                                      values.max(axis=axis, keepdims=True))
    empty = np.zeros(shape[:-1] + (0,), dtype)
    np.testing.assert_array_equal(backend.max_along(empty, -1, initial=-np.inf),
                                  np.full(shape[:-1] + (1,), -np.inf, dtype))


@pytest.mark.parametrize("shape", [(16, 32, 32), (512, 65), (3, 1024), (3, 1025), (5, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64])
def test_sum_along_is_numpys_sum_up_to_rounding(shape, dtype):
    backend = backend_for("cpu")
    values = (RNG.standard_normal(shape) * 10).astype(dtype)
    other = (RNG.standard_normal(shape) * 10).astype(dtype)
    tolerance = {np.float32: 1e-5, np.float64: 1e-12}.get(dtype, 0)
    for axis in (-1, 0):
        for got, want in ((backend.sum_along(values, axis), values.sum(axis=axis, keepdims=True)),
                          (backend.sum_along(values, axis, other),
                           (values * other).sum(axis=axis, keepdims=True))):
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance * 100)
    for axis in (-1, 0):
        if values.shape[axis]:
            np.testing.assert_allclose(backend.mean_along(values, axis),
                                       values.mean(axis=axis, keepdims=True),
                                       rtol=tolerance, atol=tolerance)
    if dtype == np.float32 and shape[-1]:  # inf and NaN propagate as in sum
        values[0, 0], values[1, 0] = np.inf, np.nan
        np.testing.assert_array_equal(np.isfinite(backend.sum_along(values, -1)),
                                      np.isfinite(values.sum(axis=-1, keepdims=True)))
