"""chainrule.serialization: save/load round trips, atomic writes and refused files."""

import math
import os
import pickle
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule import serialization
from chainrule.serialization import load, save


def model_state():
    return {
        "layers.0.weight": cr.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "layers.0.bias": cr.tensor([0.5, -0.5], dtype=cr.float64),
        "steps": np.array(7, dtype=np.int64),  # 0-d array
        "counts": np.arange(4, dtype=np.int64),
        "mask": cr.tensor([True, False]),
        "table": np.linspace(0, 1, 6).reshape(3, 2),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "scale": np.float32(2.5),
    }


def optimizer_state():
    return {
        "state": {0: {"momentum_buffer": np.ones(3, dtype=np.float32), "step": 4},
                  1: {"momentum_buffer": None, "step": 0}},
        "param_groups": [{"lr": 0.1, "momentum": 0.9, "nesterov": False, "betas": (0.9, 0.999),
                          "params": [0, 1], "name": "body/all", "eps": float("inf"),
                          "decay": float("nan")}],
        "0": "a str key that looks like an int key",
        "": {"a/b": [], "%": {}},
    }


def assert_same(saved, loaded):
    expected = cr.Tensor if isinstance(saved, cr.Tensor) else type(saved)
    assert type(loaded) is expected
    if isinstance(saved, dict):
        assert list(saved) == list(loaded)
        assert [type(k) for k in saved] == [type(k) for k in loaded]
        for key in saved:
            assert_same(saved[key], loaded[key])
    elif isinstance(saved, (list, tuple)):
        assert len(saved) == len(loaded)
        for a, b in zip(saved, loaded):
            assert_same(a, b)
    elif isinstance(saved, (cr.Tensor, np.ndarray, np.generic)):
        a, b = np.asarray(saved), np.asarray(loaded)
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
        if isinstance(saved, cr.Tensor):
            assert loaded.requires_grad is False and loaded.grad_fn is None
    elif isinstance(saved, float) and math.isnan(saved):
        assert math.isnan(loaded)
    else:
        assert saved == loaded


# --------------------------------------------------------------- round trips


def test_model_state_round_trip(tmp_path):
    state = model_state()
    save(state, tmp_path / "model.ckpt")
    loaded = load(tmp_path / "model.ckpt")
    assert_same(state, loaded)
    assert loaded["steps"].shape == () and isinstance(loaded["steps"], np.ndarray)
    assert isinstance(loaded["scale"], np.float32)
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]  # the path as given, no temp files


def test_optimizer_state_round_trip_keeps_int_keys_and_leaf_types(tmp_path):
    state = optimizer_state()
    save(state, tmp_path / "optim.npz")
    loaded = load(tmp_path / "optim.npz")
    assert_same(state, loaded)
    assert set(loaded["state"]) == {0, 1} and loaded["0"].startswith("a str key")
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["param_groups"][0]["lr"] == 0.1 and loaded["param_groups"][0]["nesterov"] is False


def test_file_is_a_plain_npz_with_path_named_arrays(tmp_path):
    save(optimizer_state(), tmp_path / "optim.npz")
    with np.load(tmp_path / "optim.npz", allow_pickle=False) as archive:
        assert set(archive.files) == {"structure", "arrays/state/#0/momentum_buffer"}


def test_module_state_dict_round_trip_and_load_state_dict(tmp_path):
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    net[0].weight.requires_grad_(True)
    save(net.state_dict(), tmp_path / "net.npz")
    cr.manual_seed(1)
    twin = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    twin.load_state_dict(load(tmp_path / "net.npz"))
    x = cr.randn(5, 3)
    assert np.array_equal(net(x).array, twin(x).array)


