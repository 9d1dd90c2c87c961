"""``DataLoader``: a dataset in batches, with ``torch.utils.data.DataLoader``'s arguments.

The loader takes indices from a sampler (``SequentialSampler``, or
``RandomSampler`` with ``shuffle=True``), groups them with a
``BatchSampler`` (``batch_size``, ``drop_last``), reads the samples and
joins them with ``collate_fn`` (``default_collate``). ``batch_sampler=``
replaces the grouping; ``batch_size=None`` turns batching off (each sample
passes through ``default_convert``). An ``IterableDataset`` is read as a
stream and batched as it comes.

Each pass (``for batch in loader``) visits the dataset once. With
``shuffle=True`` each pass is a new permutation drawn from ``generator``
(a ``chainrule.Generator``) or, by default, from a seed drawn from chainrule's
``default_generator`` when the pass starts, so ``chainrule.manual_seed(s)``
before a run gives the same batches every time. The orders are not the
ones PyTorch draws for the same seed (a different random number generator).

Worker processes: chainrule loads in the main process. ``num_workers > 0``
is accepted, warns once, and gives the same batches as ``num_workers=0``
(``worker_init_fn`` is not called and ``get_worker_info()`` is ``None``);
``timeout``, ``prefetch_factor``, ``persistent_workers`` and
``multiprocessing_context`` are checked as PyTorch checks them and otherwise
unused; ``pin_memory`` has no effect (no accelerator memory to pin).

    >>> import chainrule as cr
    >>> from chainrule.utils.data import DataLoader, TensorDataset
    >>> data = TensorDataset(cr.arange(5.0).reshape(5, 1), cr.arange(5))
    >>> loader = DataLoader(data, batch_size=2)
    >>> len(loader), [y.tolist() for x, y in loader]
    (3, [[0, 1], [2, 3], [4]])
"""

import itertools
import math
import warnings

from chainrule.utils.data._random import check_generator
from chainrule.utils.data._utils.collate import default_collate, default_convert
from chainrule.utils.data.dataset import IterableDataset, batch_reader
from chainrule.utils.data.sampler import (BatchSampler, RandomSampler, Sampler,
                                          SequentialSampler)

__all__ = ["DataLoader", "get_worker_info"]

_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


def get_worker_info():
    """Information about the current loader worker process: always ``None`` in chainrule,
    which loads in the main process."""
    return None


class _InfiniteConstantSampler(Sampler):
    """``None`` forever: the placeholder sampler of an ``IterableDataset``, as PyTorch's."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Batches of ``dataset``, as ``torch.utils.data.DataLoader`` (module docstring).

    ``sampler`` (or ``shuffle``) chooses the order, ``batch_size`` and
    ``drop_last`` the grouping, or ``batch_sampler`` does both; they combine
    as in PyTorch, which refuses ``sampler`` with ``shuffle`` and
    ``batch_sampler`` with any of ``batch_size``, ``shuffle``, ``sampler``,
    ``drop_last``. ``len(loader)`` is the number of batches per pass.

    With the default ``collate_fn``, a dataset with ``get_batch(indices)``
    (``TensorDataset``, ``Subset``) builds each batch at once; one with
    ``__getitems__(indices)`` is asked for each batch's samples at once;
    otherwise samples are read one by one.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers,
                              multiprocessing_context)
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got "
                            f"{type(collate_fn).__name__} {collate_fn!r}")
        check_generator(generator, "DataLoader")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = 2 if num_workers > 0 and prefetch_factor is None else prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            _check_iterable_options(shuffle, sampler, batch_sampler)
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle; "
                             "shuffle inside the sampler (e.g. RandomSampler) or drop shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last; the batch "
                                 "sampler decides batches on its own, so leave those out")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and "
                             "is mutually exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = _batch_sampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False) and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized; make a new DataLoader")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        """Batches per pass (samples per pass with ``batch_size=None``)."""
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last \
                    else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def __iter__(self):
        return _DataLoaderIter(self)


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers, context):
    if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 0:
        raise ValueError(f"DataLoader: num_workers option should be non-negative; use "
                         f"num_workers=0 to disable multiprocessing. (got {num_workers!r})")
    if timeout < 0:
        raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
    if num_workers == 0:
        if prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if persistent_workers:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if context is not None:
            raise ValueError("DataLoader: multiprocessing_context can only be used with "
                             "multi-process loading (num_workers > 0), but got num_workers=0")
        if timeout != 0:
            raise ValueError(f"DataLoader: timeout={timeout} applies to worker processes only "
                             f"and needs num_workers > 0; leave timeout at 0")
    else:
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("DataLoader: prefetch_factor option should be non-negative")
        warnings.warn(f"DataLoader: num_workers={num_workers}: chainrule loads data in the main "
                      f"process (no worker processes); the batches are the same as with "
                      f"num_workers=0, only not prepared in parallel", UserWarning, stacklevel=3)


def _check_iterable_options(shuffle, sampler, batch_sampler):
    if shuffle not in {False, None}:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                         f"option, but got shuffle={shuffle}; an IterableDataset decides its "
                         f"own order, so shuffle inside its __iter__")
    if sampler is not None:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                         f"option, but got sampler={sampler}")
    if batch_sampler is not None:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler "
                         f"option, but got batch_sampler={batch_sampler}")


def _batch_sampler(sampler, batch_size, drop_last):
    """``BatchSampler``, its errors naming the ``DataLoader`` argument."""
    try:
        return BatchSampler(sampler, batch_size, drop_last)
    except ValueError as error:
        raise ValueError(f"DataLoader: {str(error).removeprefix('BatchSampler: ')}"
                         + ("; use batch_size=None to turn batching off"
                            if "batch_size" in str(error) else "")) from None


class _DataLoaderIter:
    """One pass over a ``DataLoader``: ``next`` gives the next batch; ``len`` the pass's."""

    def __init__(self, loader):
        self._loader = loader
        self._batches = _iterable_batches(loader) if loader._iterable else _map_batches(loader)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self):
        return len(self._loader)


def _map_batches(loader):
    dataset, collate_fn = loader.dataset, loader.collate_fn
    indices_of_batches = iter(loader._index_sampler)
    if not loader._auto_collation:
        for index in indices_of_batches:
            yield collate_fn(dataset[index])
        return
    get_batch = batch_reader(dataset) if collate_fn is default_collate else None
    get_items = getattr(dataset, "__getitems__", None)
    for indices in indices_of_batches:
        if get_batch is not None:
            yield get_batch(indices)
        elif callable(get_items):
            yield collate_fn(get_items(indices))
        else:
            yield collate_fn([dataset[i] for i in indices])


def _iterable_batches(loader):
    stream, collate_fn = iter(loader.dataset), loader.collate_fn
    if not loader._auto_collation:
        for _ in loader._index_sampler:
            try:
                sample = next(stream)
            except StopIteration:
                return
            yield collate_fn(sample)
    for wanted in loader._index_sampler:
        samples = list(itertools.islice(stream, len(wanted)))
        if not samples or (loader.drop_last and len(samples) < len(wanted)):
            return
        yield collate_fn(samples)
        if len(samples) < len(wanted):
            return
