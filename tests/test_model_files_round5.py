"""Model files against the fifth independent attack (/work/tools/files_attack_report5.md), from the attacker's
scripts in /work/scratch/attack_files5/: each test failed on the main the attacker worked on (69cf9c0). Honest
states are loaded beside each refusal, so a check cannot pass by refusing everything."""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim
from tinygrad_np.nn import architecture
from tinygrad_np.optim import lr_scheduler
from tinygrad_np.optim.optimizer import LARGEST_RATE

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))


def _sgd():
    return optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1, momentum=0.9)


@pytest.mark.parametrize("lr_lambda, t, what", [
    (lambda e: 1 - e / 100, 150, "-0.05"),                 # a linear decay past its end: gradient ascent
    (lambda e: (1 - e / 100) ** 2, 10**6, "9998"),        # 1,000 times the largest rate
    (lambda e: (1 - e / 100) ** 0.9, 150, "j"),            # a complex rate
    (lambda e: 1 / (100 - e), 100, "ZeroDivisionError"),  # the lambda raises
    (lambda e: min(1, 1.05 ** e / 1000), 10**6, "OverflowError"),
])
def test_lambda_lr_refuses_a_step_whose_rate_is_not_a_rate_and_changes_nothing(lr_lambda, t, what):
    opt = _sgd()
    schedule = optim.LambdaLR(opt, lr_lambda)
    for _ in range(3):
        schedule.step()
    saved = {k: np.asarray(v) for k, v in schedule.state_dict().items()}
    before = (schedule.t, opt.param_groups[0]["lr"])
    schedule.load_state_dict(saved)  # its own state loads
    with pytest.raises(ValueError, match=f"t = {t:,}.*{what}" if what[0].isdigit() or what == "-0.05" else what):
        schedule.load_state_dict({**saved, "t": np.asarray(t)})
    assert (schedule.t, opt.param_groups[0]["lr"]) == before


def test_batch_norm_refuses_a_count_of_batches_that_would_wrap():
    bn = nn.BatchNorm1d(3)
    state = {k: np.asarray(v).copy() for k, v in bn.state_dict().items()}
    bn.load_state_dict({**state, "num_batches_tracked": np.asarray(2**40)})
    with pytest.raises(ValueError, match="num_batches_tracked"):
        bn.load_state_dict({**state, "num_batches_tracked": np.asarray(2**63 - 1)})


@pytest.mark.parametrize("lr", [0.0, 1e-100, 1e-300])
def test_lbfgs_refuses_an_lr_its_line_search_cannot_use(lr):
    w = nn.Parameter(tg.Tensor(np.ones(3, np.float32)))
    opt = optim.LBFGS([w], lr=0.5, max_iter=2, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((w - 2) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    state = {k: np.asarray(v) for k, v in opt.state_dict().items()}
    opt.load_state_dict(state)
    with pytest.raises(ValueError, match="lr"):
        opt.load_state_dict({**state, "group.0.lr": np.asarray(lr)})


def test_cosine_annealing_at_the_largest_base_rate_stays_within_it():
    opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    schedule = lr_scheduler.CosineAnnealingLR(opt, 10, eta_min=0.001)
    saved = {k: np.asarray(v) for k, v in schedule.state_dict().items()}
    schedule.load_state_dict({**saved, "base_lrs": np.asarray([LARGEST_RATE]),
                              "_last_lr": np.asarray([LARGEST_RATE])})
    for _ in range(40):
        schedule.step()
        assert opt.param_groups[0]["lr"] <= LARGEST_RATE
        optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1).load_state_dict(opt.state_dict())  # its own state loads


def test_a_grouped_convolution_counts_its_groups_work():
    """Each group is a product of its own (about 28 µs however small): 980 layers of 100,000 one-channel groups
    passed the work bound and took 17 minutes a digit."""
    layers = [{"type": "Conv2d", "in_channels": 1, "out_channels": 100_000, "kernel_size": 1}] + \
        [{"type": "Conv2d", "in_channels": 100_000, "out_channels": 100_000, "kernel_size": 1, "groups": 100_000,
          "bias": False}] * 40
    with pytest.raises(ValueError, match="multiply-adds"):
        architecture.output_shape({"type": "Sequential", "layers": layers}, (1, 1, 1))
    depthwise = [{"type": "Conv2d", "in_channels": 32, "out_channels": 32, "kernel_size": 3, "padding": 1,
                  "groups": 32}] * 4  # a MobileNet-like depthwise stack still fits
    architecture.output_shape({"type": "Sequential", "layers": depthwise}, (32, 28, 28))


def test_a_softmax_over_the_batch_axis_is_refused():
    spec = {"type": "Sequential", "layers": [{"type": "Flatten"}, {"type": "Linear", "in_features": 784,
                                                                    "out_features": 10},
                                             {"type": "Softmax", "dim": 0}]}
    with pytest.raises(ValueError, match="batch"):
        architecture.output_shape(spec, (1, 28, 28))
    spec["layers"][-1]["dim"] = -1
    architecture.output_shape(spec, (1, 28, 28))


def test_predict_reads_a_model_ending_in_softmax_as_probabilities():
    import predict

    tg.manual_seed(0)
    scores = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with_softmax = nn.Sequential(scores, nn.Softmax(dim=-1))
    image = [np.random.default_rng(0).random((28, 28)).astype(np.float32)]
    plain = predict.classify(scores, 0.0, 1.0, image, (1, 28, 28))
    ending = predict.classify(with_softmax, 0.0, 1.0, image, (1, 28, 28))
    np.testing.assert_allclose(ending, plain, rtol=1e-5)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="a writer in a thread through a shared mmap")
