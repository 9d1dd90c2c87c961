"""Fused recurrent layers: an LSTM or GRU over a whole sequence (or one step) as one node.

Internal primitives of ``nn.LSTM``, ``nn.GRU``, ``nn.LSTMCell`` and
``nn.GRUCell`` (no public name: PyTorch has none for them). The input
projection ``xg = x W_ih^T + b_ih`` of every time step is computed before, in
one product for the whole sequence; these Functions run the recurrence, with
PyTorch's gate order:

- LSTM: a = xg_t + h W_hh^T (b_hh folded into xg), (i, f, g, o) = (s, s, tanh, s)
  of a's four quarters, c' = f c + i g, h' = o tanh(c');
- GRU: a = h W_hh^T + b_hh, r = s(xg_r + a_r), z = s(xg_z + a_z),
  n = tanh(xg_n + r a_n), h' = n + z (h - n);

with s(x) = 1 / (1 + e**-x), computed as 1/2 tanh(x / 2) + 1/2 (the same to
float rounding; see ``_gate_scales``). The forward is array code: per step
one matrix product and about ten in-place array operations, with the gate
activations kept for the backward. Both run on the states' transposes
(see ``LSTMLayer``). The backward is backpropagation through time: the
parts of the gate derivatives that do not depend on the incoming gradient
are computed for all steps at once, then one product per step carries the
gradient to the previous state, and ``dW_hh = sum_t da_t^T h_(t-1)`` is one
product over the whole sequence.

Second order: when the backward itself is recorded (``create_graph=True``),
it is written in Tensor ops instead (the forward recomputed from the saved
inputs, then the same formulas), so gradients of gradients are exact; as
PyTorch does for its fused LSTM cell (``_thnn_differentiable_lstm_cell_backward``
when grad mode is on, the fused kernel otherwise).
"""

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import _mode
from chainrule.device import array_module, backend_of
from chainrule.ops.elementwise import sigmoid, tanh
from chainrule.ops.joining import cat, stack
from chainrule.tensor import Tensor

__all__ = ["lstm_layer", "gru_layer"]  # internal, for nn.rnn: PyTorch has no public name for them


# ------------------------------------------------------------------ array helpers


def _gate_scales(xp, dtype, H, gates, sigmoid_gates):
    """(m, b): per gate column m = 1/2, b = 1/2 for a sigmoid gate, m = 1, b = 0 for a tanh one.

    s(x) = 1/2 tanh(x / 2) + 1/2, so with the pre-activations of the sigmoid
    gates halved (their rows of W_hh and columns of xg, exactly: a power of
    two), tanh(a) m + b is every gate's activation in three array calls.
    """
    m = xp.ones(gates * H, dtype=dtype)
    b = xp.zeros(gates * H, dtype=dtype)
    for q in sigmoid_gates:
        m[q * H:(q + 1) * H] = 0.5
        b[q * H:(q + 1) * H] = 0.5
    return m, b


def _scaled(xp, array, m):
    """A new C-contiguous array ``array * m`` (``m`` broadcast against it)."""
    out = xp.empty(array.shape, dtype=array.dtype)
    xp.multiply(array, m, out=out)
    return out


def _step_view(array, time_dim, reverse):
    """The (T, ...) view of ``array`` in the order the steps run."""
    view = array if time_dim == 0 else array.swapaxes(0, time_dim)
    return view[::-1] if reverse else view


def _from_steps(steps, time_dim, reverse):
    """The inverse of ``_step_view``: the step-ordered (T, ...) array in the input's layout."""
    view = steps[::-1] if reverse else steps
    return view if time_dim == 0 else view.swapaxes(0, time_dim)


def _outputs(xp, hs, time_dim, reverse):
    """A new array of the outputs h_1 .. h_T in the input's layout (hs stays the backward's)."""
    T = hs.shape[0] - 1
    shape = list(hs.shape[1:])
    shape.insert(time_dim, T)
    out = xp.empty(tuple(shape), dtype=hs.dtype)
    _step_view(out, time_dim, reverse)[...] = hs[1:]
    return out


