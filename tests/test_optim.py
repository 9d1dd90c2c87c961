"""chainrule.optim against torch.optim: the same updates step for step, state dicts, errors."""

import json

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim
from chainrule.nn import Parameter

SHAPES = [(3,), (2, 3), (), (4, 1)]
STEPS = 20
SKIPPED = 3  # this parameter gets no gradient on every third step: both libraries skip it

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.9)}),  # beta1 < 0.5: lerp's other rounding branch
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05, "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "maximize": True, "eps": 1e-6}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "betas": (0.3, 0.9), "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.9)}),  # rho_t passes 5 at step 6: both branches
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "eps": 1e-4}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.3, 0.9), "eps": 1e-3}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
]

# Two param groups with their own options, per optimizer.
GROUP_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}, [{"lr": 0.05}, {"momentum": 0.5, "nesterov": True}]),
    ("Adam", {"lr": 0.01}, [{"lr": 0.001}, {"betas": (0.5, 0.9), "amsgrad": True}]),
    ("AdamW", {"lr": 0.01}, [{"lr": 0.03}, {"weight_decay": 0.2}]),
    ("RMSprop", {"lr": 0.01}, [{"lr": 0.002}, {"centered": True, "momentum": 0.3}]),
    ("Adagrad", {"lr": 0.1}, [{"lr": 0.3}, {"lr_decay": 0.05}]),
    ("NAdam", {"lr": 0.01}, [{"lr": 0.03}, {"momentum_decay": 0.02, "weight_decay": 0.1}]),
    ("RAdam", {"lr": 0.01}, [{"lr": 0.002}, {"betas": (0.5, 0.8)}]),
    ("Adamax", {"lr": 0.01}, [{"lr": 0.05}, {"betas": (0.7, 0.95), "maximize": True}]),
]


def initial_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.0, 1.0, size=shape) for shape in SHAPES]


def grads_for_step(rng, step):
    """One gradient per parameter (None for the skipped one on some steps)."""
    return [None if (i == SKIPPED and step % 3 == 1) else rng.standard_normal(shape)
            for i, shape in enumerate(SHAPES)]


def build(library, name, kwargs, params, group_options=None):
    cls = getattr(optim if library == "chainrule" else torch.optim, name)
    if group_options is None:
        return cls(params, **kwargs)
    groups = [{"params": params[:2], **group_options[0]},
              {"params": params[2:], **group_options[1]}]
    return cls(groups, **kwargs)


def set_grads(params, grads):
    for p, g in zip(params, grads):
        if isinstance(p, torch.Tensor):
            p.grad = None if g is None else torch.tensor(g)
        else:
            p.grad = None if g is None else cr.tensor(g)


def assert_same_params(ours, theirs, step, rtol=1e-12):
    for i, (p, t) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(p.array, t.detach().numpy(), rtol=rtol, atol=1e-14,
                                   err_msg=f"parameter {i} after step {step}")


def assert_same_state(ours, theirs):
    """Our state_dict has torch's layout: the same entries per parameter, the same values."""
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert sorted(mine["state"]) == sorted(reference["state"])
    for index, entries in reference["state"].items():
        assert sorted(mine["state"][index]) == sorted(entries), f"state of parameter {index}"
        for key, value in entries.items():
            np.testing.assert_allclose(mine["state"][index][key], np.asarray(value), rtol=1e-12,
                                       atol=1e-14, err_msg=f"{key} of parameter {index}")
    for group, reference_group in zip(mine["param_groups"], reference["param_groups"]):
        assert group["params"] == reference_group["params"]
        for key, value in group.items():
            assert value == reference_group[key], key


def run_against_torch(name, kwargs, group_options=None):
    arrays = initial_arrays()
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    our_optimizer = build("chainrule", name, kwargs, ours, group_options)
    their_optimizer = build("torch", name, kwargs, theirs, group_options)
    rng = np.random.default_rng(1)
    for step in range(STEPS):
        grads = grads_for_step(rng, step)
        set_grads(ours, grads)
        set_grads(theirs, grads)
        our_optimizer.step()
        their_optimizer.step()
        assert_same_params(ours, theirs, step)
    assert_same_state(our_optimizer, their_optimizer)


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_torch_step_for_step(name, kwargs):
    run_against_torch(name, kwargs)


