"""Reading IDX files, the format MNIST ships in.

An IDX file is a header and a block of numbers:

    bytes 0-1   zero
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions, d
    4·d bytes   the size of each dimension, big-endian uint32
    the data    big-endian, C order

The reader trusts nothing in the header: it checks every field, and reads the
data in chunks, so a header that claims terabytes costs no memory before the
file is shown to be too short.
"""
import gzip
import os
import struct
import zlib

import numpy as np

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CHUNK = 1 << 20


def _open(path):
    with open(path, "rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    return (gzip.open(path, "rb") if compressed else open(path, "rb")), compressed


def _read(stream, n, path, what):
    """Exactly ``n`` bytes, in chunks; a short read is a truncated file."""
    parts, got = [], 0
    while got < n:
        chunk = stream.read(min(_CHUNK, n - got))
        if not chunk:
            raise ValueError(f"{path}: truncated: expected {n} bytes of {what}, but the file ends after {got}")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def read_idx(path):
    """The array stored in the IDX file at ``path`` (gzipped or raw), in its declared dtype and shape.

    Raises ValueError naming the file and the fault for anything malformed:
    empty, bad magic, unsupported type code, truncated, trailing bytes, a
    declared size larger than the file, corrupt gzip.
    """
    path = os.fspath(path)
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path}: empty file")
    stream, compressed = _open(path)
    try:
        with stream:
            return _parse(stream, path, compressed)
    except (gzip.BadGzipFile, zlib.error, EOFError) as err:
        raise ValueError(f"{path}: corrupt gzip data ({err})") from None
    except ValueError:
        # Damaged compressed data can inflate to plausible-looking bytes; the
        # gzip checksum at the end tells which fault it really is.
        if compressed:
            _check_gzip(path)
        raise


def _check_gzip(path):
    try:
        with gzip.open(path, "rb") as f:
            while f.read(_CHUNK):
                pass
    except (gzip.BadGzipFile, zlib.error, EOFError) as err:
        raise ValueError(f"{path}: corrupt gzip data ({err})") from None


def _parse(stream, path, compressed):
    head = stream.read(4)
    if not head:
        raise ValueError(f"{path}: empty (no IDX header inside the gzip stream)")
    if len(head) < 4:
        raise ValueError(f"{path}: truncated: the 4-byte header has only {len(head)} bytes")
    if head[0] != 0 or head[1] != 0:
        raise ValueError(f"{path}: bad magic number 0x{head.hex()}: an IDX file starts with two zero bytes")
    code, ndim = head[2], head[3]
    if code not in _TYPES:
        raise ValueError(f"{path}: unsupported IDX type code 0x{code:02x} (known: 08, 09, 0b, 0c, 0d, 0e)")
    dims = struct.unpack(f">{ndim}I", _read(stream, 4 * ndim, path, f"the {ndim} dimension sizes"))
    dtype = np.dtype(_TYPES[code])
    nbytes = int(np.prod(dims, dtype=object)) * dtype.itemsize if dims else dtype.itemsize
    if not compressed:
        available = os.path.getsize(path) - 4 - 4 * ndim
        if nbytes > available:
            raise ValueError(
                f"{path}: declared size {'x'.join(map(str, dims))} needs {nbytes} bytes of data "
                f"but the file holds {available}"
            )
    data = _read(stream, nbytes, path, f"data of shape {dims}")
    if stream.read(1):
        raise ValueError(f"{path}: trailing bytes after the {nbytes} bytes of data its header declares")
    array = np.frombuffer(data, dtype=dtype).reshape(dims)
    return array.astype(dtype.newbyteorder("="))  # native byte order, and a writable copy
