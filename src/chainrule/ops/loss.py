"""Loss functions, as in ``torch.nn.functional``.

All but two are compositions of primitives and need no backward of their
own. ``cross_entropy`` is fused: log-softmax and the weighted pick of the
targets in one node, forward ``sum_c Q_ic (logsumexp(z_i) - z_ic)`` for
target weights Q, backward ``softmax(z) * sum_c Q - Q``, itself one op
(``CrossEntropyGrad``) that reuses the forward's probabilities. One node
instead of five each way (docs/benchmarks.md has the measurement). For
class indices Q is never built: the targets are picked by index (a gather),
so no N x C one-hot is allocated. ``binary_cross_entropy`` is a Function so
that its logs can be clamped at -100 as PyTorch's are, with PyTorch's
gradient at 0 and 1.

    >>> import chainrule as cr
    >>> logits = cr.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> round(cross_entropy(logits, cr.tensor([0, 1])).item(), 4)
    0.1269
"""

import math

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module, backend_of
from chainrule.ops.activation import log_softmax, softmax
from chainrule.ops.elementwise import abs, clamp, exp, log, relu, where
from chainrule.registry import register
from chainrule.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")
_EPSILON = float(np.float32(1e-12))  # PyTorch's floor under x (1 - x) in BCE's gradient (a float)


# ------------------------------------------------------------ cross-entropy


class ClassTargets:
    """Q_ic = alpha_i [c == t_i] + beta_i v_c: class indices, smoothed and weighted.

    ``alpha`` carries the target class's share (0 for ignored rows), ``beta``
    the label smoothing spread over the classes with class weights ``v``
    (None: all 1, and None ``beta``: no smoothing). Nothing N x C is stored.
    """

    def __init__(self, index, alpha, beta, v, classes):
        self.rows = array_module(index).arange(index.shape[0])
        self.index, self.alpha, self.beta, self.v = index, alpha, beta, v
        self.mass = alpha if beta is None else (
            alpha + beta * (v.sum() if v is not None else classes))  # m_i = sum_c Q_ic

    def dot(self, z):
        """sum_c Q_ic z_ic for an array z (N, C): one pick per row, plus the smoothing."""
        out = self.alpha * z[self.rows, self.index]
        if self.beta is not None:
            out = out + self.beta * (z @ self.v if self.v is not None else z.sum(axis=1))
        return out

    def dot_tensor(self, u):
        """sum_c Q_ic u_ic for a Tensor u (N, C), differentiably."""
        out = u[self.rows, self.index] * self.alpha
        if self.beta is not None:
            spread = (u * self.v).sum(1) if self.v is not None else u.sum(1)
            out = out + spread * self.beta
        return out

    def subtract_from(self, out, g):
        """out -= Q * g in place, for an array out (N, C) and g a 0-d or (N, 1) array."""
        g_rows = g.reshape(-1)
        out[self.rows, self.index] -= self.alpha * g_rows
        if self.beta is not None:
            spread = (self.beta * g_rows)[:, None]
            out -= spread * self.v if self.v is not None else spread


class ProbabilityTargets:
    """Q given densely: class probabilities (N, C), already smoothed, weighted and scaled."""

    def __init__(self, q):
        self.q, self.mass = q, q.sum(axis=1)

    def dot(self, z):
        return (self.q * z).sum(axis=1)

    def dot_tensor(self, u):
        return (u * self.q).sum(1)

    def subtract_from(self, out, g):
        out -= self.q * g


class CrossEntropy(Function):
    """Row losses sum_c Q_ic (logsumexp(z_i) - z_ic);  d/dz_i = softmax(z_i) sum_c Q_ic - Q_i.

    Q holds the targets with their class and row weights (``ClassTargets``
    or ``ProbabilityTargets``); ``reduction`` "none" keeps one loss per row.
    """

    @staticmethod
    def forward(ctx, logits, targets, reduction):
        z = logits.array
        xp = array_module(z)
        shifted = z - z.max(axis=1, keepdims=True)
        exps = xp.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        row_losses = xp.log(sums[:, 0]) * targets.mass - targets.dot(shifted)
        ctx.save_for_backward(logits)
        ctx.targets, ctx.reduction = targets, reduction
        ctx.probabilities = exps / sums if ctx._recording else None
        if reduction == "none":
            return row_losses.astype(z.dtype, copy=False)
        return xp.asarray(row_losses.sum(), dtype=z.dtype)

    @staticmethod
    def backward(ctx, grad):
        (logits,) = ctx.saved_tensors
        grad = grad.reshape(-1, 1) if ctx.reduction == "none" else grad
        return CrossEntropyGrad.apply(logits, grad, ctx.probabilities, ctx.targets), None, None


