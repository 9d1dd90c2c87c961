"""``save`` and ``load``: checkpoints of state dicts, in a format that runs no code.

A checkpoint is a (nested) dict with str or int keys whose leaves are
Tensors, numpy arrays, numpy scalars, ints, floats, bools, strings or None,
in dicts, lists and tuples: a model's ``state_dict()``, an optimizer's
(``{"state": {0: {...}}, "param_groups": [...]}``), an epoch counter.
PyTorch tensors are taken too (as Tensors; bfloat16 as float32), so a
``torch.load``-ed checkpoint can be converted with one ``save`` call.

The file is a plain ``.npz`` (``np.savez``): one ``.npy`` entry per array,
named after its path in the tree (``arrays/state/#0/momentum_buffer``; str
keys are %-escaped, int keys and list positions are ``#n``), plus one
``structure`` entry, a JSON string recording the tree: containers, key types,
which leaves were Tensors (and their device) and the non-array leaves. It is
read back with ``np.load(..., allow_pickle=False)``, so loading a checkpoint,
even one from a stranger, never runs code: unlike ``pickle`` (and
``torch.save``), no object in the file is rebuilt by calling anything named
in the file. A ``torch.save`` file (a zip of pickles, or a legacy pickle) is
refused without being unpickled, with the way to convert it.

Why npz: it needs nothing beyond numpy, any numpy can read it, and it keeps
every numpy dtype and the nesting an optimizer state needs; safetensors
(``chainrule.safetensors``) holds flat dicts of tensors, for exchanging
weights. Writes to a path are atomic (a temporary file in the same directory,
fsynced, then ``os.replace``), so a crash mid-save leaves the previous
checkpoint whole. Arrays on any device are written from a host copy
(``Backend.to_host``); ``load`` gives CPU tensors, or tensors on ``map_location``.

    >>> import io
    >>> import chainrule as cr
    >>> from chainrule.serialization import save, load
    >>> buffer = io.BytesIO()
    >>> save({"weight": cr.ones(2), "epoch": 3}, buffer)
    >>> _ = buffer.seek(0)
    >>> load(buffer)
    {'weight': tensor([1., 1.]), 'epoch': 3}
"""

import io
import json
import os
import pickletools
import secrets
import struct
import urllib.parse
import zipfile

import numpy as np

from chainrule.device import backend_for, backend_of, device, device_of
from chainrule.tensor import Tensor

__all__ = ["save", "load"]

FORMAT = "chainrule-checkpoint"
VERSION = 1
STRUCTURE_KEY = "structure"
ARRAY_PREFIX = "arrays"  # every array entry starts with this, so none is named "structure"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip entry, or the end record of an empty zip
SAFETENSORS_MAX_HEADER = 100_000_000

CONVERT_TORCH = (
    "Convert it once where PyTorch is installed, then load the result here: a state dict with "
    "safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors') and "
    "chainrule.safetensors.load_file('model.safetensors'); any checkpoint (optimizer state, "
    "nested dicts) with chainrule.save(torch.load(path, weights_only=True), 'model.ckpt') "
    "(chainrule.save takes PyTorch tensors) and chainrule.load('model.ckpt'). See docs/porting.md"
)


# -------------------------------------------------------------------- saving


def save(obj, f, pickle_module=None, pickle_protocol=None):
    """Write ``obj`` (a state dict, see the module docstring) to ``f``, as ``torch.save``.

    ``f`` is a path (used as given: no ``.npz`` is appended), written
    atomically, or a binary file object, written from its current position.
    ``obj`` is checked in full before anything is written; on any failure
    the temporary file is removed and a previous file at the path is left
    as it was. ``pickle_module`` and ``pickle_protocol`` are accepted for
    PyTorch's signature and unused: chainrule never pickles.
    """
    arrays = {}
    tree = _flatten(obj, (), arrays, {}, set())
    structure = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[STRUCTURE_KEY] = np.array(structure)
    if _is_file_object(f, "write"):
        np.savez(f, **arrays)
    else:
        atomic_write(f, lambda file: np.savez(file, **arrays), "save")


