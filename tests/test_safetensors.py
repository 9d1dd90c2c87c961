"""chainrule.safetensors: weights move torch -> safetensors -> chainrule -> safetensors -> torch.

The reference is the ``safetensors`` package itself (a test dependency
only): files it writes load here, files written here load there, and the
bytes written are the bytes it writes. Malformed files raise errors that say
what is wrong; safetensors refuses each of them too.
"""

import json
import os
import re
import struct

import numpy as np
import pytest
import safetensors.numpy as st_numpy
import safetensors.torch as st_torch
import torch

import chainrule as cr
from chainrule import nn
from chainrule import safetensors as st
from chainrule.safetensors import SafetensorError


def torch_net():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 8), torch.nn.LayerNorm(8),
        torch.nn.Tanh(), torch.nn.Linear(8, 3))


def chainrule_net():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
        nn.Linear(4 * 6 * 6, 8), nn.LayerNorm(8), nn.Tanh(), nn.Linear(8, 3))


def test_a_pytorch_model_round_trips_through_chainrule(tmp_path):
    theirs = torch_net().eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # every parameter and buffer random, so none loads by accident
        for tensor in theirs.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:
                tensor.fill_(5)  # num_batches_tracked
    x = torch.rand(2, 1, 6, 6, generator=generator)

    st_torch.save_file(theirs.state_dict(), tmp_path / "torch.safetensors")
    ours = chainrule_net().eval()
    ours.load_state_dict(st.load_file(tmp_path / "torch.safetensors"))
    np.testing.assert_allclose(ours(cr.from_numpy(x.numpy())).data, theirs(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)

    st.save_file(ours.state_dict(), tmp_path / "chainrule.safetensors")
    back = torch_net().eval()
    back.load_state_dict(st_torch.load_file(tmp_path / "chainrule.safetensors"))
    for name, tensor in theirs.state_dict().items():
        assert torch.equal(back.state_dict()[name], tensor), name
    assert torch.equal(back(x), theirs(x))


def test_load_file_gives_a_state_dict_in_file_order_and_load_sorted():
    tensors = {"z": torch.zeros(2), "a": torch.ones(3, dtype=torch.float16),
               "m": torch.ones(1, dtype=torch.int64)}
    data = st_torch.save(tensors)
    assert list(st.load(data)) == ["a", "m", "z"]  # safetensors' own order is a hash map's
    assert set(st_torch.load(data)) == {"a", "m", "z"}


def test_file_order_matches_safetensors(tmp_path):
    path = tmp_path / "t.safetensors"
    st_torch.save_file({"z": torch.zeros(2), "a": torch.ones(3, dtype=torch.float16),
                        "m": torch.ones(1, dtype=torch.int64)}, path)
    assert list(st.load_file(path)) == list(st_torch.load_file(path)) == ["m", "z", "a"]


# ------------------------------------------------------------------- dtypes

NUMPY_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
                np.uint8, np.bool_, np.uint16, np.uint32, np.uint64]


@pytest.mark.parametrize("dtype", NUMPY_DTYPES, ids=lambda dtype: np.dtype(dtype).name)
def test_every_dtype_both_ways(dtype):
    source = (np.arange(-6, 6).reshape(3, 4) * 7 % 11).astype(dtype)
    ours = st.load(st_torch.save({"x": torch.from_numpy(source)}))["x"]
    assert ours.dtype == source.dtype
    np.testing.assert_array_equal(ours.array, source)
    back = st_torch.load(st.save({"x": ours}))["x"]
    assert back.dtype == torch.from_numpy(source).dtype
    np.testing.assert_array_equal(back.numpy(), source)


def test_bfloat16_is_read_as_the_same_float32_values_and_loads_back_into_bfloat16():
    source = torch.randn(5, 3, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
    ours = st.load(st_torch.save({"w": source}))["w"]
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours.array, source.float().numpy())
    model = torch.nn.Linear(3, 5, bias=False).to(torch.bfloat16)
    model.load_state_dict({"weight": st_torch.load(st.save({"w": ours}))["w"]})
    assert model.weight.dtype == torch.bfloat16 and torch.equal(model.weight, source)


