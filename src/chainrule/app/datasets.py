"""The datasets ``chainrule train`` knows by name, and their standardisation."""

import numpy as np

from chainrule.data import TensorDataset, datasets
from chainrule.tensor import Tensor

__all__ = ["DATASETS", "load_datasets", "standardizer", "standardize"]

DATASETS = ("digits", "moons", "spirals", "circles", "xor")


def load_datasets(name, seed=0):
    """(train, test) TensorDatasets; the 2-d toy sets are evaluated on a fresh draw."""
    if name == "digits":
        return datasets.digits("train", seed=seed), datasets.digits("test", seed=seed)
    if name == "xor":
        return datasets.xor(), datasets.xor()
    make = {"moons": datasets.moons, "spirals": datasets.spirals, "circles": datasets.circles}[name]
    return make(seed=seed), make(seed=seed + 1)


def standardizer(train_set):
    """Per-feature (mean, scale) of the training features; scale = std + 0.1 keeps
    near-constant pixels (the digits' borders) from being blown up."""
    features = train_set.tensors[0].array
    return {"mean": features.mean(0), "scale": features.std(0) + 0.1}


def standardize(dataset, statistics):
    """The dataset with features (x - mean) / scale, as float32."""
    features, labels = dataset.tensors
    scaled = (features.array - statistics["mean"]) / statistics["scale"]
    return TensorDataset(Tensor(scaled.astype(np.float32)), labels)
