"""RNN, LSTM, GRU and their cells against torch.nn, with torch's weights loaded into ours.

Each case builds a torch module, copies its state dict into the chainrule
module of the same configuration (same keys, same shapes), runs both on the
same input (and initial state), and compares every output, the gradient of
the input and initial state, and the gradient of every parameter, after
backpropagating the same random weighting of the outputs: in float64 to
1e-10 and in float32 to 1e-4 relative. The other direction (chainrule's
state dict into torch) is checked on freshly initialised modules.
"""

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.testing import gradcheck, gradgradcheck

TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def torch_to_ours(theirs, ours):
    """Load torch's state dict into ours: the same keys and shapes, strictly."""
    state = theirs.state_dict()
    assert list(state) == list(ours.state_dict()), "state dict keys differ from torch's"
    ours.load_state_dict({k: v.detach().numpy() for k, v in state.items()})


def ours_to_torch(ours, theirs):
    state = ours.state_dict()
    assert [tuple(v.shape) for v in state.values()] == [
        tuple(v.shape) for v in theirs.state_dict().values()]
    theirs.load_state_dict({k: torch.tensor(np.array(v.array)) for k, v in state.items()},
                           strict=True)


def flatten(out):
    """Every tensor of a (nested) output, in order."""
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in flatten(item)]
    return [] if out is None else [out]


def compare(ours, theirs, inputs, dtype, call=None):
    """Run both modules on ``inputs`` (arrays or nested tuples of arrays; None stays None) and
    compare outputs, input gradients and parameter gradients."""
    call = call or (lambda module, *xs: module(*xs))
    tol = TOLERANCE[dtype]

    def wrap(x, make):
        if x is None:
            return None
        if isinstance(x, tuple):
            return tuple(wrap(item, make) for item in x)
        return make(x)

    ours_in = [wrap(x, lambda a: cr.tensor(a.astype(dtype), requires_grad=True)) for x in inputs]
    theirs_in = [wrap(x, lambda a: torch.tensor(a.astype(dtype), requires_grad=True))
                 for x in inputs]
    ours_out, theirs_out = flatten(call(ours, *ours_in)), flatten(call(theirs, *theirs_in))
    assert len(ours_out) == len(theirs_out)
    rng = np.random.default_rng(7)
    loss_ours = loss_theirs = 0
    for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
        assert tuple(o.shape) == tuple(t.shape), f"output {k}: shape {o.shape} vs {t.shape}"
        assert o.dtype == dtype
        np.testing.assert_allclose(o.array, t.detach().numpy(), **tol, err_msg=f"output {k}")
        weight = rng.standard_normal(o.shape).astype(dtype)
        loss_ours = loss_ours + (o * cr.tensor(weight)).sum()
        loss_theirs = loss_theirs + (t * torch.tensor(weight)).sum()
    loss_ours.backward()
    loss_theirs.backward()
    for k, (o, t) in enumerate(zip(flatten(ours_in), flatten(theirs_in))):
        np.testing.assert_allclose(o.grad.array, t.grad.numpy(), **tol,
                                   err_msg=f"gradient of input {k}")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        expected = theirs_params[name].grad
        assert p.grad is not None or expected is None, f"{name} got no gradient"
        np.testing.assert_allclose(p.grad.array, expected.numpy(), **tol,
                                   err_msg=f"gradient of {name}")


# ------------------------------------------------------------------ the layers

MODES = {
    "rnn_tanh": (nn.RNN, torch.nn.RNN, {}),
    "rnn_relu": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, torch.nn.LSTM, {}),
    "gru": (nn.GRU, torch.nn.GRU, {}),
}

# name: (options, input shape, initial state given)
CONFIGS = {
    "2-layers-bidirectional-batch-first-hx": (
        dict(num_layers=2, bidirectional=True, batch_first=True), (3, 5, 4), True),
    "2-layers-seq-first-no-hx": (dict(num_layers=2), (5, 3, 4), False),
    "bidirectional-hx": (dict(bidirectional=True), (5, 3, 4), True),
    "batch-first-no-hx": (dict(batch_first=True, num_layers=2, bidirectional=True), (3, 5, 4),
                          False),
    "no-bias": (dict(bias=False, num_layers=2), (5, 3, 4), True),
    "dropout-in-eval": (dict(num_layers=2, dropout=0.5), (5, 3, 4), True),
    "unbatched-hx": (dict(num_layers=2, bidirectional=True), (5, 4), True),
    "unbatched-batch-first": (dict(batch_first=True), (5, 4), False),
    "one-step-one-sample": (dict(num_layers=2), (1, 1, 4), True),
    "one-step-no-hx": (dict(num_layers=2, bidirectional=True), (1, 2, 4), False),
    "empty-batch-hx": (dict(num_layers=2, bidirectional=True), (5, 0, 4), True),
}