class CrossEntropyGrad(Function):
    """G = (p m - Q) g;  d/dz = p (V - sum_c V p) for V = U m g,  d/dg = sum (p m - Q) U.

    Cross-entropy's gradient as one op, p = softmax(z) and m = sum_c Q, and
    differentiable again: with upstream U, the softmax Jacobian gives d/dz;
    d/dg sums (p m - Q) U to g's shape (one value, or one per row for
    ``reduction="none"``).
    """

    @staticmethod
    def forward(ctx, logits, grad, probabilities, targets):
        ctx.save_for_backward(logits, grad)
        ctx.targets = targets
        g = grad.array
        out = probabilities * (targets.mass[:, None] * g)
        targets.subtract_from(out, g)
        return out

    @staticmethod
    def backward(ctx, upstream):
        logits, grad = ctx.saved_tensors
        needs_logits, needs_grad = ctx.needs_input_grad[:2]
        targets = ctx.targets
        mass = targets.mass[:, None]
        p = softmax(logits, dim=1)
        d_logits = d_grad = None
        if needs_logits:
            v = upstream * mass * grad
            d_logits = p * (v - (v * p).sum(1, keepdim=True))
        if needs_grad:
            rows = (p * upstream).sum(1) * targets.mass - targets.dot_tensor(upstream)
            d_grad = rows.reshape(-1, 1) if grad.ndim else rows.sum()
        return d_logits, d_grad, None, None


@register("nn.functional")
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits against class indices or class probabilities.

    Logits (N, C), (N, C, d1, ...) or (C,); targets the class indices (N,),
    (N, d1, ...) or (), or probabilities of the logits' shape. ``weight``
    (C,) weighs the classes; "mean" divides by the summed weight of the
    counted rows (probabilities: by the number of rows), as PyTorch.
    """
    reduction = _reduction(size_average, reduce, reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if isinstance(target, Tensor) and target.requires_grad and target.dtype.kind == "f":
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    logits, target, out_shape = _rows("cross_entropy", input, target)
    n, classes = logits.shape
    dtype = logits.dtype
    xp = array_module(logits.array)
    v = None if weight is None else _class_weights(weight, classes, dtype, "cross_entropy")
    if target.dtype.kind == "f":  # class probabilities
        q = target.astype(dtype, copy=False) * (1 - label_smoothing) + label_smoothing / classes
        if v is not None:
            q = q * v
        if reduction == "mean":
            q = q * (1 / n if n else math.nan)
        targets = ProbabilityTargets(q)
    else:
        index, keep = _class_indices("cross_entropy", target, classes, ignore_index)
        alpha = xp.full(n, 1 - label_smoothing, dtype) if keep is None else (
            keep * dtype.type(1 - label_smoothing))
        row_weights = None if v is None else v[index] if keep is None else v[index] * keep
        if row_weights is not None:
            alpha = alpha * row_weights
        beta = None
        if label_smoothing:
            beta = xp.full(n, label_smoothing / classes, dtype) if keep is None else (
                keep * dtype.type(label_smoothing / classes))
        if reduction == "mean":
            total = (row_weights.sum() if row_weights is not None
                     else n if keep is None else keep.sum())
            scale = dtype.type(1 / total if total else math.nan)  # all ignored: nan, as PyTorch
            alpha = alpha * scale
            beta = None if beta is None else beta * scale
        targets = ClassTargets(index, alpha, beta, v, classes)
    loss = CrossEntropy.apply(logits, targets, reduction)
    return loss.reshape(out_shape) if reduction == "none" else loss


def _soft_cross_entropy(input, target, weight, reduction, label_smoothing):
    """-sum_c w_c q_c log_softmax(z)_c, q = target (1 - ls) + ls / C, composed of primitives.

    The path for probability targets that require grad: the loss is then
    differentiated in the target too (-w log_softmax(z) (1 - ls)), as in PyTorch.
    """
    if not isinstance(input, Tensor) or tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"cross_entropy: probability targets must have the logits' shape "
                         f"{tuple(getattr(input, 'shape', ()))}, got {tuple(target.shape)}")
    class_dim = 1 if input.ndim > 1 else 0
    classes = input.shape[class_dim]
    q = target * (1 - label_smoothing) + label_smoothing / classes if label_smoothing else target
    terms = log_softmax(input, class_dim) * q
    if weight is not None:
        v = _class_weights(weight, classes, input.dtype, "cross_entropy")
        terms = terms * Tensor._make(v.reshape((classes,) + (1,) * (input.ndim - 2)), False,
                                     None)
    losses = -terms.sum(class_dim)
    if reduction == "mean":
        rows = input.numel() // classes if classes else 0
        return losses.sum() / rows if rows else losses.sum() * math.nan
    return losses.sum() if reduction == "sum" else losses


@register("nn.functional")
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-w_t input[i, t_i] for log-probabilities (N, C) (or (N, C, d1, ...)), reduced.

    "mean" divides by the summed class weights of the counted rows.
    Composed: one pick per row (indexing), so no backward of its own.
    """
    reduction = _reduction(size_average, reduce, reduction, "nll_loss")
    rows, target, out_shape = _rows("nll_loss", input, target)
    n, classes = rows.shape
    if target.dtype.kind not in "iu":
        raise ValueError(f"nll_loss: target must be class indices (an integer tensor), got dtype "
                         f"{target.dtype}")
    index, keep = _class_indices("nll_loss", target, classes, ignore_index)
    xp = array_module(rows.array)
    counts = xp.ones(n, rows.dtype) if keep is None else keep.astype(rows.dtype)
    if weight is not None:
        counts = counts * _class_weights(weight, classes, rows.dtype, "nll_loss")[index]
    row_losses = -rows[xp.arange(n), index] * counts
    if reduction == "none":
        return row_losses.reshape(out_shape)
    if reduction == "sum":
        return row_losses.sum()
    return row_losses.sum() / counts.sum()


