"""safetensors, read and written in numpy: the format PyTorch and Hugging Face exchange weights in.

A model trained in PyTorch and saved with ``safetensors.torch.save_file``
loads into the same chainrule model, and back, with no safetensors (or
torch) package installed. The functions mirror ``safetensors.torch``:
``save_file(tensors, filename, metadata=None)``, ``load_file(filename,
device="cpu")``, ``save(tensors, metadata=None) -> bytes``, ``load(data)``,
``safe_open``, ``save_model`` and ``load_model``.

The format: an 8-byte little-endian header length ``N``; ``N`` bytes of JSON
(padded with spaces to a multiple of 8), ``{name: {"dtype": "F32", "shape":
[2, 3], "data_offsets": [begin, end]}, "__metadata__": {str: str}}``; then
the data, each tensor's little-endian C-order bytes at ``[begin, end)``,
every byte of it belonging to exactly one tensor. Nothing in a file is code:
reading one is parsing JSON and copying bytes. A malformed file (truncated,
offsets out of range or overlapping, a header that is too big) raises
``SafetensorError`` (a ``ValueError``) saying what is wrong.

dtypes: F64, F32, F16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL and C64 both
ways. BF16, which numpy lacks, is read as float32 (exactly: every bfloat16 is
a float32 with its low 16 bits zero) and so written back as F32; loading
that into a bfloat16 PyTorch model casts it back without loss. The float8,
float6 and float4 types are refused with a message. As ``safetensors.torch``,
tensors that share memory are refused (``save_model`` keeps one name of each
tied group); unlike it, a non-contiguous tensor is written as a contiguous
copy rather than refused.

    >>> import json
    >>> import chainrule as cr
    >>> from chainrule import safetensors
    >>> data = safetensors.save({"weight": cr.ones(2, 3), "step": cr.tensor(7)})
    >>> length = int.from_bytes(data[:8], "little")
    >>> json.loads(data[8:8 + length])["weight"]
    {'dtype': 'F32', 'shape': [2, 3], 'data_offsets': [8, 32]}
    >>> loaded = safetensors.load(data)
    >>> sorted(loaded), tuple(loaded["weight"].shape), loaded["step"].item()
    (['step', 'weight'], (2, 3), 7)
"""

import io
import json
import math
import os
import struct
import sys

import numpy as np

from chainrule.device import backend_for, backend_of
from chainrule.serialization import atomic_write
from chainrule.tensor import Tensor

__all__ = ["SafetensorError", "save", "save_file", "load", "load_file", "safe_open",
           "save_model", "load_model"]

MAX_HEADER_SIZE = 100_000_000  # as safetensors: a bigger header is a corrupted file
METADATA = "__metadata__"

# Each safetensors dtype and its little-endian numpy dtype, in the order the format
# lays tensors out (its enum order, written largest first, then by name).
DTYPES = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "I16": "<i2", "U16": "<u2", "F16": "<f2",
          "BF16": "<u2", "I32": "<i4", "U32": "<u4", "F32": "<f4", "C64": "<c8", "F64": "<f8",
          "I64": "<i8", "U64": "<u8"}
UNSUPPORTED = {"F4", "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
               "F8_E5M2FNUZ"}
_CODE_OF = {np.dtype(numpy_type).newbyteorder("="): code for code, numpy_type in DTYPES.items()
            if code != "BF16"}
_LAYOUT_ORDER = {code: i for i, code in enumerate(DTYPES)}


class SafetensorError(ValueError):
    """A file or buffer that is not valid safetensors, or a tensor it cannot hold."""


# -------------------------------------------------------------------- saving


def save(tensors, metadata=None):
    """The safetensors bytes of ``tensors`` (a dict of str to Tensor, as ``state_dict()``)."""
    header, arrays = _prepare(tensors, metadata, "save")
    buffer = io.BytesIO()
    _write(buffer, header, arrays)
    return buffer.getvalue()


def save_file(tensors, filename, metadata=None):
    """Write ``tensors`` to ``filename`` in safetensors format, atomically.

    ``metadata`` is a dict of str to str, stored in the header (Hugging Face
    writes ``{"format": "pt"}``). Values may be Tensors or numpy arrays.
    """
    header, arrays = _prepare(tensors, metadata, "save_file")
    atomic_write(filename, lambda file: _write(file, header, arrays), "save_file")


