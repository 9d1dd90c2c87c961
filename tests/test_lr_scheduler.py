"""chainrule.optim.lr_scheduler against torch.optim.lr_scheduler: the same rates, step by step."""

import json

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler

STEPS = 40


def optimizers(name="SGD", **kwargs):
    """The same two-group optimizer in each library (lrs 0.1 and 0.02)."""
    kwargs = kwargs or ({"momentum": 0.9} if name == "SGD" else {})
    ours = getattr(optim, name)([{"params": [cr.tensor([1.0], requires_grad=True)]},
                                 {"params": [cr.tensor([2.0], requires_grad=True)], "lr": 0.02}],
                                lr=0.1, **kwargs)
    theirs = getattr(torch.optim, name)(
        [{"params": [torch.ones(1, requires_grad=True)]},
         {"params": [torch.ones(1, requires_grad=True)], "lr": 0.02}], lr=0.1, **kwargs)
    return ours, theirs


def halve(epoch):
    return 0.5 ** (epoch // 4)


def inverse(epoch):
    return 1.0 / (1 + epoch)


CASES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("StepLR", {"step_size": 1, "gamma": 0.9}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),  # past T_max it climbs back
    ("CosineAnnealingLR", {"T_max": STEPS}),
    ("LambdaLR", {"lr_lambda": inverse}),
    ("LambdaLR", {"lr_lambda": [halve, inverse]}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": STEPS}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": STEPS, "anneal_strategy": "linear"}),
    ("OneCycleLR", {"max_lr": [1.0, 0.5], "total_steps": STEPS, "three_phase": True}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": STEPS, "three_phase": True,
                    "anneal_strategy": "linear", "pct_start": 0.25}),
    ("OneCycleLR", {"max_lr": 0.3, "epochs": 4, "steps_per_epoch": 10, "div_factor": 10.0,
                    "final_div_factor": 100.0, "base_momentum": [0.8, 0.7], "max_momentum": 0.9}),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": STEPS, "cycle_momentum": False}),
    ("MultiStepLR", {"milestones": [3, 8, 8, 20], "gamma": 0.5}),  # 8 twice: gamma**2 there
    ("MultiStepLR", {"milestones": (30, 5)}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.8, "total_iters": 12}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.05, "total_iters": 30}),
    ("ConstantLR", {}),
    ("ConstantLR", {"factor": 0.25, "total_iters": 9}),
    ("PolynomialLR", {}),
    ("PolynomialLR", {"total_iters": 25, "power": 2.5}),
    ("MultiplicativeLR", {"lr_lambda": lambda epoch: 0.95}),
    ("MultiplicativeLR", {"lr_lambda": [halve, inverse]}),
    ("CosineAnnealingWarmRestarts", {"T_0": 7}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}),
    ("CosineAnnealingWarmRestarts", {"T_0": 1, "T_mult": 3}),
]


def assert_same_groups(ours, theirs, keys=("lr", "momentum", "betas")):
    for mine, reference in zip(ours.param_groups, theirs.param_groups):
        for key in keys:
            if key in reference:
                np.testing.assert_allclose(mine[key], reference[key], rtol=1e-13, atol=1e-16,
                                           err_msg=key)


def run_pair(name, kwargs, optimizer_name="SGD", steps=STEPS):
    ours, theirs = optimizers(optimizer_name)
    our_scheduler = getattr(lr_scheduler, name)(ours, **kwargs)
    their_scheduler = getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs)
    for _ in range(steps):
        np.testing.assert_allclose(our_scheduler.get_last_lr(), their_scheduler.get_last_lr(),
                                   rtol=1e-13, atol=1e-16)
        assert_same_groups(ours, theirs)
        ours.step()
        theirs.step()
        our_scheduler.step()
        their_scheduler.step()
    assert our_scheduler.last_epoch == their_scheduler.last_epoch == steps
    return our_scheduler


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_rates_match_torch(name, kwargs):
    run_pair(name, kwargs)


@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_cycles_adam_beta1(three_phase):
    run_pair("OneCycleLR", {"max_lr": 0.01, "total_steps": 30, "three_phase": three_phase},
             optimizer_name="Adam", steps=30)


def test_one_cycle_cycles_rmsprop_momentum():
    run_pair("OneCycleLR", {"max_lr": 0.01, "total_steps": 30}, optimizer_name="RMSprop", steps=30)