@pytest.mark.parametrize("name, kwargs, group_options", GROUP_CASES,
                         ids=[case[0] for case in GROUP_CASES])
def test_param_groups_with_their_own_options(name, kwargs, group_options):
    run_against_torch(name, kwargs, group_options)


def test_gradients_from_a_loss_with_a_closure():
    """Gradients from the same loss, written in each library's ops; step(closure) returns it."""
    rng = np.random.default_rng(4)
    w0, b0, x = rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal((4, 5))
    w, b = cr.tensor(w0, requires_grad=True), cr.tensor(b0, requires_grad=True)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    ours = optim.Adam([w, b], lr=0.05, amsgrad=True)
    theirs = torch.optim.Adam([tw, tb], lr=0.05, amsgrad=True)

    def our_closure():
        ours.zero_grad()
        loss = ((w @ cr.tensor(x)).tanh() + b.reshape(3, 1)).pow(2).sum()
        loss.backward()
        return loss

    def their_closure():
        theirs.zero_grad()
        loss = ((tw @ torch.tensor(x)).tanh() + tb.reshape(3, 1)).pow(2).sum()
        loss.backward()
        return loss

    for step in range(STEPS):
        with cr.no_grad():  # the closure records its graph all the same
            our_loss = ours.step(our_closure)
        their_loss = theirs.step(their_closure)
        np.testing.assert_allclose(our_loss.item(), their_loss.item(), rtol=1e-12)
        assert_same_params([w, b], [tw, tb], step)


