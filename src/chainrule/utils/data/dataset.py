"""Datasets, as ``torch.utils.data``'s: map-style, iterable-style, and ways to combine them.

A map-style ``Dataset`` answers ``dataset[i]`` (and usually ``len``); an
``IterableDataset`` is a stream, read with ``iter``. ``TensorDataset`` wraps
tensors that share a first dimension; ``Subset``, ``ConcatDataset``,
``ChainDataset`` and ``random_split`` pick from and join datasets.

``TensorDataset`` and ``Subset`` also answer ``get_batch(indices)`` (a
chainrule extension): the batch ``default_collate`` would build from the
samples one by one, read with one fancy index per tensor. ``DataLoader``
uses it when it collates with ``default_collate``.

    >>> import chainrule as cr
    >>> from chainrule.utils.data import TensorDataset, random_split
    >>> data = TensorDataset(cr.arange(10).reshape(5, 2), cr.arange(5))
    >>> len(data), data[1]
    (5, (tensor([2, 3]), tensor(1)))
    >>> train, test = random_split(data, [0.6, 0.4], generator=cr.Generator().manual_seed(0))
    >>> len(train), len(test)
    (3, 2)
"""

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable
from typing import Generic, TypeVar

import numpy as np

from chainrule.tensor import Tensor
from chainrule.utils.data._random import rng_for
from chainrule.utils.data._utils.collate import default_collate

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split"]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map from keys (usually ``0 .. len - 1``) to samples: define ``__getitem__``
    and, for the default samplers, ``__len__``.

    ``a + b`` is ``ConcatDataset([a, b])``. A subclass may also define
    ``__getitems__(indices)``, returning the list of samples at ``indices``;
    ``DataLoader`` then calls it once per batch, as PyTorch's does.
    """

    def __getitem__(self, index) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """A dataset read as a stream: define ``__iter__``.

    ``DataLoader`` batches the stream as it comes; it takes no sampler or
    shuffle for one (order is the stream's). ``a + b`` is
    ``ChainDataset([a, b])``. Loading runs in the main process, so
    ``get_worker_info()`` is ``None`` inside ``__iter__``.
    """

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Tensors sharing a first dimension; sample ``i`` is ``tuple(t[i] for t in tensors)``."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor, e.g. "
                             "TensorDataset(features, labels)")
        for position, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: argument {position} is a {type(t).__name__}, not a "
                    "chainrule Tensor; wrap arrays with chainrule.from_numpy(array)"
                )
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {position} is a 0-d tensor; every "
                                 "tensor needs a first dimension that counts the samples")
        shapes = [tuple(t.shape) for t in tensors]
        if any(shape[0] != shapes[0][0] for shape in shapes):
            listed = ", ".join(str(shape) for shape in shapes)
            raise ValueError(
                f"TensorDataset: Size mismatch between tensors: the tensors have shapes "
                f"{listed}; their first dimensions (the number of samples) must agree"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def get_batch(self, indices):
        """``[t[indices] for t in tensors]``: what ``default_collate`` builds from the
        samples at ``indices``, read with one fancy index per tensor."""
        indices = np.asarray(indices, dtype=np.int64)
        return [t[indices] for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (any sequence, kept as given), in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        """The samples at ``indices`` of this subset, through the dataset's own
        ``__getitems__`` when it has one."""
        inner = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(inner)
        return [self.dataset[i] for i in inner]

    def __len__(self):
        return len(self.indices)

    def get_batch(self, indices):
        """The batch at ``indices`` of this subset, as ``default_collate`` would build it
        (at once when the dataset has ``get_batch``)."""
        read = batch_reader(self.dataset)
        if read is not None:
            return read([self.indices[int(i)] for i in indices])
        return default_collate(self.__getitems__([int(i) for i in indices]))


def batch_reader(dataset):
    """``dataset.get_batch`` when it reads exactly what ``dataset[i]`` would, else ``None``.

    A subclass that overrides ``__getitem__`` or ``__getitems__`` (to
    transform samples, say) below the class that defines ``get_batch`` is read
    sample by sample, so its own code runs, as in PyTorch.
    """
    cls = type(dataset)
    owner = next((c for c in cls.__mro__ if "get_batch" in c.__dict__), None)
    if owner is None or not callable(dataset.get_batch):
        return None
    for name in ("__getitem__", "__getitems__"):
        if getattr(cls, name, None) is not getattr(owner, name, None):
            return None
    return dataset.get_batch


class ConcatDataset(Dataset):
    """Map-style datasets one after another: index ``i`` runs through them in order.

    ``cumulative_sizes[k]`` is the total length of the first ``k + 1``
    datasets. Negative indices count from the end.
    """

    @staticmethod
    def cumsum(sequence):
        """The running totals of the lengths of ``sequence``'s datasets."""
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable; "
                             "give at least one dataset")
        for position, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset does not support IterableDataset (dataset "
                                f"{position} is a {type(d).__name__}); chain streams with "
                                f"ChainDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError(f"ConcatDataset: absolute value of index should not exceed "
                                 f"dataset length ({idx} for length {len(self)})")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after another, chained as they are read."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            _check_iterable(d)
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            _check_iterable(d)
            total += len(d)
        return total


