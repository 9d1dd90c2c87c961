"""Parallel training, as ``torch.nn.parallel``: ``DistributedDataParallel`` over MPI."""

from chainrule.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
