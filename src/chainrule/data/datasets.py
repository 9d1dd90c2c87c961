"""Small built-in datasets for classification, made locally (no network).

Each function returns a ``TensorDataset(features, labels)``: features a
float32 tensor of shape (N, D), labels an int64 tensor of shape (N,). The
synthetic ones are drawn with ``numpy.random.default_rng(seed)``, so a seed
gives the same data everywhere. ``digits`` needs scikit-learn (the optional
``chainrule[data]`` extra) for its bundled copy of the UCI digits.

    >>> from chainrule.data import datasets
    >>> features, labels = datasets.moons(n_samples=10).tensors
    >>> features.shape, features.dtype, labels.shape, labels.dtype
    ((10, 2), dtype('float32'), (10,), dtype('int64'))
"""

import numpy as np

from chainrule.tensor import Tensor
from chainrule.utils.data.dataset import TensorDataset

__all__ = ["xor", "moons", "circles", "spirals", "digits"]


def xor():
    """The four corners of the unit square, labelled by XOR: features (4, 2), labels (4,)."""
    features = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return _dataset(features, np.array([0, 1, 1, 0]))


def moons(n_samples=100, noise=0.1, seed=0):
    """Two interleaving half circles, as scikit-learn's ``make_moons``.

    Class 0 (``n_samples // 2`` points) lies on the upper unit half circle
    ``(cos t, sin t)``, class 1 on ``(1 - cos t, 0.5 - sin t)``, for ``t``
    evenly spaced in [0, pi]; the points are shuffled, then Gaussian noise of
    standard deviation ``noise`` is added. Features (n_samples, 2), labels
    (n_samples,). (The same definition as scikit-learn's, not the same
    random numbers.)
    """
    _check_count(n_samples, "moons", "n_samples")
    _check_noise(noise, "moons")
    n_outer = n_samples // 2
    t_outer = np.linspace(0, np.pi, n_outer)
    t_inner = np.linspace(0, np.pi, n_samples - n_outer)
    features = np.concatenate([
        np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
        np.stack([1 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1),
    ])
    labels = np.repeat([0, 1], [n_outer, n_samples - n_outer])
    return _shuffled_with_noise(features, labels, noise, seed)


def circles(n_samples=100, noise=0.05, factor=0.5, seed=0):
    """A circle inside a circle, as scikit-learn's ``make_circles``.

    Class 0 (``n_samples // 2`` points) is evenly spaced on the unit circle,
    class 1 on a circle of radius ``factor`` (0 <= factor < 1); the points
    are shuffled, then Gaussian noise of standard deviation ``noise`` is
    added. Features (n_samples, 2), labels (n_samples,).
    """
    _check_count(n_samples, "circles", "n_samples")
    _check_noise(noise, "circles")
    if not 0 <= factor < 1:
        raise ValueError(f"circles: factor is the inner circle's radius relative to the outer "
                         f"one and must be in [0, 1), got {factor}")
    n_outer = n_samples // 2
    t_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0, 2 * np.pi, n_samples - n_outer, endpoint=False)
    features = np.concatenate([
        np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
        factor * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1),
    ])
    labels = np.repeat([0, 1], [n_outer, n_samples - n_outer])
    return _shuffled_with_noise(features, labels, noise, seed)


def spirals(n_samples=300, n_classes=3, noise=0.2, seed=0):
    """``n_classes`` spiral arms around the origin, the CS231n toy problem.

    Arm ``k`` holds ``n_samples / n_classes`` points (the first arms one more
    when it does not divide) at radius ``r`` evenly spaced in [0, 1] and angle
    ``4 r + 2 pi k / n_classes + noise * N(0, 1)``: the noise moves points
    along their circle, so every point stays within the unit disc. The points
    are shuffled. Features (n_samples, 2), labels (n_samples,).
    """
    _check_count(n_samples, "spirals", "n_samples")
    _check_count(n_classes, "spirals", "n_classes")
    _check_noise(noise, "spirals")
    rng = np.random.default_rng(seed)
    sizes = [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]
    radius = np.concatenate([np.linspace(0, 1, size) for size in sizes])
    labels = np.repeat(np.arange(n_classes), sizes)
    angle = 4 * radius + 2 * np.pi * labels / n_classes + noise * rng.standard_normal(n_samples)
    features = radius[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    order = rng.permutation(n_samples)
    return _dataset(features[order], labels[order])


def digits(split="train", test_fraction=0.2, seed=0):
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, classes 0-9).

    Features (N, 64): the pixels in row order, scaled from 0..16 to [0, 1];
    labels (N,). ``split`` is ``"train"``, ``"test"`` or ``"all"``; the split
    is stratified: from each class, ``round(test_fraction * class size)``
    images chosen with ``default_rng(seed)`` go to the test set, so train and
    test are disjoint, cover all 1,797 images and keep the class balance.
    Both keep the original order. Reads the copy installed with
    scikit-learn; never downloads.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f'digits: split must be "train", "test" or "all", got {split!r}')
    if not 0 < test_fraction < 1:
        raise ValueError(f"digits: test_fraction must be between 0 and 1, got {test_fraction}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(
            "digits: needs scikit-learn, which ships the digits images; install the optional "
            'extra with pip install "chainrule[data]" (or pip install scikit-learn)'
        ) from error
    bunch = load_digits()
    features, labels = bunch.data / 16.0, bunch.target
    if split == "all":
        return _dataset(features, labels)
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        is_test[members[:round(test_fraction * len(members))]] = True
    chosen = is_test if split == "test" else ~is_test
    return _dataset(features[chosen], labels[chosen])


def _shuffled_with_noise(features, labels, noise, seed):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    features = features[order] + noise * rng.standard_normal(features.shape)
    return _dataset(features, labels[order])


def _dataset(features, labels):
    features = np.ascontiguousarray(features, dtype=np.float32)
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    return TensorDataset(Tensor._make(features, False, None), Tensor._make(labels, False, None))


def _check_count(n, op, name):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {n!r}")


def _check_noise(noise, op):
    if not noise >= 0:
        raise ValueError(f"{op}: noise is a standard deviation and must be >= 0, got {noise}")
