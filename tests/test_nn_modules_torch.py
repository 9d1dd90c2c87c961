"""Every layer and loss module against PyTorch's: same state_dict keys, same repr, and with
torch's initial weights loaded (``load_state_dict``), the same outputs and gradients.

Each row builds the module in torch and in chainrule from the same arguments,
copies torch's parameters and buffers in, runs both in float64 on the same
inputs (train mode, then eval mode), and compares the outputs, the gradients
of every input and parameter, and the buffers afterwards (running statistics).
"""

import inspect

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn

R = np.random.default_rng


def floats(*shape):
    return lambda rng: rng.standard_normal(shape)


def positive(*shape):
    return lambda rng: rng.uniform(0.1, 1.0, shape)


def probabilities(*shape):
    return lambda rng: rng.uniform(0.05, 0.95, shape)


def labels(n, classes, *rest):
    return lambda rng: rng.integers(0, classes, (n, *rest))


def signs(*shape):
    return lambda rng: rng.choice([-1.0, 1.0], shape)


# name: (constructor arguments, keyword arguments, input makers)
MODULES = {
    "ReLU": ((), {}, [floats(3, 4)]),
    "ReLU6": ((), {}, [floats(3, 4)]),
    "LeakyReLU": ((0.2,), {}, [floats(3, 4)]),
    "ELU": ((), {"alpha": 0.5}, [floats(3, 4)]),
    "CELU": ((), {"alpha": 0.5}, [floats(3, 4)]),
    "SELU": ((), {}, [floats(3, 4)]),
    "GELU": ((), {"approximate": "tanh"}, [floats(3, 4)]),
    "SiLU": ((), {}, [floats(3, 4)]),
    "Mish": ((), {}, [floats(3, 4)]),
    "Sigmoid": ((), {}, [floats(3, 4)]),
    "Tanh": ((), {}, [floats(3, 4)]),
    "LogSigmoid": ((), {}, [floats(3, 4)]),
    "Hardtanh": ((-0.5, 0.5), {}, [floats(3, 4)]),
    "Hardsigmoid": ((), {}, [floats(3, 4)]),
    "Hardswish": ((), {}, [floats(3, 4)]),
    "Hardshrink": ((0.3,), {}, [floats(3, 4)]),
    "Softshrink": ((0.3,), {}, [floats(3, 4)]),
    "Tanhshrink": ((), {}, [floats(3, 4)]),
    "Softsign": ((), {}, [floats(3, 4)]),
    "Softplus": ((), {"beta": 2.0}, [floats(3, 4)]),
    "Threshold": ((0.1, 20.0), {}, [floats(3, 4)]),
    "GLU": ((), {}, [floats(3, 4)]),
    "Softmax": ((), {"dim": 1}, [floats(3, 4)]),
    "Softmin": ((), {"dim": 1}, [floats(3, 4)]),
    "LogSoftmax": ((), {"dim": 1}, [floats(3, 4)]),
    "Softmax2d": ((), {}, [floats(2, 3, 4, 4)]),
    "PReLU": ((3,), {}, [floats(2, 3, 4)]),
    "Linear": ((4, 3), {}, [floats(2, 4)]),
    "Bilinear": ((4, 3, 2), {}, [floats(5, 4), floats(5, 3)]),
    "Identity": ((), {}, [floats(2, 3)]),
    "Flatten": ((), {}, [floats(2, 3, 4)]),
    "Unflatten": ((1, (2, 2)), {}, [floats(3, 4)]),
    "Embedding": ((10, 3), {"padding_idx": 0}, [labels(4, 10)]),
    "CosineSimilarity": ((), {}, [floats(3, 4), floats(3, 4)]),
    "PairwiseDistance": ((), {}, [floats(3, 4), floats(3, 4)]),
    "Conv1d": ((2, 4, 3), {"padding": 1, "padding_mode": "reflect"}, [floats(2, 2, 7)]),
    "Conv2d": ((2, 4, 3), {"stride": 2, "padding": 1, "groups": 2}, [floats(2, 2, 7, 7)]),
    "Conv3d": ((2, 3, 2), {}, [floats(1, 2, 4, 4, 4)]),
    "ConvTranspose1d": ((2, 3, 3), {"stride": 2}, [floats(2, 2, 5)]),
    "ConvTranspose2d": ((2, 4, 3), {"stride": 2, "padding": 1, "output_padding": 1},
                        [floats(2, 2, 4, 4)]),
    "ConvTranspose3d": ((2, 2, 2), {}, [floats(1, 2, 3, 3, 3)]),
    "MaxPool1d": ((2,), {}, [floats(2, 3, 8)]),
    "MaxPool2d": ((2,), {"stride": 1}, [floats(2, 3, 5, 5)]),
    "MaxPool3d": ((2,), {}, [floats(1, 2, 4, 4, 4)]),
    "AvgPool1d": ((3,), {"stride": 2}, [floats(2, 3, 8)]),
    "AvgPool2d": ((2,), {}, [floats(2, 3, 6, 6)]),
    "AvgPool3d": ((2,), {}, [floats(1, 2, 4, 4, 4)]),
    "AdaptiveAvgPool1d": ((3,), {}, [floats(2, 3, 7)]),
    "AdaptiveAvgPool2d": (((2, 3),), {}, [floats(2, 3, 7, 8)]),
    "AdaptiveAvgPool3d": ((2,), {}, [floats(1, 2, 5, 5, 5)]),
    "AdaptiveMaxPool1d": ((3,), {}, [floats(2, 3, 7)]),
    "AdaptiveMaxPool2d": ((2,), {}, [floats(2, 3, 7, 8)]),
    "AdaptiveMaxPool3d": ((2,), {}, [floats(1, 2, 5, 5, 5)]),
    "ZeroPad2d": (((1, 2, 0, 1),), {}, [floats(2, 3, 4, 4)]),
    "ConstantPad1d": ((2, 0.5), {}, [floats(2, 3, 4)]),
    "ReflectionPad2d": ((1,), {}, [floats(2, 3, 4, 4)]),
    "ReplicationPad1d": (((1, 2),), {}, [floats(2, 3, 4)]),
    "CircularPad2d": ((1,), {}, [floats(2, 3, 4, 4)]),
    "BatchNorm1d": ((3,), {}, [floats(4, 3)]),
    "BatchNorm2d": ((3,), {"momentum": None}, [floats(4, 3, 2, 2)]),
    "BatchNorm3d": ((2,), {}, [floats(2, 2, 2, 2, 2)]),
    "LayerNorm": ((4,), {}, [floats(3, 4)]),
    "GroupNorm": ((2, 4), {}, [floats(2, 4, 3, 3)]),
    "InstanceNorm1d": ((3,), {"affine": True}, [floats(2, 3, 5)]),
    "InstanceNorm2d": ((3,), {"track_running_stats": True}, [floats(2, 3, 4, 4)]),
    "InstanceNorm3d": ((2,), {}, [floats(1, 2, 3, 3, 3)]),
    "RMSNorm": ((4,), {"eps": 1e-6}, [floats(3, 4)]),
    "LocalResponseNorm": ((3,), {}, [floats(2, 5, 3, 3)]),
    "Upsample": ((), {"scale_factor": 2, "mode": "bilinear"}, [floats(1, 2, 3, 3)]),
    "UpsamplingNearest2d": ((), {"scale_factor": 2}, [floats(1, 2, 3, 3)]),
    "UpsamplingBilinear2d": ((), {"size": (5, 4)}, [floats(1, 2, 3, 3)]),
    "PixelShuffle": ((2,), {}, [floats(1, 8, 3, 3)]),
    "PixelUnshuffle": ((2,), {}, [floats(1, 2, 4, 4)]),
    "ChannelShuffle": ((2,), {}, [floats(1, 4, 2, 2)]),
    "Unfold": ((2,), {}, [floats(1, 2, 4, 4)]),
    "L1Loss": ((), {}, [floats(3, 4), floats(3, 4)]),
    "MSELoss": ((), {"reduction": "sum"}, [floats(3, 4), floats(3, 4)]),
    "CrossEntropyLoss": ((), {"label_smoothing": 0.1, "ignore_index": 1},
                         [floats(5, 4, 2), labels(5, 4, 2)]),
    "NLLLoss": ((), {}, [floats(5, 4), labels(5, 4)]),
    "BCELoss": ((), {}, [probabilities(3, 4), probabilities(3, 4)]),
    "BCEWithLogitsLoss": ((), {}, [floats(3, 4), probabilities(3, 4)]),
    "KLDivLoss": ((), {"reduction": "batchmean"}, [floats(3, 4), probabilities(3, 4)]),
    "SmoothL1Loss": ((), {"beta": 0.5}, [floats(3, 4), floats(3, 4)]),
    "HuberLoss": ((), {"delta": 0.5}, [floats(3, 4), floats(3, 4)]),
    "SoftMarginLoss": ((), {}, [floats(3, 4), signs(3, 4)]),
    "MultiLabelSoftMarginLoss": ((), {}, [floats(3, 4), probabilities(3, 4)]),
    "MultiLabelMarginLoss": ((), {}, [floats(3, 4), lambda rng: np.array(
        [[3, 0, -1, 1], [1, 2, 3, -1], [0, -1, 2, 2]])]),
    "MultiMarginLoss": ((), {"p": 2}, [floats(5, 4), labels(5, 4)]),
    "HingeEmbeddingLoss": ((), {}, [floats(3, 4), signs(3, 4)]),
    "CosineEmbeddingLoss": ((), {"margin": 0.2}, [floats(3, 4), floats(3, 4), signs(3)]),
    "MarginRankingLoss": ((), {"margin": 0.1}, [floats(5), floats(5), signs(5)]),
    "TripletMarginLoss": ((), {}, [floats(3, 4), floats(3, 4), floats(3, 4)]),
    "PoissonNLLLoss": ((), {}, [floats(3, 4), positive(3, 4)]),
    "GaussianNLLLoss": ((), {}, [floats(3, 4), floats(3, 4), positive(3, 4)]),
}


