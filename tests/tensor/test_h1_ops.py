"""Conversions, devices, creation, generators, erf, fill_ and clamp, against PyTorch."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.nn import functional as F
from chainrule.random import Generator, default_generator
from tests.tensor.parity import check_op, random_inputs

CUDA_MESSAGE = "no cuda backend installed"


def same(ours, theirs, rtol=1e-12, atol=1e-14):
    expected = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    np.testing.assert_allclose(ours.array, expected, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ to()


def test_to_accepts_every_pytorch_form():
    x = cr.tensor([1.5, -2.5], requires_grad=True)
    other = cr.zeros(1, dtype=cr.float64)
    for out in (x.to(cr.float64), x.to(np.dtype("float64")), x.to("cpu", cr.float64),
                x.to(cr.device("cpu"), cr.float64), x.to(other), x.to(dtype=cr.float64),
                x.to(device="cpu", dtype=cr.float64), x.to(cr.float64, non_blocking=True),
                x.to(cr.float64, False, False)):
        assert out.dtype == np.float64 and out.device == cr.device("cpu")
        assert out.requires_grad and out.grad_fn is not None


def test_to_returns_self_when_nothing_changes_unless_copy():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert x.to(cr.float32) is x
    assert x.to("cpu") is x and x.to(cr.device("cpu")) is x
    assert x.to(x) is x and x.to(device="cpu", dtype=cr.float32) is x
    assert x.cpu() is x and x.float() is x and x.type_as(x) is x
    copied = x.to("cpu", copy=True)
    assert copied is not x and copied.array is not x.array and copied.grad_fn is not None
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    assert t.to(torch.float32) is t and t.to("cpu") is t and t.to("cpu", copy=True) is not t


def test_to_rejects_malformed_arguments():
    x = cr.ones(2)
    with pytest.raises(TypeError, match="dtype is given twice"):
        x.to(cr.float64, dtype=cr.float32)
    with pytest.raises(TypeError, match="to: expected a dtype, a device or a Tensor"):
        x.to(cr.float64, "yes")


def test_casts_are_differentiable_as_in_torch():
    a = np.array([0.25, -1.5, 3.0])
    for ours, theirs in ((lambda x: x.float(), lambda x: x.float()),
                         (lambda x: x.half().double() * 3, lambda x: x.half().double() * 3),
                         (lambda x: x.to(cr.float32).to(x) ** 2,
                          lambda x: x.to(torch.float32).to(x) ** 2)):
        x = cr.tensor(a, dtype=cr.float64, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        y, u = ours(x), theirs(t)
        assert str(y.dtype) == str(u.dtype).removeprefix("torch.")
        y.sum().backward()
        u.sum().backward()
        assert x.grad.dtype == np.float64
        same(x.grad, t.grad, rtol=1e-6)


def test_integer_and_bool_casts_leave_the_graph():
    x = cr.tensor([1.7, -0.2, 0.0], requires_grad=True)
    t = torch.tensor([1.7, -0.2, 0.0], requires_grad=True)
    for name in ("long", "int", "short", "char", "bool"):
        ours, theirs = getattr(x, name)(), getattr(t, name)()
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        assert not ours.requires_grad and not theirs.requires_grad
        np.testing.assert_array_equal(ours.array, theirs.numpy())
    assert x.byte().dtype == np.uint8


def test_contiguous_copies_only_when_the_memory_is_not_row_major():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.contiguous() is x and x.is_contiguous()
    y = x.transpose(0, 1)
    assert not y.is_contiguous()
    z = y.contiguous()
    assert z.is_contiguous() and not np.shares_memory(z.array, x.array)
    (z * cr.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [[1.0, 3.0], [2.0, 4.0]])


# ------------------------------------------------------------------ devices


@pytest.mark.parametrize("make", [
    lambda x: x.cuda(), lambda x: x.cuda(0), lambda x: x.to("cuda"), lambda x: x.to("cuda:1"),
    lambda x: x.to(cr.device("cuda")), lambda x: x.to(device="cuda", dtype=cr.float64),
    lambda x: cr.zeros(2, device="cuda"), lambda x: cr.randn(2, device="cuda"),
    lambda x: cr.zeros_like(x, device="cuda"), lambda x: x.new_zeros(2, device="cuda"),
    lambda x: cr.tensor([1.0], device="cuda"), lambda x: Generator(device="cuda"),
])
def test_asking_for_cuda_says_no_gpu_backend_is_installed(make):
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=CUDA_MESSAGE) as error:
        make(x)
    assert "numpy" not in type(error.value).__module__


CREATORS = {
    "zeros": (lambda **k: cr.zeros(2, 3, **k), lambda **k: torch.zeros(2, 3, **k)),
    "ones": (lambda **k: cr.ones((2, 3), **k), lambda **k: torch.ones((2, 3), **k)),
    "empty": (lambda **k: cr.empty(4, **k), lambda **k: torch.empty(4, **k)),
    "full": (lambda **k: cr.full((2,), 1.5, **k), lambda **k: torch.full((2,), 1.5, **k)),
    "arange": (lambda **k: cr.arange(0.0, 2.0, 0.5, **k),
               lambda **k: torch.arange(0.0, 2.0, 0.5, **k)),
    "linspace": (lambda **k: cr.linspace(0, 1, 5, **k), lambda **k: torch.linspace(0, 1, 5, **k)),
    "eye": (lambda **k: cr.eye(3, 2, **k), lambda **k: torch.eye(3, 2, **k)),
    "rand": (lambda **k: cr.rand(2, 2, **k), lambda **k: torch.rand(2, 2, **k)),
    "randn": (lambda **k: cr.randn(3, **k), lambda **k: torch.randn(3, **k)),
    "zeros_like": (lambda **k: cr.zeros_like(cr.ones(2), **k),
                   lambda **k: torch.zeros_like(torch.ones(2), **k)),
    "ones_like": (lambda **k: cr.ones_like(cr.ones(2), **k),
                  lambda **k: torch.ones_like(torch.ones(2), **k)),
    "empty_like": (lambda **k: cr.empty_like(cr.ones(2), **k),
                   lambda **k: torch.empty_like(torch.ones(2), **k)),
    "full_like": (lambda **k: cr.full_like(cr.ones(2), 7, **k),
                  lambda **k: torch.full_like(torch.ones(2), 7, **k)),
    "rand_like": (lambda **k: cr.rand_like(cr.ones(2), **k),
                  lambda **k: torch.rand_like(torch.ones(2), **k)),
    "randn_like": (lambda **k: cr.randn_like(cr.ones(2), **k),
                   lambda **k: torch.randn_like(torch.ones(2), **k)),
    "new_zeros": (lambda **k: cr.ones(1).new_zeros(2, 3, **k),
                  lambda **k: torch.ones(1).new_zeros(2, 3, **k)),
    "new_ones": (lambda **k: cr.ones(1).new_ones((2,), **k),
                 lambda **k: torch.ones(1).new_ones((2,), **k)),
    "new_empty": (lambda **k: cr.ones(1).new_empty(2, **k),
                  lambda **k: torch.ones(1).new_empty(2, **k)),
    "new_full": (lambda **k: cr.ones(1).new_full((2,), 3.0, **k),
                 lambda **k: torch.ones(1).new_full((2,), 3.0, **k)),
    "new_tensor": (lambda **k: cr.ones(1).new_tensor([1.0, 2.0], **k),
                   lambda **k: torch.ones(1).new_tensor([1.0, 2.0], **k)),
    "tensor": (lambda **k: cr.tensor([1.0, 2.0], **k), lambda **k: torch.tensor([1.0, 2.0], **k)),
}


@pytest.mark.parametrize("name", sorted(CREATORS))
def test_creation_takes_device_dtype_and_requires_grad_as_torch(name):
    ours, theirs = CREATORS[name]
    for device in (None, "cpu", cr.device("cpu")):
        kwargs = {} if device is None else {"device": device}
        x, t = ours(**kwargs), theirs(**({} if device is None else {"device": "cpu"}))
        assert x.device == cr.device("cpu") and tuple(x.shape) == tuple(t.shape)
        assert str(x.dtype) == str(t.dtype).removeprefix("torch.")
        if name not in ("empty", "empty_like", "new_empty") and "rand" not in name:
            same(x, t)
    x = ours(dtype=cr.float64, requires_grad=True)
    t = theirs(dtype=torch.float64, requires_grad=True)
    assert x.dtype == np.float64 and x.requires_grad and t.requires_grad and x.is_leaf


def test_like_and_new_default_to_the_inputs_dtype():
    x = cr.ones(2, dtype=cr.float64)
    for made in (cr.zeros_like(x), cr.rand_like(x), cr.full_like(x, 2), x.new_zeros(3),
                 x.new_full((1,), 2), x.new_tensor([1, 2])):
        assert made.dtype == np.float64 and made.device == x.device
    assert cr.full((2,), 3).dtype == np.int64 and cr.full((2,), True).dtype == np.bool_
    assert cr.arange(4).dtype == np.int64 and cr.arange(4.0).dtype == np.float32


def test_randint_takes_both_torch_signatures():
    cr.manual_seed(0)
    for x in (cr.randint(5, (1000,)), cr.randint(2, 5, (1000,)), cr.randint(2, 5, size=(1000,)),
              cr.randint(5, size=(1000,)), cr.randint(low=2, high=5, size=(1000,)),
              cr.randint(2, high=5, size=(1000,))):
        assert x.dtype == np.int64 and x.shape == (1000,)
        assert x.array.max() == 4
    assert cr.randint(5, (1000,)).data.min() == 0
    assert cr.randint(2, 5, (1000,)).data.min() == 2
    assert cr.randint(3, (2, 2), dtype=cr.int32).dtype == np.int32
    assert cr.randint_like(cr.ones(3, dtype=cr.int64), 4).dtype == np.int64
    with pytest.raises(TypeError, match="randint: high and size are required"):
        cr.randint(5)


# ------------------------------------------------------------------ generators


def test_manual_seed_resets_the_default_generator_in_place():
    g = default_generator
    assert cr.manual_seed(1) is g
    assert g is cr.random.default_generator and g.initial_seed() == 1
    first = (cr.rand(3), cr.randn(2), cr.randint(10, (4,)), cr.rand_like(cr.ones(2)))
    cr.manual_seed(1)
    again = (cr.rand(3), cr.randn(2), cr.randint(10, (4,)), cr.rand_like(cr.ones(2)))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.array, b.array)
    cr.manual_seed(2)
    assert not np.array_equal(cr.rand(3).array, first[0].array)


def test_a_generator_of_ones_own_is_reproducible_and_leaves_the_default_alone():
    cr.manual_seed(5)
    expected = cr.rand(4)
    g = Generator(device="cpu")
    assert g.manual_seed(9) is g and g.device == cr.device("cpu")
    a = cr.rand(4, generator=g)
    cr.manual_seed(5)
    b = cr.randn(2, generator=g)  # draws from g do not move the default generator
    np.testing.assert_array_equal(cr.rand(4).array, expected.array)
    g.manual_seed(9)
    np.testing.assert_array_equal(cr.rand(4, generator=g).array, a.array)
    np.testing.assert_array_equal(cr.randn(2, generator=g).array, b.array)
    assert cr.randint(0, 3, (2,), generator=g).shape == (2,)


def test_generator_state_round_trips():
    g = Generator().manual_seed(11)
    cr.rand(3, generator=g)
    state = g.get_state()
    assert isinstance(state, cr.Tensor) and state.dtype == np.uint8 and state.ndim == 1
    after = cr.rand(5, generator=g)
    g.manual_seed(0)
    assert g.set_state(state) is g and g.initial_seed() == 11
    np.testing.assert_array_equal(cr.rand(5, generator=g).array, after.array)
    saved = cr.get_rng_state()
    draws = cr.randn(3)
    cr.set_rng_state(saved)
    np.testing.assert_array_equal(cr.randn(3).array, draws.array)
    with pytest.raises(ValueError, match="set_state: expected a state from Generator.get_state"):
        g.set_state(cr.tensor([1, 2, 3], dtype=cr.int64).byte())


def test_seed_and_initial_seed_as_torch():
    s = cr.seed()
    assert isinstance(s, int) and s >= 0 and cr.initial_seed() == s
    cr.manual_seed(-1)  # negative seeds wrap to 64 bits, as in torch
    torch.manual_seed(-1)
    assert cr.initial_seed() == torch.initial_seed() == 2**64 - 1
    with pytest.raises(TypeError, match="manual_seed: expected an int seed"):
        cr.manual_seed(1.5)
    cr.manual_seed(0)


# ------------------------------------------------------------------ erf


def test_erf_is_exact_to_double_precision_with_its_derivatives():
    wide = np.concatenate([np.linspace(-6, 6, 41), [0.0, 1e-300, -1e-8, 3e-3, 27.0, -27.0]])
    check_op(cr.erf, torch.erf, [wide], rtol=1e-12, atol=1e-14, finite_differences=False)
    check_op(lambda x: x.erf(), torch.special.erf, random_inputs([(3, 4)], (-3, 3)),
             rtol=1e-12, atol=1e-14)
    x = cr.tensor(wide.astype(np.float32))
    assert cr.erf(x).dtype == np.float32
    same(cr.erf(x), torch.erf(torch.tensor(wide.astype(np.float32))), rtol=1e-6, atol=1e-7)


def test_erf_in_place_and_gelu_use_it():
    x = cr.tensor([0.5, -1.0], dtype=cr.float64)
    x.erf_()
    same(x, torch.tensor([0.5, -1.0], dtype=torch.float64).erf_())
    check_op(F.gelu, torch.nn.functional.gelu, random_inputs([(5,)], (-4, 4)), rtol=1e-12,
             atol=1e-14)


# ------------------------------------------------------------------ fill_, zero_


def filled(lib, value_requires_grad):
    a = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
    v = lib.tensor(0.75, dtype=lib.float64, requires_grad=value_requires_grad)
    y = a * 2
    z = a * 3
    y.fill_(v)
    z.zero_()
    w = a * 1
    w.fill_(2.5)
    out = ((y + 1) * a + z * a + w * a * a).sum()
    return a, v, y, z, out


@pytest.mark.parametrize("value_requires_grad", [False, True])
def test_fill_and_zero_gradients_as_torch(value_requires_grad):
    a, v, y, z, out = filled(cr, value_requires_grad)
    ta, tv, ty, tz, tout = filled(torch, value_requires_grad)
    same(y, ty)
    same(z, tz)
    wrt, twrt = [a, v] if value_requires_grad else [a], [ta, tv] if value_requires_grad else [ta]
    grads = cr.autograd.grad(out, wrt, create_graph=True)
    tgrads = torch.autograd.grad(tout, twrt, create_graph=True)
    for g, t in zip(grads, tgrads):
        same(g, t)
    (h,) = cr.autograd.grad(grads[0].sum(), [a])
    (th,) = torch.autograd.grad(tgrads[0].sum(), [ta])
    same(h, th)


def test_fill_writes_in_place_without_a_new_array_and_bumps_the_version():
    x = cr.zeros(4)
    before, version = x.array, x._version[0]
    assert x.fill_(3.0) is x and x.array is before and x._version[0] == version + 1
    assert x.zero_() is x and x.array is before and x._version[0] == version + 2
    np.testing.assert_array_equal(x.array, 0.0)
    y = cr.ones(3, requires_grad=True) * 2
    kept = y.array
    y.fill_(1.0)
    assert y.array is kept and y.grad_fn.op_name == "Fill"
    leaf = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="fill_: a leaf tensor that requires grad"):
        leaf.fill_(0.0)
    with cr.no_grad():
        leaf.zero_()
    np.testing.assert_array_equal(leaf.array, 0.0)
    with pytest.raises(RuntimeError, match="only a 0-dimensional value tensor"):
        cr.ones(2).fill_(cr.ones(2))


def test_fill_of_a_view_writes_through_and_differentiates():
    def run(lib):
        a = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        y = a * 1
        y[0].fill_(5.0)
        y[:, 1].zero_()
        (y * a).sum().backward()
        return y, a.grad

    for ours, theirs in zip(run(cr), run(torch)):
        same(ours, theirs)


def test_fill_on_a_saved_tensor_fails_loudly():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    y = a * 1
    z = y * y
    y.fill_(0.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


# ------------------------------------------------------------------ clamp


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (0.5, -0.5), (0.3, 0.3), (None, 0.2),
                                    (-0.2, None)])
def test_clamp_with_number_bounds_as_torch(bounds):
    lo, hi = bounds
    arrays = [np.array([-1.0, -0.5, -0.2, 0.0, 0.2, 0.3, 0.5, 1.0])]
    check_op(lambda x: cr.clamp(x, lo, hi), lambda x: torch.clamp(x, lo, hi), arrays,
             finite_differences=False)
    check_op(lambda x: x.clip(min=lo, max=hi), lambda x: x.clip(min=lo, max=hi), arrays,
             finite_differences=False)


def test_min_above_max_gives_max_everywhere():
    x = cr.tensor([-3.0, 0.0, 3.0])
    np.testing.assert_array_equal(x.clamp(2.0, 1.0).array, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(torch.tensor([-3.0, 0.0, 3.0]).clamp(2.0, 1.0).numpy(),
                                  [1.0, 1.0, 1.0])


def bound_inputs(rng, shape):
    return rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], size=shape) + rng.uniform(-0.2, 0.2, shape)


@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4), (3, 4)], [(3, 4), (4,), (1, 4)],
                                    [(4,), (3, 1), (3, 4)]])
def test_clamp_with_tensor_bounds_as_torch(shapes):
    for seed in range(3):
        arrays = random_inputs(shapes, bound_inputs, seed=seed)
        check_op(lambda x, lo, hi: cr.clamp(x, lo, hi), lambda x, lo, hi: torch.clamp(x, lo, hi),
                 arrays, finite_differences=False)
        check_op(lambda x, lo: x.clamp(min=lo), lambda x, lo: x.clamp(min=lo), arrays[:2],
                 finite_differences=False)
        check_op(lambda x, hi: cr.clamp_max(x, hi), lambda x, hi: torch.clamp_max(x, hi),
                 [arrays[0], arrays[2]], finite_differences=False)


def test_clamp_in_place_and_nan_as_torch():
    def run(lib):
        a = lib.tensor([-2.0, 0.1, 2.0, float("nan")], dtype=lib.float64, requires_grad=True)
        y = a * 1
        y.clamp_(-1.0, 1.0)
        y.clamp_min_(0.0)
        y.clip_(max=0.05)
        (y * y).sum().backward()
        return y, a.grad

    for ours, theirs in zip(run(cr), run(torch)):
        np.testing.assert_array_equal(ours.array, theirs.detach().numpy())
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        cr.clamp(cr.ones(2))


# ------------------------------------------------------------------ the rest


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge", "greater", "less_equal",
                                  "not_equal", "logical_and", "logical_or", "logical_xor"])
def test_comparisons_and_logical_ops_as_torch(name):
    a, b = np.array([[1.0, 2.0, 0.0]]), np.array([[2.0], [0.0]])
    ours = getattr(cr, name)(cr.tensor(a), cr.tensor(b))
    theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    assert ours.dtype == np.bool_ and not ours.requires_grad
    np.testing.assert_array_equal(ours.array, theirs.numpy())
    other = 1.0 if "logical" not in name else torch.tensor(1.0)  # torch's logical ops want tensors
    method = getattr(cr.tensor(a, requires_grad=True), name)(1.0)
    np.testing.assert_array_equal(method.array, getattr(torch.tensor(a), name)(other).numpy())


def test_operators_and_bitwise_ops_as_torch():
    x, y = cr.tensor([1, 6, 3]), cr.tensor([3, 5, 3])
    tx, ty = torch.tensor([1, 6, 3]), torch.tensor([3, 5, 3])
    for ours, theirs in (((x & y), (tx & ty)), ((x | 4), (tx | 4)), ((2 ^ x), (2 ^ tx)),
                         ((~x), (~tx)), ((x == y), (tx == ty)), ((2 < x), (2 < tx)),
                         ((~(x > 2)), (~(tx > 2))), (cr.logical_not(x), torch.logical_not(tx)),
                         (cr.bitwise_not(x > 2), torch.bitwise_not(tx > 2))):
        np.testing.assert_array_equal(ours.array, theirs.numpy())
    m = x > 2
    m &= y > 4
    m |= cr.tensor([True, False, False])
    np.testing.assert_array_equal(m.array, [True, True, False])
    with pytest.raises(TypeError, match="bitwise_and: only integer and bool tensors"):
        cr.ones(2) & cr.ones(2)


def test_sign_abs_where_and_activations_as_torch():
    a = np.array([-1.5, 0.0, 0.5, 2.0])
    check_op(lambda x: cr.sign(x) * x, lambda x: torch.sign(x) * x, [a], finite_differences=False)
    check_op(lambda x: abs(x) ** 3, lambda x: abs(x) ** 3, [a], finite_differences=False)
    check_op(lambda x: x.absolute(), lambda x: x.absolute(), [a], finite_differences=False)
    b = np.array([-1.5, -0.3, 0.5, 2.0])
    check_op(lambda x, y: x.where(x > 0, y), lambda x, y: x.where(x > 0, y), [b, b[::-1].copy()])
    assert cr.sign(cr.tensor(a, requires_grad=True)).requires_grad  # as torch: grad 0, not none
    for ours, theirs in ((F.relu, torch.nn.functional.relu), (F.sigmoid, torch.sigmoid),
                         (F.tanh, torch.tanh),
                         (lambda x: F.leaky_relu(x, 0.2),
                          lambda x: torch.nn.functional.leaky_relu(x, 0.2)),
                         (lambda x: F.softplus(x, 2.0, 1.5),
                          lambda x: torch.nn.functional.softplus(x, 2.0, 1.5))):
        check_op(ours, theirs, [np.array([-1.5, -0.25, 0.5, 2.0])])


def test_functional_inplace_activations_as_torch():
    def run(lib, functional):
        a = lib.tensor([-1.0, 0.5, 2.0], dtype=lib.float64, requires_grad=True)
        y, z = a * 2, a * 3
        out_y = functional.relu(y, inplace=True)
        out_z = functional.leaky_relu(z, 0.1, inplace=True)
        assert out_y is y and out_z is z
        (y * z).sum().backward()
        return y, z, a.grad

    for ours, theirs in zip(run(cr, F), run(torch, torch.nn.functional)):
        same(ours, theirs)
