"""chainrule.utils.data against torch.utils.data: samplers, shuffling and random_split.

Index sets, lengths, permutation and replacement properties, weight
distributions (moments), drop_last, random_split sizes from fractions, the
same argument errors as torch, and reproducibility from a seeded chainrule
Generator. Orders are not compared number for number with torch's:
chainrule draws them from its own generator.
"""

import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as td

import chainrule as cr
import chainrule.utils.data as cd
from tests.data_twins import assert_same_error, twins


# ------------------------------------------------------------ samplers


def test_sequential_and_batch_samplers_match_torch():
    assert list(cd.SequentialSampler(range(5))) == list(td.SequentialSampler(range(5)))
    assert len(cd.SequentialSampler(range(5))) == 5
    for n, size, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 4, True), (0, 2, False)]:
        ours = cd.BatchSampler(cd.SequentialSampler(range(n)), size, drop)
        theirs = td.BatchSampler(td.SequentialSampler(range(n)), size, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_random_sampler_is_a_fresh_permutation_each_pass():
    sampler = cd.RandomSampler(range(20), generator=cr.Generator().manual_seed(0))
    passes = [list(sampler) for _ in range(3)]
    assert len(sampler) == len(td.RandomSampler(range(20))) == 20
    for order in passes:
        assert sorted(order) == list(range(20)) and all(type(i) is int for i in order)
    assert passes[0] != passes[1] != passes[2]


@pytest.mark.parametrize("n, num_samples", [(5, 12), (5, 3), (4, 8)])
def test_random_sampler_with_num_samples_chains_permutations(n, num_samples):
    order = list(cd.RandomSampler(range(n), num_samples=num_samples,
                                  generator=cr.Generator().manual_seed(1)))
    assert len(order) == len(list(td.RandomSampler(range(n), num_samples=num_samples)))
    for start in range(0, num_samples - num_samples % n, n):  # each whole block a permutation
        assert sorted(order[start:start + n]) == list(range(n))
    tail = order[num_samples - num_samples % n:]
    assert len(set(tail)) == len(tail)


def test_random_sampler_with_replacement_draws_uniformly():
    sampler = cd.RandomSampler(range(4), replacement=True, num_samples=40_000,
                               generator=cr.Generator().manual_seed(2))
    draws = np.array(list(sampler))
    assert len(draws) == len(sampler) == 40_000 and set(draws.tolist()) == {0, 1, 2, 3}
    np.testing.assert_allclose(np.bincount(draws) / 40_000, 0.25, atol=0.01)
    assert len(list(cd.RandomSampler(range(3), replacement=True, num_samples=70))) == 70
    many = list(cd.RandomSampler(range(3), replacement=True, num_samples=300,
                                 generator=cr.Generator().manual_seed(0)))
    assert any(many.count(i) > 100 for i in range(3))  # repeats beyond a permutation


def test_subset_random_sampler_permutes_its_indices():
    indices = [10, 3, 7, 42]
    sampler = cd.SubsetRandomSampler(indices, generator=cr.Generator().manual_seed(0))
    passes = [list(sampler) for _ in range(4)]
    assert len(sampler) == len(td.SubsetRandomSampler(indices)) == 4
    assert all(sorted(order) == sorted(indices) for order in passes)
    assert len({tuple(order) for order in passes}) > 1


def test_weighted_sampler_with_replacement_follows_the_weights():
    weights = [1.0, 2.0, 3.0, 4.0, 0.0]
    ours = np.array(list(cd.WeightedRandomSampler(weights, 50_000,
                                                  generator=cr.Generator().manual_seed(0))))
    theirs = np.array(list(td.WeightedRandomSampler(weights, 50_000,
                                                    generator=torch.Generator().manual_seed(0))))
    expected = np.array(weights) / sum(weights)
    for draws in (ours, theirs):
        frequencies = np.bincount(draws, minlength=5) / len(draws)
        np.testing.assert_allclose(frequencies, expected, atol=0.01)
        assert abs(draws.mean() - expected @ np.arange(5)) < 0.02  # first moment
        assert abs(draws.var() - (expected @ np.arange(5) ** 2 - (expected @ np.arange(5)) ** 2)) < 0.03
    sampler = cd.WeightedRandomSampler(np.array(weights), 7)
    assert len(sampler) == 7 and sampler.weights.dtype == np.float64
    assert str(td.WeightedRandomSampler(weights, 7).weights.dtype) == "torch.float64"


def test_weighted_sampler_without_replacement_draws_successively():
    weights = [1.0, 2.0, 3.0, 4.0]
    g = cr.Generator().manual_seed(0)
    sampler = cd.WeightedRandomSampler(weights, 4, replacement=False, generator=g)
    orders = np.array([list(sampler) for _ in range(20_000)])
    assert all(sorted(order) == [0, 1, 2, 3] for order in orders[:100])
    first = np.bincount(orders[:, 0], minlength=4) / len(orders)
    np.testing.assert_allclose(first, np.array(weights) / 10, atol=0.015)  # the first draw ~ w
    # the second draw given first == 3: ~ w[:3] / 6
    second = np.bincount(orders[orders[:, 0] == 3][:, 1], minlength=4)
    np.testing.assert_allclose(second[:3] / second.sum(), [1 / 6, 2 / 6, 3 / 6], atol=0.03)
    # past the positive weights come the zero-weight indices, highest first, as torch's
    for module, g in ((cd, cr.Generator()), (td, torch.Generator())):
        orders = {tuple(module.WeightedRandomSampler([1.0, 0.0, 0.0, 1.0], 4, replacement=False,
                                                     generator=g)) for _ in range(50)}
        assert orders == {(0, 3, 2, 1), (3, 0, 2, 1)}
    assert_same_error(lambda m: list(m.WeightedRandomSampler([1.0, 1.0], 3, replacement=False)))


SAMPLER_ERRORS = [
    lambda m: m.RandomSampler(range(3), replacement="yes"),
    lambda m: m.RandomSampler(range(3), num_samples=0),
    lambda m: m.RandomSampler([], replacement=False),
    lambda m: m.RandomSampler(range(3), num_samples=2.5),
    lambda m: m.WeightedRandomSampler([1.0, 2.0], 0),
    lambda m: m.WeightedRandomSampler([1.0, 2.0], True),
    lambda m: m.WeightedRandomSampler([1.0, 2.0], 2, replacement=1),
    lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2),
    lambda m: m.BatchSampler(range(3), 0, False),
    lambda m: m.BatchSampler(range(3), 2.0, False),
    lambda m: m.BatchSampler(range(3), 2, drop_last=None),
]


