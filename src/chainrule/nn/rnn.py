"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step ``Cell`` s, as in ``torch.nn``.

One time step of each, with ``x`` the input, ``h`` the hidden state and
``c`` the LSTM's cell state (``W_i*`` multiply the input, ``W_h*`` the
hidden state, and every gate has its biases ``b_i*`` and ``b_h*``):

- RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)   (or relu)
- LSTM: i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (W_ih x + b_ih + W_hh h + b_hh),
  cut into four in that order; c' = f * c + i * g, h' = o * tanh(c')
  (and h' = W_hr h' with ``proj_size``)
- GRU:  r, z = sigmoid(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z}),
  n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h

The parameters have PyTorch's names, shapes and gate order
(``weight_ih_l0`` is (4 * hidden_size, input_size) for an LSTM, gates
i, f, g, o; r, z, n for a GRU; ``_reverse`` for the backward direction), so
state dicts move both ways. For speed each layer multiplies the whole input sequence by
``W_ih`` at once. The LSTM and GRU then run the recurrence as one node per
layer and direction (``chainrule.ops.recurrent``: array code forward and
backward, its backward in Tensor ops when differentiated again), and so do
their cells for one step; the RNN and the projected LSTM compose each step
from ops, one product ``h W_hh^T`` for all gates cut apart with one
``chunk`` node. A zero initial state (no ``hx``) skips the first step's
product.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True)
    >>> out, (h, c) = lstm(cr.randn(4, 7, 3))
    >>> out.shape, h.shape, c.shape
    ((4, 7, 5), (2, 4, 5), (2, 4, 5))
"""

import math
import numbers
import warnings

from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops import creation
from chainrule.ops.dropout import dropout as _dropout
from chainrule.ops.elementwise import relu, sigmoid, tanh
from chainrule.ops.joining import cat, stack
from chainrule.ops.linear import linear
from chainrule.ops.recurrent import gru_layer, lstm_layer
from chainrule.tensor import Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ------------------------------------------------------------------ one time step


def _recurrent(h, w_hh, b_hh):
    """W_hh h + b_hh; None for a zero state without bias (h None means zeros)."""
    if h is None:
        return b_hh
    return linear(h, w_hh, b_hh)


def rnn_step(xg, h, w_hh, b_hh=None, nonlinearity="tanh"):
    """h' = act(xg + W_hh h + b_hh), with xg = W_ih x + b_ih precomputed."""
    rec = _recurrent(h, w_hh, b_hh)
    pre = xg if rec is None else xg + rec
    return tanh(pre) if nonlinearity == "tanh" else relu(pre)


def lstm_step(xg, h, c, w_hh, b_hh=None, w_hr=None):
    """(h', c') of one LSTM step; xg = W_ih x + b_ih holds the four gates i, f, g, o."""
    rec = _recurrent(h, w_hh, b_hh)
    gates = xg if rec is None else xg + rec
    i, f, g, o = gates.chunk(4, -1)
    new_c = sigmoid(i) * tanh(g)
    if c is not None:
        new_c = sigmoid(f) * c + new_c
    new_h = sigmoid(o) * tanh(new_c)
    if w_hr is not None:
        new_h = linear(new_h, w_hr)
    return new_h, new_c


def _project(x, w_ih, bias):
    """x W_ih^T + bias for every time step at once, as rows (T N, G) of one 2-d product.

    The sequence is folded into the rows: numpy multiplies a 3-d array by a
    matrix one batch element at a time, 2.5 times slower than as one product.
    """
    return linear(x.reshape(-1, x.shape[-1]), w_ih, bias)


def _zeros(like, size):
    """A zero state (N, size) for the rows of ``like``, on its device and of its dtype."""
    return like.new_zeros((like.shape[0], size))


# -------------------------------------------------------------- the layers


