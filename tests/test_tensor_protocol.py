"""The Tensor protocol PyTorch programs lean on: __index__, __format__, and Module state."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


def test_an_integer_tensor_indexes_a_sequence_as_torchs_does():
    data = list(range(10))
    i = cr.tensor(3)
    assert data[i:i + 2] == data[torch.tensor(3):torch.tensor(3) + 2] == [3, 4]
    assert range(10)[cr.tensor([7])] == 7


@pytest.mark.parametrize("bad", [cr.tensor(1.0), cr.tensor([1, 2])])
def test_only_a_one_element_integer_tensor_is_an_index(bad):
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [1, 2, 3][bad]


def test_a_0d_tensor_formats_as_its_number():
    loss = cr.tensor(1.234567)
    assert f"{loss:.4f}" == f"{torch.tensor(1.234567):.4f}" == "1.2346"
    assert f"{cr.tensor(7):>3d}" == "  7"
    assert f"{cr.tensor([1.0])}" == str(cr.tensor([1.0]))


def test_a_buffer_stays_a_buffer_when_assigned():
    bn = nn.BatchNorm1d(2)
    bn.running_mean = cr.ones(2)
    assert "running_mean" in dict(bn.named_buffers())
    np.testing.assert_array_equal(bn.state_dict()["running_mean"].data, [1.0, 1.0])


def test_a_parameter_slot_refuses_a_plain_tensor():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        layer.weight = cr.ones(2, 2)
    layer.bias = None
    assert "bias" not in layer.state_dict() and layer.bias is None


def test_non_persistent_buffers_are_not_saved():
    module, reference = nn.Module(), torch.nn.Module()
    for m, lib in ((module, cr), (reference, torch)):
        m.register_buffer("kept", lib.zeros(2))
        m.register_buffer("cache", lib.zeros(2), persistent=False)
    assert list(module.state_dict()) == list(reference.state_dict()) == ["kept"]
    assert [n for n, _ in module.named_buffers()] == ["kept", "cache"]


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(5, 3)
        self.head = nn.Linear(3, 5, bias=False)
        self.head.weight = self.embed.weight


def test_tied_weights_are_saved_under_each_name_and_load_back():
    model = Tied()
    state = model.state_dict()
    assert list(state) == ["embed.weight", "head.weight"]
    assert [n for n, _ in model.named_parameters()] == ["embed.weight"]
    result = Tied().load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []


def test_submodules_parameters_and_buffers_by_path():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert model.get_submodule("1") is model[1]
    assert model.get_parameter("0.weight") is model[0].weight
    assert model.get_buffer("1.running_var") is model[1].running_var
    with pytest.raises(AttributeError, match="has no submodule '2'"):
        model.get_submodule("2.weight")


def test_randperm_is_a_seeded_permutation():
    p = cr.randperm(10, generator=cr.Generator().manual_seed(3))
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(10))
    again = cr.randperm(10, generator=cr.Generator().manual_seed(3))
    assert cr.equal(p, again)
    assert cr.randperm(4, dtype=cr.int32).dtype == np.int32 and cr.randperm(0).shape == (0,)
    with pytest.raises(ValueError, match="randperm: n must be a non-negative int, got -1"):
        cr.randperm(-1)


def test_backends_answer_as_on_a_machine_without_accelerators():
    assert cr.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert cr.backends.cudnn.is_available() is False
    cr.backends.cudnn.benchmark = True  # programs set it; it is accepted
    assert cr.backends.cudnn.benchmark is True
    cr.backends.cudnn.benchmark = False
