"""What a benchmark figure was measured on: load, thread counts and BLAS, printed with it.

A figure measured under load is not a result, so every benchmark prints this
header first and refuses to run when the machine is busy (unless --allow-load).
"""

import os
import platform

import numpy as np

from chainrule import host_memory

#: Above this one-minute load average (per core) the machine is not quiet.
QUIET_LOAD_PER_CORE = 0.25


def describe():
    """One dict of the facts that change a timing: load, cores, threads, BLAS, versions."""
    facts = {
        "load_1m": os.getloadavg()[0],
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "isa": os.environ.get("CHAINRULE_BENCH_ISA", "as-set"),  # bench/isa.py
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        # glibc malloc's thresholds as chainrule set them on import (host_memory.py), for
        # both engines of the process; None: glibc's defaults or the environment's
        "malloc": host_memory.settings,
    }
    try:
        from threadpoolctl import threadpool_info

        facts["blas"] = [f"{i['internal_api']} {i.get('version')} {i.get('architecture')} "
                         f"threads={i['num_threads']}" for i in threadpool_info()
                         if i["user_api"] == "blas"]
    except ImportError:
        facts["blas"] = "threadpoolctl not installed"
    try:
        import torch

        facts["torch"] = torch.__version__
        facts["torch_threads"] = torch.get_num_threads()
        facts["torch_cpu"] = torch.backends.cpu.get_cpu_capability()
    except ImportError:
        pass
    return facts


AVX512_FLAGS = {"avx512f", "avx512dq", "avx512bw", "avx512vl"}
AVX512_CORES = {"SkylakeX", "Cooperlake", "SapphireRapids"}  # OpenBLAS's names for them


def blas_pin_note(facts):
    """A line saying so when OPENBLAS_CORETYPE holds numpy's BLAS to kernels below the CPU's.

    OpenBLAS picks its kernels from the CPU unless OPENBLAS_CORETYPE names
    some; torch's MKL ignores that variable. On an AVX-512 CPU with the
    variable set to Haswell (AVX2), as this project's machines set it,
    numpy's float32 products take about twice as long as OpenBLAS's own
    choice, and the ratios to torch say more about that setting than about
    chainrule: so the benchmarks print it with every figure.
    """
    core = facts.get("OPENBLAS_CORETYPE")
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((set(line.split(":", 1)[1].split()) for line in f
                          if line.startswith("flags")), set())
    except OSError:
        return None
    if core and core not in AVX512_CORES and AVX512_FLAGS <= flags:
        return (f"NOTE: OPENBLAS_CORETYPE={core} holds numpy's OpenBLAS to {core} kernels on this "
                "AVX-512 CPU (torch's MKL uses AVX-512); run through bench/isa.py (avx2 or native) "
                "to set both engines alike")
    return None


def check_quiet(allow_load=False):
    """Print the machine facts; stop if the machine is busy, unless told to go on."""
    facts = describe()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in facts.items()))
    busy = facts["load_1m"] > QUIET_LOAD_PER_CORE * (facts["cores"] or 1)
    pinned = blas_pin_note(facts)
    if pinned and facts["isa"] == "as-set":
        print(pinned)
    if busy and not allow_load:
        raise SystemExit(
            f"load average {facts['load_1m']:.2f} on {facts['cores']} cores: the machine is not "
            "quiet, so timings would not be results. Wait, or pass --allow-load to measure anyway "
            "(the figures are then marked as measured under load)."
        )
    if busy:
        print("WARNING: measured under load; these figures are not results")
    return facts


def on_threads(threads, allow_load, measure):
    """``measure(facts)`` with numpy's BLAS and torch's intra-op pool both at ``threads``,
    once ``check_quiet`` has printed the machine facts and found it quiet; returns what
    ``measure`` returns. (Engines alternate in one process: see tensor_mlp.py on why
    more threads than cores between the two pools slow both.)"""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    with threadpool_limits(threads, user_api="blas"):
        return measure(check_quiet(allow_load))
