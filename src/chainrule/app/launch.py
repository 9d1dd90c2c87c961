"""``chainrule train --nproc N``: one training run on N processes, data-parallel over MPI.

The command starts itself again under ``mpiexec -n N`` (the one next to the
Python interpreter, where the MPICH wheel of ``chainrule[distributed]`` puts
it, else the one on ``PATH``) and waits for the job. In the job each process
is a replica (:class:`Replicas`): the model is wrapped in
``DistributedDataParallel``, each epoch's shuffled order is split by a
``DistributedSampler``, each rank takes ``batch_size // N`` samples of every
batch (so a step sees ``batch_size`` samples in all, as with one process),
the epoch's metrics are summed over the ranks, and only rank 0 prints and
writes the checkpoint and plots. ``mpiexec -n N chainrule train ...`` run by
hand does the same.
"""

import os
import shutil
import subprocess
import sys

import numpy as np

from chainrule import distributed as dist
from chainrule.nn.parallel import DistributedDataParallel
from chainrule.tensor import Tensor
from chainrule.utils.data import DataLoader
from chainrule.utils.data.distributed import DistributedSampler

__all__ = ["mpiexec_path", "relaunch", "in_mpi_job", "job_rank", "Replicas", "quiet"]

# Set by MPI launchers in the processes they start: MPICH and Intel MPI (PMI), Open MPI.
_LAUNCHER_SIZES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


def mpiexec_path():
    """MPI's launcher: next to this Python (a venv's bin/), else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec")
    if found is None:
        raise ImportError("--nproc needs MPI's mpiexec, which is not installed: pip install "
                          "'chainrule[distributed]' (mpi4py and the MPICH wheel, which brings "
                          "mpiexec)")
    return found


def relaunch(nproc, argv):
    """Run ``chainrule ARGV`` as a job of ``nproc`` processes; returns its exit code."""
    command = [mpiexec_path(), "-n", str(nproc), sys.executable, "-m", "chainrule", *argv]
    return subprocess.call(command)


def in_mpi_job():
    """True in a process that an MPI launcher started as one of several."""
    return any(int(os.environ.get(name, "1") or 1) > 1 for name in _LAUNCHER_SIZES)


def job_rank():
    """This process's rank in the job (joining the process group if it has not yet)."""
    if not dist.is_initialized():
        dist.init_process_group("mpi")
    return dist.get_rank()


def quiet(*args, **kwargs):
    """What ranks other than 0 print: nothing."""


class Replicas:
    """What one process of a (possibly) data-parallel run does differently.

    With ``distributed=False`` it is a world of one, and every method gives
    what the single-process loop has always done.
    """

    def __init__(self, distributed, seed):
        if distributed and not dist.is_initialized():
            dist.init_process_group("mpi")
        self.distributed = distributed
        self.rank = dist.get_rank() if distributed else 0
        self.size = dist.get_world_size() if distributed else 1
        self.seed = seed
        self.is_main = self.rank == 0

    def wrap(self, model):
        """The model as trained: a ``DistributedDataParallel`` replica, or itself."""
        return DistributedDataParallel(model) if self.distributed else model

    def loader(self, dataset, batch_size, generator, epoch):
        """This epoch's batches for this rank: its share (batch_size // world) of each batch."""
        if not self.distributed:
            return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)
        if batch_size < self.size:
            raise ValueError(f"--batch-size {batch_size} is smaller than --nproc {self.size}: "
                             "each process needs at least one sample of every batch")
        sampler = DistributedSampler(dataset, self.size, self.rank, shuffle=True, seed=self.seed)
        sampler.set_epoch(epoch)
        return DataLoader(dataset, batch_size=batch_size // self.size, sampler=sampler)

    def dropout_seed(self, epoch):
        """The seed of this epoch's dropout masks: each rank draws its own."""
        return [self.seed, epoch, 1] + ([self.rank] if self.distributed else [])

    def total(self, *numbers):
        """The numbers summed over the ranks (the epoch's sample count, loss sum, hits)."""
        if not self.distributed:
            return numbers
        values = Tensor._make(np.array(numbers, np.float64), False, None)
        dist.all_reduce(values)
        return tuple(type(n)(v) for n, v in zip(numbers, values.tolist()))
