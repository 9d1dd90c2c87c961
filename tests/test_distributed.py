"""Data parallelism on several processes: the scripts in tests/distributed/ under mpiexec.

``mpiexec`` is the one the MPICH wheel puts next to this Python (the
``distributed`` extra, which ``make test`` installs); 4 ranks run
oversubscribed on a 2-core machine. Each job has a timeout, so a hang is a
failure, not a stuck suite.

- every collective against numpy, on 2 and 4 ranks (collectives.py);
- DistributedDataParallel with DistributedSampler ends with the weights of
  one process whose every step sees the union of the ranks' batches (1e-6,
  float64), identical on every rank; no_sync accumulation equals one big
  step; find_unused_parameters; buffers (ddp_train.py);
- faults: mismatched shapes and calls are clear errors on every rank; a rank
  that raises ends the whole job, fast, with its error on stderr (faults.py);
- the PyTorch script ported in docs/distributed.md runs under mpiexec;
- ``chainrule train --nproc 2`` runs the job and writes one checkpoint.
"""

import os
import re
import subprocess
import sys
import time

import pytest

from chainrule import app
from tests.test_docs import ROOT, python_blocks

pytest.importorskip("mpi4py", reason="the distributed extra (mpi4py, mpich) is not installed")

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distributed")
MPIEXEC = os.path.join(os.path.dirname(sys.executable), "mpiexec")
TIMEOUT = 90  # seconds: far above the few seconds a job takes, even on a loaded machine

pytestmark = pytest.mark.skipif(not os.access(MPIEXEC, os.X_OK),
                                reason=f"no mpiexec next to {sys.executable} (pip install mpich)")


def mpiexec(n, *args):
    """Run ``mpiexec -n N python ARGS``; the completed process, with its seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_"))}
    started = time.monotonic()
    result = subprocess.run([MPIEXEC, "-n", str(n), sys.executable, *args], env=env,
                            capture_output=True, text=True, timeout=TIMEOUT)
    result.seconds = time.monotonic() - started
    return result


def report(result):
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.mark.parametrize("n", [2, 4])
def test_every_collective_equals_numpy(n):
    result = mpiexec(n, os.path.join(HERE, "collectives.py"))
    assert result.returncode == 0, report(result)
    passed = re.findall(r"rank (\d+): \d+ checks passed", result.stdout)  # lines may interleave
    assert sorted(map(int, passed)) == list(range(n)), report(result)


@pytest.mark.parametrize("n", [2, 4])
def test_ddp_equals_one_process_on_the_union_of_the_batches(n):
    result = mpiexec(n, os.path.join(HERE, "ddp_train.py"))
    assert result.returncode == 0, report(result)
    passed = re.findall(r"rank (\d+): ddp ok", result.stdout)  # the ranks' lines may interleave
    assert sorted(map(int, passed)) == list(range(n)), report(result)


def test_mismatches_across_ranks_are_clear_errors_on_every_rank(tmp_path):
    result = mpiexec(2, os.path.join(HERE, "faults.py"), "errors", str(tmp_path))
    assert result.returncode == 0, report(result)
    for rank in (0, 1):
        out = (tmp_path / f"rank-{rank}.txt").read_text()
        assert (f"caught: rank {rank}: all_reduce: the ranks' calls do not match (rank 0: "
                "all_reduce on a tensor of shape (2,) float32, op=SUM; rank 1: all_reduce on a "
                "tensor of shape (3,) float32, op=SUM)") in out, report(result)
        assert (f"caught: rank {rank}: all_reduce: the ranks' calls do not match (rank 0: "
                "all_reduce on a tensor of shape (3,) float32, op=SUM; rank 1: all_reduce on a "
                "tensor of shape (3,) float64, op=SUM)") in out, report(result)
        assert ("rank 0: broadcast on a tensor of shape (3,) float32, src=0; rank 1: all_reduce "
                "on a tensor of shape (3,) float32, op=SUM") in out, report(result)
        assert (f"caught: rank {rank}: DistributedDataParallel: the replicas' parameters do not "
                "match across ranks: '0.weight' has shape (5, 3) float32 on rank 1 but (4, 3) "
                "float32 on rank 0") in out, report(result)
        assert f"rank {rank}: errors done" in out, report(result)
    assert ("caught: rank 1: recv: rank 0 sent a tensor of shape (3,) float64, but the tensor to "
            "receive it into has shape (2,) float32") in out, report(result)  # rank 1's file


@pytest.mark.parametrize("mode, message", [
    ("raise", "ValueError: rank 1 fails on purpose"),
    ("raise-in-backward", "ValueError: rank 1 fails in its third step"),
])
def test_a_rank_that_raises_ends_the_whole_job_with_its_error(mode, message):
    result = mpiexec(2, os.path.join(HERE, "faults.py"), mode)
    assert result.returncode != 0, report(result)
    assert message in result.stderr, report(result)
    assert "chainrule.distributed: rank 1 of 2 raised ValueError; aborting the job" in \
        result.stderr, report(result)
    assert "should never get here" not in result.stdout, report(result)


def test_train_nproc_runs_a_job_and_rank_0_writes_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_"))}
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--data", "moons", "--epochs", "2",
         "--nproc", "2", "--no-progress", "--out", str(out)],
        capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert result.returncode == 0, report(result)
    assert result.stdout.count("training mlp on moons") == 1, report(result)
    assert result.stdout.count("checkpoint: ") == 1, report(result)
    assert sorted(os.listdir(out)) == ["checkpoint.npz", "loss.png"], report(result)
    history = app.load_checkpoint(str(out))["history"]
    assert history["epoch"] == [1, 2] and history["train_accuracy"][-1] > 0.8


def test_the_ported_pytorch_script_of_the_docs_runs_on_two_ranks(tmp_path):
    _, script = python_blocks(ROOT / "docs" / "distributed.md")[0]
    assert 'if __name__ == "__main__":' in script
    (tmp_path / "train.py").write_text(script)
    result = mpiexec(2, str(tmp_path / "train.py"))
    assert result.returncode == 0, report(result)
    lines = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    epochs = [line.split(":")[0] for line in lines]
    assert epochs == ["epoch 0", "epoch 1", "epoch 2"], report(result)
    assert all(line.endswith("on 2 ranks") for line in lines), report(result)
    assert float(lines[-1].split("loss ")[1].split()[0]) < 0.5, report(result)
