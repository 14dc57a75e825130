"""Saving and loading state dicts: .npz, or .safetensors for PyTorch and friends; atomic writes, never a pickle.

A file may also carry metadata, a dict of strings (what a model needs besides
its weights: its sizes, how its inputs were prepared). In a .safetensors file
it is the format's own ``__metadata__``; in a .npz it is one entry of that
name holding the dict as JSON text.

A model file may come from anyone, so reading one is bounded: every loader
either reads the file correctly or raises ModelFileError (a ValueError) naming
the file and the part of it that is wrong, whatever the file holds, and takes
no more than the bounds below. Each bound is a module constant read at call
time (``nn.serialization.MAX_TENSORS = ...`` raises it) and is named in the
error that enforces it; ``load(max_bytes=)`` raises the one a real model may
meet.
"""
import ast
import contextlib
import json
import math
import os
import re
import stat
import struct
import time
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..core.tensor import Tensor
from ..fileio import atomic_write, check_target

METADATA = "__metadata__"
# The metadata key under which save records each .safetensors tensor's CRC-32 (the format has no checksum): load
# compares, so a file changed in place after it was written, or while it was read, is refused. Reserved.
CHECKSUMS = "tinygrad_np.crc32"

# ---- the bounds on what a file can make a loader do -------------------------------------------------------------
#: The most bytes decompression may add to a file: a .npz's arrays (deflated, as np.savez_compressed writes them)
#: may unpack to at most the file's own size plus this. ``load(path, max_bytes=)`` raises it. Stored arrays and
#: .safetensors files hold no more than the file, so it never refuses them. 400 MB: as many float32 values as
#: nn.architecture.MAX_PARAMETERS.
MAX_BYTES = 400_000_000
#: The most bytes of a .safetensors header (JSON text). Parsing JSON takes up to about 25 times its length, so this
#: bounds a header's cost at about 400 MB; the largest real headers are a few MB.
MAX_HEADER = 16 << 20
#: The most characters of metadata, counted in both formats as its JSON text with non-ASCII characters unescaped
#: (``json.dumps(metadata, ensure_ascii=False)``, what a .npz's __metadata__ entry stores).
MAX_METADATA = 4 << 20
#: The most arrays a file may hold (and members a .npz may have): each costs memory and time to check.
MAX_TENSORS = 100_000
#: The most dimensions an array may have.
MAX_DIMENSIONS = 32
# The most bytes an array's shape may describe with each empty axis counted as one element: a (0, 2**62) array
# holds nothing, but NumPy cannot describe it ("array is too big"). Far past any file, far within NumPy's reach.
_LARGEST_SPAN = 1 << 48
_NPY_HEADER_MOST = 10_000  # bytes of a .npy header: NumPy's own default bound
_CHUNK = 1 << 20  # bytes read at a time
_SMALL = 1 << 16  # a .npz array of at most this many bytes is read with its header: no second opening of its member


class ModelFileError(ValueError):
    """A model file that cannot be read as one: its message names the file and what is wrong with it."""


