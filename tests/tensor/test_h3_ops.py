"""Pooling with indices, cross-entropy by gather, and the losses' PyTorch signatures.

Checked against PyTorch in float64 (value, gradient, second derivative and
finite differences, through ``check_op``): ``max_pool2d(return_indices=True)``
as one node with two outputs; ``cross_entropy`` and ``nll_loss`` with class
weights, K-dimensional logits and the gradient of the gradient in the
upstream; ``binary_cross_entropy`` at inputs of exactly 0 and 1.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import registry
from chainrule.ops.pooling import max_pool2d
from tests.tensor.parity import check_op, random_inputs
from tests.tensor.test_nn_ops import MAX_POOL_CASES, distinct

pytestmark = pytest.mark.filterwarnings("ignore:size_average and reduce")

# ------------------------------------------------------- max_pool2d's indices


@pytest.mark.parametrize("shape, kwargs", MAX_POOL_CASES, ids=[str(c) for c in MAX_POOL_CASES])
def test_max_pool2d_indices_match_pytorch(shape, kwargs):
    (x,) = random_inputs([shape], distinct, seed=1)
    out, indices = max_pool2d(cr.tensor(x), return_indices=True, **kwargs)
    expected, expected_indices = TF.max_pool2d(torch.tensor(x), return_indices=True, **kwargs)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())


@pytest.mark.parametrize("shape, kwargs", MAX_POOL_CASES[:8],
                         ids=[str(c) for c in MAX_POOL_CASES[:8]])
def test_max_pool2d_with_indices_differentiates_as_pytorch(shape, kwargs):
    check_op(lambda x: max_pool2d(x, return_indices=True, **kwargs)[0],
             lambda x: TF.max_pool2d(x, return_indices=True, **kwargs)[0],
             random_inputs([shape], distinct, seed=2))


def test_max_pool2d_with_indices_is_one_node_with_two_outputs():
    x = cr.randn(2, 3, 6, 6, requires_grad=True)
    out, indices = max_pool2d(x, 2, return_indices=True)
    assert out.grad_fn.num_outputs == 2 and out.grad_fn.op_name == "MaxPool2d"
    assert indices.grad_fn is None
    without = max_pool2d(x, 2)
    assert without.grad_fn.num_outputs == 1
    np.testing.assert_array_equal(without.detach().numpy(), out.detach().numpy())
    # the indices address the input plane: reading there gives the maxima
    planes = x.detach().numpy().reshape(2, 3, -1)
    picked = np.take_along_axis(planes, indices.numpy().reshape(2, 3, -1), axis=2)
    np.testing.assert_array_equal(picked.reshape(out.shape), out.detach().numpy())


def test_max_pool2d_indices_feed_max_unpool_in_pytorch():
    (x,) = random_inputs([(1, 2, 6, 6)], distinct, seed=3)
    out, indices = max_pool2d(cr.tensor(x), 3, 2, 1, return_indices=True)
    unpooled = TF.max_unpool2d(torch.tensor(out.numpy()), torch.tensor(indices.numpy()), 3, 2, 1,
                               output_size=(6, 6))
    expected = TF.max_unpool2d(*TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True),
                               3, 2, 1, output_size=(6, 6))
    np.testing.assert_array_equal(unpooled.numpy(), expected.numpy())


# ------------------------------------------------------------ cross-entropy

rng = np.random.default_rng(0)
LOGITS = rng.standard_normal((6, 5))
INDICES = np.array([0, 4, 2, 2, 1, 3])
WITH_IGNORED = np.array([0, -100, 2, 2, -100, 3])
PROBS = rng.dirichlet(np.ones(5), 6)
WEIGHT = np.array([0.5, 2.0, 1.0, 1.5, 0.25])
LOGITS_4D = rng.standard_normal((2, 5, 3, 2))
INDICES_3D = np.where(rng.random((2, 3, 2)) < 0.2, -100, rng.integers(0, 5, (2, 3, 2)))
PROBS_4D = rng.dirichlet(np.ones(5), (2, 3, 2)).transpose(0, 3, 1, 2).copy()


def t(array):
    return torch.from_numpy(array)


CE_CASES = {
    "indices": (INDICES, {}),
    "sum": (INDICES, {"reduction": "sum"}),
    "none": (INDICES, {"reduction": "none"}),
    "ignore": (WITH_IGNORED, {}),
    "ignore_smoothing_none": (WITH_IGNORED, {"label_smoothing": 0.3, "reduction": "none"}),
    "smoothing": (INDICES, {"label_smoothing": 0.2}),
    "weight": (INDICES, {"weight": WEIGHT}),
    "weight_ignore_smoothing": (WITH_IGNORED, {"weight": WEIGHT, "label_smoothing": 0.1}),
    "weight_ignore_smoothing_sum": (WITH_IGNORED, {"weight": WEIGHT, "label_smoothing": 0.1,
                                                   "reduction": "sum"}),
    "weight_none": (WITH_IGNORED, {"weight": WEIGHT, "reduction": "none"}),
    "other_ignore_index": (np.array([0, 3, 2, 2, 3, 1]), {"ignore_index": 3}),
    "probs": (PROBS, {}),
    "probs_weight_smoothing": (PROBS, {"weight": WEIGHT, "label_smoothing": 0.1}),
    "probs_none": (PROBS, {"reduction": "none"}),
    "legacy_reduce_false": (INDICES, {"reduce": False}),
    "legacy_size_average_false": (INDICES, {"size_average": False}),
}


def _ce(case):
    target, kwargs = CE_CASES[case]
    ours = {k: cr.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    theirs = {k: t(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return (lambda z: F.cross_entropy(z, target, **ours),
            lambda z: TF.cross_entropy(z, t(target), **theirs))


@pytest.mark.parametrize("case", sorted(CE_CASES))
def test_cross_entropy_matches_pytorch(case):
    check_op(*_ce(case), [LOGITS])


@pytest.mark.parametrize("target, kwargs", [
    (INDICES_3D, {}), (INDICES_3D, {"reduction": "none"}),
    (INDICES_3D, {"weight": WEIGHT, "label_smoothing": 0.2}), (PROBS_4D, {}),
    (PROBS_4D, {"reduction": "none", "label_smoothing": 0.1}),
], ids=["indices", "none", "weight_smoothing", "probs", "probs_none"])
def test_cross_entropy_of_k_dimensional_logits_matches_pytorch(target, kwargs):
    ours = {k: cr.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    theirs = {k: t(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    check_op(lambda z: F.cross_entropy(z, cr.tensor(target), **ours),
             lambda z: TF.cross_entropy(z, t(target), **theirs), [LOGITS_4D])


def test_cross_entropy_of_one_unbatched_row_matches_pytorch():
    check_op(lambda z: F.cross_entropy(z, cr.tensor(3)),
             lambda z: TF.cross_entropy(z, torch.tensor(3)), [LOGITS[0]])


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("case", ["weight_ignore_smoothing", "probs_weight_smoothing"])
def test_cross_entropy_gradient_differentiates_in_the_upstream_gradient(case, reduction):
    """CrossEntropyGrad's own derivatives: the vector-Jacobian product, in z and in v."""
    target, kwargs = CE_CASES[case]
    kwargs_ours = {**kwargs, "reduction": reduction}

    def ours(z, v):
        loss = F.cross_entropy(z, target, **{k: cr.tensor(w) if isinstance(w, np.ndarray) else w
                                             for k, w in kwargs_ours.items()})
        return cr.autograd.grad(loss, [z], v, create_graph=True)[0]

    def theirs(z, v):
        loss = TF.cross_entropy(z, t(target), **{k: t(w) if isinstance(w, np.ndarray) else w
                                                 for k, w in kwargs_ours.items()})
        return torch.autograd.grad(loss, [z], v, create_graph=True)[0]

    upstream = rng.standard_normal(()) if reduction == "mean" else rng.standard_normal(6)
    check_op(ours, theirs, [LOGITS, np.asarray(upstream)])


