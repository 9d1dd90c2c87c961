"""Every loss against torch.nn.functional: value and gradient (float64), plus finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.tensor.parity import check_op

rng = np.random.default_rng(0)
LOGITS = rng.standard_normal((6, 5))
INDICES = np.array([0, 4, 2, 2, 1, 3])
WITH_IGNORED = np.array([0, -100, 2, 2, -100, 3])
PROBS = np.abs(rng.standard_normal((6, 5)))
PROBS /= PROBS.sum(1, keepdims=True)
PREDICTIONS, TARGETS = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
PROBABILITIES = rng.uniform(0.05, 0.95, (4, 3))
BINARY = rng.integers(0, 2, (4, 3)).astype(np.float64)


def targets(t):
    return torch.from_numpy(t) if isinstance(t, np.ndarray) else t


CASES = {
    "cross_entropy": (lambda z: F.cross_entropy(z, INDICES),
                      lambda z: TF.cross_entropy(z, targets(INDICES)), [LOGITS]),
    "cross_entropy_sum": (lambda z: F.cross_entropy(z, INDICES, reduction="sum"),
                          lambda z: TF.cross_entropy(z, targets(INDICES), reduction="sum"), [LOGITS]),
    "cross_entropy_none": (lambda z: F.cross_entropy(z, INDICES, reduction="none"),
                           lambda z: TF.cross_entropy(z, targets(INDICES), reduction="none"), [LOGITS]),
    "cross_entropy_ignore": (lambda z: F.cross_entropy(z, WITH_IGNORED),
                             lambda z: TF.cross_entropy(z, targets(WITH_IGNORED)), [LOGITS]),
    "cross_entropy_smoothing": (lambda z: F.cross_entropy(z, INDICES, label_smoothing=0.2),
                                lambda z: TF.cross_entropy(z, targets(INDICES), label_smoothing=0.2),
                                [LOGITS]),
    "cross_entropy_probs": (lambda z: F.cross_entropy(z, PROBS),
                            lambda z: TF.cross_entropy(z, targets(PROBS)), [LOGITS]),
    "cross_entropy_probs_smooth": (lambda z: F.cross_entropy(z, PROBS, label_smoothing=0.1),
                                   lambda z: TF.cross_entropy(z, targets(PROBS), label_smoothing=0.1),
                                   [LOGITS]),
    "nll_loss": (lambda z: F.nll_loss(F.log_softmax(z, 1), WITH_IGNORED),
                 lambda z: TF.nll_loss(TF.log_softmax(z, 1), targets(WITH_IGNORED)), [LOGITS]),
    "mse_loss": (F.mse_loss, TF.mse_loss, [PREDICTIONS, TARGETS]),
    "l1_loss": (lambda a, b: F.l1_loss(a, b, reduction="sum"),
                lambda a, b: TF.l1_loss(a, b, reduction="sum"), [PREDICTIONS, TARGETS]),
    "huber_loss": (lambda a, b: F.huber_loss(a, b, delta=0.5),
                   lambda a, b: TF.huber_loss(a, b, delta=0.5), [PREDICTIONS, TARGETS]),
    "binary_cross_entropy": (lambda p: F.binary_cross_entropy(p, cr.tensor(BINARY)),
                             lambda p: TF.binary_cross_entropy(p, targets(BINARY)), [PROBABILITIES]),
    "bce_with_logits": (lambda z: F.binary_cross_entropy_with_logits(z, cr.tensor(BINARY)),
                        lambda z: TF.binary_cross_entropy_with_logits(z, targets(BINARY)),
                        [PREDICTIONS * 3]),
    "bce_with_logits_pos_weight": (
        lambda z: F.binary_cross_entropy_with_logits(z, cr.tensor(BINARY), pos_weight=2.0),
        lambda z: TF.binary_cross_entropy_with_logits(z, targets(BINARY),
                                                      pos_weight=torch.tensor(2.0, dtype=torch.float64)),
        [PREDICTIONS]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_matches_pytorch(name):
    ours, theirs, arrays = CASES[name]
    check_op(ours, theirs, arrays)


def test_cross_entropy_is_stable_at_large_logits():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]])
    ours = cr.tensor(z, requires_grad=True)
    loss = F.cross_entropy(ours, np.array([1, 1]))
    loss.backward()
    theirs = torch.tensor(z, requires_grad=True)
    expected = TF.cross_entropy(theirs, torch.tensor([1, 1]))
    expected.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(expected.item())
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.cross_entropy(cr.zeros(2, 3), np.array([0, 3])), IndexError, ["target 3", "3 classes"]),
    (lambda: F.cross_entropy(cr.zeros(2, 3), np.array([0.5, 1.0])), ValueError, ["probability targets", "(2, 3)", "(2,)"]),
    (lambda: F.cross_entropy(cr.zeros(3), np.array([0])), ValueError, ["(N, C)", "(3,)"]),
    (lambda: F.cross_entropy(cr.zeros(2, 3), np.array([0, 1]), reduction="avg"), ValueError, ["'avg'"]),
    (lambda: F.cross_entropy(cr.zeros(2, 3), np.array([0, 1]), label_smoothing=2), ValueError, ["[0, 1]"]),
    (lambda: F.mse_loss(cr.zeros(2, 3), cr.zeros(3, 2)), ValueError, ["(2, 3)", "(3, 2)"]),
    (lambda: F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0])), ValueError, ["[0, 1]", "logits"]),
    (lambda: F.huber_loss(cr.zeros(1), cr.zeros(1), delta=0), ValueError, ["delta"]),
])
def test_loss_errors_name_the_problem(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)
