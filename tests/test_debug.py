"""The gradient doctor: each flag on a model built to have it, and none on a healthy one."""

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import TensorDataset, datasets
from chainrule.debug import (DEAD_RELU, EXPLODING, NO_GRADIENT, NONFINITE, VANISHING,
                             doctor_for_run, gradient_report, plot_reports, train_doctor,
                             watch_activations)
from chainrule.nn.functional import cross_entropy


def mlp(*sizes, seed=0):
    cr.manual_seed(seed)
    return nn.MLP(sizes[0], list(sizes[1:]))


def set_grads(model, norms):
    """Give each parameter a gradient of the given norm (None: no gradient)."""
    for (name, p), norm in zip(model.named_parameters(), norms):
        if norm is None:
            p.grad = None
        else:
            g = np.ones(p.shape, dtype=np.float32)
            p.grad = cr.tensor(g * norm / np.sqrt(g.size))


def backward_once(model, n_in=4, n_classes=3, n=16, seed=1):
    rng = np.random.default_rng(seed)
    x = cr.tensor(rng.standard_normal((n, n_in)).astype(np.float32))
    y = cr.tensor(rng.integers(0, n_classes, n))
    cross_entropy(model(x), y).backward()
    return x


class WithUnused(nn.Module):
    """An MLP(4, 8, 3) and a Linear(3, 3) that forward() never calls."""

    def __init__(self):
        super().__init__()
        self.body = mlp(4, 8, 3)
        self.unused = nn.Linear(3, 3)

    def forward(self, x):
        return self.body(x)


def flags(report):
    return [(flag.kind, flag.name) for flag in report.flags]


# ------------------------------------------------------------------ the rows


def test_rows_hold_the_norms_in_input_to_output_order():
    model = mlp(4, 8, 3)
    backward_once(model)
    report = gradient_report(model)
    assert [row.name for row in report.rows] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    row = report.rows[2]
    p = model[2].weight
    assert row.shape == (3, 8)
    assert row.grad_norm == pytest.approx(np.linalg.norm(p.grad.array), rel=1e-6)
    assert row.weight_norm == pytest.approx(np.linalg.norm(p.array), rel=1e-6)
    assert row.ratio == pytest.approx(row.grad_norm / row.weight_norm)
    assert row.update_ratio is None and report.update_method is None
    assert report.ok and report.flags == []


def test_frozen_parameters_are_left_out():
    model = mlp(4, 8, 3)
    model[0].requires_grad_(False)
    backward_once(model)
    assert [row.name for row in gradient_report(model).rows] == ["2.weight", "2.bias"]


def test_update_ratio_is_the_step_adam_really_takes_and_the_report_changes_nothing():
    model = mlp(4, 8, 3)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):  # some moments to take into account
        optimizer.zero_grad()
        backward_once(model)
        optimizer.step()
    optimizer.zero_grad()
    backward_once(model, seed=5)
    state_before = {k: v.copy() for k, v in optimizer.state[model[0].weight].items()
                    if isinstance(v, np.ndarray)}
    weights_before = [p.array.copy() for p in model.parameters()]
    report = gradient_report(model, optimizer)
    for p, before in zip(model.parameters(), weights_before):
        np.testing.assert_array_equal(p.array, before)
    for key, value in state_before.items():
        np.testing.assert_array_equal(optimizer.state[model[0].weight][key], value)
    assert optimizer.state[model[0].weight]["step"] == 3
    optimizer.step()
    for row, p, before in zip(report.rows, model.parameters(), weights_before):
        expected = np.linalg.norm(p.array - before) / np.linalg.norm(before)
        assert row.update_ratio == pytest.approx(expected, rel=1e-5)
    assert "exact step Adam.step()" in report.update_method


