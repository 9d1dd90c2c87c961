"""The fused LSTM and GRU layers (chainrule.ops.recurrent) against their composition from ops.

Each fused Function runs a whole sequence (or one step) as one node, with
array code forward and backward, and a backward in Tensor ops when the
graph of the backward is recorded. Here the same recurrence is written step
by step from chainrule ops (matmul, chunk, sigmoid, tanh, stack), and both
are compared in float64: the outputs, the gradients of every input (from
the array backward and from the Tensor-op one), and second derivatives
(gradients of a weighted sum of the first gradients, taken with
``create_graph=True``), over time layouts, directions, one step, and
given or zero initial states. gradcheck and gradgradcheck check the fused
ops against finite differences too.
"""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.ops.recurrent import gru_layer, lstm_layer
from chainrule.testing import gradcheck, gradgradcheck
from tests import checking_backend
from tests.checking_backend import CheckedArray, checked_tensor, installed

T, N, H = 4, 3, 5
TOL = dict(rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------ the compositions


def lstm_composed(xg, h0, c0, w_hh, time_dim=0, reverse=False):
    """The LSTM recurrence from ops: a = xg_t + h W_hh^T, i f g o, c' = f c + i g, h' = o tanh c'."""
    steps = [xg] if time_dim is None else list(xg.unbind(time_dim))
    n = steps[0].shape[0]
    h = h0 if h0 is not None else cr.zeros(n, w_hh.shape[1], dtype=xg.dtype)
    c = c0 if c0 is not None else cr.zeros(n, w_hh.shape[1], dtype=xg.dtype)
    outs = [None] * len(steps)
    for t in (reversed(range(len(steps))) if reverse else range(len(steps))):
        i, f, g, o = (steps[t] + h @ w_hh.T).chunk(4, -1)
        c = cr.sigmoid(f) * c + cr.sigmoid(i) * cr.tanh(g)
        h = cr.sigmoid(o) * cr.tanh(c)
        outs[t] = h
    if time_dim is None:
        return h, c
    return cr.stack(outs, time_dim), h, c


def gru_composed(xg, h0, w_hh, b_hh, time_dim=0, reverse=False):
    """The GRU recurrence from ops: r, z = s(xg + h W^T + b), n = tanh(xg_n + r hg_n), h' = n + z (h - n)."""
    steps = [xg] if time_dim is None else list(xg.unbind(time_dim))
    n_rows = steps[0].shape[0]
    h = h0 if h0 is not None else cr.zeros(n_rows, w_hh.shape[1], dtype=xg.dtype)
    outs = [None] * len(steps)
    for t in (reversed(range(len(steps))) if reverse else range(len(steps))):
        hg = h @ w_hh.T
        if b_hh is not None:
            hg = hg + b_hh
        x_r, x_z, x_n = steps[t].chunk(3, -1)
        h_r, h_z, h_n = hg.chunk(3, -1)
        r, z = cr.sigmoid(x_r + h_r), cr.sigmoid(x_z + h_z)
        n = cr.tanh(x_n + r * h_n)
        h = n + z * (h - n)
        outs[t] = h
    if time_dim is None:
        return h
    return cr.stack(outs, time_dim), h


# ------------------------------------------------------------------ the cases


def tensor(rng, *shape, scale=1.0):
    return cr.tensor(scale * rng.standard_normal(shape), dtype=cr.float64, requires_grad=True)


def lstm_inputs(rng, time_dim, with_state):
    shape = {None: (N, 4 * H), 0: (T, N, 4 * H), 1: (N, T, 4 * H)}[time_dim]
    xg = tensor(rng, *shape)
    h0 = tensor(rng, N, H) if with_state else None
    c0 = tensor(rng, N, H) if with_state else None
    return [xg, h0, c0, tensor(rng, 4 * H, H, scale=0.5)]


def gru_inputs(rng, time_dim, with_state, with_bias=True):
    shape = {None: (N, 3 * H), 0: (T, N, 3 * H), 1: (N, T, 3 * H)}[time_dim]
    xg = tensor(rng, *shape)
    h0 = tensor(rng, N, H) if with_state else None
    b_hh = tensor(rng, 3 * H) if with_bias else None
    return [xg, h0, tensor(rng, 3 * H, H, scale=0.5), b_hh]


LAYOUTS = [(None, False), (0, False), (0, True), (1, False), (1, True)]

CASES = {
    "lstm": (lstm_layer, lstm_composed, lstm_inputs),
    "gru": (gru_layer, gru_composed, gru_inputs),
}


def as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def weighted(outputs, rng_seed=1):
    """A scalar that weighs every output with fixed random weights."""
    rng = np.random.default_rng(rng_seed)
    return sum((o * o.new_tensor(rng.standard_normal(o.shape))).sum() for o in outputs)


def first_and_second(fn, inputs, create_graph):
    """(outputs, first gradients, second gradients) of a weighted sum of ``fn``'s outputs."""
    wrt = [x for x in inputs if x is not None]
    outputs = as_tuple(fn(*inputs))
    grads = cr.autograd.grad(weighted(outputs), wrt, create_graph=create_graph)
    if not create_graph:
        return outputs, grads, None
    probe = weighted(grads, rng_seed=2)
    second = cr.autograd.grad(probe, wrt, allow_unused=True)
    return outputs, grads, second


@pytest.mark.parametrize("kind", list(CASES))
@pytest.mark.parametrize("time_dim, reverse", LAYOUTS)
@pytest.mark.parametrize("with_state", [True, False])
def test_fused_equals_composition(kind, time_dim, reverse, with_state):
    fused, composed, make = CASES[kind]
    inputs = make(np.random.default_rng(0), time_dim, with_state)

    def run_fused(*xs):
        return fused(*xs, time_dim=time_dim, reverse=reverse)

    def run_composed(*xs):
        return composed(*xs, time_dim=time_dim, reverse=reverse)

    ours, grads, _ = first_and_second(run_fused, inputs, create_graph=False)
    ours_graph, grads_graph, second = first_and_second(run_fused, inputs, create_graph=True)
    theirs, grads_ref, second_ref = first_and_second(run_composed, inputs, create_graph=True)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)
    for g, g_graph, ref in zip(grads, grads_graph, grads_ref):
        assert not g.requires_grad and g_graph.requires_grad
        np.testing.assert_allclose(g.detach().numpy(), ref.detach().numpy(), **TOL)  # array backward
        np.testing.assert_allclose(g_graph.detach().numpy(), ref.detach().numpy(), **TOL)
    for s, ref in zip(second, second_ref):
        assert (s is None) == (ref is None)
        if s is not None:
            np.testing.assert_allclose(s.detach().numpy(), ref.detach().numpy(), **TOL)