def test_constructor_takes_the_first_step():
    ours, _ = optimizers()
    scheduler = lr_scheduler.ExponentialLR(ours, gamma=0.5)
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == [0.1, 0.02]
    assert [g["initial_lr"] for g in ours.param_groups] == [0.1, 0.02]


def test_new_rates_reach_the_update():
    p = cr.tensor([0.0], requires_grad=True)
    optimizer = optim.SGD([p], lr=1.0)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = cr.tensor([-1.0])
        optimizer.step()
        scheduler.step()
    assert p.item() == 1.0 + 0.5 + 0.25


def test_one_cycle_stepping_past_total_steps():
    ours, theirs = optimizers()
    scheduler = lr_scheduler.OneCycleLR(ours, max_lr=1.0, total_steps=10)
    reference = torch.optim.lr_scheduler.OneCycleLR(theirs, max_lr=1.0, total_steps=10)
    for _ in range(10):
        theirs.step()
        scheduler.step()
        reference.step()
    with pytest.raises(ValueError) as their_error:
        reference.step()
    before = (scheduler.state_dict(), [dict(g, params=None) for g in ours.param_groups])
    with pytest.raises(ValueError) as error:
        scheduler.step()
    assert str(their_error.value) == ("Tried to step 11 times. The specified number of total "
                                      "steps is 10")
    assert str(error.value) == "OneCycleLR: " + str(their_error.value)
    assert (scheduler.state_dict(), [dict(g, params=None) for g in ours.param_groups]) == before


# ------------------------------------------------------------- state dicts

ROUND_TRIP_CASES = [
    ("StepLR", {"step_size": 3, "gamma": 0.7}),
    ("ExponentialLR", {"gamma": 0.95}),
    ("CosineAnnealingLR", {"T_max": 8, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": inverse}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 30, "three_phase": True}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 30, "anneal_strategy": "linear"}),
    ("MultiStepLR", {"milestones": [4, 9, 9, 16], "gamma": 0.5}),
    ("LinearLR", {"start_factor": 0.1, "total_iters": 20}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 14}),
    ("PolynomialLR", {"total_iters": 20, "power": 2.0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5, "T_mult": 2, "eta_min": 0.01}),
]


@pytest.mark.parametrize("name, kwargs", ROUND_TRIP_CASES, ids=[c[0] for c in ROUND_TRIP_CASES])
def test_state_dict_round_trip(name, kwargs):
    optimizer, _ = optimizers()
    scheduler = getattr(lr_scheduler, name)(optimizer, **kwargs)
    for _ in range(12):
        optimizer.step()
        scheduler.step()
    saved = json.loads(json.dumps(scheduler.state_dict()))  # plain values only
    saved_optimizer = json.loads(json.dumps(optimizer.state_dict(), default=lambda t: t.tolist()))

    resumed_optimizer, _ = optimizers()
    resumed = getattr(lr_scheduler, name)(resumed_optimizer, **kwargs)
    resumed_optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved)
    for _ in range(15):
        for o, s in ((optimizer, scheduler), (resumed_optimizer, resumed)):
            o.step()
            s.step()
        assert resumed.get_last_lr() == scheduler.get_last_lr()
        assert [g["momentum"] for g in resumed_optimizer.param_groups] == \
               [g["momentum"] for g in optimizer.param_groups]
    assert resumed.last_epoch == 27


def test_lambda_lr_does_not_save_its_functions():
    optimizer, _ = optimizers()
    saved = lr_scheduler.LambdaLR(optimizer, lr_lambda=[halve, inverse]).state_dict()
    assert sorted(saved) == ["_last_lr", "_step_count", "base_lrs", "last_epoch"]


def test_load_state_dict_rejects_a_mismatch_and_changes_nothing():
    optimizer, _ = optimizers()
    scheduler = lr_scheduler.StepLR(optimizer, step_size=3)
    saved = scheduler.state_dict()
    before = scheduler.state_dict()
    bad = dict(saved, base_lrs=[0.1], extra=1)
    del bad["gamma"]
    with pytest.raises(ValueError) as error:
        scheduler.load_state_dict(bad)
    assert str(error.value) == ("StepLR.load_state_dict: missing entries ['gamma']; unknown "
                                "entries ['extra']; base_lrs has 1 rates, the optimizer has 2 "
                                "param groups")
    assert scheduler.state_dict() == before
    with pytest.raises(ValueError, match="StepLR.load_state_dict: expected a dict, got list"):
        scheduler.load_state_dict([])


