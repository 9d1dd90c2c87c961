"""Small built-in datasets chainrule makes or loads itself: ``chainrule.data.datasets``.

``xor``, ``moons``, ``circles``, ``spirals`` and ``digits``, each a
``TensorDataset``. The data utilities with PyTorch's names (``Dataset``,
``TensorDataset``, ``DataLoader``, ``random_split``, samplers,
``default_collate``) live in ``chainrule.utils.data``, as in
``torch.utils.data``; the names below are the same objects, kept so that
older imports from ``chainrule.data`` still work.
"""

from chainrule.data import datasets
from chainrule.utils.data import (DataLoader, Dataset, Subset, TensorDataset, default_collate,
                                  random_split)

__all__ = ["datasets", "Dataset", "TensorDataset", "Subset", "random_split", "DataLoader",
           "default_collate"]