def test_float8_is_refused_with_the_way_out():
    data = st_torch.save({"w": torch.zeros(2, dtype=torch.float8_e4m3fn)})
    with pytest.raises(SafetensorError, match=r"tensor 'w' has dtype F8_E4M3, which numpy .*"
                                              r"has no type for; convert it to float32"):
        st.load(data)


def test_scalars_empty_and_non_contiguous_tensors():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    tensors = {"scalar": cr.tensor(2.5), "empty": cr.zeros(0, 3), "transposed": base.T,
               "strided": cr.from_numpy(base.copy()[:, ::-2])}
    back = st_torch.load(st.save(tensors))
    assert back["scalar"].shape == () and back["scalar"].item() == 2.5
    assert back["empty"].shape == (0, 3)
    np.testing.assert_array_equal(back["transposed"].numpy(), base.T)  # a contiguous copy
    np.testing.assert_array_equal(back["strided"].numpy(), base[:, ::-2])


def test_the_bytes_are_the_bytes_safetensors_writes():
    rng = np.random.default_rng(0)
    arrays = {f"t{i}": (rng.standard_normal((2, 3)) * 9).astype(dtype) for i, dtype in enumerate(
        [np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8,
         np.uint16, np.uint32, np.uint64, np.bool_, np.complex64])}
    arrays.update(empty=np.zeros((0, 4), np.float32), scalar=np.array(3.5), zeta=np.ones(1))
    for metadata in (None, {"format": "pt"}):
        assert st.save(arrays, metadata=metadata) == st_numpy.save(arrays, metadata=metadata)
    assert st.save({}) == st_numpy.save({})


def test_tensors_sharing_memory_are_refused_as_safetensors_torch_does():
    weight = cr.randn(4, 3)
    with pytest.raises(RuntimeError, match=r"share memory.*\[\['decoder', 'encoder'\]\].*"
                                           r"save_model"):
        st.save({"encoder": weight, "decoder": weight.detach()})
    base = np.arange(8.0)
    with pytest.raises(RuntimeError, match=r"\[\['a', 'b'\]\]"):
        st.save({"a": base[:5], "b": base[3:]})
    halves = st.load(st.save({"a": base[:4], "b": base[4:]}))  # disjoint views: allowed
    np.testing.assert_array_equal(halves["b"].array, [4.0, 5.0, 6.0, 7.0])


def test_what_save_refuses():
    with pytest.raises(SafetensorError, match="expected a dict of str to Tensor .* list"):
        st.save([cr.ones(2)])
    with pytest.raises(SafetensorError, match="the value for 'w' is a list; safetensors holds"):
        st.save({"w": [1.0, 2.0]})
    with pytest.raises(TypeError, match="tensor names must be str; 1 is a int"):
        st.save({1: cr.ones(2)})
    with pytest.raises(SafetensorError, match="'__metadata__' is the header's metadata entry"):
        st.save({"__metadata__": cr.ones(2)})
    with pytest.raises(SafetensorError, match="tensor 'c' has dtype complex128, which "
                                              "safetensors cannot hold"):
        st.save({"c": np.ones(2, dtype=np.complex128)})
    with pytest.raises(TypeError, match=r"metadata must be a dict of str to str, not \{'a': 1\}"):
        st.save({"w": cr.ones(2)}, metadata={"a": 1})


