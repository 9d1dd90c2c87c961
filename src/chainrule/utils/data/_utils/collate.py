"""``default_collate`` and ``default_convert``: samples into batches, as PyTorch defines them.

``default_collate(batch)`` takes a list of samples and adds a batch
dimension in front:

- ``Tensor`` -> the tensors stacked (``chainrule.stack(batch, 0)``, so a
  graph is recorded when they require grad);
- numpy array -> each made a tensor, then stacked (string and object arrays
  are refused);
- numpy scalar -> a tensor of its dtype;
- ``float`` -> a float64 tensor; ``int`` -> an int64 tensor (``bool`` -> bool);
- ``str``, ``bytes`` -> the list, unchanged;
- ``Mapping`` -> the same kind of mapping, each key collated;
- namedtuple -> the same namedtuple, each field collated;
- ``tuple`` -> a *list* of the fields collated (PyTorch's choice, kept);
- other ``Sequence`` (``list``) -> the same kind, each position collated.

Dispatch goes through ``default_collate_fn_map`` (exact type first, then
``isinstance`` in insertion order), which ``collate(batch,
collate_fn_map=...)`` lets you extend, as in PyTorch.

    >>> from chainrule.utils.data import default_collate
    >>> default_collate([(0, 1.5), (2, 3.5)])
    [tensor([0, 2]), tensor([1.5000, 3.5000], dtype=float64)]
    >>> default_collate([{"a": 1}, {"a": 2}])
    {'a': tensor([1, 2])}
"""

import collections.abc
import copy
import re

import numpy as np

from chainrule.ops.joining import stack
from chainrule.tensor import Tensor, from_numpy, tensor

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map"]

_STRING_OR_OBJECT = re.compile(r"[SaUO]")  # numpy dtype codes default_collate refuses

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, "
    "dicts or lists; found {}"
)


def collate(batch, *, collate_fn_map=None):
    """``batch`` (a non-empty list of samples) collated through ``collate_fn_map``,
    recursing into mappings, namedtuples and sequences."""
    if len(batch) == 0:
        raise IndexError("default_collate: got an empty batch; a batch needs at least one "
                         "sample (check the sampler and batch_size)")
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                  for key in elem}
        return _same_kind_of_mapping(elem, fields)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(field, collate_fn_map=collate_fn_map)
                           for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) > 1:
            raise RuntimeError(f"each element in list of batch should be of equal size; "
                               f"default_collate got samples of lengths {sorted(sizes)}. Give "
                               f"every sample the same number of fields, or pass "
                               f"DataLoader(collate_fn=...) (e.g. one that pads)")
        fields = [collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # a list, as PyTorch returns
        return _same_kind_of_sequence(elem, fields)
    raise TypeError(default_collate_err_msg_format.format(elem_type)
                    + "; pass DataLoader(collate_fn=...) for other kinds of samples")


def _same_kind_of_mapping(elem, fields):
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(fields)
            return clone
        return type(elem)(fields)
    except TypeError:  # a mapping type that can't be rebuilt from a dict
        return fields


def _same_kind_of_sequence(elem, fields):
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, field in enumerate(fields):
                clone[i] = field
            return clone
        return type(elem)(fields)
    except TypeError:
        return fields


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Tensors stacked along a new first dimension."""
    return stack(list(batch), 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """numpy arrays made tensors (sharing memory, as ``torch.as_tensor``), then stacked."""
    elem = batch[0]
    if _STRING_OR_OBJECT.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([from_numpy(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """numpy scalars as one tensor of their dtype."""
    return tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats as a float64 tensor (not the default float32), as PyTorch."""
    return tensor(batch, dtype=np.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints as an int64 tensor; bools (an ``int`` subclass) as a bool tensor.

    ``torch.tensor(batch)``'s inference: a float among the ints makes it float32.
    """
    return tensor(list(batch))


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes left as they are: the batch is their list."""
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """A list of samples joined into one batch, with PyTorch's type mapping (module docstring).

    The ``collate_fn`` a ``DataLoader`` uses when it batches
    (``batch_size`` or ``batch_sampler`` set).
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """numpy arrays and scalars in ``data`` made tensors; everything else left as it is.

    The ``collate_fn`` a ``DataLoader`` uses with ``batch_size=None`` (no
    batching). Recurses into mappings, namedtuples and sequences like
    ``default_collate`` (a tuple becomes a list); string and object arrays
    are returned unchanged.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        if _STRING_OR_OBJECT.search(data.dtype.str) is not None:
            return data
        return from_numpy(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _same_kind_of_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_kind_of_sequence(data, [default_convert(d) for d in data])
    return data