def test_resuming_with_last_epoch_matches_torch():
    ours, theirs = optimizers()
    for optimizer in (ours, theirs):
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"] * 2
    our_scheduler = lr_scheduler.CosineAnnealingLR(ours, T_max=20, last_epoch=9)
    their_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=20, last_epoch=9)
    for _ in range(15):
        np.testing.assert_allclose(our_scheduler.get_last_lr(), their_scheduler.get_last_lr(),
                                   rtol=1e-13)
        ours.step()
        theirs.step()
        our_scheduler.step()
        their_scheduler.step()


# ------------------------------------------------------------------ errors

def test_resuming_without_initial_lr():
    optimizer, _ = optimizers()
    with pytest.raises(ValueError, match=r"ExponentialLR: resuming with last_epoch=4 needs "
                                         r"'initial_lr' in every param group, but groups \[0, 1\]"):
        lr_scheduler.ExponentialLR(optimizer, gamma=0.9, last_epoch=4)


@pytest.mark.parametrize("name, kwargs, error, message", [
    ("StepLR", {"step_size": 0}, ValueError, "StepLR: step_size must be a positive integer, got 0"),
    ("StepLR", {"step_size": 2.5}, ValueError,
     "StepLR: step_size must be a positive integer, got 2.5"),
    ("StepLR", {"step_size": 2, "gamma": "0.1"}, TypeError,
     "StepLR: gamma must be a real number, got str"),
    ("ExponentialLR", {"gamma": None}, TypeError, "ExponentialLR: gamma must be a real number"),
    ("CosineAnnealingLR", {"T_max": 0}, ValueError,
     "CosineAnnealingLR: T_max must be a positive integer"),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": [0.1]}, TypeError,
     "CosineAnnealingLR: eta_min must be a real number"),
    ("LambdaLR", {"lr_lambda": [inverse]}, ValueError,
     "LambdaLR: expected 2 lr_lambdas (one per param group), got 1"),
    ("LambdaLR", {"lr_lambda": 0.5}, TypeError,
     "LambdaLR: lr_lambda must be a function of the epoch"),
    ("OneCycleLR", {"max_lr": 1.0}, ValueError,
     "OneCycleLR: You must define either total_steps OR (epochs AND steps_per_epoch)"),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 0}, ValueError,
     "OneCycleLR: Expected positive integer total_steps, but got 0"),
    ("OneCycleLR", {"max_lr": 1.0, "epochs": -1, "steps_per_epoch": 5}, ValueError,
     "OneCycleLR: Expected positive integer epochs, but got -1"),
    ("OneCycleLR", {"max_lr": 1.0, "epochs": 2, "steps_per_epoch": 0}, ValueError,
     "OneCycleLR: Expected positive integer steps_per_epoch, but got 0"),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 10, "pct_start": 1.5}, ValueError,
     "OneCycleLR: Expected float between 0 and 1 pct_start, but got 1.5"),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 10, "anneal_strategy": "exp"}, ValueError,
     "OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', instead got 'exp'"),
    ("OneCycleLR", {"max_lr": [1.0, 2.0, 3.0], "total_steps": 10}, ValueError,
     "OneCycleLR: max_lr must have the same length as optimizer.param_groups. max_lr has 3 values, "
     "param_groups has 2."),
    ("MultiStepLR", {"milestones": 5}, TypeError,
     "MultiStepLR: milestones must be an iterable of integer epochs, got 5"),
    ("MultiStepLR", {"milestones": [2, 4.5]}, TypeError, "milestones must be an iterable of "
                                                         "integer epochs, got [2, 4.5]"),
    ("LinearLR", {"start_factor": 0}, ValueError, "LinearLR: Starting multiplicative factor "
     "expected to be greater than 0 and less or equal to 1, got start_factor=0"),
    ("LinearLR", {"end_factor": 1.5}, ValueError, "LinearLR: Ending multiplicative factor "
     "expected to be between 0 and 1, got end_factor=1.5"),
    ("LinearLR", {"total_iters": -1}, ValueError,
     "LinearLR: total_iters must be a number of epochs >= 0, got -1"),
    ("ConstantLR", {"factor": 2.0}, ValueError, "ConstantLR: Constant multiplicative factor "
     "expected to be between 0 and 1, got factor=2.0"),
    ("PolynomialLR", {"power": "2"}, TypeError, "PolynomialLR: power must be a real number"),
    ("MultiplicativeLR", {"lr_lambda": [inverse]}, ValueError,
     "MultiplicativeLR: expected 2 lr_lambdas (one per param group), got 1"),
    ("CosineAnnealingWarmRestarts", {"T_0": 0}, ValueError,
     "CosineAnnealingWarmRestarts: Expected positive integer T_0, but got 0"),
    ("CosineAnnealingWarmRestarts", {"T_0": 5, "T_mult": 1.5}, ValueError,
     "CosineAnnealingWarmRestarts: Expected integer T_mult >= 1, but got 1.5"),
    ("CosineAnnealingWarmRestarts", {"T_0": 5, "eta_min": "0"}, ValueError,
     "CosineAnnealingWarmRestarts: Expected float or int eta_min, but got '0' of type str"),
    ("ReduceLROnPlateau", {"factor": 1.0}, ValueError,
     "ReduceLROnPlateau: Factor should be < 1.0, got factor=1.0"),
    ("ReduceLROnPlateau", {"mode": "lowest"}, ValueError,
     "ReduceLROnPlateau: mode 'lowest' is unknown! Use 'min' or 'max'"),
    ("ReduceLROnPlateau", {"threshold_mode": "ratio"}, ValueError,
     "ReduceLROnPlateau: threshold mode 'ratio' is unknown! Use 'rel' or 'abs'"),
    ("ReduceLROnPlateau", {"min_lr": [0.1, 0.2, 0.3]}, ValueError,
     "ReduceLROnPlateau: expected 2 min_lrs (one per param group), got 3"),
    ("ReduceLROnPlateau", {"patience": -1}, ValueError,
     "ReduceLROnPlateau: patience must be an integer >= 0, got -1"),
])
def test_bad_arguments(name, kwargs, error, message):
    optimizer, _ = optimizers()
    with pytest.raises(error) as raised:
        getattr(lr_scheduler, name)(optimizer, **kwargs)
    assert message in str(raised.value)


