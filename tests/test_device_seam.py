"""No op, layer or optimizer bypasses the device seam (``chainrule.device``).

Every row of the op tables (``tests/tensor/test_*_ops.py``) runs again on
tensors whose arrays are ``CheckedArray``s, under the checking backend of
``tests/checking_backend.py``: a numpy function called on such an array
outside the backend's ``xp`` raises, so does a plain numpy array mixed in.
Each row runs forward, backward and (where its table checks it) double
backward, and then:

- no violation was raised, nor logged (one an ``except`` swallowed);
- the output and every gradient and second derivative is a ``CheckedArray``
  (a plain ndarray means an op made its result with numpy behind the seam);
- the values equal those of the same row on plain numpy tensors.

The tables' values against PyTorch are checked by the tables themselves.
Then layers, losses, optimizers, creation with ``device=`` and ``.to()``.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from tests import checking_backend
from tests.checking_backend import CheckedArray, checked_tensor, installed, plain
from tests.tensor import (test_core_ops, test_index_join_ops, test_multi_output, test_nn_ops,
                          test_reduction_ops)
from tests.tensor.parity import random_inputs, table_cases

def logits_and_labels(rng, shape):
    """Labels below 4 for 1-d shapes, logits for the others."""
    return rng.integers(0, 4, shape) if len(shape) == 1 else rng.standard_normal(shape)


def probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, size=shape)


def class_inputs(rng, shape):
    """For cross_entropy rows: class weights of shape (5,), class indices (1-d and 3-d),
    logits otherwise."""
    if shape == (5,):
        return rng.uniform(0.25, 2.0, size=shape)
    if len(shape) in (1, 3):
        return rng.integers(0, 5, shape)
    return rng.standard_normal(shape)


class AllOutputs:
    """An op with several outputs as one scalar: each floating output cubed and weighted by its
    position, so each gets its own gradient; the outputs themselves are kept to be checked."""

    def __init__(self, fn):
        self.fn, self.outputs = fn, ()

    def __call__(self, *xs):
        self.outputs = tuple(self.fn(*xs))
        total = (xs[0] * 0).sum()
        for i, out in enumerate(o for o in self.outputs if o.dtype.kind == "f"):
            total = total + (out ** 3).sum() * (i + 1)
        return total


def in_place_chain(a, b):
    y = a * 1
    y.add_(b)
    y.mul_(b)
    y.sub_(0.5)
    y.div_(2.0)
    y.clamp_(-1.0, 1.0)
    y += b
    y *= 2
    z = a * 1
    z.zero_()
    z.fill_(1.5)
    z[0] = 2.0
    return y * z


# Ops the tables leave out. name: (ours, shape sets, domain, options); "random" rows are
# not compared with the plain run.
EXTRA = {
    "linear": (lambda x, w, b: F.linear(x, w, b), [[(3, 4), (5, 4), (5,)]], (-1, 1), {}),
    "linear_no_bias": (lambda x, w: F.linear(x, w), [[(2, 3, 4), (5, 4)]], (-1, 1), {}),
    "cross_entropy": (lambda x, t: F.cross_entropy(x, t), [[(5, 4), (5,)]], logits_and_labels,
                      {}),
    "cross_entropy_none": (lambda x, t: F.cross_entropy(x, t, reduction="none"),
                           [[(5, 4), (5,)]], logits_and_labels, {}),
    "nll_loss": (lambda x, t: F.nll_loss(x.log_softmax(1), t), [[(5, 4), (5,)]],
                 logits_and_labels, {}),
    "mse_loss": (lambda a, b: F.mse_loss(a, b), [[(3, 4), (3, 4)]], (-2, 2), {}),
    "l1_loss": (lambda a, b: F.l1_loss(a, b, reduction="sum"), [[(3, 4), (3, 4)]], (-2, 2), {}),
    "huber_loss": (lambda a, b: F.huber_loss(a, b, delta=0.5), [[(3, 4), (3, 4)]], (-2, 2), {}),
    "binary_cross_entropy": (lambda p, y: F.binary_cross_entropy(p, y), [[(3, 4), (3, 4)]],
                             probabilities, {"differentiable": [True, False]}),
    "binary_cross_entropy_with_logits": (
        lambda x, y: F.binary_cross_entropy_with_logits(x, y), [[(3, 4), (3, 4)]],
        probabilities, {"differentiable": [True, False]}),
    "cross_entropy_weight_ignore_smoothing": (
        lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=2, label_smoothing=0.1),
        [[(6, 5), (6,), (5,)]], class_inputs, {"differentiable": [True, False, False]}),
    "cross_entropy_k_dim": (lambda x, t: F.cross_entropy(x, t, reduction="sum"),
                            [[(2, 5, 3, 2), (2, 3, 2)]], class_inputs, {}),
    "cross_entropy_probabilities": (lambda x, p: F.cross_entropy(x, p.softmax(1)),
                                    [[(6, 5), (6, 5)]], (-2, 2), {"differentiable": [True, False]}),
    "dropout": (lambda a: F.dropout(a, 0.5, training=True), [[(4, 5)]], (-2, 2),
                {"random": True}),
    "erf": (lambda a: cr.erf(a), [[(3, 4)], [()]], (-2, 2), {}),
    "sign": (lambda a: a.sign() * a, [[(3, 4)]], (-2, 2), {}),
    "clamp_max_min": (lambda a: a.clamp_max(0.5).clamp_min(-0.5), [[(3, 4)]], (-2, 2), {}),
    "logical": (lambda a, b: cr.where(cr.logical_xor(a > 0, b > 0)
                                      | cr.logical_and(a > b, cr.logical_not(b > 1))
                                      | cr.logical_or(a < -1, b < -1), a, b),
                [[(3, 4), (3, 4)]], (-2, 2), {}),
    "bitwise": (lambda a, b: cr.where(cr.bitwise_xor(a > 0, b > 0) | cr.bitwise_and(a > b, b < 1)
                                      | cr.bitwise_not(cr.bitwise_or(a > -1, b > -1)), a, b),
                [[(3, 4), (3, 4)]], (-2, 2), {}),
    "view_swapaxes_type_as": (lambda a: a.view(12).reshape(3, 4).swapaxes(0, 1).type_as(a) * a.T,
                              [[(3, 4)]], (-2, 2), {}),
    "conversions": (lambda a: a.float().double() * a.clone() + a.detach() * a.to(cr.float64),
                    [[(3, 4)]], (-2, 2), {}),
    "compare_and_logic": (lambda a, b: cr.where(((a > b) & (a < 1)) | ~(a != b), a, b * a),
                          [[(3, 4), (3, 4)], [(3, 4), (4,)]], (-2, 2), {}),
    "in_place": (in_place_chain, [[(3, 4), (3, 4)]], (0.5, 2), {}),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (4,), w, b), [[(3, 4), (4,), (4,)]], (-2, 2),
                   {}),
    "layer_norm_two_dims": (lambda x: F.layer_norm(x, (2, 3)), [[(2, 2, 3)]], (-2, 2), {}),
    "sdpa_causal": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                    [[(2, 3, 4), (2, 3, 4), (2, 3, 2)]], (-2, 2), {}),
    "sdpa_float_mask": (lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m, scale=0.5),
                        [[(2, 3, 4), (2, 5, 4), (2, 5, 2), (3, 5)]], (-2, 2), {}),
    "sdpa_bool_mask_dead_row": (
        lambda q: F.scaled_dot_product_attention(
            q, q, q, cr.tensor(np.array([[True, False, True], [False] * 3, [True] * 3]))),
        [[(2, 3, 4)]], (-2, 2), {}),
    "sdpa_gqa": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
                 [[(1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2)]], (-2, 2), {}),
}


def _table_cases():
    """(id, ours, arrays maker, options) for every row of every table."""
    cases = []
    for prefix, module in (("core", test_core_ops), ("reduction", test_reduction_ops),
                           ("nn", test_nn_ops)):
        for name, case in table_cases(module.OPS):
            ours, _, shape_sets, domain, options = module.OPS[name]
            cases.append((f"{prefix}:{name}-{case}", ours,
                          lambda s=shape_sets[case], d=domain, c=case: random_inputs(s, d, seed=c),
                          options))
    for name, (ours, _, arrays, options) in test_reduction_ops.EXACT.items():
        cases.append((f"reduction-exact:{name}", ours,
                      lambda a=arrays: [np.array(x, dtype=np.float64) for x in a], options))
    index = test_index_join_ops
    for name, (ours, _, shapes) in index.TABLE.items():
        cases.append((f"index-join:{name}", index.cubed(ours),
                      lambda s=shapes, n=name: random_inputs(s, seed=len(n)), {}))
    for name, (ours, _, shape) in index.PIECES.items():
        cases.append((f"pieces:{name}", AllOutputs(ours),
                      lambda s=shape, n=name: random_inputs([s], seed=len(n)), {}))
    for name, (ours, _, shape, domain) in test_multi_output.CASES.items():
        cases.append((f"multi-output:{name}", AllOutputs(ours),
                      lambda s=shape, d=domain: random_inputs([s], d, seed=0), {}))
    for k, (shape, kwargs) in enumerate(test_nn_ops.MAX_POOL_CASES):
        cases.append((f"max_pool2d-indices:{k}",
                      AllOutputs(lambda x, a=kwargs: F.max_pool2d(x, return_indices=True, **a)),
                      lambda s=shape: random_inputs([s], test_nn_ops.distinct, seed=0), {}))
    for name, (ours, shape_sets, domain, options) in EXTRA.items():
        for case, shapes in enumerate(shape_sets):
            cases.append((f"extra:{name}-{case}", ours,
                          lambda s=shapes, d=domain, c=case: random_inputs(s, d, seed=c),
                          options))
    return cases


CASES = _table_cases()


def _plain_tensor(array, requires_grad=False, dtype=None):
    return cr.tensor(array, dtype=dtype or array.dtype, requires_grad=requires_grad)


def run_row(ours, arrays, options, make):
    """Forward, backward and double backward as ``check_op`` runs them; ``[(what, tensor)]``."""
    differentiable = options.get("differentiable") or [
        np.issubdtype(a.dtype, np.floating) for a in arrays]
    second_order = options.get("second_order", True)
    xs = [make(a, d) for a, d in zip(arrays, differentiable)]
    cr.manual_seed(0)
    out = ours(*xs)
    results = [("output", out)]
    results += [(f"output {k} of the op", o) for k, o in enumerate(getattr(ours, "outputs", ()))]
    wrt = [i for i, d in enumerate(differentiable) if d]
    if not wrt or not out.requires_grad:
        return results
    rng = np.random.default_rng(123)
    upstream = make(rng.standard_normal(tuple(out.shape)), dtype=out.dtype)
    grads = cr.autograd.grad(out, [xs[i] for i in wrt], upstream, create_graph=second_order,
                             allow_unused=True)
    results += [(f"gradient of input {i}", g) for i, g in zip(wrt, grads) if g is not None]
    if second_order:
        probes = [make(rng.standard_normal(arrays[i].shape)) for i in wrt]
        pairs = [(g, p) for g, p in zip(grads, probes) if g is not None and g.requires_grad]
        if pairs:
            scalar = sum((g * p).sum() for g, p in pairs)
            results.append(("gradient . probe", scalar))
            if scalar.requires_grad:
                second = cr.autograd.grad(scalar, [xs[i] for i in wrt], allow_unused=True)
                results += [(f"second derivative of input {i}", h)
                            for i, h in zip(wrt, second) if h is not None]
    return results


def assert_checked(results, where):
    """Every result's array is a CheckedArray: anything else was made behind the seam."""
    plain_ones = [f"{what} ({type(t.array).__name__})" for what, t in results
                  if not isinstance(t.array, CheckedArray)]
    assert not plain_ones, (f"{where}: made outside the device seam (not a CheckedArray): "
                            + ", ".join(plain_ones))


