"""Saving and loading state dicts: .npz, or .safetensors for PyTorch and friends; atomic writes, never a pickle.

A file may also carry metadata, a dict of strings (what a model needs besides
its weights: its sizes, how its inputs were prepared). In a .safetensors file
it is the format's own ``__metadata__``; in a .npz it is one entry of that
name holding the dict as JSON text.
"""
import json
import math
import os
import struct
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..core.tensor import Tensor
from ..fileio import atomic_write

METADATA = "__metadata__"


class ModelFileError(ValueError):
    """A model file that cannot be read as one: its message names the file and what is wrong with it."""


INSTALL_SAFETENSORS = "pip install safetensors (or pip install -e \".[safetensors]\")"


def save(state_dict: Mapping[str, Any], path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write a state dict to ``path``, atomically: a temporary file renamed into place.

    A path ending in ``.safetensors`` gets that format (the optional
    ``safetensors`` package writes it); any other path gets .npz. Any name is
    kept as it is, ``allow_pickle`` or ``file`` included (``np.savez`` would
    take those as its own arguments), and nothing is pickled. ``metadata`` is a
    dict of strings stored beside the arrays (``load_metadata`` reads it back).
    """
    arrays = {}
    for name, value in state_dict.items():
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.hasobject:  # would need pickling
            raise TypeError(f"save: {name!r} is not a numeric array (dtype {array.dtype}); refusing to pickle")
        if name == METADATA:
            raise ValueError(f"save: {METADATA!r} is reserved for the metadata; rename that entry")
        arrays[name] = array
    metadata = _checked_metadata(metadata)
    if os.fspath(path).endswith(".safetensors"):
        _save_safetensors(arrays, path, metadata)
        return
    if metadata:
        arrays[METADATA] = np.array(json.dumps(metadata))  # a unicode array: text without pickling
    with atomic_write(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():  # the .npz layout: one .npy member an entry
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _checked_metadata(metadata):
    metadata = dict(metadata or {})
    for key, value in metadata.items():
        if not (isinstance(key, str) and isinstance(value, str)):
            raise TypeError(f"save: metadata must map strings to strings (as safetensors' does); "
                            f"got {key!r}: {value!r}, write str(value)")
    return metadata


def _safetensors():
    try:
        import safetensors.numpy
    except ImportError:
        raise ModuleNotFoundError(f".safetensors files need the safetensors package: {INSTALL_SAFETENSORS}") from None
    return safetensors


def _save_safetensors(arrays, path, metadata):
    safetensors = _safetensors()
    # Not np.ascontiguousarray: it makes a 0-d array (1,), and a BatchNorm's num_batches_tracked would not load back.
    contiguous = {name: np.require(array, requirements="C") for name, array in arrays.items()}
    data = safetensors.numpy.save(contiguous, metadata=metadata or None)
    with atomic_write(path) as f:
        f.write(data)


def load(path: str | os.PathLike) -> "OrderedDict[str, np.ndarray]":
    """Read a state dict written by ``save`` (.npz, or .safetensors by its name).

    Never unpickles. Everything in the file is checked before an array is
    made, and no more memory is taken than its arrays really hold; a file that
    fails a check raises ModelFileError (a ValueError) naming the file and what
    is wrong. The metadata, if any, is not part of the state dict:
    ``load_metadata`` reads it.
    """
    return _read(path, data=True)[0]


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The dict of strings saved with ``save(..., metadata=)``; empty if none was. Reads no array but it."""
    return _read(path, data=False)[1]


def stored_shapes(path: str | os.PathLike) -> dict[str, tuple[int, ...]]:
    """The name and shape of every array a model file stores, from its headers alone, checked as ``load``
    checks them but with no array read: what to compare a model's metadata with before making the model."""
    return {name: array.shape for name, array in _read(path, data=False)[0].items()}


def _read(path, data: bool) -> tuple["OrderedDict[str, np.ndarray]", dict[str, str]]:
    """(state, metadata). Without ``data``, each array of the state is a stand-in of its shape and dtype
    (np.broadcast_to of a zero: no memory)."""
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        return _load_safetensors(path, data)
    state = _load_npz(path, data)
    text = state.pop(METADATA, None)
    try:
        metadata = {} if text is None else json.loads(str(text[()]))
    except (ValueError, IndexError, TypeError, RecursionError):
        raise ModelFileError(f"{path}: its {METADATA} entry is not the JSON text that save writes") from None
    if not (isinstance(metadata, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise ModelFileError(f"{path}: its {METADATA} entry is not a dict of strings, as save writes it")
    return state, metadata


# ---- reading .safetensors: one path for every file, every dtype -------------------------------------------------
MAX_HEADER = 100_000_000  # bytes of JSON header, as the safetensors package allows
# The format's dtypes that NumPy holds exactly; BF16 has no NumPy dtype and is read into float32 (below).
_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
                       "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}


def _load_safetensors(path: str, data: bool = True) -> tuple["OrderedDict[str, np.ndarray]", dict[str, str]]:
    """The tensors and metadata of a .safetensors file, every one of them checked before a byte of data is
    read: the header's size against the file's, its JSON (no name twice), each tensor's dtype, shape and
    offsets, the offsets tiling the data exactly (no overlap, no gap, nothing past the end), each tensor's
    byte count against its shape. Memory is what the tensors hold, never more than the file; bfloat16 is read
    as float32, exactly (each bfloat16 is the top half of a float32). Needs no package."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < 8:
                raise ModelFileError(f"{path}: not a complete .safetensors file ("
                                     + ("the file is empty)" if size == 0 else f"{size} bytes, fewer than 8)"))
            header_size = int.from_bytes(f.read(8), "little")
            if header_size > min(MAX_HEADER, size - 8):
                raise ModelFileError(f"{path}: not a complete .safetensors file (its header claims {header_size:,} "
                                     f"bytes, the file holds {size - 8:,} after the size"
                                     + (f", and at most {MAX_HEADER:,} are read)" if header_size > MAX_HEADER
                                        else ")"))
            header = _safetensors_header(f.read(header_size), path)
            entries, metadata = _safetensors_entries(header, size - 8 - header_size, path)
            state: OrderedDict[str, np.ndarray] = OrderedDict()
            for name, (dtype_name, shape, start, end) in entries:
                if not data:
                    dtype = np.float32 if dtype_name == "BF16" else _SAFETENSORS_DTYPES[dtype_name]
                    state[name] = np.broadcast_to(np.zeros((), dtype), shape)
                    continue
                f.seek(8 + header_size + start)
                state[name] = _read_tensor(f, dtype_name, shape, end - start, name, path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a folder, not a model file") from None
    return state, metadata


def _safetensors_header(text: bytes, path: str) -> dict:
    def no_name_twice(pairs):
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ModelFileError(f"{path}: not a valid .safetensors file (its header names {twice[0]!r} twice)")
        return dict(pairs)

    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=no_name_twice)
    except ModelFileError:
        raise
    except RecursionError:
        raise ModelFileError(f"{path}: not a valid .safetensors file (its header nests too deep)") from None
    except ValueError as err:  # UnicodeDecodeError, JSONDecodeError, a number of too many digits
        raise ModelFileError(f"{path}: not a valid .safetensors file (its header is not JSON text: "
                             f"{str(err)[:120]})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: not a valid .safetensors file (its header is not a JSON object)")
    return header


def _safetensors_entries(header: dict, data_size: int, path: str):
    """``([(name, (dtype, shape, start, end)), ...] in the file's order, metadata)``, each checked."""
    def refuse(reason):
        raise ModelFileError(f"{path}: not a valid .safetensors file ({reason})")

    metadata = header.pop(METADATA, None) or {}
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        refuse(f"its {METADATA} is not a map of strings to strings")
    entries = []
    for name, info in header.items():
        if not (isinstance(info, dict) and set(info) == {"dtype", "shape", "data_offsets"}):
            refuse(f"tensor {name!r} is not described by exactly dtype, shape and data_offsets")
        dtype_name, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dtype_name, str) or dtype_name not in _SAFETENSORS_DTYPES:
            refuse(f"tensor {name!r} has dtype {str(dtype_name)[:40]!r}, which tinygrad_np does not read (it reads "
                   f"{', '.join(_SAFETENSORS_DTYPES)})")
        if not (isinstance(shape, list) and len(shape) <= 32 and all(_whole(n) and n >= 0 for n in shape)):
            refuse(f"tensor {name!r} has shape {str(shape)[:60]}, not a list of at most 32 whole numbers from 0")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_whole(n) for n in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            refuse(f"tensor {name!r} has data_offsets {str(offsets)[:60]}, not [start, end] with 0 <= start <= end")
        if offsets[1] > data_size:
            raise ModelFileError(f"{path}: not a complete .safetensors file (tensor {name!r} ends at byte "
                                 f"{offsets[1]:,} of the data, the file holds {data_size:,}: cut short?)")
        needed = math.prod(shape) * np.dtype(_SAFETENSORS_DTYPES[dtype_name]).itemsize  # Python ints: no overflow
        if offsets[1] - offsets[0] != needed:
            refuse(f"tensor {name!r} of shape {shape} and dtype {dtype_name} needs {needed:,} bytes, its "
                   f"data_offsets {offsets} hold {offsets[1] - offsets[0]:,}")
        entries.append((name, (dtype_name, tuple(shape), offsets[0], offsets[1])))
    end = 0
    for name, (_, _, start, stop) in sorted(entries, key=lambda e: (e[1][2], e[1][3])):
        if start != end:  # the format's rule: the tensors tile the data, in order, with nothing between
            refuse(f"tensor {name!r} starts at byte {start:,} of the data, where " + (
                "the one before it still runs (they overlap)" if start < end else f"byte {end:,} is expected "
                "(the bytes between belong to no tensor)"))
        end = stop
    if end != data_size:
        raise ModelFileError(f"{path}: not a complete .safetensors file (its tensors end at byte {end:,} of the "
                             f"data, the file holds {data_size:,})")
    return entries, dict(metadata)


def _read_tensor(f, dtype_name: str, shape: tuple[int, ...], nbytes: int, name: str, path: str) -> np.ndarray:
    array = np.empty(shape, dtype=_SAFETENSORS_DTYPES[dtype_name])  # checked: nbytes is its size, within the file
    if f.readinto(array.reshape(-1).view(np.uint8).data) != nbytes:
        raise ModelFileError(f"{path}: not a complete .safetensors file (tensor {name!r} is cut short)")
    if dtype_name == "BF16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    if dtype_name == "BOOL" and array.view(np.uint8).max(initial=0) > 1:
        raise ModelFileError(f"{path}: not a valid .safetensors file (tensor {name!r} of dtype BOOL holds a byte "
                             "other than 0 and 1)")
    return array


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---- reading .npz ----------------------------------------------------------------------------------------------
# Deflate turns at most 1032 bytes into one, and a .npz member is stored or deflated: a member whose directory
# entry claims more than that is lying, and is refused before anything is read.
_DEFLATE_MOST = 1032
_CHUNK = 1 << 20


def _load_npz(path: str, data: bool = True) -> "OrderedDict[str, np.ndarray]":
    """The arrays of a .npz, read member by member by their own names, within memory the members' data really
    holds: each member's directory entry checked against the archive's size (stored or deflated only, and no
    more than deflate can give), its .npy header against the entry, its data read in chunks (never allocated from
    a claim) and checked to be exactly what the header says, its checksum verified. No pickle, ever."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            magic = f.read(6)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a folder, not a model file") from None
    if size == 0:
        raise ModelFileError(f"{path}: not a tinygrad_np model file (the file is empty)")
    if magic == b"\x93NUMPY":
        raise ModelFileError(f"{path}: holds a single array (a .npy file), not a model's named arrays (.npz); "
                             "write model files with Module.save or tinygrad_np.nn.save")
    if not magic.startswith(b"PK"):
        raise ModelFileError(f"{path}: not a tinygrad_np model file (it is neither a .npz archive nor a NumPy "
                             "array file)")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [info for info in archive.infolist() if info.filename.endswith(".npy")]
            names = [info.filename[:-len(".npy")] for info in infos]
            if len(set(names)) != len(names):
                twice = sorted({n for n in names if names.count(n) > 1})[0]
                raise ModelFileError(f"{path}: not a tinygrad_np model file (it holds entry {twice!r} twice)")
            for info, name in zip(infos, names, strict=True):
                _check_directory_entry(info, name, size, path)
            state: OrderedDict[str, np.ndarray] = OrderedDict()
            for info, name in zip(infos, names, strict=True):
                state[name] = _read_member(archive, info, name, path, data or name == METADATA)
            return state
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, zlib.error, NotImplementedError,
            RuntimeError, OverflowError, IndexError, KeyError, struct.error) as err:
        raise ModelFileError(f"{path}: not a tinygrad_np model file ({_reason(err)})") from None


def _check_directory_entry(info: zipfile.ZipInfo, name: str, size: int, path: str) -> None:
    def refuse(reason):
        raise ModelFileError(f"{path}: not a tinygrad_np model file: entry {name!r} {reason}")

    if info.flag_bits & 0x1:
        refuse("is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        refuse(f"is compressed with method {info.compress_type}; a .npz is stored or deflated")
    if info.header_offset + info.compress_size > size:
        refuse(f"claims {info.compress_size:,} bytes at offset {info.header_offset:,}, past the end of the "
               f"{size:,}-byte file (its directory lies about sizes)")
    most = info.compress_size if info.compress_type == zipfile.ZIP_STORED else _DEFLATE_MOST * info.compress_size + 64
    if info.file_size > most:
        refuse(f"claims {info.file_size:,} bytes from {info.compress_size:,} stored, more than "
               + ("storing" if info.compress_type == zipfile.ZIP_STORED else "deflate") + " can give "
               "(its directory lies about sizes)")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, path: str, data: bool) -> np.ndarray:
    def refuse(reason):
        raise ModelFileError(f"{path}: not a tinygrad_np model file: entry {name!r} cannot be read ({reason})")

    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0), (3, 0)):
            refuse(f"it is a .npy file of version {version}, which tinygrad_np does not read")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(member)  # NumPy bounds the header's length
        if dtype.hasobject or dtype.kind not in "biufcUS":  # (load_state_dict then refuses text where numbers go)
            refuse(f"it holds dtype {dtype}, neither numbers nor text, and nothing is unpickled")
        needed = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        header_end = member.tell()
        if header_end + needed != info.file_size:
            refuse(f"its header claims shape {shape} of {dtype} ({needed:,} bytes) but it holds "
                   f"{max(0, info.file_size - header_end):,} bytes of data")
        if not data:
            return np.broadcast_to(np.zeros((), dtype), shape)
        raw = bytearray()
        while len(raw) < needed:  # grows with what really arrives: a claim allocates nothing
            chunk = member.read(min(_CHUNK, needed - len(raw)))
            if not chunk:
                refuse(f"it is cut short: {len(raw):,} of {needed:,} bytes")
            raw += chunk
        if member.read(1):  # (and at its end, zipfile checks the member's CRC)
            refuse(f"it holds more than the {needed:,} bytes its header claims")
    array = np.frombuffer(raw, dtype=dtype) if needed else np.zeros(0, dtype=dtype)
    return array.reshape(shape, order="F" if fortran_order else "C")


def _reason(err: BaseException) -> str:
    if isinstance(err, zipfile.BadZipFile):
        return f"not a complete .npz archive: truncated, damaged, or another kind of file ({str(err)[:80]})"
    if isinstance(err, (EOFError, zlib.error)):
        return "the file is damaged or was not fully written"
    return str(err)[:200] or type(err).__name__
