"""chainrule.utils.data against torch.utils.data on the same data: loading and collating.

Datasets, default_collate / default_convert and DataLoader: the same
batches, types, dtypes and lengths, and the same argument errors (torch's
message text, plus chainrule's fix). Samplers, shuffling and random_split
are in test_utils_data_sampling.py.
"""

import collections
import re
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as td

import chainrule as cr
import chainrule.utils.data as cd
from tests.data_twins import assert_same, assert_same_error, twins

Point = namedtuple("Point", "x y")


# ------------------------------------------------------------ sequential loading


@pytest.mark.parametrize("n, batch_size, drop_last", [
    (10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True), (2, 5, False), (2, 5, True),
    (0, 2, False), (7, 1, False), (6, 6, True),
])
def test_sequential_batches_match_torch(n, batch_size, drop_last):
    ours, theirs = twins(n)
    loader = cd.DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    twin = td.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(twin)
    batches, expected = list(loader), list(twin)
    assert len(batches) == len(expected) == len(loader)
    for a, b in zip(batches, expected):
        assert_same(a, b)


def test_batch_size_none_yields_converted_samples_as_torch():
    ours, theirs = twins(4)
    assert len(cd.DataLoader(ours, batch_size=None)) == 4
    for a, b in zip(cd.DataLoader(ours, batch_size=None), td.DataLoader(theirs, batch_size=None)):
        assert_same(a, b)


class Records:
    """A map-style dataset of dicts with numpy, int, float and str fields, in both libraries."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float32), "label": i % 3, "weight": i / 2,
                "name": f"r{i}"}

    def __len__(self):
        return self.n


def test_sample_by_sample_loading_of_dicts_matches_torch():
    for a, b in zip(cd.DataLoader(Records(5), batch_size=2), td.DataLoader(Records(5), batch_size=2)):
        assert_same(a, b)


def test_custom_sampler_and_batch_sampler_give_torchs_batches():
    ours, theirs = twins(8)
    order = [5, 1, 7, 0, 2]
    for kwargs in ({"sampler": order, "batch_size": 2}, {"batch_sampler": [[3, 1], [6], [0, 7]]},
                   {"sampler": order, "batch_size": None}):
        batches, expected = list(cd.DataLoader(ours, **kwargs)), list(td.DataLoader(theirs, **kwargs))
        assert len(batches) == len(expected)
        for a, b in zip(batches, expected):
            assert_same(a, b)


class Pairs(cd.Dataset):
    """Samples (i, i * i); counts calls of __getitems__ (one per batch, as torch's fetcher)."""

    batched_reads = 0

    def __getitem__(self, i):
        raise AssertionError("DataLoader should read whole batches through __getitems__")

    def __getitems__(self, indices):
        Pairs.batched_reads += 1
        return [(i, i * i) for i in indices]

    def __len__(self):
        return 5


def test_getitems_reads_a_batch_at_once_then_collates():
    batches = list(cd.DataLoader(Pairs(), batch_size=2))
    assert Pairs.batched_reads == 3
    assert [b[1].tolist() for b in batches] == [[0, 1], [4, 9], [16]]


def test_tensor_dataset_and_subset_build_batches_without_reading_samples(monkeypatch):
    ours, _ = twins(9)
    expected = [y.tolist() for _, y in cd.DataLoader(ours, batch_size=4)]

    def no_single_reads(self, index):
        raise AssertionError("the fast path read a single sample")

    monkeypatch.setattr(cd.TensorDataset, "__getitem__", no_single_reads)
    assert [y.tolist() for _, y in cd.DataLoader(ours, batch_size=4)] == expected
    subset = cd.Subset(ours, [8, 0, 3])
    assert [y.tolist() for _, y in cd.DataLoader(subset, batch_size=2)] == [
        [expected[2][0], expected[0][0]], [expected[0][3]]]


def test_a_subclass_that_transforms_samples_is_read_through_its_getitem():
    class Doubled(cd.TensorDataset):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            return x * 2, y

    class TorchDoubled(td.TensorDataset):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            return x * 2, y

    ours, theirs = twins(5)
    for data, twin in ((Doubled(*ours.tensors), TorchDoubled(*theirs.tensors)),
                       (cd.Subset(Doubled(*ours.tensors), [4, 1, 2]),
                        td.Subset(TorchDoubled(*theirs.tensors), [4, 1, 2]))):
        for a, b in zip(cd.DataLoader(data, batch_size=2), td.DataLoader(twin, batch_size=2)):
            assert_same(a, b)


def test_get_batch_is_what_default_collate_builds_from_the_samples():
    ours, _ = twins(7)
    fast = ours.get_batch([5, 1, 6])
    slow = cd.default_collate([ours[i] for i in (5, 1, 6)])
    assert type(fast) is type(slow) is list
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and a.tolist() == b.tolist()


def test_custom_collate_fn_gets_the_samples_as_torchs_does():
    received = []

    def collate(samples):
        received.append(len(samples))
        return samples

    ours, theirs = twins(5)
    batches = list(cd.DataLoader(ours, batch_size=2, collate_fn=collate))
    assert received == [2, 2, 1]
    for a, b in zip(batches, td.DataLoader(theirs, batch_size=2, collate_fn=lambda s: s)):
        assert_same(a, b)  # lists of (features, label) tuples


def test_batches_keep_the_graph_when_samples_require_grad():
    w = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x,) = next(iter(cd.DataLoader(cd.TensorDataset(w * 2), batch_size=2)))
    x.sum().backward()
    assert w.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    batch = cd.default_collate([w[0] * 3, w[1]])
    w.grad = None
    batch.sum().backward()
    assert w.grad.tolist() == [[3.0, 3.0], [1.0, 1.0]]