def test_gru_without_bias_equals_composition():
    inputs = gru_inputs(np.random.default_rng(3), 0, True, with_bias=False)
    ours, grads, second = first_and_second(gru_layer, inputs, create_graph=True)
    theirs, grads_ref, second_ref = first_and_second(gru_composed, inputs, create_graph=True)
    for a, b in zip(ours + grads + second, theirs + grads_ref + second_ref):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)


@pytest.mark.parametrize("kind", list(CASES))
def test_only_some_outputs_get_a_gradient(kind):
    """The final state alone (no gradient for the outputs over time), and the outputs alone."""
    fused, composed, make = CASES[kind]
    inputs = make(np.random.default_rng(4), 1, True)
    wrt = [x for x in inputs if x is not None]
    for pick in (lambda outs: outs[0], lambda outs: outs[1]):
        for create_graph in (False, True):
            ours = cr.autograd.grad(weighted([pick(fused(*inputs, time_dim=1))]), wrt,
                                    create_graph=create_graph)
            ref = cr.autograd.grad(weighted([pick(composed(*inputs, time_dim=1))]), wrt)
            for g, r in zip(ours, ref):
                np.testing.assert_allclose(g.detach().numpy(), r.numpy(), **TOL)


@pytest.mark.parametrize("kind", list(CASES))
def test_gradcheck_and_gradgradcheck(kind):
    fused, _, make = CASES[kind]
    for time_dim, reverse in [(0, True), (None, False)]:
        inputs = make(np.random.default_rng(5), time_dim, True)

        def fn(*xs):
            return fused(*xs, time_dim=time_dim, reverse=reverse)

        assert gradcheck(fn, tuple(inputs))
        assert gradgradcheck(fn, tuple(inputs))