def assert_no_violations(where):
    assert not checking_backend.violations, (
        f"{where}: {len(checking_backend.violations)} seam violation(s), the first: "
        + checking_backend.violations[0])


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case_id, ours, arrays, options", CASES, ids=[c[0] for c in CASES])
def test_op_runs_through_the_device_seam(case_id, ours, arrays, options):
    arrays = arrays()
    expected = run_row(ours, arrays, options, _plain_tensor)
    with installed() as backend:
        results = run_row(ours, arrays, options, checked_tensor)
        assert_no_violations(case_id)
        assert results[0][1].device == backend.device
    assert_checked(results, case_id)
    assert [what for what, _ in results] == [what for what, _ in expected], case_id
    if not options.get("random"):
        for (what, got), (_, want) in zip(results, expected):
            assert got.dtype == want.dtype, f"{case_id}: {what} dtype"
            np.testing.assert_allclose(plain(got.array), want.array, rtol=1e-12, atol=0,
                                       equal_nan=True, err_msg=f"{case_id}: {what}")


# ------------------------------------------------------------ layers, optimizers


def checked_module(module):
    """The module's parameters and buffers moved onto checked arrays (in place)."""
    for tensor in [*module.parameters(), *module.buffers()]:
        tensor.array = np.ndarray.view(np.array(tensor.array), CheckedArray)
    return module


