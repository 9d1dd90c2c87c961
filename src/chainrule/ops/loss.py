"""Loss functions, as in ``torch.nn.functional``.

All but one are compositions of primitives and need no backward of their
own. ``cross_entropy`` is fused: log-softmax and the weighted pick of the
targets in one node, forward ``sum_c q_c (logsumexp(z) - z_c)`` for a target
distribution q, backward ``softmax(z) * sum(q) - q``, itself one op
(``CrossEntropyGrad``) that reuses the forward's probabilities. One node
instead of five each way (docs/benchmarks.md has the measurement).
"""

import numpy as np

from chainrule.autograd.function import Function
from chainrule.ops.elementwise import abs, clamp, exp, log, relu, where
from chainrule.tensor import Tensor

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("mean", "sum", "none")


class CrossEntropy(Function):
    """Row losses sum_c q_ic (logsumexp(z_i) - z_ic), reduced by row weights w_i.

    d/dz_i = w_i (softmax(z_i) sum_c q_ic - q_i).  For class indices q_i is
    one-hot (smoothed by ``label_smoothing``), and ignored rows weigh 0.
    """

    @staticmethod
    def forward(ctx, logits, target_distribution, row_weights, reduction):
        z = logits.data
        shifted = z - z.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        sums = exp.sum(axis=1, keepdims=True)
        q = target_distribution
        q_mass = q.sum(axis=1)
        row_losses = np.log(sums[:, 0]) * q_mass - (q * shifted).sum(axis=1)
        ctx.save_for_backward(logits)
        ctx.reduction = reduction
        ctx.probabilities = exp / sums if ctx._recording else None
        # d/dz = softmax(z) * scale - target_part, both constants of this batch
        ctx.scale = (row_weights * q_mass).astype(z.dtype)[:, None]
        ctx.target_part = (q * row_weights[:, None]).astype(z.dtype)
        if reduction == "none":
            return (row_losses * row_weights).astype(z.dtype, copy=False)
        return np.asarray((row_losses * row_weights).sum(), dtype=z.dtype)

    @staticmethod
    def backward(ctx, grad):
        (logits,) = ctx.saved_tensors
        grad = grad.reshape(-1, 1) if ctx.reduction == "none" else grad
        d_logits = CrossEntropyGrad.apply(logits, grad, ctx.probabilities, ctx.scale,
                                          ctx.target_part)
        return d_logits, None, None, None


class CrossEntropyGrad(Function):
    """G = (softmax(z) * scale - target_part) * g: cross-entropy's gradient as one op.

    Its own derivatives, for gradients of gradients: with upstream U,
    d/dz = p * (V - sum_c V p) for V = U * scale * g (the softmax Jacobian),
    and d/dg = (p * scale - target_part) * U, summed to g's shape.
    """

    @staticmethod
    def forward(ctx, logits, grad, probabilities, scale, target_part):
        ctx.save_for_backward(logits, grad)
        ctx.scale, ctx.target_part = scale, target_part
        return (probabilities * scale - target_part) * grad.data

    @staticmethod
    def backward(ctx, upstream):
        from chainrule.ops.nn import softmax  # nn ops build on this module's neighbours

        logits, grad = ctx.saved_tensors
        needs_logits, needs_grad = ctx.needs_input_grad[:2]
        p = softmax(logits, dim=1)
        d_logits = d_grad = None
        if needs_logits:
            v = upstream * ctx.scale * grad
            d_logits = p * (v - (v * p).sum(1, keepdim=True))
        if needs_grad:
            d_grad = (p * ctx.scale - ctx.target_part) * upstream
        return d_logits, d_grad, None, None, None