# ------------------------------------------------------------ other losses


@register("nn.functional")
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)**2, reduced; with ``weight``, "mean" is sum(w loss) / sum(w)."""
    reduction = _reduction(size_average, reduce, reduction, "mse_loss")
    _check_shapes(input, target, "mse_loss")
    return _weighted((input - target) ** 2, weight, reduction, "mse_loss", input)


@register("nn.functional")
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|, reduced; with ``weight``, "mean" is sum(w loss) / sum(w)."""
    reduction = _reduction(size_average, reduce, reduction, "l1_loss")
    _check_shapes(input, target, "l1_loss")
    return _weighted(abs(input - target), weight, reduction, "l1_loss", input)


@register("nn.functional")
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """d**2 / 2 where |d| < delta, else delta (|d| - delta / 2), for d = input - target."""
    reduction = _reduction(None, None, reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    _check_shapes(input, target, "huber_loss")
    d = input - target
    size = abs(d)
    loss = where(size < delta, 0.5 * d * d, delta * (size - 0.5 * delta))
    if weight is not None:
        loss = loss * _same_shape(weight, input, "huber_loss")
    return _reduce(loss, reduction)


class BinaryCrossEntropy(Function):
    """-(y log x + (1 - y) log(1 - x)), logs >= -100;  d/dx = (x - y) / max(x (1 - x), 1e-12).

    d/dy = log(1 - x) - log(x). The logs are clamped at -100 and the
    gradient's denominator at 1e-12 (a float32, as PyTorch's), so inputs of
    exactly 0 or 1 give a finite loss and gradient. The backward is written
    in Tensor ops, so it differentiates again (as PyTorch away from 0 and 1;
    at them, the floor makes the second derivative differ, both huge).
    """

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        xp = array_module(x.array)
        y = y.array if isinstance(y, Tensor) else y
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
            log_x = xp.maximum(xp.log(x.array), -100)
            log_rest = xp.maximum(xp.log1p(-x.array), -100)
        return ((y - 1) * log_rest - y * log_x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        needs_x, needs_y = ctx.needs_input_grad
        grad_x = grad * (x - y) / clamp(x * (1 - x), min=_EPSILON) if needs_x else None
        grad_y = grad * (log(1 - x) - log(x)) if needs_y else None
        return grad_x, grad_y


@register("nn.functional")
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (y log p + (1 - y) log(1 - p)), each log clamped at -100 as PyTorch does."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy")
    data = input.array
    if ((data < 0) | (data > 1)).any():
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1]; "
                         "for logits use binary_cross_entropy_with_logits")
    _check_shapes(input, target, "binary_cross_entropy")
    if not isinstance(target, Tensor):
        target = backend_of(data).asarray(target, dtype=data.dtype)
    loss = BinaryCrossEntropy.apply(input, target)
    return _reduce(loss if weight is None else loss * weight, reduction)