def _swapped(xp, steps):
    """A new C-contiguous (T, B, A) copy of ``steps`` (T, A, B): the recurrences' transposed
    states and gradients to and from the layout of xg and the outputs."""
    out = xp.empty((steps.shape[0], steps.shape[2], steps.shape[1]), dtype=steps.dtype)
    out[...] = steps.transpose(0, 2, 1)
    return out


def _grad_tensor(array, like):
    """The gradient of input ``like`` (None: none), in its shape."""
    if array is None or like is None:
        return None
    return Tensor._make(array.reshape(like.shape), False, None)


def _sequence(xg, seq_shape):
    """xg with its rows unfolded to ``seq_shape`` (T, N or N, T) where it comes as (T N, G) rows."""
    return xg if seq_shape is None else xg.reshape(*seq_shape, xg.shape[-1])


def _state(t, rows, size):
    """A state (or its gradient) as (N, H); it may come as (1, N, H). None stays None."""
    return None if t is None else t.reshape(rows, size)


def _final(array, state_shape):
    """A new array of the final state, in ``state_shape`` (default (N, H))."""
    return array.copy() if state_shape is None else array.reshape(state_shape).copy()


# ------------------------------------------------------------------------- LSTM


class LSTMLayer(Function):
    """LSTM over time: a_t = xg_t + h W_hh^T, c' = f c + i g, h' = o tanh(c');  d/d(xg, h0, c0, W_hh) by backpropagation through time.

    The recurrence runs on the states' transposes: the gates of a step are
    a^T = W_hh h^T + xg_t^T, (4H, N), each gate a contiguous block of rows,
    and the step's product is W_hh (4H, H) @ h^T (H, N), in the backward
    W_hh^T (H, 4H) @ da^T. For the same numbers as h @ W_hh^T, OpenBLAS's
    AVX-512 kernels take less time (float32, batch 16, one thread; hidden
    128, 256, 512: forward 21 -> 16, 122 -> 60, 476 -> 257 µs; backward
    20 -> 17, 87 -> 64, 350 -> 254 µs); its AVX2 kernels 0 to 20% less.
    """

    @staticmethod
    def forward(ctx, xg, h0, c0, w_hh, time_dim=0, reverse=False, seq_shape=None,
                state_shape=None):
        xp = array_module(xg.array, w_hh.array)
        single = time_dim is None  # one step: xg (N, 4H), outputs (h', c')
        xs = _sequence(xg.array, seq_shape)
        X = xs[None] if single else _step_view(xs, time_dim, reverse)
        T, N, G = X.shape
        H = G // 4
        dtype = X.dtype
        m, b = _gate_scales(xp, dtype, H, 4, (0, 1, 3))
        m4, b4 = m.reshape(4, H, 1), b.reshape(4, H, 1)  # one (H, N) block per gate
        w = _scaled(xp, w_hh.array, m[:, None])  # (4H, H)
        x_t = xp.empty((T, G, N), dtype=dtype)  # the steps' inputs, transposed and scaled
        xp.multiply(X.transpose(0, 2, 1), m[:, None], out=x_t)
        acts = xp.empty((T, G, N), dtype=dtype)
        cs = xp.empty((T + 1, H, N), dtype=dtype)  # cs[k]: the cell state before step k, as (H, N)
        hs = xp.empty((T + 1, H, N), dtype=dtype)  # hs[k]: the hidden state before step k
        tcs = xp.empty((T, H, N), dtype=dtype)
        ig = xp.empty((H, N), dtype=dtype)
        cs[0] = 0 if c0 is None else _state(c0.array, N, H).T
        hs[0] = 0 if h0 is None else _state(h0.array, N, H).T
        for k in range(T):
            a = acts[k]
            if k == 0 and h0 is None:
                a[...] = x_t[0]
            else:
                xp.matmul(w, hs[k], out=a)
                a += x_t[k]
            xp.tanh(a, out=a)
            a4 = a.reshape(4, H, N)
            a4 *= m4
            a4 += b4
            i, f, g, o = a4
            c = cs[k + 1]
            xp.multiply(f, cs[k], out=c)
            xp.multiply(i, g, out=ig)
            c += ig
            xp.tanh(c, out=tcs[k])
            xp.multiply(o, tcs[k], out=hs[k + 1])
        if ctx._recording:
            ctx.save_for_backward(xg, h0, c0, w_hh)
            ctx.arrays = acts, cs, hs, tcs
            ctx.time_dim, ctx.reverse, ctx.seq_shape = time_dim, reverse, seq_shape
        if single:
            return _final(hs[1].T, None), _final(cs[1].T, None)
        return (_outputs(xp, hs.transpose(0, 2, 1), time_dim, reverse),
                _final(hs[T].T, state_shape), _final(cs[T].T, state_shape))

    @staticmethod
    def backward(ctx, *grads):
        saved = ctx.saved_tensors  # checks that no input changed in place since
        if ctx.time_dim is None:
            g_out, (g_h, g_c) = None, grads
        else:
            g_out, g_h, g_c = grads
        if _mode.enabled:  # create_graph: the backward in Tensor ops, differentiable again
            return _lstm_backward_graph(saved, g_out, g_h, g_c, ctx.time_dim, ctx.reverse,
                                        ctx.seq_shape, ctx.needs_input_grad)
        return _lstm_backward_arrays(ctx, saved, g_out, g_h, g_c)


