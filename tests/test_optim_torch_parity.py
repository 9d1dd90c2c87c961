"""chainrule.optim against torch.optim on a small MLP: the same training run step for step,
state dicts with torch's layout that load both ways, torch's API around the update
(named parameters, frozen ones, hooks, flags) and its errors.

Each run starts both libraries from the same float64 weights; chainrule's backward
computes the gradient of the loss, and the same gradient is handed to torch, so any
difference comes from the optimizers alone (checked to 1e-12 relative, 25 steps).
"""

import copy
import json

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim

STEPS = 25
SHAPES = {"w1": (5, 3), "b1": (5,), "w2": (2, 5), "b2": (2,)}

CONFIGS = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.5, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "foreach": False, "fused": None}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "maximize": True, "betas": (0.8, 0.95)}),
    ("Adam", {"lr": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05, "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0.01, "weight_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.1,
               "maximize": True}),
    ("NAdam", {"lr": 0.01, "betas": (0.3, 0.8), "eps": 1e-6}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.9)}),  # rectified from step 6 on
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.9), "weight_decay": 0.05, "maximize": True}),
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.9), "weight_decay": 0.1,
               "decoupled_weight_decay": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.01, "eps": 1e-4}),
    ("Adamax", {"lr": 0.01, "betas": (0.4, 0.9), "maximize": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
]
IDS = [f"{name}-{kwargs}" for name, kwargs in CONFIGS]


def initial_weights(seed=0):
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(-0.8, 0.8, size=shape) for name, shape in SHAPES.items()}


