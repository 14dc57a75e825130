"""Saving and loading state dicts: .npz, or .safetensors for PyTorch and friends; atomic writes, never a pickle.

A file may also carry metadata, a dict of strings (what a model needs besides
its weights: its sizes, how its inputs were prepared). In a .safetensors file
it is the format's own ``__metadata__``; in a .npz it is one entry of that
name holding the dict as JSON text.
"""
import json
import os
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from ..core.tensor import Tensor
from ..fileio import atomic_write

METADATA = "__metadata__"
INSTALL_SAFETENSORS = "pip install safetensors (or pip install -e \".[safetensors]\")"


def save(state_dict, path, metadata=None):
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


def _load_safetensors(path):
    safetensors = _safetensors()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a folder, not a model file") from None
    try:
        if b'"BF16"' in data[8:8 + int.from_bytes(data[:8], "little")]:
            return _load_with_bfloat16(data, path)
        state = safetensors.numpy.load(data)
        with safetensors.safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
    except Exception as err:  # safetensors raises its own error types (SafetensorError, ...)
        reason = "the file is empty" if not data else str(err) or type(err).__name__
        raise ValueError(f"{path}: not a complete .safetensors file ({reason})") from None
    return OrderedDict(state), dict(metadata)


_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
                       "I8": "i1", "U8": "u1", "BOOL": "?"}


def _load_with_bfloat16(data, path):
    """A .safetensors file holding bfloat16 tensors (PyTorch's usual export), which NumPy has no dtype for: each
    bfloat16 is the top half of a float32, so it is read as one, exactly. Other tensors keep their dtypes."""
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    metadata = header.pop("__metadata__", None) or {}
    buffer = memoryview(data)[8 + size:]
    state = OrderedDict()
    for name, info in header.items():
        start, end = info["data_offsets"]
        raw = buffer[start:end]
        if info["dtype"] == "BF16":
            array = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] in _SAFETENSORS_DTYPES:
            array = np.frombuffer(raw, dtype=_SAFETENSORS_DTYPES[info["dtype"]]).copy()
        else:
            raise ValueError(f"tensor {name!r} has dtype {info['dtype']}, which tinygrad_np does not read")
        state[name] = array.reshape(info["shape"])
    return state, dict(metadata)


def load(path):
    """Read a state dict written by ``save`` (.npz, or .safetensors by its name).

    Never unpickles; an error names the file and what is wrong. The metadata,
    if any, is not part of the state dict: ``load_metadata`` reads it.
    """
    return _load_with_metadata(path)[0]


def load_metadata(path):
    """The dict of strings saved with ``save(..., metadata=)``; empty if none was."""
    return _load_with_metadata(path)[1]


def _load_with_metadata(path):
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        return _load_safetensors(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic and not (magic.startswith(b"PK") or magic == b"\x93NUMPY"):
            raise ValueError("it is neither a .npz archive nor a NumPy array file")
        contents = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a folder, not a model file") from None
    except (ValueError, EOFError, OSError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: not a tinygrad_np model file ({_reason(path, err)})") from None
    if not isinstance(contents, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: holds a single array (a .npy file), not a model's named arrays (.npz); "
                         "write model files with Module.save or tinygrad_np.nn.save")
    contents.close()
    state = _read_npz(path)
    metadata = state.pop(METADATA, None)
    try:
        metadata = {} if metadata is None else json.loads(str(metadata[()]))
    except (ValueError, IndexError, TypeError):
        raise ValueError(f"{path}: its {METADATA} entry is not the JSON text that save writes") from None
    if not (isinstance(metadata, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise ValueError(f"{path}: its {METADATA} entry is not a dict of strings, as save writes it")
    return state, metadata


def _read_npz(path):
    """The entries of a .npz, read member by member: by their own names (NumPy's NpzFile would hand back entry
    ``a`` for ``a.npy`` when both exist), and each header checked against the member's size before an array
    is made (a small file claiming a huge shape would otherwise be a MemoryError)."""
    state = OrderedDict()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            name = info.filename[:-len(".npy")]
            try:
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, fortran, dtype = read_header(member)
                    needed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
                    if needed > info.file_size:
                        raise ValueError(f"its header claims shape {shape} of {dtype} ({needed:,} bytes) but it "
                                         f"holds {info.file_size:,} bytes")
                with archive.open(info) as member:
                    state[name] = np.lib.format.read_array(member, allow_pickle=False)
            except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error) as err:
                raise ValueError(f"{path}: not a tinygrad_np model file: entry {name!r} cannot be read "
                                 f"({_reason(path, err)})") from None
    return state


def _reason(path, err):
    if os.path.getsize(path) == 0:
        return "the file is empty"
    if isinstance(err, zipfile.BadZipFile):
        return "not a complete .npz archive: truncated, or another kind of file"
    if isinstance(err, (EOFError, zlib.error)):
        return "the file is damaged or was not fully written"
    return str(err) or type(err).__name__
