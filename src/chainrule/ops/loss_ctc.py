"""``ctc_loss``: the connectionist temporal classification loss, as ``torch.nn.functional``.

For each sequence b, -log of the total probability of every alignment of
its target labels to the ``T_b`` time steps (labels repeated, blanks in
between), computed by the forward (alpha) recursion over the labels
extended with blanks, l' = (blank, l1, blank, l2, ..., blank):

    alpha_t(s) = lp_t(l'_s) + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1),
                                        alpha_{t-1}(s-2) if l'_s != blank and l'_s != l'_{s-2})

and the backward (beta) recursion for the gradient. All of it runs on
whole batches of arrays, one time step at a time.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> lp = cr.full((1, 1, 2), 0.5).log()
    >>> round(F.ctc_loss(lp, cr.tensor([[1]]), [1], [1]).item(), 4)
    0.6931
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module, backend_of
from chainrule.registry import register
from chainrule.tensor import Tensor

__all__ = []  # the op is registered


def _logsumexp(*arrays):
    out = arrays[0]
    for a in arrays[1:]:
        out = np.logaddexp(out, a)
    return out


class CTCLoss(Function):
    """nll_b = -log sum over alignments of prod_t p_t(label);  d/dlp_t(c) = exp(lp_t(c)) -
    exp(log sum_{s: l'_s = c} alpha_t(s) beta_t(s) + nll - lp_t(c)) for t < T_b, else 0.

    NOTE: this is PyTorch's gradient, which includes exp(lp) (the gradient
    as if log_probs came from a log_softmax, whose backward then leaves it
    unchanged); it is a constant times the incoming gradient, so, as in
    PyTorch (whose ``_ctc_loss_backward`` has no derivative), there is no
    true second derivative.
    """

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        backend = backend_of(log_probs.array)
        lp = backend.to_host(log_probs.array)  # (T, N, C)
        steps, batch, classes = lp.shape
        extended_length = 2 * (int(target_lengths.max()) if batch else 0) + 1
        ext = np.full((batch, extended_length), blank, dtype=np.int64)
        for b in range(batch):
            labels = targets[b][:target_lengths[b]]
            ext[b, 1:2 * len(labels):2] = labels
        lengths = 2 * target_lengths + 1
        positions = np.arange(extended_length)
        skip = np.zeros((batch, extended_length), dtype=bool)
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        minus_inf = np.full((batch, extended_length), -np.inf)
        emit = np.take_along_axis(lp, np.broadcast_to(ext[None], (steps,) + ext.shape), axis=2)

        alpha = np.full((steps, batch, extended_length), -np.inf)
        if steps:
            alpha[0, :, 0] = emit[0, :, 0]
            has_label = target_lengths > 0
            alpha[0, has_label, 1] = emit[0, has_label, 1]
        with np.errstate(invalid="ignore"):
            for t in range(1, steps):
                prev = alpha[t - 1]
                one = np.concatenate([minus_inf[:, :1], prev[:, :-1]], axis=1)
                two = np.where(skip, np.concatenate([minus_inf[:, :2], prev[:, :-2]], axis=1),
                               -np.inf)
                alpha[t] = emit[t] + _logsumexp(prev, one, two)
            rows = np.arange(batch)
            last = np.maximum(input_lengths - 1, 0)
            end = alpha[last, rows, lengths - 1]
            before_end = np.where(lengths >= 2, alpha[last, rows, np.maximum(lengths - 2, 0)],
                                  -np.inf)
            nll = -np.logaddexp(end, before_end)
        infinite = np.isinf(nll)
        ctx.grad_lp = None
        if ctx._recording:
            beta = np.full((steps, batch, extended_length), -np.inf)
            with np.errstate(invalid="ignore"):
                for t in range(steps - 1, -1, -1):
                    following = beta[t + 1] if t + 1 < steps else minus_inf
                    one = np.concatenate([following[:, 1:], minus_inf[:, :1]], axis=1)
                    two = np.concatenate([np.where(skip, following, -np.inf)[:, 2:],
                                          minus_inf[:, :2]], axis=1)
                    beta[t] = emit[t] + _logsumexp(following, one, two)
                    starts = input_lengths - 1 == t
                    beta[t, starts] = np.where(
                        (positions[None, :] == lengths[starts, None] - 1)
                        | (positions[None, :] == lengths[starts, None] - 2),
                        emit[t, starts], -np.inf)
                    beta[t, input_lengths - 1 < t] = -np.inf
                occupancy = np.exp(alpha + beta + nll[None, :, None])  # (T, N, S')
                occupancy = np.nan_to_num(occupancy)
                by_class = np.zeros((steps, batch, classes))
                for b in range(batch):
                    np.add.at(by_class[:, b], (slice(None), ext[b, :lengths[b]]),
                              occupancy[:, b, :lengths[b]])
                with np.errstate(divide="ignore"):
                    grad = np.exp(lp) - np.exp(np.log(by_class) - lp)
            grad[np.arange(steps)[:, None] >= input_lengths[None, :]] = 0
            if zero_infinity:
                grad[:, infinite] = 0
            ctx.grad_lp = backend.asarray(grad, dtype=log_probs.dtype)
        if zero_infinity:
            nll = np.where(infinite, 0.0, nll)
        return backend.asarray(nll, dtype=log_probs.dtype)

    @staticmethod
    def backward(ctx, grad):
        return Tensor._make(ctx.grad_lp, False, None) * grad.reshape(1, -1, 1)


def _integers(values, name, like):
    array = values.array if isinstance(values, Tensor) else np.asarray(values)
    array = backend_of(like.array).to_host(array) if isinstance(values, Tensor) else array
    if array.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss: {name} must hold integers, got dtype {array.dtype}")
    return np.asarray(array, dtype=np.int64)


@register("nn.functional")
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """-log p(target | log_probs), summed over alignments, per sequence, then reduced.

    ``log_probs`` (T, N, C) (or (T, C) for one sequence) are log-softmax
    outputs; ``targets`` (N, S) padded or 1-d concatenated; the lengths are
    sequences or tensors of N integers. "mean" divides each loss by its
    target length (at least 1), then averages over the batch.
    ``zero_infinity`` makes impossible alignments' losses (and gradients) 0.
    """
    if not isinstance(log_probs, Tensor):
        raise TypeError(f"ctc_loss: log_probs must be a Tensor, got {type(log_probs).__name__}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"ctc_loss: reduction must be 'mean', 'sum' or 'none', got "
                         f"{reduction!r}")
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got shape "
                           f"{tuple(log_probs.shape)}")
    steps, batch, classes = lp.shape
    flat_targets = _integers(targets, "targets", log_probs)
    input_lengths = _integers(input_lengths, "input_lengths", log_probs).reshape(-1)
    target_lengths = _integers(target_lengths, "target_lengths", log_probs).reshape(-1)
    if unbatched:
        flat_targets = flat_targets.reshape(1, -1)
    if input_lengths.shape != (batch,) or target_lengths.shape != (batch,):
        raise RuntimeError(f"ctc_loss: expected {batch} input and target lengths, got "
                           f"{input_lengths.shape[0]} and {target_lengths.shape[0]}")
    if (input_lengths > steps).any() or (input_lengths < 0).any():
        raise RuntimeError(f"ctc_loss: input lengths must be between 0 and {steps}, got "
                           f"{input_lengths.tolist()}")
    if flat_targets.ndim == 1:
        starts = np.concatenate([[0], np.cumsum(target_lengths)])
        per_sequence = [flat_targets[starts[b]:starts[b + 1]] for b in range(batch)]
    else:
        if (target_lengths > flat_targets.shape[1]).any():
            raise RuntimeError(f"ctc_loss: target lengths {target_lengths.tolist()} exceed the "
                               f"padded targets' length {flat_targets.shape[1]}")
        per_sequence = list(flat_targets)
    for labels, length in zip(per_sequence, target_lengths):
        used = labels[:length]
        if used.size and (used.min() < 0 or used.max() >= classes or (used == blank).any()):
            raise RuntimeError(f"ctc_loss: target labels must be in [0, {classes}) and not the "
                               f"blank {blank}, got {used.tolist()}")
    losses = CTCLoss.apply(lp, targets=per_sequence, input_lengths=input_lengths,
                           target_lengths=target_lengths, blank=blank,
                           zero_infinity=zero_infinity)
    if reduction == "none":
        return losses.reshape(()) if unbatched else losses
    if reduction == "sum":
        return losses.sum()
    xp = array_module(lp.array)
    divisors = xp.asarray(np.maximum(target_lengths, 1), dtype=lp.dtype)
    return (losses / Tensor._make(divisors, False, None)).mean()
