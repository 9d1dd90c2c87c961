"""The demo's parts: the tutorial's examples and XOR (the whole demo runs in test_training.py)."""

from chainrule.app import demo
from chainrule.app.cli import main


def test_demo_functions_return_what_they_print():
    lines = []
    assert demo.seed_examples(print=lines.append) == (6.0, 8.0)
    predictions = demo.train_xor(steps=1000, print=lines.append)
    assert all(abs(p - t) < 0.1 for p, t in zip(predictions, [0, 1, 1, 0]))


def test_command_without_a_subcommand_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out