def model():
    cr.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 6), nn.BatchNorm1d(6),
                         nn.GELU(), nn.Dropout(0.25), nn.Linear(6, 4))


def train_step(net, optimizer, x, target):
    optimizer.zero_grad()
    loss = F.cross_entropy(net(x), target)
    loss.backward()
    optimizer.step()
    return loss


def assert_module_checked(net, where):
    arrays = [(name, p.array) for name, p in net.named_parameters()]
    arrays += [(f"{name}.grad", p.grad.array) for name, p in net.named_parameters()
               if p.grad is not None]
    arrays += [(name, b.array) for name, b in net.named_buffers()]
    plain_ones = [name for name, a in arrays if not isinstance(a, CheckedArray)]
    assert not plain_ones, f"{where}: made outside the device seam: {', '.join(plain_ones)}"


@pytest.mark.parametrize("make_optimizer", [
    lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True),
    lambda ps: cr.optim.Adam(ps, lr=1e-2, weight_decay=1e-3, amsgrad=True),
    lambda ps: cr.optim.AdamW(ps, lr=1e-2),
    lambda ps: cr.optim.RMSprop(ps, lr=1e-2, momentum=0.9, centered=True, weight_decay=1e-3),
    lambda ps: cr.optim.Adagrad(ps, lr=1e-2, lr_decay=1e-3, initial_accumulator_value=0.1),
    lambda ps: cr.optim.NAdam(ps, lr=1e-2, weight_decay=1e-3),
    lambda ps: cr.optim.RAdam(ps, lr=1e-2, betas=(0.5, 0.6), weight_decay=1e-3),  # rho_t > 5
    lambda ps: cr.optim.Adamax(ps, lr=1e-2, weight_decay=1e-3),
], ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam", "Adamax"])
def test_layers_and_optimizers_run_through_the_device_seam(make_optimizer):
    rng = np.random.default_rng(0)
    x_array, labels = rng.standard_normal((4, 2, 4, 4)), rng.integers(0, 4, 4)
    net = model()
    with installed():
        net = checked_module(net)
        optimizer = make_optimizer(net.parameters())
        x, target = checked_tensor(x_array, dtype=np.float32), checked_tensor(labels)
        losses = [train_step(net, optimizer, x, target) for _ in range(2)]
        optimizer.zero_grad(set_to_none=False)
        net.eval()
        out = net(x)
        assert_no_violations("layers and optimizers")
    assert all(isinstance(loss.array, CheckedArray) for loss in losses)
    assert isinstance(out.array, CheckedArray)
    assert_module_checked(net, "layers and optimizers")
    states = [(f"state {key}", value) for state in optimizer.state.values()
              for key, value in state.items() if isinstance(value, np.ndarray)]
    assert states, "the optimizer kept no state to check"
    plain_states = [what for what, a in states if not isinstance(a, CheckedArray)]
    assert not plain_states, f"optimizer state made outside the seam: {plain_states}"