def _check_size(name, value, minimum=1):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the stacked, optionally bidirectional layers."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: unknown mode {mode!r}; one of {sorted(_GATES)}")
        _check_size(f"{name}: input_size", input_size, 0)
        _check_size(f"{name}: hidden_size", hidden_size)
        _check_size(f"{name}: num_layers", num_layers)
        if (not isinstance(dropout, numbers.Real) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        _check_size(f"{name}: proj_size", proj_size, 0)
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported by LSTM, not RNN or GRU")
        if proj_size and proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) has to be smaller than "
                             f"hidden_size ({hidden_size})")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        gate_size = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else out_size * directions
                shapes = [(gate_size, layer_input), (gate_size, out_size)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size:
                    shapes.append((proj_size, hidden_size))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for n, shape in zip(names, shapes):
                    setattr(self, n, Parameter(creation.empty(*shape, dtype=dtype,
                                                              device=device)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self):
        """Does nothing: PyTorch packs cuDNN's weights here; chainrule has nothing to pack."""

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    def _layer_params(self, layer, direction):
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of one layer and direction; None where absent."""
        suffix = f"l{layer}" + ("_reverse" if direction else "")
        get = self._parameters.get
        return (get(f"weight_ih_{suffix}"), get(f"weight_hh_{suffix}"),
                get(f"bias_ih_{suffix}"), get(f"bias_hh_{suffix}"), get(f"weight_hr_{suffix}"))

    # --------------------------------------------------------------- forward

    def _check_input(self, input):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{name}: expected the input as a Tensor, got {type(input).__name__}; "
                "chainrule does not support PackedSequence (yet): pad the sequences to one "
                "length (nn.utils.rnn.pad_sequence) and pass the padded tensor")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise RuntimeError(f"{name}: input is {input.dtype} but the parameters are "
                               f"{weight.dtype}; convert one of them (input.to(...) or "
                               "module.double() / .float())")
        time_dim = 1 if self.batch_first and input.ndim == 3 else 0
        if input.shape[time_dim] == 0:
            raise RuntimeError(f"{name}: Expected sequence length to be larger than 0, got "
                               f"input of shape {tuple(input.shape)}")

    def _check_state(self, state, batched, batch, size, what):
        name = type(self).__name__
        if not isinstance(state, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(state).__name__}")
        expected = (self.num_layers * (2 if self.bidirectional else 1),) + (
            (batch, size) if batched else (size,))
        if state.ndim != len(expected):
            raise RuntimeError(
                f"{name}: for {'batched 3-D' if batched else 'unbatched 2-D'} input, {what} "
                f"should be {len(expected)}-D, got {state.ndim}-D")
        if tuple(state.shape) != expected:
            raise RuntimeError(f"{name}: Expected {what} size {expected}, got "
                               f"{list(state.shape)}")

    def _run(self, input, h0, c0):
        """The stacked layers on ``input``; (output, h_n, c_n or None)."""
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(1)
            h0 = None if h0 is None else h0.unsqueeze(1)
            c0 = None if c0 is None else c0.unsqueeze(1)
        time_dim = 1 if self.batch_first and batched else 0
        directions = 2 if self.bidirectional else 1
        # one fused layer takes and gives its states as (1, N, H): no unbind or stack nodes
        whole = self.num_layers * directions == 1 and not self.mode.startswith("RNN") and (
            not self.proj_size)
        if whole:
            h_states, c_states = (h0,), (c0,)
        else:
            h_states = h0.unbind(0) if h0 is not None else None
            c_states = c0.unbind(0) if c0 is not None else None
        finals_h, finals_c = [], []
        layer_input = input
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                out, h, c = self._direction(layer_input, self._layer_params(layer, direction),
                                            None if h_states is None else h_states[k],
                                            None if c_states is None else c_states[k],
                                            time_dim, direction == 1, whole)
                outputs.append(out)
                finals_h.append(h)
                finals_c.append(c)
            layer_input = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = _dropout(layer_input, self.dropout, True)
        if whole:
            h_n, c_n = finals_h[0], finals_c[0]
        else:
            h_n = stack(finals_h, 0)
            c_n = stack(finals_c, 0) if self.mode == "LSTM" else None
        if not batched:
            layer_input, h_n = layer_input.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        return layer_input, h_n, c_n

    def _direction(self, x, params, h, c, time_dim, reverse, whole=False):
        """One layer in one direction over the whole sequence: (outputs, h_T, c_T).

        ``whole``: the states h, c (and h_T, c_T) are (1, N, H), the module's own.
        """
        w_ih, w_hh, b_ih, b_hh, w_hr = params
        mode = self.mode
        seq_shape = tuple(x.shape[:-1])
        state_shape = (1, seq_shape[1 - time_dim], w_hh.shape[1]) if whole else None
        if mode == "GRU":  # b_hn sits inside r * (W_hn h + b_hn): it cannot join b_ih
            out, h = gru_layer(_project(x, w_ih, b_ih), h, w_hh, b_hh, time_dim, reverse,
                               seq_shape, state_shape)
            return out, h, None
        xg = _project(x, w_ih, None if b_ih is None else b_ih + b_hh)
        if mode == "LSTM" and w_hr is None:
            return lstm_layer(xg, h, c, w_hh, time_dim, reverse, seq_shape, state_shape)
        xg = xg.reshape(*seq_shape, xg.shape[-1])
        return self._composed(xg, w_hh, w_hr, h, c, time_dim, reverse)

    def _composed(self, xg, w_hh, w_hr, h, c, time_dim, reverse):
        """The RNN and the projected LSTM, step by step from ops (b_hh is in ``xg``)."""
        mode = self.mode
        steps = xg.unbind(time_dim)
        length = len(steps)
        if h is None and length == 1:  # W_hh gets its (zero) gradient from this step alone
            h = _zeros(steps[0], w_hh.shape[1])
            c = _zeros(steps[0], self.hidden_size) if mode == "LSTM" else None
        outputs = [None] * length
        nonlinearity = "relu" if mode == "RNN_RELU" else "tanh"
        for t in (range(length - 1, -1, -1) if reverse else range(length)):
            if mode == "LSTM":
                h, c = lstm_step(steps[t], h, c, w_hh, None, w_hr)
            else:
                h = rnn_step(steps[t], h, w_hh, None, nonlinearity)
            outputs[t] = h
        return stack(outputs, time_dim), h, c

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (``nonlinearity="relu"``
    for relu). ``forward(input, hx=None)`` returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 proj_size=0):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        self._check_input(input)
        batched = input.ndim == 3
        batch = input.shape[0 if self.batch_first else 1] if batched else 1
        if hx is not None:
            self._check_state(hx, batched, batch, self.hidden_size, "hidden")
        output, h_n, _ = self._run(input, hx, None)
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o from W_ih x + W_hh h + biases;
    c' = f c + i g, h' = o tanh(c') (projected by W_hr with ``proj_size``).
    ``forward(input, hx=None)`` with ``hx = (h_0, c_0)`` returns (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        self._check_input(input)
        batched = input.ndim == 3
        batch = input.shape[0 if self.batch_first else 1] if batched else 1
        h0 = c0 = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            h0, c0 = hx
            self._check_state(h0, batched, batch, self.proj_size or self.hidden_size,
                              "hidden[0]")
            self._check_state(c0, batched, batch, self.hidden_size, "hidden[1]")
        output, h_n, c_n = self._run(input, h0, c0)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit: r, z = sigmoid(...), n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h' = (1 - z) n + z h. ``forward(input, hx=None)`` returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, proj_size=0):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    forward = RNN.forward


# ------------------------------------------------------------------ the cells


class RNNCellBase(Module):
    """What the cells share: weight_ih (G, input_size), weight_hh (G, hidden_size), biases."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_size(f"{name}: input_size", input_size, 0)
        _check_size(f"{name}: hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(creation.empty(gates, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(creation.empty(gates, hidden_size, dtype=dtype,
                                                  device=device))
        if bias:
            self.bias_ih = Parameter(creation.empty(gates, dtype=dtype, device=device))
            self.bias_hh = Parameter(creation.empty(gates, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _prepare(self, input, hx, states):
        """(input as (N, input_size), states as (N, hidden_size), batched); checks shapes."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]} expected {self.input_size}")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:  # a zero state (the cells' W_hh still get their zero gradient)
            return input, (None,) * states, batched
        hx = hx if states > 1 else (hx,)
        expected = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        for k, state in enumerate(hx):
            what = "hidden" if states == 1 else f"hx[{k}]"
            if not isinstance(state, Tensor) or tuple(state.shape) != expected:
                shape = tuple(state.shape) if isinstance(state, Tensor) else type(state).__name__
                raise RuntimeError(f"{name}: {what} must be {expected} for input of shape "
                                   f"{tuple(input.shape) if batched else (self.input_size,)},"
                                   f" got {shape}")
        if not batched:
            hx = tuple(state.unsqueeze(0) for state in hx)
        return input, tuple(hx), batched

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu); ``forward(input, hx=None)``."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; use 'tanh' or "
                             "'relu'")
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        if h is None:  # zeros, not None: W_hh then gets its (zero) gradient, as in PyTorch
            h = _zeros(x, self.hidden_size)
        out = rnn_step(linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                       self.nonlinearity)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``forward(input, hx=None)`` with hx = (h, c) returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, 2)
        bias = None if self.bias_ih is None else self.bias_ih + self.bias_hh
        h, c = lstm_layer(linear(x, self.weight_ih, bias), h, c, self.weight_hh, None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: ``forward(input, hx=None)`` returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        out = gru_layer(linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                        None)
        return out if batched else out.squeeze(0)
