"""What the OpInfo samples leave out for the nn.functional activations, losses, norms and
distances: in-place forms, running statistics, derivatives at kinks, and error messages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
from chainrule.nn import functional as F

KINKS = [-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0]


def _first_and_second(fn, x):
    """(out, d out.sum(), d (d out.sum()).sum()) as arrays, for a torch or chainrule fn."""
    if isinstance(x, torch.Tensor):
        out = fn(x)
        (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
        try:
            (h,) = torch.autograd.grad(g.sum(), x, allow_unused=True)
        except RuntimeError:  # torch has no double backward for some (hardsigmoid)
            h = None
        h = np.zeros(x.shape) if h is None else h.detach().numpy()
        return out.detach().numpy(), g.detach().numpy(), h
    out = fn(x)
    (g,) = cr.autograd.grad(out.sum(), [x], create_graph=True)
    h = cr.autograd.grad(g.sum(), [x], allow_unused=True)[0] if g.requires_grad else None
    return out.array, g.array, np.zeros(x.shape) if h is None else h.array


@pytest.mark.parametrize("name, kwargs", [
    ("hardtanh", {}), ("relu6", {}), ("hardsigmoid", {}), ("hardswish", {}), ("elu", {}),
    ("celu", {"alpha": 2.0}), ("selu", {}), ("hardshrink", {"lambd": 0.5}),
    ("softshrink", {"lambd": 0.5}), ("logsigmoid", {}), ("mish", {}), ("silu", {}),
    ("softsign", {}), ("tanhshrink", {}), ("threshold", {"threshold": 1.0, "value": -2.0}),
])
def test_activation_derivatives_at_kinks_are_pytorchs(name, kwargs):
    theirs = _first_and_second(lambda t: getattr(TF, name)(t, **kwargs),
                               torch.tensor(KINKS, dtype=torch.float64, requires_grad=True))
    ours = _first_and_second(lambda t: getattr(F, name)(t, **kwargs),
                             cr.tensor(KINKS, dtype=cr.float64, requires_grad=True))
    for what, o, t in zip(("value", "gradient", "second derivative"), ours, theirs):
        # rtol 1e-7: torch takes hardsigmoid's slope 1/6 as a float32 even in float64
        np.testing.assert_allclose(o, t, rtol=1e-7, atol=1e-12, err_msg=f"{name} {what}")


@pytest.mark.parametrize("call, torch_call", [
    (lambda x: F.elu_(x), lambda x: TF.elu_(x)),
    (lambda x: F.elu(x, 0.5, inplace=True), lambda x: TF.elu(x, 0.5, inplace=True)),
    (lambda x: cr.selu_(x), lambda x: torch.selu_(x)),
    (lambda x: F.celu_(x, 2.0), lambda x: TF.celu_(x, 2.0)),
    (lambda x: F.hardtanh_(x, -0.5, 0.5), lambda x: TF.hardtanh_(x, -0.5, 0.5)),
    (lambda x: F.relu6(x, inplace=True), lambda x: TF.relu6(x, inplace=True)),
    (lambda x: cr.threshold_(x, 0.5, -1.0), lambda x: torch.threshold_(x, 0.5, -1.0)),
    (lambda x: F.leaky_relu_(x, 0.2), lambda x: TF.leaky_relu_(x, 0.2)),
    (lambda x: cr.relu_(x), lambda x: torch.relu_(x)),
])
def test_in_place_activations_write_into_the_input(call, torch_call):
    ours, theirs = cr.tensor(KINKS, dtype=cr.float64), torch.tensor(KINKS, dtype=torch.float64)
    assert call(ours) is ours
    torch_call(theirs)
    np.testing.assert_allclose(ours.array, theirs.numpy())


def test_in_place_activation_keeps_the_gradient():
    x = cr.tensor([-1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = x * 1
    F.elu_(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, [np.exp(-1.0), 1.0])


def test_batch_norm_training_updates_the_running_statistics_in_place():
    x = np.random.default_rng(0).standard_normal((4, 3, 5))
    mean, var = cr.zeros(3, dtype=cr.float64), cr.ones(3, dtype=cr.float64)
    torch_mean, torch_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    F.batch_norm(cr.tensor(x), mean, var, training=True, momentum=0.3)
    TF.batch_norm(torch.tensor(x), torch_mean, torch_var, training=True, momentum=0.3)
    np.testing.assert_allclose(mean.array, torch_mean.numpy())
    np.testing.assert_allclose(var.array, torch_var.numpy())


def test_instance_norm_updates_the_running_statistics_as_pytorch():
    x = np.random.default_rng(1).standard_normal((4, 3, 5))
    mean, var = cr.zeros(3, dtype=cr.float64), cr.ones(3, dtype=cr.float64)
    torch_mean, torch_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    F.instance_norm(cr.tensor(x), mean, var, momentum=0.3)
    TF.instance_norm(torch.tensor(x), torch_mean, torch_var, momentum=0.3)
    np.testing.assert_allclose(mean.array, torch_mean.numpy())
    np.testing.assert_allclose(var.array, torch_var.numpy())


def test_cross_entropy_differentiates_probability_targets():
    rng = np.random.default_rng(2)
    z, q = rng.standard_normal((3, 4)), rng.random((3, 4))
    tz, tq = (torch.tensor(a, requires_grad=True) for a in (z, q))
    cz, cq = (cr.tensor(a, requires_grad=True) for a in (z, q))
    theirs = torch.autograd.grad(TF.cross_entropy(tz, tq, label_smoothing=0.2), (tz, tq))
    ours = cr.autograd.grad(F.cross_entropy(cz, cq, label_smoothing=0.2), [cz, cq])
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.array, t.numpy())


@pytest.mark.parametrize("call, message", [
    (lambda: F.glu(cr.ones(3)), "halving dimension must be even"),
    (lambda: F.prelu(cr.ones(2, 3), cr.ones(2)), "weight has 2 values but the input"),
    (lambda: F.hardtanh(cr.ones(2), 1.0, -1.0), "min_val 1.0 must not exceed max_val"),
    (lambda: F.celu(cr.ones(2), 0.0), "alpha must not be 0"),
    (lambda: F.batch_norm(cr.ones(1, 3), None, None, training=True),
     "expected more than 1 value per channel"),
    (lambda: F.group_norm(cr.ones(2, 3, 4), 2), "divisible by num_groups"),
    (lambda: F.rms_norm(cr.ones(2, 3), (4,)), "must be the last dimensions"),
    (lambda: F.local_response_norm(cr.ones(2, 3), 2), "expected 3 or more dimensions"),
    (lambda: F.pdist(cr.ones(2, 3, 4)), "only supports 2-d tensors"),
    (lambda: F.multi_margin_loss(cr.ones(2, 3), cr.tensor([0, 1]), p=3), "p == 1 and p == 2"),
    (lambda: F.multi_margin_loss(cr.ones(2, 3), cr.tensor([0, 5])), "target out of range"),
    (lambda: F.gaussian_nll_loss(cr.ones(2, 3), cr.ones(2, 3), cr.ones(3, 2)),
     "var is of incorrect size"),
    (lambda: F.one_hot(cr.tensor([0, 4]), 3), "class values must be in [0, 3)"),
    (lambda: F.embedding_bag(cr.tensor([0, 1]), cr.ones(3, 2)), "offsets is required"),
    (lambda: F.cosine_embedding_loss(cr.ones(2, 3), cr.ones(2, 3), cr.ones(2, 1)),
     "0-d or 1-d target expected"),
    (lambda: F.ctc_loss(cr.zeros(4, 1, 3), cr.tensor([[0]]), [4], [1]),
     "not the blank 0"),
    (lambda: F.bilinear(cr.ones(2, 3), cr.ones(2, 4), cr.ones(5, 3, 3)),
     "must match the weight of shape (5, 3, 3)"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises((ValueError, RuntimeError, TypeError, IndexError)) as error:
        call()
    assert message in str(error.value)
