"""Modules and functions take NumPy arrays where PyTorch users pass tensors (issue 29): every layer and loss in
nn.__all__, every function in nn.functional.__all__ and the package's function forms give, for an ndarray, what
they give for the Tensor it makes. The tables must name every one: a new layer or function without a row fails
here, so the lead sees it."""
import inspect

import numpy as np
import pytest

import tinygrad_np as tg
import tinygrad_np.nn.functional as F
from tinygrad_np import nn

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)  # (N, C, H, W)
ROWS = rng.standard_normal((4, 5)).astype(np.float32)
SEQ = rng.standard_normal((2, 4, 8)).astype(np.float32)
LABELS = np.array([0, 2, 1, 4])
PROBS = (1 / (1 + np.exp(-ROWS))).astype(np.float32)
TARGETS = (ROWS > 0).astype(np.float32)


def _arrays(*arrays):
    return arrays


# name -> (the arrays, a call taking them): the same call is made once with the arrays, once with Tensors
FUNCTIONS = {
    "conv1d": (_arrays(SEQ[:, :3], rng.standard_normal((2, 3, 3)).astype(np.float32)), lambda x, w: F.conv1d(x, w)),
    "conv2d": (_arrays(X, rng.standard_normal((4, 3, 3, 3)).astype(np.float32), np.zeros(4, np.float32)),
               lambda x, w, b: F.conv2d(x, w, b, padding=1)),
    "conv_transpose2d": (_arrays(X, rng.standard_normal((3, 2, 2, 2)).astype(np.float32)),
                         lambda x, w: F.conv_transpose2d(x, w, stride=2)),
    "max_pool2d": (_arrays(X), lambda x: F.max_pool2d(x, 2)),
    "avg_pool2d": (_arrays(X), lambda x: F.avg_pool2d(x, 2)),
    "adaptive_avg_pool2d": (_arrays(X), lambda x: F.adaptive_avg_pool2d(x, 1)),
    "interpolate": (_arrays(X), lambda x: F.interpolate(x, scale_factor=2)),
    "pad": (_arrays(X), lambda x: F.pad(x, (1, 1))),
    "layer_norm": (_arrays(ROWS, np.ones(5, np.float32), np.zeros(5, np.float32)),
                   lambda x, w, b: F.layer_norm(x, (5,), w, b)),
    "batch_norm": (_arrays(X, np.zeros(3, np.float32), np.ones(3, np.float32)),
                   lambda x, m, v: F.batch_norm(x, m, v)),
    "embedding": (_arrays(LABELS, ROWS.T.copy()), lambda i, w: F.embedding(i, w)),
    "one_hot": (_arrays(LABELS), lambda y: F.one_hot(y, 5)),
    "dropout": (_arrays(ROWS), lambda x: F.dropout(x, 0.5, rng=1)),
    "linear": (_arrays(ROWS, rng.standard_normal((3, 5)).astype(np.float32), np.ones(3, np.float32)),
               lambda x, w, b: F.linear(x, w, b)),
    "cross_entropy": (_arrays(ROWS, LABELS), lambda x, y: F.cross_entropy(x, y)),
    "nll_loss": (_arrays(ROWS, LABELS), lambda x, y: F.nll_loss(x, y)),
    "mse_loss": (_arrays(ROWS, PROBS), lambda x, y: F.mse_loss(x, y)),
    "l1_loss": (_arrays(ROWS, PROBS), lambda x, y: F.l1_loss(x, y)),
    "binary_cross_entropy": (_arrays(PROBS, TARGETS), lambda p, y: F.binary_cross_entropy(p, y)),
    "binary_cross_entropy_with_logits": (_arrays(ROWS, TARGETS), lambda x, y: F.binary_cross_entropy_with_logits(x, y)),
    "scaled_dot_product_attention": (_arrays(SEQ, SEQ, SEQ), lambda q, k, v: F.scaled_dot_product_attention(q, k, v)),
    "softmax": (_arrays(ROWS), lambda x: F.softmax(x, axis=1)),
    "log_softmax": (_arrays(ROWS), lambda x: F.log_softmax(x, axis=1)),
    "leaky_relu": (_arrays(ROWS), lambda x: F.leaky_relu(x, 0.2)),
    "elu": (_arrays(ROWS), lambda x: F.elu(x)),
    "celu": (_arrays(ROWS), lambda x: F.celu(x)),
    "hardtanh": (_arrays(ROWS), lambda x: F.hardtanh(x)),
    "group_norm": (_arrays(X, np.ones(3, np.float32), np.zeros(3, np.float32)),
                   lambda x, w, b: F.group_norm(x, 3, w, b)),
    "dropout2d": (_arrays(X), lambda x: F.dropout2d(x, 0.5, rng=1)),
}
for _name in ("relu", "sigmoid", "tanh", "softplus", "gelu", "silu", "relu6", "hardswish", "softsign", "mish"):
    FUNCTIONS[_name] = (_arrays(ROWS), getattr(F, _name))