def batch(seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((8, 3)), rng.standard_normal((8, 2))


def mlp_loss(params, x, y):
    """Squared error of a 3-5-2 tanh MLP, in chainrule."""
    hidden = (cr.tensor(x) @ params["w1"].T + params["b1"]).tanh()
    return ((hidden @ params["w2"].T + params["b2"] - cr.tensor(y)) ** 2).mean()


class Pair:
    """The same MLP weights and the same optimizer in each library."""

    def __init__(self, name, kwargs, groups=None, seed=0):
        weights = initial_weights(seed)
        self.ours = {k: cr.tensor(v, requires_grad=True) for k, v in weights.items()}
        self.theirs = {k: torch.tensor(v, requires_grad=True) for k, v in weights.items()}
        self.our_optimizer = getattr(optim, name)(self._params(self.ours, groups), **kwargs)
        self.their_optimizer = getattr(torch.optim, name)(self._params(self.theirs, groups),
                                                          **kwargs)
        self.x, self.y = batch()

    @staticmethod
    def _params(params, groups):
        if groups is None:
            return list(params.values())
        return [{"params": [params[k] for k in keys], **options} for keys, options in groups]

    def step(self):
        """Gradients from chainrule's backward, given to both; one step of each optimizer."""
        self.our_optimizer.zero_grad()
        self.their_optimizer.zero_grad()
        mlp_loss(self.ours, self.x, self.y).backward()
        for key, p in self.ours.items():
            self.theirs[key].grad = torch.tensor(p.grad.array)
        self.our_optimizer.step()
        self.their_optimizer.step()

    def assert_same_weights(self, step, rtol=1e-12):
        for key, p in self.ours.items():
            np.testing.assert_allclose(p.array, self.theirs[key].detach().numpy(), rtol=rtol,
                                       atol=1e-15, err_msg=f"{key} after step {step}")


def to_chainrule(value):
    """A torch state dict with chainrule Tensors (same dtypes) in place of torch's."""
    if isinstance(value, torch.Tensor):
        return cr.tensor(value.detach().numpy().copy())
    if isinstance(value, dict):
        return {k: to_chainrule(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_chainrule(v) for v in value]
    return value


def to_torch(value):
    """A chainrule state dict with torch tensors (same dtypes) in place of chainrule's."""
    if isinstance(value, cr.Tensor):
        return torch.tensor(np.array(value.array))
    if isinstance(value, dict):
        return {k: to_torch(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_torch(v) for v in value]
    return value


# ------------------------------------------------------------- training runs

@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_an_mlp_trains_step_for_step_as_in_torch(name, kwargs):
    pair = Pair(name, kwargs)
    for step in range(STEPS):
        pair.step()
        pair.assert_same_weights(step)


@pytest.mark.parametrize("name, kwargs", [c for c in CONFIGS if c[0] != "SGD"][::3],
                         ids=IDS[5::3])
def test_param_groups_with_their_own_learning_rates(name, kwargs):
    groups = [(["w1", "b1"], {"lr": 0.02}), (["w2"], {}), (["b2"], {"lr": 0.003})]
    pair = Pair(name, kwargs, groups)
    for step in range(STEPS):
        pair.step()
        pair.assert_same_weights(step)
    assert [g["lr"] for g in pair.our_optimizer.param_groups] == \
           [g["lr"] for g in pair.their_optimizer.param_groups]


@pytest.mark.parametrize("name", ["SGD", "Adam", "NAdam", "RAdam", "Adamax"])
def test_add_param_group_midway_as_in_torch(name):
    pair = Pair(name, {"lr": 0.01}, groups=[(["w1", "b1"], {})])
    for step in range(5):
        pair.step()
    pair.our_optimizer.add_param_group({"params": [pair.ours["w2"], pair.ours["b2"]],
                                        "lr": 0.03})
    pair.their_optimizer.add_param_group({"params": [pair.theirs["w2"], pair.theirs["b2"]],
                                          "lr": 0.03})
    for step in range(5, STEPS):
        pair.step()
        pair.assert_same_weights(step)


def test_float32_weights_train_as_in_torch():
    weights = {k: v.astype(np.float32) for k, v in initial_weights().items()}
    ours = {k: cr.tensor(v, requires_grad=True) for k, v in weights.items()}
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in weights.items()}
    our_optimizer = optim.NAdam(ours.values(), lr=0.01)
    their_optimizer = torch.optim.NAdam(theirs.values(), lr=0.01)
    x, y = batch()
    for _ in range(10):
        our_optimizer.zero_grad()
        mlp_loss(ours, x.astype(np.float32), y.astype(np.float32)).backward()
        for key, p in ours.items():
            theirs[key].grad = torch.tensor(p.grad.array)
        our_optimizer.step()
        their_optimizer.step()
    for key, p in ours.items():
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.array, theirs[key].detach().numpy(), rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------- state dicts

@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_state_dict_has_torchs_layout_keys_types_and_values(name, kwargs):
    pair = Pair(name, kwargs, groups=[(["w1", "b1"], {"lr": 0.02}), (["w2", "b2"], {})])
    for _ in range(4):
        pair.step()
    mine, reference = pair.our_optimizer.state_dict(), pair.their_optimizer.state_dict()
    assert set(mine) == set(reference) == {"state", "param_groups"}
    assert sorted(mine["state"]) == sorted(reference["state"])
    for index, entries in reference["state"].items():
        assert list(mine["state"][index]) == list(entries), f"state of parameter {index}"
        for key, value in entries.items():
            ours = mine["state"][index][key]
            assert isinstance(ours, cr.Tensor) and ours.grad_fn is None, key
            assert tuple(ours.shape) == tuple(value.shape), key
            assert str(ours.dtype) == str(value.dtype).replace("torch.", ""), key
            np.testing.assert_allclose(ours.array, value.numpy(), rtol=1e-12, atol=1e-15)
    assert len(mine["param_groups"]) == len(reference["param_groups"])
    for group, reference_group in zip(mine["param_groups"], reference["param_groups"]):
        assert group == reference_group


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_a_torch_state_dict_loads_and_training_continues_as_torchs(name, kwargs):
    """torch's state after 6 steps, loaded into a fresh chainrule optimizer (and ours into a
    fresh torch one): both continue alike, and as the optimizers that saved it (not NAdam's:
    loading gives its float32 mu_product the weights' dtype, in torch as here)."""
    pair = Pair(name, kwargs)
    for _ in range(6):
        pair.step()
    saved_by_torch = pair.their_optimizer.state_dict()
    saved_by_us = pair.our_optimizer.state_dict()

    resumed = Pair(name, {})  # default options: the state dict brings the real ones
    for key, p in pair.ours.items():
        resumed.ours[key].array[...] = p.array
        resumed.theirs[key].data.copy_(pair.theirs[key].data)
    resumed.our_optimizer.load_state_dict(to_chainrule(saved_by_torch))
    resumed.their_optimizer.load_state_dict(to_torch(saved_by_us))
    for step in range(6, STEPS):
        pair.step()
        resumed.step()
        resumed.assert_same_weights(step)
        for key, p in pair.ours.items():
            if name != "NAdam":
                np.testing.assert_allclose(resumed.ours[key].array, p.array, rtol=1e-12,
                                           atol=1e-15)


@pytest.mark.parametrize("via_json", [False, True], ids=["dict", "json"])
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_state_dict_round_trip_continues_identically(name, kwargs, via_json):
    """Saved after 7 steps, loaded into a fresh optimizer: the same weights as an uninterrupted
    run, bit for bit (NAdam: as torch's resumed run, since torch gives the loaded float32
    mu_product the weights' float64)."""
    pair = Pair(name, kwargs)
    for _ in range(7):
        pair.step()
    saved = pair.our_optimizer.state_dict()
    if via_json:
        saved = json.loads(json.dumps(saved, default=lambda t: t.tolist()))
    resumed = {k: cr.tensor(p.array.copy(), requires_grad=True) for k, p in pair.ours.items()}
    optimizer = getattr(optim, name)(resumed.values())
    optimizer.load_state_dict(saved)
    torch_resumed = None
    if name == "NAdam":
        torch_resumed = {k: torch.tensor(p.array.copy(), requires_grad=True)
                         for k, p in pair.ours.items()}
        torch_optimizer = torch.optim.NAdam(torch_resumed.values())
        # torch's state dict holds its live tensors: a copy, or both runs would share them
        torch_optimizer.load_state_dict(copy.deepcopy(pair.their_optimizer.state_dict()))
    for step in range(7, STEPS):
        pair.step()
        optimizer.zero_grad()
        mlp_loss(resumed, pair.x, pair.y).backward()
        optimizer.step()
        if torch_resumed is None:
            for key, p in pair.ours.items():
                np.testing.assert_array_equal(resumed[key].array, p.array, err_msg=key)
        else:
            for key, p in resumed.items():
                torch_resumed[key].grad = torch.tensor(p.grad.array)
            torch_optimizer.step()
            for key, p in resumed.items():
                np.testing.assert_allclose(p.array, torch_resumed[key].detach().numpy(),
                                           rtol=1e-12, atol=1e-15, err_msg=key)


def test_named_parameters_keep_their_names_as_in_torch():
    ours = optim.Adam(cr.nn.Linear(3, 2).named_parameters(), lr=0.1)
    theirs = torch.optim.Adam(torch.nn.Linear(3, 2).named_parameters(), lr=0.1)
    assert ours.param_groups[0]["param_names"] == theirs.param_groups[0]["param_names"] == \
           ["weight", "bias"]
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]
    with pytest.raises(ValueError, match="Adam: all optimizer param groups should be "
                                         "with/without names. cannot add param group without"):
        ours.add_param_group({"params": [cr.tensor([1.0], requires_grad=True)]})
    with pytest.raises(ValueError, match="Some param names are missing"):
        optim.SGD([("a", cr.tensor([1.0], requires_grad=True)),
                   cr.tensor([1.0], requires_grad=True)])


def test_loading_without_torchs_implementation_flags_fills_them_in():
    pair = Pair("Adam", {"lr": 0.01})
    pair.step()
    saved = pair.our_optimizer.state_dict()
    for group in saved["param_groups"]:
        for flag in ("foreach", "capturable", "differentiable", "fused"):
            del group[flag]
    fresh = optim.Adam([cr.tensor(p.array, requires_grad=True) for p in pair.ours.values()])
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["fused"] is None and fresh.param_groups[0]["lr"] == 0.01


def test_loaded_step_keeps_its_dtype_and_the_rest_takes_the_parameters():
    """torch's casting policy: a float64 step stays float64; a float32 exp_avg becomes the
    parameter's float64; a step given as a number becomes float32."""
    p = cr.tensor(np.ones(2), requires_grad=True)
    optimizer = optim.Adam([p])
    saved = {"state": {0: {"step": cr.tensor(np.array(3.0)), "exp_avg": np.ones(2, np.float32),
                           "exp_avg_sq": [0.5, 0.5]}},
             "param_groups": optimizer.state_dict()["param_groups"]}
    optimizer.load_state_dict(saved)
    state = optimizer.state_dict()["state"][0]
    assert state["step"].dtype == np.float64 and state["exp_avg"].dtype == np.float64
    saved["state"][0]["step"] = 3
    optimizer.load_state_dict(saved)
    assert optimizer.state_dict()["state"][0]["step"].dtype == np.float32


# ---------------------------------------------------------- torch's API around steps

def test_frozen_parameters_are_accepted_and_never_move():
    net, reference = cr.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    net.bias.requires_grad_(False)
    reference.bias.requires_grad_(False)
    ours, theirs = optim.SGD(net.parameters(), lr=0.1), torch.optim.SGD(reference.parameters())
    assert len(ours.param_groups[0]["params"]) == len(theirs.param_groups[0]["params"]) == 2
    before = net.bias.array.copy()
    net(cr.ones(4, 3)).sum().backward()
    ours.step()
    np.testing.assert_array_equal(net.bias.array, before)


def test_zero_grad_sets_to_none_by_default_as_torch():
    pair = Pair("SGD", {"lr": 0.1})
    pair.step()
    pair.our_optimizer.zero_grad()
    pair.their_optimizer.zero_grad()
    assert all(p.grad is None for p in pair.ours.values())
    assert all(p.grad is None for p in pair.theirs.values())


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax"])
def test_a_step_bumps_the_version_counter(name):
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.grad = cr.tensor([1.0, 1.0])
    version = w._version[0]
    getattr(optim, name)([w]).step()
    assert w._version[0] == version + 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_step_hooks_run_before_and_after_and_come_off():
    pair = Pair("SGD", {"lr": 0.1})
    calls = []
    pre = pair.our_optimizer.register_step_pre_hook(
        lambda opt, args, kwargs: calls.append(("pre", opt is pair.our_optimizer, args)))
    post = pair.our_optimizer.register_step_post_hook(
        lambda opt, args, kwargs: calls.append(("post", opt is pair.our_optimizer, args)))
    pair.step()
    assert calls == [("pre", True, ()), ("post", True, ())]
    pre.remove()
    post.remove()
    pair.step()
    assert len(calls) == 2


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("name, kwargs, error, message", [
    ("NAdam", {"lr": -1.0}, ValueError, "NAdam: lr must be >= 0, got -1.0"),
    ("NAdam", {"momentum_decay": -0.1}, ValueError, "NAdam: momentum_decay must be >= 0"),
    ("NAdam", {"betas": (0.9, 1.0)}, ValueError, "NAdam: betas[1] must be in [0, 1), got 1.0"),
    ("RAdam", {"eps": -1e-8}, ValueError, "RAdam: eps must be >= 0, got -1e-08"),
    ("RAdam", {"weight_decay": -0.1}, ValueError, "RAdam: weight_decay must be >= 0"),
    ("Adamax", {"betas": (-0.1, 0.9)}, ValueError, "Adamax: betas[0] must be in [0, 1)"),
    ("Adamax", {"lr": "fast"}, ValueError, "Adamax: lr must be a real number, got str 'fast'"),
    ("Adam", {"differentiable": True}, NotImplementedError,
     "Adam: differentiable=True (an optimizer step recorded in the autograd graph) is not "
     "supported by chainrule"),
    ("SGD", {"fused": True, "foreach": True}, RuntimeError,
     "SGD: `fused` and `foreach` cannot be `True` together."),
    ("Adagrad", {"foreach": "yes"}, TypeError, "Adagrad: foreach must be None, True or False"),
])
def test_bad_arguments(name, kwargs, error, message):
    with pytest.raises(error) as raised:
        getattr(optim, name)([cr.tensor([1.0], requires_grad=True)], **kwargs)
    assert message in str(raised.value)


def test_duplicate_parameters_and_non_tensors_name_torchs_rule():
    p = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter "
                                         "group"):
        optim.Adam([{"params": [p]}, {"params": [p], "lr": 0.1}])
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but parameter 0 "
                                        "of param group 0 is a list"):
        optim.Adam([[1.0]])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.NAdam([p * 2])
    with pytest.raises(TypeError, match="ordered collections"):
        optim.RAdam({p})


def test_load_errors_carry_torchs_wording():
    pair = Pair("Adam", {"lr": 0.01}, groups=[(["w1", "b1"], {}), (["w2", "b2"], {})])
    pair.step()
    saved = pair.our_optimizer.state_dict()
    with pytest.raises(ValueError, match="loaded state dict has a different number of parameter "
                                         "groups"):
        pair.our_optimizer.load_state_dict(dict(saved, param_groups=saved["param_groups"][:1]))
    short = dict(saved, param_groups=[dict(saved["param_groups"][0], params=[0]),
                                      saved["param_groups"][1]])
    with pytest.raises(ValueError, match="loaded state dict contains a parameter group that "
                                         "doesn't match the size of optimizer's group"):
        pair.our_optimizer.load_state_dict(short)