def test_training_resumed_from_a_checkpoint_matches_training_straight_through(tmp_path):
    from chainrule import optim

    def make():
        cr.manual_seed(0)
        net = nn.Linear(3, 2)
        return net, optim.Adam(net.parameters(), lr=0.1)

    def step(net, opt, seed):
        opt.zero_grad()
        x = cr.from_numpy(np.random.default_rng(seed).standard_normal((4, 3)).astype(np.float32))
        (net(x) ** 2).sum().backward()
        opt.step()

    net, opt = make()
    for seed in range(4):
        step(net, opt, seed)
    resumed, resumed_opt = make()
    for seed in range(2):
        step(resumed, resumed_opt, seed)
    save({"model": resumed.state_dict(), "optimizer": resumed_opt.state_dict()},
         tmp_path / "ckpt.npz")
    fresh, fresh_opt = make()
    checkpoint = load(tmp_path / "ckpt.npz")
    fresh.load_state_dict(checkpoint["model"])
    fresh_opt.load_state_dict(checkpoint["optimizer"])
    for seed in range(2, 4):
        step(fresh, fresh_opt, seed)
    assert np.array_equal(fresh.weight.array, net.weight.array)
    assert np.array_equal(fresh.bias.array, net.bias.array)


def test_a_shared_array_is_stored_once(tmp_path):
    weight = np.ones((2, 2), dtype=np.float32)
    tied = cr.from_numpy(weight)
    save({"encoder": tied, "decoder": tied.detach(), "raw": [weight, weight]}, tmp_path / "t.npz")
    with np.load(tmp_path / "t.npz") as archive:
        assert len(archive.files) == 2
    loaded = load(tmp_path / "t.npz")
    assert loaded["encoder"].array is loaded["decoder"].array is loaded["raw"][0]


def test_overwrite_replaces_the_previous_checkpoint(tmp_path):
    save({"epoch": 1}, tmp_path / "c.npz")
    save({"epoch": 2}, tmp_path / "c.npz")
    assert load(tmp_path / "c.npz") == {"epoch": 2}


# ------------------------------------------------------------- atomic writes


def test_a_save_failing_mid_write_leaves_the_old_checkpoint_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    save(model_state(), path)
    before = path.read_bytes()

    def half_written_savez(file, **arrays):
        file.write(b"PK\x03\x04 some of the bytes")
        raise OSError("No space left on device")

    monkeypatch.setattr(serialization.np, "savez", half_written_savez)
    with pytest.raises(OSError, match="No space left"):
        save({"new": cr.zeros(3)}, path)
    assert os.listdir(tmp_path) == ["model.npz"]
    assert path.read_bytes() == before
    assert_same(model_state(), load(path))


def test_a_failing_replace_removes_the_temp_file(tmp_path, monkeypatch):
    def broken_replace(source, target):
        raise PermissionError("target is locked")

    monkeypatch.setattr(serialization.os, "replace", broken_replace)
    with pytest.raises(PermissionError):
        save({"a": 1}, tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []


def test_unsaveable_objects_are_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "c.npz"
    with pytest.raises(TypeError, match=r"obj\['layer'\]\['fn'\] is a function; a checkpoint"):
        save({"layer": {"fn": lambda x: x}}, path)
    with pytest.raises(TypeError, match=r"obj\['x'\] has dtype object.*never uses"):
        save({"x": np.array([1, "a"], dtype=object)}, path)
    with pytest.raises(TypeError, match=r"key \(1, 2\) of type tuple; keys must be str or int"):
        save({(1, 2): 3}, path)
    loop = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r"obj\['a'\]\[0\] contains itself"):
        save(loop, path)
    assert os.listdir(tmp_path) == []
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save({"a": 1}, tmp_path / "missing_dir" / "c.npz")


# ------------------------------------------------------------- refused files


def test_missing_file(tmp_path):
    path = tmp_path / "nothing.npz"
    with pytest.raises(FileNotFoundError, match=f"no checkpoint at '{path}'"):
        load(path)


def test_truncated_file(tmp_path):
    path = tmp_path / "model.npz"
    save(model_state(), path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r"checkpoint '.*model.npz' is truncated or corrupted: "):
        load(path)


