"""The three examples plant one bug each; the doctor must name exactly it, then nothing."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

from chainrule.debug import EXPLODING, NO_GRADIENT, VANISHING

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kinds_and_names(report):
    return [(flag.kind, flag.name) for flag in report.flags]


def test_vanishing_example_flags_the_first_sigmoid_layers_then_nothing(tmp_path, capsys):
    before, after = load("vanishing_gradients").main(plot=tmp_path / "doctor.png")
    # Six of the ten weights, input side: each below 1e-3 of the output layer's gradient.
    assert kinds_and_names(before) == [(VANISHING, f"{i}.weight") for i in (0, 2, 4, 6, 8, 10)]
    assert after.ok, str(after)
    assert len(after.dead_units) == 9  # the residual net's ReLUs were watched, none dead
    assert (tmp_path / "doctor.png").stat().st_size > 20_000
    text = capsys.readouterr().out
    assert "--- before" in text and "[vanishing]" in text and "ok: no problems found" in text


def test_exploding_example_flags_the_huge_gradients_then_nothing_after_clipping(capsys):
    before, after = load("exploding_gradients").main()
    weights = [f"{i}.weight" for i in range(0, 16, 2)]
    assert kinds_and_names(before) == [(EXPLODING, name) for name in
                                       ["0.weight", "0.bias"] + weights[1:]]
    assert after.ok, str(after)
    assert max(row.grad_norm for row in after.rows) <= 1.0
    assert "the norm was 2.06e+04" in capsys.readouterr().out


def test_exploding_example_training_diverges_without_clipping_only(capsys):
    module = load("exploding_gradients")
    features, labels = module.datasets.digits("train").tensors
    import numpy as np

    with np.errstate(all="ignore"):
        unclipped = module.train(False, features, labels, steps=11)
    clipped = module.train(True, features, labels, steps=11)
    assert unclipped[1] == "nan"
    assert float(clipped[1]) < float(clipped[0]) / 2


def test_disconnected_example_names_the_forgotten_layer_then_nothing(capsys):
    before, after = load("disconnected_layer").main()
    assert kinds_and_names(before) == [(NO_GRADIENT, "hidden2.weight"),
                                       (NO_GRADIENT, "hidden2.bias")]
    assert after.ok, str(after)
    assert list(after.dead_units) == ["relu[0]", "relu[1]"]  # one ReLU module, called twice


@pytest.mark.parametrize("name", ["vanishing_gradients", "exploding_gradients",
                                  "disconnected_layer"])
def test_examples_stay_short(name):
    assert len((EXAMPLES / f"{name}.py").read_text().splitlines()) < 80


def test_an_example_runs_as_a_script():
    result = subprocess.run([sys.executable, str(EXAMPLES / "disconnected_layer.py")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "[no gradient]" in result.stdout and "hidden2.weight" in result.stdout
