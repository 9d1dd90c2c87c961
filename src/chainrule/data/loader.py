"""``DataLoader``: a dataset in batches, optionally shuffled, as PyTorch's.

Each pass (``for batch in loader``) visits every sample once. With
``shuffle=True`` the order is a fresh permutation per pass, drawn from
``generator`` or, by default, from chainrule's global generator as it is when
the pass starts, so ``chainrule.manual_seed(s)`` before a run gives the same
batches every time.

    >>> import chainrule as cr
    >>> from chainrule.data import DataLoader, TensorDataset
    >>> data = TensorDataset(cr.arange(5.0).reshape(5, 1), cr.arange(5))
    >>> loader = DataLoader(data, batch_size=2)
    >>> len(loader), [tuple(y.tolist()) for x, y in loader]
    (3, [(0, 1), (2, 3), (4,)])
"""

import collections.abc

import numpy as np

from chainrule.data.dataset import _check_generator
from chainrule.device import array_module
from chainrule.tensor import Tensor, tensor

__all__ = ["DataLoader", "default_collate"]


class DataLoader:
    """Batches of ``dataset``: ``batch_size`` samples each, collated by ``collate_fn``.

    The last batch is smaller when ``batch_size`` does not divide the
    dataset, unless ``drop_last`` drops it. Without a ``collate_fn`` a
    dataset with a ``get_batch(indices)`` method (``TensorDataset``,
    ``Subset``) builds each batch at once; otherwise samples are read one by
    one and joined by ``default_collate`` (or your ``collate_fn``).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None,
                 collate_fn=None):
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) \
                or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got "
                            f"{type(collate_fn).__name__}")
        if generator is not None:
            _check_generator(generator, "DataLoader")
        try:
            len(dataset)
        except TypeError:
            raise TypeError(f"DataLoader: the dataset ({type(dataset).__name__}) has no len(); "
                            "a map-style dataset needs __len__ and __getitem__") from None
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = collate_fn

    def __len__(self):
        """The number of batches in one pass."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:  # drawn now, not lazily, so the pass is fixed by the state at iter()
            order = _check_generator(self.generator, "DataLoader").permutation(n)
        else:
            order = np.arange(n)
        return self._batches(order)

    def _batches(self, order):
        get_batch = getattr(self.dataset, "get_batch", None) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start:start + self.batch_size]
            if get_batch is not None:
                yield get_batch(indices)
            else:
                yield collate([self.dataset[int(i)] for i in indices])

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")


def default_collate(samples):
    """A list of samples joined into a batch, as PyTorch's ``default_collate``.

    Tensors and numpy arrays are stacked along a new first dimension; Python
    ints become an int64 tensor, floats float64, bools bool; tuples and lists
    are collated field by field (a list comes back), dicts key by key;
    strings are left as they are: a sequence of strings.
    """
    if not samples:
        raise ValueError("default_collate: got an empty list of samples")
    first = samples[0]
    if isinstance(first, Tensor):
        return _stack_tensors(samples)
    if isinstance(first, (np.ndarray, np.generic)) and first.dtype.kind in "biufc":
        # numpy samples are host data: each becomes a CPU tensor, then they are stacked
        return _stack_tensors([Tensor._make(np.asarray(s), False, None) for s in samples])
    if isinstance(first, bool):
        return tensor(samples, dtype=np.bool_)
    if isinstance(first, int):
        return tensor(samples, dtype=np.int64)
    if isinstance(first, float):
        return tensor(samples, dtype=np.float64)
    if isinstance(first, (str, bytes)):
        return samples
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a namedtuple keeps its type
        return type(first)(*(default_collate(field) for field in zip(*samples)))
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError(f"default_collate: samples have different lengths "
                             f"{sorted({len(s) for s in samples})}; each must have as many fields")
        return [default_collate(field) for field in zip(*samples)]
    raise TypeError(f"default_collate: don't know how to batch a {type(first).__name__}; "
                    "samples must hold Tensors, numpy arrays, numbers, strings, dicts, "
                    "tuples or lists (or pass DataLoader(collate_fn=...))")


def _stack_tensors(tensors):
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"default_collate: samples have different shapes "
                         f"{sorted(shapes)}; stacking them into a batch needs one shape")
    if any(t.requires_grad for t in tensors):
        from chainrule.ops.joining import stack

        return stack(tensors)
    return Tensor._make(_stacked([t.data for t in tensors]), False, None)


def _stacked(arrays):
    """The arrays (of one shape) stacked along a new first dimension."""
    return array_module(*arrays).stack(arrays)
