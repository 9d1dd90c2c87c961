"""``chainrule.utils.data``: datasets, samplers and the data loader, as ``torch.utils.data``.

``from chainrule.utils.data import Dataset, DataLoader, TensorDataset`` is
the line a PyTorch program's ``from torch.utils.data import ...`` becomes.
Names, signatures, defaults and semantics are PyTorch's; where chainrule
differs it says so in the docstring: shuffled orders come from chainrule's
generator (reproducible by seed, not PyTorch's numbers), and loading always
runs in the main process (``num_workers > 0`` warns and loads there).
The small datasets chainrule makes itself live in ``chainrule.data.datasets``.
"""

from chainrule.utils.data._utils.collate import default_collate, default_convert
from chainrule.utils.data.dataloader import DataLoader, get_worker_info
from chainrule.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset,
                                          Subset, TensorDataset, random_split)
from chainrule.utils.data.distributed import DistributedSampler
from chainrule.utils.data.sampler import (BatchSampler, RandomSampler, Sampler,
                                          SequentialSampler, SubsetRandomSampler,
                                          WeightedRandomSampler)

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
    "DistributedSampler", "IterableDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
    "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert",
    "get_worker_info", "random_split",
]