# ------------------------------------------------------------ iterable datasets


class Stream(cd.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class TorchStream(td.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (5, False), (None, False),
                                                   (7, True), (1, False)])
def test_iterable_dataset_batches_match_torch(batch_size, drop_last):
    loader = cd.DataLoader(Stream(7), batch_size=batch_size, drop_last=drop_last)
    twin = td.DataLoader(TorchStream(7), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(twin)
    batches, expected = list(loader), list(twin)
    assert len(batches) == len(expected)
    for a, b in zip(batches, expected):
        assert_same(a, b)


def test_chain_and_concat_datasets_match_torch():
    assert list(cd.ChainDataset([Stream(2), Stream(3)])) == list(
        td.ChainDataset([TorchStream(2), TorchStream(3)]))
    assert len(Stream(2) + Stream(3)) == 5
    ours = cd.ConcatDataset([range(3), range(10, 14)]) + range(20, 22)
    theirs = td.ConcatDataset([range(3), range(10, 14)]) + range(20, 22)
    assert len(ours) == len(theirs) == 9
    assert ours.datasets[0].cumulative_sizes == theirs.datasets[0].cumulative_sizes
    assert [ours[i] for i in range(-9, 9)] == [theirs[i] for i in range(-9, 9)]
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        ours[-10]
    with pytest.raises(ValueError, match="datasets should not be an empty iterable"):
        cd.ConcatDataset([])
    with pytest.raises(TypeError, match="ConcatDataset does not support IterableDataset"):
        cd.ConcatDataset([range(2), Stream(2)])
    with pytest.raises(TypeError, match="ChainDataset only supports IterableDataset"):
        list(cd.ChainDataset([range(2)]))


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0, 1]},
                                    {"batch_sampler": [[0, 1]]}])
def test_iterable_dataset_refuses_orders_as_torch(kwargs):
    with pytest.raises(ValueError, match=re.escape("DataLoader with IterableDataset: expected "
                                                   "unspecified " + next(iter(kwargs)))):
        cd.DataLoader(Stream(3), **kwargs)
    with pytest.raises(ValueError):
        td.DataLoader(TorchStream(3), **kwargs)


def test_base_classes_are_torchs():
    assert cd.Sampler[int] is not None and cd.Dataset[int] is not None  # generic, as torch's
    with pytest.raises(NotImplementedError, match="should implement __getitem__"):
        cd.Dataset()[0]
    with pytest.raises(NotImplementedError, match="should implement __iter__"):
        iter(cd.IterableDataset())
    with pytest.raises(TypeError):
        len(cd.Dataset())
    ours, _ = twins(3)
    both = ours + ours
    assert isinstance(both, cd.ConcatDataset) and len(both) == 6
    assert cd.get_worker_info() is None


# ------------------------------------------------------------ default_collate


class Frozen(collections.abc.Mapping):
    """A read-only mapping: collated into the same type through its constructor."""

    def __init__(self, items):
        self._items = dict(items)

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)