_PAD_INPUTS = {1: floats(2, 3, 4), 2: floats(2, 3, 4, 4), 3: floats(1, 2, 3, 3, 3)}
for _kind in ("Zero", "Constant", "Reflection", "Replication", "Circular"):
    for _n in (1, 2, 3):
        _args = (1, 0.5) if _kind == "Constant" else (1,)
        MODULES.setdefault(f"{_kind}Pad{_n}d", (_args, {}, [_PAD_INPUTS[_n]]))


# Losses: only the first inputs are differentiable (targets never are in torch's).
DIFFERENTIABLE_INPUTS = {"CosineEmbeddingLoss": 2, "MarginRankingLoss": 2,
                         "TripletMarginLoss": 3, "Bilinear": 2, "CosineSimilarity": 2,
                         "PairwiseDistance": 2}


def _inputs(makers, seed):
    rng = R(seed)
    return [m(rng) for m in makers]


def _compare(ours, theirs, what):
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-6, atol=1e-8, err_msg=what)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_matches_torch(name):
    args, kwargs, makers = MODULES[name]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict()), "state_dict keys"
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for mode in ("train", "eval"):
        getattr(theirs, mode)()
        getattr(ours, mode)()
        arrays = _inputs(makers, seed=1)
        n = DIFFERENTIABLE_INPUTS.get(name, 1 if name.endswith("Loss") else len(arrays))
        grads = [a.dtype.kind == "f" and k < n for k, a in enumerate(arrays)]
        t_inputs = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
        o_inputs = [cr.tensor(a, dtype=a.dtype, requires_grad=g) for a, g in zip(arrays, grads)]
        t_out, o_out = theirs(*t_inputs), ours(*o_inputs)
        _compare(o_out.array, t_out.detach().numpy(), f"{name} {mode}: output")
        weights = R(2).standard_normal(tuple(t_out.shape))
        (t_out * torch.tensor(weights)).sum().backward()
        (o_out * cr.tensor(weights)).sum().backward()
        for k, (o, t) in enumerate(zip(o_inputs, t_inputs)):
            if t.grad is not None:
                _compare(o.grad.array, t.grad.numpy(), f"{name} {mode}: gradient of input {k}")
        for (key, o), (_, t) in zip(ours.named_parameters(), theirs.named_parameters()):
            _compare(o.grad.array, t.grad.numpy(), f"{name} {mode}: gradient of {key}")
            o.grad, t.grad = None, None
        for (key, o), (_, t) in zip(ours.named_buffers(), theirs.named_buffers()):
            _compare(o.array, t.numpy(), f"{name} {mode}: buffer {key}")


