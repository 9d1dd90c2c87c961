"""Samplers: the order in which a ``DataLoader`` visits a dataset, as ``torch.utils.data``'s.

A sampler is an iterable of indices (``SequentialSampler``,
``RandomSampler``, ``SubsetRandomSampler``, ``WeightedRandomSampler``) or
of lists of indices (``BatchSampler``), usually with a ``len()``. Subclass
``Sampler`` for an order of your own (``Sampler[int]`` or
``Sampler[list[int]]``).

Random samplers take ``generator=``: a ``chainrule.Generator`` (a
``numpy.random.Generator`` works too) or ``None`` for chainrule's
``default_generator``. Each pass (``iter(sampler)``) draws a new order, and
a generator seeded the same way gives the same orders. The numbers are not
PyTorch's (numpy's PCG64 draws them, not PyTorch's Mersenne Twister), so a
seed gives a different, equally random order than it does in PyTorch.

    >>> import chainrule as cr
    >>> from chainrule.utils.data import BatchSampler, RandomSampler, SequentialSampler
    >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6]]
    >>> order = list(RandomSampler(range(5), generator=cr.Generator().manual_seed(0)))
    >>> sorted(order)
    [0, 1, 2, 3, 4]
"""

import itertools
from collections.abc import Iterable, Iterator, Sized
from typing import Generic, TypeVar

import numpy as np

from chainrule.tensor import Tensor, tensor
from chainrule.utils.data._random import check_generator, fresh_rng_from_default, rng_for

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """The base class of samplers: subclasses define ``__iter__`` and usually ``__len__``.

    ``__iter__`` yields indices (or lists of indices, for a batch sampler).
    There is no default ``__len__``, as in PyTorch: ``len()`` of a sampler
    without one raises ``TypeError``, and ``list(sampler)`` still works.
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__}: a Sampler subclass must define "
                                  "__iter__, yielding indices (or lists of indices)")


class SequentialSampler(Sampler[int]):
    """The indices ``0, 1, ..., len(data_source) - 1``, in order, every pass."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Indices of ``data_source`` in random order.

    Without replacement, each pass is a fresh permutation of
    ``range(len(data_source))``; ``num_samples`` larger than the dataset
    chains whole permutations and cuts the last one short, as PyTorch does.
    With ``replacement=True``, ``num_samples`` (default ``len(data_source)``)
    indices are drawn uniformly and independently, lazily in chunks of 32.

    With ``generator=None`` each pass draws one seed from chainrule's
    ``default_generator`` and shuffles with a generator made from it (as
    PyTorch's does), so ``chainrule.manual_seed(s)`` fixes every later pass.
    The orders are not PyTorch's bit for bit (a different random number
    generator); their distribution and reproducibility are the same.
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = check_generator(generator, "RandomSampler")
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        num = self.num_samples
        if not isinstance(num, int) or isinstance(num, bool) or num <= 0:
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, "
                             f"but got num_samples={num}"
                             + ("; the dataset is empty" if num_samples is None else ""))

    @property
    def num_samples(self) -> int:
        """``num_samples`` as given, else the dataset's current length."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.generator is None:
            rng = fresh_rng_from_default()
        else:
            rng = rng_for(self.generator, "RandomSampler")
        num = self.num_samples
        if self.replacement:
            for _ in range(num // 32):
                yield from rng.integers(0, n, size=32, dtype=np.int64).tolist()
            yield from rng.integers(0, n, size=num % 32, dtype=np.int64).tolist()
        else:
            for _ in range(num // n):
                yield from rng.permutation(n).tolist()
            yield from rng.permutation(n).tolist()[:num % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The elements of ``indices`` in a fresh random order each pass (no replacement).

    Yields ``indices[i]`` for a random permutation ``i`` drawn from
    ``generator`` (default: ``default_generator``).
    """

    def __init__(self, indices, generator=None) -> None:
        self.indices = indices
        self.generator = check_generator(generator, "SubsetRandomSampler")

    def __iter__(self) -> Iterator[int]:
        order = rng_for(self.generator, "SubsetRandomSampler").permutation(len(self.indices))
        for i in order.tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices of ``range(len(weights))``, index ``i`` with probability
    ``weights[i] / sum(weights)``.

    With ``replacement=True`` (the default) the draws are independent; without,
    each index is drawn at most once and each draw is proportional to the
    weights of the indices not yet drawn, as ``torch.multinomial`` does (past
    the positive weights come the zero-weight indices, highest first, as there).
    ``weights`` (any sequence, array or tensor; they need not sum to 1) are
    kept as a float64 ``Tensor``, as PyTorch keeps them.
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples should be a positive integer "
                             f"value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, "
                             f"but got replacement={replacement}")
        if isinstance(weights, Tensor):
            weights = weights.detach().numpy()
        weights = tensor(np.asarray(weights, dtype=np.float64))
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but given "
                             f"weights have shape {tuple(weights.shape)}")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = check_generator(generator, "WeightedRandomSampler")

    def __iter__(self) -> Iterator[int]:
        p = _probabilities(self.weights.numpy(), self.num_samples, self.replacement)
        rng = rng_for(self.generator, "WeightedRandomSampler")
        if self.replacement:
            yield from rng.choice(len(p), size=self.num_samples, p=p).tolist()
            return
        positive = int(np.count_nonzero(p))
        drawn = min(positive, self.num_samples)
        yield from rng.choice(len(p), size=drawn, replace=False, p=p).tolist()
        # past the positive weights, torch.multinomial gives the zero-weight indices, highest first
        yield from np.flatnonzero(p == 0)[::-1][:self.num_samples - drawn].tolist()

    def __len__(self) -> int:
        return self.num_samples


def _probabilities(weights, num_samples, replacement):
    """``weights`` normalised to sum to 1, after torch.multinomial's checks."""
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise RuntimeError(f"WeightedRandomSampler: probability tensor contains either `inf`, "
                           f"`nan` or element < 0 (weights {weights.tolist()[:8]}"
                           f"{'...' if weights.size > 8 else ''}); weights must be finite and "
                           f"non-negative")
    total = weights.sum()
    if total <= 0:
        raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution "
                           "(sum of probabilities <= 0); give at least one positive weight")
    if not replacement and num_samples > weights.size:
        raise RuntimeError(
            f"WeightedRandomSampler: cannot sample n_sample > prob_dist.size(-1) samples "
            f"without replacement (num_samples={num_samples}, {weights.size} weights); lower "
            f"num_samples or use replacement=True"
        )
    return weights / total


class BatchSampler(Sampler[list[int]]):
    """The indices of ``sampler`` grouped into lists of ``batch_size``.

    The last list is shorter when ``batch_size`` does not divide the
    sampler's length, unless ``drop_last=True`` drops it. ``sampler`` may be
    any iterable of indices.
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int,
                 drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer value, "
                             f"but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        indices = iter(self.sampler)
        if self.drop_last:
            yield from (list(batch) for batch in zip(*[indices] * self.batch_size))
            return
        batch = list(itertools.islice(indices, self.batch_size))
        while batch:
            yield batch
            batch = list(itertools.islice(indices, self.batch_size))

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
