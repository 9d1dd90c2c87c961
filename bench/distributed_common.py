"""What the distributed benchmarks share: starting a job, and PyTorch beside chainrule in it.

A benchmark script runs itself under ``mpiexec -n N`` (the MPICH wheel's,
next to this Python) with ``--worker``; every rank joins chainrule's process
group and PyTorch's (gloo over TCP on this machine, rank and world size taken
from MPI, the port chosen by rank 0), so both engines run in the same
processes and are timed alternately. BLAS and PyTorch use one thread per
rank: the ranks, not the threads, share the cores, so 1 and 2 ranks compare
data parallelism, not threading.
"""

import json
import os
import socket
import subprocess
import sys

from chainrule import distributed as dist
from chainrule.app.launch import mpiexec_path

ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def spawn(script, n, argv, timeout=900):
    """Run ``script --worker ARGV`` on ``n`` ranks; the JSON records rank 0 printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_"))}
    env.update(ONE_THREAD)
    result = subprocess.run([mpiexec_path(), "-n", str(n), sys.executable, script, "--worker",
                             *argv], env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise SystemExit(f"{script} on {n} ranks failed:\n{result.stdout}\n{result.stderr}")
    return [json.loads(line[len("RESULT "):]) for line in result.stdout.splitlines()
            if line.startswith("RESULT ")]


def join_both():
    """Join chainrule's process group and PyTorch's (gloo); returns (rank, world size)."""
    import torch
    import torch.distributed

    torch.set_num_threads(1)
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    port = [None]
    if rank == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port[0] = s.getsockname()[1]
    dist.broadcast_object_list(port, src=0)
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port[0]}",
                                         rank=rank, world_size=world)
    return rank, world


def emit(record):
    """Rank 0 hands a record back to the launching process."""
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(record), flush=True)
