"""Printouts: a module prints as PyTorch's does (every argument PyTorch's repr shows, nested modules indented
with their closing parenthesis under their name), and ``print(prof)`` prints the profile's table."""
import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn


def lenet_like(n):
    return n.Sequential(
        n.Conv2d(1, 6, 5, padding=2), n.ReLU(), n.MaxPool2d(2),
        n.Sequential(n.Linear(3, 4), n.Sequential(n.Dropout(0.25))),
        n.BatchNorm2d(4), n.ModuleList([n.Linear(2, 2) for _ in range(3)] + [n.ReLU()]),
    )


LENET_LIKE = """\
Sequential(
  (0): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
  (1): ReLU()
  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (3): Sequential(
    (0): Linear(in_features=3, out_features=4, bias=True)
    (1): Sequential(
      (0): Dropout(p=0.25, inplace=False)
    )
  )
  (4): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
  (5): ModuleList(
    (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)
    (3): ReLU()
  )
)"""


def test_a_nested_model_prints_as_pytorchs_does():
    assert repr(lenet_like(nn)) == LENET_LIKE


def test_each_closing_parenthesis_is_indented_like_its_opening_line():
    opened, closed = [], 0
    for line in repr(lenet_like(nn)).splitlines():
        indent = len(line) - len(line.lstrip())
        if line.rstrip().endswith("("):
            opened.append(indent)
        elif line.strip() == ")":
            assert indent == opened.pop(), line
            closed += 1
    assert opened == [] and closed == 4


@pytest.mark.parametrize("layer, expected", [
    (nn.Conv2d(3, 8, (3, 5), stride=(2, 1), dilation=(1, 2), groups=1, bias=False),
     "Conv2d(3, 8, kernel_size=(3, 5), stride=(2, 1), dilation=(1, 2), bias=False)"),
    (nn.Conv2d(4, 4, 3, padding="same", groups=2), "Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), padding=same, "
                                                   "groups=2)"),
    (nn.Conv1d(2, 4, 3, padding=1), "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=(1,))"),
    (nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1),
     "ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"),
    (nn.MaxPool2d(3, stride=1, padding=1),
     "MaxPool2d(kernel_size=3, stride=1, padding=1, dilation=1, ceil_mode=False)"),
    (nn.AvgPool2d(2), "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
    (nn.AdaptiveAvgPool2d((1, 1)), "AdaptiveAvgPool2d(output_size=(1, 1))"),
    (nn.Upsample(scale_factor=2), "Upsample(scale_factor=2.0, mode='nearest')"),
    (nn.Upsample(size=(4, 5)), "Upsample(size=(4, 5), mode='nearest')"),
    (nn.BatchNorm1d(3, affine=False, track_running_stats=False),
     "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"),
    (nn.LayerNorm(8), "LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)"),
    (nn.LayerNorm((2, 3), bias=False), "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=False)"),
    (nn.Embedding(27, 10), "Embedding(27, 10)"),
    (nn.Flatten(0, 2), "Flatten(start_dim=0, end_dim=2)"),
    (nn.GELU(), "GELU(approximate='none')"),
    (nn.LeakyReLU(0.2), "LeakyReLU(negative_slope=0.2)"),
    (nn.Softmax(dim=1), "Softmax(dim=1)"),
    (nn.RNNCell(3, 4, nonlinearity="relu"), "RNNCell(3, 4, nonlinearity=relu)"),
    (nn.GRUCell(3, 4, bias=False), "GRUCell(3, 4, bias=False)"),
    (nn.LSTMCell(3, 4), "LSTMCell(3, 4)"),
    (nn.ModuleList(), "ModuleList()"),
    (nn.Identity(), "Identity()"),
    (nn.CrossEntropyLoss(), "CrossEntropyLoss()"),
    (nn.GroupNorm(2, 4), "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"),
    (nn.Dropout2d(0.2), "Dropout2d(p=0.2, inplace=False)"),
    (nn.LSTM(3, 4, 2, batch_first=True, proj_size=2), "LSTM(3, 4, proj_size=2, num_layers=2, batch_first=True)"),
    (nn.GRU(3, 4, bidirectional=True, bias=False), "GRU(3, 4, bias=False, bidirectional=True)"),
    (nn.RNN(3, 4, nonlinearity="relu"), "RNN(3, 4)"),
])
def test_each_layer_shows_pytorchs_arguments(layer, expected):
    assert repr(layer) == expected