def test_save_file_writes_atomically_and_keeps_metadata(tmp_path):
    path = tmp_path / "m.safetensors"
    st.save_file({"w": cr.ones(2)}, path, metadata={"format": "pt", "note": "ü"})
    assert os.listdir(tmp_path) == ["m.safetensors"]
    with st.safe_open(path, framework="pt") as file:
        assert file.metadata() == {"format": "pt", "note": "ü"}
    with pytest.raises(TypeError):
        st.save_file({"w": cr.ones(2)}, path, metadata={"a": 1})
    assert os.listdir(tmp_path) == ["m.safetensors"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        st.save_file({"w": cr.ones(2)}, tmp_path / "missing" / "m.safetensors")


def test_safe_open_reads_only_what_is_asked(tmp_path):
    path = tmp_path / "t.safetensors"
    st_torch.save_file({"b": torch.ones(2, 2), "a": torch.arange(3)}, path)
    with st.safe_open(path, framework="pt", device="cpu") as file:
        assert file.keys() == ["a", "b"] and file.metadata() is None
        assert isinstance(file.get_tensor("b"), cr.Tensor)
        with pytest.raises(SafetensorError, match="has no tensor 'c'"):
            file.get_tensor("c")
    with st.safe_open(path, framework="np") as file:
        assert isinstance(file.get_tensor("a"), np.ndarray)
    with pytest.raises(ValueError, match="framework 'tf' is not supported"):
        st.safe_open(path, framework="tf")
    with pytest.raises(RuntimeError, match="no cuda backend installed"):
        st.load_file(path, device="cuda")
    with pytest.raises(FileNotFoundError, match="no safetensors file at"):
        st.load_file(tmp_path / "none.safetensors")


# ---------------------------------------------------- tied weights: save_model


class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight


class TorchTiedLM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 4)
        self.head = torch.nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight


def test_tied_weights_move_with_save_model_and_load_model(tmp_path):
    torch.manual_seed(0)
    theirs = TorchTiedLM()
    st_torch.save_model(theirs, tmp_path / "torch.safetensors")
    ours = TiedLM()
    assert st.load_model(ours, tmp_path / "torch.safetensors") == ([], [])
    np.testing.assert_array_equal(ours.head.weight.array, theirs.embed.weight.detach().numpy())
    assert ours.head.weight is ours.embed.weight

    with pytest.raises(RuntimeError, match="share memory"):
        st.save_file(ours.state_dict(), tmp_path / "x.safetensors")
    st.save_model(ours, tmp_path / "ours.safetensors")
    with st.safe_open(tmp_path / "ours.safetensors", "pt") as file:
        assert file.keys() == ["embed.weight"]
        assert file.metadata() == {"head.weight": "embed.weight"}
    back = TorchTiedLM()
    missing, unexpected = st_torch.load_model(back, tmp_path / "ours.safetensors")
    assert not missing and not unexpected
    assert torch.equal(back.head.weight, theirs.embed.weight)


def test_load_model_reports_missing_and_unexpected_names(tmp_path):
    st.save_file({"weight": cr.ones(3, 2), "extra": cr.ones(1)}, tmp_path / "m.safetensors")
    with pytest.raises(RuntimeError, match=r"Missing key\(s\) in state_dict: 'bias'\n.*"
                                           r"Unexpected key\(s\) in state_dict: 'extra'"):
        st.load_model(nn.Linear(2, 3), tmp_path / "m.safetensors")
    model = nn.Linear(2, 3)
    assert st.load_model(model, tmp_path / "m.safetensors", strict=False) == (["bias"], ["extra"])
    np.testing.assert_array_equal(model.weight.array, np.ones((3, 2)))


# ---------------------------------------------------------- malformed files


def raw_file(header, data=b"", length=None):
    text = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(text) if length is None else length) + text + data


F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}