def atomic_write(path, write, caller):
    """Call ``write(file)`` on a temporary file beside ``path``, fsync it, rename it to ``path``.

    On any failure the temporary file is removed and ``path`` is untouched.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{caller}: the directory {directory!r} for {path!r} does not "
                                "exist")
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, 0o666)  # 0o666 less the umask, as open() would
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _is_file_object(f, method):
    return hasattr(f, method) and not isinstance(f, (str, bytes, os.PathLike))


def _flatten(obj, path, arrays, seen_arrays, open_containers):
    """The JSON node for ``obj``; its arrays go into ``arrays`` under their escaped path."""
    exact = _PLAIN_NODES.get(type(obj))  # the common leaves first: a history holds thousands
    if exact is not None:
        return exact(obj)
    if isinstance(obj, Tensor):
        return _array_node("tensor", obj.array, path, arrays, seen_arrays)
    foreign = _torch_tensor(obj)
    if foreign is not None:
        return _array_node("tensor", foreign[0], path, arrays, seen_arrays, place=foreign[1])
    if isinstance(obj, np.ndarray) or backend_of(obj) is not _HOST:  # an array of any backend
        return _array_node("ndarray", obj, path, arrays, seen_arrays)
    if isinstance(obj, np.generic):
        return _array_node("numpy_scalar", np.asarray(obj), path, arrays, seen_arrays)
    for plain, node in _PLAIN_NODES.items():  # a subclass of a plain type, as its base
        if isinstance(obj, plain):
            return node(plain(obj))
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in open_containers:
            raise ValueError(f"save: the object at {_show(path)} contains itself; a checkpoint "
                             "must be a tree")
        open_containers.add(id(obj))
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                key_type = _key_type(key, path)
                items.append({"key": key if key_type == "str" else int(key), "key_type": key_type,
                              "value": _flatten(value, path + (key,), arrays, seen_arrays,
                                                open_containers)})
            node = {"kind": "dict", "items": items}
        else:
            node = {"kind": "list" if isinstance(obj, list) else "tuple",
                    "items": [_flatten(value, path + (i,), arrays, seen_arrays, open_containers)
                              for i, value in enumerate(obj)]}
        open_containers.discard(id(obj))
        return node
    raise TypeError(
        f"save: the value at {_show(path)} is a {type(obj).__name__}; a checkpoint holds "
        "Tensors, numpy arrays, ints, floats, bools, strings and None, in dicts, lists and tuples "
        "(to save a model or optimizer, save its state_dict())"
    )


_HOST = backend_for("cpu")

#: The node of a value of each plain type (bool before int, its base class).
_PLAIN_NODES = {
    type(None): lambda x: {"kind": "none"},
    bool: lambda x: {"kind": "bool", "value": x},
    int: lambda x: {"kind": "int", "value": x},
    float: lambda x: {"kind": "float", "value": repr(x)},  # repr keeps nan, inf and every bit
    str: lambda x: {"kind": "str", "value": x},
}


def _torch_tensor(obj):
    """``(host array, device name)`` of a PyTorch tensor, else None; torch is never imported.

    bfloat16, which numpy lacks, becomes float32 (exactly: every bfloat16 is a float32).
    """
    if not any(cls.__name__ == "Tensor" and cls.__module__ == "torch" for cls in type(obj).__mro__):
        return None
    tensor = obj.detach()
    place = str(tensor.device)
    tensor = tensor.cpu()
    if str(tensor.dtype) == "torch.bfloat16":
        tensor = tensor.float()
    return tensor.numpy(), place


def _array_node(kind, array, path, arrays, seen_arrays, place=None):
    """The node of an array (of any backend); a host copy of it goes into ``arrays``."""
    if array.dtype.hasobject:
        raise TypeError(f"save: the array at {_show(path)} has dtype {array.dtype}; arrays of "
                        "Python objects would need pickle, which chainrule never uses")
    if id(array) in seen_arrays:  # the same array twice (tied weights): store it once
        key = seen_arrays[id(array)]
    else:
        key = "/".join((ARRAY_PREFIX,) + tuple(_escape(part) for part in path))
        arrays[key] = backend_of(array).to_host(array)
        seen_arrays[id(array)] = key  # the id of an array the saved tree holds, so never reused
    node = {"kind": kind, "array": key}
    if kind == "tensor":
        node["device"] = place or str(device_of(array))
    return node


def _key_type(key, path):
    if isinstance(key, str):
        return "str"
    if isinstance(key, int) and not isinstance(key, bool):
        return "int"
    raise TypeError(f"save: the dict at {_show(path)} has a key {key!r} of type "
                    f"{type(key).__name__}; keys must be str or int")


def _escape(part):
    """One path step as an entry-name piece: ints as ``#n``, strs %-escaped (so never
    ``#``-led and never holding ``/``), the empty str as a lone ``%``."""
    if isinstance(part, int):
        return f"#{part}"
    return urllib.parse.quote(part, safe="") or "%"


