"""bench/isa.py sets both engines' vector instructions alike, and the machine facts say so."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parent.parent / "bench"


def _isa_module():
    spec = importlib.util.spec_from_file_location("bench_isa", BENCH / "isa.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_avx2_holds_both_engines_to_avx2():
    env = _isa_module().environment("avx2", {"OPENBLAS_CORETYPE": "SkylakeX", "PATH": "/bin"})
    assert env["OPENBLAS_CORETYPE"] == "Haswell"
    assert env["ATEN_CPU_CAPABILITY"] == "avx2"
    assert env["MKL_ENABLE_INSTRUCTIONS"] == "AVX2"
    assert env["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert env["PATH"] == "/bin" and env["CHAINRULE_BENCH_ISA"] == "avx2"


def test_native_lets_each_library_choose_and_as_set_changes_nothing():
    isa = _isa_module()
    base = {"OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2", "HOME": "/root"}
    native = isa.environment("native", base)
    assert "OPENBLAS_CORETYPE" not in native and "ATEN_CPU_CAPABILITY" not in native
    assert native["HOME"] == "/root"
    as_set = isa.environment("as-set", base)
    assert {k: v for k, v in as_set.items() if k != "CHAINRULE_BENCH_ISA"} == base


def test_an_unknown_setting_names_the_choices():
    with pytest.raises(SystemExit, match="unknown setting 'avx512'; choose one of as-set, avx2, "
                                         "native"):
        _isa_module().environment("avx512", {})


def test_the_script_runs_in_a_process_with_the_setting():
    done = subprocess.run(
        [sys.executable, str(BENCH / "isa.py"), "avx2", "-c",
         "import os; print(os.environ['OPENBLAS_CORETYPE'], os.environ['CHAINRULE_BENCH_ISA'])"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Haswell", "avx2"]
