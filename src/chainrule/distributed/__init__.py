"""Data-parallel training over MPI, with ``torch.distributed``'s names.

Start N processes with MPI's launcher and each learns its rank::

    mpiexec -n 4 python train.py                 # one machine
    mpiexec -n 8 -hosts node1,node2 python train.py   # two machines, 4 each

In the script, ``import chainrule.distributed as dist``, then
``dist.init_process_group("mpi")``, ``dist.get_rank()``,
``dist.get_world_size()``, and the collectives (``all_reduce``, ``broadcast``,
``all_gather``, ...), which work on tensors in place. Models are wrapped in
``chainrule.nn.parallel.DistributedDataParallel`` and data split with
``chainrule.utils.data.distributed.DistributedSampler``; see
docs/distributed.md.

MPI comes from the ``distributed`` extra (``pip install
'chainrule[distributed]'``: mpi4py and the MPICH wheel, which brings
``mpiexec``). Only CPU tensors are built in; MPI moves host memory.
"""

from chainrule.distributed.collectives import (ReduceOp, all_gather, all_gather_into_tensor,
                                               all_gather_object, all_reduce, broadcast,
                                               broadcast_object_list, gather, irecv, isend, recv,
                                               reduce, reduce_scatter_tensor, scatter, send)
from chainrule.distributed.group import (ProcessGroup, barrier, destroy_process_group,
                                         get_backend, get_rank, get_world_size, init_process_group,
                                         is_available, is_initialized, is_mpi_available)
from chainrule.distributed.work import Work

__all__ = ["init_process_group", "is_initialized", "is_available", "is_mpi_available",
           "get_rank", "get_world_size", "get_backend", "barrier", "destroy_process_group",
           "ProcessGroup", "ReduceOp", "Work", "all_reduce", "reduce", "broadcast", "all_gather",
           "all_gather_into_tensor", "reduce_scatter_tensor", "gather", "scatter", "send", "recv",
           "isend", "irecv", "all_gather_object", "broadcast_object_list"]