def _leaves(out):
    """A result's tensors in order: (out, (h, c)) as LSTM returns it gives out, h, c."""
    return [leaf for part in out for leaf in _leaves(part)] if isinstance(out, tuple) else [out]


def _same(a, b):
    for x, y in zip(_leaves(a), _leaves(b), strict=True):
        assert isinstance(x, tg.Tensor) and x.dtype == y.dtype
        np.testing.assert_array_equal(x.data, y.data)


def test_every_functional_function_has_a_row():
    missing = set(F.__all__) - set(FUNCTIONS)
    assert not missing, f"a new F function needs a row here: {missing}"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_a_functional_function_takes_arrays(name):
    if name not in F.__all__:
        pytest.skip(f"F.{name} is not here")
    arrays, call = FUNCTIONS[name]
    from_arrays = call(*[a.copy() for a in arrays])  # ndarrays were "'numpy.ndarray' object has no attribute ..."
    from_tensors = call(*[tg.Tensor(a.copy()) for a in arrays])
    _same(from_arrays, from_tensors)


# nn's layers and losses: name -> (constructor, the arrays it is called on)
MODULES = {
    "Linear": (lambda: nn.Linear(5, 3, rng=0), _arrays(ROWS)),
    "Conv1d": (lambda: nn.Conv1d(4, 2, 3, rng=0), _arrays(SEQ[:, :, :4].transpose(0, 2, 1).copy())),
    "Conv2d": (lambda: nn.Conv2d(3, 2, 3, rng=0), _arrays(X)),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(3, 2, 2, rng=0), _arrays(X)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), _arrays(X)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), _arrays(X)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d(1), _arrays(X)),
    "Upsample": (lambda: nn.Upsample(scale_factor=2), _arrays(X)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(5).eval(), _arrays(ROWS)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3).eval(), _arrays(X)),
    "LayerNorm": (lambda: nn.LayerNorm(5), _arrays(ROWS)),
    "Embedding": (lambda: nn.Embedding(5, 3, rng=0), _arrays(LABELS)),
    "Flatten": (lambda: nn.Flatten(), _arrays(X)),
    "Dropout": (lambda: nn.Dropout(0.5, rng=0), _arrays(ROWS)),
    "Sequential": (lambda: nn.Sequential(nn.Linear(5, 4, rng=0), nn.ReLU()), _arrays(ROWS)),
    "ModuleList": None, "ModuleDict": None, "Module": None, "Parameter": None,  # containers, not called on data
    "RNNCell": (lambda: nn.RNNCell(5, 3, rng=0), _arrays(ROWS, np.zeros((4, 3), np.float32))),
    "GRUCell": (lambda: nn.GRUCell(5, 3, rng=0), _arrays(ROWS)),
    "LSTMCell": (lambda: nn.LSTMCell(5, 3, rng=0), _arrays(ROWS)),
    "Identity": (lambda: nn.Identity(), _arrays(ROWS)),
    "Softmax": (lambda: nn.Softmax(1), _arrays(ROWS)),
    "CrossEntropyLoss": (lambda: nn.CrossEntropyLoss(), _arrays(ROWS, LABELS)),
    "NLLLoss": (lambda: nn.NLLLoss(), _arrays(ROWS, LABELS)),
    "MSELoss": (lambda: nn.MSELoss(), _arrays(ROWS, PROBS)),
    "L1Loss": (lambda: nn.L1Loss(), _arrays(ROWS, PROBS)),
    "BCEWithLogitsLoss": (lambda: nn.BCEWithLogitsLoss(), _arrays(ROWS, TARGETS)),
    "RNN": (lambda: nn.RNN(8, 3, rng=0), _arrays(SEQ)),
    "LSTM": (lambda: nn.LSTM(8, 3, num_layers=2, rng=0), _arrays(SEQ)),
    "GRU": (lambda: nn.GRU(8, 3, batch_first=True, rng=0), _arrays(SEQ, np.zeros((1, 2, 3), np.float32))),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(8, 2, rng=0), _arrays(SEQ, SEQ, SEQ)),
    "GroupNorm": (lambda: nn.GroupNorm(3, 3), _arrays(X)),
    "Dropout2d": (lambda: nn.Dropout2d(0.5, rng=0), _arrays(X)),
}
for _name in ("ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "LeakyReLU"):
    MODULES[_name] = (getattr(nn, _name), _arrays(ROWS))


def _module_classes():
    return sorted(name for name in nn.__all__ if inspect.isclass(getattr(nn, name))
                  and issubclass(getattr(nn, name), (nn.Module, tg.Tensor)))


def test_every_layer_has_a_row():
    missing = set(_module_classes()) - set(MODULES)
    assert missing == set(), f"a new layer needs a row here: {missing}"


@pytest.mark.parametrize("name", sorted(n for n, row in MODULES.items() if row is not None))
def test_a_layer_takes_arrays(name):
    if name not in nn.__all__:
        pytest.skip(f"nn.{name} is not here")
    make, arrays = MODULES[name]
    _same(make()(*[a.copy() for a in arrays]), make()(*[tg.Tensor(a.copy()) for a in arrays]))


def test_the_issues_example():
    x = np.random.default_rng(1).standard_normal((8, 32)).astype(np.float32)
    out = nn.Linear(32, 10)(x)  # was: 'numpy.ndarray' object has no attribute '_data'
    assert out.shape == (8, 10) and out.requires_grad
    out.sum().backward()


def test_the_package_function_forms_take_arrays():
    for name in tg.FUNCTION_FORMS:
        if name == "matmul":
            _same(tg.matmul(ROWS, ROWS.T), tg.matmul(tg.Tensor(ROWS), ROWS.T))
        elif name in ("reshape",):
            _same(tg.reshape(ROWS, 20), tg.Tensor(ROWS).reshape(20))
        elif name in ("permute",):
            _same(tg.permute(ROWS, 1, 0), tg.Tensor(ROWS).permute(1, 0))
        elif name in ("unsqueeze",):
            _same(tg.unsqueeze(ROWS, 0), tg.Tensor(ROWS).unsqueeze(0))
        else:
            _same(getattr(tg, name)(np.abs(ROWS)), getattr(tg.Tensor(np.abs(ROWS)), name)())


def test_a_batched_array_inside_vmap_is_left_to_vmap():
    from tinygrad_np import func

    model = nn.Linear(5, 3, rng=0)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, x, y):
        return F.cross_entropy(func.functional_call(model, p, (x[None],)), y[None])

    grads = func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, ROWS, LABELS % 3)
    assert grads["weight"].shape == (4, 3, 5)
