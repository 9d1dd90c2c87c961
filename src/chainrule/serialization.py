"""``save`` and ``load``: checkpoints of state dicts, in a format that runs no code.

A checkpoint is a (nested) dict with str or int keys whose leaves are
Tensors, numpy arrays, numpy scalars, ints, floats, bools, strings or None,
in dicts, lists and tuples: a model's ``state_dict()``, an optimizer's
(``{"state": {0: {...}}, "param_groups": [...]}``), an epoch counter.

The file is a plain ``.npz`` (``np.savez``): one ``.npy`` entry per array,
named after its path in the tree (``arrays/state/#0/momentum_buffer``; str
keys are %-escaped, int keys and list positions are ``#n``), plus one
``structure`` entry, a JSON string recording the tree: containers, key types,
which leaves were Tensors and the non-array leaves. It is read back with
``np.load(path, allow_pickle=False)``, so loading a checkpoint, even one from
a stranger, never runs code: unlike ``pickle`` (and ``torch.save``), no object
in the file is rebuilt by calling anything named in the file.

Why npz and not safetensors: npz needs nothing beyond numpy, any numpy can
read it, and it keeps every numpy dtype; one format keeps one code path to
test. Writes are atomic (a temporary file in the same directory, fsynced,
then ``os.replace``), so a crash mid-save leaves the previous checkpoint whole.
Arrays on any device are written from a host copy (``Backend.to_host``);
``load`` gives CPU tensors, or tensors on ``map_location``.

    >>> import os, tempfile
    >>> import chainrule as cr
    >>> from chainrule.serialization import save, load
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> save({"weight": cr.ones(2), "epoch": 3}, path)
    >>> load(path)
    {'weight': tensor([1., 1.], dtype=float32), 'epoch': 3}
"""

import json
import os
import pickletools
import secrets
import urllib.parse
import zipfile

import numpy as np

from chainrule.device import backend_for, backend_of
from chainrule.tensor import Tensor

__all__ = ["save", "load"]

FORMAT = "chainrule-checkpoint"
VERSION = 1
STRUCTURE_KEY = "structure"
ARRAY_PREFIX = "arrays"  # every array entry starts with this, so none is named "structure"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip entry, or the end record of an empty zip


# -------------------------------------------------------------------- saving


def save(obj, path):
    """Write ``obj`` (a state dict, see the module docstring) to ``path``, atomically.

    The path is used as given (no ``.npz`` is appended). ``obj`` is checked
    in full before anything is written; on any failure the temporary file is
    removed and a previous file at ``path`` is left as it was.
    """
    path = os.fspath(path)
    arrays = {}
    tree = _flatten(obj, (), arrays, {}, set())
    structure = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[STRUCTURE_KEY] = np.array(structure)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: the directory {directory!r} for {path!r} does not exist")
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, 0o666)  # 0o666 less the umask, as open() would
    try:
        with os.fdopen(descriptor, "wb") as file:
            np.savez(file, **arrays)
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


def _flatten(obj, path, arrays, seen_arrays, open_containers):
    """The JSON node for ``obj``; its arrays go into ``arrays`` under their escaped path."""
    if isinstance(obj, Tensor):
        return _array_node("tensor", obj.data, path, arrays, seen_arrays)
    if isinstance(obj, np.ndarray) or backend_of(obj) is not _HOST:  # an array of any backend
        return _array_node("ndarray", obj, path, arrays, seen_arrays)
    if isinstance(obj, np.generic):
        return _array_node("numpy_scalar", np.asarray(obj), path, arrays, seen_arrays)
    if obj is None:
        return {"kind": "none"}
    if isinstance(obj, bool):
        return {"kind": "bool", "value": obj}
    if isinstance(obj, int):
        return {"kind": "int", "value": int(obj)}
    if isinstance(obj, float):
        return {"kind": "float", "value": repr(float(obj))}  # repr keeps nan, inf and every bit
    if isinstance(obj, str):
        return {"kind": "str", "value": str(obj)}
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