def _prepare(tensors, metadata, caller):
    """The header (a dict, laid out) and the host arrays in file order, all checked first."""
    if not isinstance(tensors, dict):
        raise SafetensorError(f"{caller}: expected a dict of str to Tensor (such as "
                              f"model.state_dict()), but received a {type(tensors).__name__}")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"{caller}: tensor names must be str; {name!r} is a "
                            f"{type(name).__name__}")
        if name == METADATA:
            raise SafetensorError(f"{caller}: {METADATA!r} is the header's metadata entry and "
                                  "cannot name a tensor")
        array = value.array if isinstance(value, Tensor) else value
        if not (isinstance(array, np.ndarray) or backend_of(array) is not _HOST):
            raise SafetensorError(f"{caller}: the value for {name!r} is a {type(value).__name__}; "
                                  "safetensors holds tensors (a dict of str to Tensor)")
        code = _CODE_OF.get(array.dtype.newbyteorder("="))
        if code is None:
            raise SafetensorError(f"{caller}: tensor {name!r} has dtype {array.dtype}, which "
                                  "safetensors cannot hold; it holds "
                                  f"{', '.join(_CODE_OF.values())}")
        arrays[name] = (code, array)
    _refuse_shared_memory(arrays, caller)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError(f"{caller}: metadata must be a dict of str to str, not {metadata!r}")
    ordered = sorted(arrays, key=lambda name: (-_LAYOUT_ORDER[arrays[name][0]], name))
    header = {} if metadata is None else {METADATA: dict(metadata)}
    offset, host_arrays = 0, []
    for name in ordered:
        code, array = arrays[name]
        host = backend_of(array).to_host(array)
        host = np.ascontiguousarray(host, dtype=host.dtype.newbyteorder("<")).reshape(array.shape)
        header[name] = {"dtype": code, "shape": list(array.shape),
                        "data_offsets": [offset, offset + host.nbytes]}
        offset += host.nbytes
        host_arrays.append(host)
    return header, host_arrays


_HOST = backend_for("cpu")


def _refuse_shared_memory(arrays, caller):
    """As ``safetensors.torch``: tensors whose bytes overlap would load as separate copies."""
    by_buffer = {}
    for name, (_, array) in arrays.items():
        if isinstance(array, np.ndarray) and array.size:
            root = array
            while isinstance(root.base, np.ndarray):
                root = root.base
            owner = root if root.base is None else root.base
            by_buffer.setdefault(id(owner), []).append((*_byte_range(array), name))
    shared = []
    for areas in by_buffer.values():
        areas.sort()
        group, stop = {areas[0][2]}, areas[0][1]
        for begin, end, name in areas[1:]:
            if begin < stop:
                group.add(name)
            else:
                shared += [sorted(group)] if len(group) > 1 else []
                group = {name}
            stop = max(stop, end)
        shared += [sorted(group)] if len(group) > 1 else []
    if shared:
        raise RuntimeError(
            f"{caller}: some tensors share memory, which safetensors cannot store (each would "
            f"load as a separate copy): {shared}. Save one name of each group, or use "
            "chainrule.safetensors.save_model(model, filename), which keeps one and records "
            "the others in the metadata"
        )


def _byte_range(array):
    """``[begin, end)`` of the memory an array's elements span."""
    begin = end = array.__array_interface__["data"][0]
    for size, stride in zip(array.shape, array.strides):
        if stride < 0:
            begin += (size - 1) * stride
        else:
            end += (size - 1) * stride
    return begin, end + array.itemsize


def _write(file, header, arrays):
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as safetensors writes
    if len(text) > MAX_HEADER_SIZE:
        raise SafetensorError(f"the header would be {len(text)} bytes; safetensors allows "
                              f"{MAX_HEADER_SIZE}")
    file.write(struct.pack("<Q", len(text)))
    file.write(text)
    for array in arrays:
        file.write(array.reshape(-1).view(np.uint8).data)


# ------------------------------------------------------------------- loading


def load_file(filename, device="cpu"):
    """The tensors in the safetensors file ``filename``, by name, on ``device``, in file order.

    The result is a state dict: ``model.load_state_dict(load_file(path))``.
    BF16 tensors come back as float32 (see the module docstring).
    """
    with safe_open(filename, framework="pt", device=device) as file:
        return {name: file.get_tensor(name) for name in file._names_in_file_order()}


