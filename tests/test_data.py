"""chainrule.data: the built-in datasets (xor, moons, circles, spirals, digits).

The data utilities (Dataset, DataLoader, samplers, random_split,
default_collate) are chainrule.utils.data's, tested against torch in
tests/test_utils_data.py.
"""

import builtins

import numpy as np
import pytest

from chainrule.data import datasets


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
    counts = np.bincount(labels.array)
    assert counts.max() - counts.min() <= 1 and len(counts) >= 2
    assert np.isfinite(features.array).all()


@pytest.mark.parametrize("name", ["moons", "circles", "spirals"])
def test_synthetic_determinism_by_seed(name):
    a, b, c = SYNTHETIC[name](0), SYNTHETIC[name](0), SYNTHETIC[name](1)
    assert np.array_equal(a.tensors[0].array, b.tensors[0].array)
    assert np.array_equal(a.tensors[1].array, b.tensors[1].array)
    assert not np.array_equal(a.tensors[0].array, c.tensors[0].array)
    assert not np.array_equal(a.tensors[1].array[:20], np.sort(a.tensors[1].array[:20]))  # shuffled


def test_xor_truth_table():
    features, labels = datasets.xor().tensors
    assert features.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and labels.tolist() == [0, 1, 1, 0]


def test_moons_geometry():
    features, labels = datasets.moons(n_samples=200, noise=0.0).tensors
    x, y = features.array[:, 0].astype(np.float64), features.array[:, 1].astype(np.float64)
    outer, inner = labels.array == 0, labels.array == 1
    assert np.allclose(np.hypot(x[outer], y[outer]), 1, atol=1e-6) and (y[outer] >= -1e-6).all()
    assert np.allclose(np.hypot(x[inner] - 1, y[inner] - 0.5), 1, atol=1e-6)
    assert (y[inner] <= 0.5 + 1e-6).all()
    noisy, _ = datasets.moons(n_samples=200, noise=0.1).tensors
    spread = np.abs(noisy.array - features.array)  # same seed: same shuffle, plus the noise
    assert 0.05 < spread.std() < 0.15


def test_moons_agree_with_sklearn():
    from sklearn.datasets import make_moons

    ours, labels = datasets.moons(n_samples=50, noise=0.0).tensors
    theirs, their_labels = make_moons(n_samples=50, noise=0.0, shuffle=False)
    order = np.lexsort(ours.array.round(5).T)
    their_order = np.lexsort(theirs.round(5).T)
    assert np.allclose(ours.array[order], theirs[their_order], atol=1e-6)
    assert labels.array[order].tolist() == their_labels[their_order].tolist()


def test_circles_geometry():
    features, labels = datasets.circles(n_samples=400, noise=0.0, factor=0.3).tensors
    radius = np.hypot(*features.array.T.astype(np.float64))
    assert np.allclose(radius[labels.array == 0], 1, atol=1e-6)
    assert np.allclose(radius[labels.array == 1], 0.3, atol=1e-6)
    noisy, noisy_labels = datasets.circles(n_samples=400, noise=0.05, factor=0.5).tensors
    noisy_radius = np.hypot(*noisy.array.T)
    assert abs(noisy_radius[noisy_labels.array == 0].mean() - 1) < 0.02
    assert abs(noisy_radius[noisy_labels.array == 1].mean() - 0.5) < 0.02


def test_spirals_geometry():
    features, labels = datasets.spirals(n_samples=300, n_classes=4, noise=0.2).tensors
    radius = np.hypot(*features.array.T)
    assert radius.max() <= 1 + 1e-6 and radius.max() > 0.99
    assert np.bincount(labels.array).tolist() == [75, 75, 75, 75]


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
    assert features.array.min() == 0 and features.array.max() == 1
    assert len(train) + len(test) == 1797 and abs(len(test) - 0.2 * 1797) <= 5
    test_counts, all_counts = np.bincount(test.tensors[1].array), np.bincount(labels.array)
    assert np.all(np.abs(test_counts - 0.2 * all_counts) <= 0.5)  # stratified
    rows = {row.tobytes() + bytes([label]) for row, label in
            zip(features.array, labels.array)}
    split_rows = [row.tobytes() + bytes([label]) for part in (train, test)
                  for row, label in zip(part.tensors[0].array, part.tensors[1].array)]
    assert set(split_rows) == rows  # train and test together are the whole set
    again = datasets.digits("test")
    assert np.array_equal(again.tensors[0].array, test.tensors[0].array)
    other = datasets.digits("test", seed=1)
    assert not np.array_equal(other.tensors[0].array, test.tensors[0].array)
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
