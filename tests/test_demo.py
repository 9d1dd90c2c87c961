"""`make demo` end to end: the tutorial's examples and XOR, through the command line."""

import subprocess
import sys

from chainrule import demo
from chainrule.cli import main


def test_demo_prints_the_tutorials_gradients_and_learns_xor():
    result = subprocess.run([sys.executable, "-m", "chainrule", "demo"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "dy/dx = 6.0" in out and "dy/dx = 8.0" in out
    assert "chainrule agrees" in out  # torch is installed in the test environment
    assert out.count("Step ") == 10  # the loss every 100 of 1000 steps
    assert "XOR learned" in out


def test_demo_functions_return_what_they_print():
    lines = []
    assert demo.seed_examples(print=lines.append) == (6.0, 8.0)
    predictions = demo.train_xor(steps=1000, print=lines.append)
    assert all(abs(p - t) < 0.1 for p, t in zip(predictions, [0, 1, 1, 0]))


def test_command_without_a_subcommand_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out