def test_a_safetensors_file_rewritten_through_a_shared_mmap_is_not_read_mixed(tmp_path):
    """A writer whose mapping's pages are already dirty changes the bytes without moving the file's times: the
    loader compares each tensor with the checksum save recorded, and reads the data a second time. (Before: 12 of
    20 loads mixed two versions.)"""
    import mmap
    import threading
    import time

    path = tmp_path / "race.safetensors"
    nn.save({"a": np.zeros(2**18, np.float32), "b": np.zeros(2**18, np.float32)}, path)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        mapped = mmap.mmap(f.fileno(), size, mmap.MAP_SHARED)
        data_start = size - 2 * 2**18 * 4
        for offset in range(data_start, size, 4096):
            mapped[offset] = mapped[offset]  # every page dirty once: later writes move no time
        past = time.time() - 10
        os.utime(path, (past, past))
        stop = threading.Event()
        ones, zeros = np.ones(2**18, np.float32).tobytes(), np.zeros(2**18, np.float32).tobytes()

        def rewrite():
            version = 0
            while not stop.is_set():
                block = ones if version else zeros
                for start in (data_start, data_start + len(block)):
                    mapped[start:start + len(block)] = block
                version ^= 1

        writer = threading.Thread(target=rewrite)
        writer.start()
        mixed = 0
        try:
            for _ in range(20):
                try:
                    state = nn.load(path)
                except nn.ModelFileError:
                    continue
                values = np.concatenate([state["a"], state["b"]])
                mixed += int(values.min() != values.max())
        finally:
            stop.set()
            writer.join()
            mapped.close()
    assert mixed == 0  # (the checksums save records: before them, a writer pausing between the tensors mixed some)


def test_describe_records_bias_false_of_norm_layers_so_the_file_loads_back():
    for layer in (nn.LayerNorm(4, bias=False), nn.BatchNorm1d(4, bias=False), nn.BatchNorm2d(3, affine=False)):
        rebuilt = architecture.build(architecture.describe(layer))
        rebuilt.load_state_dict(layer.state_dict())


def test_save_through_a_symlink_keeps_the_link_and_writes_its_target(tmp_path):
    target = tmp_path / "runs" / "model.npz"
    target.parent.mkdir()
    nn.save({"w": np.zeros(2, np.float32)}, target)
    link = tmp_path / "best.npz"
    link.symlink_to(target)
    nn.save({"w": np.ones(2, np.float32)}, link)
    assert link.is_symlink() and nn.load(target)["w"].tolist() == [1.0, 1.0]