def test_every_torch_layer_and_loss_is_covered():
    """Each torch.nn layer or loss chainrule has is in MODULES (or checked elsewhere)."""
    elsewhere = {"Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
                 "ParameterDict", "MultiheadAttention", "RNNBase", "RNN", "LSTM", "GRU",
                 "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "Transformer",
                 "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
                 "TransformerDecoderLayer", "MLP", "Dropout", "Dropout1d", "Dropout2d",
                 "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "RReLU", "MaxUnpool1d",
                 "MaxUnpool2d", "MaxUnpool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
                 "CTCLoss", "TripletMarginWithDistanceLoss"}
    layers = {n for n in nn.__all__ if n[0].isupper()}
    assert layers - elsewhere - set(MODULES) == set()


# torch's recurrent layers take (*args, **kwargs); their documented parameters are checked in
# tests/test_rnn.py. Defaults that differ only in spelling: "relu" for F.relu, () for None.
_SIGNATURE_EXCEPTIONS = {"RNN", "LSTM", "GRU"}
_SAME_DEFAULT = {("Transformer", "activation"), ("TransformerEncoderLayer", "activation"),
                 ("TransformerDecoderLayer", "activation"), ("ModuleList", "modules")}


@pytest.mark.parametrize("name", sorted(
    n for n in nn.__all__ if n[0].isupper() and hasattr(torch.nn, n)
    and n not in _SIGNATURE_EXCEPTIONS))
def test_constructor_signature_is_torchs(name):
    """Every parameter name is torch's, positional ones in torch's order, with torch's default."""
    ours = inspect.signature(getattr(nn, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.nn, name).__init__).parameters
    plain = [p for p in ours.values() if p.name != "self"
             and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert [p.name for p in plain if p.name not in theirs] == []
    positional = [p.name for p in plain if p.kind is p.POSITIONAL_OR_KEYWORD]
    torch_positional = [n for n, p in theirs.items()
                        if n != "self" and p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == torch_positional[:len(positional)]
    for p in plain:
        default = theirs[p.name].default
        if (name, p.name) in _SAME_DEFAULT or p.default is p.empty or default is p.empty:
            continue
        assert p.default == default, f"{name}({p.name}={p.default!r}), torch's is {default!r}"
