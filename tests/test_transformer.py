"""Attention and transformers against PyTorch: the ops, MultiheadAttention and the layers.

- ``scaled_dot_product_attention`` and ``layer_norm``: value, gradients and
  second derivatives against PyTorch (its math kernel for sdpa's second
  order), and finite differences (``gradcheck``/``gradgradcheck``).
- ``MultiheadAttention``, the encoder and decoder layers, their stacks and
  ``Transformer``: torch's weights loaded into ours, then every output and
  the gradient of every input and parameter compared (float64 to 1e-10,
  float32 to 1e-4 relative); state dicts move both ways.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch.nn.attention import SDPBackend, sdpa_kernel

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from tests.tensor.parity import check_op, random_inputs
from tests.test_rnn import TORCH_DTYPE, compare, ours_to_torch, torch_to_ours

# torch's own warnings about its mask types and nested tensors, not about these tests
pytestmark = [pytest.mark.filterwarnings("ignore:Support for mismatched"),
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")]

# ------------------------------------------------------- scaled_dot_product_attention


def causal_bool(shape):
    return np.tril(np.ones(shape, dtype=bool))


# name: (shapes of q, k, v (, float mask)), options, bool mask maker or None
SDPA = {
    "plain": ([(2, 3, 4), (2, 5, 4), (2, 5, 6)], {}, None),
    "heads": ([(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)], {}, None),
    "causal": ([(2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 3)], {"is_causal": True}, None),
    "causal-rectangular": ([(1, 3, 4), (1, 5, 4), (1, 5, 2)], {"is_causal": True}, None),
    "scale": ([(2, 3, 4), (2, 3, 4), (2, 3, 4)], {"scale": 0.3}, None),
    "float-mask": ([(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4), (3, 5)], {}, None),
    "float-mask-broadcast": ([(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4), (2, 1, 1, 5)], {}, None),
    "bool-mask": ([(2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 3)], {}, lambda: causal_bool((4, 4))),
    "bool-mask-a-dead-row": ([(1, 3, 4), (1, 3, 4), (1, 3, 4)], {},
                             lambda: np.array([[True, False, True], [False] * 3, [True] * 3])),
    "gqa": ([(1, 4, 3, 2), (1, 2, 5, 2), (1, 2, 5, 2)], {"enable_gqa": True}, None),
    "one-query": ([(1, 4), (3, 4), (3, 4)], {}, None),
}


def sdpa_pair(case):
    shapes, options, bool_mask = SDPA[case]

    def ours(q, k, v, *mask):
        m = cr.tensor(bool_mask()) if bool_mask else (mask[0] if mask else None)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, **options)

    def theirs(q, k, v, *mask):
        m = torch.tensor(bool_mask()) if bool_mask else (mask[0] if mask else None)
        with sdpa_kernel(SDPBackend.MATH):  # the kernel that has second derivatives
            return TF.scaled_dot_product_attention(q, k, v, attn_mask=m, **options)

    return ours, theirs, shapes


@pytest.mark.parametrize("case", list(SDPA))
def test_sdpa_matches_torch_to_second_order(case):
    ours, theirs, shapes = sdpa_pair(case)
    check_op(ours, theirs, random_inputs(shapes, seed=len(case)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", ["causal", "float-mask", "bool-mask-a-dead-row"])
def test_sdpa_matches_torch_in_float32_and_its_default_kernel(case):
    shapes, options, bool_mask = SDPA[case]
    arrays = [a.astype(np.float32) for a in random_inputs(shapes, seed=3)]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    m_ours = cr.tensor(bool_mask()) if bool_mask else (xs[3] if len(xs) > 3 else None)
    m_theirs = torch.tensor(bool_mask()) if bool_mask else (ts[3] if len(ts) > 3 else None)
    out = F.scaled_dot_product_attention(*xs[:3], attn_mask=m_ours, **options)
    expected = TF.scaled_dot_product_attention(*ts[:3], attn_mask=m_theirs, **options)
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=1e-4, atol=1e-5)
    out.sum().backward()
    expected.sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.array, t.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_sdpa_rows_masked_entirely_give_zeros_and_finite_gradients():
    q = cr.randn(1, 3, 4, dtype=cr.float64, requires_grad=True)
    mask = cr.tensor([[True, True, False], [False, False, False], [True, False, False]])
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=mask)
    np.testing.assert_array_equal(out.array[0, 1], 0)
    out.sum().backward()
    assert np.isfinite(q.grad.array).all()


def test_sdpa_dropout_is_drawn_and_scaled():
    cr.manual_seed(0)
    q = cr.randn(2, 8, 4, dtype=cr.float64)
    full = F.scaled_dot_product_attention(q, q, q)
    dropped = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert not np.allclose(full.array, dropped.array)
    everything = F.scaled_dot_product_attention(q, q, q, dropout_p=1.0)
    np.testing.assert_array_equal(everything.array, 0)


SDPA_ERRORS = [
    (lambda: F.scaled_dot_product_attention(cr.ones(2, 3, 4), cr.ones(2, 5, 3), cr.ones(2, 5, 4)),
     RuntimeError, ["(2, 3, 4)", "(2, 5, 3)", "last dimension"]),
    (lambda: F.scaled_dot_product_attention(cr.ones(3, 4), cr.ones(3, 4), cr.ones(3, 4),
                                            attn_mask=cr.ones(3, 3), is_causal=True),
     RuntimeError, ["either attn_mask or is_causal"]),
    (lambda: F.scaled_dot_product_attention(cr.ones(4), cr.ones(4), cr.ones(4)), RuntimeError,
     ["at least 2 dimensions"]),
    (lambda: F.scaled_dot_product_attention(cr.ones(1, 3, 2, 4), cr.ones(1, 2, 2, 4),
                                            cr.ones(1, 2, 2, 4), enable_gqa=True),
     RuntimeError, ["multiple", "(3)", "(2)"]),
    (lambda: F.layer_norm(cr.ones(2, 3), (4,)), RuntimeError, ["[4]", "(2, 3)"]),
    (lambda: F.layer_norm(cr.ones(2, 3), (3,), weight=cr.ones(4)), RuntimeError,
     ["weight", "(4,)"]),
    (lambda: F.layer_norm(cr.ones(2, 3, dtype=cr.int64), (3,)), TypeError, ["floating point"]),
]


@pytest.mark.parametrize("make, error, fragments", SDPA_ERRORS,
                         ids=[str(i) for i in range(len(SDPA_ERRORS))])
def test_attention_op_errors_name_the_op(make, error, fragments):
    with pytest.raises(error) as info:
        make()
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


# ------------------------------------------------------------------- layer_norm

LAYER_NORM = {
    "last-dim": ([(3, 5), (5,), (5,)], (5,)),
    "two-dims": ([(2, 3, 4), (3, 4), (3, 4)], (3, 4)),
    "no-affine": ([(4, 6)], (6,)),
    "size-one": ([(3, 1), (1,), (1,)], (1,)),
    "zero-batch": ([(0, 4), (4,), (4,)], (4,)),
    "one-dim": ([(7,), (7,), (7,)], 7),
}


@pytest.mark.parametrize("case", list(LAYER_NORM))
def test_layer_norm_matches_torch_to_second_order(case):
    shapes, normalized = LAYER_NORM[case]
    check_op(lambda x, *wb: F.layer_norm(x, normalized, *wb, eps=1e-3),
             lambda x, *wb: TF.layer_norm(x, normalized if isinstance(normalized, tuple)
                                          else (normalized,), *wb, eps=1e-3),
             random_inputs(shapes, seed=1), rtol=1e-10, atol=1e-12)


def test_layer_norm_is_also_torch_layer_norm_and_weight_only():
    x = np.random.default_rng(0).standard_normal((3, 4))
    w = np.linspace(0.5, 2, 4)
    out = cr.layer_norm(cr.tensor(x), [4], weight=cr.tensor(w))
    expected = torch.layer_norm(torch.tensor(x), [4], weight=torch.tensor(w))
    np.testing.assert_allclose(out.array, expected.numpy(), rtol=1e-12)


def test_layer_norm_module_uses_the_op_and_takes_bias_false():
    norm = nn.LayerNorm(4, bias=False, dtype=cr.float64)
    theirs = torch.nn.LayerNorm(4, bias=False).double()
    assert list(norm.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert norm(cr.ones(2, 4, dtype=cr.float64)).grad_fn.op_name == "LayerNorm"
    compare(norm, theirs, [np.random.default_rng(0).standard_normal((2, 4))], np.float64)


# ------------------------------------------------------------ MultiheadAttention


def mha_pair(dtype=np.float64, **options):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, **options).to(TORCH_DTYPE[dtype])
    ours = nn.MultiheadAttention(8, 2, **options, dtype=dtype)
    torch_to_ours(theirs, ours)
    return ours, theirs


def bool_attn_mask(length, source):
    """True above the diagonal: each query may not attend to later keys."""
    return np.triu(np.ones((length, source), dtype=bool), 1)


def float_attn_mask(rng, shape):
    mask = rng.standard_normal(shape)
    mask[..., 0, -1] = -np.inf
    return mask


# name: (module options, forward options, self-attention?, masks maker(rng, batch_first))
MHA = {
    "self": ({}, {}, True, None),
    "self-batch-first": ({"batch_first": True}, {}, True, None),
    "cross": ({}, {}, False, None),
    "cross-batch-first-no-weights": ({"batch_first": True}, {"need_weights": False}, False, None),
    "bool-attn-mask": ({}, {}, True, lambda rng: {"attn_mask": bool_attn_mask(5, 5)}),
    "bool-attn-mask-no-weights": ({"batch_first": True}, {"need_weights": False}, True,
                                  lambda rng: {"attn_mask": bool_attn_mask(5, 5)}),
    "float-3d-attn-mask": ({}, {}, True,
                           lambda rng: {"attn_mask": float_attn_mask(rng, (6, 5, 5))}),
    "key-padding-mask": ({"batch_first": True}, {"average_attn_weights": False}, False,
                         lambda rng: {"key_padding_mask": np.array([[False] * 6,
                                                                    [False] * 4 + [True] * 2,
                                                                    [True] + [False] * 5])}),
    "both-masks-no-weights": ({}, {"need_weights": False}, False,
                              lambda rng: {"attn_mask": bool_attn_mask(5, 6),
                                           "key_padding_mask": np.array([[False] * 5 + [True]]
                                                                        * 3)}),
    "float-key-padding-mask": ({}, {}, False,
                               lambda rng: {"key_padding_mask": rng.standard_normal((3, 6))}),
    "causal-hint": ({"batch_first": True}, {"need_weights": False, "is_causal": True}, True,
                    lambda rng: {"attn_mask": bool_attn_mask(5, 5)}),
    "causal-hint-with-weights": ({}, {"is_causal": True}, True,
                                 lambda rng: {"attn_mask": bool_attn_mask(5, 5)}),
    "no-bias": ({"bias": False}, {}, True, None),
    "kdim-vdim": ({"kdim": 3, "vdim": 5}, {"average_attn_weights": False}, False, None),
    "bias-kv-zero-attn": ({"add_bias_kv": True, "add_zero_attn": True}, {}, False,
                          lambda rng: {"attn_mask": bool_attn_mask(5, 6),
                                       "key_padding_mask": np.zeros((3, 6), dtype=bool)}),
    "dropout-in-eval": ({"dropout": 0.5}, {}, True, None),
}


def mha_inputs(ours, self_attention, rng):
    batch_first = ours.batch_first
    shape = (lambda length, e: (3, length, e) if batch_first else (length, 3, e))
    query = rng.standard_normal(shape(5, 8))
    if self_attention:
        return query, query, query
    return query, rng.standard_normal(shape(6, ours.kdim)), rng.standard_normal(shape(6, ours.vdim))


def mha_call(self_attention, forward_options, masks):
    """Call a MultiheadAttention (ours or torch's) on q (k, v), with the masks as its tensors;
    self-attention passes one tensor as query, key and value."""
    def call(module, *xs):
        q, k, v = (xs[0],) * 3 if self_attention else xs
        make = cr.tensor if isinstance(module, nn.Module) else torch.tensor
        named = {name: make(m) for name, m in masks.items()}
        return module(q, k, v, **named, **forward_options)
    return call


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", list(MHA))
def test_multihead_attention_matches_torch(case, dtype):
    options, forward_options, self_attention, make_masks = MHA[case]
    ours, theirs = mha_pair(dtype, **options)
    if options.get("dropout"):
        ours.eval()
        theirs.eval()
    rng = np.random.default_rng(5)
    q, k, v = mha_inputs(ours, self_attention, rng)
    masks = make_masks(rng) if make_masks else {}
    if dtype == np.float32:
        masks = {name: m.astype(np.float32) if m.dtype.kind == "f" else m
                 for name, m in masks.items()}
    compare(ours, theirs, [q] if self_attention else [q, k, v], dtype,
            call=mha_call(self_attention, forward_options, masks))


def test_multihead_attention_unbatched_and_its_weights():
    ours, theirs = mha_pair()
    x = np.random.default_rng(0).standard_normal((5, 8))
    compare(ours, theirs, [x], np.float64, call=lambda m, t: m(t, t, t))
    mask = bool_attn_mask(5, 5)
    compare(ours, theirs, [x], np.float64,
            call=lambda m, t: m(t, t, t, attn_mask=(cr.tensor(mask) if isinstance(m, nn.Module)
                                                    else torch.tensor(mask)),
                                average_attn_weights=False))


def test_multihead_attention_state_dicts_move_both_ways():
    for options in ({}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True}, {"bias": False}):
        cr.manual_seed(0)
        ours = nn.MultiheadAttention(8, 2, **options, dtype=cr.float64)
        theirs = torch.nn.MultiheadAttention(8, 2, **options).double()
        ours_to_torch(ours, theirs)
        rng = np.random.default_rng(1)
        q, k, v = rng.standard_normal((5, 3, 8)), rng.standard_normal((6, 3, ours.kdim)), \
            rng.standard_normal((6, 3, ours.vdim))
        compare(ours, theirs, [q, k, v], np.float64)


def test_multihead_attention_init_is_torchs():
    cr.manual_seed(0)
    attention = nn.MultiheadAttention(16, 4)
    bound = np.sqrt(6 / (16 + 48))
    assert np.abs(attention.in_proj_weight.array).max() <= bound
    np.testing.assert_array_equal(attention.in_proj_bias.array, 0)
    np.testing.assert_array_equal(attention.out_proj.bias.array, 0)
    assert repr(attention).startswith("MultiheadAttention(\n  (out_proj): Linear")


MHA_ERRORS = [
    (lambda: nn.MultiheadAttention(10, 3), ValueError, ["divisible", "10", "3"]),
    (lambda: nn.MultiheadAttention(8, 2)(cr.ones(5, 3, 8), cr.ones(5, 3, 8), cr.ones(5, 8)),
     RuntimeError, ["3-D"]),
    (lambda: nn.MultiheadAttention(8, 2)(cr.ones(5, 3, 8), cr.ones(5, 3, 8), cr.ones(5, 3, 8),
                                         attn_mask=cr.ones(4, 5)), RuntimeError,
     ["(L, S) = (5, 5)", "(4, 5)"]),
    (lambda: nn.MultiheadAttention(8, 2)(cr.ones(5, 3, 8), cr.ones(5, 3, 8), cr.ones(5, 3, 8),
                                         key_padding_mask=cr.ones(3, 4) > 0), RuntimeError,
     ["(N, S) = (3, 5)", "(3, 4)"]),
    (lambda: nn.MultiheadAttention(8, 2)(cr.ones(5, 3, 8), cr.ones(5, 3, 8), cr.ones(5, 3, 8),
                                         is_causal=True), RuntimeError,
     ["is_causal", "generate_square_subsequent_mask"]),
    (lambda: nn.MultiheadAttention(8, 2)(cr.ones(5, 3, 8), cr.ones(5, 3, 8), cr.ones(5, 3, 8),
                                         attn_mask=cr.ones(5, 5, dtype=cr.int64)), TypeError,
     ["bool and floating"]),
    (lambda: nn.MultiheadAttention(8, 2)(cr.ones(5, 3, 6), cr.ones(5, 3, 8), cr.ones(5, 3, 8)),
     RuntimeError, ["embedding dimension 8", "(5, 3, 6)"]),
]


@pytest.mark.parametrize("make, error, fragments", MHA_ERRORS,
                         ids=[str(i) for i in range(len(MHA_ERRORS))])
def test_multihead_attention_errors(make, error, fragments):
    with pytest.raises(error) as info:
        make()
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_functional_multi_head_attention_forward_matches_torch():
    ours, theirs = mha_pair()
    x = np.random.default_rng(0).standard_normal((5, 3, 8))
    args = lambda m: (m.embed_dim, m.num_heads, m.in_proj_weight, m.in_proj_bias, None, None,
                      False, 0.0, m.out_proj.weight, m.out_proj.bias)
    out, weights = F.multi_head_attention_forward(*(cr.tensor(x),) * 3, *args(ours))
    expected, expected_weights = TF.multi_head_attention_forward(*(torch.tensor(x),) * 3,
                                                                 *args(theirs))
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.array, expected_weights.detach().numpy(), rtol=1e-10)


# ----------------------------------------------------------- the transformer layers


def activation_pair(name):
    """(ours, torch's) activation argument: a name, or a callable of each library."""
    if name == "callable":
        return (lambda x: F.gelu(x, approximate="tanh"),
                lambda x: TF.gelu(x, approximate="tanh"))
    return name, name


def layer_pair(kind, dtype=np.float64, activation="relu", **options):
    ours_cls, theirs_cls = {
        "encoder": (nn.TransformerEncoderLayer, torch.nn.TransformerEncoderLayer),
        "decoder": (nn.TransformerDecoderLayer, torch.nn.TransformerDecoderLayer)}[kind]
    ours_activation, theirs_activation = activation_pair(activation)
    options.setdefault("dropout", 0.0)
    torch.manual_seed(0)
    theirs = theirs_cls(8, 2, dim_feedforward=12, activation=theirs_activation,
                        **options).to(TORCH_DTYPE[dtype])
    ours = ours_cls(8, 2, dim_feedforward=12, activation=ours_activation, **options, dtype=dtype)
    torch_to_ours(theirs, ours)
    if options["dropout"]:
        ours.eval()
        theirs.eval()
    return ours, theirs


def causal_mask(module, size):
    if isinstance(module, nn.Module):
        return nn.Transformer.generate_square_subsequent_mask(size, dtype=cr.float64)
    return torch.nn.Transformer.generate_square_subsequent_mask(size, dtype=torch.float64)


def padding(module, rows):
    mask = np.zeros((3, rows), dtype=bool)
    mask[1, -2:] = True
    return cr.tensor(mask) if isinstance(module, nn.Module) else torch.tensor(mask)


LAYER_CASES = {
    "post-norm-relu": ({}, {}),
    "norm-first-gelu-batch-first": ({"norm_first": True, "activation": "gelu",
                                     "batch_first": True}, {}),
    "causal": ({"activation": "gelu"}, {"causal": True}),
    "norm-first-causal-batch-first": ({"norm_first": True, "batch_first": True},
                                      {"causal": True}),
    "padding-and-causal": ({"batch_first": True}, {"causal": True, "padding": True}),
    "callable-activation": ({"activation": "callable", "norm_first": True}, {"padding": True}),
    "no-bias": ({"bias": False}, {"causal": True}),
    "dropout-in-eval": ({"dropout": 0.3, "norm_first": True}, {"causal": True}),
}


def shaped(module, rng, length):
    batch_first = module.self_attn.batch_first
    return rng.standard_normal((3, length, 8) if batch_first else (length, 3, 8))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_encoder_layer_matches_torch(case, dtype):
    options, masks = LAYER_CASES[case]
    ours, theirs = layer_pair("encoder", dtype, **options)
    x = shaped(ours, np.random.default_rng(0), 5)

    def call(module, src):
        kwargs = {}
        if masks.get("causal"):
            kwargs.update(src_mask=causal_mask(module, 5).to(src.dtype), is_causal=True)
        if masks.get("padding"):
            kwargs["src_key_padding_mask"] = padding(module, 5)
        return module(src, **kwargs)

    compare(ours, theirs, [x], dtype, call=call)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_decoder_layer_matches_torch(case, dtype):
    options, masks = LAYER_CASES[case]
    ours, theirs = layer_pair("decoder", dtype, **options)
    rng = np.random.default_rng(1)
    tgt, memory = shaped(ours, rng, 4), shaped(ours, rng, 6)

    def call(module, tgt, memory):
        kwargs = {}
        if masks.get("causal"):
            kwargs.update(tgt_mask=causal_mask(module, 4).to(tgt.dtype), tgt_is_causal=True)
        if masks.get("padding"):
            kwargs.update(tgt_key_padding_mask=padding(module, 4),
                          memory_key_padding_mask=padding(module, 6))
        return module(tgt, memory, **kwargs)

    compare(ours, theirs, [tgt, memory], dtype, call=call)


@pytest.mark.parametrize("batch_first", [False, True])
def test_stacks_and_the_whole_transformer_match_torch(batch_first):
    options = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
                   dim_feedforward=12, dropout=0.0, batch_first=batch_first)
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(**options).double()
    ours = nn.Transformer(**options, dtype=cr.float64)
    torch_to_ours(theirs, ours)
    rng = np.random.default_rng(2)
    shape = (lambda n: (3, n, 8)) if batch_first else (lambda n: (n, 3, 8))
    src, tgt = rng.standard_normal(shape(6)), rng.standard_normal(shape(4))

    def call(module, src, tgt):
        return module(src, tgt, tgt_mask=causal_mask(module, 4),
                      src_key_padding_mask=padding(module, 6),
                      memory_key_padding_mask=padding(module, 6))

    compare(ours, theirs, [src, tgt], np.float64, call=call)
    # the encoder and decoder stacks on their own, the causal mask detected from its values
    compare(ours.encoder, theirs.encoder, [src], np.float64,
            call=lambda m, s: m(s, mask=causal_mask(m, 6)))
    compare(ours.decoder, theirs.decoder, [tgt, src], np.float64,
            call=lambda m, t, s: m(t, s, tgt_mask=causal_mask(m, 4)))


def test_transformer_state_dicts_move_both_ways():
    cr.manual_seed(0)
    options = dict(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=2,
                   dim_feedforward=12, dropout=0.0, norm_first=True)
    ours = nn.Transformer(**options, dtype=cr.float64)
    theirs = torch.nn.Transformer(**options).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours_to_torch(ours, theirs)
    rng = np.random.default_rng(3)
    compare(ours, theirs, [rng.standard_normal((5, 2, 8)), rng.standard_normal((3, 2, 8))],
            np.float64)


def test_generate_square_subsequent_mask_is_torchs():
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    expected = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.dtype == np.float32 and not mask.requires_grad
    np.testing.assert_array_equal(mask.array, expected.numpy())


def test_transformer_xavier_init_and_layer_copies():
    cr.manual_seed(0)
    model = nn.Transformer(16, 2, 2, 1, 32)
    first, second = model.encoder.layers
    assert first.linear1.weight is not second.linear1.weight
    np.testing.assert_array_equal(model.encoder.layers[0].norm1.weight.array, 1)
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(first.linear1.weight.array).max() <= bound
    assert repr(nn.TransformerEncoderLayer(8, 2, 16)).count("Dropout") == 3


TRANSFORMER_ERRORS = [
    (lambda: nn.TransformerEncoderLayer(8, 2, activation="tanh"), RuntimeError, ["relu/gelu"]),
    (lambda: nn.Transformer(8, 2, 1, 1, 16)(cr.ones(5, 3, 8), cr.ones(4, 2, 8)), RuntimeError,
     ["batch number"]),
    (lambda: nn.Transformer(8, 2, 1, 1, 16)(cr.ones(5, 3, 8), cr.ones(4, 3, 6)), RuntimeError,
     ["d_model=8"]),
    (lambda: nn.TransformerEncoder(nn.Linear(2, 2), 0), ValueError, ["num_layers"]),
]


@pytest.mark.parametrize("make, error, fragments", TRANSFORMER_ERRORS,
                         ids=[str(i) for i in range(len(TRANSFORMER_ERRORS))])
def test_transformer_errors(make, error, fragments):
    with pytest.raises(error) as info:
        make()
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