def test_arguments_pytorch_shows_but_tinygrad_np_lacks_are_refused_unless_at_their_default():
    assert nn.MaxPool2d(2, ceil_mode=False, return_indices=False).ceil_mode is False
    assert nn.Dropout(0.1, inplace=False).inplace is False
    for make in (lambda: nn.MaxPool2d(2, ceil_mode=True), lambda: nn.MaxPool2d(2, return_indices=True),
                 lambda: nn.Dropout(0.1, inplace=True)):
        with pytest.raises(ValueError, match="not here"):
            make()


def test_bias_false_drops_only_the_bias_as_in_pytorch():
    ln, bn = nn.LayerNorm(4, bias=False), nn.BatchNorm1d(4, bias=False)
    assert [name for name, _ in ln.named_parameters()] == ["weight"]
    assert [name for name, _ in bn.named_parameters()] == ["weight"]
    x = tg.Tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    np.testing.assert_allclose(ln(x).numpy(), nn.LayerNorm(4)(x).numpy(), atol=1e-6)  # a zero bias either way
    np.testing.assert_allclose(bn(x).numpy(), nn.BatchNorm1d(4)(x).numpy(), atol=1e-6)


def test_every_layer_prints_as_pytorch_does_when_torch_is_here():
    torch_nn = pytest.importorskip("torch.nn")

    def everything(n):
        return n.Sequential(
            lenet_like(n), n.Conv1d(2, 4, 3, groups=2, bias=False, padding=1, dilation=2),
            n.Conv2d(3, 3, 3, padding="same"), n.ConvTranspose2d(2, 4, 2, groups=2, bias=False),
            n.MaxPool2d(3, stride=1, padding=1), n.AvgPool2d(3, 2, 1), n.AdaptiveAvgPool2d(2),
            n.Upsample(scale_factor=2), n.Upsample(size=(4, 5)), n.BatchNorm1d(3, affine=False),
            n.LayerNorm((2, 3), eps=1e-6, elementwise_affine=False), n.LayerNorm(8, bias=False),
            n.RNNCell(3, 4, nonlinearity="relu"), n.LSTMCell(3, 4), n.GRUCell(3, 4, bias=False),
            n.Embedding(27, 10), n.Flatten(), n.Tanh(), n.Sigmoid(), n.SiLU(), n.LeakyReLU(0.2),
            n.GELU(approximate="tanh"), n.Softmax(dim=1), n.Identity(), n.ModuleList(),
            n.ModuleDict({"a": n.Linear(1, 2), "b": n.Tanh()}), n.CrossEntropyLoss(), n.MSELoss(), n.L1Loss(),
            n.NLLLoss(), n.BCEWithLogitsLoss(),
            n.GroupNorm(2, 4, eps=1e-3), n.GroupNorm(1, 3, affine=False), n.Dropout2d(0.1),
            n.LSTM(3, 4, 2, dropout=0.5, bidirectional=True, proj_size=1), n.GRU(3, 4, batch_first=True, bias=False),
            n.RNN(3, 4, nonlinearity="relu"), n.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False),
        )

    assert repr(everything(nn)) == repr(everything(torch_nn))


def test_print_of_a_profile_prints_its_table(capsys):
    x = tg.Tensor(np.ones((3, 4), np.float32), requires_grad=True)
    with tg.profile() as prof:
        (x * 2.0).sum().backward()
    print(prof)
    out = capsys.readouterr().out
    assert out.strip() == prof.table()
    assert out.splitlines()[0].split()[:3] == ["op", "calls", "forward"] and "all ops" in out
    assert "object at 0x" not in repr(prof) and "2 ops" in repr(prof)