def load(data):
    """The tensors in ``data`` (the bytes of a safetensors file), by name, sorted, on the CPU."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"load: expected the bytes of a safetensors file, not a "
                        f"{type(data).__name__} (for a path, use load_file)")
    reader = _Reader(io.BytesIO(data), len(data), "the bytes given to load", _HOST, numpy=False)
    return {name: reader.get_tensor(name) for name in reader.keys()}


class safe_open:
    """A safetensors file, opened to read its names, metadata and chosen tensors (as safetensors').

    ``framework`` is ``"pt"`` (chainrule Tensors; also ``"torch"``,
    ``"chainrule"``) or ``"np"``/``"numpy"`` (numpy arrays). Only the
    header is read on opening; ``get_tensor`` reads one tensor's bytes.

        with safe_open("model.safetensors", framework="pt") as f:
            weight = f.get_tensor("0.weight")
    """

    def __init__(self, filename, framework="pt", device="cpu"):
        if framework not in ("pt", "torch", "chainrule", "np", "numpy"):
            raise ValueError(f"safe_open: framework {framework!r} is not supported; use 'pt' "
                             "(chainrule Tensors) or 'np' (numpy arrays)")
        backend = backend_for(device)
        path = os.fspath(filename)
        if not os.path.exists(path):
            raise FileNotFoundError(f"safe_open: no safetensors file at {path!r}")
        file = open(path, "rb")
        try:
            self._reader = _Reader(file, os.fstat(file.fileno()).st_size, repr(path), backend,
                                   numpy=framework in ("np", "numpy"))
        except BaseException:
            file.close()
            raise

    def keys(self):
        """The tensor names, sorted."""
        return self._reader.keys()

    def metadata(self):
        """The header's ``__metadata__`` (a dict of str to str), or None."""
        return self._reader.metadata

    def get_tensor(self, name):
        return self._reader.get_tensor(name)

    def _names_in_file_order(self):
        return self._reader.names_in_file_order()

    def close(self):
        self._reader.stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class _Reader:
    """A safetensors header, checked in full, over a seekable binary stream of ``size`` bytes."""

    def __init__(self, stream, size, label, backend, numpy):
        self.stream, self.label, self.backend, self.numpy = stream, label, backend, numpy
        if size < 8:
            raise self._error(f"it is {size} bytes, too short for the 8-byte header length: "
                              "the file is truncated, or not safetensors")
        (length,) = struct.unpack("<Q", stream.read(8))
        if length > MAX_HEADER_SIZE:
            raise self._error(f"its header length is {length} bytes, more than the "
                              f"{MAX_HEADER_SIZE} safetensors allows: the file is corrupted, or "
                              "not safetensors")
        if length > size - 8:
            raise self._error(f"its header length is {length} bytes but only {size - 8} follow: "
                              "the file is truncated")
        try:
            header = json.loads(stream.read(length).decode("utf-8"),
                                object_pairs_hook=_no_duplicates)
        except _NamedTwice as error:
            raise self._error(f"the header names {error} more than once") from None
        except (UnicodeDecodeError, ValueError) as error:
            raise self._error(f"its header is not valid JSON ({error}): the file is corrupted, "
                              "or not safetensors") from None
        if not isinstance(header, dict):
            raise self._error(f"its header is a JSON {type(header).__name__}, not an object")
        self.metadata = _checked_metadata(header.pop(METADATA, None), self._error)
        self.entries = {name: self._checked_entry(name, entry) for name, entry in header.items()}
        self.data_start = 8 + length
        self._check_layout(size - self.data_start)

    def _error(self, reason):
        return SafetensorError(f"safetensors: {self.label}: {reason}")

    def _checked_entry(self, name, entry):
        if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
            raise self._error(f"the header entry of tensor {name!r} must hold dtype, shape and "
                              f"data_offsets; it is {entry!r}")
        code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if code in UNSUPPORTED:
            raise self._error(f"tensor {name!r} has dtype {code}, which numpy (and so chainrule) "
                              "has no type for; convert it to float32 in PyTorch "
                              "(tensor.float()) and save again")
        if code not in DTYPES:
            raise self._error(f"tensor {name!r} has dtype {code!r}, which safetensors does not "
                              f"define (it defines {', '.join(DTYPES)})")
        if not isinstance(shape, list) or not all(_is_count(n) for n in shape):
            raise self._error(f"tensor {name!r} has shape {shape!r}; a shape is a list of "
                              "non-negative ints")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(_is_count(n) for n in offsets) or offsets[0] > offsets[1]):
            raise self._error(f"tensor {name!r} has data_offsets {offsets!r}; they must be "
                              "[begin, end] with 0 <= begin <= end")
        needed = math.prod(shape) * np.dtype(DTYPES[code]).itemsize
        if offsets[1] - offsets[0] != needed:
            raise self._error(f"tensor {name!r} ({code}, shape {shape}) needs {needed} bytes but "
                              f"its data_offsets {offsets} span {offsets[1] - offsets[0]}")
        return code, tuple(shape), tuple(offsets)

    def _check_layout(self, data_size):
        """Every byte of the data belongs to exactly one tensor, as safetensors requires."""
        covered, previous = 0, None
        for name in self.names_in_file_order():
            begin, end = self.entries[name][2]
            if end > data_size:
                raise self._error(f"tensor {name!r} has data_offsets [{begin}, {end}], past the "
                                  f"end of the data ({data_size} bytes): the file is truncated")
            if begin < covered:
                raise self._error(f"tensor {name!r} at data_offsets [{begin}, {end}] overlaps "
                                  f"tensor {previous!r}, which ends at {covered}: the header is "
                                  "corrupted")
            if begin > covered:
                raise self._error(f"bytes [{covered}, {begin}) of the data belong to no tensor "
                                  f"(a gap before {name!r}): the header is corrupted")
            covered, previous = end, name
        if covered != data_size:
            raise self._error(f"the data is {data_size} bytes but its tensors cover only "
                              f"{covered}: the file is corrupted, or its header is")

    def keys(self):
        return sorted(self.entries)

    def names_in_file_order(self):
        return sorted(self.entries, key=lambda name: self.entries[name][2])

    def get_tensor(self, name):
        if name not in self.entries:
            raise SafetensorError(f"safetensors: {self.label} has no tensor {name!r}")
        code, shape, (begin, end) = self.entries[name]
        raw = np.empty(end - begin, dtype=np.uint8)
        self.stream.seek(self.data_start + begin)
        if self.stream.readinto(raw) != raw.size:
            raise self._error(f"tensor {name!r} was cut short: the file changed, or is truncated")
        array = raw.view(DTYPES[code]).reshape(shape)
        if code == "BF16":  # the high half of a float32
            array = (array.astype(np.uint32) << 16).view(np.float32)
        elif code == "BOOL" and raw.size and raw.max() > 1:
            raise self._error(f"tensor {name!r} is BOOL but holds bytes other than 0 and 1")
        if sys.byteorder == "big":
            array = array.astype(array.dtype.newbyteorder("="))
        array = self.backend.asarray(array)
        return array if self.numpy else Tensor._make(array, False, None)


