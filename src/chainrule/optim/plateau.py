"""``ReduceLROnPlateau``: cut the rate when a watched metric stops improving.

    >>> import chainrule as cr
    >>> from chainrule.optim import SGD
    >>> optimizer = SGD([cr.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> scheduler = ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    >>> lrs = []
    >>> for loss in [3.0, 2.0, 2.5, 2.5, 1.0, 1.5, 1.5]:
    ...     scheduler.step(loss)
    ...     lrs.append(scheduler.get_last_lr()[0])
    >>> lrs  # two epochs in a row without a better loss: halved
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
"""

import math
import numbers
import warnings

from chainrule.optim.scheduler import EPOCH_DEPRECATION_WARNING, LRScheduler, check_optimizer

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(LRScheduler):
    """Multiply each group's rate by ``factor`` after ``patience`` epochs without improvement.

    ``step(metrics)`` takes the metric (a number or a one-element tensor).
    It improves when it beats the best so far by the threshold: in ``"min"``
    mode, ``metric < best * (1 - threshold)`` (``"rel"``) or ``metric < best
    - threshold`` (``"abs"``); in ``"max"`` mode the other way. After more
    than ``patience`` bad epochs in a row, lr <- max(lr * factor, min_lr),
    skipped when that changes it by no more than ``eps``; then ``cooldown``
    epochs pass in which bad epochs are not counted.
    """

    _state_attributes = ("factor", "default_min_lr", "min_lrs", "patience", "cooldown", "eps",
                         "mode_worse", "mode", "threshold", "threshold_mode", "best",
                         "cooldown_counter", "num_bad_epochs")

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        name = type(self).__name__
        check_optimizer(name, optimizer)
        for option, value in (("factor", factor), ("threshold", threshold), ("eps", eps)):
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise TypeError(f"{name}: {option} must be a real number, got "
                                f"{type(value).__name__} {value!r}")
        if factor >= 1.0:
            raise ValueError(f"{name}: Factor should be < 1.0, got factor={factor!r}")
        for option, value in (("patience", patience), ("cooldown", cooldown)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}: {option} must be an integer >= 0, got {value!r}")
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(f"{name}: expected {groups} min_lrs (one per param group), got "
                                 f"{len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * groups
        self.optimizer = optimizer
        self.factor = factor
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode, threshold, threshold_mode):
        name = type(self).__name__
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode {mode!r} is unknown! Use 'min' or 'max'")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold mode {threshold_mode!r} is unknown! Use 'rel' or "
                             "'abs'")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def is_better(self, a, best):
        """Whether metric ``a`` improves on ``best`` by the threshold."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics, epoch=None):
        """Record this epoch's metric and cut the rates if it has stalled for too long."""
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"{type(self).__name__}.step: metrics must be a number or a "
                            f"one-element tensor, got {type(metrics).__name__}") from None
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self):
        groups = len(self.optimizer.param_groups)
        if groups != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"{type(self).__name__}: The number of param groups in the `optimizer` "
                    f"({groups}) differs from when `ReduceLROnPlateau` was initialized "
                    f"({len(self.min_lrs)}), usually due to a new param group being added to "
                    "the optimizer. Please modify the `min_lrs` field to match the length of the "
                    "`optimizer` param groups.")
            self.min_lrs = [self.default_min_lr] * groups
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def _saved_names(self):
        return ("last_epoch", "_last_lr") + self._state_attributes

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``; a ValueError lists every mismatch and changes nothing."""
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
