"""Model files from strangers (issue 28): a file that lies cannot exhaust memory, skip a check or half-load a model.

Each case of the issue has a test here that fails on the code before it: metadata claiming a huge hidden size,
absurd and malformed architectures, bfloat16 switching the safetensors checks off, a .npz whose zip directory
lies about sizes. Then hypothesis throws generated headers, directories and specs at the loaders: each file
loads correctly, or raises ModelFileError naming the file; never another exception, never unbounded memory, and
the model loaded into is unchanged.
"""
import json
import re
import struct
import sys
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_file_craft import MB, peak_memory

from tinygrad_np import nn
from tinygrad_np.nn import ModelFileError

ROOT = Path(__file__).resolve().parents[1]


def safetensors_bytes(header, data=b"", size=None):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text) if size is None else size) + text + data


# ---- metadata checked before allocating ---------------------------------------------------------------------------
def mnist_dnn():
    sys.path.insert(0, str(ROOT / "examples"))
    import mnist_dnn

    return mnist_dnn


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_a_huge_hidden_size_in_the_metadata_is_refused_before_anything_is_allocated(tmp_path, suffix):
    """The metadata claims 10**9 hidden units; the weights are those of a 784-4-10 network. Before: MLP(10**9)
    asked for 3 TB, "not enough memory"."""
    pytest.importorskip("safetensors") if suffix == ".safetensors" else None
    example = mnist_dnn()
    model = example.MLP(4)
    metadata = {"model": "mnist_dnn.MLP", "hidden": str(10**9), "input_mean": "0.1", "input_std": "0.3"}
    path = tmp_path / f"model{suffix}"
    if suffix == ".npz":
        model.save(path, metadata)
    else:
        nn.save(model.pytorch_state_dict(), path, metadata)
    result, peak = peak_memory(lambda: example.load_model(path))
    assert isinstance(result, ValueError) and f"model{suffix}: its metadata's hidden is 1,000,000,000" in str(result)
    assert peak < 20 * MB, peak


def test_predict_checks_an_architecture_against_the_stored_shapes_before_building_it(tmp_path):
    """A file whose architecture claims Linear(784, 10**6) but stores a Linear(784, 10): refused by comparing
    shapes, before 3 GB are allocated."""
    sys.path.insert(0, str(ROOT / "examples"))
    import predict

    small = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    claim = nn.architecture.describe(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)))
    claim["layers"][1]["out_features"] = 10**6
    path = tmp_path / "liar.npz"
    small.save(path, {"architecture": json.dumps(claim), "input_mean": "0.1", "input_std": "0.3",
                      "input_shape": "[1, 28, 28]"})
    result, peak = peak_memory(lambda: predict.load_any_model(path))
    assert isinstance(result, ValueError), result
    assert "liar.npz: its metadata's architecture does not match its weights (1.weight: the architecture makes " \
           "(1000000, 784), the file stores (10, 784)" in str(result)
    assert peak < 20 * MB, peak


@pytest.mark.parametrize("shape, fragment", [("[0, 28, 28]", "input_shape is [0, 28, 28]"),
                                             ("[3, 28, 28]", "input_shape is [3, 28, 28]")])
def test_predict_refuses_an_input_shape_that_is_not_28_by_28(tmp_path, shape, fragment):
    sys.path.insert(0, str(ROOT / "examples"))
    import predict

    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    path = tmp_path / "m.npz"
    model.save(path, {"architecture": json.dumps(nn.architecture.describe(model)), "input_mean": "0",
                      "input_std": "1", "input_shape": shape})
    with pytest.raises(ValueError, match="m.npz: its metadata's " + re.escape(fragment)):
        predict.load_any_model(path)