def test_one_cycle_momentum_needs_an_optimizer_with_momentum():
    optimizer = optim.Adagrad([cr.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="OneCycleLR: optimizer must support momentum or beta1 "
                                         "with `cycle_momentum` option enabled; Adagrad has "
                                         "neither"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10)
    lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10, cycle_momentum=False)


def test_not_an_optimizer():
    with pytest.raises(TypeError, match="StepLR: expected an Optimizer, got SGD"):
        lr_scheduler.StepLR(torch.optim.SGD([torch.ones(1, requires_grad=True)]), step_size=2)
    with pytest.raises(TypeError, match="OneCycleLR: expected an Optimizer, got list"):
        lr_scheduler.OneCycleLR([], max_lr=1.0, total_steps=5)


# ------------------------------------------------------------- ReduceLROnPlateau

# A metric that improves, stalls, wobbles inside the threshold and improves again.
METRICS = [5.0, 4.0, 4.0, 3.9999, 4.1, 4.2, 3.0, 3.0, 3.0, 3.0, 2.9, 2.95, 3.1, 3.2, 3.3,
           2.0, 2.0, 2.5, 2.6, 2.7, 1.0, 1.0, 1.0, 1.0, 1.0, 1.5, 0.5, 0.6, 0.7, 0.8,
           0.9, 1.0, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]

PLATEAU_CASES = [
    {},
    {"patience": 0},
    {"patience": 2, "factor": 0.5},
    {"patience": 1, "cooldown": 3, "factor": 0.5},
    {"patience": 1, "threshold": 0.1, "threshold_mode": "abs"},
    {"patience": 2, "threshold": 0.05, "factor": 0.3, "min_lr": 0.004},
    {"patience": 1, "min_lr": [0.01, 0.0], "factor": 0.2, "eps": 1e-3},
    {"mode": "max", "patience": 1, "factor": 0.5},
    {"mode": "max", "patience": 0, "threshold": 0.5, "threshold_mode": "abs", "cooldown": 1},
]


def run_plateau(kwargs, metrics=METRICS, optimizer_name="SGD"):
    ours, theirs = optimizers(optimizer_name)
    scheduler = lr_scheduler.ReduceLROnPlateau(ours, **kwargs)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kwargs)
    for metric in metrics:
        ours.step()
        theirs.step()
        scheduler.step(cr.tensor(metric) if metric > 4 else metric)  # a 0-d tensor works too
        reference.step(metric)
        assert scheduler.get_last_lr() == reference.get_last_lr(), metric
        for name in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
            assert getattr(scheduler, name) == getattr(reference, name), name
    return scheduler, ours


