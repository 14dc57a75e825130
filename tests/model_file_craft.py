"""Making hostile model files for tests: .npz archives written field by field (members of any .npy header, deflate
bombs of zeros made in milliseconds), .safetensors files of any header, and the memory a call takes."""
import json
import struct
import tracemalloc
import zlib

import numpy as np

MB = 1 << 20


def peak_memory(function):
    """(the result or the exception raised, the peak of memory traced while ``function`` ran, in bytes)."""
    tracemalloc.start()
    try:
        try:
            result = function()
        except Exception as err:  # the caller checks which
            result = err
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def npy_header(descr="<f4", shape=(), fortran_order=False, text=None, version=1):
    """A .npy file's magic, version and header: the dict NumPy writes for ``descr`` and ``shape`` (``shape`` is
    written with repr, so a bool or a huge number goes in as it is), or any ``text`` at all."""
    if text is None:
        text = "{'descr': %r, 'fortran_order': %r, 'shape': %r, }" % (descr, fortran_order, tuple(shape))
    raw = text.encode("latin1")
    length = 2 if version == 1 else 4
    raw += b" " * (-(len(raw) + 6 + 2 + length + 1) % 64) + b"\n"
    return b"\x93NUMPY" + bytes([version, 0]) + len(raw).to_bytes(length, "little") + raw


def npy(array):
    """The .npy bytes np.save writes for ``array``."""
    array = np.asarray(array)
    return npy_header(np.lib.format.dtype_to_descr(array.dtype), array.shape) + array.tobytes()


class Member:
    """One zip member: its name, the bytes it unpacks to (for a bomb: only their length), the bytes the archive
    holds, their CRC-32 and the compression method (0 stored, 8 deflated)."""

    def __init__(self, name, packed, size, crc, method):
        self.name, self.packed, self.size, self.crc, self.method = name.encode(), packed, size, crc, method


def stored(name, data):
    return Member(name, data, len(data), zlib.crc32(data), 0)


def deflated(name, data):
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return Member(name, packer.compress(data) + packer.flush(), len(data), zlib.crc32(data), 8)


def zeros_bomb(name, header, zeros):
    """A deflated member: ``header`` then ``zeros`` zero bytes, deflated about 1000 to 1. A 16 MB run of zeros is
    deflated once, after a full flush (the history cleared), and its bytes repeated: each copy decodes alone."""
    chunk = 1 << 24
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = packer.compress(header) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(header)
    copies, rest = divmod(zeros, chunk)
    pieces = [head]
    if copies:
        block = b"\0" * chunk
        piece = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
        pieces += [piece] * copies
        for _ in range(copies):
            crc = zlib.crc32(block, crc)
    pieces.append(packer.compress(b"\0" * rest) + packer.flush())
    crc = zlib.crc32(b"\0" * rest, crc)
    return Member(name, b"".join(pieces), len(header) + zeros, crc, 8)


def zeros_array_bomb(name, shape, descr="<f4"):
    """A deflated .npy member of zeros of ``shape``: its header says so honestly, its data is all there."""
    zeros = int(np.prod(shape, dtype=object)) * np.dtype(descr).itemsize
    return zeros_bomb(name, npy_header(descr, shape), zeros)


def write_zip(path, members):
    """A zip archive of ``members``, written field by field (no zip64: each member under 4 GB)."""
    out, offsets = bytearray(), []
    for m in members:
        offsets.append(len(out))
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, m.method, 0, 0x21, m.crc, len(m.packed), m.size,
                           len(m.name), 0) + m.name + m.packed
    start = len(out)
    for m, offset in zip(members, offsets, strict=True):
        out += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, m.method, 0, 0x21, m.crc, len(m.packed),
                           m.size, len(m.name), 0, 0, 0, 0, 0, offset) + m.name
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(out) - start, start, 0)
    path.write_bytes(bytes(out))
    return path


def metadata_member(metadata, deflate=True):
    """The __metadata__ member save writes: the dict as JSON text in a 0-d unicode array."""
    data = npy(np.array(json.dumps(metadata)))
    return deflated("__metadata__.npy", data) if deflate else stored("__metadata__.npy", data)


def safetensors_bytes(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data
