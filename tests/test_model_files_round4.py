"""Model files against the fourth attack (/work/tools/files_attack_report4.md): the routes closed so far, each
failing on the main of 2026-12-08 before its fix. What it left open is in tests/test_model_files_round4b.py."""
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn, optim

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))


def test_a_zero_width_text_array_is_refused_before_it_is_allocated(tmp_path):
    import zipfile

    header = "{'descr': '|S0', 'fortran_order': False, 'shape': (600000000,), }"  # 600 MB for NumPy, 0 bytes here
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    member = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
    path = tmp_path / "zero_width.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("t.npy", member)
    with pytest.raises(nn.ModelFileError, match="text of width 0"):
        nn.load(path, max_bytes=0)


def test_npz_bools_holding_other_bytes_are_refused_as_safetensors_refuses_them(tmp_path):
    path = tmp_path / "bools.npz"
    np.savez(path, mask=np.array([0, 1, 2, 255], np.uint8).view(np.bool_))
    with pytest.raises(nn.ModelFileError, match="bool values hold bytes other than 0 and 1"):
        nn.load(path)


def test_loading_a_model_in_the_examples_leaves_the_global_generator_alone(tmp_path):
    import mnist_dnn
    import predict

    tg.manual_seed(3)
    model = mnist_dnn.MLP(8, np.random.default_rng(0))
    path = tmp_path / "model.npz"
    mnist_dnn.save_model(model, SimpleNamespace(input_mean=0.13, input_std=0.31), tmp_path)
    before = tg.get_rng_state()
    mnist_dnn.load_model(path)
    predict.load_any_model(path)
    assert (tg.get_rng_state() == before).all()


def test_lbfgs_state_missing_an_entry_is_refused_and_the_optimizer_keeps_working():
    w = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.LBFGS([w])

    def closure():
        opt.zero_grad()
        loss = ((w - 2) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    state = {k: np.asarray(v) for k, v in opt.state_dict().items()}
    fresh = optim.LBFGS([w])
    for entry in ("d", "t", "prev_flat_grad", "old_dirs", "ro"):
        with pytest.raises(ValueError, match=f"lacks .*state.0.{entry}"):
            fresh.load_state_dict({k: v for k, v in state.items() if k != f"state.0.{entry}"})
    fresh.load_state_dict(state)
    fresh.step(closure)  # a whole state steps


def test_a_step_that_would_overflow_the_optimizers_own_state_is_refused_and_changes_nothing():
    w = nn.Parameter(tg.Tensor(np.ones(3, np.float16)))
    opt = optim.RMSprop([w], lr=1e-3, eps=1e-4)
    w.grad = tg.Tensor(np.ones(3, np.float16))
    opt.step()
    state = {k: np.asarray(v) for k, v in opt.state_dict().items()}
    state["state.0.v"] = np.full(3, 65504, np.float16)  # the largest float16: a gradient of 300 overflows it
    opt.load_state_dict(state)
    before, w.grad = w.numpy().copy(), tg.Tensor(np.full(3, 300, np.float16))
    with pytest.raises(ValueError, match="v would become inf or NaN"):
        opt.step()
    assert (w.numpy() == before).all() and (opt.state_dict()["state.0.v"] == 65504).all()


def test_a_chain_of_exact_gelus_counts_what_they_cost_and_is_refused():
    """A 197 KB file of 993 exact GELUs over 10M values took 3 minutes a digit: an element of exact GELU costs about
    1,200 multiply-adds of a matrix product here, and the bound counted it as one."""
    gelus = [{"type": "GELU", "approximate": "none"}] * 900
    spec = {"type": "Sequential", "layers": [{"type": "Linear", "in_features": 4, "out_features": 10_000,
                                                "bias": True}] + gelus}
    with pytest.raises(ValueError, match="max_operations"):
        nn.architecture.output_shape(spec, (4,))
    relus = {"type": "Sequential", "layers": spec["layers"][:1] + [{"type": "ReLU"}] * 20}
    assert nn.architecture.output_shape(relus, (4,)) == (10_000,)  # an ordinary net is not
