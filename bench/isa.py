"""Run a benchmark with both engines' vector instructions set alike: ``as-set``, ``avx2`` or ``native``.

numpy's OpenBLAS picks its kernels from the CPU unless ``OPENBLAS_CORETYPE``
names some; torch's MKL, oneDNN and ATen kernels ignore that variable and
have their own switches. This project's machines set
``OPENBLAS_CORETYPE=Haswell``, which holds numpy to AVX2 kernels on a CPU
with AVX-512 while torch uses AVX-512: a float32 product then takes numpy
about twice as long, and a ratio measures that setting as much as the
engines. So each figure in docs/benchmarks.md is given for:

- ``as-set``: the environment as it is (here: numpy AVX2, torch AVX-512);
- ``avx2``:   both held to AVX2 (``OPENBLAS_CORETYPE=Haswell``,
  ``ATEN_CPU_CAPABILITY=avx2``, ``MKL_ENABLE_INSTRUCTIONS=AVX2``,
  ``ONEDNN_MAX_CPU_ISA=AVX2``);
- ``native``: each library's own choice (``OPENBLAS_CORETYPE`` unset;
  OpenBLAS 0.3.31 picks SkylakeX, AVX-512, on this CPU).

    python bench/isa.py avx2 bench/rnn_step.py --rounds 30

The script is run in a new process (the variables are read when the
libraries load); ``bench/machine.py`` prints what each library chose.
"""

import os
import sys

TORCH_AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
              "ONEDNN_MAX_CPU_ISA": "AVX2"}
SETTINGS = {
    "as-set": ({}, ()),
    "avx2": ({"OPENBLAS_CORETYPE": "Haswell", **TORCH_AVX2}, ()),
    "native": ({}, ("OPENBLAS_CORETYPE", *TORCH_AVX2)),
}


def environment(isa, base):
    """``base`` (a mapping of environment variables) with ``isa``'s settings applied."""
    if isa not in SETTINGS:
        raise SystemExit(f"isa.py: unknown setting {isa!r}; choose one of {', '.join(SETTINGS)}")
    setting, removed = SETTINGS[isa]
    env = {k: v for k, v in base.items() if k not in removed}
    env.update(setting)
    env["CHAINRULE_BENCH_ISA"] = isa
    return env


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    isa, script = argv[0], argv[1:]
    env = environment(isa, os.environ)
    os.execve(sys.executable, [sys.executable, *script], env)


if __name__ == "__main__":
    main(sys.argv[1:])