def test_flipped_bytes_inside_an_array_fail_the_crc(tmp_path):
    path = tmp_path / "model.npz"
    save({"w": np.arange(1000, dtype=np.float64)}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or corrupted: .*CRC"):
        load(path)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(b"\x00" + np.random.default_rng(0).bytes(1000))
    with pytest.raises(ValueError, match="truncated or corrupted: it is not a zip"):
        load(path)


FLAG = {"unpickled": False}


def raise_flag():
    FLAG["unpickled"] = True
    return "boom"


class Payload:
    def __reduce__(self):
        return raise_flag, ()


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_is_refused_without_being_unpickled(tmp_path, protocol):
    path = tmp_path / "model.pt"
    with open(path, "wb") as file:
        pickle.dump({"weight": [1.0, 2.0], "payload": Payload()}, file, protocol=protocol)
    FLAG["unpickled"] = False
    with pytest.raises(ValueError, match="pickle file; chainrule never unpickles.*chainrule.save"):
        load(path)
    assert FLAG["unpickled"] is False
    with open(path, "rb") as file:
        pickle.load(file)  # the payload is live: unpickling it does raise the flag
    assert FLAG["unpickled"] is True


def test_object_arrays_in_a_file_are_refused(tmp_path):
    path = tmp_path / "objects.npz"
    structure = '{"format": "chainrule-checkpoint", "version": 1, "tree": ' \
                '{"kind": "ndarray", "array": "arrays"}}'
    np.savez(path, structure=np.array(structure), arrays=np.array([Payload()], dtype=object))
    FLAG["unpickled"] = False
    with pytest.raises(ValueError, match="holds an array of Python objects .*never does"):
        load(path)
    assert FLAG["unpickled"] is False


def test_npz_without_structure_is_not_a_checkpoint(tmp_path):
    np.savez(tmp_path / "plain.npz", weight=np.ones(3))
    with pytest.raises(ValueError, match="without a 'structure' entry, so it is not a chainrule"):
        load(tmp_path / "plain.npz")


def test_npy_file_is_not_a_checkpoint(tmp_path):
    np.save(tmp_path / "single.npy", np.ones(3))
    with pytest.raises(ValueError, match="single .npy array, not a chainrule checkpoint"):
        load(tmp_path / "single.npy")


def test_damaged_structure_entries(tmp_path):
    path = tmp_path / "c.npz"
    np.savez(path, structure=np.array("{not json"))
    with pytest.raises(ValueError, match="corrupted: the structure entry is unreadable"):
        load(path)
    np.savez(path, structure=np.array('{"format": "chainrule-checkpoint", "version": 99}'))
    with pytest.raises(ValueError, match="format version 99; this chainrule reads version 1"):
        load(path)
    np.savez(path, structure=np.array('{"format": "chainrule-checkpoint", "version": 1, '
                                      '"tree": {"kind": "tensor", "array": "arrays/gone"}}'))
    with pytest.raises(ValueError, match="structure does not match its arrays.*arrays/gone"):
        load(path)


def test_a_zip_that_is_not_npz(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.pkl", pickle.dumps({"a": Payload()}))
    with pytest.raises(ValueError, match="not a chainrule checkpoint"):
        load(path)


# ------------------------------------------- file objects, PyTorch checkpoints


def test_file_objects_both_ways():
    import io

    buffer = io.BytesIO()
    save(optimizer_state(), buffer)
    buffer.seek(0)
    assert_same(optimizer_state(), load(buffer))

    class Stream:  # readable, not seekable: a pipe or a socket
        def __init__(self, data):
            self.array = io.BytesIO(data)

        def read(self, n=-1):
            return self.array.read(n)

    assert_same(optimizer_state(), load(Stream(buffer.getvalue())))


def test_a_file_object_is_named_in_errors(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(b"\x00" * 100)
    with open(path, "rb") as file, pytest.raises(ValueError, match=f"checkpoint '{path}' is "):
        load(file)
    import io
    with pytest.raises(ValueError, match="checkpoint <BytesIO> is truncated or corrupted"):
        load(io.BytesIO(b"PK\x03\x04 cut"))


def torch_payload_checkpoint(path, **kwargs):
    import torch

    torch.save({"model": {"weight": torch.ones(2)}, "payload": Payload()}, path, **kwargs)


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_a_torch_save_file_is_refused_unread_with_the_way_to_convert_it(tmp_path, zipped):
    path = tmp_path / "model.pt"
    torch_payload_checkpoint(path, _use_new_zipfile_serialization=zipped)
    FLAG["unpickled"] = False
    with pytest.raises(ValueError) as error:
        load(path)
    message = str(error.value)
    assert FLAG["unpickled"] is False
    assert ("is a PyTorch checkpoint (torch.save writes a zip of pickles), not a chainrule "
            "checkpoint; chainrule never unpickles" in message) == zipped
    assert ("is a pickle file; chainrule never unpickles" in message) != zipped
    assert "safetensors.torch.save_file(torch.load(path, weights_only=True), " \
           "'model.safetensors') and chainrule.safetensors.load_file" in message
    assert "chainrule.save(torch.load(path, weights_only=True), 'model.ckpt')" in message


def test_weights_only_false_still_refuses_a_pickle(tmp_path):
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match=r"never unpickles \(weights_only=False does not change"):
        load(path, weights_only=False)


def test_the_suggested_conversion_works_for_a_pytorch_training_checkpoint(tmp_path):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3,
                "half": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "ckpt.pt")

    converted = torch.load(tmp_path / "ckpt.pt", weights_only=True)  # in PyTorch
    save(converted, tmp_path / "ckpt.npz")  # chainrule.save takes PyTorch tensors

    checkpoint = load(tmp_path / "ckpt.npz")
    ours = nn.Linear(3, 2)
    ours.load_state_dict(checkpoint["model"])
    np.testing.assert_array_equal(ours.weight.array, model.weight.detach().numpy())
    state = checkpoint["optimizer"]
    assert set(state["state"]) == {0, 1} and state["param_groups"][0]["betas"] == (0.9, 0.999)
    np.testing.assert_array_equal(state["state"][0]["exp_avg"].data,
                                  optimizer.state_dict()["state"][0]["exp_avg"].numpy())
    step = state["state"][0]["step"]
    assert isinstance(step, cr.Tensor) and step.item() == 1
    assert state["param_groups"][0]["foreach"] is None and checkpoint["epoch"] == 3
    assert checkpoint["half"].dtype == np.float32  # numpy has no bfloat16


def test_a_safetensors_file_is_pointed_to_its_reader(tmp_path):
    from chainrule import safetensors

    safetensors.save_file({"w": cr.ones(2)}, tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="is a safetensors file, not a chainrule checkpoint; "
                                         "read it with chainrule.safetensors.load_file"):
        load(tmp_path / "m.safetensors")


def test_map_location_as_torch_takes_it(tmp_path):
    path = tmp_path / "c.npz"
    save({"w": cr.ones(2), "tied": [cr.ones(1)]}, path)
    with np.load(path) as archive:
        assert '"device": "cpu"' in str(archive["structure"])
    assert_same({"w": cr.ones(2), "tied": [cr.ones(1)]},
                load(path, map_location={"cuda:0": "cpu"}))
    seen = []
    loaded = load(path, map_location=lambda array, location: seen.append(location))
    assert seen == ["cpu", "cpu"] and loaded["w"].shape == (2,)
    assert load(path, map_location=lambda array, location: array * 2)["w"].data.tolist() == [2, 2]
    with pytest.raises(TypeError, match="map_location returned a str; it must return the array"):
        load(path, map_location=lambda array, location: "cpu")
    with pytest.raises(TypeError, match="map_location must be None, a device, a str, a dict or"):
        load(path, map_location=3.5)
    with pytest.raises(RuntimeError, match="no cuda backend installed"):
        load(path, map_location={"cpu": "cuda:0"})
    assert load(path, pickle_module=pickle, mmap=True)["w"].shape == (2,)  # accepted, unused