def test_float32_parameters_stay_float32():
    ours = cr.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    theirs = torch.ones(3, requires_grad=True)
    our_optimizer, their_optimizer = optim.Adam([ours], lr=0.1), torch.optim.Adam([theirs], lr=0.1)
    rng = np.random.default_rng(2)
    for _ in range(5):
        g = rng.standard_normal(3).astype(np.float32)
        ours.grad, theirs.grad = cr.tensor(g), torch.tensor(g)
        our_optimizer.step()
        their_optimizer.step()
    assert ours.dtype == np.float32 and our_optimizer.state[ours]["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(ours.array, theirs.detach().numpy(), rtol=1e-6)


def test_accepts_nn_parameter_and_trains_it():
    weight = Parameter(cr.tensor([3.0, -1.0]))
    optimizer = optim.SGD([weight], lr=0.25)
    for _ in range(10):
        optimizer.zero_grad()
        (weight * weight).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(weight.array, np.array([3.0, -1.0]) / 2**10, rtol=1e-6)


def test_step_makes_saved_tensors_stale():
    """The update is in place: a graph that saved the parameter refuses to backpropagate."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.grad = cr.tensor([1.0, 1.0])
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_zero_grad():
    a, b, c = (cr.tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    optimizer = optim.SGD([a, b, c], lr=0.1)
    a.grad, b.grad = cr.tensor([3.0, 4.0]), cr.tensor([5.0, 6.0])
    kept = b.grad
    optimizer.zero_grad(set_to_none=False)
    assert b.grad is kept and np.array_equal(b.grad.array, [0.0, 0.0])
    assert np.array_equal(a.grad.array, [0.0, 0.0]) and c.grad is None
    optimizer.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_of_a_grad_with_history_gives_a_fresh_tensor():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward(create_graph=True)
    assert w.grad.grad_fn is not None
    optimizer = optim.SGD([w], lr=0.1)
    optimizer.zero_grad(set_to_none=False)
    assert w.grad.grad_fn is None and np.array_equal(w.grad.array, [0.0, 0.0])


def test_add_param_group():
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    optimizer = optim.SGD([a], lr=0.1, momentum=0.9)
    optimizer.add_param_group({"params": b, "lr": 0.5})
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.5]
    assert optimizer.param_groups[1]["momentum"] == 0.9
    assert optimizer.param_groups[1]["params"] == [b]
    a.grad, b.grad = cr.tensor([1.0]), cr.tensor([1.0])
    optimizer.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 1.5], rtol=1e-6)


def test_adagrad_starts_accumulators_at_once_as_torch():
    p = cr.tensor(np.ones(2), requires_grad=True)
    state = optim.Adagrad([p], initial_accumulator_value=0.25).state_dict()["state"]
    assert state[0]["step"] == 0 and np.array_equal(state[0]["sum"], [0.25, 0.25])


# ------------------------------------------------------------- state dicts

ROUND_TRIP_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "betas": (0.8, 0.95)}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1}),
]


def plain(value):
    """True when value holds only dicts, lists, tuples, numbers, bools, strings, None (torch's
    foreach=None) and chainrule Tensors (with no graph)."""
    if isinstance(value, dict):
        return all(isinstance(k, (int, str)) and plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(plain(v) for v in value)
    if isinstance(value, cr.Tensor):
        return value.grad_fn is None and not value.requires_grad
    return value is None or isinstance(value, (int, float, bool, str))


def through_json(state_dict):
    return json.loads(json.dumps(state_dict, default=lambda array: array.tolist()))


@pytest.mark.parametrize("via_json", [False, True], ids=["dict", "json"])
@pytest.mark.parametrize("name, kwargs", ROUND_TRIP_CASES, ids=[c[0] for c in ROUND_TRIP_CASES])
def test_state_dict_round_trip_continues_identically(name, kwargs, via_json):
    arrays = initial_arrays()
    params = [cr.tensor(a, requires_grad=True) for a in arrays]
    groups = [{"params": params[:2], "lr": 0.02}, {"params": params[2:]}]
    uninterrupted = getattr(optim, name)(groups, **kwargs)
    rng = np.random.default_rng(3)
    for step in range(8):
        set_grads(params, grads_for_step(rng, step))
        uninterrupted.step()

    saved = uninterrupted.state_dict()
    assert plain(saved)
    if via_json:
        saved = through_json(saved)
    copies = [cr.tensor(p.array.copy(), requires_grad=True) for p in params]
    resumed = getattr(optim, name)([{"params": copies[:2]}, {"params": copies[2:]}])  # defaults
    resumed.load_state_dict(saved)
    for step in range(8, 16):
        grads = grads_for_step(rng, step)
        set_grads(params, grads)
        set_grads(copies, grads)
        uninterrupted.step()
        resumed.step()
        for p, q in zip(params, copies):
            np.testing.assert_array_equal(p.array, q.array)
    assert [g["lr"] for g in resumed.param_groups] == [g["lr"] for g in uninterrupted.param_groups]


def test_state_dict_is_a_copy():
    p = cr.tensor(np.ones(2), requires_grad=True)
    optimizer = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = cr.tensor(np.ones(2))
    optimizer.step()
    saved = optimizer.state_dict()
    optimizer.step()
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], [1.0, 1.0])


def trained_adam():
    params = [cr.tensor(a, requires_grad=True) for a in initial_arrays()]
    optimizer = optim.Adam([{"params": params[:2]}, {"params": params[2:]}], lr=0.01)
    set_grads(params, grads_for_step(np.random.default_rng(5), 0))
    optimizer.step()
    return optimizer


def rejected(optimizer, state_dict):
    """The load's error message; checks that the optimizer did not change."""
    before = optimizer.state_dict()
    with pytest.raises(ValueError) as error:
        optimizer.load_state_dict(state_dict)
    after = optimizer.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert sorted(after["state"]) == sorted(before["state"])
    for index, entries in before["state"].items():
        for key, value in entries.items():
            np.testing.assert_array_equal(after["state"][index][key], value)
    return str(error.value)


def test_load_rejects_a_different_number_of_groups():
    optimizer, saved = trained_adam(), trained_adam().state_dict()
    saved["param_groups"] = saved["param_groups"][:1]
    message = rejected(optimizer, saved)
    assert "Adam.load_state_dict" in message
    assert "it has 1 param groups, this optimizer has 2" in message


def test_load_rejects_groups_of_other_sizes():
    optimizer, saved = trained_adam(), trained_adam().state_dict()
    saved["param_groups"][0]["params"] = [0]
    saved["param_groups"][1]["params"] = [1, 2, 3]
    message = rejected(optimizer, saved)
    assert "param group 0 has 1 parameters, this optimizer's has 2" in message
    assert "param group 1 has 3 parameters, this optimizer's has 2" in message


def test_load_lists_every_problem_at_once():
    optimizer, saved = trained_adam(), trained_adam().state_dict()
    saved["state"][1]["exp_avg"] = np.zeros(3)
    saved["state"][2]["exp_avg_sq"] = np.zeros((2, 2))
    saved["state"][0]["momentum_buffer"] = np.zeros(3)
    saved["state"][3]["step"] = "three"
    saved["state"][9] = {"step": 1}
    saved["param_groups"][1]["lr"] = -1.0
    message = rejected(optimizer, saved)
    for expected in ["state of parameter 1: exp_avg has shape (3,), the parameter has shape (2, 3)",
                     "state of parameter 2: exp_avg_sq has shape (2, 2), the parameter has "
                     "shape ()",
                     "state of parameter 0: unknown entry 'momentum_buffer'",
                     "state of parameter 3: step must be a number, got str",
                     "state entry 9 names no parameter",
                     "param group 1: lr must be >= 0, got -1.0"]:
        assert expected in message


def test_load_rejects_another_optimizers_state():
    params = [cr.tensor(a, requires_grad=True) for a in initial_arrays()]
    sgd_state = optim.SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1).state_dict()
    message = rejected(trained_adam(), sgd_state)
    assert "lacks the options ['amsgrad', 'betas'" in message