@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=[str(k) for k in PLATEAU_CASES])
def test_reduce_on_plateau_matches_torch_on_a_scripted_metric(kwargs):
    run_plateau(kwargs)


def test_reduce_on_plateau_state_dict_round_trip():
    kwargs = {"patience": 1, "cooldown": 2, "factor": 0.5, "mode": "max"}
    metrics = [-m for m in METRICS]
    scheduler, _ = run_plateau(kwargs, metrics[:15])
    saved = json.loads(json.dumps(scheduler.state_dict()))  # best may be -inf: JSON keeps it
    resumed_optimizer, theirs = optimizers()
    for group, lr in zip(resumed_optimizer.param_groups, scheduler.get_last_lr()):
        group["lr"] = lr
    resumed = lr_scheduler.ReduceLROnPlateau(resumed_optimizer)
    resumed.load_state_dict(saved)
    reference, reference_optimizer = run_plateau(kwargs, metrics[:15])
    for metric in metrics[15:]:
        resumed.step(metric)
        reference.step(metric)
        assert resumed.get_last_lr() == reference.get_last_lr()
    assert resumed.mode == "max" and resumed.patience == 1


# ------------------------------------------------------- SequentialLR, ChainedScheduler

def build(library, optimizer, spec):
    """A scheduler from ``(name, kwargs)``; kwargs' "schedulers" are specs too."""
    name, kwargs = spec
    module = lr_scheduler if library == "chainrule" else torch.optim.lr_scheduler
    kwargs = dict(kwargs)
    if "schedulers" in kwargs:
        kwargs["schedulers"] = [build(library, optimizer, s) for s in kwargs["schedulers"]]
    if name == "ChainedScheduler":
        return module.ChainedScheduler(kwargs["schedulers"], optimizer)
    return getattr(module, name)(optimizer, **kwargs)


COMBINED_CASES = [
    ("SequentialLR", {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 5}),
                                     ("CosineAnnealingLR", {"T_max": 20})], "milestones": [5]}),
    ("SequentialLR", {"schedulers": [("ConstantLR", {"factor": 0.5, "total_iters": 4}),
                                     ("ExponentialLR", {"gamma": 0.9}),
                                     ("StepLR", {"step_size": 4, "gamma": 0.5})],
                      "milestones": [3, 12]}),
    ("SequentialLR", {"schedulers": [("LinearLR", {"total_iters": 6}),
                                     ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2})],
                      "milestones": [6]}),
    ("SequentialLR", {"schedulers": [("MultiStepLR", {"milestones": [2, 4]}),
                                     ("PolynomialLR", {"total_iters": 10, "power": 2.0}),
                                     ("LambdaLR", {"lr_lambda": inverse})],
                      "milestones": [5, 20]}),
    ("ChainedScheduler", {"schedulers": [("ConstantLR", {"factor": 0.1, "total_iters": 3}),
                                         ("ExponentialLR", {"gamma": 0.9})]}),
    ("ChainedScheduler", {"schedulers": [("LinearLR", {"start_factor": 0.5, "total_iters": 8}),
                                         ("MultiStepLR", {"milestones": [10, 20]}),
                                         ("MultiplicativeLR", {"lr_lambda": halve})]}),
]


@pytest.mark.parametrize("spec", COMBINED_CASES, ids=[f"{s[0]}-{i}"
                                                      for i, s in enumerate(COMBINED_CASES)])
def test_combined_schedules_match_torch(spec):
    ours, theirs = optimizers()
    scheduler, reference = build("chainrule", ours, spec), build("torch", theirs, spec)
    for _ in range(STEPS):
        np.testing.assert_allclose(scheduler.get_last_lr(), reference.get_last_lr(), rtol=1e-13,
                                   atol=1e-16)
        assert_same_groups(ours, theirs)
        ours.step()
        theirs.step()
        scheduler.step()
        reference.step()


@pytest.mark.parametrize("spec", COMBINED_CASES[:2] + COMBINED_CASES[4:5],
                         ids=["Sequential-0", "Sequential-1", "Chained-0"])