def _check_iterable(dataset):
    if not isinstance(dataset, IterableDataset):
        raise TypeError(f"ChainDataset only supports IterableDataset, got a "
                        f"{type(dataset).__name__}; join map-style datasets with ConcatDataset")


def random_split(dataset, lengths, generator=None):
    """``dataset`` cut at random into non-overlapping ``Subset``s of the given lengths.

    ``lengths`` are ints adding up to ``len(dataset)``, or fractions adding
    up to 1: then each gets ``floor(fraction * len)`` and the samples left
    over go one each to the first subsets, round robin (a split left empty
    warns), as in PyTorch. Each ``Subset``'s ``indices`` is a list of ints.
    The permutation comes from ``generator`` (a ``chainrule.Generator``), by
    default chainrule's ``default_generator``, so ``chainrule.manual_seed``
    fixes the split; it is not the permutation PyTorch draws for the same
    seed (a different random number generator).
    """
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty; give at least one length")
    for position, n in enumerate(lengths):
        if isinstance(n, bool) or not isinstance(n, (int, float, np.integer, np.floating)):
            raise TypeError(f"random_split: lengths must be ints or fractions, got "
                            f"{type(n).__name__} {n!r} at index {position}")
    total = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(lengths, total)
    if any(n < 0 for n in lengths):
        raise ValueError(f"random_split: lengths {lengths} must not be negative")
    if sum(lengths) != total:
        raise ValueError(
            f"random_split: Sum of input lengths does not equal the length of the input "
            f"dataset! lengths {lengths} add up to {sum(lengths)}, but the dataset has "
            f"{total} samples; give ints adding up to {total} or fractions adding up to 1"
        )
    if any(n != int(n) for n in lengths):
        raise ValueError(f"random_split: lengths {lengths} are neither whole numbers nor "
                         f"fractions adding up to 1")
    lengths = [int(n) for n in lengths]
    order = rng_for(generator, "random_split").permutation(total).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - n:end]) for end, n in zip(ends, lengths)]


def _lengths_from_fractions(fractions, total):
    counts = []
    for position, fraction in enumerate(fractions):
        if fraction < 0 or fraction > 1:
            raise ValueError(f"random_split: Fraction at index {position} is not between 0 "
                             f"and 1 (got {fraction})")
        counts.append(math.floor(total * fraction))
    for i in range(total - sum(counts)):
        counts[i % len(counts)] += 1
    for position, count in enumerate(counts):
        if count == 0:
            warnings.warn(f"Length of split at index {position} is 0. This might result in "
                          f"an empty dataset.", stacklevel=3)
    return counts
