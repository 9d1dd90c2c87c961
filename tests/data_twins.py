"""Helpers for the chainrule.utils.data tests: the same dataset in both libraries,
and comparisons of outputs and errors with torch.utils.data's."""

import collections.abc
import re

import numpy as np
import pytest
import torch
import torch.utils.data as td

import chainrule as cr
import chainrule.utils.data as cd


def twins(n=10, width=3):
    """The same TensorDataset in both libraries: float32 features, int64 labels."""
    features = np.arange(n * width, dtype=np.float32).reshape(n, width)
    labels = np.arange(n, dtype=np.int64) * 7 % 11
    return (cd.TensorDataset(cr.tensor(features), cr.tensor(labels)),
            td.TensorDataset(torch.tensor(features), torch.tensor(labels)))


def assert_same(ours, theirs):
    """Same structure, container types, tensor dtypes and values as torch's output."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, cr.Tensor), f"{type(ours).__name__} where torch has a Tensor"
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype,
                                                                             theirs.dtype)
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(np.asarray(ours.detach()), theirs.numpy())
    elif isinstance(theirs, collections.abc.Mapping):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for key in theirs:
            assert_same(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b)
    else:
        assert type(ours) is type(theirs) and ours == theirs


def torch_message(call):
    """The exception type and message torch raises for ``call(td)``."""
    with pytest.raises(Exception) as caught:
        call(td)
    return caught.type, str(caught.value)


def assert_same_error(call):
    """chainrule raises torch's exception type, with torch's message inside its own."""
    kind, message = torch_message(call)
    with pytest.raises(kind, match=re.escape(message)):
        call(cd)