def test_optimizer_state_loading_and_radams_rectified_steps_run_through_the_device_seam():
    """RAdam's rectified update (rho_t > 5 from step 6 with beta2 = 0.9), and a state dict
    loaded into a fresh optimizer: its state lands on the parameter's device."""
    rng = np.random.default_rng(2)
    with installed():
        w = checked_tensor(rng.standard_normal((3, 2)), requires_grad=True)
        optimizer = cr.optim.RAdam([w], lr=1e-2, betas=(0.8, 0.9))
        for _ in range(8):
            w.grad = checked_tensor(rng.standard_normal((3, 2)))
            optimizer.step()
        fresh = cr.optim.RAdam([w], lr=1e-2)
        fresh.load_state_dict(optimizer.state_dict())
        fresh.step()
        assert_no_violations("RAdam and load_state_dict")
    assert isinstance(w.array, CheckedArray)
    plain_states = [key for key, value in fresh.state[w].items()
                    if not isinstance(value, CheckedArray)]
    assert not plain_states, f"optimizer state loaded outside the seam: {plain_states}"


def test_layer_norm_and_embedding_run_through_the_device_seam():
    rng = np.random.default_rng(1)
    cr.manual_seed(0)
    net = nn.ModuleList([nn.Embedding(5, 4, padding_idx=0), nn.LayerNorm(4)])
    with installed():
        net = checked_module(net)
        embedded = net[0](checked_tensor(rng.integers(0, 5, (2, 3))))
        out = net[1](embedded)
        (out * checked_tensor(rng.standard_normal(out.shape), dtype=np.float32)).sum().backward()
        assert_no_violations("Embedding and LayerNorm")
    assert isinstance(out.array, CheckedArray)
    assert_module_checked(net, "Embedding and LayerNorm")