def _show(path):
    return "the top level" if not path else "obj" + "".join(f"[{part!r}]" for part in path)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); not possible, or needed, everywhere."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# ------------------------------------------------------------------- loading


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None):
    """The object saved in ``f`` (a path or a binary file object), as ``torch.load``.

    Tensors come back as Tensors (requires_grad False), arrays as numpy
    arrays, dicts as dicts with their key types and order. Tensors are made
    on the CPU, or where ``map_location`` says: a device, a string such as
    ``"cpu"``, a dict from the device a tensor was saved on to the one to
    load it on (``{"cuda:0": "cpu"}``), or a function ``(array, saved_device)
    -> array`` (None keeps the CPU). Unlike ``torch.load``, None means the CPU
    even for tensors saved from another device. A device with no backend
    installed is refused before the file is read.

    ``weights_only`` is always honoured: the format holds only data, and a
    pickle is refused whatever its value. ``pickle_module`` and ``mmap`` are
    accepted for PyTorch's signature and unused (arrays are read into memory).

    Raises FileNotFoundError for a missing file and ValueError, naming the
    file, for a file that is truncated or corrupted, a pickle or a
    ``torch.save`` file (never unpickled; the message says how to convert
    it), or not a chainrule checkpoint.
    """
    place = _placement(map_location)
    if _is_file_object(f, "read"):
        name = getattr(f, "name", None)
        label = repr(name) if isinstance(name, str) else f"<{type(f).__name__}>"
        stream = f if _seekable(f) else io.BytesIO(f.read())
        return _load_stream(stream, label, place, weights_only)
    path = os.fspath(f)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at {path!r}: the file does not exist")
    with open(path, "rb") as stream:
        return _load_stream(stream, repr(path), place, weights_only)


def _seekable(f):
    try:
        return f.seekable()
    except (AttributeError, ValueError, OSError):
        return False


def _placement(map_location):
    """``place(host_array, saved_device) -> array`` for ``load``'s ``map_location``."""
    if map_location is None or isinstance(map_location, (str, int, device)):
        backend = backend_for(map_location)  # refused here, before the file is read
        return lambda array, saved: backend.asarray(array)
    if isinstance(map_location, dict):
        def place(array, saved):
            return backend_for(map_location.get(saved, "cpu")).asarray(array)
        return place
    if callable(map_location):
        def place(array, saved):
            moved = map_location(array, saved)
            if moved is None:
                return array
            if not (isinstance(moved, np.ndarray) or backend_of(moved) is not _HOST):
                raise TypeError(f"load: map_location returned a {type(moved).__name__}; it must "
                                "return the array it was given, one on another device, or None")
            return moved
        return place
    raise TypeError(f"load: map_location must be None, a device, a str, a dict or a function, "
                    f"not a {type(map_location).__name__}")