def _lstm_backward_arrays(ctx, saved, g_out, g_h, g_c):
    """Backpropagation through time on the saved activations, in array code (states transposed,
    as in the forward)."""
    xg, h0, c0, w_hh = saved
    acts, cs, hs, tcs = ctx.arrays
    xp = array_module(acts)
    T, G, N = acts.shape
    H = G // 4
    i, f, g, o = (acts[:, q * H:(q + 1) * H] for q in range(4))
    # the gates' local derivatives, for all steps at once: da = (dc K0, dc K1, dc K2, dh K3)
    K = xp.empty((T, 4, H, N), dtype=acts.dtype)
    xp.multiply(g, i * (1 - i), out=K[:, 0])
    xp.multiply(cs[:T], f * (1 - f), out=K[:, 1])
    xp.multiply(i, 1 - g * g, out=K[:, 2])
    xp.multiply(tcs, o * (1 - o), out=K[:, 3])
    P = o * (1 - tcs * tcs)  # dc'/dh' through h' = o tanh(c')
    d_a = xp.empty((T, G, N), dtype=acts.dtype)
    d_a4 = d_a.reshape(T, 4, H, N)
    steps_out = None  # the outputs' gradients, transposed like the states
    if g_out is not None:
        steps_out = _swapped(xp, _step_view(g_out.array, ctx.time_dim, ctx.reverse))
    w_t = backend_of(w_hh.array).transposed_copy(w_hh.array)  # (H, 4H)
    dh = xp.zeros((H, N), dtype=acts.dtype) if g_h is None else _state(g_h.array, N, H).T
    dc = None if g_c is None else _state(g_c.array, N, H).T
    needs_xg, needs_h0, needs_c0, needs_w = ctx.needs_input_grad
    for k in range(T - 1, -1, -1):
        if steps_out is not None:
            dh = dh + steps_out[k]
        dct = dh * P[k]
        if dc is not None:
            dct += dc
        xp.multiply(dct, K[k, :3], out=d_a4[k, :3])
        xp.multiply(dh, K[k, 3], out=d_a4[k, 3])
        dc = dct * f[k]
        if k or (needs_h0 and h0 is not None):
            dh = xp.matmul(w_t, d_a[k])
    d_rows = _swapped(xp, d_a) if needs_xg or needs_w else None  # d_a in xg's layout
    grad_w = None
    if needs_w:
        grad_w = xp.matmul(d_rows.reshape(T * N, G).T, _swapped(xp, hs[:T]).reshape(T * N, H))
    grad_xg = None
    if needs_xg:
        grad_xg = d_rows[0] if ctx.time_dim is None else _from_steps(d_rows, ctx.time_dim,
                                                                     ctx.reverse)
    return (_grad_tensor(grad_xg, xg),
            _grad_tensor(_final(dh.T, None), h0) if needs_h0 else None,
            _grad_tensor(_final(dc.T, None), c0) if needs_c0 else None,
            _grad_tensor(grad_w, w_hh))


