"""nn.Module, Parameter, containers, Linear, activations, init: against torch.nn."""

import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 4))
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 1, bias=False)])
        self.scale = nn.Parameter(cr.tensor([1.5]))
        self.register_buffer("offset", cr.tensor([0.25]))

    def forward(self, x):
        h = self.body(x).relu()
        return self.heads[0](h).sum(1) * self.scale + self.heads[1](h).sum(1) + self.offset


def torch_twin(net):
    """The same architecture in torch, with the weights copied over."""
    twin = torch.nn.Module()
    twin.body = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4))
    twin.heads = torch.nn.ModuleList([torch.nn.Linear(4, 2), torch.nn.Linear(4, 1, bias=False)])
    twin.scale = torch.nn.Parameter(torch.tensor([1.5]))
    twin.register_buffer("offset", torch.tensor([0.25]))
    with torch.no_grad():
        for name, value in net.state_dict().items():
            twin.get_parameter(name).copy_(torch.from_numpy(value.array)) if "offset" not in name \
                else twin.offset.copy_(torch.from_numpy(value.array))
    return twin


def test_named_parameters_follow_pytorchs_names_and_order():
    net = Net()
    twin = torch_twin(net)
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in twin.named_parameters()]
    assert list(net.state_dict()) == list(twin.state_dict())
    assert [n for n, _ in net.named_modules()] == [n for n, _ in twin.named_modules()]
    assert len(list(net.children())) == 2


def test_forward_and_gradients_match_torch_with_copied_weights():
    net = Net()
    twin = torch_twin(net)
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    out = net(cr.tensor(x))
    expected = twin.body(torch.from_numpy(x)).relu()
    expected = twin.heads[0](expected).sum(1) * twin.scale + twin.heads[1](expected).sum(1) + twin.offset
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    for (name, p), (_, q) in zip(net.named_parameters(), twin.named_parameters()):
        np.testing.assert_allclose(p.grad.array, q.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_linear_default_init_matches_pytorchs_bounds():
    cr.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    assert np.abs(layer.weight.array).max() <= bound
    assert np.abs(layer.weight.array).max() > 0.95 * bound
    assert layer.weight.array.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert np.abs(layer.bias.array).max() <= bound
    cr.manual_seed(0)
    assert np.array_equal(nn.Linear(400, 300).weight.array, layer.weight.array)


@pytest.mark.parametrize("fn, kwargs, fan", [
    (nn.init.kaiming_uniform_, {"nonlinearity": "relu"}, "in"),
    (nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, "out"),
    (nn.init.xavier_uniform_, {}, "both"),
    (nn.init.xavier_normal_, {"gain": 2.0}, "both"),
])
def test_init_standard_deviations(fn, kwargs, fan):
    weight = cr.empty(256, 512)
    fn(weight, **kwargs)
    fan_in, fan_out = 512, 256
    expected = {"in": math.sqrt(2 / fan_in), "out": math.sqrt(2 / fan_out),
                "both": kwargs.get("gain", 1.0) * math.sqrt(2 / (fan_in + fan_out))}[fan]
    assert weight.array.std() == pytest.approx(expected, rel=0.05)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == torch.nn.init.calculate_gain("leaky_relu", 0.2)
    assert nn.init.calculate_gain("tanh") == torch.nn.init.calculate_gain("tanh")


def test_init_error_for_1d_tensor():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(cr.empty(5))


def test_state_dict_round_trip_and_all_or_nothing_loading():
    net, other = Net(), Net()
    other.load_state_dict(net.state_dict())
    for (_, p), (_, q) in zip(net.named_parameters(), other.named_parameters()):
        assert np.array_equal(p.array, q.array)

    before = {k: v.array.copy() for k, v in other.state_dict().items()}
    bad = dict(net.state_dict())
    bad["body.0.weight"] = cr.zeros(2, 2)
    del bad["heads.0.bias"]
    bad["extra.weight"] = cr.zeros(1)
    with pytest.raises(ValueError) as info:
        other.load_state_dict(bad)
    message = str(info.value)
    for words in ["body.0.weight: shape (2, 2)", "(5, 3) in the model", "missing key: heads.0.bias",
                  "unexpected key: extra.weight", "nothing was changed"]:
        assert words in message
    for k, v in other.state_dict().items():
        assert np.array_equal(v.array, before[k]), f"{k} changed by a failed load"


def test_non_strict_loading_reports_keys_but_never_allows_shape_mismatch():
    net = Net()
    partial = {k: v for k, v in Net().state_dict().items() if k.startswith("body")}
    result = net.load_state_dict(partial, strict=False)
    assert "heads.0.weight" in result.missing_keys and result.unexpected_keys == []
    with pytest.raises(ValueError, match="shape"):
        net.load_state_dict({"body.0.weight": cr.zeros(1)}, strict=False)


def test_train_eval_zero_grad_and_requires_grad():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(cr.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.array == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_repr_is_a_tree():
    text = repr(Net())
    assert "(body): Sequential(" in text
    assert "(0): Linear(in_features=3, out_features=5, bias=True)" in text
    assert "(1): Linear(in_features=4, out_features=1, bias=False)" in text


def test_forward_hooks_and_pre_hooks():
    layer = nn.Linear(3, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    out = layer(cr.ones(4, 3))
    assert seen == [(4, 2)]
    np.testing.assert_allclose(out.array, np.broadcast_to(layer.bias.array, (4, 2)))
    handle.remove()
    layer(cr.ones(1, 3))
    assert seen == [(4, 2)]


def test_full_backward_hook_matches_torch():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        for (_, p), (_, q) in zip(net.named_parameters(), twin.named_parameters()):
            q.copy_(torch.from_numpy(p.array))
    ours, theirs = [], []
    net[2].register_full_backward_hook(lambda m, gi, go: ours.append((gi[0].array, go[0].array)))
    twin[2].register_full_backward_hook(lambda m, gi, go: theirs.append((gi[0], go[0])))
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    (net(cr.tensor(x)) ** 2).sum().backward()
    (twin(torch.from_numpy(x)) ** 2).sum().backward()
    np.testing.assert_allclose(ours[0][0], theirs[0][0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[0][1], theirs[0][1].numpy(), rtol=1e-5, atol=1e-6)


def test_backward_hook_can_replace_grad_input():
    layer = nn.Linear(3, 3)
    x = cr.randn(2, 3, requires_grad=True)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    layer(x).sum().backward()
    assert np.all(x.grad.array == 0)


def test_mlp_has_the_seeds_signature():
    model = nn.MLP(n_inputs=2, layer_sizes=[4, 4, 1])
    assert model(cr.randn(7, 2)).shape == (7, 1)
    assert len(list(model.parameters())) == 6
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.MLP(2, [3], activation="swish")


def test_errors_name_the_problem():
    class Forgot(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Forgot()
    with pytest.raises(TypeError, match="argument 1 is a int"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(ValueError, match="in_features must be a non-negative int"):
        nn.Linear(-1, 2)
    with pytest.raises(ValueError, match="3 features.*expects 2"):
        nn.Linear(2, 4)(cr.ones(5, 3))
    with pytest.raises(NotImplementedError, match="no forward"):
        nn.Module()(cr.ones(1))