def test_cross_entropy_float32_stays_float32_and_matches_the_dense_formula():
    z = rng.standard_normal((64, 10)).astype(np.float32)
    target = rng.integers(0, 10, 64)
    logits = cr.tensor(z, requires_grad=True)
    loss = F.cross_entropy(logits, target, label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and logits.grad.dtype == np.float32
    # the dense formula the fused op replaces: q = smoothed one-hot, loss = mean sum q (lse - z)
    z64 = z.astype(np.float64)
    q = np.full((64, 10), 0.01)
    q[np.arange(64), target] += 0.9
    lse = np.log(np.exp(z64 - z64.max(1, keepdims=True)).sum(1)) + z64.max(1)
    np.testing.assert_allclose(loss.item(), (q * (lse[:, None] - z64)).sum(1).mean(), rtol=1e-6)
    softmax = np.exp(z64 - lse[:, None])
    np.testing.assert_allclose(logits.grad.numpy(), (softmax - q) / 64, rtol=1e-5, atol=1e-8)


def test_cross_entropy_by_class_index_holds_nothing_of_shape_n_by_c():
    logits = cr.randn(32, 7, requires_grad=True)
    target = cr.tensor(rng.integers(0, 7, 32))
    node = F.cross_entropy(logits, target, label_smoothing=0.1).grad_fn
    held = [v for v in vars(node.targets).values() if hasattr(v, "shape")]
    assert held and all(v.shape != (32, 7) for v in held)


def test_cross_entropy_with_every_row_ignored_is_nan_as_pytorch():
    loss = F.cross_entropy(cr.tensor(LOGITS), np.full(6, -100))
    assert np.isnan(loss.item())
    assert np.isnan(TF.cross_entropy(t(LOGITS), torch.full((6,), -100)).item())


@pytest.mark.parametrize("target, kwargs", [
    (WITH_IGNORED, {"weight": WEIGHT}), (WITH_IGNORED, {"weight": WEIGHT, "reduction": "sum"}),
    (WITH_IGNORED, {"reduction": "none"}), (INDICES_3D, {"weight": WEIGHT}),
    (INDICES_3D, {"reduction": "none"}),
], ids=["weight", "weight_sum", "none", "k_dim_weight", "k_dim_none"])
def test_nll_loss_matches_pytorch(target, kwargs):
    ours = {k: cr.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    theirs = {k: t(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    logits = LOGITS if target.ndim == 1 else LOGITS_4D
    check_op(lambda z: F.nll_loss(F.log_softmax(z, 1), cr.tensor(target), **ours),
             lambda z: TF.nll_loss(TF.log_softmax(z, 1), t(target), **theirs), [logits])


def test_cross_entropy_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"logits \(2, 3, 4\) and target \(2, 3\)"):
        F.cross_entropy(cr.zeros(2, 3, 4), np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match=r"one value per class, shape \(3,\), got \(2,\)"):
        F.cross_entropy(cr.zeros(2, 3), np.array([0, 1]), weight=cr.ones(2))


# ---------------------------------------------------- binary cross-entropy


EDGES = np.array([0.0, 1.0, 0.0, 1.0, 0.3, 1e-30])
EDGE_TARGETS = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.5])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_clamps_its_logs_at_0_and_1_as_pytorch(reduction):
    x = cr.tensor(EDGES, requires_grad=True)
    loss = F.binary_cross_entropy(x, cr.tensor(EDGE_TARGETS), reduction=reduction)
    tx = torch.tensor(EDGES, requires_grad=True)
    expected = TF.binary_cross_entropy(tx, t(EDGE_TARGETS), reduction=reduction)
    assert np.isfinite(loss.detach().numpy()).all()
    np.testing.assert_allclose(loss.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    upstream = np.linspace(0.5, 1.5, EDGES.size) if reduction == "none" else np.array(1.0)
    loss.backward(cr.tensor(upstream))
    expected.backward(t(upstream))
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_binary_cross_entropy_with_weight_and_target_gradient_matches_pytorch():
    probabilities = rng.uniform(0.05, 0.95, (4, 3))
    targets = rng.uniform(0, 1, (4, 3))
    weight = rng.uniform(0.5, 2.0, (4, 3))
    check_op(lambda p, y: F.binary_cross_entropy(p, y, weight=cr.tensor(weight)),
             lambda p, y: TF.binary_cross_entropy(p, y, weight=t(weight)),
             [probabilities, targets])


# ------------------------------------------------------ weights and legacy


PAIR = [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))]
ELEMENT_WEIGHT = rng.uniform(0.5, 2.0, (4, 3))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_elementwise_weights_match_pytorch(name, reduction):
    ours, theirs = getattr(F, name), getattr(TF, name)
    check_op(lambda a, b: ours(a, b, reduction=reduction, weight=cr.tensor(ELEMENT_WEIGHT)),
             lambda a, b: theirs(a, b, reduction=reduction, weight=t(ELEMENT_WEIGHT)), PAIR)


