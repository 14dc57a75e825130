"""Finding, downloading, checking and loading MNIST.

Downloads go to an HTTP server this test starts on 127.0.0.1, serving small
synthetic files whose MD5s stand in for the official ones.
"""
import hashlib
import http.server
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from idx_files import write_idx, write_mnist_folder

from tinygrad_np.data import (
    MNIST_MEAN,
    MNIST_STD,
    MnistNotFound,
    load_mnist,
    load_mnist_or_sample,
    load_mnist_sample,
    normalize,
)
from tinygrad_np.data import mnist as mnist_module


class Mirror(http.server.ThreadingHTTPServer):
    """Serves /good/<name> correctly, /bad/<name> with wrong bytes, /slow/<name> after a long pause,
    /endless/<name> as a stream with no length that does not end (until the client hangs up), and
    /huge/<name> announcing a length far larger than any MNIST file."""

    daemon_threads = True

    def __init__(self, files):
        self.files, self.requests = files, []
        super().__init__(("127.0.0.1", 0), Handler)

    def url(self, kind):
        return f"http://127.0.0.1:{self.server_address[1]}/{kind}/"

    def handle_error(self, request, client_address):
        # A client that hangs up early (a timeout test, a refused size) is expected; the default prints a
        # traceback from the server's thread, which lands in whichever later test is reading stderr.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        _, kind, name = self.path.split("/")
        if name not in self.server.files or kind not in ("good", "bad", "slow", "endless", "huge"):
            self.send_error(404)
            return
        if kind in ("endless", "huge"):
            self.send_response(200)
            if kind == "huge":
                self.send_header("Content-Length", str(10 ** 12))
            self.end_headers()
            try:
                for _ in range(100_000):  # bounded, so the test server stops by itself: 6.5 GB at most
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                pass  # the client hung up, as it should
            return
        if kind == "slow":
            time.sleep(3)
        body = self.server.files[name] if kind != "bad" else b"not the file you wanted"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up first (the slow mirror's timeout): nothing to report

    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local mirror of synthetic MNIST files, with MNIST_FILES pointing at their MD5s."""
    source = tmp_path / "source"
    arrays = write_mnist_folder(source)
    files = {name: (source / name).read_bytes() for name in arrays}
    for name, body in files.items():
        monkeypatch.setitem(mnist_module.MNIST_FILES, name, hashlib.md5(body).hexdigest())
    monkeypatch.delenv("TINYGRAD_NP_DATA", raising=False)
    monkeypatch.delenv(mnist_module.MIRRORS_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    server = Mirror(files)
    # A short poll interval: shutdown() waits up to one interval, 0.5 s by default, at the end of every test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    server.arrays = arrays
    yield server
    server.shutdown()
    server.server_close()


def cache_listing():
    folder = mnist_module.cache_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_into_the_cache(mirror):
    x_train, y_train, x_test, y_test = load_mnist(mirrors=[mirror.url("good")], progress=False)
    np.testing.assert_array_equal(x_train, mirror.arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, mirror.arrays["t10k-labels-idx1-ubyte.gz"])
    assert cache_listing() == sorted(mnist_module.MNIST_FILES)  # and no leftover .part files
    assert mnist_module.cache_dir() == Path(os.environ["XDG_CACHE_HOME"]) / "tinygrad_np" / "mnist"
    # a second call is served from the cache
    before = len(mirror.requests)
    load_mnist(mirrors=[mirror.url("good")], progress=False)
    assert len(mirror.requests) == before


def test_falls_back_past_missing_and_wrong_checksum_mirrors(mirror):
    mirrors = [mirror.url("missing"), mirror.url("bad"), mirror.url("good")]
    load_mnist(mirrors=mirrors, progress=False)
    assert cache_listing() == sorted(mnist_module.MNIST_FILES)
    assert any(r.startswith("/bad/") for r in mirror.requests)


def test_every_mirror_failing_raises_and_leaves_nothing_behind(mirror):
    with pytest.raises(MnistNotFound, match="MD5 .* expected") as info:
        load_mnist(mirrors=[mirror.url("missing"), mirror.url("bad")], progress=False)
    assert "404" in str(info.value)
    assert cache_listing() == []


@pytest.mark.slow
def test_a_slow_mirror_times_out_and_the_next_is_tried(mirror):
    start = time.perf_counter()
    load_mnist(mirrors=[mirror.url("slow"), mirror.url("good")], timeout=0.3, progress=False)
    assert time.perf_counter() - start < 2.5  # four timeouts of 0.3 s, not four 3 s waits
    assert cache_listing() == sorted(mnist_module.MNIST_FILES)


def test_unreachable_mirror_fails_fast(mirror):
    with pytest.raises(MnistNotFound, match="could not download"):
        load_mnist(mirrors=["http://127.0.0.1:9/"], timeout=0.5, progress=False)  # port 9: discard, closed


def test_a_corrupt_cached_file_is_downloaded_again(mirror):
    load_mnist(mirrors=[mirror.url("good")], progress=False)
    cached = mnist_module.cache_dir() / "t10k-labels-idx1-ubyte.gz"
    cached.write_bytes(b"damaged")
    mirror.requests.clear()
    _, _, _, y_test = load_mnist(mirrors=[mirror.url("good")], progress=False)
    assert mirror.requests == ["/good/t10k-labels-idx1-ubyte.gz"]
    np.testing.assert_array_equal(y_test, mirror.arrays["t10k-labels-idx1-ubyte.gz"])


def test_download_false_does_not_fetch(mirror):
    with pytest.raises(MnistNotFound, match="download=False"):
        load_mnist(download=False)
    assert mirror.requests == []


def test_named_folder_is_never_downloaded_into(tmp_path, mirror):
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz: no such file"):
        folder = tmp_path / "partial"
        write_mnist_folder(folder)
        (folder / "t10k-labels-idx1-ubyte.gz").unlink()
        load_mnist(folder)
    assert mirror.requests == []
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_mnist(tmp_path / "nowhere")


def test_environment_variable_names_the_folder(tmp_path, monkeypatch):
    arrays = write_mnist_folder(tmp_path / "d")
    monkeypatch.setenv("TINYGRAD_NP_DATA", str(tmp_path / "d"))
    _, y_train, _, _ = load_mnist()
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte.gz"])


def test_uncompressed_files_work_too(tmp_path):
    arrays = write_mnist_folder(tmp_path)
    for name, array in arrays.items():
        (tmp_path / name).unlink()
        write_idx(tmp_path / name[:-3], array)
    x_train, *_ = load_mnist(tmp_path)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])


@pytest.mark.parametrize("name, array, message", [
    ("t10k-labels-idx1-ubyte.gz", np.zeros(7, np.uint8), "7 labels for 10 images"),
    ("train-images-idx3-ubyte.gz", np.zeros((20, 14, 14), np.uint8), "expected 28x28 images"),
    ("train-labels-idx1-ubyte.gz", np.full(20, 10, np.uint8), "label 10 is outside 0-9"),
])
def test_inconsistent_files_are_named(tmp_path, name, array, message):
    write_mnist_folder(tmp_path)
    write_idx(tmp_path / name, array)
    with pytest.raises(ValueError, match=message) as info:
        load_mnist(tmp_path)
    assert name in str(info.value)


REAL = os.environ.get("TINYGRAD_NP_DATA")
needs_real_data = pytest.mark.skipif(not REAL, reason="TINYGRAD_NP_DATA is not set")


@pytest.mark.slow
@needs_real_data
def test_real_mnist_facts():
    x_train, y_train, x_test, y_test = load_mnist(REAL)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert list(y_train[:8]) == [5, 0, 4, 1, 9, 2, 1, 3]
    assert list(y_test[:8]) == [7, 2, 1, 0, 4, 1, 4, 9]
    pixels = x_train / 255.0
    assert abs(pixels.mean() - MNIST_MEAN) < 1e-4 and abs(pixels.std() - MNIST_STD) < 1e-4
    inputs = normalize(x_train)
    assert inputs.dtype == np.float32 and inputs.shape == x_train.shape
    assert abs(inputs.mean()) < 1e-3 and abs(inputs.std() - 1) < 1e-3
    sums = Path(REAL, "SHA256SUMS")
    if sums.exists():
        expected = dict(line.split()[::-1] for line in sums.read_text().splitlines() if line.strip())
        for name, array in [("train-labels-idx1-ubyte", y_train), ("t10k-labels-idx1-ubyte", y_test)]:
            header = b"\x00\x00\x08\x01" + len(array).to_bytes(4, "big")
            assert hashlib.sha256(header + array.tobytes()).hexdigest() == expected[name]


def test_bundled_sample_is_small_balanced_real_mnist():
    assert mnist_module.SAMPLE_PATH.stat().st_size <= 1_100_000
    x_train, y_train, x_test, y_test = load_mnist_sample()
    assert x_train.shape == (2000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [200] * 10 and np.bincount(y_test).tolist() == [100] * 10
    if REAL:  # every sampled test image is one of the real test images with the same label
        real_x, real_y = load_mnist(REAL)[2:]
        index = {img.tobytes(): label for img, label in zip(real_x, real_y, strict=True)}
        assert all(index.get(img.tobytes()) == label for img, label in zip(x_test, y_test, strict=True))


def test_a_mirror_that_streams_forever_is_cut_off_at_the_expected_size(mirror, monkeypatch):
    monkeypatch.setitem(mnist_module.MNIST_SIZES, "train-images-idx3-ubyte.gz", 100_000)
    with pytest.raises(MnistNotFound, match=r"endless/train-images-idx3-ubyte.gz: stopped after 1148576 bytes"):
        load_mnist(mirrors=[mirror.url("endless")], progress=False)
    assert cache_listing() == []


def test_a_mirror_announcing_too_much_is_refused_before_downloading(mirror):
    with pytest.raises(MnistNotFound, match=r"huge/train-images-idx3-ubyte.gz: the server offers 1000000000000 bytes"):
        load_mnist(mirrors=[mirror.url("huge")], progress=False)
    assert cache_listing() == []


def test_a_cache_folder_that_cannot_be_created_is_reported_as_not_found(mirror, tmp_path, monkeypatch):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(in_the_way))  # works as root too, unlike a read-only folder
    with pytest.raises(MnistNotFound, match="the cache folder .*a-file/tinygrad_np/mnist cannot be created or written"):
        load_mnist(mirrors=[mirror.url("good")], progress=False)
    assert mirror.requests == [], "nothing should be fetched when there is nowhere to put it"


@needs_real_data
def test_mnist_or_sample_says_it_found_mnist(capsys):
    data = load_mnist_or_sample(REAL)
    assert (data.name, data.source, data.is_sample, data.why_sample) == ("MNIST", REAL, False, "")
    assert data.x_train.shape == (60000, 28, 28) and data.y_train.dtype == np.int64
    assert capsys.readouterr().err == ""


def test_mnist_or_sample_falls_back_loudly_and_says_why(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TINYGRAD_NP_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(mnist_module.MIRRORS_ENV, "http://127.0.0.1:9/")  # closed: fails at once
    data = load_mnist_or_sample(normalized=True)
    assert data.is_sample and data.name.startswith("MNIST sample") and data.why_sample.startswith("the download failed")
    assert data.x_train.shape == (2000, 28, 28) and data.x_train.dtype == np.float32
    np.testing.assert_array_equal(data.x_test, normalize(load_mnist_sample()[2]))
    x_train, y_train, x_test, y_test = data  # unpacks as load_mnist's tuple does
    assert y_test.dtype == np.int64
    banner = capsys.readouterr().err
    assert "offline SAMPLE" in banner and "--data-dir" in banner and str(tmp_path / "cache") in banner
    load_mnist_or_sample(announce=False)
    assert capsys.readouterr().err == ""


def test_a_named_folder_that_is_wrong_is_an_error_not_the_sample(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_mnist_or_sample(tmp_path / "nowhere")


def test_the_offline_banner_speaks_to_a_notebook_user_in_python_not_flags():
    from tinygrad_np.data.mnist import offline_banner

    notebook, shell = offline_banner("offline", in_notebook=True), offline_banner("offline", in_notebook=False)
    assert "--data-dir" not in notebook and 'load_mnist_or_sample("FOLDER")' in notebook
    assert "TINYGRAD_NP_DATA" in notebook
    assert "--data-dir" in shell and "the the" not in shell