@register("nn.functional")
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """BCE of sigmoid(z), computed stably as max(z, 0) - z y + log(1 + e**-|z|).

    With ``pos_weight`` p: (1 - y) z + (1 + (p - 1) y) (log(1 + e**-|z|) + max(-z, 0));
    ``weight`` multiplies each element's loss.
    """
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    _check_shapes(input, target, "binary_cross_entropy_with_logits")
    softplus_neg = log(1 + exp(-abs(input))) + relu(-input)  # log(1 + e**-z), stably
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    return _reduce(loss if weight is None else loss * weight, reduction)


# ----------------------------------------------------------------- helpers


def _rows(op, input, target):
    """Logits as rows (M, C), with C last; the targets to match; the shape of "none"'s result.

    (N, C) stays; (N, C, d1, ...) moves C last and flattens, one row per
    position; an unbatched (C,) is one row.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    target = target.array if isinstance(target, Tensor) else backend_of(input.array).asarray(target)
    shape, classes = tuple(input.shape), input.shape[1] if input.ndim > 1 else None
    if target.dtype.kind == "f" and target.shape != shape:
        raise ValueError(f"{op}: probability targets must have the logits' shape {shape}, got "
                         f"{tuple(target.shape)}")
    indices = target.dtype.kind != "f"
    if input.ndim == 1 and (not indices or target.ndim == 0):  # one unbatched row
        return input.reshape(1, -1), target.reshape(1, -1) if not indices else target.reshape(1), ()
    expected = shape[:1] + shape[2:]
    if input.ndim < 2 or (indices and tuple(target.shape) != expected):
        raise ValueError(
            f"{op}: expected logits of shape (N, C), (N, C, d1, ...) or (C,) and class indices "
            f"of shape (N,), (N, d1, ...) or () to match (or probabilities of the logits' shape), "
            f"got logits {shape} and target {tuple(target.shape)}"
        )
    if input.ndim == 2:
        return input, target, expected
    order = (0,) + tuple(range(2, input.ndim)) + (1,)
    rows = input.permute(*order).reshape(-1, classes)
    if indices:
        return rows, target.reshape(-1), expected
    return rows, array_module(target).moveaxis(target, 1, -1).reshape(-1, classes), expected


def _class_indices(op, target, classes, ignore_index):
    """The targets as safe row indices, and the mask of counted rows (None: every row counts)."""
    if target.dtype.kind not in "iu":
        raise ValueError(f"{op}: target must be class indices or probabilities, got dtype "
                         f"{target.dtype}")
    ignore_is_a_class = 0 <= ignore_index < classes
    if not target.size or (not ignore_is_a_class and target.min() >= 0
                           and target.max() < classes):
        return target, None  # the common case: every row counts
    keep = target != ignore_index
    out_of_range = keep & ((target < 0) | (target >= classes))
    if out_of_range.any():
        raise IndexError(
            f"{op}: target {target[out_of_range][0]} is out of range for {classes} classes "
            f"(expected 0 to {classes - 1}, or ignore_index={ignore_index})"
        )
    return array_module(target).where(keep, target, 0), keep


def _class_weights(weight, classes, dtype, op):
    values = weight.array if isinstance(weight, Tensor) else backend_of(weight).asarray(weight)
    if tuple(values.shape) != (classes,):
        raise ValueError(f"{op}: weight must hold one value per class, shape ({classes},), got "
                         f"{tuple(values.shape)}")
    return values.astype(dtype, copy=False)


def _reduction(size_average, reduce, reduction, op):
    """The reduction, from PyTorch's deprecated ``size_average`` and ``reduce`` where given."""
    if size_average is not None or reduce is not None:
        if reduce is False:
            return "none"
        return "sum" if size_average is False else "mean"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _check_shapes(input, target, op):
    if isinstance(target, Tensor) and target.shape != input.shape:
        raise ValueError(
            f"{op}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} "
            "differ; they must be equal"
        )


def _same_shape(weight, input, op):
    if tuple(getattr(weight, "shape", ())) != tuple(input.shape):
        raise ValueError(f"{op}: weight must have the input's shape {tuple(input.shape)}, got "
                         f"{tuple(getattr(weight, 'shape', ()))}")
    return weight


def _weighted(loss, weight, reduction, op, input):
    if weight is None:
        return _reduce(loss, reduction)
    loss = loss * _same_shape(weight, input, op)
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