def test_an_optimizer_without_an_update_rule_gets_the_approximation():
    class Plain:
        def __init__(self, params, lr):
            self.param_groups = [{"params": list(params), "lr": lr}]

    model = mlp(4, 8, 3)
    backward_once(model)
    report = gradient_report(model, Plain(model.parameters(), lr=0.5))
    row = report.rows[0]
    assert row.update_ratio == pytest.approx(0.5 * row.grad_norm / row.weight_norm, rel=1e-6)
    assert "approximation" in report.update_method


# ------------------------------------------------------------------ the flags


def test_no_gradient_names_the_parameters_of_an_unused_layer():
    model = WithUnused()
    backward_once(model)
    report = gradient_report(model)
    assert flags(report) == [(NO_GRADIENT, "unused.weight"), (NO_GRADIENT, "unused.bias")]
    assert "disconnected from the loss" in report.flags[0].explanation
    assert "forward() uses this layer" in report.flags[0].fix
    assert not report.ok


def test_before_any_backward_it_raises_instead_of_flagging_everything():
    with pytest.raises(RuntimeError, match=r"gradient_report: none of the 4 parameters of MLP "
                                           r"has a gradient\. Call loss\.backward\(\) first"):
        gradient_report(mlp(4, 8, 3))


@pytest.mark.parametrize("first, flagged", [(1e-4, True), (2e-3, False)])
def test_vanishing_compares_each_weight_with_the_largest_nearer_the_output(first, flagged):
    model = mlp(4, 8, 8, 3)
    # weights 0, 2, 4 with norms first, 1e-2, 1.0; biases tiny (they are not compared)
    set_grads(model, [first, 1e-9, 1e-2, 1e-9, 1.0, 1e-9])
    report = gradient_report(model)
    assert flags(report) == ([(VANISHING, "0.weight")] if flagged else [])


def test_vanishing_threshold_is_an_argument():
    model = mlp(4, 8, 8, 3)
    set_grads(model, [1e-2, 1.0, 1e-1, 1.0, 1.0, 1.0])
    assert flags(gradient_report(model, vanishing_ratio=0.05)) == [(VANISHING, "0.weight")]
    assert gradient_report(model).ok


def test_a_gradient_that_grows_towards_the_input_is_not_vanishing():
    model = mlp(4, 8, 8, 3)
    set_grads(model, [10.0, 1.0, 1.0, 1.0, 1e-6, 1.0])
    assert gradient_report(model).ok


def test_exploding_flags_a_gradient_norm_above_the_threshold():
    model = mlp(4, 8, 3)
    set_grads(model, [5e3, 1.0, 1.0, 2e3])
    report = gradient_report(model)
    assert flags(report) == [(EXPLODING, "0.weight"), (EXPLODING, "2.bias")]
    assert "clip_grad_norm_(model.parameters(), max_norm=1.0)" in report.flags[0].fix
    assert flags(gradient_report(model, exploding_norm=1e4)) == []


def test_exploding_flags_a_step_larger_than_the_weight():
    model = mlp(4, 8, 3)
    set_grads(model, [1.0, 1.0, 1.0, 1.0])
    big_step = optim.SGD(model.parameters(), lr=100.0)
    report = gradient_report(model, big_step)
    # weights only: a bias may start at zero, where any step is "infinitely" large
    assert flags(report) == [(EXPLODING, "0.weight"), (EXPLODING, "2.weight")]
    assert "one SGD step would move it by" in report.flags[0].explanation
    assert gradient_report(model, optim.SGD(model.parameters(), lr=1e-3)).ok


def test_nan_and_inf_in_gradients_and_weights():
    model = mlp(4, 8, 3)
    backward_once(model)
    model[0].weight.grad.array[0, 0] = np.nan
    model[2].bias.grad.array[1] = np.inf
    model[2].weight.array[0, :2] = np.inf
    report = gradient_report(model)
    assert flags(report) == [(NONFINITE, "0.weight"), (NONFINITE, "2.weight"),
                             (NONFINITE, "2.bias")]
    assert "gradient holds 1 NaN/Inf value of 32" in report.flags[0].explanation
    assert "weight holds 2 NaN/Inf values of 24" in report.flags[1].explanation
    assert "detect_anomaly" in report.flags[0].fix


