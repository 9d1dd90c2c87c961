"""The training stack end to end: chainrule train / eval / demo, resume, errors."""

import os
import subprocess
import sys

import numpy as np
import pytest

from chainrule import app as training
from chainrule.app.cli import main
from chainrule.serialization import load


def quiet(*args, **kwargs):
    pass


def test_digits_mlp_reaches_97_percent_and_writes_checkpoint_and_plot(tmp_path):
    config = training.TrainConfig(data="digits", model="mlp", out=str(tmp_path))
    model, history = training.train(config, progress=False, print=quiet)
    assert history["test_accuracy"][-1] >= 0.97
    training.plot_history(history, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").stat().st_size > 10_000
    checkpoint = load(tmp_path / training.CHECKPOINT)
    assert set(checkpoint) == {"model", "optimizer", "config", "history", "standardizer"}
    loss, accuracy = training.evaluate_checkpoint(checkpoint)
    assert accuracy == pytest.approx(history["test_accuracy"][-1])


def test_moons_reaches_full_train_accuracy(tmp_path):
    config = training.TrainConfig(data="moons", out=str(tmp_path))
    _, history = training.train(config, progress=False, print=quiet)
    assert history["train_accuracy"][-1] == 1.0


def test_digits_cnn_trains(tmp_path):
    config = training.TrainConfig(data="digits", model="cnn", epochs=2, out=str(tmp_path))
    _, history = training.train(config, progress=False, print=quiet)
    assert history["test_accuracy"][-1] > 0.9


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path):
    whole = training.TrainConfig(data="spirals", epochs=6, out=str(tmp_path / "whole"))
    _, uninterrupted = training.train(whole, progress=False, print=quiet)
    part = training.TrainConfig(data="spirals", epochs=3, out=str(tmp_path / "part"))
    training.train(part, progress=False, print=quiet)
    part.epochs = 6
    _, resumed = training.train(part, progress=False, print=quiet, resume=True)
    for key in ("train_loss", "test_loss", "test_accuracy"):
        np.testing.assert_allclose(resumed[key], uninterrupted[key], rtol=1e-6)


def test_same_seed_gives_the_same_numbers(tmp_path):
    runs = [training.train(training.TrainConfig(data="circles", epochs=3, out=str(tmp_path / str(i))),
                           progress=False, print=quiet)[1] for i in range(2)]
    assert runs[0]["train_loss"] == runs[1]["train_loss"]


def test_command_line_train_then_eval(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "xor", "--epochs", "50", "--hidden", "8,8", "--out", str(out),
                 "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "test acc" in text and "checkpoint:" in text
    assert (out / "loss.png").exists() and (out / "checkpoint.npz").exists()
    assert main(["eval", "--checkpoint", str(out)]) == 0
    assert "accuracy 1.0000" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["train", "--data", "mnist"], ["unknown dataset 'mnist'", "digits"]),
    (["train", "--epochs", "-2"], ["--epochs must be 0 or more", "-2"]),
    (["train", "--model", "cnn", "--data", "moons"], ["--model cnn needs images"]),
    (["train", "--optimizer", "lbfgs"], ["unknown optimizer 'lbfgs'"]),
    (["train", "--hidden", "a,b"], ["expected sizes like 256,256"]),
    (["train", "--lr", "0"], ["--lr must be positive"]),
    (["eval", "--checkpoint", "/no/such/run"], ["no checkpoint at /no/such/run"]),
    (["train", "--resume", "/no/such/run"], ["no checkpoint at"]),
    (["fly"], ["invalid choice: 'fly'"]),
])
def test_bad_arguments_are_one_line_and_exit_code_2(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chainrule: error: ")
    for word in words:
        assert word in err


def test_a_corrupted_checkpoint_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "checkpoint.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["eval", "--checkpoint", str(tmp_path)]) == 2
    assert "truncated or corrupted" in capsys.readouterr().err


def test_demo_end_to_end(tmp_path):
    result = subprocess.run([sys.executable, "-m", "chainrule", "demo", "--out", str(tmp_path),
                             "--epochs", "5"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "dy/dx = 6.0" in out and "dy/dx = 8.0" in out and "chainrule agrees" in out
    assert "XOR learned" in out
    accuracy = float(out.split("test accuracy: ")[1].split()[0])
    assert accuracy > 0.9
    assert os.path.getsize(tmp_path / "loss.png") > 10_000
    assert (tmp_path / "checkpoint.npz").exists()


def test_command_line_train_doctor_prints_the_gradient_report(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "moons", "--epochs", "5", "--out", str(out), "--no-progress",
                 "--doctor"]) == 0
    text = capsys.readouterr().out
    assert "gradient report for MLP (6 parameters, input to output)" in text
    assert "update/|w|: the exact step Adam.step() would take" in text
    assert "doctor plot:" in text and (out / "doctor.png").stat().st_size > 10_000


def test_a_missing_extra_is_one_line_naming_it(tmp_path, capsys, monkeypatch):
    def no_matplotlib(*args, **kwargs):
        raise ImportError('plots need matplotlib: pip install "chainrule[cli]"')

    monkeypatch.setattr(training, "plot_history", no_matplotlib)
    assert main(["train", "--data", "xor", "--epochs", "1", "--out", str(tmp_path),
                 "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "chainrule[cli]"' in err