def _lstm_backward_graph(saved, g_out, g_h, g_c, time_dim, reverse, seq_shape, needs):
    """The same backward in Tensor ops, on the forward recomputed from the saved inputs."""
    xg, h0, c0, w_hh = saved
    steps = (xg,) if time_dim is None else _sequence(xg, seq_shape).unbind(time_dim)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    N, H = steps[0].shape[0], w_hh.shape[1]
    zeros = xg.new_zeros((N, H))
    h = zeros if h0 is None else _state(h0, N, H)
    c = zeros if c0 is None else _state(c0, N, H)
    g_h, g_c = _state(g_h, N, H), _state(g_c, N, H)
    kept = []
    for t in order:
        i, f, g, o = (steps[t] + h @ w_hh.T).chunk(4, -1)
        i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
        new_c = f * c + i * g
        tc = tanh(new_c)
        kept.append((t, h, c, i, f, g, o, tc))
        h, c = o * tc, new_c
    outs = None if g_out is None else g_out.unbind(time_dim)
    dh, dc = g_h, g_c
    d_steps = [None] * len(steps)
    grad_w = None
    for t, h_prev, c_prev, i, f, g, o, tc in reversed(kept):
        if outs is not None:
            dh = outs[t] if dh is None else dh + outs[t]
        dh = zeros if dh is None else dh
        dct = dh * o * (1 - tc * tc)
        if dc is not None:
            dct = dct + dc
        d_a = cat([dct * g * i * (1 - i), dct * c_prev * f * (1 - f), dct * i * (1 - g * g),
                   dh * tc * o * (1 - o)], -1)
        d_steps[t] = d_a
        term = d_a.T @ h_prev
        grad_w = term if grad_w is None else grad_w + term
        dh, dc = d_a @ w_hh, dct * f
    grad_xg = d_steps[0] if time_dim is None else stack(d_steps, time_dim).reshape(xg.shape)
    return (grad_xg if needs[0] else None, dh.reshape(h0.shape) if needs[1] else None,
            dc.reshape(c0.shape) if needs[2] else None, grad_w if needs[3] else None)


def lstm_layer(xg, h0, c0, w_hh, time_dim=0, reverse=False, seq_shape=None, state_shape=None):
    """(out, h_T, c_T) of an LSTM layer on xg = x W_ih^T + b_ih + b_hh (one step: (h', c')).

    ``xg`` is (T, N, 4H) with time along ``time_dim`` (0 or 1), or its rows
    (T N, 4H) with ``seq_shape`` the two leading dims, or (N, 4H) with
    ``time_dim=None`` for one step; ``h0``, ``c0`` (N, H) or (1, N, H), None
    for zeros; ``reverse`` runs the steps from the last time to the first;
    h_T and c_T come in ``state_shape`` ((N, H) by default).
    """
    return LSTMLayer.apply(xg, h0, c0, w_hh, time_dim=time_dim, reverse=reverse,
                           seq_shape=seq_shape, state_shape=state_shape)


# -------------------------------------------------------------------------- GRU


