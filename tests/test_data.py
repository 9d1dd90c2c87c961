"""chainrule.data: datasets, DataLoader, random_split and the built-in datasets."""

import builtins
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as torch_data

import chainrule as cr
from chainrule.ops import creation
from chainrule.data import (DataLoader, Dataset, Subset, TensorDataset, datasets,
                            default_collate, random_split)


def make_data(n=10):
    features = cr.from_numpy(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    labels = cr.from_numpy(np.arange(n, dtype=np.int64))
    return TensorDataset(features, labels)


class Squares(Dataset):
    """A dataset with no get_batch of its own: samples are read one at a time."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, index):
        return {"x": cr.tensor([float(index)]), "y": index * index}

    def __len__(self):
        return self.n


def labels_seen(loader):
    return [y.tolist() for _, y in loader]


# ------------------------------------------------------------------ datasets


def test_tensor_dataset_indexes_every_tensor():
    data = make_data(4)
    x, y = data[2]
    assert len(data) == 4
    assert x.tolist() == [6.0, 7.0, 8.0] and x.dtype == np.float32
    assert y.shape == () and y.item() == 2 and y.dtype == np.int64
    assert data[-1][1].item() == 3


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match=r"shapes \(4, 2\), \(3,\); their first dimensions"):
        TensorDataset(cr.zeros(4, 2), cr.zeros(3))
    with pytest.raises(TypeError, match="argument 1 is a ndarray.*from_numpy"):
        TensorDataset(cr.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="argument 0 is a 0-d tensor"):
        TensorDataset(cr.tensor(1.0))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_dataset_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        Dataset()


def test_subset_reads_through_and_checks_indices():
    data = make_data(5)
    subset = Subset(data, [4, 0])
    assert len(subset) == 2 and subset[0][1].item() == 4 and subset[1][1].item() == 0
    assert subset.get_batch(np.array([1, 0]))[1].tolist() == [0, 4]
    with pytest.raises(IndexError, match="index 5 is out of range for a dataset of length 5"):
        Subset(data, [0, 5])


# ---------------------------------------------------------------- DataLoader


@pytest.mark.parametrize("n, batch_size, drop_last", [
    (10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True), (2, 5, False), (2, 5, True),
    (0, 2, False), (7, 1, False),
])
def test_batch_sizes_and_len_match_torch(n, batch_size, drop_last):
    loader = DataLoader(make_data(n), batch_size=batch_size, drop_last=drop_last)
    twin = torch_data.DataLoader(torch_data.TensorDataset(torch.arange(n)), batch_size=batch_size,
                                 drop_last=drop_last)
    assert len(loader) == len(twin)
    sizes = [len(y) for _, y in loader]
    assert sizes == [len(batch) for (batch,) in twin]
    assert len(sizes) == len(loader)


def test_batches_are_stacked_in_order():
    x, y = next(iter(DataLoader(make_data(10), batch_size=4)))
    assert isinstance(x, cr.Tensor) and x.shape == (4, 3) and x.dtype == np.float32
    assert y.shape == (4,) and y.dtype == np.int64 and y.tolist() == [0, 1, 2, 3]
    assert x.tolist()[3] == [9.0, 10.0, 11.0]
    assert labels_seen(DataLoader(make_data(5), batch_size=2)) == [[0, 1], [2, 3], [4]]


def test_fast_path_equals_sample_by_sample_collation():
    data = make_data(7)
    order = np.array([5, 1, 6])
    fast = data.get_batch(order)
    slow = default_collate([data[int(i)] for i in order])
    assert type(fast) is type(slow) is list
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and np.array_equal(a.data, b.data)


def test_tensor_dataset_batches_without_reading_samples(monkeypatch):
    def no_single_reads(self, index):
        raise AssertionError("the fast path read a single sample")

    monkeypatch.setattr(TensorDataset, "__getitem__", no_single_reads)
    batches = list(DataLoader(make_data(9), batch_size=4, shuffle=True))
    assert [len(y) for _, y in batches] == [4, 4, 1]


def test_shuffle_with_generator_is_deterministic_and_a_permutation():
    data = make_data(20)

    def epoch(seed):
        loader = DataLoader(data, batch_size=6, shuffle=True, generator=np.random.default_rng(seed))
        return sum(labels_seen(loader), [])

    first = epoch(3)
    assert first == epoch(3)
    assert first != epoch(4)
    assert sorted(first) == list(range(20)) and first != list(range(20))


def test_each_epoch_is_a_new_permutation_of_every_sample():
    loader = DataLoader(make_data(12), batch_size=5, shuffle=True,
                        generator=np.random.default_rng(0))
    epochs = [sum(labels_seen(loader), []) for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(12))
    assert epochs[0] != epochs[1] != epochs[2]


def test_shuffle_follows_manual_seed_read_at_iteration_time():
    loader = DataLoader(make_data(16), batch_size=4, shuffle=True)  # made before the seed
    cr.manual_seed(7)
    first = labels_seen(loader)
    cr.manual_seed(7)
    assert labels_seen(loader) == first
    cr.manual_seed(8)
    assert labels_seen(loader) != first
    cr.manual_seed(7)
    expected = creation.default_generator.permutation(16)
    assert sum(first, []) == expected.tolist()


def test_sample_by_sample_path_and_default_collate_of_dicts():
    loader = DataLoader(Squares(5), batch_size=2)
    batches = list(loader)
    assert len(batches) == len(loader) == 3
    assert batches[1]["x"].shape == (2, 1) and batches[1]["x"].tolist() == [[2.0], [3.0]]
    assert batches[1]["y"].tolist() == [4, 9] and batches[1]["y"].dtype == np.int64
    assert batches[2]["y"].tolist() == [16]


def test_shuffled_subset_sees_each_of_its_samples_once():
    train, _ = random_split(make_data(10), [6, 4], generator=np.random.default_rng(1))
    loader = DataLoader(train, batch_size=4, shuffle=True, generator=np.random.default_rng(2))
    seen = sum(labels_seen(loader), [])
    assert sorted(seen) == sorted(train.indices.tolist())


def test_custom_collate_fn_gets_the_samples():
    received = []

    def collate(samples):
        received.append(len(samples))
        return samples

    batches = list(DataLoader(make_data(5), batch_size=2, collate_fn=collate))
    assert received == [2, 2, 1]
    assert batches[0][1][1].item() == 1  # sample 1 of batch 0, its label


def test_default_collate_matches_torch_types():
    Point = namedtuple("Point", "x label")
    samples = [Point(np.ones(2), 1), Point(np.zeros(2), 2)]
    ours, theirs = default_collate(samples), torch_data.default_collate(samples)
    assert type(ours) is Point and ours.x.shape == (2, 2) and ours.x.dtype == np.float64
    assert theirs.x.dtype == torch.float64 and ours.label.tolist() == theirs.label.tolist()
    ours = default_collate([(1.5, True, "a"), (2.5, False, "b")])
    theirs = torch_data.default_collate([(1.5, True, "a"), (2.5, False, "b")])
    assert type(ours) is type(theirs) is list
    assert ours[0].dtype == np.float64 and theirs[0].dtype == torch.float64
    assert ours[1].dtype == np.bool_ and theirs[1].dtype == torch.bool
    assert ours[2] == theirs[2] == ("a", "b")


def test_default_collate_keeps_gradients():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    batch = default_collate([w * 2, w * 3])
    batch.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]


def test_default_collate_errors():
    with pytest.raises(ValueError, match=r"different shapes \[\(2,\), \(3,\)\]"):
        default_collate([cr.zeros(2), cr.zeros(3)])
    with pytest.raises(TypeError, match="don't know how to batch a object"):
        default_collate([object()])
    with pytest.raises(ValueError, match="empty list"):
        default_collate([])


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True, None])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive int, got {batch_size!r}"):
        DataLoader(make_data(), batch_size=batch_size)


def test_loader_argument_errors():
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator"):
        DataLoader(make_data(), shuffle=True, generator=42)
    with pytest.raises(TypeError, match="collate_fn must be callable"):
        DataLoader(make_data(), collate_fn="stack")
    with pytest.raises(TypeError, match="has no len"):
        DataLoader(iter(range(3)))


# -------------------------------------------------------------- random_split


def test_random_split_sizes_disjoint_and_complete():
    data = make_data(10)
    parts = random_split(data, [5, 3, 2], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [5, 3, 2]
    indices = np.concatenate([p.indices for p in parts])
    assert sorted(indices.tolist()) == list(range(10))
    assert [p[0][1].item() for p in parts] == [int(p.indices[0]) for p in parts]


@pytest.mark.parametrize("n, fractions", [
    (10, [0.8, 0.2]), (7, [0.5, 0.5]), (10, [1 / 3, 1 / 3, 1 / 3]), (5, [0.1, 0.1, 0.8]),
    (3, [0.25, 0.25, 0.25, 0.25]),
])
def test_random_split_fractions_give_torchs_sizes(n, fractions):
    ours = random_split(make_data(n), fractions, generator=np.random.default_rng(0))
    with pytest.warns(UserWarning) if n * min(fractions) < 1 else _no_warning():
        theirs = torch_data.random_split(range(n), fractions)
    assert [len(p) for p in ours] == [len(p) for p in theirs]


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_random_split_is_deterministic():
    data = make_data(20)
    a = random_split(data, [0.5, 0.5], generator=np.random.default_rng(5))
    b = random_split(data, [0.5, 0.5], generator=np.random.default_rng(5))
    c = random_split(data, [0.5, 0.5], generator=np.random.default_rng(6))
    assert a[0].indices.tolist() == b[0].indices.tolist() != c[0].indices.tolist()
    cr.manual_seed(1)
    d = random_split(data, [10, 10])
    cr.manual_seed(1)
    assert random_split(data, [10, 10])[1].indices.tolist() == d[1].indices.tolist()


def test_random_split_errors():
    data = make_data(10)
    with pytest.raises(ValueError, match=r"lengths \[5, 4\] add up to 9, but the dataset has 10"):
        random_split(data, [5, 4])
    with pytest.raises(ValueError, match=r"fractions \[0.5, 0.6\] add up to 1.1"):
        random_split(data, [0.5, 0.6])
    with pytest.raises(ValueError, match="must not be negative"):
        random_split(data, [12, -2])
    with pytest.raises(ValueError, match="lengths is empty"):
        random_split(data, [])


# ------------------------------------------------------- built-in datasets


SYNTHETIC = {
    "xor": lambda seed: datasets.xor(),
    "moons": lambda seed: datasets.moons(n_samples=101, seed=seed),
    "circles": lambda seed: datasets.circles(n_samples=101, seed=seed),
    "spirals": lambda seed: datasets.spirals(n_samples=301, n_classes=3, seed=seed),
}


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_shapes_dtypes_and_balance(name):
    features, labels = SYNTHETIC[name](0).tensors
    n = len(labels)
    assert features.shape == (n, 2) and features.dtype == np.float32
    assert labels.shape == (n,) and labels.dtype == np.int64
    counts = np.bincount(labels.data)
    assert counts.max() - counts.min() <= 1 and len(counts) >= 2
    assert np.isfinite(features.data).all()


@pytest.mark.parametrize("name", ["moons", "circles", "spirals"])
def test_synthetic_determinism_by_seed(name):
    a, b, c = SYNTHETIC[name](0), SYNTHETIC[name](0), SYNTHETIC[name](1)
    assert np.array_equal(a.tensors[0].data, b.tensors[0].data)
    assert np.array_equal(a.tensors[1].data, b.tensors[1].data)
    assert not np.array_equal(a.tensors[0].data, c.tensors[0].data)
    assert not np.array_equal(a.tensors[1].data[:20], np.sort(a.tensors[1].data[:20]))  # shuffled


def test_xor_truth_table():
    features, labels = datasets.xor().tensors
    assert features.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and labels.tolist() == [0, 1, 1, 0]


def test_moons_geometry():
    features, labels = datasets.moons(n_samples=200, noise=0.0).tensors
    x, y = features.data[:, 0].astype(np.float64), features.data[:, 1].astype(np.float64)
    outer, inner = labels.data == 0, labels.data == 1
    assert np.allclose(np.hypot(x[outer], y[outer]), 1, atol=1e-6) and (y[outer] >= -1e-6).all()
    assert np.allclose(np.hypot(x[inner] - 1, y[inner] - 0.5), 1, atol=1e-6)
    assert (y[inner] <= 0.5 + 1e-6).all()
    noisy, _ = datasets.moons(n_samples=200, noise=0.1).tensors
    spread = np.abs(noisy.data - features.data)  # same seed: same shuffle, plus the noise
    assert 0.05 < spread.std() < 0.15


def test_moons_agree_with_sklearn():
    from sklearn.datasets import make_moons

    ours, labels = datasets.moons(n_samples=50, noise=0.0).tensors
    theirs, their_labels = make_moons(n_samples=50, noise=0.0, shuffle=False)
    order = np.lexsort(ours.data.round(5).T)
    their_order = np.lexsort(theirs.round(5).T)
    assert np.allclose(ours.data[order], theirs[their_order], atol=1e-6)
    assert labels.data[order].tolist() == their_labels[their_order].tolist()


def test_circles_geometry():
    features, labels = datasets.circles(n_samples=400, noise=0.0, factor=0.3).tensors
    radius = np.hypot(*features.data.T.astype(np.float64))
    assert np.allclose(radius[labels.data == 0], 1, atol=1e-6)
    assert np.allclose(radius[labels.data == 1], 0.3, atol=1e-6)
    noisy, noisy_labels = datasets.circles(n_samples=400, noise=0.05, factor=0.5).tensors
    noisy_radius = np.hypot(*noisy.data.T)
    assert abs(noisy_radius[noisy_labels.data == 0].mean() - 1) < 0.02
    assert abs(noisy_radius[noisy_labels.data == 1].mean() - 0.5) < 0.02


def test_spirals_geometry():
    features, labels = datasets.spirals(n_samples=300, n_classes=4, noise=0.2).tensors
    radius = np.hypot(*features.data.T)
    assert radius.max() <= 1 + 1e-6 and radius.max() > 0.99
    assert np.bincount(labels.data).tolist() == [75, 75, 75, 75]


def test_synthetic_argument_errors():
    with pytest.raises(ValueError, match=r"circles: factor .* must be in \[0, 1\), got 1.5"):
        datasets.circles(factor=1.5)
    with pytest.raises(ValueError, match="moons: n_samples must be a positive int, got 0"):
        datasets.moons(n_samples=0)
    with pytest.raises(ValueError, match="spirals: noise is a standard deviation"):
        datasets.spirals(noise=-1)


def test_digits_splits():
    everything = datasets.digits("all")
    train, test = datasets.digits("train"), datasets.digits("test")
    features, labels = everything.tensors
    assert features.shape == (1797, 64) and features.dtype == np.float32
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert features.data.min() == 0 and features.data.max() == 1
    assert len(train) + len(test) == 1797 and abs(len(test) - 0.2 * 1797) <= 5
    test_counts, all_counts = np.bincount(test.tensors[1].data), np.bincount(labels.data)
    assert np.all(np.abs(test_counts - 0.2 * all_counts) <= 0.5)  # stratified
    rows = {row.tobytes() + bytes([label]) for row, label in
            zip(features.data, labels.data)}
    split_rows = [row.tobytes() + bytes([label]) for part in (train, test)
                  for row, label in zip(part.tensors[0].data, part.tensors[1].data)]
    assert set(split_rows) == rows  # train and test together are the whole set
    again = datasets.digits("test")
    assert np.array_equal(again.tensors[0].data, test.tensors[0].data)
    other = datasets.digits("test", seed=1)
    assert not np.array_equal(other.tensors[0].data, test.tensors[0].data)
    assert len(datasets.digits("test", test_fraction=0.5)) in range(890, 910)


def test_digits_argument_errors():
    with pytest.raises(ValueError, match='split must be "train", "test" or "all", got \'val\''):
        datasets.digits("val")
    with pytest.raises(ValueError, match="test_fraction must be between 0 and 1, got 1"):
        datasets.digits(test_fraction=1)


def test_digits_without_scikit_learn_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def import_without_sklearn(name, *args, **kwargs):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", import_without_sklearn)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[data\]" \(or pip install '
                                          r'scikit-learn\)'):
        datasets.digits()
