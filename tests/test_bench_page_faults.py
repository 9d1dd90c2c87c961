"""Smoke test of bench/page_faults.py (--quick): it runs both allocator settings in fresh
processes and reports each engine. Timings are never asserted (the machine may be busy);
the fault counts are, since they are the point: with freed memory kept, chainrule's step
faults far less than with glibc's defaults."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("threadpoolctl")

BENCH = pathlib.Path(__file__).resolve().parent.parent / "bench" / "page_faults.py"
GLIBC = sys.platform.startswith("linux") and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith(
    "glibc")


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's")
def test_quick_run_reports_both_settings(tmp_path):
    out = tmp_path / "faults.json"
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--allow-load", "--json",
                           str(out)], capture_output=True, text=True, timeout=300,
                          cwd=BENCH.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {(row["setting"], row["engine"]): row for row in json.loads(out.read_text())["rows"]}
    assert set(rows) == {(s, e) for s in ("kept", "returned") for e in ("chainrule", "torch")}
    assert rows["kept", "chainrule"]["malloc"] == {"mmap_threshold": 32 << 20,
                                                   "trim_threshold": 64 << 20}
    assert rows["returned", "chainrule"]["malloc"] is None
    assert all(row["ms"] > 0 for row in rows.values())
    # a step's 4 MB of fresh arrays: about a thousand faults each step when returned
    assert rows["kept", "chainrule"]["faults"] * 10 < rows["returned", "chainrule"]["faults"]