def test_combined_state_dict_round_trip(spec):
    optimizer, _ = optimizers()
    scheduler = build("chainrule", optimizer, spec)
    for _ in range(8):
        optimizer.step()
        scheduler.step()
    saved = json.loads(json.dumps(scheduler.state_dict()))
    saved_optimizer = json.loads(json.dumps(optimizer.state_dict(), default=lambda t: t.tolist()))
    resumed_optimizer, _ = optimizers()
    resumed = build("chainrule", resumed_optimizer, spec)
    resumed.load_state_dict(saved)
    resumed_optimizer.load_state_dict(saved_optimizer)
    for _ in range(20):
        for o, s in ((optimizer, scheduler), (resumed_optimizer, resumed)):
            o.step()
            s.step()
        assert resumed.get_last_lr() == scheduler.get_last_lr()


def test_combined_schedules_refuse_what_torch_refuses():
    ours, _ = optimizers()
    other, _ = optimizers()
    first = lr_scheduler.ExponentialLR(ours, gamma=0.9)
    with pytest.raises(ValueError, match="SequentialLR: Sequential Schedulers expects number of "
                                         "schedulers provided to be one more than the number of "
                                         "milestone points, but got number of schedulers 1 and "
                                         "the number of milestones to be equal to 1"):
        lr_scheduler.SequentialLR(ours, [first], milestones=[3])
    with pytest.raises(ValueError, match="SequentialLR does not support `ReduceLROnPlateau`"):
        lr_scheduler.SequentialLR(ours, [first, lr_scheduler.ReduceLROnPlateau(ours)], [3])
    with pytest.raises(ValueError, match="ChainedScheduler expects all schedulers to belong to "
                                         "the same optimizer, but got scheduler StepLR at index "
                                         "1"):
        lr_scheduler.ChainedScheduler([first, lr_scheduler.StepLR(other, 2)])
    with pytest.raises(ValueError, match="ChainedScheduler expects at least one scheduler"):
        lr_scheduler.ChainedScheduler([])
    with pytest.raises(TypeError, match="SequentialLR: the scheduler at index 1 should have "
                                        "`optimizer` as its attribute; got a str"):
        lr_scheduler.SequentialLR(ours, [first, "cosine"], [3])


# -------------------------------------------------------- step(epoch): closed forms

@pytest.mark.filterwarnings("ignore:The epoch parameter", "ignore:Detected call of")
@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5], "gamma": 0.5}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 4}),
    ("LinearLR", {"start_factor": 0.2, "total_iters": 6}),
    ("ExponentialLR", {"gamma": 0.8}),
    ("PolynomialLR", {"total_iters": 8, "power": 2.0}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("LambdaLR", {"lr_lambda": inverse}),
])
def test_step_with_an_epoch_jumps_there_by_the_closed_form(name, kwargs):
    ours, theirs = optimizers()
    scheduler = getattr(lr_scheduler, name)(ours, **kwargs)
    reference = getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs)
    for epoch in [3, 4, 9, 1, 0, 12, 5]:
        with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was "
                                             "not necessary"):
            scheduler.step(epoch)
        reference.step(epoch)
        np.testing.assert_allclose(scheduler.get_last_lr(), reference.get_last_lr(), rtol=1e-13)
        assert scheduler.last_epoch == reference.last_epoch == epoch


def test_warm_restarts_step_by_fractional_epochs_as_torch():
    """Stepped per batch with ``step(epoch + i / iters)``, T_mult 2, as torch documents it."""
    ours, theirs = optimizers()
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(ours, T_0=2, T_mult=2, eta_min=0.01)
    reference = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, T_0=2, T_mult=2,
                                                                     eta_min=0.01)
    for epoch in range(9):
        for i in range(4):
            scheduler.step(epoch + i / 4)
            reference.step(epoch + i / 4)
            np.testing.assert_allclose(scheduler.get_last_lr(), reference.get_last_lr(),
                                       rtol=1e-13)
            assert (scheduler.T_i, scheduler.last_epoch) == (reference.T_i, reference.last_epoch)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        scheduler.step(-1)


def test_multistep_milestones_are_a_counter_saved_as_a_list():
    optimizer, _ = optimizers()
    scheduler = lr_scheduler.MultiStepLR(optimizer, milestones=[6, 2, 6])
    assert scheduler.milestones == torch.optim.lr_scheduler.MultiStepLR(
        optimizers()[1], milestones=[6, 2, 6]).milestones
    assert scheduler.state_dict()["milestones"] == [2, 6, 6]