def test_bce_with_logits_weight_matches_pytorch():
    targets = rng.integers(0, 2, (4, 3)).astype(np.float64)
    check_op(lambda z: F.binary_cross_entropy_with_logits(z, cr.tensor(targets),
                                                          weight=cr.tensor(ELEMENT_WEIGHT)),
             lambda z: TF.binary_cross_entropy_with_logits(z, t(targets), weight=t(ELEMENT_WEIGHT)),
             [PAIR[0]])


@pytest.mark.filterwarnings("ignore:size_average and reduce")
@pytest.mark.parametrize("legacy", [{"size_average": False}, {"reduce": False},
                                    {"size_average": True, "reduce": True}])
def test_legacy_size_average_and_reduce_pick_the_reduction_as_pytorch(legacy):
    ours = F.mse_loss(cr.tensor(PAIR[0]), cr.tensor(PAIR[1]), **legacy)
    theirs = TF.mse_loss(t(PAIR[0]), t(PAIR[1]), **legacy)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


# ---------------------------------------------------------- declarations


def test_declared_names_are_where_pytorch_has_them():
    for name in ["conv2d", "max_pool2d", "avg_pool2d", "unfold", "fold", "linear", "dropout",
                 "embedding", "softmax", "log_softmax", "cross_entropy", "nll_loss", "mse_loss",
                 "l1_loss", "huber_loss", "binary_cross_entropy",
                 "binary_cross_entropy_with_logits"]:
        assert getattr(F, name) is registry.namespace("nn.functional")[name]
        assert hasattr(TF, name)
    for name in ["conv2d", "max_pool2d", "softmax", "log_softmax", "dropout"]:
        assert getattr(cr, name) is registry.namespace("torch")[name] and hasattr(torch, name)
    for name in ["softmax", "log_softmax"]:
        assert getattr(cr.Tensor, name) is getattr(F, name)
    for name in ["unfold", "embedding", "avg_pool2d"]:  # torch's are other ops, or none
        assert name not in registry.namespace("torch")


def test_torch_dropout_takes_train_and_functional_dropout_works_in_place():
    x = cr.ones(1000)
    assert cr.dropout(x, 0.5, train=False) is x
    cr.manual_seed(3)
    expected = F.dropout(x, 0.5).numpy()
    cr.manual_seed(3)
    y = cr.ones(1000)
    assert F.dropout(y, 0.5, inplace=True) is y
    np.testing.assert_array_equal(y.numpy(), expected)