def test_a_closed_model_file_says_it_is_closed_not_that_the_file_is_broken(tmp_path):
    path = tmp_path / "m.npz"
    nn.save({"w": np.zeros(2, np.float32)}, path)
    with nn.open_model_file(path) as model_file:
        pass
    with pytest.raises(ValueError, match="closed"):
        model_file.load()


def test_save_names_a_path_with_a_nul_in_it():
    with pytest.raises(ValueError, match="NUL"):
        nn.save({"w": np.zeros(2, np.float32)}, "bad\x00name.npz")


def test_rmsprop_refuses_an_alpha_of_one_from_a_file():
    """alpha = 1 keeps v where it is forever: with v = 0 (a parameter whose gradients were 0) the step is lr·g/eps
    (the weights went to 2.4e6 in one step)."""
    w = nn.Parameter(tg.Tensor(np.ones(2, np.float32)))
    opt = optim.RMSprop([w], lr=0.01)
    state = {k: np.asarray(v) for k, v in opt.state_dict().items()}
    opt.load_state_dict({**state, "group.0.alpha": np.asarray(0.99)})
    with pytest.raises(ValueError, match="alpha"):
        opt.load_state_dict({**state, "group.0.alpha": np.asarray(1.0)})


def test_safetensors_checksums_refuse_a_file_changed_in_place_and_stay_out_of_the_metadata(tmp_path):
    path = tmp_path / "m.safetensors"
    nn.save({"w": np.zeros(4, np.float32)}, path, {"note": "mine"})
    assert nn.load_metadata(path) == {"note": "mine"}
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x40  # one bit of the last value, in place
    path.write_bytes(bytes(data))
    with pytest.raises(nn.ModelFileError, match="checksum differs"):
        nn.load(path)
    with pytest.raises(ValueError, match="reserved"):
        nn.save({"w": np.zeros(4, np.float32)}, tmp_path / "x.safetensors", {"tinygrad_np.crc32": "{}"})


def test_a_safetensors_file_another_program_wrote_loads_without_checksums(tmp_path):
    import safetensors.numpy

    path = tmp_path / "foreign.safetensors"
    path.write_bytes(safetensors.numpy.save({"w": np.arange(3, dtype=np.float32)}, metadata={"by": "them"}))
    assert nn.load(path)["w"].tolist() == [0.0, 1.0, 2.0] and nn.load_metadata(path) == {"by": "them"}


# ---- the sixth attack (/work/tools/files_attack_report6.md, /work/scratch/attack_files6/) --------------------------
def test_adam_refuses_a_state_at_t_0_with_m_or_v():
    w = nn.Parameter(tg.Tensor(np.ones(3, np.float32)))
    opt = optim.Adam([w])
    w.grad = tg.Tensor(np.ones(3, np.float32))
    opt.step()
    state = {k: np.asarray(v) for k, v in opt.state_dict().items()}
    opt.load_state_dict(state)
    with pytest.raises(ValueError, match="t 0"):
        opt.load_state_dict({**state, "state.0.t": np.asarray(0), "state.0.m": np.full(3, 1e30, np.float32),
                             "state.0.v": np.zeros(3, np.float32)})


@pytest.mark.parametrize("make", [lambda o: lr_scheduler.StepLR(o, 2, gamma=0.5),
                                  lambda o: lr_scheduler.ReduceLROnPlateau(o)])
def test_a_scheduler_that_only_lowers_the_rate_refuses_a_loaded_rate_above_it(make):
    opt = optim.Adam(nn.Linear(2, 1).parameters(), lr=0.01)
    schedule = make(opt)
    saved = {k: np.asarray(v) for k, v in schedule.state_dict().items()}
    schedule.load_state_dict(saved)
    with pytest.raises(ValueError, match="only lowers"):
        schedule.load_state_dict({**saved, "_last_lr": np.asarray([1e4])})
    assert opt.param_groups[0]["lr"] == 0.01


@pytest.mark.parametrize("key, value", [("group.0.max_iter", 10**9), ("group.0.max_eval", 10**9),
                                        ("group.0.history_size", 2**40)])
