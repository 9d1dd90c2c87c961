"""Datasets: ``Dataset``, ``TensorDataset``, ``Subset`` and ``random_split``.

A dataset is anything with ``len(dataset)`` and ``dataset[i]``, as in
PyTorch. ``TensorDataset`` also answers ``get_batch(indices)`` with a whole
batch at once (one fancy index per tensor), which ``DataLoader`` uses
instead of collating samples one by one. Indices, orders and splits are
bookkeeping, kept as host (numpy) int64 arrays; the tensors' own arrays are
indexed and copied by their device's backend.

    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule.data import TensorDataset, random_split
    >>> data = TensorDataset(cr.arange(10).reshape(5, 2), cr.arange(5))
    >>> len(data), data[1]
    (5, (tensor([2, 3], dtype=int64), tensor(1, dtype=int64)))
    >>> train, test = random_split(data, [0.6, 0.4], generator=np.random.default_rng(0))
    >>> len(train), len(test)
    (3, 2)
"""

import abc
import math

import numpy as np

from chainrule.device import array_module
from chainrule.random import Generator, numpy_generator
from chainrule.tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split"]


class Dataset(abc.ABC):
    """A map from indices ``0 .. len - 1`` to samples; subclasses define both methods."""

    @abc.abstractmethod
    def __getitem__(self, index):
        """The sample at ``index``."""

    @abc.abstractmethod
    def __len__(self):
        """The number of samples."""

    def get_batch(self, indices):
        """The samples at ``indices`` (an int array) collated into one batch.

        This default reads them one at a time; a dataset that can read a whole
        batch at once (``TensorDataset``) overrides it.
        """
        from chainrule.data.loader import default_collate

        return default_collate([self[int(i)] for i in indices])


class TensorDataset(Dataset):
    """Tensors sharing a first dimension; sample ``i`` is ``(t[i] for t in tensors)``."""

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
                f"TensorDataset: the tensors have shapes {listed}; their first dimensions "
                "(the number of samples) must agree"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(_take(t, index) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def get_batch(self, indices):
        """``[t[indices] for t in tensors]``: the batch ``default_collate`` would build
        from the samples one by one, read with one fancy index per tensor."""
        return [_take(t, np.asarray(indices, dtype=np.int64)) for t in self.tensors]


def _take(t, index):
    """``t[index]`` as a new tensor; the array directly when no graph needs recording."""
    if t.requires_grad:
        return t[index]
    return Tensor._make(array_module(t.data).array(t.data[index]), False, None)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (``indices`` is kept as
    an int64 array)."""

    def __init__(self, dataset, indices):
        indices = np.asarray(indices)
        if indices.size == 0:
            indices = indices.astype(np.int64)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise TypeError(f"Subset: indices must be a 1-d sequence of ints, got an array of "
                            f"dtype {indices.dtype} and shape {indices.shape}")
        length = len(dataset)
        outside = indices[(indices < 0) | (indices >= length)]
        if outside.size:
            raise IndexError(f"Subset: index {int(outside[0])} is out of range for a dataset "
                             f"of length {length}")
        self.dataset = dataset
        self.indices = indices.astype(np.int64, copy=False)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)

    def get_batch(self, indices):
        inner = self.indices[np.asarray(indices, dtype=np.int64)]
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is not None:
            return get_batch(inner)
        return Dataset.get_batch(self.dataset, inner)


def random_split(dataset, lengths, generator=None):
    """``dataset`` cut at random into non-overlapping ``Subset``s of the given lengths.

    ``lengths`` are ints adding up to ``len(dataset)``, or fractions adding up
    to 1: then each gets ``floor(fraction * len)`` and the samples left over go
    one each to the first subsets, as in PyTorch. The permutation comes from
    ``generator`` (a ``chainrule.Generator`` or a ``numpy.random.Generator``),
    by default chainrule's ``default_generator``, so ``chainrule.manual_seed``
    fixes the split.
    """
    generator = _check_generator(generator, "random_split")
    total = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty; give at least one length")
    if all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in lengths):
        counts = [int(n) for n in lengths]
        if any(n < 0 for n in counts):
            raise ValueError(f"random_split: lengths {counts} must not be negative")
        if sum(counts) != total:
            raise ValueError(
                f"random_split: lengths {counts} add up to {sum(counts)}, but the dataset has "
                f"{total} samples; give ints adding up to {total} or fractions adding up to 1"
            )
    else:
        counts = _counts_from_fractions(lengths, total)
    order = generator.permutation(total)
    subsets, start = [], 0
    for count in counts:
        subsets.append(Subset(dataset, order[start:start + count]))
        start += count
    return subsets


def _counts_from_fractions(fractions, total):
    if not all(isinstance(f, (int, float, np.integer, np.floating)) and not isinstance(f, bool)
               for f in fractions):
        raise TypeError(f"random_split: lengths must be ints or fractions, got {fractions}")
    if any(not 0 <= f <= 1 for f in fractions) or not math.isclose(sum(fractions), 1):
        raise ValueError(
            f"random_split: fractions {list(fractions)} add up to {sum(fractions)}; fractions "
            f"must lie in [0, 1] and add up to 1 (or give ints adding up to {total})"
        )
    counts = [math.floor(total * f) for f in fractions]
    for i in range(total - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def _check_generator(generator, op):
    """The numpy generator to draw from: ``generator``'s, or chainrule's default one's."""
    if generator is None or isinstance(generator, Generator):
        return numpy_generator(generator)  # read now: manual_seed restarts it
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"{op}: generator must be a numpy.random.Generator or a "
                        f"chainrule.Generator (e.g. numpy.random.default_rng(0)), got "
                        f"{type(generator).__name__}")
    return generator