@pytest.mark.parametrize("call", SAMPLER_ERRORS)
def test_sampler_errors_as_torch(call):
    assert_same_error(call)


def test_weighted_sampler_refuses_bad_weights():
    for weights in ([1.0, -1.0], [1.0, float("nan")], [0.0, 0.0]):
        with pytest.raises(RuntimeError, match="WeightedRandomSampler: .*(element < 0|sum of)"):
            list(cd.WeightedRandomSampler(weights, 2))
        with pytest.raises(RuntimeError):
            list(td.WeightedRandomSampler(weights, 2))


def test_sampler_subclass_and_generator_errors():
    class Evens(cd.Sampler[int]):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

    ours, _ = twins(6)
    assert [y.tolist() for _, y in cd.DataLoader(ours, sampler=Evens(6), batch_size=2)] == [
        [ours[0][1].item(), ours[2][1].item()], [ours[4][1].item()]]
    with pytest.raises(TypeError):
        len(Evens(6))  # no default __len__, as torch's Sampler
    with pytest.raises(NotImplementedError, match="must define __iter__"):
        iter(cd.Sampler())
    with pytest.raises(TypeError, match="RandomSampler: generator must be a chainrule.Generator"):
        cd.RandomSampler(range(3), generator=42)
    with pytest.raises(TypeError, match="DataLoader: generator must be a chainrule.Generator"):
        cd.DataLoader(range(3), shuffle=True, generator=torch.Generator())


# ------------------------------------------------------------ shuffling and reproducibility


def labels_in(loader):
    return sum((y.tolist() for _, y in loader), [])


def test_shuffle_is_a_new_permutation_each_epoch_fixed_by_the_generator():
    ours, _ = twins(20)

    def epochs(seed, n=3):
        loader = cd.DataLoader(ours, batch_size=6, shuffle=True,
                               generator=cr.Generator().manual_seed(seed))
        return [labels_in(loader) for _ in range(n)]

    first = epochs(3)
    assert first == epochs(3)
    assert first != epochs(4)
    assert first[0] != first[1] != first[2]
    everything = sorted(labels_in(cd.DataLoader(ours, batch_size=6)))
    assert all(sorted(order) == everything for order in first)
    assert [len(y) for _, y in cd.DataLoader(ours, batch_size=6, shuffle=True)] == [6, 6, 6, 2]


