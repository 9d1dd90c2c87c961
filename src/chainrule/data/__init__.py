"""Feeding data to a model: datasets, batches, splits and small built-in datasets.

PyTorch's ``torch.utils.data`` names and semantics: ``Dataset``,
``TensorDataset``, ``Subset``, ``random_split``, ``DataLoader`` and
``default_collate``; ``chainrule.data.datasets`` holds ``xor``, ``moons``,
``circles``, ``spirals`` and ``digits``.
"""

from chainrule.data import datasets
from chainrule.data.dataset import Dataset, Subset, TensorDataset, random_split
from chainrule.data.loader import DataLoader, default_collate

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader",
           "default_collate", "datasets"]
