"""Smoke test of bench/model_sizes.py: it runs end to end on the smallest size of each
family (--quick) and writes a ratio for each. Timings are never asserted: the machine
may be busy (--allow-load), so only that each ratio is a finite positive number."""

import importlib.util
import json
import math
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("threadpoolctl")

BENCH = pathlib.Path(__file__).resolve().parent.parent / "bench" / "model_sizes.py"


def test_quick_run_writes_a_ratio_per_family(tmp_path):
    out, png = tmp_path / "sizes.json", tmp_path / "sizes.png"
    command = [sys.executable, str(BENCH), "--quick", "--allow-load", "--json", str(out)]
    if importlib.util.find_spec("matplotlib") is not None:  # it comes with the cli extra
        command += ["--plot", str(png)]
    else:  # pragma: no cover
        png = None
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

    result = json.loads(out.read_text())
    rows = result["rows"]
    assert [row["family"] for row in rows] == ["transformer", "lstm", "resnet"]
    for row in rows:
        assert math.isfinite(row["ratio"]) and row["ratio"] > 0, row
        assert row["params"] > 0 and row["flops"] > 0, row
    assert result["threads"] == 1 and "load_1m" in result["machine"]
    if png is not None:
        assert png.stat().st_size > 0
