"""`chainrule train` speaks up: a diverging loss is reported at once, and a missing optional
extra is noted before training starts and its feature skipped. The lines are checked word
for word; missing modules are simulated with None in sys.modules (import then fails)."""

import sys

import pytest

from chainrule import app
from chainrule.app import cli, progress
from chainrule.app.progress import DivergenceWatch

ADVICE = ("the learning rate is likely too high (--lr {lr}); try a smaller one "
          "(e.g. --lr {smaller}), and --doctor to see the gradients")


def step_losses(out):
    return app.load_checkpoint(out)["history"]["step_loss"]


def test_a_diverging_loss_is_one_warning_on_stderr_naming_the_learning_rate(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--data", "moons", "--lr", "1000", "--epochs", "1",
                     "--no-progress", "--out", str(out)]) == 0
    first, second = step_losses(out)[:2]
    assert second > 1000 * first  # Adam at lr 1000: the second batch already blew up
    assert capsys.readouterr().err == (
        f"chainrule: warning: the loss grew from {first:.4g} to {second:.4g} (over 1000x) by "
        f"epoch 1, step 2: {ADVICE.format(lr='1000', smaller='100')}\n")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflow, on the way to nan
def test_nan_is_reported_too_and_each_warning_once(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--data", "moons", "--optimizer", "sgd", "--lr", "1e6",
                     "--epochs", "2", "--no-progress", "--out", str(out)]) == 0
    losses = step_losses(out)
    grew = next(i for i, loss in enumerate(losses) if loss > 1000 * losses[0])
    nan = next(i for i, loss in enumerate(losses) if loss != loss)
    advice = ADVICE.format(lr="1e+06", smaller="100000")
    lines = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith("chainrule:")]  # numpy's own overflow warnings aside
    assert lines == [
        f"chainrule: warning: the loss grew from {losses[0]:.4g} to {losses[grew]:.4g} (over "
        f"1000x) by epoch 1, step {grew + 1}: {advice}",
        f"chainrule: warning: the loss is nan at epoch 1, step {nan + 1}: {advice}"]


def test_the_warning_comes_during_the_epoch_not_after_it(tmp_path):
    events = []
    config = app.TrainConfig(data="moons", lr=1000, epochs=1, out=str(tmp_path))
    app.train(config, progress=False, print=events.append, warn=events.append)
    assert events[0].startswith("chainrule: warning: the loss grew from ")
    assert events[1].startswith("epoch 1/1")


def test_the_watch_on_its_own():
    lines = []
    watch = DivergenceWatch(0.5, warn=lines.append)
    for step, loss in enumerate([2.0, 1.5, 1999.0, float("inf"), float("nan"), 1e9], 1):
        watch(loss, 3, step)
    assert lines == [
        "chainrule: warning: the loss is inf at epoch 3, step 4: "
        + ADVICE.format(lr="0.5", smaller="0.05"),
        "chainrule: warning: the loss grew from 2 to 1e+09 (over 1000x) by epoch 3, step 6: "
        + ADVICE.format(lr="0.5", smaller="0.05")]


def test_a_healthy_run_says_nothing_on_stderr(tmp_path, capsys):
    assert cli.main(["train", "--data", "moons", "--epochs", "3", "--no-progress",
                     "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().err == ""


NO_MATPLOTLIB = ('chainrule: note: matplotlib is not installed, so {files} will not be drawn; '
                 'pip install "chainrule[cli]" adds it\n')
NO_TQDM = ('chainrule: note: tqdm is not installed, so no progress bar: one line per epoch '
           'instead; pip install "chainrule[cli]" adds it\n')


@pytest.fixture
def noted_before_training(monkeypatch, capsys):
    """Checks, as training starts, what stderr said so far; returns that list of checks."""
    seen = []
    train = app.train

    def spy(*args, **kwargs):
        captured = capsys.readouterr()
        seen.append(captured.err)
        sys.stdout.write(captured.out)
        return train(*args, **kwargs)

    monkeypatch.setattr(cli.app, "train", spy)
    return seen


def test_missing_matplotlib_is_noted_before_training_and_the_plot_skipped(
        tmp_path, capsys, monkeypatch, noted_before_training):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert cli.main(["train", "--data", "xor", "--epochs", "1", "--no-progress",
                     "--out", str(tmp_path)]) == 0
    assert noted_before_training == [NO_MATPLOTLIB.format(files="loss.png")]
    out = capsys.readouterr().out
    assert "checkpoint: " in out and "plot:" not in out
    assert (tmp_path / "checkpoint.npz").exists() and not (tmp_path / "loss.png").exists()


def test_missing_matplotlib_with_doctor_still_prints_the_report(
        tmp_path, capsys, monkeypatch, noted_before_training):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert cli.main(["train", "--data", "moons", "--epochs", "2", "--no-progress", "--doctor",
                     "--out", str(tmp_path)]) == 0
    assert noted_before_training == [NO_MATPLOTLIB.format(files="loss.png and doctor.png")]
    captured = capsys.readouterr()
    assert "gradient report for MLP (6 parameters, input to output)" in captured.out
    assert captured.err == "" and not (tmp_path / "doctor.png").exists()


def test_missing_tqdm_is_noted_before_training_and_epochs_print_as_lines(
        tmp_path, capsys, monkeypatch, noted_before_training):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setattr(progress, "wants_bar", bool)  # as on a terminal
    assert cli.main(["train", "--data", "xor", "--epochs", "2", "--out", str(tmp_path)]) == 0
    assert noted_before_training == [NO_TQDM]
    out = capsys.readouterr().out
    assert "epoch 1/2  loss" in out and "epoch 2/2  loss" in out
    assert "progress bars need tqdm" not in out  # noted once, not again by the loop