def test_lbfgs_refuses_counts_that_would_make_a_step_run_for_a_day(key, value):
    w = nn.Parameter(tg.Tensor(np.ones(3, np.float32)))
    opt = optim.LBFGS([w])
    state = {k: np.asarray(v) for k, v in opt.state_dict().items()}
    with pytest.raises(ValueError, match=key.split(".")[-1]):
        opt.load_state_dict({**state, key: np.asarray(value)})


def test_describe_refuses_what_build_could_not_make_again():
    linear = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="shared"):
        architecture.describe(nn.Sequential(linear, nn.ReLU(), linear))
    other = nn.Linear(3, 3)
    other.weight = linear.weight
    with pytest.raises(ValueError, match="shared"):
        architecture.describe(nn.Sequential(linear, other))

    class Residual(nn.Sequential):
        def forward(self, x):
            return x + super().forward(x)

    with pytest.raises(ValueError, match="subclass of Sequential"):
        architecture.describe(Residual(nn.Linear(3, 3)))
    architecture.describe(nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3)))


@pytest.mark.parametrize("tail", [[nn.Identity()], [nn.Dropout(0.5)], [nn.Flatten()], [nn.ReLU()]])
def test_predict_reads_softmax_then_layers_that_keep_it_as_probabilities(tail):
    import predict

    tg.manual_seed(0)
    scores = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    model = nn.Sequential(nn.Sequential(scores, nn.Softmax(dim=-1)), *tail)
    model.eval()
    image = [np.random.default_rng(0).random((28, 28)).astype(np.float32)]
    np.testing.assert_allclose(predict.classify(model, 0.0, 1.0, image, (1, 28, 28)),
                               predict.classify(scores, 0.0, 1.0, image, (1, 28, 28)), rtol=1e-5)


def test_the_reserved_checksum_key_is_not_shown_from_a_npz_and_names_no_tensor_twice(tmp_path):
    import json
    import zipfile

    path = tmp_path / "m.npz"
    nn.save({"w": np.zeros(2, np.float32)}, path, {"note": "x"})
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    text = json.dumps({"note": "x", "tinygrad_np.crc32": "{}"})
    header = repr({"descr": "<U%d" % len(text), "fortran_order": False, "shape": ()}).encode()
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    members["__metadata__.npy"] = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + \
        np.array(text).tobytes()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    assert nn.load_metadata(path) == {"note": "x"}
    safe = tmp_path / "m.safetensors"
    nn.save({"w": np.zeros(2, np.float32)}, safe)
    data = safe.read_bytes()
    size = int.from_bytes(data[:8], "little")
    header_text = data[8:8 + size].decode()
    doubled = header_text.replace('{\\"w\\":', '{\\"w\\": 0, \\"w\\":')
    safe.write_bytes(len(doubled.encode()).to_bytes(8, "little") + doubled.encode() + data[8 + size:])
    with pytest.raises(nn.ModelFileError, match="checksum"):
        nn.load(safe)


def test_counts_a_step_would_never_leave_are_refused():
    """(BatchNorm's count given as 3.0 or True loads as 3 and 1, as PyTorch's copy_ casts it.)"""
    opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    schedule = lr_scheduler.ReduceLROnPlateau(opt, patience=3, cooldown=2)
    saved = {k: np.asarray(v) for k, v in schedule.state_dict().items()}
    schedule.load_state_dict(saved)
    for key in ("cooldown_counter", "num_bad_epochs"):
        with pytest.raises(ValueError, match=key):
            schedule.load_state_dict({**saved, key: np.asarray(2**53)})


def test_ragged_lists_and_overlong_names_are_refused_naming_what_is_wrong(tmp_path):
    with pytest.raises(ValueError, match="'w' is not an array"):
        nn.save({"w": [[1.0], [2.0, 3.0]]}, tmp_path / "m.npz")
    with pytest.raises(ValueError, match="weight: not an array"):
        nn.Linear(2, 1).load_state_dict({"weight": [[1.0], [2.0, 3.0]], "bias": [0.0]})
    long_name = tmp_path / ("m" * 252 + ".npz")
    with pytest.raises(OSError, match="more than the 255") as caught:
        nn.save({"w": np.zeros(2, np.float32)}, long_name)
    assert caught.value.filename == str(long_name)