class _NamedTwice(Exception):
    """A JSON object in the header with a key twice (json.loads would keep the last)."""


def _no_duplicates(pairs):
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise _NamedTwice(", ".join(map(repr, twice)))
    return dict(pairs)


def _is_count(value):
    return type(value) is int and value >= 0


def _checked_metadata(metadata, error):
    if metadata is not None and (not isinstance(metadata, dict) or not all(
            isinstance(value, str) for value in metadata.values())):
        raise error(f"its {METADATA!r} must map str to str; it is {metadata!r}")
    return metadata


# ------------------------------------------------------ models with tied weights


def save_model(model, filename, metadata=None, force_contiguous=True):
    """``save_file(model.state_dict())``, keeping one name of each group of tied tensors.

    As ``safetensors.torch.save_model``: the name kept is the first in
    sorted order, and each dropped name is recorded in the metadata as
    ``{dropped: kept}``. Tensors are always written contiguous;
    ``force_contiguous`` is accepted for the signature.
    """
    state = model.state_dict()
    for group in _tied_groups(state):
        kept = group[0]
        for dropped in group[1:]:
            metadata = {} if metadata is None else metadata
            metadata.setdefault(dropped, kept)
            del state[dropped]
    save_file(state, filename, metadata=metadata)


def load_model(model, filename, strict=True, device="cpu"):
    """Load a safetensors file into ``model``; ``(missing, unexpected)`` names, as safetensors'.

    A group of tied tensors in the model is loaded from whichever of its
    names the file holds (``save_model`` keeps one). With ``strict`` a
    missing or unexpected name is a RuntimeError.
    """
    state = load_file(filename, device=device)
    own = model.state_dict()
    for group in _tied_groups(own):
        present = [name for name in group if name in state]
        for name in group:
            if present and name not in state:
                state[name] = state[present[0]]
    result = model.load_state_dict(state, strict=False)
    missing = sorted(result.missing_keys)
    unexpected = sorted(name for name in result.unexpected_keys if name not in own)
    if strict and (missing or unexpected):
        problems = [f"{kind} key(s) in state_dict: {', '.join(map(repr, names))}"
                    for kind, names in (("Missing", missing), ("Unexpected", unexpected)) if names]
        raise RuntimeError(f"load_model: error(s) in loading state_dict for "
                           f"{type(model).__name__}:\n    " + "\n    ".join(problems))
    return missing, unexpected


def _tied_groups(state):
    """Sorted lists of the names in ``state`` whose tensors are one array (tied weights)."""
    by_array = {}
    for name, tensor in state.items():
        by_array.setdefault(id(tensor.array), []).append(name)
    return [sorted(names) for names in by_array.values() if len(names) > 1]