def test_load_rejects_what_is_not_a_state_dict():
    message = rejected(trained_adam(), {"state": {}})
    assert "expected a dict with 'state' (a dict) and 'param_groups' (a list of dicts)" in message
    assert "expected a dict" in rejected(trained_adam(), {"state": {}, "param_groups": [[0, 1]]})


# ------------------------------------------------------------------ errors

def a_param():
    return cr.tensor([1.0, 2.0], requires_grad=True)


@pytest.mark.parametrize("name, kwargs, message", [
    ("SGD", {"lr": -0.1}, "SGD: lr must be >= 0, got -0.1"),
    ("SGD", {"momentum": -0.5}, "SGD: momentum must be >= 0, got -0.5"),
    ("SGD", {"weight_decay": -1}, "SGD: weight_decay must be >= 0, got -1"),
    ("SGD", {"lr": "0.1"}, "SGD: lr must be a real number, got str '0.1'"),
    ("SGD", {"nesterov": True}, "SGD: nesterov momentum requires momentum > 0 and dampening = 0, "
                                "got momentum=0 and dampening=0"),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
     "got momentum=0.9 and dampening=0.1"),
    ("Adam", {"lr": -1e-3}, "Adam: lr must be >= 0, got -0.001"),
    ("Adam", {"eps": -1e-8}, "Adam: eps must be >= 0, got -1e-08"),
    ("Adam", {"betas": (1.0, 0.999)}, "Adam: betas[0] must be in [0, 1), got 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "Adam: betas[1] must be in [0, 1), got -0.1"),
    ("Adam", {"betas": 0.9}, "Adam: betas must be a pair (beta1, beta2), got 0.9"),
    ("Adam", {"weight_decay": -0.1}, "Adam: weight_decay must be >= 0, got -0.1"),
    ("AdamW", {"betas": (0.9, 1.5)}, "AdamW: betas[1] must be in [0, 1), got 1.5"),
    ("RMSprop", {"alpha": -0.5}, "RMSprop: alpha must be >= 0, got -0.5"),
    ("RMSprop", {"momentum": -0.9}, "RMSprop: momentum must be >= 0, got -0.9"),
    ("RMSprop", {"eps": -1.0}, "RMSprop: eps must be >= 0, got -1.0"),
    ("Adagrad", {"lr_decay": -1}, "Adagrad: lr_decay must be >= 0, got -1"),
    ("Adagrad", {"initial_accumulator_value": -0.1},
     "Adagrad: initial_accumulator_value must be >= 0, got -0.1"),
    ("Adagrad", {"lr": float("nan")}, "Adagrad: lr must be >= 0, got nan"),
])
def test_bad_hyperparameters(name, kwargs, message):
    with pytest.raises(ValueError) as error:
        getattr(optim, name)([a_param()], **kwargs)
    assert message in str(error.value)