def make_pair(mode, options, dtype):
    ours_cls, theirs_cls, extra = MODES[mode]
    torch.manual_seed(0)
    theirs = theirs_cls(4, 6, **extra, **options).to(TORCH_DTYPE[dtype])
    ours = ours_cls(4, 6, **extra, **options, dtype=dtype)
    torch_to_ours(theirs, ours)
    if options.get("dropout"):
        ours.eval()
        theirs.eval()
    return ours, theirs


def initial_state(module, input_shape, rng, hidden=None):
    directions = 2 if module.bidirectional else 1
    lead = (module.num_layers * directions,)
    batched = len(input_shape) == 3
    batch = (input_shape[0 if module.batch_first else 1],) if batched else ()
    h = rng.standard_normal(lead + batch + (hidden or module.hidden_size,))
    if module.mode == "LSTM":
        c = rng.standard_normal(lead + batch + (module.hidden_size,))
        return (h, c)
    return h


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("mode", list(MODES))
def test_recurrent_layer_matches_torch(mode, config, dtype):
    options, shape, with_state = CONFIGS[config]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout with one layer warns, in both
        ours, theirs = make_pair(mode, options, dtype)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    inputs = [x, initial_state(ours, shape, rng)] if with_state else [x]
    compare(ours, theirs, inputs, dtype)


@pytest.mark.parametrize("options", [dict(proj_size=3), dict(proj_size=2, num_layers=2,
                                                             bidirectional=True)])
def test_lstm_with_projections_matches_torch(options):
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(4, 6, **options).double()
    ours = nn.LSTM(4, 6, **options, dtype=cr.float64)
    torch_to_ours(theirs, ours)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3, 4))
    compare(ours, theirs, [x, initial_state(ours, x.shape, rng, options["proj_size"])],
            np.float64)
    compare(ours, theirs, [x], np.float64)


@pytest.mark.parametrize("mode", list(MODES))
def test_state_dicts_move_both_ways(mode):
    ours_cls, theirs_cls, extra = MODES[mode]
    cr.manual_seed(3)
    ours = ours_cls(4, 6, num_layers=2, bidirectional=True, **extra, dtype=cr.float64)
    theirs = theirs_cls(4, 6, num_layers=2, bidirectional=True, **extra).double()
    ours_to_torch(ours, theirs)
    x = np.random.default_rng(0).standard_normal((5, 3, 4))
    compare(ours, theirs, [x], np.float64)
    back = ours_cls(4, 6, num_layers=2, bidirectional=True, **extra, dtype=cr.float64)
    torch_to_ours(theirs, back)
    for (name, a), b in zip(ours.state_dict().items(), back.state_dict().values()):
        np.testing.assert_array_equal(a.array, b.array, err_msg=name)


def test_parameter_names_and_shapes_are_torchs():
    ours = nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3)
    theirs = torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert [[tuple(p.shape) for p in layer] for layer in ours.all_weights] == [
        [tuple(p.shape) for p in layer] for layer in theirs.all_weights]
    assert repr(ours) == repr(theirs)
    assert repr(nn.GRU(3, 4, batch_first=True, bias=False)) == repr(
        torch.nn.GRU(3, 4, batch_first=True, bias=False))


def test_initialisation_is_uniform_within_one_over_sqrt_hidden():
    cr.manual_seed(0)
    gru = nn.GRU(10, 25, num_layers=2)
    for name, p in gru.named_parameters():
        assert np.abs(p.array).max() <= 1 / 5, name
        assert np.abs(p.array).max() > 0.15, name


def test_dropout_between_layers_in_training():
    cr.manual_seed(0)
    lstm = nn.LSTM(4, 6, num_layers=2, dropout=0.5, dtype=cr.float64)
    x = cr.randn(5, 3, 4, dtype=cr.float64)
    lstm.eval()
    expected, (h, _) = lstm(x)
    lstm.train()
    dropped, (h_train, _) = lstm(x)
    assert not np.allclose(dropped.array, expected.array)
    # the first layer's state is taken before dropout: unchanged in training
    np.testing.assert_allclose(h_train.array[0], h.array[0], rtol=1e-12)


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


def test_flatten_parameters_is_accepted():
    lstm = nn.LSTM(3, 4)
    lstm.flatten_parameters()


def test_second_derivatives_through_an_lstm_and_a_gru():
    cr.manual_seed(0)
    for module in (nn.LSTM(2, 3, num_layers=2, bidirectional=True, dtype=cr.float64),
                   nn.GRU(2, 3, dtype=cr.float64)):
        x = cr.randn(3, 2, 2, dtype=cr.float64, requires_grad=True)
        assert gradcheck(lambda t: module(t)[0], (x,))
        assert gradgradcheck(lambda t: module(t)[0], (x,))


