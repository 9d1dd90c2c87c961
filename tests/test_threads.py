"""torch.set_num_threads and its kin on chainrule: the BLAS behind numpy follows them, bad
counts fail as PyTorch's do and change nothing."""

import pytest
import torch
from threadpoolctl import threadpool_info

import chainrule as cr
from chainrule import threads


@pytest.fixture
def restore_threads():
    before = cr.get_num_threads()
    yield
    cr.set_num_threads(before)


def blas_threads():
    return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info()
            if lib["user_api"] == "blas"}


@pytest.mark.parametrize("count", [1, 2, 3])
def test_set_num_threads_limits_every_blas(restore_threads, count):
    cr.set_num_threads(count)
    assert cr.get_num_threads() == count
    assert blas_threads() and set(blas_threads().values()) == {count}


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_bad_thread_counts_fail_as_in_pytorch_and_change_nothing(restore_threads, bad):
    cr.set_num_threads(1)
    with pytest.raises(RuntimeError) as theirs:
        torch.set_num_threads(bad)
    with pytest.raises(type(theirs.value), match="set_num_threads expects") as ours:
        cr.set_num_threads(bad)
    assert repr(bad) in str(ours.value) or str(bad) in str(ours.value)
    assert cr.get_num_threads() == 1 and set(blas_threads().values()) == {1}


def test_interop_threads_are_recorded_once(monkeypatch):
    monkeypatch.setattr(threads, "_interop_threads", None)
    assert cr.get_num_interop_threads() == 1
    with pytest.raises(RuntimeError, match="positive integer, got 0"):
        cr.set_num_interop_threads(0)
    cr.set_num_interop_threads(4)
    assert cr.get_num_interop_threads() == 4
    with pytest.raises(RuntimeError, match="already set to 4; it can be set once"):
        cr.set_num_interop_threads(2)
    assert cr.get_num_interop_threads() == 4


def test_the_return_values_are_pytorchs():
    assert cr.set_num_threads(cr.get_num_threads()) is None
    assert type(cr.get_num_threads()) is int and type(cr.get_num_interop_threads()) is int
