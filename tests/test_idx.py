"""read_idx: valid files of every type, and a clear error for each way a file can be malformed."""
import gzip
import struct

import numpy as np
import pytest
from idx_files import idx_bytes, write_idx

from tinygrad_np.data import read_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    path = write_idx(tmp_path / f"a{suffix}", array)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)
    out[0, 0, 0] = 1  # writable


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = np.arange(5, dtype=np.uint8)
    path = tmp_path / "labels"
    path.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(path), array)


GOOD = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))


RAW_FAULTS = [
    (b"", "empty file"),
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad magic number 0x01000801"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "unsupported IDX type code 0x07"),
    (b"\x00\x00", "truncated: the 4-byte header has only 2 bytes"),
    (b"\x00\x00\x08\x02" + struct.pack(">I", 3),
     "truncated: expected 8 bytes of the 2 dimension sizes, but the file ends after 4"),
    (GOOD[:-1], "declared size 3x4 needs 12 bytes of data but the file holds 11"),
    (GOOD + b"\x00", "trailing bytes after the 12 bytes"),
    (b"\x00\x00\x08\x02" + struct.pack(">II", 100000, 100000) + b"\x00" * 10,
     "declared size 100000x100000 needs 10000000000 bytes of data but the file holds 10"),
]
GZIP_FAULTS = [
    (gzip.compress(GOOD[:-1]),
     r"truncated: expected 12 bytes of data of shape \(3, 4\), but the file ends after 11"),
    (gzip.compress(GOOD + b"\x07"), "trailing bytes"),
    (gzip.compress(b""), "empty"),
    (gzip.compress(GOOD)[:-12], "corrupt gzip"),
    (gzip.compress(GOOD)[:12] + b"garbage" * 5, "corrupt gzip"),
    # a header claiming 10^10 bytes: read in chunks, so it fails without allocating them
    (gzip.compress(b"\x00\x00\x08\x02" + struct.pack(">II", 100000, 100000) + b"\x00" * 10),
     "expected 10000000000 bytes of data .* but the file ends after 10"),
]


FAULTS = [("bad-idx", *fault) for fault in RAW_FAULTS] + [("bad-idx.gz", *fault) for fault in GZIP_FAULTS]


@pytest.mark.parametrize("name, content, message", FAULTS)
def test_malformed_files_are_named_with_the_fault(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)