def cross_entropy(input, target, reduction="mean", ignore_index=-100, label_smoothing=0.0):
    """Cross-entropy of logits (N, C) against class indices (N,) or probabilities (N, C)."""
    _check_reduction(reduction, "cross_entropy")
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C), got {tuple(input.shape)}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    n, classes = input.shape
    target = target.data if isinstance(target, Tensor) else np.asarray(target)
    if target.dtype.kind == "f":  # class probabilities
        if target.shape != input.shape:
            raise ValueError(
                f"cross_entropy: probability targets must have the logits' shape "
                f"{tuple(input.shape)}, got {tuple(target.shape)}"
            )
        q = target * (1 - label_smoothing) + label_smoothing / classes
        weights = np.full(n, 1.0 / n if reduction == "mean" else 1.0)
        return CrossEntropy.apply(input, q, weights, reduction)
    if target.shape != (n,) or target.dtype.kind not in "iu":
        raise ValueError(
            f"cross_entropy: target must be class indices of shape ({n},) or probabilities of "
            f"shape ({n}, {classes}), got shape {tuple(target.shape)} and dtype {target.dtype}"
        )
    if n and (target.min() < 0 or target.max() >= classes):  # ignored rows, or a bad index
        keep = target != ignore_index
        out_of_range = keep & ((target < 0) | (target >= classes))
        if out_of_range.any():
            raise IndexError(
                f"cross_entropy: target {target[out_of_range][0]} is out of range for {classes} "
                f"classes (expected 0 to {classes - 1}, or ignore_index={ignore_index})"
            )
        kept = int(keep.sum())
    else:  # the common case: every row counts
        keep, kept = None, n
    q = np.zeros((n, classes)) if not label_smoothing else np.full((n, classes), label_smoothing / classes)
    rows = np.arange(n) if keep is None else np.flatnonzero(keep)
    q[rows, target[rows]] += 1 - label_smoothing
    weights = np.ones(n) if keep is None else keep.astype(np.float64)
    if keep is not None:
        q[~keep] = 0
    if reduction == "mean":
        weights /= kept if kept else np.nan  # all ignored: nan, as in PyTorch
    return CrossEntropy.apply(input, q, weights, reduction)


def nll_loss(input, target, reduction="mean", ignore_index=-100):
    """-input[i, target_i] averaged over the rows: the loss on log-probabilities (N, C)."""
    _check_reduction(reduction, "nll_loss")
    target = target.data if isinstance(target, Tensor) else np.asarray(target)
    if input.ndim != 2 or target.shape != input.shape[:1]:
        raise ValueError(
            f"nll_loss: expected input (N, C) and target (N,), got {tuple(input.shape)} and "
            f"{tuple(target.shape)}"
        )
    keep = target != ignore_index
    if (keep & ((target < 0) | (target >= input.shape[1]))).any():
        raise IndexError(f"nll_loss: a target is out of range for {input.shape[1]} classes")
    pick = np.zeros(input.shape, dtype=input.dtype)
    rows = np.flatnonzero(keep)
    pick[rows, target[rows]] = 1
    row_losses = -(input * pick).sum(1)
    if reduction == "none":
        return row_losses
    if reduction == "sum":
        return row_losses.sum()
    return row_losses.sum() / int(keep.sum())


def mse_loss(input, target, reduction="mean"):
    """(input - target)**2, reduced."""
    return _reduce((input - target) ** 2, reduction, "mse_loss", input, target)


def l1_loss(input, target, reduction="mean"):
    """|input - target|, reduced."""
    return _reduce(abs(input - target), reduction, "l1_loss", input, target)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """d**2 / 2 where |d| < delta, else delta (|d| - delta / 2), for d = input - target."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = input - target
    size = abs(d)
    loss = where(size < delta, 0.5 * d * d, delta * (size - 0.5 * delta))
    return _reduce(loss, reduction, "huber_loss", input, target)


def binary_cross_entropy(input, target, reduction="mean"):
    """-(y log p + (1 - y) log(1 - p)), each log clamped at -100 as PyTorch does."""
    data = input.data
    if ((data < 0) | (data > 1)).any():
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1]; "
                         "for logits use binary_cross_entropy_with_logits")
    loss = -(target * clamp(log(input), min=-100) + (1 - target) * clamp(log(1 - input), min=-100))
    return _reduce(loss, reduction, "binary_cross_entropy", input, target)


def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None):
    """BCE of sigmoid(z), computed stably as max(z, 0) - z y + log(1 + e**-|z|).

    With ``pos_weight`` p: (1 - y) z + (1 + (p - 1) y) (log(1 + e**-|z|) + max(-z, 0)).
    """
    softplus_neg = log(1 + exp(-abs(input))) + relu(-input)  # log(1 + e**-z), stably
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits", input, target)


def _reduce(loss, reduction, op, input, target):
    _check_reduction(reduction, op)
    if isinstance(target, Tensor) and target.shape != input.shape:
        raise ValueError(
            f"{op}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} "
            "differ; they must be equal"
        )
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


METHODS = {}