MALFORMED = [
    ("too short", b"\x05\x00\x00", "it is 3 bytes, too short for the 8-byte header length"),
    ("truncated header", raw_file({"w": F32}, length=500),
     r"its header length is 500 bytes but only \d+ follow: the file is truncated"),
    ("header too big", raw_file({"w": F32}, length=200_000_000),
     "its header length is 200000000 bytes, more than the 100000000 safetensors allows"),
    ("offsets past the end", raw_file({"w": F32}, b"\x00" * 4),
     r"tensor 'w' has data_offsets \[0, 8\], past the end of the data \(4 bytes\): "
     "the file is truncated"),
    ("overlapping offsets", raw_file({"a": F32, "b": {**F32, "data_offsets": [4, 12]}},
                                     b"\x00" * 12),
     r"tensor 'b' at data_offsets \[4, 12\] overlaps tensor 'a', which ends at 8"),
    ("a gap", raw_file({"a": F32, "b": {**F32, "data_offsets": [12, 20]}}, b"\x00" * 20),
     r"bytes \[8, 12\) of the data belong to no tensor \(a gap before 'b'\)"),
    ("bytes no tensor covers", raw_file({"w": F32}, b"\x00" * 12),
     "the data is 12 bytes but its tensors cover only 8"),
    ("size disagrees with shape", raw_file({"w": {**F32, "shape": [3]}}, b"\x00" * 8),
     r"tensor 'w' \(F32, shape \[3\]\) needs 12 bytes but its data_offsets \[0, 8\] span 8"),
    ("not JSON", raw_file(b"{not json", b""), "its header is not valid JSON"),
    ("not an object", raw_file([1, 2]), "its header is a JSON list, not an object"),
    ("a name twice", raw_file(b'{"w": %s, "w": %s}' % ((json.dumps(F32).encode(),) * 2),
                              b"\x00" * 8), "the header names 'w' more than once"),
    ("unknown dtype", raw_file({"w": {**F32, "dtype": "F7"}}, b"\x00" * 8),
     "tensor 'w' has dtype 'F7', which safetensors does not define"),
    ("negative shape", raw_file({"w": {**F32, "shape": [-2]}}, b"\x00" * 8),
     r"tensor 'w' has shape \[-2\]; a shape is a list of non-negative ints"),
    ("reversed offsets", raw_file({"w": {**F32, "data_offsets": [8, 0]}}, b"\x00" * 8),
     r"data_offsets \[8, 0\]; they must be \[begin, end\] with 0 <= begin <= end"),
    ("missing field", raw_file({"w": {"dtype": "F32", "shape": [2]}}, b"\x00" * 8),
     "the header entry of tensor 'w' must hold dtype, shape and data_offsets"),
    ("metadata not str", raw_file({"w": F32, "__metadata__": {"a": 1}}, b"\x00" * 8),
     r"its '__metadata__' must map str to str"),
]


@pytest.mark.parametrize("data, message", [case[1:] for case in MALFORMED],
                         ids=[case[0] for case in MALFORMED])
def test_malformed_files_are_refused_with_what_is_wrong(tmp_path, data, message):
    with pytest.raises(SafetensorError, match=message):
        st.load(data)
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(SafetensorError) as error:
        st.load_file(path)
    assert str(error.value).startswith(f"safetensors: '{path}': ")  # names the file
    assert re.search(message, str(error.value))


@pytest.mark.parametrize("data", [case[1] for case in MALFORMED if case[0] != "a name twice"],
                         ids=[case[0] for case in MALFORMED if case[0] != "a name twice"])
def test_safetensors_itself_refuses_the_same_files(data):
    with pytest.raises(Exception):
        st_numpy.load(data)


def test_a_bool_tensor_holding_other_bytes_is_refused():
    data = raw_file({"m": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x07")
    with pytest.raises(SafetensorError, match="tensor 'm' is BOOL but holds bytes other than 0"):
        st.load(data)


def test_trailing_header_spaces_and_leading_ones_are_fine():
    body = raw_file(b'  {"w": %s}   ' % json.dumps(F32).encode(), b"\x00" * 8)
    np.testing.assert_array_equal(st.load(body)["w"].data, [0.0, 0.0])
    assert list(st_numpy.load(body)) == ["w"]


def test_load_wants_bytes():
    with pytest.raises(TypeError, match="for a path, use load_file"):
        st.load("model.safetensors")


def test_tensors_of_another_device_are_written_from_host_copies_and_loaded_onto_device(tmp_path):
    from tests.checking_backend import (DEVICE_TYPE, CheckedArray, checked_tensor, installed,
                                        plain, violations)

    path = tmp_path / "d.safetensors"
    with installed():
        st.save_file({"w": checked_tensor(np.arange(6.0).reshape(2, 3), dtype=np.float32)}, path)
        on_device = st.load_file(path, device=DEVICE_TYPE)
        assert not violations, violations
    assert isinstance(on_device["w"].array, CheckedArray)
    np.testing.assert_array_equal(plain(on_device["w"].array), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(st_numpy.load_file(path)["w"], np.arange(6.0).reshape(2, 3))