class GRULayer(Function):
    """GRU over time: r, z = s(xg + h W_hh^T + b_hh), n = tanh(xg_n + r a_n), h' = n + z (h - n);  d/d(xg, h0, W_hh, b_hh) by backpropagation through time.

    As ``LSTMLayer``, on the states' transposes: a step's product is
    W_hh (3H, H) @ h^T (H, N), each gate a contiguous block of rows.
    """

    @staticmethod
    def forward(ctx, xg, h0, w_hh, b_hh, time_dim=0, reverse=False, seq_shape=None,
                state_shape=None):
        xp = array_module(xg.array, w_hh.array)
        single = time_dim is None
        xs = _sequence(xg.array, seq_shape)
        X = xs[None] if single else _step_view(xs, time_dim, reverse)
        T, N, G = X.shape
        H = G // 3
        dtype = X.dtype
        m, _ = _gate_scales(xp, dtype, H, 3, (0, 1))
        w = _scaled(xp, w_hh.array, m[:, None])  # r, z rows halved (see _gate_scales); n as is
        b = None
        if b_hh is not None:  # as whole (3H, N) blocks: a column would add N numbers at a time
            b = xp.empty((G, N), dtype=dtype)
            xp.multiply(b_hh.array[:, None], m[:, None], out=b)
        x_t = xp.empty((T, G, N), dtype=dtype)  # the steps' inputs, transposed and scaled
        xp.multiply(X.transpose(0, 2, 1), m[:, None], out=x_t)
        acts = xp.empty((T, G, N), dtype=dtype)  # r, z, n
        hgs = xp.empty((T, G, N), dtype=dtype)  # W_hh h^T + b_hh (the r, z parts halved)
        hs = xp.empty((T + 1, H, N), dtype=dtype)  # hs[k]: the hidden state before step k
        hs[0] = 0 if h0 is None else _state(h0.array, N, H).T
        for k in range(T):
            hg, a, x = hgs[k], acts[k], x_t[k]
            if k == 0 and h0 is None:
                hg[...] = 0 if b is None else b
            else:
                xp.matmul(w, hs[k], out=hg)
                if b is not None:
                    hg += b
            rz = a[:2 * H]
            xp.add(x[:2 * H], hg[:2 * H], out=rz)
            xp.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            n = a[2 * H:]
            xp.multiply(a[:H], hg[2 * H:], out=n)
            n += x[2 * H:]
            xp.tanh(n, out=n)
            new_h = hs[k + 1]
            xp.subtract(hs[k], n, out=new_h)
            new_h *= a[H:2 * H]
            new_h += n
        if ctx._recording:
            ctx.save_for_backward(xg, h0, w_hh, b_hh)
            ctx.arrays = acts, hgs, hs
            ctx.time_dim, ctx.reverse, ctx.seq_shape = time_dim, reverse, seq_shape
        if single:
            return _final(hs[1].T, None)
        return (_outputs(xp, hs.transpose(0, 2, 1), time_dim, reverse),
                _final(hs[T].T, state_shape))

    @staticmethod
    def backward(ctx, *grads):
        saved = ctx.saved_tensors
        if ctx.time_dim is None:
            g_out, (g_h,) = None, grads
        else:
            g_out, g_h = grads
        if _mode.enabled:
            return _gru_backward_graph(saved, g_out, g_h, ctx.time_dim, ctx.reverse,
                                       ctx.seq_shape, ctx.needs_input_grad)
        return _gru_backward_arrays(ctx, saved, g_out, g_h)


def _gru_backward_arrays(ctx, saved, g_out, g_h):
    """Backpropagation through time on the saved activations, in array code (states transposed,
    as in the forward)."""
    xg, h0, w_hh, b_hh = saved
    acts, hgs, hs = ctx.arrays
    xp = array_module(acts)
    T, G, N = acts.shape
    H = G // 3
    r, z, n = acts[:, :H], acts[:, H:2 * H], acts[:, 2 * H:]
    # d(xg_r), d(xg_z), d(xg_n) = dn_pre Kr, dh Kz, dh Kn, with dn_pre = d(xg_n)
    K = xp.empty((T, 3, H, N), dtype=acts.dtype)
    xp.multiply(hgs[:, 2 * H:], r * (1 - r), out=K[:, 0])
    xp.multiply(hs[:T] - n, z * (1 - z), out=K[:, 1])
    xp.multiply(1 - z, 1 - n * n, out=K[:, 2])
    d_x = xp.empty((T, G, N), dtype=acts.dtype)  # gradient of xg, step by step
    d_hg = xp.empty((T, G, N), dtype=acts.dtype)  # gradient of W_hh h^T + b_hh
    d_x3 = d_x.reshape(T, 3, H, N)
    R = xp.ones((T, G, N), dtype=acts.dtype)  # d_hg = d_x R: (1, 1, r) per gate
    R[:, 2 * H:] = r
    steps_out = None  # the outputs' gradients, transposed like the states
    if g_out is not None:
        steps_out = _swapped(xp, _step_view(g_out.array, ctx.time_dim, ctx.reverse))
    w_t = backend_of(w_hh.array).transposed_copy(w_hh.array)  # (H, 3H)
    dh = xp.zeros((H, N), dtype=acts.dtype) if g_h is None else _state(g_h.array, N, H).T
    needs_xg, needs_h0, needs_w, needs_b = ctx.needs_input_grad
    for k in range(T - 1, -1, -1):
        if steps_out is not None:
            dh = dh + steps_out[k]
        xp.multiply(dh, K[k, 1:], out=d_x3[k, 1:])
        xp.multiply(d_x3[k, 2], K[k, 0], out=d_x3[k, 0])
        xp.multiply(d_x[k], R[k], out=d_hg[k])
        if k or (needs_h0 and h0 is not None):
            dh_prev = dh * z[k]
            dh_prev += xp.matmul(w_t, d_hg[k])
            dh = dh_prev
    grad_w = grad_b = None
    if needs_w or needs_b:
        rows = _swapped(xp, d_hg).reshape(T * N, G)
        grad_w = xp.matmul(rows.T, _swapped(xp, hs[:T]).reshape(T * N, H)) if needs_w else None
        grad_b = rows.sum(0) if needs_b else None
    grad_xg = None
    if needs_xg:
        d_rows = _swapped(xp, d_x)
        grad_xg = d_rows[0] if ctx.time_dim is None else _from_steps(d_rows, ctx.time_dim,
                                                                     ctx.reverse)
    return (_grad_tensor(grad_xg, xg),
            _grad_tensor(_final(dh.T, None), h0) if needs_h0 else None,
            _grad_tensor(grad_w, w_hh), _grad_tensor(grad_b, b_hh))