def test_shuffle_without_a_generator_follows_manual_seed():
    ours, _ = twins(16)
    loader = cd.DataLoader(ours, batch_size=4, shuffle=True)  # made before the seed
    cr.manual_seed(7)
    first, second = labels_in(loader), labels_in(loader)
    assert first != second  # each pass draws a new seed from the global generator
    cr.manual_seed(7)
    assert [labels_in(loader), labels_in(loader)] == [first, second]
    cr.manual_seed(8)
    assert labels_in(loader) != first


def test_generator_state_saved_and_restored_repeats_an_epoch():
    ours, _ = twins(12)
    g = cr.Generator().manual_seed(5)
    loader = cd.DataLoader(ours, batch_size=5, shuffle=True, generator=g)
    state = g.get_state()
    first = labels_in(loader)
    g.set_state(state)
    assert labels_in(loader) == first
    g.manual_seed(5)  # reseeding the same object in place restarts the stream
    assert labels_in(loader) == first


def test_shuffled_subset_and_samplers_follow_the_generator():
    ours, _ = twins(10)
    train, _ = cd.random_split(ours, [6, 4], generator=cr.Generator().manual_seed(1))
    loader = cd.DataLoader(train, batch_size=4, shuffle=True, generator=cr.Generator())
    assert sorted(labels_in(loader)) == sorted(ours[i][1].item() for i in train.indices)
    for make in (lambda g: cd.RandomSampler(range(30), generator=g),
                 lambda g: cd.RandomSampler(range(30), replacement=True, generator=g),
                 lambda g: cd.SubsetRandomSampler(list(range(30)), generator=g),
                 lambda g: cd.WeightedRandomSampler(np.arange(1.0, 31), 30, generator=g)):
        a = list(make(cr.Generator().manual_seed(9)))
        assert a == list(make(cr.Generator().manual_seed(9)))
        assert a != list(make(cr.Generator().manual_seed(10)))


# ------------------------------------------------------------ random_split and Subset


@pytest.mark.parametrize("n, lengths", [
    (10, [0.8, 0.2]), (7, [0.5, 0.5]), (10, [1 / 3, 1 / 3, 1 / 3]), (5, [0.1, 0.1, 0.8]),
    (3, [0.25, 0.25, 0.25, 0.25]), (10, [3, 7]), (10, [10]), (1, [1]), (5, [1]), (4, [0, 1]),
    (11, [0.7, 0.2, 0.1]),
])
def test_random_split_sizes_match_torch(n, lengths):
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours = cd.random_split(range(n), lengths, generator=cr.Generator().manual_seed(0))
    with warnings.catch_warnings(record=True) as torch_warned:
        warnings.simplefilter("always")
        theirs = td.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in ours] == [len(p) for p in theirs]
    assert [str(w.message) for w in ours_warned] == [str(w.message) for w in torch_warned]
    assert all(type(p.indices) is list for p in ours)
    everything = sum((list(p.indices) for p in ours), [])
    assert sorted(everything) == list(range(n))  # disjoint and complete
    assert [[p[i] for i in range(len(p))] for p in ours] == [p.indices for p in ours]


def test_random_split_is_reproducible_with_a_generator_and_the_global_seed():
    a = cd.random_split(range(20), [0.5, 0.5], generator=cr.Generator().manual_seed(5))
    b = cd.random_split(range(20), [0.5, 0.5], generator=cr.Generator().manual_seed(5))
    c = cd.random_split(range(20), [0.5, 0.5], generator=cr.Generator().manual_seed(6))
    assert a[0].indices == b[0].indices != c[0].indices
    cr.manual_seed(1)
    d = cd.random_split(range(20), [10, 10])
    cr.manual_seed(1)
    assert cd.random_split(range(20), [10, 10])[1].indices == d[1].indices


RANDOM_SPLIT_ERRORS = [
    lambda m: m.random_split(range(10), [5, 4]),
    lambda m: m.random_split(range(10), [0.5, 0.6]),
    lambda m: m.random_split(range(10), [1.2, -0.2]),
]


@pytest.mark.parametrize("call", RANDOM_SPLIT_ERRORS)
def test_random_split_errors_as_torch(call):
    assert_same_error(call)


def test_random_split_errors_name_the_fix():
    with pytest.raises(ValueError, match=r"lengths \[5, 4\] add up to 9, but the dataset has 10"):
        cd.random_split(range(10), [5, 4])
    with pytest.raises(ValueError, match="must not be negative"):
        cd.random_split(range(10), [12, -2])
    with pytest.raises(ValueError, match="lengths is empty"):
        cd.random_split(range(10), [])
    with pytest.raises(TypeError, match="lengths must be ints or fractions, got str"):
        cd.random_split(range(10), ["5", 5])