COLLATE_CASES = {
    "ints": [1, 2, 3],
    "floats": [1.5, 2.0],
    "bools": [True, False],
    "ints then a float": [1, 2.5],
    "strings": ["a", "bc"],
    "bytes": [b"a", b"b"],
    "float32 arrays": [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "int32 arrays": [np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int32)],
    "float64 0-d arrays": [np.array(1.5), np.array(2.5)],
    "numpy float32 scalars": [np.float32(1), np.float32(2)],
    "numpy int64 scalars": [np.int64(1), np.int64(2)],
    "numpy float64 scalars": [np.float64(1), np.float64(2)],
    "numpy bool scalars": [np.bool_(True), np.bool_(False)],
    "tuples": [(1, 2.0, "a"), (3, 4.0, "b")],
    "lists": [[1, 2.0], [3, 4.0]],
    "dicts": [{"a": 1, "b": np.ones(2)}, {"a": 2, "b": np.zeros(2)}],
    "ordered dicts": [collections.OrderedDict(z=1, a=2), collections.OrderedDict(z=3, a=4)],
    "read-only mappings": [Frozen({"k": 1.0}), Frozen({"k": 2.0})],
    "namedtuples": [Point(np.ones(2), 1), Point(np.zeros(2), 2)],
    "nested": [{"pair": (1, [2.0, "s"]), "p": Point(1, 2.0)},
               {"pair": (3, [4.0, "t"]), "p": Point(3, 4.0)}],
}


@pytest.mark.parametrize("name", sorted(COLLATE_CASES))
def test_default_collate_matches_torch(name):
    samples = COLLATE_CASES[name]
    assert_same(cd.default_collate(samples), td.default_collate(samples))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_default_collate_of_tensors_matches_torch(dtype):
    arrays = [np.arange(6).reshape(2, 3).astype(dtype), np.ones((2, 3), dtype=dtype)]
    ours = cd.default_collate([cr.tensor(a) for a in arrays])
    theirs = td.default_collate([torch.tensor(a) for a in arrays])
    assert_same(ours, theirs)
    assert_same(cd.default_collate([(cr.tensor(a), 1) for a in arrays]),
                td.default_collate([(torch.tensor(a), 1) for a in arrays]))


@pytest.mark.parametrize("name", ["ints", "float32 arrays", "numpy float32 scalars", "tuples",
                                  "dicts", "namedtuples", "strings", "nested"])
def test_default_convert_matches_torch(name):
    for sample in COLLATE_CASES[name]:
        assert_same(cd.default_convert(sample), td.default_convert(sample))


@pytest.mark.parametrize("samples, kind", [
    ([np.array(["a"]), np.array(["b"])], TypeError),
    ([object(), object()], TypeError),
    ([(1, 2), (3,)], RuntimeError),
])
def test_default_collate_errors_as_torch(samples, kind):
    with pytest.raises(kind) as theirs:
        td.default_collate(samples)
    with pytest.raises(kind, match=re.escape(str(theirs.value))):
        cd.default_collate(samples)


def test_default_collate_error_names_the_fix():
    with pytest.raises(TypeError, match=r"found <class 'object'>; pass DataLoader\(collate_fn"):
        cd.default_collate([object()])
    with pytest.raises(RuntimeError, match=r"samples of lengths \[1, 2\]"):
        cd.default_collate([(1, 2), (3,)])
    with pytest.raises(IndexError, match="empty batch"):
        cd.default_collate([])


# ------------------------------------------------------------ DataLoader arguments


LOADER_ERRORS = [
    lambda m: m.DataLoader(range(4), sampler=[0, 1], shuffle=True),
    lambda m: m.DataLoader(range(4), batch_sampler=[[0]], batch_size=2),
    lambda m: m.DataLoader(range(4), batch_sampler=[[0]], shuffle=True),
    lambda m: m.DataLoader(range(4), batch_sampler=[[0]], sampler=[0]),
    lambda m: m.DataLoader(range(4), batch_sampler=[[0]], drop_last=True),
    lambda m: m.DataLoader(range(4), batch_size=None, drop_last=True),
    lambda m: m.DataLoader(range(4), batch_size=0),
    lambda m: m.DataLoader(range(4), batch_size=-1),
    lambda m: m.DataLoader(range(4), batch_size=2.0),
    lambda m: m.DataLoader(range(4), drop_last="no"),
    lambda m: m.DataLoader(range(4), num_workers=-1),
    lambda m: m.DataLoader(range(4), timeout=-1),
    lambda m: m.DataLoader(range(4), prefetch_factor=2),
    lambda m: m.DataLoader(range(4), persistent_workers=True),
]