def _gru_backward_graph(saved, g_out, g_h, time_dim, reverse, seq_shape, needs):
    """The same backward in Tensor ops, on the forward recomputed from the saved inputs."""
    xg, h0, w_hh, b_hh = saved
    steps = (xg,) if time_dim is None else _sequence(xg, seq_shape).unbind(time_dim)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    N, H = steps[0].shape[0], w_hh.shape[1]
    zeros = xg.new_zeros((N, H))
    h = zeros if h0 is None else _state(h0, N, H)
    g_h = _state(g_h, N, H)
    kept = []
    for t in order:
        hg = h @ w_hh.T
        if b_hh is not None:
            hg = hg + b_hh
        x_r, x_z, x_n = steps[t].chunk(3, -1)
        h_r, h_z, h_n = hg.chunk(3, -1)
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        n = tanh(x_n + r * h_n)
        kept.append((t, h, r, z, n, h_n))
        h = n + z * (h - n)
    outs = None if g_out is None else g_out.unbind(time_dim)
    dh = g_h
    d_steps = [None] * len(steps)
    grad_w = grad_b = None
    for t, h_prev, r, z, n, h_n in reversed(kept):
        if outs is not None:
            dh = outs[t] if dh is None else dh + outs[t]
        dh = zeros if dh is None else dh
        d_n = dh * (1 - z) * (1 - n * n)
        d_r = d_n * h_n * r * (1 - r)
        d_z = dh * (h_prev - n) * z * (1 - z)
        d_steps[t] = cat([d_r, d_z, d_n], -1)
        d_hg = cat([d_r, d_z, d_n * r], -1)
        term = d_hg.T @ h_prev
        grad_w = term if grad_w is None else grad_w + term
        term = d_hg.sum(0)
        grad_b = term if grad_b is None else grad_b + term
        dh = dh * z + d_hg @ w_hh
    grad_xg = d_steps[0] if time_dim is None else stack(d_steps, time_dim).reshape(xg.shape)
    return (grad_xg if needs[0] else None, dh.reshape(h0.shape) if needs[1] else None,
            grad_w if needs[2] else None, grad_b if needs[3] else None)


def gru_layer(xg, h0, w_hh, b_hh=None, time_dim=0, reverse=False, seq_shape=None,
              state_shape=None):
    """(out, h_T) of a GRU layer on xg = x W_ih^T + b_ih (one step, ``time_dim=None``: h').

    Shapes and options as ``lstm_layer``'s, with 3H gates r, z, n; ``b_hh`` (3H,) or None.
    """
    return GRULayer.apply(xg, h0, w_hh, b_hh, time_dim=time_dim, reverse=reverse,
                          seq_shape=seq_shape, state_shape=state_shape)