def dead_model(n_dead):
    """Linear(2, 4) -> ReLU, where the first ``n_dead`` units can never fire."""
    layer = nn.Linear(2, 4)
    nn.init.constant_(layer.weight, 0.0)
    layer.bias.array[:] = [-1.0] * n_dead + [1.0] * (4 - n_dead)
    return nn.Sequential(layer, nn.ReLU(), nn.Linear(4, 3))


@pytest.mark.parametrize("n_dead, flagged", [(3, True), (2, False)])
def test_dead_relu_flags_a_layer_with_more_than_half_its_units_dead(n_dead, flagged):
    model = dead_model(n_dead)
    x = backward_once(model, n_in=2)
    report = gradient_report(model, dead_relu_batch=x)
    assert report.dead_units == {"1": (n_dead, 4)}
    assert flags(report) == ([(DEAD_RELU, "1")] if flagged else [])
    if flagged:
        assert "3 of 4 units (75%) never active" in report.flags[0].explanation


def test_dead_relu_batch_changes_nothing_in_the_model():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(4, 3))
    x = backward_once(model, n_in=2)
    grads = [p.grad.array.copy() for p in model.parameters()]
    running = model[1].running_mean.array.copy()
    gradient_report(model, dead_relu_batch=x)
    assert model.training
    np.testing.assert_array_equal(model[1].running_mean.array, running)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_array_equal(p.grad.array, g)


def test_watch_activations_counts_channels_and_each_call_of_a_shared_relu():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 3, 3, padding=1)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.act(self.conv(x)) - 10.0)  # second call: nothing fires

    model = Net()
    nn.init.constant_(model.conv.weight, 0.0)
    model.conv.bias.array[:] = [1.0, -1.0, 1.0]
    with watch_activations(model) as watch:
        model(cr.randn(2, 1, 5, 5))
        model(cr.randn(2, 1, 5, 5))
    assert watch.dead_units() == {"act[0]": (1, 3), "act[1]": (3, 3)}
    assert watch.dead_fraction()["act[1]"] == 1.0 and watch.batches == 2
    model(cr.randn(2, 1, 5, 5))  # the hooks are gone after the block
    assert watch.batches == 2
    x = cr.randn(2, 1, 5, 5)
    model(x).sum().backward()
    assert flags(gradient_report(model, activations=watch)) == [(DEAD_RELU, "act[1]")]


def test_a_model_without_relu_modules_gets_a_note_not_a_flag():
    model = nn.Sequential(nn.Linear(4, 3))
    x = backward_once(model)
    report = gradient_report(model, dead_relu_batch=x)
    assert report.ok and "no nn.ReLU modules" in str(report)


def test_all_zero_gradients_get_a_note():
    model = mlp(4, 8, 3)
    backward_once(model)
    optim.SGD(model.parameters()).zero_grad(set_to_none=False)
    assert "every gradient is exactly zero" in str(gradient_report(model))


def test_no_false_flag_on_a_healthy_mlp_trained_on_digits():
    features, labels = datasets.digits("train").tensors
    features = (features - features.mean(0)) / (features.std(0) + 0.1)
    model = mlp(64, 64, 64, 10)
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(3):
        for start in range(0, len(labels), 64):
            loss = cross_entropy(model(features[start:start + 64]), labels[start:start + 64])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert loss.item() < 0.3
    optimizer.zero_grad()
    cross_entropy(model(features[:256]), labels[:256]).backward()
    report = gradient_report(model, optimizer, dead_relu_batch=features[:256])
    assert report.ok, str(report)
    assert all(1e-5 < row.update_ratio < 0.1 for row in report.rows)


# ------------------------------------------------------------ text and plot


