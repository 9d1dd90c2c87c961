"""Schedules that scale the rate by a factor per epoch: lambdas, steps, linear and polynomial.

Each is chainable, as in PyTorch: ``get_lr`` scales the rate now in the
group, so a rate changed from outside carries on; ``_get_closed_form_lr``
computes the same rate from ``base_lrs`` for a jump to an epoch.
"""

import numbers
from bisect import bisect_right
from collections import Counter

from chainrule.optim.optimizer import Optimizer
from chainrule.optim.scheduler import LRScheduler, check_real, is_integer

__all__ = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "PolynomialLR"]


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(last_epoch); one function, or one per param group.

    The functions are not part of ``state_dict()``: pass them again when rebuilding.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _functions(type(self).__name__, optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * f(self.last_epoch) for f, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(LRScheduler):
    """lr_t = lr_{t-1} * lr_lambda(t): each epoch multiplies the rate by the function's value."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _functions(type(self).__name__, optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * f(self.last_epoch) for f, lr in zip(self.lr_lambdas, self._current_lrs())]


class StepLR(LRScheduler):
    """Decay by gamma every step_size epochs: initial_lr * gamma ** (last_epoch // step_size)."""

    _state_attributes = ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not is_integer(step_size) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        check_real("StepLR", "gamma", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Decay by gamma at each milestone: initial_lr * gamma ** (milestones passed).

    A milestone listed n times decays by gamma ** n there, as in PyTorch
    (``milestones`` is kept as a ``collections.Counter``; ``state_dict()``
    holds it as a sorted list).
    """

    _state_attributes = ("milestones", "gamma")

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        try:
            epochs = list(milestones)
        except TypeError:
            epochs = None
        if epochs is None or not all(is_integer(epoch) for epoch in epochs):
            raise TypeError(f"MultiStepLR: milestones must be an iterable of integer epochs, got "
                            f"{milestones!r}")
        check_real("MultiStepLR", "gamma", gamma)
        self.milestones = Counter(epochs)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base_lr in self.base_lrs]

    def state_dict(self):
        """As ``LRScheduler.state_dict``, the milestones as a sorted list (plain values)."""
        saved = super().state_dict()
        saved["milestones"] = sorted(self.milestones.elements())
        return saved

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.milestones = Counter(self.milestones)


class ConstantLR(LRScheduler):
    """lr = initial_lr * factor for the first total_iters epochs, then initial_lr."""

    _state_attributes = ("factor", "total_iters")

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        check_real("ConstantLR", "factor", factor)
        if factor > 1.0 or factor < 0:
            raise ValueError(f"ConstantLR: Constant multiplicative factor expected to be between 0 "
                             f"and 1, got factor={factor!r}")
        _check_iterations("ConstantLR", total_iters)
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """The factor goes linearly from start_factor to end_factor over total_iters epochs.

    lr_t = initial_lr * (s + (e - s) * min(t, T) / T), computed, as in PyTorch,
    recursively from the rate now in the group::

        lr_t = lr_{t-1} * (1 + (e - s) / (T * s + (t - 1) * (e - s)))
    """

    _state_attributes = ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        check_real("LinearLR", "start_factor", start_factor)
        check_real("LinearLR", "end_factor", end_factor)
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(f"LinearLR: Starting multiplicative factor expected to be greater "
                             f"than 0 and less or equal to 1, got start_factor={start_factor!r}")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError(f"LinearLR: Ending multiplicative factor expected to be between 0 "
                             f"and 1, got end_factor={end_factor!r}")
        _check_iterations("LinearLR", total_iters)
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current_lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        change = self.end_factor - self.start_factor
        factor = 1.0 + change / (self.total_iters * self.start_factor
                                 + (self.last_epoch - 1) * change)
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        fraction = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor) * fraction)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = initial_lr * gamma ** last_epoch: decay by gamma every epoch."""

    _state_attributes = ("gamma",)

    def __init__(self, optimizer, gamma, last_epoch=-1):
        check_real("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = initial_lr * (1 - min(t, T) / T) ** power: to zero over total_iters epochs T.

    Computed, as in PyTorch, recursively from the rate now in the group::

        lr_t = lr_{t-1} * ((1 - t / T) / (1 - (t - 1) / T)) ** power   (t <= T)
    """

    _state_attributes = ("total_iters", "power")

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        _check_iterations("PolynomialLR", total_iters)
        check_real("PolynomialLR", "power", power)
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        decay = ((1.0 - self.last_epoch / self.total_iters)
                 / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [lr * decay for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        remaining = 1.0 - min(self.total_iters, self.last_epoch) / self.total_iters
        return [base_lr * remaining**self.power for base_lr in self.base_lrs]


def _functions(name, optimizer, lr_lambda):
    """One function per param group: ``lr_lambda`` repeated, or its list checked."""
    groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 1
    functions = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
    if len(functions) != groups:
        raise ValueError(f"{name}: expected {groups} lr_lambdas (one per param group), "
                         f"got {len(functions)}")
    for function in functions:
        if not callable(function):
            raise TypeError(f"{name}: lr_lambda must be a function of the epoch, got "
                            f"{type(function).__name__}")
    return functions


def _check_iterations(name, total_iters):
    if not isinstance(total_iters, numbers.Real) or isinstance(total_iters, bool) or \
            not total_iters >= 0:
        raise ValueError(f"{name}: total_iters must be a number of epochs >= 0, got "
                         f"{total_iters!r}")
