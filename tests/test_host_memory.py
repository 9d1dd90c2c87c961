"""chainrule.host_memory: on glibc, freed memory is kept for the next step.

Each check runs in a fresh interpreter, since the allocator settings are per
process. The churn below frees and reallocates 24 MiB in 3 MiB blocks, the
pattern of a training step's arrays; page faults count the memory that came
back from the system."""

import os
import subprocess
import sys

import pytest

GLIBC = sys.platform.startswith("linux") and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith(
    "glibc")
pytestmark = pytest.mark.skipif(not GLIBC, reason="the settings are glibc's")

CHURN = """
import resource
import numpy as np
import chainrule
from chainrule import host_memory

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

for step in range(23):
    if step == 3:
        start = faults()
    blocks = [np.ones(3 << 20, np.uint8) for _ in range(8)]
    del blocks
print(host_memory.settings, (faults() - start) / 20)
"""


def run(env_changes):
    env = {k: v for k, v in os.environ.items()
           if k not in ("CHAINRULE_KEEP_FREED_MEMORY", "MALLOC_MMAP_THRESHOLD_",
                        "MALLOC_TRIM_THRESHOLD_")}
    env.update(env_changes)
    out = subprocess.run([sys.executable, "-c", CHURN], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return " ".join(out[:-1]), float(out[-1])


def test_import_keeps_freed_memory():
    settings, faults_per_step = run({})
    assert settings == "{'mmap_threshold': 33554432, 'trim_threshold': 67108864}"
    assert faults_per_step < 100  # the 24 MiB are reused, not faulted back in


def test_opting_out_leaves_glibc_returning_the_memory():
    settings, faults_per_step = run({"CHAINRULE_KEEP_FREED_MEMORY": "0"})
    assert settings == "None"
    assert faults_per_step > 1000  # most of the 6,144 pages come back as faults each step


def test_the_environment_choice_wins():
    settings, _ = run({"MALLOC_TRIM_THRESHOLD_": str(1 << 30)})
    assert settings == "None"