def test_the_table_and_the_flags_read_as_text():
    model = WithUnused()
    backward_once(model)
    text = str(gradient_report(model, optim.SGD(model.parameters(), lr=0.1)))
    lines = text.splitlines()
    assert lines[0] == "gradient report for WithUnused (6 parameters, input to output)"
    assert lines[2].split() == ["parameter", "shape", "|grad|", "|weight|", "|grad|/|w|",
                                "update/|w|", "flags"]
    assert lines[3].startswith("body.0.weight") and "8x4" in lines[3]
    assert lines[7].split()[2:] == ["-", lines[7].split()[3], "-", "-", "no", "gradient"]
    assert "2 problems:" in text and "[no gradient]" in text and "  fix: check" in text
    assert repr(gradient_report(model)) == ("<GradientReport WithUnused: 6 parameters, "
                                            "flags: no gradient>")


def test_plot_writes_a_png(tmp_path):
    model = WithUnused()
    backward_once(model)
    report = gradient_report(model)
    path = report.plot(tmp_path / "norms.png")
    assert path == tmp_path / "norms.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    with pytest.raises(ValueError, match="plot_reports: got 1 titles for 2 reports"):
        plot_reports([report, report], tmp_path / "x.png", titles=["one"])


def test_plot_without_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    model = mlp(4, 8, 3)
    backward_once(model)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'needs matplotlib: pip install "chainrule\[cli\]"'):
        gradient_report(model).plot(tmp_path / "x.png")


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("kwargs, message", [
    (dict(vanishing_ratio=0), "vanishing_ratio must be a positive number, got 0"),
    (dict(exploding_norm=-1.0), "exploding_norm must be a positive number, got -1.0"),
    (dict(max_update_ratio="1"), "max_update_ratio must be a positive number, got '1'"),
    (dict(dead_fraction=1.5), r"dead_fraction is a fraction of units, in \(0, 1\], got 1.5"),
    (dict(optimizer=[1, 2]), "optimizer must be an optimizer .with param_groups., got list"),
    (dict(dead_relu_batch=(1, 2)), "dead_relu_batch must be the model's input, a Tensor, got "
                                   "tuple; pass the features"),
    (dict(activations=object()), "activations must come from watch_activations"),
    (dict(dead_relu_batch=cr.randn(2, 4), activations=object()),
     "pass dead_relu_batch or activations, not both"),
])
def test_bad_arguments_are_named(kwargs, message):
    model = mlp(4, 8, 3)
    backward_once(model)
    with pytest.raises((TypeError, ValueError), match=f"gradient_report: {message}"):
        gradient_report(model, **kwargs)


def test_a_model_that_is_not_a_module_or_has_nothing_to_train():
    with pytest.raises(TypeError, match="gradient_report: model must be an nn.Module, got list"):
        gradient_report([1, 2])
    model = mlp(4, 3).requires_grad_(False)
    with pytest.raises(ValueError, match="MLP has no parameter that requires grad"):
        gradient_report(model)


# ---------------------------------------------------------- the doctor


def test_doctor_for_run_prints_the_report_writes_the_plot_and_keeps_batch_norm(tmp_path):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = optim.Adam(model.parameters())
    rng = np.random.default_rng(0)
    features = cr.tensor(rng.standard_normal((32, 4)).astype(np.float32))
    labels = cr.tensor(rng.integers(0, 3, 32))
    running = model[1].running_var.array.copy()
    printed = []
    on_end = train_doctor(str(tmp_path), batch_size=16, print=printed.append)
    report = on_end(model, optimizer, TensorDataset(features, labels))
    assert report.ok and report.dead_units == {"2": report.dead_units["2"]}
    assert "gradient report for Sequential" in printed[0] and "doctor plot:" in printed[0]
    assert (tmp_path / "doctor.png").stat().st_size > 10_000
    np.testing.assert_array_equal(model[1].running_var.array, running)
    with pytest.raises(TypeError, match="doctor_for_run: batch must be a pair"):
        doctor_for_run(model, optimizer, features, str(tmp_path))