def _load_stream(stream, label, place, weights_only):
    start = stream.tell()
    head = stream.read(9)
    stream.seek(start)
    if head.startswith(ZIP_MAGIC):
        _refuse_torch_zip(stream, label)
        stream.seek(start)
    elif _is_pickle(stream, head):
        also = " (weights_only=False does not change that)" if weights_only is False else ""
        raise ValueError(
            f"load: {label} is a pickle file; chainrule never unpickles{also}, because loading "
            "a pickle can run any code. If you trust it, load it with pickle (or torch.load, "
            f"if torch.save wrote it) and chainrule.save what it holds. {CONVERT_TORCH}"
        )
    elif head.startswith(b"\x93NUM"):
        raise ValueError(f"load: {label} is a single .npy array, not a chainrule checkpoint; "
                         "read it with numpy.load")
    elif _is_safetensors(head):
        raise ValueError(f"load: {label} is a safetensors file, not a chainrule checkpoint; read "
                         "it with chainrule.safetensors.load_file (a dict of tensors)")
    else:
        raise _corrupted(label, "it is not a zip (.npz) archive")
    try:
        with np.load(stream, allow_pickle=False) as archive:
            entries = {name: _read_entry(archive, name, label) for name in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise _corrupted(label, error) from None
    return _from_entries(entries, label, place)


def _refuse_torch_zip(stream, label):
    """A zip written by ``torch.save`` holds ``<name>/data.pkl``: refused without reading it."""
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise _corrupted(label, error) from None
    if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
        raise ValueError(
            f"load: {label} is a PyTorch checkpoint (torch.save writes a zip of pickles), not a "
            "chainrule checkpoint; chainrule never unpickles, because loading a pickle can run "
            f"any code. {CONVERT_TORCH}"
        )


def _is_safetensors(head):
    """An 8-byte little-endian header length, then a JSON object (chainrule.safetensors)."""
    return (len(head) == 9 and head[8:9] == b"{"
            and struct.unpack("<Q", head[:8])[0] <= SAFETENSORS_MAX_HEADER)


def _from_entries(entries, label, place):
    if STRUCTURE_KEY not in entries:
        raise ValueError(
            f"load: {label} is a zip archive without a {STRUCTURE_KEY!r} entry, so it is not a "
            "chainrule checkpoint (a torch.save file is a zip too, but holds pickles, which "
            "chainrule never loads); write checkpoints with chainrule.save"
        )
    header = entries.pop(STRUCTURE_KEY)
    try:
        structure = json.loads(str(header[()]))
        if structure.get("format") != FORMAT:
            raise ValueError(f"its structure entry names format {structure.get('format')!r}")
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise _corrupted(label, f"the structure entry is unreadable: {error}") from None
    if structure.get("version") != VERSION:
        raise ValueError(f"load: {label} has checkpoint format version "
                         f"{structure.get('version')!r}; this chainrule reads version {VERSION}")
    try:
        tree = structure["tree"]
        saved_on = dict(_tensor_arrays(tree))  # array key -> the device its tensors were on
        host = {key: entries[key] for key in saved_on}
    except (KeyError, TypeError, ValueError) as error:
        raise _mismatch(label, error) from None
    placed = {key: place(array, saved_on[key]) for key, array in host.items()}  # once per array,
    try:                                                                    # so ties stay tied
        return _rebuild(tree, entries, placed)
    except (KeyError, TypeError, ValueError) as error:
        raise _mismatch(label, error) from None


def _mismatch(label, error):
    return _corrupted(label, f"its structure does not match its arrays ({error!r})")


def _tensor_arrays(node):
    """``(array key, saved device)`` of every tensor leaf under ``node``."""
    if node["kind"] == "tensor":
        yield node["array"], node.get("device", "cpu")
    elif node["kind"] in ("dict", "list", "tuple"):
        for item in node["items"]:
            yield from _tensor_arrays(item["value"] if node["kind"] == "dict" else item)


def _read_entry(archive, name, label):
    try:
        return archive[name]
    except ValueError as error:
        if "allow_pickle" in str(error):  # numpy refuses object arrays without pickle
            raise ValueError(
                f"load: {label} holds an array of Python objects ({name!r}); reading it would "
                "mean unpickling, which chainrule never does. Re-save it without object arrays"
            ) from None
        raise _corrupted(label, f"entry {name!r}: {error}") from None


def _is_pickle(stream, head):
    """True if the file parses as a pickle. pickletools only reads opcodes; nothing runs."""
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return True
    start = stream.tell()
    try:
        for opcode, _, _ in pickletools.genops(stream):
            if opcode.name == "STOP":
                return stream.read(1) == b""
    except Exception:  # pickletools raises ValueError and friends on non-pickles
        return False
    finally:
        stream.seek(start)
    return False


def _corrupted(label, reason):
    return ValueError(f"load: checkpoint {label} is truncated or corrupted: {reason}")


def _rebuild(node, entries, placed):
    kind = node["kind"]
    if kind == "dict":
        return {(item["key"] if item["key_type"] == "str" else _as_int(item["key"])):
                _rebuild(item["value"], entries, placed) for item in node["items"]}
    if kind in ("list", "tuple"):
        items = [_rebuild(item, entries, placed) for item in node["items"]]
        return items if kind == "list" else tuple(items)
    if kind == "tensor":
        return Tensor._make(placed[node["array"]], False, None)
    if kind == "ndarray":
        return entries[node["array"]]
    if kind == "numpy_scalar":
        return entries[node["array"]][()]
    if kind == "none":
        return None
    if kind == "float":
        return float(node["value"])
    if kind in ("bool", "int", "str"):
        value = node["value"]
        if type(value) is not {"bool": bool, "int": int, "str": str}[kind]:
            raise TypeError(f"a {kind} leaf holds {value!r}")
        return value
    raise ValueError(f"unknown node kind {kind!r}")


def _as_int(key):
    if type(key) is not int:
        raise TypeError(f"an int key holds {key!r}")
    return key
