"""Learning-rate schedules, as ``torch.optim.lr_scheduler``.

A scheduler rewrites ``group["lr"]`` of each of its optimizer's param groups
each time ``step()`` is called (once per epoch, or per batch for
OneCycleLR), after ``optimizer.step()``. ``last_epoch`` counts the calls; the
constructor makes the first one (``last_epoch`` becomes 0) and records each
group's starting rate as ``group["initial_lr"]``.

    >>> import chainrule as cr
    >>> from chainrule.optim import SGD
    >>> optimizer = SGD([cr.tensor([1.0], requires_grad=True)], lr=0.1)
    >>> scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(scheduler.get_last_lr()[0])
    ...     optimizer.step()
    ...     scheduler.step()
    >>> lrs
    [0.1, 0.1, 0.05, 0.05, 0.025]

As in PyTorch, most schedules are chainable: each step scales the rate now in
the group, so a rate changed from outside carries on. ``state_dict()`` holds
numbers, bools, strings and lists of numbers only (never functions).
"""

import math
import numbers

from chainrule.optim.optimizer import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "ExponentialLR", "CosineAnnealingLR",
           "OneCycleLR"]


class LRScheduler:
    """Base class: subclasses implement ``get_lr()``, the rates for ``last_epoch``."""

    # Attributes of a subclass that ``state_dict`` saves, beside the counters and rates.
    _state_attributes = ()

    def __init__(self, optimizer, last_epoch=-1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            missing = [i for i, group in enumerate(optimizer.param_groups)
                       if "initial_lr" not in group]
            if missing:
                raise ValueError(
                    f"{name}: resuming with last_epoch={last_epoch} needs 'initial_lr' in every "
                    f"param group, but groups {missing} have none; load the optimizer's state "
                    "dict first, or start with last_epoch=-1"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The rates of the param groups for epoch ``last_epoch``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr")

    def get_last_lr(self):
        """The rates the last ``step()`` set, one per param group."""
        return list(self._last_lr)

    def step(self):
        """Advance one epoch and set each group's ``lr``; on an error nothing changes."""
        self._step_count += 1
        self.last_epoch += 1
        try:
            lrs = self.get_lr()
        except Exception:
            self._step_count -= 1
            self.last_epoch -= 1
            raise
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    # ----------------------------------------------------------- save, load

    def _saved_names(self):
        return ("last_epoch", "_step_count", "base_lrs", "_last_lr") + self._state_attributes

    def state_dict(self):
        """The schedule's counters and settings, as plain values (a copy)."""
        return {name: _copy(getattr(self, name)) for name in self._saved_names()}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``; a ValueError lists every mismatch and changes nothing."""
        names = set(self._saved_names())
        problems = []
        if not isinstance(state_dict, dict):
            problems.append(f"expected a dict, got {type(state_dict).__name__}")
        else:
            if names - set(state_dict):
                problems.append(f"missing entries {sorted(names - set(state_dict))}")
            if set(state_dict) - names:
                problems.append(f"unknown entries {sorted(set(state_dict) - names)}")
            groups = len(self.optimizer.param_groups)
            for key in ("base_lrs", "_last_lr"):
                if key in state_dict and len(state_dict[key]) != groups:
                    problems.append(f"{key} has {len(state_dict[key])} rates, the optimizer has "
                                    f"{groups} param groups")
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + "; ".join(problems))
        for name in self._saved_names():
            setattr(self, name, _copy(state_dict[name]))


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(last_epoch); one function, or one per param group.

    The functions are not part of ``state_dict()``: pass them again when rebuilding.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 1
        if isinstance(lr_lambda, (list, tuple)):
            functions = list(lr_lambda)
        else:
            functions = [lr_lambda] * groups
        if len(functions) != groups:
            raise ValueError(f"LambdaLR: expected {groups} lr_lambdas (one per param group), "
                             f"got {len(functions)}")
        for function in functions:
            if not callable(function):
                raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch, got "
                                f"{type(function).__name__}")
        self.lr_lambdas = functions
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * f(self.last_epoch) for f, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class StepLR(LRScheduler):
    """Decay by gamma every step_size epochs: initial_lr * gamma ** (last_epoch // step_size)."""

    _state_attributes = ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not _is_integer(step_size) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        _check_real("StepLR", "gamma", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """lr = initial_lr * gamma ** last_epoch: decay by gamma every epoch."""

    _state_attributes = ("gamma",)

    def __init__(self, optimizer, gamma, last_epoch=-1):
        _check_real("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from initial_lr down to eta_min over T_max epochs (no restarts).

    lr_t = eta_min + (initial_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2, computed,
    as in PyTorch, recursively from the rate now in the group::

        lr_t = eta_min + (lr_{t-1} - eta_min) * c_t / c_{t-1},   c_t = 1 + cos(pi * t / T_max)

    Past T_max the rate climbs back up (the cosine continues), as in PyTorch.
    """

    _state_attributes = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not _is_integer(T_max) or T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max!r}")
        _check_real("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if (t - 1 - T) % (2 * T) == 0:  # at the bottom, where the recursion would divide by 0
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base_lr in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2017): warm up to max_lr, then anneal far below the start.

    Called once per batch, for ``total_steps`` (or ``epochs * steps_per_epoch``)
    steps. The rate goes from initial_lr = max_lr / div_factor up to max_lr
    over the first ``pct_start`` of the steps, then down to min_lr =
    initial_lr / final_div_factor; with ``three_phase`` it first comes back
    to initial_lr, symmetrically, then anneals to min_lr. Each phase
    interpolates by ``anneal_strategy``: "cos", start + (end - start) *
    (1 - cos(pi * pct)) / 2, or "linear". With ``cycle_momentum`` the momentum
    (SGD's and RMSprop's ``momentum``, Adam's beta1) moves the other way,
    between max_momentum and base_momentum.
    """

    _state_attributes = ("total_steps", "pct_start", "anneal_strategy", "three_phase",
                         "cycle_momentum", "use_beta1")

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: expected an Optimizer, got {type(optimizer).__name__}")
        if total_steps is not None:
            if not _is_integer(total_steps) or total_steps <= 0:
                raise ValueError(
                    f"OneCycleLR: Expected positive integer total_steps, but got {total_steps}")
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not _is_integer(value) or value <= 0:
                    raise ValueError(
                        f"OneCycleLR: Expected positive integer {name}, but got {value}")
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(
                "OneCycleLR: You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not (isinstance(pct_start, numbers.Real) and 0 <= pct_start <= 1):
            raise ValueError(
                f"OneCycleLR: Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', "
                             f"instead got {anneal_strategy!r}")
        use_beta1 = "betas" in optimizer.defaults
        if cycle_momentum and not use_beta1 and "momentum" not in optimizer.defaults:
            raise ValueError(
                f"OneCycleLR: optimizer must support momentum or beta1 with `cycle_momentum` "
                f"option enabled; {type(optimizer).__name__} has neither, pass cycle_momentum=False"
            )
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        max_momentums = _per_group("max_momentum", optimizer, max_momentum)
        base_momentums = _per_group("base_momentum", optimizer, base_momentum)

        self.total_steps = total_steps
        self.pct_start = pct_start
        self.anneal_strategy = anneal_strategy
        self.three_phase = bool(three_phase)
        self.cycle_momentum = bool(cycle_momentum)
        self.use_beta1 = use_beta1
        if last_epoch == -1:
            for group, top, high, low in zip(optimizer.param_groups, max_lrs, max_momentums,
                                             base_momentums):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
                if self.cycle_momentum:
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _phases(self):
        """(last step, start key, end key, start momentum key, end momentum key) per phase."""
        rise = float(self.pct_start * self.total_steps) - 1
        fall = float(2 * self.pct_start * self.total_steps) - 2
        last = self.total_steps - 1
        if self.three_phase:
            return [(rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                    (fall, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                    (last, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        return [(rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (last, "max_lr", "min_lr", "base_momentum", "max_momentum")]

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: Tried to step {step} times. The specified number of total steps "
                f"is {self.total_steps}"
            )
        phases = self._phases()
        lrs, momentums = [], []
        for group in self.optimizer.param_groups:
            phase_start = 0.0
            for i, (end_step, lr_from, lr_to, momentum_from, momentum_to) in enumerate(phases):
                if step <= end_step or i == len(phases) - 1:
                    pct = (step - phase_start) / (end_step - phase_start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        momentums.append(
                            self._anneal(group[momentum_from], group[momentum_to], pct))
                    break
                phase_start = end_step
        for group, momentum in zip(self.optimizer.param_groups, momentums):
            self._set_momentum(group, momentum)
        return lrs

    def _set_momentum(self, group, momentum):
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum


def _per_group(name, optimizer, value):
    """``value`` for each param group: a list of one per group, or one value for all."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(
                f"OneCycleLR: {name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(value)} values, param_groups has {groups}."
            )
        return list(value)
    return [value] * groups


def _is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_real(scheduler, name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(
            f"{scheduler}: {name} must be a real number, got {type(value).__name__} {value!r}")


def _copy(value):
    return list(value) if isinstance(value, list) else value
