"""Cosine schedules: annealing (with warm restarts) and the one-cycle policy."""

import math
import numbers

from chainrule.optim.scheduler import LRScheduler, check_optimizer, check_real, is_integer

__all__ = ["CosineAnnealingLR", "CosineAnnealingWarmRestarts", "OneCycleLR"]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from initial_lr down to eta_min over T_max epochs (no restarts).

    lr_t = eta_min + (initial_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2, computed,
    as in PyTorch, recursively from the rate now in the group::

        lr_t = eta_min + (lr_{t-1} - eta_min) * c_t / c_{t-1},   c_t = 1 + cos(pi * t / T_max)

    Past T_max the rate climbs back up (the cosine continues), as in PyTorch.
    """

    _state_attributes = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not is_integer(T_max) or T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max!r}")
        check_real("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:  # as torch, the first step after a jump
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                    for base_lr in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:  # at the bottom, where the recursion would divide by 0
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base_lr in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing from initial_lr to eta_min, restarting every T_i epochs (SGDR).

    lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, where
    T_cur counts the epochs since the last restart and T_i, the length of the
    current cycle, starts at T_0 and is multiplied by T_mult at each restart
    (Loshchilov & Hutter, 2016). ``step(epoch)`` may be given a fractional
    epoch (stepping once per batch: ``step(epoch + i / iters)``).
    """

    _state_attributes = ("T_0", "T_i", "T_mult", "eta_min", "T_cur")

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        name = "CosineAnnealingWarmRestarts"
        if not is_integer(T_0) or T_0 <= 0:
            raise ValueError(f"{name}: Expected positive integer T_0, but got {T_0!r}")
        if not is_integer(T_mult) or T_mult < 1:
            raise ValueError(f"{name}: Expected integer T_mult >= 1, but got {T_mult!r}")
        if not isinstance(eta_min, (float, int)) or isinstance(eta_min, bool):
            raise ValueError(f"{name}: Expected float or int eta_min, but got {eta_min!r} of type "
                             f"{type(eta_min).__name__}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """One epoch on (restarting at the end of a cycle), or to ``epoch``, fractions allowed."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if not isinstance(epoch, numbers.Real) or epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts.step: Expected non-negative "
                                 f"epoch, but got {epoch!r}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** (n)
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._current_lrs()


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
        check_optimizer("OneCycleLR", optimizer)
        if total_steps is not None:
            if not is_integer(total_steps) or total_steps <= 0:
                raise ValueError(
                    f"OneCycleLR: Expected positive integer total_steps, but got {total_steps}")
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not is_integer(value) or value <= 0:
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