# ---- nn.architecture refuses before it makes anything -------------------------------------------------------------
@pytest.mark.parametrize("spec, message", [
    ({"type": "Linear", "in_features": 10**9, "out_features": 10**9},
     r"hold 1,000,000,001,000,000,000 values, more than max_parameters=100,000,000"),
    ({"type": "Sequential", "layers": [{"type": "Linear", "in_features": 0, "out_features": 3}]},
     r"layers\[0\].in_features must be a whole number from 1"),
    ({"type": "Linear", "in_features": -2, "out_features": 3}, r"in_features must be a whole number from 1"),
    ({"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "groups": 0},
     r"groups must be a whole number from 1"),
    ({"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": [3, 0]},
     r"kernel_size must be a whole number from 1 .* or a list of 2 of them, got \[3, 0\]"),
    ({"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "groups": 2},
     r"groups is 2, which in_channels 3 and out_channels 4 must both divide into"),
    ({"type": "Linear", "in_features": True, "out_features": 3}, r"in_features must be a whole number"),
    ({"type": "BatchNorm1d", "num_features": 4, "eps": 0}, r"eps must be a positive finite number"),
    ({"type": "Dropout", "p": float("nan")}, r"p must be a finite number from 0.0 to 1.0, got nan"),
    ({"type": ["Linear"]}, r"unknown layer type \['Linear'\]"),
    ({"type": "Transformer"}, r"unknown layer type 'Transformer'"),
    ({"type": "Sequential", "layers": {"type": "ReLU"}}, r"layers must be a list of layers"),
    ({"type": "Sequential", "layers": [5]}, r"layers\[0\] must be a dict with a 'type', got 5"),
    ({"type": "Linear", "out_features": 3}, r"in_features is missing"),
])
def test_an_architecture_is_refused_naming_the_field_before_anything_is_made(spec, message):
    """Before: Linear(10**9, 10**9) was made first (MemoryError); zero sizes and groups ended in
    ZeroDivisionError, a list for a type in TypeError, a negative size in NumPy's ValueError."""
    result, peak = peak_memory(lambda: nn.architecture.build(spec))
    assert isinstance(result, ValueError) and result.__class__ is ValueError, repr(result)
    assert str(result).startswith("build: ") and re.search(message, str(result)), str(result)
    assert peak < 5 * MB, peak


def test_the_parameter_bound_is_stated_and_a_user_can_raise_it():
    spec = {"type": "Linear", "in_features": 1000, "out_features": 1000}
    with pytest.raises(ValueError, match=r"1,001,000 values, more than max_parameters=1,000,000; if that is meant, "
                                         r"pass a larger max_parameters"):
        nn.architecture.build(spec, max_parameters=10**6)
    assert nn.architecture.build(spec, max_parameters=2 * 10**6).weight.shape == (1000, 1000)
    assert nn.architecture.MAX_PARAMETERS == 100_000_000


def test_nesting_deeper_than_the_bound_is_refused_and_json_nesting_is_no_recursion_error():
    spec: dict = {"type": "ReLU"}
    for _ in range(nn.architecture.MAX_DEPTH + 1):
        spec = {"type": "Sequential", "layers": [spec]}
    with pytest.raises(ValueError, match=r"nests Sequentials deeper than 16 levels"):
        nn.architecture.build(spec)
    with pytest.raises(ValueError, match=r"nests deeper than Python's JSON reader follows"):
        nn.architecture.build("[" * 100_000)
    with pytest.raises(ValueError, match=r"not valid JSON"):
        nn.architecture.build('{"type": "Linear", "in_features": ' + "9" * 5000 + "}")


def test_state_shapes_are_what_the_built_model_holds_for_every_layer():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(4, momentum=None), nn.ReLU(),
        nn.MaxPool2d(2, stride=1), nn.AvgPool2d(1), nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Dropout(0.1),
        nn.Linear(16, 8), nn.LayerNorm(8), nn.Sequential(nn.Linear(8, 8, bias=False), nn.LeakyReLU(0.2)),
        nn.BatchNorm1d(8, affine=False, track_running_stats=False), nn.Conv2d(4, 8, (3, 5), padding="same", groups=2),
        nn.Softmax(dim=1))
    spec = nn.architecture.describe(model)
    assert nn.architecture.state_shapes(json.dumps(spec)) == {k: v.shape for k, v in model.state_dict().items()}
    assert list(nn.architecture.state_shapes(spec)) == list(model.state_dict())
    assert nn.architecture.describe(nn.architecture.build(spec)) == spec


# ---- one checked path for every safetensors file -----------------------------------------------------------------
def bf16_header(**tensors):
    """A header naming BF16 somewhere, as before each check was skipped when it did."""
    return {**tensors, "__metadata__": {"format": "pt", "note": "BF16"}}


@pytest.mark.parametrize("header, data, message", [
    (bf16_header(a={"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
                 b={"dtype": "BF16", "shape": [2], "data_offsets": [2, 6]}), b"\x00" * 6,
     r"tensor 'b' starts at byte 2 of the data, where the one before it still runs \(they overlap\)"),
    (bf16_header(a={"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}), b"\x00" * 4,
     r"not a complete .safetensors file \(tensor 'a' ends at byte 8 of the data, the file holds 4"),
    (bf16_header(a={"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}), b"\x00" * 4,
     r"tensor 'a' has shape \[-1\], not a list of at most 32 whole numbers from 0"),
    (bf16_header(a={"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}), b"\x00" * 6,
     r"its tensors end at byte 4 of the data, the file holds 6"),
    (bf16_header(a={"dtype": "BF16", "shape": [3], "data_offsets": [0, 4]}), b"\x00" * 4,
     r"tensor 'a' of shape \[3\] and dtype BF16 needs 6 bytes, its data_offsets \[0, 4\] hold 4"),
    (bf16_header(a={"dtype": "BF16", "shape": [1], "data_offsets": [2, 4]},
                 b={"dtype": "BF16", "shape": [1], "data_offsets": [6, 8]}), b"\x00" * 8,
     r"tensor 'a' starts at byte 2 of the data, where byte 0 is expected \(the bytes between belong to no tensor\)"),
    (bf16_header(a={"dtype": "BF16", "shape": [1], "data_offsets": [0, 2], "extra": 1}), b"\x00" * 2,
     r"tensor 'a' is not described by exactly dtype, shape and data_offsets"),
    (bf16_header(a={"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}), b"\x00",
     r"tensor 'a' has dtype 'F8_E4M3', which tinygrad_np does not read"),
])
def test_bfloat16_no_longer_switches_the_safetensors_checks_off(tmp_path, header, data, message):
    """Before: "BF16" anywhere in the header sent the file down a path that checked nothing, and each of these
    loaded (or failed with a raw KeyError)."""
    path = tmp_path / "m.safetensors"
    path.write_bytes(safetensors_bytes(header, data))
    with pytest.raises(ModelFileError, match=r"m.safetensors: not a (valid|complete) .safetensors file \(") as caught:
        nn.load(path)
    assert re.search(message, str(caught.value)), str(caught.value)


def test_a_name_given_twice_in_a_safetensors_header_is_refused(tmp_path):
    """JSON keeps the last of two equal keys: the first tensor would vanish without a word."""
    text = (b'{"w": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}, '
            b'"w": {"dtype": "BF16", "shape": [1], "data_offsets": [2, 4]}}')
    path = tmp_path / "twice.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"\x00" * 4)
    with pytest.raises(ModelFileError, match=r"twice.safetensors: not a valid .safetensors file \(its header names "
                                             r"'w' twice\)"):
        nn.load(path)


def test_bfloat16_is_read_exactly_as_before_and_every_dtype_as_the_safetensors_package_reads_it(tmp_path):
    values = np.array([[1.0, -2.5, 3.140625], [0.0, 65280.0, -0.0078125]], dtype=np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = {"w": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]},
              "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}, "__metadata__": {"format": "pt"}}
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(safetensors_bytes(header, bf16 + np.array([0.5, 1.5], "<f4").tobytes()))
    state = nn.load(path)
    assert state["w"].dtype == np.float32 and np.array_equal(state["w"], values)
    assert nn.load_metadata(path) == {"format": "pt"} and nn.stored_shapes(path) == {"w": (2, 3), "b": (2,)}
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    arrays = {f"x{k}": np.arange(6).astype(dtype).reshape(2, 3) for k, dtype in enumerate(
        [np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.uint16, np.uint32,
         np.uint64, np.bool_])}
    arrays["empty"] = np.zeros((0, 4), np.float32)
    path.write_bytes(safetensors_numpy.save(arrays, metadata={"a": "b"}))
    ours, theirs = nn.load(path), safetensors_numpy.load(path.read_bytes())
    assert list(ours) == list(theirs) or sorted(ours) == sorted(theirs)
    for name in theirs:
        assert ours[name].dtype == theirs[name].dtype and np.array_equal(ours[name], theirs[name]), name


def test_safetensors_files_are_read_without_the_package(tmp_path, monkeypatch):
    nn.Linear(3, 2).save(tmp_path / "m.safetensors") if _has_safetensors() else None
    path = tmp_path / "plain.safetensors"
    path.write_bytes(safetensors_bytes({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}},
                                       np.array([1, 2], "<f4").tobytes()))
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    assert nn.load(path)["w"].tolist() == [1.0, 2.0]


def _has_safetensors():
    try:
        import safetensors  # noqa: F401
    except ImportError:
        return False
    return True


# ---- an .npz whose directory lies ---------------------------------------------------------------------------------
def npz_with_a_member(path, header_shape, data, compress=zipfile.ZIP_STORED):
    """A .npz of one member 'w.npy': a float64 .npy header claiming ``header_shape``, then ``data``."""
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1))
    header["shape"] = header_shape
    with zipfile.ZipFile(path, "w", compress) as archive, archive.open("w.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array_header_1_0(member, header)
        member.write(data)


def rewrite_directory_entry(path, file_size=None, compress_size=None, header_offset=None):
    """Give the first member's central directory entry other sizes: each 32-bit field set to 0xFFFFFFFF ("see
    the zip64 field") and a zip64 extra field put in front of the entry's own, holding the 64-bit values."""
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    compressed, uncompressed = struct.unpack("<II", data[central + 20: central + 28])
    name_length, extra_length = struct.unpack("<HH", data[central + 28: central + 32])
    offset = struct.unpack("<I", data[central + 42: central + 46])[0]
    values = [uncompressed if file_size is None else file_size, compressed if compress_size is None else compress_size,
              offset if header_offset is None else header_offset]
    zip64 = struct.pack("<HHQQQ", 1, 24, *values)
    data[central + 20: central + 28] = b"\xff" * 8
    data[central + 42: central + 46] = b"\xff" * 4
    data[central + 30: central + 32] = struct.pack("<H", extra_length + len(zip64))
    at = central + 46 + name_length
    data[at:at] = zip64
    end = data.rindex(b"PK\x05\x06")  # the end record: the central directory grew
    data[end + 12: end + 16] = struct.pack("<I", struct.unpack("<I", data[end + 12: end + 16])[0] + len(zip64))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("compress", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_an_npz_whose_directory_lies_about_sizes_is_refused_within_bounded_memory(tmp_path, compress):
    """The header claims 10**12 float64s, the directory 8 TB for the member, and 8 bytes are there. Before: 8 TB
    were asked for (MemoryError, or the machine's memory)."""
    path = tmp_path / "liar.npz"
    npz_with_a_member(path, (10**12,), b"\x00" * 8, compress)
    header_length = 128  # write_array_header_1_0 pads the header to 128 bytes here
    rewrite_directory_entry(path, file_size=header_length + 8 * 10**12)
    result, peak = peak_memory(lambda: nn.load(path))
    assert isinstance(result, ModelFileError), repr(result)
    assert str(result).startswith(f"{path}: not a tinygrad_np model file: entry 'w' ")
    assert "its directory lies about sizes" in str(result) or "claims" in str(result)
    assert peak < 5 * MB, peak


def test_an_npz_member_claiming_more_than_it_holds_is_refused_reading_no_more_than_it_holds(tmp_path):
    """The directory is honest about what is stored, the .npy header is not: refused before the data is read."""
    path = tmp_path / "short.npz"
    npz_with_a_member(path, (10**6,), b"\x00" * 8)
    result, peak = peak_memory(lambda: nn.load(path))
    assert isinstance(result, ModelFileError) and "its header claims shape (1000000,) of float64" in str(result)
    assert peak < 5 * MB, peak


def test_a_deflated_npz_is_still_read_and_its_checksum_checked(tmp_path):
    path = tmp_path / "packed.npz"
    np.savez_compressed(path, w=np.arange(1000.0), b=np.ones(3, np.float32))
    state = nn.load(path)
    assert state["w"].tolist() == list(np.arange(1000.0)) and state["b"].dtype == np.float32
    data = bytearray(path.read_bytes())
    crc = data.index(b"PK\x01\x02") + 16  # the first member's CRC-32 in the central directory
    data[crc: crc + 4] = struct.pack("<I", zlib.crc32(b"not it"))
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"packed.npz: not a tinygrad_np model file \("):
        nn.load(path)


# ---- fuzzing: load correctly, or our error naming the file -------------------------------------------------------
TARGET_SHAPES = {"weight": (2, 3), "bias": (2,)}


def load_into_a_model(path):
    """Load ``path`` into a Linear(3, 2): (the outcome, whether the model changed, the memory peak)."""
    model = nn.Linear(3, 2)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    result, peak = peak_memory(lambda: model.load(path))
    changed = any(not np.array_equal(before[k], v) for k, v in model.state_dict().items())
    return result, changed, peak


def check_outcome(path, result, changed, peak, budget):
    if isinstance(result, Exception):
        assert isinstance(result, ValueError), repr(result)  # ModelFileError, or load_state_dict's, named
        assert str(result).startswith(f"{path}: "), str(result)
        assert not changed
    assert peak <= budget, (peak, budget)


safetensor_dtypes = st.sampled_from(["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "U16",
                                     "F8_E4M3", "C64", "", 7])
sizes = st.one_of(st.integers(-3, 8), st.integers(-(2**70), 2**70), st.booleans(), st.floats(), st.none())
tensor_infos = st.fixed_dictionaries({
    "dtype": safetensor_dtypes,
    "shape": st.one_of(st.lists(sizes, max_size=4), sizes, st.just(list(TARGET_SHAPES["weight"])), st.just([2])),
    "data_offsets": st.one_of(st.lists(sizes, min_size=0, max_size=3), st.tuples(st.integers(0, 40),
                                                                                  st.integers(0, 40)).map(list)),
}, optional={"extra": st.integers()})
names = st.one_of(st.sampled_from(["weight", "bias", "__metadata__"]), st.text(max_size=5))
headers = st.dictionaries(names, st.one_of(tensor_infos, st.integers(), st.text(max_size=3),
                                           st.dictionaries(st.text(max_size=3), st.text(max_size=3))), max_size=4)


@pytest.mark.slow  # fuzzing: hundreds of crafted files; CI runs it, the fast loop leaves it out
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(header=headers, data=st.binary(max_size=64), size_lie=st.one_of(st.none(), st.integers(0, 2**64 - 1)),
       cut=st.integers(0, 3))
def test_fuzz_safetensors_headers_load_correctly_or_raise_our_error(tmp_path, header, data, size_lie, cut):
    path = tmp_path / "fuzz.safetensors"
    blob = safetensors_bytes(header, data, size_lie)
    path.write_bytes(blob[: len(blob) - cut] if cut < 3 else blob[: len(blob) // 2])
    result, changed, peak = load_into_a_model(path)
    check_outcome(path, result, changed, peak, budget=2 * MB + 20 * len(blob))
    for reader in (nn.load, nn.load_metadata, nn.stored_shapes):
        try:
            reader(path)
        except ValueError as err:
            assert str(err).startswith(f"{path}: "), str(err)


def a_valid_safetensors_file(weight, bias):
    header = {"weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
              "bias": {"dtype": "BF16", "shape": [2], "data_offsets": [24, 28]}}
    bias_bf16 = (np.asarray(bias, np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
    return safetensors_bytes(header, np.asarray(weight, "<f4").tobytes() + bias_bf16)


@pytest.mark.slow  # fuzzing: hundreds of crafted files; CI runs it, the fast loop leaves it out
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, 200), byte=st.integers(0, 255))
def test_fuzz_one_byte_changed_in_a_safetensors_file(tmp_path, position, byte):
    blob = bytearray(a_valid_safetensors_file(np.arange(6.0).reshape(2, 3), [1.0, -2.0]))
    blob[position % len(blob)] = byte
    path = tmp_path / "flip.safetensors"
    path.write_bytes(bytes(blob))
    result, changed, peak = load_into_a_model(path)
    check_outcome(path, result, changed, peak, budget=2 * MB)


npy_dtypes = st.sampled_from(["<f8", "<f4", ">i4", "u1", "?", "<c16", "<U3", "V4", "|O"])
members = st.lists(st.tuples(
    st.one_of(st.sampled_from(["weight.npy", "bias.npy", "__metadata__.npy", "other.txt"]), st.text(max_size=4)),
    npy_dtypes,
    st.one_of(st.lists(st.integers(0, 4), max_size=3), st.lists(st.integers(0, 2**40), max_size=2),
              st.just([2, 3]), st.just([2])),
    st.integers(0, 48),  # bytes of data actually written
    st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2]),
), max_size=3)


@pytest.mark.slow  # fuzzing: hundreds of crafted files; CI runs it, the fast loop leaves it out
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(entries=members, lie=st.one_of(st.none(), st.tuples(st.integers(0, 2), st.integers(0, 2**63 - 1))))
def test_fuzz_npz_directories_load_correctly_or_raise_our_error(tmp_path, entries, lie):
    """Members of any name, dtype, claimed shape and real length, stored, deflated or bzip2'd; then a size in the
    central directory (uncompressed, compressed or the header's offset) replaced by any 64-bit number."""
    path = tmp_path / "fuzz.npz"
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as archive:
        warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # names given twice, on purpose
        for name, dtype, shape, length, compress in entries:
            with archive.open(_info(name, compress), "w", force_zip64=True) as member:
                header = {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
                try:
                    np.lib.format.write_array_header_1_0(member, header)
                except ValueError:
                    pass
                member.write(bytes(range(length)))
    if lie is not None and entries:
        which, value = lie
        rewrite_directory_entry(path, **{("file_size", "compress_size", "header_offset")[which]: value})
    result, changed, peak = load_into_a_model(path)
    check_outcome(path, result, changed, peak, budget=2 * MB + 20 * path.stat().st_size)
    for reader in (nn.load, nn.load_metadata, nn.stored_shapes):
        try:
            reader(path)
        except ValueError as err:
            assert str(err).startswith(f"{path}: "), str(err)


def _info(name, compress):
    info = zipfile.ZipInfo(name or "x")
    info.compress_type = compress
    return info


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 10), st.integers(-(2**80), 2**80),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4),
              st.sampled_from(["Linear", "Conv2d", "Sequential", "ReLU", "BatchNorm2d", "LayerNorm", "MaxPool2d",
                               "Flatten", "Dropout", "same", "valid"])),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=3), children,
                                                                                max_size=3)),
    max_leaves=12)
layer_names = st.sampled_from(["Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d",
                               "BatchNorm2d", "LayerNorm", "Flatten", "LeakyReLU", "Dropout", "Softmax", "ReLU",
                               "Identity", "Tanh", "Nope", "Sequential"])
field_names = st.sampled_from(["in_features", "out_features", "bias", "in_channels", "out_channels", "kernel_size",
                               "stride", "padding", "dilation", "groups", "num_features", "eps", "momentum", "affine",
                               "track_running_stats", "normalized_shape", "elementwise_affine", "start_dim",
                               "end_dim", "negative_slope", "p", "dim", "output_size", "layers", "colour"])
layer_specs = st.recursive(
    st.builds(lambda kind, fields: {"type": kind, **fields}, layer_names,
              st.dictionaries(field_names, json_values, max_size=6)),
    lambda children: st.builds(lambda layers: {"type": "Sequential", "layers": layers}, st.lists(children, max_size=3)),
    max_leaves=8)


@pytest.mark.slow  # fuzzing: hundreds of crafted files; CI runs it, the fast loop leaves it out
@settings(max_examples=400)
@given(spec=st.one_of(layer_specs, json_values), as_text=st.booleans())
def test_fuzz_architecture_specs_build_or_raise_our_error(spec, as_text):
    if as_text:
        try:
            spec = json.dumps(spec)
        except ValueError:
            return
    result, peak = peak_memory(lambda: nn.architecture.build(spec, max_parameters=10**5))
    if isinstance(result, Exception):
        assert type(result) is ValueError and str(result).startswith("build: "), repr(result)
    else:
        assert isinstance(result, nn.Module)
        assert sum(v.size for v in result.state_dict().values()) <= 10**5
        assert {k: v.shape for k, v in result.state_dict().items()} == nn.architecture.state_shapes(spec)
    assert peak < 10 * MB, peak


# ---- fuzzing the shapes of the breaks an attacker found after issue 28 (tests/test_model_file_attacks.py) ----------
huge_or_empty = st.one_of(st.integers(0, 4), st.just(0), st.integers(2**40, 2**70), st.booleans())


@pytest.mark.slow  # fuzzing: hundreds of crafted files; CI runs it, the fast loop leaves it out
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(huge_or_empty, max_size=4), dtype=st.sampled_from(["F32", "BF16", "F64", "U8"]),
       end=st.integers(0, 16))
def test_fuzz_safetensors_shapes_empty_huge_or_bool_load_correctly_or_raise_our_error(tmp_path, shape, dtype, end):
    """Break 1: a tensor with no elements but huge dimensions ([0, 2**62]) was NumPy's bare ValueError."""
    path = tmp_path / "shape.safetensors"
    path.write_bytes(safetensors_bytes({"weight": {"dtype": dtype, "shape": shape, "data_offsets": [0, end]}},
                                       b"\0" * end))
    for reader in (nn.load, nn.load_metadata, nn.stored_shapes):
        result, peak = peak_memory(lambda reader=reader: reader(path))
        if isinstance(result, Exception):
            assert isinstance(result, ModelFileError) and str(result).startswith(f"{path}: "), repr(result)
        assert peak < MB, peak
    result, changed, peak = load_into_a_model(path)
    check_outcome(path, result, changed, peak, budget=MB)


def npy_header_texts():
    """Headers as NumPy writes them (any dtype, any shape, bools and huge numbers in it), cut short, or any text."""
    written = st.builds(lambda descr, order, shape: "{'descr': %r, 'fortran_order': %r, 'shape': %r, }" % (
        descr, order, tuple(shape)), st.sampled_from(["<f4", "<f8", "|u1", "<U3", "O", "V4", "<M8", "f4,i4"]),
        st.one_of(st.booleans(), st.just(0)), st.lists(huge_or_empty, max_size=3))
    return st.one_of(written, st.tuples(written, st.integers(0, 60)).map(lambda t: t[0][: t[1]]),
                     st.text(st.characters(max_codepoint=255), max_size=30))


@pytest.mark.slow  # fuzzing: hundreds of crafted files; CI runs it, the fast loop leaves it out
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(members=st.lists(st.tuples(st.sampled_from(["weight", "bias", "other", "__metadata__"]), npy_header_texts(),
                                  st.integers(0, 40), st.sampled_from(["stored", "deflated", "bomb"]),
                                  st.sampled_from([1, 2])), max_size=4),
       many=st.integers(0, 30))
def test_fuzz_npz_headers_bombs_and_counts_load_correctly_or_raise_our_error(tmp_path, monkeypatch, members, many):
    """Breaks 2, 3, 7 and 13 as hypothesis draws them: .npy headers with bools or huge numbers for dimensions, cut
    short, or not headers at all; members deflated about 1000 to 1 (unpacking to up to 4 MB, over max_bytes of
    1 MB); and up to 30 more members, over a MAX_TENSORS lowered to 20."""
    from model_file_craft import deflated, npy_header, stored, write_zip, zeros_bomb

    from tinygrad_np.nn import serialization

    monkeypatch.setattr(serialization, "MAX_TENSORS", 20)
    made = []
    for k, (name, text, length, kind, version) in enumerate(members):
        header = npy_header(text=text, version=version)
        member_name = f"{name}{k if name == 'other' else ''}.npy"
        if kind == "bomb":
            made.append(zeros_bomb(member_name, header, length * 100_000))
        else:
            made.append((stored if kind == "stored" else deflated)(member_name, header + bytes(range(length))))
    made += [stored(f"extra{k}.npy", npy_header("<f4", (0,))) for k in range(many)]
    path = write_zip(tmp_path / "fuzz.npz", made)
    size = path.stat().st_size
    for reader in (lambda p: nn.load(p, max_bytes=MB), nn.load_metadata, nn.stored_shapes):
        result, peak = peak_memory(lambda reader=reader: reader(path))
        if isinstance(result, Exception):
            assert isinstance(result, ModelFileError) and str(result).startswith(f"{path}: "), repr(result)
        assert peak < 3 * MB + 20 * size, (peak, size)
    result, changed, peak = load_into_a_model(path)
    check_outcome(path, result, changed, peak, budget=6 * MB + 20 * size)


def layer_fitting(shape):
    """A layer spec drawn to fit ``shape`` (the batch's included) most of the time, and sometimes not."""
    channels, last = (shape[1] if len(shape) > 1 else 1), shape[-1]
    one_or_two = st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=2, max_size=2))
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("Conv2d"), "in_channels": st.sampled_from([channels] * 3 + [1, 2]),
                               "out_channels": st.integers(1, 4), "kernel_size": one_or_two, "stride": one_or_two,
                               "padding": st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid"])),
                               "dilation": st.integers(1, 2), "groups": st.sampled_from([1, 1, 2]),
                               "bias": st.booleans()}),
        st.fixed_dictionaries({"type": st.just("Linear"), "in_features": st.sampled_from([last] * 3 + [3]),
                               "out_features": st.integers(1, 12), "bias": st.booleans()}),
        st.fixed_dictionaries({"type": st.just("MaxPool2d"), "kernel_size": one_or_two,
                               "stride": st.one_of(st.none(), st.integers(1, 3)), "padding": st.integers(0, 1),
                               "dilation": st.integers(1, 2)}),
        st.fixed_dictionaries({"type": st.just("AvgPool2d"), "kernel_size": one_or_two,
                               "stride": st.one_of(st.none(), st.integers(1, 2)), "padding": st.integers(0, 1)}),
        st.fixed_dictionaries({"type": st.just("AdaptiveAvgPool2d"), "output_size": st.one_of(
            st.integers(1, 6), st.lists(st.integers(1, 6), min_size=2, max_size=2))}),
        st.fixed_dictionaries({"type": st.sampled_from(["BatchNorm1d", "BatchNorm2d"]),
                               "num_features": st.sampled_from([channels] * 3 + [2]), "affine": st.booleans(),
                               "track_running_stats": st.booleans()}),
        st.fixed_dictionaries({"type": st.just("LayerNorm"), "normalized_shape": st.sampled_from(
            [last, [last], list(shape[-2:]), 3])}),
        st.fixed_dictionaries({"type": st.just("Flatten"), "start_dim": st.integers(-3, 3),
                               "end_dim": st.integers(-3, 3)}),
        st.fixed_dictionaries({"type": st.just("Softmax"), "dim": st.integers(-3, 3)}),
        st.sampled_from([{"type": t} for t in ("ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "Identity")]
                        + [{"type": "LeakyReLU", "negative_slope": 0.1}, {"type": "Dropout", "p": 0.5}]))


# What output_shape refuses where a batch of one runs: its bounds, and a LayerNorm or a Flatten over the batch's
# axis (which mixes the examples of a batch).
def forward_shape(model, shape):
    """The shape of the model's output for zeros of ``shape``, in eval mode (the values are no concern here: a
    window of padding alone makes -inf, and a softmax of it NaN)."""
    import tinygrad_np as tg

    with tg.no_grad(), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return model.eval()(tg.Tensor(np.zeros(shape, np.float32))).shape


BOUND_REFUSALS = ("max_activation", "max_operations", "MAX_POOL_WINDOWS", "the batch's axis among them",
                  "which mixes the examples")  # (the last two: layers that would mix a batch's examples)


@pytest.mark.slow  # fuzzing: hundreds of crafted files; CI runs it, the fast loop leaves it out
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_output_shape_is_what_the_forward_gives(data):
    """nn.architecture.output_shape follows an input through the layers without making them (break 11's bound
    rests on it): where the built model's forward runs, output_shape gives its shape or refuses only by a bound;
    where the forward fails, output_shape refuses. The layers are drawn one by one to fit what the real forward
    gives so far, most of the time."""
    input_shape = data.draw(st.sampled_from([(784,), (1, 28, 28), (3, 9, 7), (2, 5, 5), (4,), (2, 3), (6, 4)]))
    layers, shape = [], (1, *input_shape)
    for _ in range(data.draw(st.integers(0, 5))):
        layer = data.draw(layer_fitting(shape))
        layers.append(layer)
        try:
            shape = forward_shape(nn.architecture.build(layer), shape)
        except (ValueError, TypeError):
            break
    split = data.draw(st.integers(0, len(layers)))
    spec = {"type": "Sequential", "layers": [{"type": "Sequential", "layers": layers[:split]}, *layers[split:]]}
    bounds = {"max_activation": data.draw(st.sampled_from([10**7, 3000])),
              "max_operations": data.draw(st.sampled_from([10**10, 200_000]))}
    try:
        real = forward_shape(nn.architecture.build(spec, max_parameters=10**6), (1, *input_shape))
    except (ValueError, TypeError) as err:
        real = err
    try:
        claimed = nn.architecture.output_shape(spec, input_shape, **bounds)
    except ValueError as err:
        claimed = err
    if isinstance(real, Exception):
        assert isinstance(claimed, ValueError), (spec, input_shape, real, claimed)
    elif isinstance(claimed, ValueError):
        assert any(bound in str(claimed) for bound in BOUND_REFUSALS), (spec, input_shape, real, claimed)
    else:
        assert (1, *claimed) == real, (spec, input_shape, real, claimed)