class StoredArray(NamedTuple):
    """One array a file stores, as its header describes it: its shape, and the dtype ``load`` gives it (float32
    for bfloat16). ``nbytes`` is the memory ``load`` takes for it."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


INSTALL_SAFETENSORS = "pip install safetensors (or pip install -e \".[safetensors]\")"


def _as_path(path: Any, who: str) -> str:
    """``path`` as text: a str, or bytes or an os.PathLike as ``os.fspath`` gives them (bytes decoded as the file
    system does, so any name the system holds comes back to the same bytes when opened)."""
    try:
        return os.fsdecode(path)
    except TypeError:
        raise TypeError(f"{who}: path must be a str, bytes or os.PathLike, got {type(path).__name__}") from None


def _is_safetensors_name(path: str) -> bool:
    """The format a name asks for: .safetensors in any case (x.SAFETENSORS too), else .npz."""
    return path.lower().endswith(".safetensors")


def save(state_dict: Mapping[str, Any], path: str | bytes | os.PathLike,
         metadata: Mapping[str, str] | None = None) -> None:
    """Write a state dict to ``path``, atomically: a temporary file renamed into place.

    A path ending in ``.safetensors`` (in any case) gets that format (the
    optional ``safetensors`` package writes it); any other path gets .npz.
    ``path`` is a str, bytes or os.PathLike, as ``open`` takes. Any name is
    kept as it is, ``allow_pickle`` or ``file`` included (``np.savez`` would
    take those as its own arguments), and nothing is pickled. ``metadata`` is a
    dict of strings stored beside the arrays (``load_metadata`` reads it back).
    """
    path = _as_path(path, "save")
    check_target(path, "save")  # a folder, a device, a FIFO or an empty name: refused before any work, naming the path
    safetensors = _is_safetensors_name(path)
    arrays = {}
    for name, value in state_dict.items():
        try:
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
        except ValueError as err:  # a ragged list: NumPy's own message names no entry
            raise ValueError(f"save: {name!r} is not an array ({err})") from None
        if array.dtype.hasobject:  # would need pickling
            raise TypeError(f"save: {name!r} is not a numeric array (dtype {array.dtype}); refusing to pickle")
        if name == METADATA:
            raise ValueError(f"save: {METADATA!r} is reserved for the metadata; rename that entry")
        _check_saveable(name, array, safetensors)
        arrays[name] = array
    metadata = _checked_metadata(metadata)
    # Everything load would refuse is refused here, before a byte is written: the file being replaced stays.
    count = len(arrays) + (1 if metadata and not safetensors else 0)  # a .npz's metadata is one more member
    if count > MAX_TENSORS:
        raise ValueError(f"save: {count:,} entries, more than the {MAX_TENSORS:,} a model file may hold "
                         "(nn.serialization.MAX_TENSORS); load would refuse the file")
    metadata_text = _metadata_json(metadata) if metadata else None
    characters = len(metadata_text) if metadata_text else 0
    if characters > MAX_METADATA:
        raise ValueError(f"save: the metadata takes {characters:,} characters (as JSON text), more than the "
                         f"{MAX_METADATA:,} metadata may hold (nn.serialization.MAX_METADATA); load would refuse the "
                         "file")
    if safetensors:
        _save_safetensors(arrays, path, metadata)
        return
    if metadata_text:
        arrays[METADATA] = np.array(metadata_text)  # a unicode array: text without pickling
    with atomic_write(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():  # the .npz layout: one .npy member an entry
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


_ZIP_NAME_BYTES = 65_535  # a zip header stores a member name's length in 16 bits


def _check_saveable(name: Any, array: np.ndarray, safetensors: bool) -> None:
    """Refuse an entry that load would refuse: a name that is not text (or, in a .npz, holds a NUL, where a zip
    member's name ends), more than MAX_DIMENSIONS dimensions, or a dtype the format does not read back."""
    if not isinstance(name, str):
        raise TypeError(f"save: entry names must be strings, got {name!r}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"save: entry name {name!r} is not valid text (it holds a lone surrogate)") from None
    if not safetensors and len(name.encode("utf-8")) + len(".npy") > _ZIP_NAME_BYTES:
        raise ValueError(f"save: entry name {name[:40]!r}... is {len(name.encode('utf-8')):,} bytes in UTF-8; a .npz "
                         f"member's name (the entry's name and \".npy\") holds at most {_ZIP_NAME_BYTES:,} bytes. "
                         "Shorten it, or save to a .safetensors file")
    if not safetensors and "\x00" in name:
        raise ValueError(f"save: entry name {name!r} holds a NUL character, where a .npz's member names end "
                         "(the entry would be lost or renamed); rename it, or save to a .safetensors file")
    if array.ndim > MAX_DIMENSIONS:
        raise ValueError(f"save: {name!r} has {array.ndim} dimensions, more than the {MAX_DIMENSIONS} load reads "
                         "(nn.serialization.MAX_DIMENSIONS)")
    kind, size = array.dtype.kind, array.dtype.itemsize
    if safetensors and not (kind == "b" or (kind == "f" and size in (2, 4, 8)) or (kind in "iu" and size <= 8)):
        raise TypeError(f"save: {name!r} has dtype {array.dtype}, which tinygrad_np does not read from a "
                        ".safetensors file (it reads bools, ints to 64 bits, float16/32/64); a .npz holds it")
    if not safetensors and kind not in "biufcUS":
        raise TypeError(f"save: {name!r} has dtype {array.dtype}, which load does not read (numbers, bools or "
                        "text)")
    if kind == "U" and array.size:
        units = np.ascontiguousarray(array).view(np.dtype(array.dtype.byteorder + "u4"))
        if units.max() > 0x10FFFF or ((units >= 0xD800) & (units <= 0xDFFF)).any():
            raise ValueError(f"save: {name!r} holds text that is not Unicode characters (a value past U+10FFFF, or "
                             "a lone surrogate); load would refuse the file")


def _checked_metadata(metadata):
    metadata = dict(metadata or {})
    if CHECKSUMS in metadata:
        raise ValueError(f"save: the metadata key {CHECKSUMS!r} is reserved (save records the tensors' checksums "
                         "under it); rename it")
    for key, value in metadata.items():
        if not (isinstance(key, str) and isinstance(value, str)):
            raise TypeError(f"save: metadata must map strings to strings (as safetensors' does); "
                            f"got {key!r}: {value!r}, write str(value)")
        for what, text in (("key", key), ("value", value)):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as err:  # UTF-8 has no form for it: .safetensors could not write it
                raise ValueError(f"save: metadata {key!r}: its {what} is not valid text (it holds a lone surrogate, "
                                 f"{text[err.start]!r}, which UTF-8 cannot hold); decode the bytes it came from "
                                 "with errors='replace', or drop it") from None
    return metadata


def _metadata_json(metadata: Mapping[str, str]) -> str:
    """The metadata as JSON text, non-ASCII characters unescaped: what a .npz stores, and what MAX_METADATA counts
    in either format (so é counts once, in both)."""
    return json.dumps(metadata, ensure_ascii=False)


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
    # Each tensor's CRC-32 over the bytes the format stores (little-endian, C order), computed from the arrays, so
    # that the file is serialized once
    sums = {name: zlib.crc32(np.require(array.astype(array.dtype.newbyteorder("<"), copy=False),
                                        requirements="C").reshape(-1).view(np.uint8))
            for name, array in contiguous.items()}
    data = safetensors.numpy.save(contiguous, metadata={**(metadata or {}), CHECKSUMS: json.dumps(sums)})
    header_size = int.from_bytes(data[:8], "little")
    if header_size > MAX_HEADER:
        raise ValueError(f"save: the .safetensors header would be {header_size:,} bytes, more than the "
                         f"{MAX_HEADER:,} load reads (nn.serialization.MAX_HEADER): names too long or too many")
    with atomic_write(path) as f:
        f.write(data)


def load(path: str | bytes | os.PathLike, max_bytes: int | None = None,
         expect: Mapping[str, Iterable[int]] | None = None) -> "OrderedDict[str, np.ndarray]":
    """Read a state dict written by ``save`` (.npz, or .safetensors by its name).

    Never unpickles. Every header in the file is checked before an array is
    made, and no more memory is taken than its arrays really hold: a .npz's
    arrays may unpack to at most the file's size plus ``max_bytes``
    (``MAX_BYTES``, 400 MB, unless raised). With ``expect`` (name -> shape, as
    ``{k: v.shape for k, v in model.state_dict().items()}``), the names and
    shapes the headers give are compared with it before any data is read. A
    file that fails a check raises ModelFileError (a ValueError) naming the
    file and what is wrong. The metadata, if any, is not part of the state
    dict: ``load_metadata`` reads it.
    """
    return load_with_metadata(path, max_bytes, expect)[0]


def load_with_metadata(path: str | bytes | os.PathLike, max_bytes: int | None = None,
                       expect: Mapping[str, Iterable[int]] | None = None
                       ) -> "tuple[OrderedDict[str, np.ndarray], dict[str, str]]":
    """``(state dict, metadata)`` read from one opening of the file, checked as ``load`` checks it: a reader that
    takes its metadata and arrays by two calls may pair one save's metadata with another's weights, when the file
    is replaced between them (a training run saving while a program reads)."""
    _check_max_bytes(max_bytes)
    arrays, metadata = _read(path, "arrays", max_bytes, _checked_expect(expect))
    return arrays, metadata


def _check_max_bytes(max_bytes: Any) -> None:
    if max_bytes is not None and not (_whole(max_bytes) and max_bytes >= 0):
        raise ValueError(f"load: max_bytes must be a whole number of bytes from 0 (or None for MAX_BYTES), got "
                         f"{max_bytes!r}")


def _checked_expect(expect: Mapping[str, Iterable[int]] | None) -> dict[str, tuple[int, ...]] | None:
    """``expect`` as name -> shape tuple, once every name is a string and every shape whole numbers from 0: a bad
    argument is the caller's fault, said before the file is opened."""
    if expect is None:
        return None
    if not isinstance(expect, Mapping):
        raise ValueError(f"load: expect must map names to shapes, got {type(expect).__name__}")
    checked = {}
    for name, given in expect.items():
        try:
            shape: tuple[int, ...] | None = tuple(given)
        except TypeError:
            shape = None
        if not isinstance(name, str) or shape is None or not all(_whole(n) and n >= 0 for n in shape):
            raise ValueError(f"load: expect must map names to shapes (tuples of whole numbers from 0), got "
                             f"{name!r}: {_short(given)}")
        checked[name] = shape
    return checked


def load_metadata(path: str | bytes | os.PathLike) -> dict[str, str]:
    """The dict of strings saved with ``save(..., metadata=)``; empty if none was. Reads the file's headers and
    its metadata, no array."""
    return _read(path, "metadata", who="load_metadata")[1]


def stored_arrays(path: str | bytes | os.PathLike) -> dict[str, StoredArray]:
    """The name, shape and dtype of every array a model file stores, from its headers alone, checked as ``load``
    checks them but with no array read: what to compare a model's metadata with before making the model.
    ``sum(a.nbytes for a in stored_arrays(path).values())`` is the memory ``load`` would take."""
    return _read(path, "headers", who="stored_arrays")[0]


def stored_shapes(path: str | bytes | os.PathLike) -> dict[str, tuple[int, ...]]:
    """The name and shape of every array a model file stores, from its headers alone (``stored_arrays``)."""
    return {name: stored.shape for name, stored in stored_arrays(path).items()}


class _Reading:
    """The part of a file being read, for the message of an error nobody foresaw."""

    what = "the file"


def _read(path, want: str, max_bytes: int | None = None, expect: Mapping[str, Iterable[int]] | None = None,
          opened=None, since: tuple[int, ...] | None = None, who: str = "load") -> Any:
    """``(arrays, metadata)``: the state (``want="arrays"``), the StoredArray of each entry (``"headers"``), or no
    arrays (``"metadata"``), read from ``opened`` (a file ``_open`` gave; unchanged since its fingerprint ``since``)
    or from the path opened now. Every
    exception that reading the file raises, from NumPy, zipfile, zlib, the JSON reader or a memory allocation,
    becomes a ModelFileError naming the file and the part being read; only a missing file, a folder or a file one
    may not read keep their own kinds."""
    path = _as_path(path, who)
    reading = _Reading()
    safetensors = _is_safetensors_name(path)
    try:
        with (contextlib.nullcontext(opened) if opened is not None else _open(path)) as f:
            if since is not None:  # several reads of one opening: each of the file as it was opened
                _check_unchanged(f, since)
            f.seek(0)
            if safetensors:
                result = _read_safetensors(f, path, want, expect, reading)
            else:
                result = _read_npz(f, path, want, max_bytes, expect, reading)
            if since is not None:
                _check_unchanged(f, since)
            return result
    except (ModelFileError, FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except _FileChanged:
        raise ModelFileError(f"{path}: the file changed while it was being read (another program is writing it); "
                             "read it again once it is written") from None
    except MemoryError:
        raise ModelFileError(f"{path}: not enough memory to read {reading.what}") from None
    except Exception as err:  # noqa: BLE001 - the point: whatever a file provokes, the error names the file
        kind = "a valid .safetensors file" if safetensors else "a tinygrad_np model file"
        raise ModelFileError(f"{path}: not {kind} ({reading.what}: {_reason(err)})") from err


class ModelFile:
    """A model file opened once: its metadata, its arrays' headers and its arrays, each read from that one opening
    and checked as ``load_metadata``, ``stored_arrays`` and ``load`` check them. Made by ``open_model_file(path)``,
    a context manager. Another program may replace the path meanwhile (``save`` renames a new file into place):
    every read here is of the file that was opened, so a reader that checks the metadata, then the shapes, then
    loads the arrays never pairs one save's metadata with another's weights, and is never told the file changed
    when only the path moved on."""

    def __init__(self, path: str | bytes | os.PathLike) -> None:
        self.path = _as_path(path, "open_model_file")
        self._file = _open(self.path)
        self._opened = _fingerprint(self._file)  # each read checks the file is as it was when opened

    def _check_open(self) -> None:
        if self._file.closed:
            raise ValueError(f"{self.path}: this ModelFile is closed (its with block ended); use it inside the "
                             "block, or open the file again with nn.open_model_file")

    def metadata(self) -> dict[str, str]:
        """The metadata (``load_metadata``)."""
        self._check_open()
        return _read(self.path, "metadata", opened=self._file, since=self._opened, who="load_metadata")[1]

    def stored_arrays(self) -> dict[str, StoredArray]:
        """Each array's shape and dtype, from the headers alone (``stored_arrays``)."""
        self._check_open()
        return _read(self.path, "headers", opened=self._file, since=self._opened, who="stored_arrays")[0]

    def load_with_metadata(self, max_bytes: int | None = None, expect: Mapping[str, Iterable[int]] | None = None
                           ) -> "tuple[OrderedDict[str, np.ndarray], dict[str, str]]":
        """``(state dict, metadata)``, as ``load_with_metadata``."""
        self._check_open()
        _check_max_bytes(max_bytes)
        return _read(self.path, "arrays", max_bytes, _checked_expect(expect), opened=self._file, since=self._opened)

    def load(self, max_bytes: int | None = None, expect: Mapping[str, Iterable[int]] | None = None
             ) -> "OrderedDict[str, np.ndarray]":
        """The state dict, as ``load``."""
        return self.load_with_metadata(max_bytes, expect)[0]

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "ModelFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_model_file(path: str | bytes | os.PathLike) -> ModelFile:
    """``path`` opened once, as a ``ModelFile`` (``with nn.open_model_file(p) as f: f.metadata(); f.load()``):
    what a reader that checks a file's metadata before loading its arrays uses, so that both come from one file.
    Refuses at once what every reader refuses before reading (a missing file, a folder, a FIFO, a device)."""
    return ModelFile(path)


class _FileChanged(Exception):
    """The file's size or times differ after reading from before: another writer was at work."""


def _fingerprint(f) -> tuple[int, ...]:
    """What identifies the opened file's contents, from its descriptor (never its path, which another program may
    point at a new file at any moment): inode, size, modification and change times, and link count."""
    st = os.fstat(f.fileno())
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_nlink)


def _check_unchanged(f, before: tuple[int, ...]) -> None:
    """A file rewritten in place while read would give a model mixing two versions (.safetensors has no
    checksum): its size and modification time, read again after the data, must be the ones before, and its change
    time too unless its link count fell. A file replaced by a rename (how ``save`` writes) or removed loses its
    last link, which sets its change time, yet nothing in it changed: the bytes read are the old file's, whole,
    and reading them is no error."""
    after = _fingerprint(f)
    unlinked = after[4] < before[4]
    if after[:3] != before[:3] or (after[3] != before[3] and not unlinked):
        raise _FileChanged


def _reason(err: BaseException) -> str:
    if isinstance(err, zipfile.BadZipFile):
        return f"not a complete .npz archive: truncated, damaged, or another kind of file ({str(err)[:80]})"
    if isinstance(err, (EOFError, zlib.error)):
        return "the file is damaged or was not fully written"
    return f"{type(err).__name__}: {str(err)[:160]}"


def _open(path: str):
    """The file opened for reading, once it is known to be a regular file: a FIFO would block the open (and every
    read) forever, a device (/dev/urandom) never ends. Opened without blocking, then checked by fstat, so a
    file swapped for a FIFO after a check cannot slip through."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a folder, not a model file") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"{path}: is a folder, not a model file")
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or
                stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise ModelFileError(f"{path}: is {kind}, not a model file; a model file is a regular file")
    if hasattr(os, "O_NONBLOCK"):  # back to blocking reads (no difference for a regular file, but stated)
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _empty(f, path: str, kind: str) -> ModelFileError:
    """The error for a file of size 0: empty, or one whose size the system does not know (/proc/self/status)."""
    if f.read(1):
        return ModelFileError(f"{path}: not {kind} (its size is not known: a special file such as those under "
                              "/proc, not a model file)")
    return ModelFileError(f"{path}: not {kind} (the file is empty)")


def _checked_shape(shape: Any, itemsize: int, refuse) -> tuple[int, ...]:
    """``shape`` as a tuple, once it is a list or tuple of at most MAX_DIMENSIONS whole numbers from 0 (never a
    bool) that NumPy can describe: checked before NumPy sees it, empty arrays included."""
    if not (isinstance(shape, (list, tuple)) and len(shape) <= MAX_DIMENSIONS
            and all(_whole(n) and n >= 0 for n in shape)):
        refuse(f"shape {_short(shape)}, not a list of at most {MAX_DIMENSIONS} whole numbers from 0 "
               "(MAX_DIMENSIONS)")
    if math.prod(max(n, 1) for n in shape) * max(itemsize, 1) > _LARGEST_SPAN:
        refuse(f"shape {_short(shape)}, which describes more than 2**48 bytes even with each empty axis counted "
               "as one element; no model file holds such an array")
    return tuple(shape)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value) -> str:
    text = repr(list(value) if isinstance(value, tuple) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_count(count: int, path: str, at_least: bool = False) -> None:
    if count > MAX_TENSORS:
        raise ModelFileError(f"{path}: holds {'at least ' if at_least else ''}{count:,} entries, more than the "
                             f"{MAX_TENSORS:,} a model file may hold "
                             "(nn.serialization.MAX_TENSORS)")


def _check_expected(stored: Mapping[str, StoredArray], expect: Mapping[str, Iterable[int]] | None, path: str):
    """Refuse, from the headers alone, a file whose names or shapes are not the ones ``expect`` gives."""
    if expect is None:
        return
    expected = dict(expect)
    problems = [f"missing {name}" for name in expected if name not in stored]
    problems += [f"unexpected {name}" for name in stored if name not in expected]
    problems += [f"{name}: expected {shape}, got {stored[name].shape}" for name, shape in expected.items()
                 if name in stored and stored[name].shape != shape]
    if problems:
        shown = problems[:5] + ([f"and {len(problems) - 5} more"] if len(problems) > 5 else [])
        raise ModelFileError(f"{path}: holds other arrays than expected: " + "; ".join(shown))


def _parsed_metadata(text: str, path: str, where: str) -> dict[str, str]:
    if len(text) > MAX_METADATA:
        raise ModelFileError(f"{path}: its {where} holds {len(text):,} characters, more than the {MAX_METADATA:,} "
                             "metadata may hold (nn.serialization.MAX_METADATA)")
    try:
        metadata = json_without_repeats(text)
    except RepeatedKey as err:
        raise ModelFileError(f"{path}: its {where} names {err.args[0]!r} twice (readers differ on which one "
                             "counts)") from None
    except (ValueError, RecursionError):
        raise ModelFileError(f"{path}: its {where} is not the JSON text that save writes") from None
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise ModelFileError(f"{path}: its {where} is not a dict of strings, as save writes it")
    metadata.pop(CHECKSUMS, None)  # (save records checksums in .safetensors files only: a .npz has CRCs of its own)
    _check_metadata_text(metadata, path)
    return metadata


def _check_metadata_text(metadata: Mapping[str, str], path: str) -> None:
    """Refuse metadata holding a lone surrogate (JSON's "\\udcff" escape gives one): no UTF-8 text holds it, save
    refuses it, and a reader would fail on it later with an error naming nothing."""
    for key, value in metadata.items():
        for what, text in (("key", key), ("value", value)):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as err:
                raise ModelFileError(f"{path}: its metadata {key!r}: its {what} is not valid text (it holds a lone "
                                     f"surrogate, {text[err.start]!r})") from None


# ---- reading .safetensors: one path for every file, every dtype -------------------------------------------------
# The format's dtypes that NumPy holds exactly; BF16 has no NumPy dtype and is read into float32 (below).
_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
                       "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}


def _read_safetensors(f, path: str, want: str, expect, reading: _Reading):
    """The tensors (or their StoredArrays) and metadata of a .safetensors file, every one of them checked before
    a byte of data is read: the header's size against the file's and MAX_HEADER, its JSON (no name twice), the
    number of tensors, each tensor's dtype, shape and offsets, the offsets tiling the data exactly (no overlap,
    no gap, nothing past the end), each tensor's byte count against its shape. Memory is what the tensors hold,
    never more than the file (twice for bfloat16, read as float32, exactly: each bfloat16 is the top half of a
    float32). Needs no package."""
    before = _fingerprint(f)
    size = before[1]
    if size == 0:
        raise _empty(f, path, "a complete .safetensors file")
    if size < 8:
        raise ModelFileError(f"{path}: not a complete .safetensors file ({size} bytes, fewer than 8)")
    reading.what = "its header"
    first = f.read(8)
    header_size = int.from_bytes(first, "little")
    if first.startswith((b"PK\x03\x04", b"PK\x05\x06", _NPY_MAGIC[:6])):
        kind = "a .npz archive" if first.startswith(b"PK") else "a NumPy array file (.npy)"
        raise ModelFileError(f"{path}: not a .safetensors file: it looks like {kind}, which is read by its name: "
                             "rename it (or a copy) to end in .npz, and load that")
    if header_size > size - 8:
        raise ModelFileError(f"{path}: not a complete .safetensors file (its header claims {header_size:,} "
                             f"bytes, the file holds {size - 8:,} after the size)")
    if header_size > MAX_HEADER:
        raise ModelFileError(f"{path}: its .safetensors header is {header_size:,} bytes, more than the "
                             f"{MAX_HEADER:,} a header may be (nn.serialization.MAX_HEADER)")
    header_bytes = f.read(header_size)
    header = _safetensors_header(header_bytes, path)
    entries, metadata = _safetensors_entries(header, size - 8 - header_size, path, reading)
    recorded = _recorded_checksums(metadata, entries, path)
    stored = {name: StoredArray(shape, np.dtype(np.float32 if dtype_name == "BF16" else
                                                _SAFETENSORS_DTYPES[dtype_name]))
              for name, dtype_name, shape, _, _ in entries} if want != "metadata" else {}
    _check_expected(stored, expect, path)
    if want != "arrays":
        return stored, metadata
    began = time.time_ns()
    state: OrderedDict[str, np.ndarray] = OrderedDict()
    checksums = []
    for name, dtype_name, shape, start, end in entries:
        reading.what = f"tensor {name!r}"
        f.seek(8 + header_size + start)
        state[name], checksum = _read_tensor(f, dtype_name, shape, end - start, name, path)
        checksums.append(checksum)
    _check_unchanged(f, before)
    for (name, *_), checksum in zip(entries, checksums, strict=True):
        if recorded is not None and recorded[name] != checksum:
            raise ModelFileError(f"{path}: tensor {name!r} is not what this file was saved with (its checksum "
                                 "differs): the file was changed in place after it was written, or while it was "
                                 "read; read it again once it is written, or save it again")
    if before[2] > began - _RECENT:  # written just now: a writer may still be at it within the clock's tick
        time.sleep(_TICK)  # past the tick: a write still going on now changes the times
        _check_unchanged(f, before)
    # Always read a second time and compare: a writer through a shared mmap whose pages are already dirty
    # changes the bytes without moving the times (Linux moves them only at the next write fault, after
    # writeback), and 12 of 20 loads during such a rewrite mixed two versions. From the page cache, the second
    # read costs about what a copy of the file does.
    reading.what = "the file a second time"
    _check_same_bytes(f, header_bytes, entries, checksums, header_size)
    if before[2] > began - _RECENT:
        _check_unchanged(f, before)
    return state, metadata


# A file's modification time is kept to the kernel's clock tick (a few milliseconds; a second or two on some file
# systems): a rewrite within one tick leaves the times unchanged. So a file modified this recently is looked at
# again one tick later (a writer still at work has changed its times by then) and read a second time (a writer
# that finished meanwhile has changed its bytes).
_RECENT = 2_500_000_000  # nanoseconds
_TICK = 0.02  # seconds: longer than the kernel's clock tick at HZ=100


def _check_same_bytes(f, header_bytes: bytes, entries, checksums: list[int], header_size: int) -> None:
    """Read the file again, a chunk at a time, and compare: its header byte for byte, each tensor's bytes by
    their CRC-32. The format has no checksum of its own; this is what catches a .safetensors file rewritten in
    place while it was read (which would otherwise give a model mixing two versions)."""
    f.seek(8)
    if f.read(header_size) != header_bytes:
        raise _FileChanged
    for (_, _, _, start, end), checksum in zip(entries, checksums, strict=True):
        f.seek(8 + header_size + start)
        crc, left = 0, end - start
        while left:
            chunk = f.read(min(left, _CHUNK))
            if not chunk:
                raise _FileChanged
            crc, left = zlib.crc32(chunk, crc), left - len(chunk)
        if crc != checksum:
            raise _FileChanged


class RepeatedKey(ValueError):
    """A JSON object names one key twice: JSON readers differ on which value counts (Python's the last, others
    the first), so one file would be two models. ``args[0]`` is the key."""


def _no_key_twice(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    named = dict(pairs)
    if len(named) != len(pairs):
        seen: set[str] = set()
        raise RepeatedKey(next(n for n, _ in pairs if n in seen or seen.add(n)))  # type: ignore[func-returns-value]
    return named


def json_without_repeats(text: str | bytes) -> Any:
    """``json.loads(text)``, refusing (RepeatedKey, a ValueError) an object that names a key twice."""
    return json.loads(text, object_pairs_hook=_no_key_twice)


def _safetensors_header(text: bytes, path: str) -> dict:
    try:
        header = json_without_repeats(text.decode("utf-8"))
    except RepeatedKey as err:
        raise ModelFileError(f"{path}: not a valid .safetensors file (its header names {err.args[0]!r} "
                             "twice)") from None
    except RecursionError:
        raise ModelFileError(f"{path}: not a valid .safetensors file (its header nests too deep)") from None
    except ValueError as err:  # UnicodeDecodeError, JSONDecodeError, a number of too many digits
        raise ModelFileError(f"{path}: not a valid .safetensors file (its header is not JSON text: "
                             f"{str(err)[:120]})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: not a valid .safetensors file (its header is not a JSON object)")
    return header


def _recorded_checksums(metadata: dict, entries, path: str) -> dict[str, int] | None:
    """The CRC-32 of each tensor that save recorded in the metadata (taken out of it), or None for a file another
    program wrote."""
    text = metadata.pop(CHECKSUMS, None)
    if text is None:
        return None
    try:
        sums = json_without_repeats(text)  # (a name twice: refused, as any JSON here)
    except (ValueError, RecursionError):
        sums = None
    names = {name for name, *_ in entries}
    if not isinstance(sums, dict) or set(sums) != names or not all(
            type(v) is int and 0 <= v < 2**32 for v in sums.values()):
        raise ModelFileError(f"{path}: not a valid .safetensors file (its {CHECKSUMS!r} metadata is not one "
                             "checksum for each tensor)")
    return sums


def _safetensors_entries(header: dict, data_size: int, path: str, reading: _Reading):
    """``([(name, dtype, shape, start, end), ...] in the file's order, metadata)``, each checked."""
    def refuse(reason):
        raise ModelFileError(f"{path}: not a valid .safetensors file ({reason})")

    metadata = header.pop(METADATA, None) or {}
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        refuse(f"its {METADATA} is not a map of strings to strings")
    _check_metadata_text(metadata, path)
    counted = {k: v for k, v in metadata.items() if k != CHECKSUMS}  # (save's checksums: the header bounds them)
    characters = len(_metadata_json(counted)) if counted else 0
    if characters > MAX_METADATA:
        raise ModelFileError(f"{path}: its {METADATA} holds {characters:,} characters (as JSON text), more than the "
                             f"{MAX_METADATA:,} metadata may hold (nn.serialization.MAX_METADATA)")
    _check_count(len(header), path)
    entries = []
    for name, info in header.items():
        reading.what = f"tensor {name!r}"
        if not (isinstance(info, dict) and set(info) == {"dtype", "shape", "data_offsets"}):
            refuse(f"tensor {name!r} is not described by exactly dtype, shape and data_offsets")
        dtype_name, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dtype_name, str) or dtype_name not in _SAFETENSORS_DTYPES:
            refuse(f"tensor {name!r} has dtype {str(dtype_name)[:40]!r}, which tinygrad_np does not read (it reads "
                   f"{', '.join(_SAFETENSORS_DTYPES)})")
        itemsize = np.dtype(_SAFETENSORS_DTYPES[dtype_name]).itemsize
        shape = _checked_shape(shape, itemsize, lambda reason, name=name: refuse(f"tensor {name!r} has {reason}"))
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_whole(n) for n in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            refuse(f"tensor {name!r} has data_offsets {_short(offsets)}, not [start, end] with 0 <= start <= end")
        if offsets[1] > data_size:
            raise ModelFileError(f"{path}: not a complete .safetensors file (tensor {name!r} ends at byte "
                                 f"{offsets[1]:,} of the data, the file holds {data_size:,}: cut short?)")
        needed = math.prod(shape) * itemsize  # Python ints: no overflow
        if offsets[1] - offsets[0] != needed:
            refuse(f"tensor {name!r} of shape {list(shape)} and dtype {dtype_name} needs {needed:,} bytes, its "
                   f"data_offsets {offsets} hold {offsets[1] - offsets[0]:,}")
        entries.append((name, dtype_name, shape, offsets[0], offsets[1]))
    reading.what = "its data offsets"
    end = 0
    for name, _, _, start, stop in sorted(entries, key=lambda e: (e[3], e[4])):
        if start != end:  # the format's rule: the tensors tile the data, in order, with nothing between
            refuse(f"tensor {name!r} starts at byte {start:,} of the data, where " + (
                "the one before it still runs (they overlap)" if start < end else f"byte {end:,} is expected "
                "(the bytes between belong to no tensor)"))
        end = stop
    if end != data_size:
        raise ModelFileError(f"{path}: not a complete .safetensors file (its tensors end at byte {end:,} of the "
                             f"data, the file holds {data_size:,})")
    return entries, dict(metadata)


def _read_tensor(f, dtype_name: str, shape: tuple[int, ...], nbytes: int, name: str,
                 path: str) -> tuple[np.ndarray, int]:
    """The tensor's bytes (checked: ``nbytes`` is its size, within the file) read into the array that holds it,
    a chunk at a time for bfloat16 (widened to float32 as it arrives); and the CRC-32 of the bytes read."""
    def cut_short():
        raise ModelFileError(f"{path}: not a complete .safetensors file (tensor {name!r} is cut short)")

    if dtype_name == "BF16":
        wide = np.empty(math.prod(shape), dtype=np.uint32)
        chunk = np.empty(min(len(wide), _CHUNK), dtype="<u2")
        crc = 0
        for start in range(0, len(wide), len(chunk)):
            part = chunk[: min(len(chunk), len(wide) - start)]
            if f.readinto(part.view(np.uint8).data) != part.nbytes:
                cut_short()
            crc = zlib.crc32(part.view(np.uint8).data, crc)
            np.left_shift(part, 16, out=wide[start: start + len(part)], dtype=np.uint32)
        return wide.view(np.float32).reshape(shape), crc
    array = np.empty(shape, dtype=_SAFETENSORS_DTYPES[dtype_name])
    if nbytes and f.readinto(array.reshape(-1).view(np.uint8).data) != nbytes:
        cut_short()
    if dtype_name == "BOOL" and array.view(np.uint8).max(initial=0) > 1:
        raise ModelFileError(f"{path}: not a valid .safetensors file (tensor {name!r} of dtype BOOL holds a byte "
                             "other than 0 and 1)")
    return array, zlib.crc32(array.reshape(-1).view(np.uint8).data)


# ---- reading .npz ----------------------------------------------------------------------------------------------
# Deflate turns at most 1032 bytes into one, and a .npz member is stored or deflated: a member whose directory
# entry claims more than that is lying, and is refused before anything is read.
_DEFLATE_MOST = 1032
_NPY_MAGIC = b"\x93NUMPY"
_NUMPYS_HEADER = re.compile(r"\{'descr': '([<>|=]?[A-Za-z][0-9]{0,12})', 'fortran_order': (True|False), "
                            r"'shape': \(((?:[0-9]{1,20}, )*(?:[0-9]{1,20},?)?)\), \} *\n?")


def _read_npz(f, path: str, want: str, max_bytes: int | None, expect, reading: _Reading):
    """The arrays (or their StoredArrays) and metadata of a .npz, within bounded memory and time: the zip
    directory's entries counted (MAX_TENSORS) and each checked against the archive's size (stored or deflated
    only, and no more than deflate can give), their claimed sizes together against the file's size plus
    ``max_bytes``; then every member's .npy header read (by our own reader: a Python literal of at most
    10,000 bytes, its shape checked before NumPy sees it) and checked against its entry; then, only for the
    arrays, each member's data read into the array that holds it, a chunk at a time, its checksum verified. No
    pickle, ever. ``want="metadata"`` reads the metadata's member alone."""
    before = _fingerprint(f)
    size = before[1]
    if size == 0:
        raise _empty(f, path, "a tinygrad_np model file")
    magic = f.read(6)
    if magic == _NPY_MAGIC:
        raise ModelFileError(f"{path}: holds a single array (a .npy file), not a model's named arrays (.npz); "
                             "write model files with Module.save or tinygrad_np.nn.save")
    if not magic.startswith(b"PK"):
        f.seek(0)
        if _looks_like_safetensors(f.read(9), size):
            raise ModelFileError(f"{path}: looks like a .safetensors file, which is read by its name: rename it (or "
                                 "a copy) to end in .safetensors, and load that")
        raise ModelFileError(f"{path}: not a tinygrad_np model file (it is neither a .npz archive nor a NumPy "
                             "array file)")
    reading.what = "its zip directory"
    _count_directory(f, size, path)
    with zipfile.ZipFile(f) as archive:
        result = _read_archive(archive, size, want, max_bytes, expect, reading, path)
    _check_unchanged(f, before)
    return result


def _looks_like_safetensors(first: bytes, size: int) -> bool:
    """A .safetensors file begins with its header's size (8 bytes, little-endian, within the file) and the header's
    JSON object."""
    return len(first) == 9 and int.from_bytes(first[:8], "little") <= size - 8 and first[8:9] == b"{"


def _read_archive(archive: zipfile.ZipFile, size: int, want: str, max_bytes: int | None, expect,
                  reading: _Reading, path: str):
    infos = archive.infolist()
    _check_count(len(infos), path)
    strangers = [info.filename for info in infos if not info.filename.endswith(".npy")]
    if strangers:  # numpy.load would read them: one file, two models (and a directory entry "x/" is one too)
        raise ModelFileError(f"{path}: not a tinygrad_np model file (it holds {len(strangers)} member"
                             f"{'s' if len(strangers) > 1 else ''} that {'are' if len(strangers) > 1 else 'is'} "
                             f"not a .npy array, as {_short(strangers[0])}; save writes one .npy member an entry)")
    members = [(info, info.filename[:-len(".npy")]) for info in infos]
    names = [name for _, name in members]
    if len(set(names)) != len(names):
        seen: set[str] = set()
        twice = next(n for n in names if n in seen or seen.add(n))  # type: ignore[func-returns-value]
        raise ModelFileError(f"{path}: not a tinygrad_np model file (it holds entry {twice!r} twice)")
    for info, name in members:
        _check_directory_entry(info, name, size, path)
    if want == "arrays":
        claimed = sum(info.file_size for info, _ in members)
        allowed = size + (MAX_BYTES if max_bytes is None else max_bytes)
        if claimed > allowed:
            raise ModelFileError(
                f"{path}: its entries unpack to {claimed:,} bytes, more than the file's own {size:,} plus "
                f"max_bytes={allowed - size:,} that decompression may add; if the file is trusted and that is "
                "meant, pass a larger max_bytes")
    headers, state = {}, {}
    for info, name in members:
        if want == "metadata" and name != METADATA:
            continue
        reading.what = f"entry {name!r}"
        with archive.open(info) as member:
            headers[name] = _npy_header(member, info, name, path)
            if want == "arrays" and name != METADATA and headers[name][0].nbytes <= _SMALL:
                state[name] = _read_data(member, *headers[name][:2], name, path)  # no second opening
    metadata = {}
    if METADATA in headers:
        reading.what = f"entry {METADATA!r}"
        metadata = _npz_metadata(archive, next(info for info, name in members if name == METADATA),
                                 headers.pop(METADATA), path)
    stored = {name: header[0] for name, header in headers.items()}
    _check_expected(stored, expect, path)
    if want != "arrays":
        return stored, metadata
    arrays: OrderedDict[str, np.ndarray] = OrderedDict()
    for info, name in members:
        if name in headers:
            reading.what = f"entry {name!r}"
            arrays[name] = state[name] if name in state else _read_member(archive, info, *headers[name], name,
                                                                          path)
    return arrays, metadata


_END_RECORD = struct.Struct("<4s4H2LH")  # a zip's end of central directory record, 22 bytes
_END_RECORD64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes before it in a Zip64 archive
_END_RECORD64 = struct.Struct("<4sQ2H2L4Q")


def _count_directory(f, size: int, path: str) -> None:
    """Refuse an archive of more than MAX_TENSORS members before zipfile builds an object for every entry (an
    86 MB file of a million empty members would cost it 500 MB and half a minute): from the count its end record
    gives, then, as that count may lie, by walking the directory's entries (46 bytes each, and the lengths of
    what follows), at most MAX_TENSORS + 1 of them. Where the directory starts is reckoned as zipfile reckons
    it; anything not understood here is left to zipfile, which refuses it."""
    tail_size = min(size, _END_RECORD.size + 0xFFFF)  # the record, and a comment of at most 65,535 bytes
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _END_RECORD.size > len(tail):
        return
    _, _, _, _, count, directory_size, _, _ = _END_RECORD.unpack_from(tail, at)
    directory_end = size - tail_size + at
    record64_at = directory_end - _END_RECORD64_LOCATOR.size - _END_RECORD64.size
    if at >= _END_RECORD64_LOCATOR.size and tail[at - _END_RECORD64_LOCATOR.size:][:4] == b"PK\x06\x07" \
            and record64_at >= 0:
        f.seek(record64_at)
        record64 = _END_RECORD64.unpack(f.read(_END_RECORD64.size))
        if record64[0] == b"PK\x06\x06":
            count, directory_size, directory_end = record64[6], record64[7], record64_at
    _check_count(count, path)
    position, end, entries = directory_end - directory_size, directory_end, 0
    if position < 0:
        return
    f.seek(position)
    while position < end:
        entry = f.read(46)
        if len(entry) < 46 or entry[:4] != b"PK\x01\x02":
            return  # zipfile says what is wrong
        entries += 1
        if entries > MAX_TENSORS:
            _check_count(entries, path, at_least=True)  # "more than": the rest is not counted
        skip = sum(struct.unpack_from("<3H", entry, 28))  # name, extra field and comment lengths
        position += 46 + skip
        f.seek(skip, os.SEEK_CUR)


def _npz_metadata(archive: zipfile.ZipFile, info: zipfile.ZipInfo, header: tuple[StoredArray, bool, int],
                  path: str) -> dict[str, str]:
    """The metadata entry: one string (as save writes it) of at most MAX_METADATA characters, checked from its
    header before it is read, then its JSON."""
    stored = header[0]
    if stored.shape != () or stored.dtype.kind not in "US":
        raise ModelFileError(f"{path}: its {METADATA} entry is not the JSON text that save writes (it holds "
                             f"{stored.dtype} of shape {stored.shape})")
    characters = stored.dtype.itemsize // (4 if stored.dtype.kind == "U" else 1)
    if characters > MAX_METADATA:
        raise ModelFileError(f"{path}: its {METADATA} entry holds {characters:,} characters, more than the "
                             f"{MAX_METADATA:,} metadata may hold (nn.serialization.MAX_METADATA)")
    text = _read_member(archive, info, stored, header[1], header[2], METADATA, path)[()]
    return _parsed_metadata(text.decode("utf-8") if isinstance(text, bytes) else str(text), path,
                            f"{METADATA} entry")


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


def _npy_header(member, info: zipfile.ZipInfo, name: str, path: str) -> tuple[StoredArray, bool, int]:
    """``(StoredArray, fortran_order, header length)`` of a .npy member, read and checked by us rather than by
    NumPy, whose reader lets a bool through as a dimension and raises tokenize's errors on a header cut short."""
    def refuse(reason):
        raise ModelFileError(f"{path}: not a tinygrad_np model file: entry {name!r} cannot be read ({reason})")

    def exactly(count):
        data = member.read(count)
        if len(data) != count:
            refuse(f"its .npy header is cut short: {len(data)} of {count} bytes")
        return data

    prefix = exactly(8)
    if prefix[:6] != _NPY_MAGIC:
        refuse("it is not a .npy array")
    version = (prefix[6], prefix[7])
    if version not in ((1, 0), (2, 0), (3, 0)):
        refuse(f"it is a .npy file of version {version}, which tinygrad_np does not read")
    length_bytes = 2 if version == (1, 0) else 4
    length = int.from_bytes(exactly(length_bytes), "little")
    if length > _NPY_HEADER_MOST:
        refuse(f"its .npy header claims {length:,} bytes, more than the {_NPY_HEADER_MOST:,} NumPy allows")
    try:
        text = exactly(length).decode("latin1" if version != (3, 0) else "utf-8")
        written = _NUMPYS_HEADER.fullmatch(text)  # what np.save writes, read fast; any other spelling, slowly
        header: Any = ast.literal_eval(text) if written is None else {
            "descr": written[1], "fortran_order": written[2] == "True",
            "shape": tuple(int(n) for n in written[3].replace(",", " ").split())}
    except ModelFileError:
        raise
    except Exception:  # noqa: BLE001 - SyntaxError, ValueError, MemoryError, RecursionError: not a literal
        refuse("its .npy header is not the dict of descr, fortran_order and shape that NumPy writes")
    if not (isinstance(header, dict) and set(header) == {"descr", "fortran_order", "shape"}
            and isinstance(header["descr"], str) and isinstance(header["fortran_order"], bool)):
        refuse("its .npy header is not the dict of descr, fortran_order and shape that NumPy writes")
    try:
        dtype = np.dtype(header["descr"])
    except Exception:  # noqa: BLE001 - TypeError, ValueError, SyntaxError for the descriptions NumPy refuses
        dtype = None
    if dtype is None or dtype.hasobject or dtype.kind not in "biufcUS":  # (load_state_dict refuses text for numbers)
        refuse(f"it holds dtype {header['descr'][:40]!r}, neither numbers nor text, and nothing is unpickled")
    assert dtype is not None
    if dtype.itemsize == 0:  # '|S0' or '<U0': zero bytes a value, any count of them, so no bound from the file
        refuse(f"it holds dtype {header['descr'][:40]!r}, text of width 0, which no model stores (NumPy gives each "
               "value a byte of memory that the file does not hold)")
    shape = _checked_shape(header["shape"], dtype.itemsize, lambda reason: refuse(f"its header has {reason}"))
    stored = StoredArray(shape, dtype)
    header_end = len(prefix) + length_bytes + length
    if header_end + stored.nbytes != info.file_size:
        refuse(f"its header claims shape {shape} of {dtype} ({stored.nbytes:,} bytes) but it holds "
               f"{max(0, info.file_size - header_end):,} bytes of data")
    return stored, header["fortran_order"], header_end


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, stored: StoredArray, fortran_order: bool,
                 header_end: int, name: str, path: str) -> np.ndarray:
    with archive.open(info) as member:
        member.read(header_end)  # checked already
        return _read_data(member, stored, fortran_order, name, path)


def _read_data(member, stored: StoredArray, fortran_order: bool, name: str, path: str) -> np.ndarray:
    """A member's array: its data (its size checked against the directory entry already) read into the array
    that holds it, a chunk at a time; then one more read, which makes zipfile check the member's CRC."""
    def refuse(reason):
        raise ModelFileError(f"{path}: not a tinygrad_np model file: entry {name!r} cannot be read ({reason})")

    flat = np.empty(math.prod(stored.shape), dtype=stored.dtype)
    if stored.nbytes:
        view = flat.view(np.uint8).data
        done = 0
        while done < len(view):
            got = member.readinto(view[done: done + _CHUNK])
            if not got:
                refuse(f"it is cut short: {done:,} of {len(view):,} bytes")
            done += got
    if member.read(1):
        refuse(f"it holds more than the {stored.nbytes:,} bytes its header claims")
    if flat.dtype.kind == "b" and flat.size and flat.view(np.uint8).max() > 1:  # as the safetensors reader refuses
        refuse("its bool values hold bytes other than 0 and 1, which NumPy would show as True but keep as they are")
    if flat.dtype.kind == "U" and flat.size:  # UTF-32 code units: a code point past U+10FFFF or a lone surrogate
        units = flat.view(np.dtype(flat.dtype.byteorder + "u4"))
        if units.max() > 0x10FFFF or ((units >= 0xD800) & (units <= 0xDFFF)).any():
            refuse("its text holds a value that is not a Unicode character (past U+10FFFF, or a lone surrogate), "
                   "which NumPy keeps but cannot show")
    return flat.reshape(stored.shape, order="F" if fortran_order else "C")
