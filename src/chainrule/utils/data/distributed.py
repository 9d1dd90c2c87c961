"""``DistributedSampler``: each rank's share of a dataset, as ``torch.utils.data.distributed``'s.

With n replicas, a pass over a dataset of N samples is split so that every
rank sees ``ceil(N / n)`` indices and the ranks together see every sample:
the order (shuffled, or 0..N-1) is padded by repeating its start until its
length is a multiple of n (or, with ``drop_last``, cut down to one), and rank
r takes every n-th index from position r. Every rank draws the same
shuffled order, seeded by ``seed + epoch``, so call ``set_epoch(epoch)``
before each epoch for a new order.

    >>> from chainrule.utils.data.distributed import DistributedSampler
    >>> [list(DistributedSampler(range(10), num_replicas=4, rank=r, shuffle=False))
    ...  for r in range(4)]
    [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    >>> [list(DistributedSampler(range(10), num_replicas=4, rank=r, shuffle=False,
    ...                          drop_last=True)) for r in range(4)]
    [[0, 4], [1, 5], [2, 6], [3, 7]]
"""

import math
from collections.abc import Iterator

from chainrule.distributed.group import get_rank, get_world_size
from chainrule.random import Generator, numpy_generator
from chainrule.utils.data.sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler[int]):
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` visits in one pass.

    ``num_replicas`` and ``rank`` default to the process group's world size
    and rank (``init_process_group()`` first). ``shuffle``: a random order per
    epoch, the same on every rank, from a ``chainrule.Generator`` seeded with
    ``seed + epoch`` (so not PyTorch's numbers, but the same partition and
    padding). ``drop_last``: drop the tail so that no index repeats, instead
    of padding with repeated indices.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False) -> None:
        if num_replicas is None:
            num_replicas = get_world_size()
        if rank is None:
            rank = get_rank()
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got "
                             f"{num_replicas!r}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            # the largest split that every rank can fill without repeating an index
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) /
                                         self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:  # the same order on every rank: the seed is shared
            generator = Generator().manual_seed(self.seed + self.epoch)
            indices = numpy_generator(generator).permutation(len(self.dataset)).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:  # pad by repeating the start, as often as needed
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` (with ``shuffle=True``); call it before each epoch."""
        self.epoch = epoch