@pytest.mark.parametrize("call", LOADER_ERRORS)
def test_loader_argument_errors_as_torch(call):
    assert_same_error(call)


def test_loader_errors_name_the_fix():
    with pytest.raises(ValueError, match="the batch sampler decides batches on its own"):
        cd.DataLoader(range(4), batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="use batch_size=None to turn batching off"):
        cd.DataLoader(range(4), batch_size=0)
    with pytest.raises(TypeError, match="collate_fn must be callable"):
        cd.DataLoader(range(4), collate_fn="stack")
    with pytest.raises(ValueError, match="timeout=5 applies to worker processes only"):
        cd.DataLoader(range(4), timeout=5)


def test_loader_attributes_and_frozen_fields_as_torch():
    ours, twin = cd.DataLoader(range(5), batch_size=2), td.DataLoader(range(5), batch_size=2)
    assert type(ours.sampler).__name__ == type(twin.sampler).__name__ == "SequentialSampler"
    assert type(ours.batch_sampler).__name__ == type(twin.batch_sampler).__name__
    assert ours.collate_fn is cd.default_collate
    assert cd.DataLoader(range(5), batch_size=None).collate_fn is cd.default_convert
    assert cd.DataLoader(range(5), shuffle=True).sampler.__class__ is cd.RandomSampler
    assert (ours.batch_size, ours.drop_last, ours.num_workers) == (2, False, 0)
    for name in ("batch_size", "sampler", "dataset", "drop_last"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after "
                                             "DataLoader is initialized"):
            setattr(ours, name, None)
    ours.collate_fn = cd.default_convert  # not frozen, in torch either


def test_num_workers_loads_in_the_main_process_with_a_warning():
    ours, _ = twins(7)
    with pytest.warns(UserWarning, match="num_workers=2: chainrule loads data in the main"):
        loader = cd.DataLoader(ours, batch_size=3, num_workers=2, worker_init_fn=print,
                               prefetch_factor=4, persistent_workers=True, timeout=10,
                               pin_memory=True)
    plain = cd.DataLoader(ours, batch_size=3)
    assert [[t.tolist() for t in batch] for batch in loader] == \
        [[t.tolist() for t in batch] for batch in plain]
    assert len(loader) == 3 and loader.prefetch_factor == 4


def test_len_of_a_loader_without_len_raises():
    class NoLen(cd.Dataset):
        def __getitem__(self, i):
            return i

    loader = cd.DataLoader(NoLen(), sampler=[2, 0], batch_size=2)  # valid: the sampler has len
    assert [b.tolist() for b in loader] == [[2, 0]]
    with pytest.raises(TypeError):
        list(cd.DataLoader(NoLen(), batch_size=2))


def test_subset_matches_torch():
    ours, theirs = twins(6)
    for indices in ([4, 0, 5], np.array([1, 1, 2]), range(2, 5)):
        a, b = cd.Subset(ours, indices), td.Subset(theirs, indices)
        assert len(a) == len(b) and a.indices is indices
        for i in range(len(a)):
            assert_same(a[i], b[i])
        assert_same(a.__getitems__([2, 0]), b.__getitems__([2, 0]))
        assert_same(a.get_batch([2, 0]), td.default_collate(b.__getitems__([2, 0])))
    assert cd.Subset(range(10), [3, 4])[-1] == td.Subset(range(10), [3, 4])[-1] == 4


def test_tensor_dataset_matches_torch_and_explains_errors():
    ours, theirs = twins(4)
    assert len(ours) == len(theirs)
    for i in (0, 3, -1):
        assert_same(ours[i], theirs[i])
    with pytest.raises(ValueError, match=r"Size mismatch between tensors: .*\(4, 2\), \(3,\)"):
        cd.TensorDataset(cr.zeros(4, 2), cr.zeros(3))
    with pytest.raises(TypeError, match="argument 1 is a ndarray.*from_numpy"):
        cd.TensorDataset(cr.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="argument 0 is a 0-d tensor"):
        cd.TensorDataset(cr.tensor(1.0))
    with pytest.raises(ValueError, match="at least one tensor"):
        cd.TensorDataset()


def test_old_chainrule_data_names_are_the_new_ones():
    import chainrule.data as old

    for name in ("Dataset", "TensorDataset", "Subset", "random_split", "DataLoader",
                 "default_collate"):
        assert getattr(old, name) is getattr(cd, name)
    assert isinstance(old.datasets.xor(), cd.TensorDataset)
