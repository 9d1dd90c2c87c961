"""What a benchmark figure was measured on: load, thread counts and BLAS, printed with it.

A figure measured under load is not a result, so every benchmark prints this
header first and refuses to run when the machine is busy (unless --allow-load).
"""

import os
import platform

import numpy as np

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
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
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
    except ImportError:
        pass
    return facts


def check_quiet(allow_load=False):
    """Print the machine facts; stop if the machine is busy, unless told to go on."""
    facts = describe()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in facts.items()))
    busy = facts["load_1m"] > QUIET_LOAD_PER_CORE * (facts["cores"] or 1)
    if busy and not allow_load:
        raise SystemExit(
            f"load average {facts['load_1m']:.2f} on {facts['cores']} cores: the machine is not "
            "quiet, so timings would not be results. Wait, or pass --allow-load to measure anyway "
            "(the figures are then marked as measured under load)."
        )
    if busy:
        print("WARNING: measured under load; these figures are not results")
    return facts