@pytest.mark.parametrize("kind", list(CASES))
def test_outputs_changed_in_place_leave_the_backward_intact(kind):
    """The outputs are new arrays: the activations the backward reads are the node's own."""
    fused, composed, make = CASES[kind]
    inputs = make(np.random.default_rng(6), 0, True)
    outs = fused(*inputs)
    loss = weighted(outs[1:])
    with cr.no_grad():
        outs[0].mul_(0.0)
    ours = cr.autograd.grad(loss, [x for x in inputs if x is not None])
    ref = cr.autograd.grad(weighted(composed(*inputs)[1:]), [x for x in inputs if x is not None])
    for g, r in zip(ours, ref):
        np.testing.assert_allclose(g.detach().numpy(), r.detach().numpy(), **TOL)


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_saturated_gates_stay_finite_and_quiet(dtype):
    """Pre-activations of +-1000: gates at exactly 0 or 1, no overflow warning, finite gradients."""
    xg = cr.tensor(np.tile([1000.0, -1000.0], (2, 3, 2 * H)), dtype=dtype, requires_grad=True)
    w_hh = cr.zeros(4 * H, H, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, h, c = lstm_layer(xg, None, None, w_hh)
        out.sum().backward()
        hg = gru_layer(xg[..., :3 * H].detach().requires_grad_(), None, w_hh[:3 * H].detach(),
                       None)[0]
        hg.sum().backward()
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(xg.grad.numpy()).all()
    assert np.isfinite(hg.detach().numpy()).all()


def test_backward_twice_needs_retain_graph():
    inputs = lstm_inputs(np.random.default_rng(7), 0, True)
    out = lstm_layer(*inputs)[0].sum()
    out.backward(retain_graph=True)
    out.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()


def test_layers_and_cells_use_the_fused_node():
    """One node per layer and direction (the cells: per step); RNN and proj_size stay composed."""
    x = cr.randn(5, 2, 3)
    out, (h, c) = nn.LSTM(3, 4, bidirectional=True)(x)
    assert [n.op_name for n in out.grad_fn.inputs] == ["LSTMLayer", "LSTMLayer"]
    assert nn.GRU(3, 4, batch_first=True)(x)[0].grad_fn.op_name == "GRULayer"
    assert nn.LSTMCell(3, 4)(x[0])[0].grad_fn.op_name == "LSTMLayer"
    assert nn.GRUCell(3, 4)(x[0]).grad_fn.op_name == "GRULayer"
    assert nn.LSTM(3, 4, proj_size=2)(x)[0].grad_fn.op_name != "LSTMLayer"
    assert nn.RNN(3, 4)(x)[0].grad_fn.op_name != "LSTMLayer"


@pytest.mark.parametrize("kind", list(CASES))
def test_fused_layers_run_through_the_device_seam(kind):
    """Forward, the array backward and the Tensor-op backward all stay on the tensors' backend."""
    fused, _, make = CASES[kind]
    for time_dim, reverse in [(1, True), (None, False)]:
        host = [None if x is None else x.detach().numpy()
                for x in make(np.random.default_rng(8), time_dim, True)]
        checking_backend.violations.clear()
        with installed():
            inputs = [None if x is None else checked_tensor(x, True) for x in host]
            outputs, grads, second = first_and_second(
                lambda *xs: fused(*xs, time_dim=time_dim, reverse=reverse), inputs, True)
            fused(*inputs, time_dim=time_dim, reverse=reverse)[0].sum().backward()
        assert not checking_backend.violations, checking_backend.violations[:3]
        for t in [*outputs, *grads, *second, *(x.grad for x in inputs if x is not None)]:
            assert isinstance(t.array, CheckedArray)


@pytest.mark.parametrize("kind", list(CASES))
@pytest.mark.parametrize("time_dim", [0, 1])
def test_rows_and_module_shaped_states(kind, time_dim):
    """xg as rows (T N, G) with ``seq_shape``; states (1, N, H) in and out (``state_shape``)."""
    fused, composed, make = CASES[kind]
    inputs = make(np.random.default_rng(9), time_dim, True)
    seq_shape = tuple(inputs[0].shape[:-1])
    rows = inputs[0].detach().reshape(-1, inputs[0].shape[-1]).requires_grad_()
    states = {1: inputs[1].detach().unsqueeze(0).requires_grad_()}
    if kind == "lstm":
        states[2] = inputs[2].detach().unsqueeze(0).requires_grad_()
    ours_in = [rows] + [states.get(k, x) for k, x in enumerate(inputs) if k]

    def run_fused(*xs):
        return fused(*xs, time_dim=time_dim, seq_shape=seq_shape, state_shape=(1, N, H))

    def run_composed(*xs):
        xs = [xs[0].reshape(*seq_shape, -1)] + [x.squeeze(0) if k in states else x
                                                for k, x in enumerate(xs) if k]
        return tuple(o if k == 0 else o.unsqueeze(0)
                     for k, o in enumerate(composed(*xs, time_dim=time_dim)))

    for create_graph in (False, True):
        ours, grads, second = first_and_second(run_fused, ours_in, create_graph)
        theirs, grads_ref, second_ref = first_and_second(run_composed, ours_in, create_graph)
        for a, b in zip(ours + grads + (second or ()), theirs + grads_ref + (second_ref or ())):
            assert a.shape == b.shape
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)
