"""Every layer against its torch.nn counterpart, with the weights copied over.

For each layer: the forward output, the gradient of the input and of every
parameter (float64), and for layers with state (BatchNorm) the running
statistics in training and the output in eval mode.
"""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


def copy_weights(ours, theirs):
    with torch.no_grad():
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
            assert tuple(p.shape) == tuple(q.shape), name
            q.copy_(torch.from_numpy(p.array))


def compare(ours, theirs, x, steps=1, atol=1e-10):
    """Forward and backward on the same input (several steps, for stateful layers)."""
    copy_weights(ours, theirs)
    rng = np.random.default_rng(1)
    for _ in range(steps):
        xo = cr.tensor(x, requires_grad=x.dtype.kind == "f")
        xt = torch.tensor(x, requires_grad=x.dtype.kind == "f")
        out, expected = ours(xo), theirs(xt)
        np.testing.assert_allclose(out.array, expected.detach().numpy(), atol=atol, rtol=1e-8)
        weight = rng.standard_normal(tuple(expected.shape))
        (out * cr.tensor(weight)).sum().backward()
        (expected * torch.from_numpy(weight)).sum().backward()
        if x.dtype.kind == "f":
            np.testing.assert_allclose(xo.grad.array, xt.grad.numpy(), atol=atol, rtol=1e-8)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.array, q.grad.numpy(), atol=atol * 10, rtol=1e-7,
                                   err_msg=name)


rng = np.random.default_rng(0)
IMAGES = rng.standard_normal((2, 4, 7, 6))
ROWS = rng.standard_normal((5, 6))

LAYERS = {
    "linear": (lambda: nn.Linear(6, 3, dtype=cr.float64), lambda: torch.nn.Linear(6, 3).double(), ROWS),
    "linear_3d_input": (lambda: nn.Linear(6, 2, dtype=cr.float64),
                        lambda: torch.nn.Linear(6, 2).double(), rng.standard_normal((2, 3, 6))),
    "conv2d": (lambda: nn.Conv2d(4, 6, 3, padding=1, dtype=cr.float64),
               lambda: torch.nn.Conv2d(4, 6, 3, padding=1).double(), IMAGES),
    "conv2d_strided_grouped": (
        lambda: nn.Conv2d(4, 8, (3, 2), stride=2, groups=2, bias=False, dtype=cr.float64),
        lambda: torch.nn.Conv2d(4, 8, (3, 2), stride=2, groups=2, bias=False).double(), IMAGES),
    "max_pool2d": (lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), IMAGES),
    "avg_pool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1),
                   lambda: torch.nn.AvgPool2d(3, stride=2, padding=1), IMAGES),
    "flatten": (lambda: nn.Flatten(), lambda: torch.nn.Flatten(), IMAGES),
    "unflatten": (lambda: nn.Unflatten(1, (2, 3)), lambda: torch.nn.Unflatten(1, (2, 3)), ROWS),
    "relu": (nn.ReLU, torch.nn.ReLU, ROWS),
    "tanh": (nn.Tanh, torch.nn.Tanh, ROWS),
    "sigmoid": (nn.Sigmoid, torch.nn.Sigmoid, ROWS),
    "gelu": (nn.GELU, torch.nn.GELU, ROWS),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2), ROWS),
    "softmax": (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1), ROWS),
    "log_softmax": (lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1), ROWS),
    "layer_norm": (lambda: nn.LayerNorm(6, dtype=cr.float64), lambda: torch.nn.LayerNorm(6).double(), ROWS),
    "layer_norm_2d": (lambda: nn.LayerNorm((7, 6), dtype=cr.float64), lambda: torch.nn.LayerNorm((7, 6)).double(),
                      IMAGES),
    "sequential": (lambda: nn.Sequential(nn.Linear(6, 4, dtype=cr.float64), nn.Tanh(),
                                         nn.Linear(4, 2, dtype=cr.float64)),
                   lambda: torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Tanh(),
                                               torch.nn.Linear(4, 2)).double(), ROWS),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_torch(name):
    make_ours, make_theirs, x = LAYERS[name]
    compare(make_ours(), make_theirs(), x)


@pytest.mark.parametrize("ours, theirs, x", [
    (lambda: nn.BatchNorm1d(6, dtype=cr.float64), lambda: torch.nn.BatchNorm1d(6), ROWS),
    (lambda: nn.BatchNorm1d(4, dtype=cr.float64), lambda: torch.nn.BatchNorm1d(4),
     rng.standard_normal((3, 4, 5))),
    (lambda: nn.BatchNorm2d(4, dtype=cr.float64), lambda: torch.nn.BatchNorm2d(4), IMAGES),
])
def test_batch_norm_matches_torch_in_training_and_eval(ours, theirs, x):
    ours, theirs = ours(), theirs().double()
    for module in (ours, theirs):
        module.train()
    ours.weight.array[...] = np.linspace(0.5, 1.5, ours.num_features)
    ours.bias.array[...] = np.linspace(-1, 1, ours.num_features)
    compare(ours, theirs, x, steps=3)
    np.testing.assert_allclose(ours.running_mean.array, theirs.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.running_var.array, theirs.running_var.numpy(), rtol=1e-10)
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked.item()) == 3
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(cr.tensor(x)).data, expected, rtol=1e-8, atol=1e-10)


def test_batch_norm_state_dict_has_torchs_keys():
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_embedding_matches_torch():
    ours = nn.Embedding(10, 4, padding_idx=0, dtype=cr.float64)
    theirs = torch.nn.Embedding(10, 4, padding_idx=0).double()
    assert np.all(ours.weight.array[0] == 0)
    indices = np.array([[1, 2, 0], [2, 9, 1]])
    compare(ours, theirs, indices)


def test_dropout_is_identity_in_eval_and_scales_in_training():
    layer = nn.Dropout(0.25)
    x = cr.ones(2000)
    layer.eval()
    assert layer(x) is x
    layer.train()
    cr.manual_seed(3)
    out = layer(x).array
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.04


def test_default_initialisations_follow_pytorch():
    cr.manual_seed(0)
    conv = nn.Conv2d(4, 8, 3)
    bound = 1 / np.sqrt(4 * 3 * 3)
    assert np.abs(conv.weight.array).max() <= bound and np.abs(conv.bias.array).max() <= bound
    assert conv.weight.array.std() == pytest.approx(bound / np.sqrt(3), rel=0.15)
    norm = nn.LayerNorm(5)
    assert np.all(norm.weight.array == 1) and np.all(norm.bias.array == 0)
    embedding = nn.Embedding(1000, 8)
    assert embedding.weight.array.std() == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("make, error, words", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, ["divisible by groups"]),
    (lambda: nn.BatchNorm2d(3)(cr.ones(2, 4, 5, 5)), ValueError, ["3 channels", "(2, 4, 5, 5)"]),
    (lambda: nn.BatchNorm1d(2)(cr.ones(1, 2)), ValueError, ["more than 1 value per channel"]),
    (lambda: nn.LayerNorm(4)(cr.ones(2, 5)), ValueError, ["(4,)", "(2, 5)"]),
    (lambda: nn.Dropout(1.5), ValueError, ["between 0 and 1", "1.5"]),
])
def test_layer_errors_name_the_problem(make, error, words):
    with pytest.raises(error) as info:
        make()
    for word in words:
        assert word in str(info.value)