def recurrent_and_attention_modules():
    """name: (module, inputs maker(rng), call): every recurrent and attention layer."""
    def seq(rng, *shape):
        return checked_tensor(rng.standard_normal(shape), dtype=np.float32)

    causal = lambda: nn.Transformer.generate_square_subsequent_mask(4, device="checked")
    padding = lambda: checked_tensor(np.array([[False] * 4, [False, False, True, True]]))
    return {
        "LSTM": (lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
                 lambda rng: (seq(rng, 2, 5, 3), (seq(rng, 4, 2, 4), seq(rng, 4, 2, 4))),
                 lambda m, x, hx: m(x, hx)),
        "LSTM-proj-no-hx": (lambda: nn.LSTM(3, 4, proj_size=2), lambda rng: (seq(rng, 5, 2, 3),),
                            lambda m, x: m(x)),
        "GRU": (lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True),
                lambda rng: (seq(rng, 5, 2, 3),), lambda m, x: m(x)),
        "RNN": (lambda: nn.RNN(3, 4, nonlinearity="relu"), lambda rng: (seq(rng, 5, 3),),
                lambda m, x: m(x)),
        "LSTMCell": (lambda: nn.LSTMCell(3, 4), lambda rng: (seq(rng, 2, 3),), lambda m, x: m(x)),
        "GRUCell": (lambda: nn.GRUCell(3, 4), lambda rng: (seq(rng, 2, 3), seq(rng, 2, 4)),
                    lambda m, x, h: m(x, h)),
        "MultiheadAttention": (
            lambda: nn.MultiheadAttention(4, 2, kdim=3, vdim=5, add_bias_kv=True,
                                          add_zero_attn=True),
            lambda rng: (seq(rng, 4, 2, 4), seq(rng, 6, 2, 3), seq(rng, 6, 2, 5)),
            lambda m, q, k, v: m(q, k, v, average_attn_weights=False)),
        "TransformerEncoderLayer": (
            lambda: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.1, batch_first=True),
            lambda rng: (seq(rng, 2, 4, 4),),
            lambda m, x: m(x, src_mask=causal(), src_key_padding_mask=padding(), is_causal=True)),
        "TransformerDecoderLayer": (
            lambda: nn.TransformerDecoderLayer(4, 2, 8, norm_first=True, activation="gelu"),
            lambda rng: (seq(rng, 4, 2, 4), seq(rng, 3, 2, 4)),
            lambda m, t, s: m(t, s, tgt_mask=causal(), tgt_is_causal=True)),
    }