# ------------------------------------------------------------------ the cells

CELLS = {
    "rnn_tanh": (nn.RNNCell, torch.nn.RNNCell, {}, 1),
    "rnn_relu": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}, 1),
    "lstm": (nn.LSTMCell, torch.nn.LSTMCell, {}, 2),
    "gru": (nn.GRUCell, torch.nn.GRUCell, {}, 1),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("with_state", [True, False], ids=["hx", "no-hx"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("cell", list(CELLS))
def test_cell_matches_torch(cell, bias, with_state, batched, dtype):
    ours_cls, theirs_cls, extra, states = CELLS[cell]
    torch.manual_seed(0)
    theirs = theirs_cls(4, 5, bias=bias, **extra).to(TORCH_DTYPE[dtype])
    ours = ours_cls(4, 5, bias=bias, **extra, dtype=dtype)
    torch_to_ours(theirs, ours)
    rng = np.random.default_rng(4)
    lead = (3,) if batched else ()
    inputs = [rng.standard_normal(lead + (4,))]
    if with_state:
        state = tuple(rng.standard_normal(lead + (5,)) for _ in range(states))
        inputs.append(state if states == 2 else state[0])
    compare(ours, theirs, inputs, dtype)


def test_cells_state_dicts_move_both_ways():
    for ours_cls, theirs_cls, extra, _ in CELLS.values():
        ours, theirs = ours_cls(3, 4, **extra, dtype=cr.float64), theirs_cls(3, 4, **extra).double()
        ours_to_torch(ours, theirs)
        compare(ours, theirs, [np.ones((2, 3))], np.float64)
        assert repr(ours) == repr(theirs)


# ------------------------------------------------------------------ the errors

ERRORS = [
    (lambda: nn.LSTM(4, 6)(cr.randn(5, 3, 2)), RuntimeError, ["input_size", "Expected 4, got 2"]),
    (lambda: nn.GRU(4, 6)(cr.randn(5, 3, 4), cr.randn(2, 3, 6)), RuntimeError,
     ["Expected hidden size (1, 3, 6)", "[2, 3, 6]"]),
    (lambda: nn.LSTM(4, 6)(cr.randn(5, 3, 4), (cr.randn(1, 3, 6), cr.randn(1, 2, 6))),
     RuntimeError, ["hidden[1]", "(1, 3, 6)"]),
    (lambda: nn.LSTM(4, 6)(cr.randn(5, 3, 4), cr.randn(1, 3, 6)), TypeError, ["(h_0, c_0)"]),
    (lambda: nn.RNN(4, 6)(cr.randn(2, 5, 3, 4)), ValueError, ["2D or 3D", "4D"]),
    (lambda: nn.RNN(4, 6)(cr.randn(5, 4), cr.randn(1, 1, 6)), RuntimeError, ["unbatched",
                                                                             "2-D"]),
    (lambda: nn.RNN(4, 6)([cr.randn(5, 4)]), TypeError, ["PackedSequence", "pad_sequence"]),
    (lambda: nn.RNN(4, 6)(cr.randn(5, 3, 4, dtype=cr.float64)), RuntimeError,
     ["float64", "float32"]),
    (lambda: nn.RNN(4, 6)(cr.randn(0, 3, 4)), RuntimeError, ["sequence length"]),
    (lambda: nn.GRU(4, 6, proj_size=2), ValueError, ["proj_size", "only supported by LSTM"]),
    (lambda: nn.LSTM(4, 6, proj_size=6), ValueError, ["smaller than hidden_size"]),
    (lambda: nn.RNN(4, 6, nonlinearity="sigmoid"), ValueError, ["'tanh' or 'relu'"]),
    (lambda: nn.LSTM(4, 0), ValueError, ["hidden_size"]),
    (lambda: nn.LSTM(4, 6, dropout=1.5), ValueError, ["dropout", "[0, 1]"]),
    (lambda: nn.LSTMCell(4, 6)(cr.randn(3, 5)), RuntimeError, ["input_size", "5", "4"]),
    (lambda: nn.GRUCell(4, 6)(cr.randn(3, 4), cr.randn(2, 6)), RuntimeError,
     ["(3, 6)", "(2, 6)"]),
    (lambda: nn.RNNCell(4, 6)(cr.randn(2, 3, 4)), ValueError, ["1D or 2D", "3D"]),
]


@pytest.mark.parametrize("make, error, fragments", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors_name_the_layer_and_the_fix(make, error, fragments):
    with pytest.raises(error) as info:
        make()
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