def test_several_bad_hyperparameters_are_reported_together():
    with pytest.raises(ValueError, match="lr must be >= 0, got -1; eps must be >= 0, got -2"):
        optim.Adam([a_param()], lr=-1, eps=-2)


def test_bad_option_in_a_param_group():
    with pytest.raises(ValueError, match="SGD: param group 1: lr must be >= 0, got -0.5"):
        optim.SGD([{"params": [a_param()]}, {"params": [a_param()], "lr": -0.5}], lr=0.1)


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="SGD: param group 0 has an empty parameter list"):
        optim.SGD([{"params": []}])


def test_parameter_that_does_not_require_grad_is_kept_and_left_alone():
    """As torch: a frozen parameter may be given (model.parameters() of a half-frozen model);
    it never gets a gradient, so it never changes."""
    frozen = cr.tensor([1.0, 2.0, 3.0])
    ours = optim.SGD([a_param(), frozen], lr=0.1)
    theirs = torch.optim.SGD([torch.ones(2, requires_grad=True), torch.ones(3)], lr=0.1)
    assert len(ours.param_groups[0]["params"]) == len(theirs.param_groups[0]["params"]) == 2
    ours.param_groups[0]["params"][0].grad = cr.tensor([1.0, 1.0])
    ours.step()
    np.testing.assert_array_equal(frozen.array, [1.0, 2.0, 3.0])


def test_non_leaf_parameter():
    with pytest.raises(ValueError, match="is not a leaf tensor"):
        optim.SGD([a_param() * 2])


def test_same_parameter_twice():
    p = a_param()
    with pytest.raises(ValueError, match=r"parameter 0 of param group 1 \(shape \(2,\)\) is "
                                         "already in param group 0"):
        optim.SGD([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError, match=r"parameter 1 of param group 0 \(shape \(2,\)\) is "
                                         "already in param group 0"):
        optim.SGD([p, p])


def test_failed_add_param_group_changes_nothing():
    p = a_param()
    optimizer = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="already in param group 0"):
        optimizer.add_param_group({"params": [a_param(), p]})
    assert len(optimizer.param_groups) == 1


def test_params_of_the_wrong_kind():
    with pytest.raises(TypeError, match="got a single Tensor; wrap it in a list"):
        optim.SGD(a_param())
    with pytest.raises(TypeError, match="not a set; use a list"):
        optim.SGD({a_param()})
    with pytest.raises(TypeError, match="parameter 0 of param group 0 is a ndarray"):
        optim.SGD([np.ones(2)])
    with pytest.raises(ValueError, match="param group 0 has no 'params' entry"):
        optim.SGD([{"lr": 0.1}])
    with pytest.raises(TypeError, match="a param group must be a dict, got list"):
        optim.SGD([a_param()]).add_param_group([a_param()])


def test_grad_of_the_wrong_shape_changes_nothing():
    a, b = a_param(), cr.tensor([[1.0, 2.0]], requires_grad=True)
    optimizer = optim.SGD([a, b], lr=0.1)
    a.grad, b.grad = cr.tensor([1.0, 1.0]), cr.tensor([1.0, 1.0])
    with pytest.raises(ValueError, match=r"SGD.step: parameter 1 of param group 0 has shape "
                                         r"\(1, 2\) but its grad has shape \(2,\)"):
        optimizer.step()
    np.testing.assert_array_equal(a.array, [1.0, 2.0])