RECURRENT_AND_ATTENTION = recurrent_and_attention_modules()


@pytest.mark.parametrize("name", list(RECURRENT_AND_ATTENTION))
def test_recurrent_and_attention_layers_run_through_the_device_seam(name):
    make, inputs, call = RECURRENT_AND_ATTENTION[name]
    rng = np.random.default_rng(2)
    cr.manual_seed(0)
    net = make()
    with installed():
        net = checked_module(net)
        outputs = [o for o in _flat(call(net, *inputs(rng))) if o is not None]
        total = sum((o * checked_tensor(rng.standard_normal(o.shape), dtype=np.float32)).sum()
                    for o in outputs)
        total.backward()
        assert_no_violations(name)
    assert all(isinstance(o.array, CheckedArray) for o in outputs)
    assert_module_checked(net, name)
    assert all(p.grad is not None for p in net.parameters()), name


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in _flat(item)]
    return [out]


# ------------------------------------------------------- creation and transfers


CREATION = {
    "zeros": lambda dev: cr.zeros(2, 3, device=dev),
    "ones": lambda dev: cr.ones((2, 3), device=dev),
    "empty": lambda dev: cr.empty(2, device=dev),
    "full": lambda dev: cr.full((2, 3), 1.5, device=dev),
    "arange": lambda dev: cr.arange(5, device=dev),
    "linspace": lambda dev: cr.linspace(0, 1, 5, device=dev),
    "eye": lambda dev: cr.eye(3, device=dev),
    "rand": lambda dev: cr.rand(2, 3, device=dev),
    "randn": lambda dev: cr.randn(2, 3, device=dev),
    "randint": lambda dev: cr.randint(0, 5, (3,), device=dev),
    "tensor": lambda dev: cr.tensor([[1.0, 2.0]], device=dev),
    "zeros_like": lambda dev: cr.zeros_like(checked_tensor(np.ones((2, 3)))),
    "ones_like": lambda dev: cr.ones_like(checked_tensor(np.ones((2, 3)))),
    "full_like": lambda dev: cr.full_like(checked_tensor(np.ones((2, 3))), 2.0),
    "rand_like": lambda dev: cr.rand_like(checked_tensor(np.ones((2, 3)))),
    "randn_like": lambda dev: cr.randn_like(checked_tensor(np.ones((2, 3)))),
    "empty_like": lambda dev: cr.empty_like(checked_tensor(np.ones((2, 3)))),
    "randint_like": lambda dev: cr.randint_like(checked_tensor(np.ones((2, 3))), 0, 4),
    "new_zeros": lambda dev: checked_tensor(np.ones(2)).new_zeros(2, 3),
    "new_ones": lambda dev: checked_tensor(np.ones(2)).new_ones((2, 3)),
    "new_full": lambda dev: checked_tensor(np.ones(2)).new_full((2, 3), 1.5),
    "new_empty": lambda dev: checked_tensor(np.ones(2)).new_empty(3),
    "new_tensor": lambda dev: checked_tensor(np.ones(2)).new_tensor([1.0, 2.0]),
}


@pytest.mark.parametrize("name", list(CREATION))
def test_creation_on_a_device_uses_its_backend(name):
    with installed() as backend:
        t = CREATION[name](backend.device)
        assert_no_violations(name)
        assert t.device == backend.device
    assert isinstance(t.array, CheckedArray), f"{name}: made a {type(t.array).__name__}"


def test_to_a_device_and_back_is_differentiable():
    x = cr.tensor([1.0, -2.0, 3.0], requires_grad=True)
    with installed(watch_tensors=False) as backend:
        y = x.to(backend.device)
        z = (y * y).sum()
        z.backward()
        back = y.detach().cpu()
        assert_no_violations("to() and cpu()")
        assert isinstance(y.array, CheckedArray) and y.device == backend.device
        assert isinstance(z.array, CheckedArray)
    assert type(back.array) is np.ndarray and back.device == cr.device("cpu")
    assert type(x.grad.array) is np.ndarray, "the gradient comes back to the leaf's device"
    np.testing.assert_array_equal(x.grad.array, [2.0, -4.0, 6.0])