def _array_node(kind, array, path, arrays, seen_arrays):
    """The node of an array (of any backend); a host copy of it goes into ``arrays``."""
    if array.dtype.hasobject:
        raise TypeError(f"save: the array at {_show(path)} has dtype {array.dtype}; arrays of "
                        "Python objects would need pickle, which chainrule never uses")
    if id(array) in seen_arrays:  # the same array twice (tied weights): store it once
        return {"kind": kind, "array": seen_arrays[id(array)]}
    key = "/".join((ARRAY_PREFIX,) + tuple(_escape(part) for part in path))
    arrays[key] = backend_of(array).to_host(array)
    seen_arrays[id(array)] = key  # the id of an array the saved tree holds, so never reused
    return {"kind": kind, "array": key}


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


def load(path, map_location=None):
    """The object saved at ``path``: Tensors come back as Tensors (requires_grad False),
    arrays as numpy arrays, dicts as dicts with their key types and order.

    Tensors are made on the CPU, or on ``map_location`` (a device or a string
    such as ``"cpu"``), as ``torch.load(path, map_location=...)``; a device
    with no backend installed is refused before the file is read.

    Raises FileNotFoundError for a missing file and ValueError, naming the
    path, for a file that is truncated or corrupted, a pickle (never
    unpickled), or not a chainrule checkpoint.
    """
    path = os.fspath(path)
    backend = backend_for(map_location)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at {path!r}: the file does not exist")
    with open(path, "rb") as file:
        head = file.read(4)
    if not head.startswith(ZIP_MAGIC):
        if _is_pickle(path, head):
            raise ValueError(
                f"load: {path!r} is a pickle file; chainrule never unpickles, because loading "
                "a pickle can run any code. If you trust it, load it with pickle (or torch.load), "
                "turn its tensors into numpy arrays and chainrule.save the resulting state dict"
            )
        if head == b"\x93NUM":
            raise ValueError(f"load: {path!r} is a single .npy array, not a chainrule checkpoint; "
                             "read it with numpy.load")
        raise _corrupted(path, "it is not a zip (.npz) archive")
    try:
        with np.load(path, allow_pickle=False) as archive:
            entries = {name: _read_entry(archive, name, path) for name in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise _corrupted(path, error) from None
    if STRUCTURE_KEY not in entries:
        raise ValueError(
            f"load: {path!r} is a zip archive without a {STRUCTURE_KEY!r} entry, so it is not a "
            "chainrule checkpoint (a torch.save file is a zip too, but holds pickles, which "
            "chainrule never loads); write checkpoints with chainrule.save"
        )
    header = entries.pop(STRUCTURE_KEY)
    try:
        structure = json.loads(str(header[()]))
        if structure.get("format") != FORMAT:
            raise ValueError(f"its structure entry names format {structure.get('format')!r}")
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise _corrupted(path, f"the structure entry is unreadable: {error}") from None
    if structure.get("version") != VERSION:
        raise ValueError(f"load: {path!r} has checkpoint format version "
                         f"{structure.get('version')!r}; this chainrule reads version {VERSION}")
    try:
        return _rebuild(structure["tree"], entries, backend)
    except (KeyError, TypeError, ValueError) as error:
        raise _corrupted(path, f"its structure does not match its arrays ({error!r})") from None


def _read_entry(archive, name, path):
    try:
        return archive[name]
    except ValueError as error:
        if "allow_pickle" in str(error):  # numpy refuses object arrays without pickle
            raise ValueError(
                f"load: {path!r} holds an array of Python objects ({name!r}); reading it would "
                "mean unpickling, which chainrule never does. Re-save it without object arrays"
            ) from None
        raise _corrupted(path, f"entry {name!r}: {error}") from None


def _is_pickle(path, head):
    """True if the file parses as a pickle. pickletools only reads opcodes; nothing runs."""
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return True
    with open(path, "rb") as file:
        try:
            for opcode, _, _ in pickletools.genops(file):
                if opcode.name == "STOP":
                    return file.read(1) == b""
        except Exception:  # pickletools raises ValueError and friends on non-pickles
            return False
    return False


def _corrupted(path, reason):
    return ValueError(f"load: checkpoint {path!r} is truncated or corrupted: {reason}")


def _rebuild(node, entries, backend):
    kind = node["kind"]
    if kind == "dict":
        return {(item["key"] if item["key_type"] == "str" else _as_int(item["key"])):
                _rebuild(item["value"], entries, backend) for item in node["items"]}
    if kind in ("list", "tuple"):
        items = [_rebuild(item, entries, backend) for item in node["items"]]
        return items if kind == "list" else tuple(items)
    if kind == "tensor":
        return Tensor._make(backend.asarray(entries[node["array"]]), False, None)
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
