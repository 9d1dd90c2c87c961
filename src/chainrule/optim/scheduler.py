"""``LRScheduler``: the base of every learning-rate schedule, as ``torch.optim.lr_scheduler``.

A scheduler rewrites ``group["lr"]`` of each of its optimizer's param groups
each time ``step()`` is called, after ``optimizer.step()``. ``last_epoch``
counts the calls; the constructor makes the first one (``last_epoch``
becomes 0) and records each group's starting rate as ``group["initial_lr"]``.
A subclass writes ``get_lr()`` (the chainable rule, from the rates now in
the groups) and, where PyTorch has one, ``_get_closed_form_lr()`` (the rate
at ``last_epoch`` from ``base_lrs``, used by the deprecated ``step(epoch)``
and by ``SequentialLR`` at its milestones).
"""

import numbers
import warnings

from chainrule.optim.optimizer import Optimizer

__all__ = ["LRScheduler", "EPOCH_DEPRECATION_WARNING"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available."
)


class LRScheduler:
    """Base class: subclasses implement ``get_lr()``, the rates for ``last_epoch``."""

    # Attributes of a subclass that ``state_dict`` saves, beside the counters and rates.
    _state_attributes = ()
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        name = type(self).__name__
        check_optimizer(name, optimizer)
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
        self._initial_step()

    def _initial_step(self):
        """The constructor's step: counters from zero, ``_is_initial`` set while it runs."""
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

    def step(self, epoch=None):
        """Advance one epoch and set each group's ``lr``; on an error nothing changes.

        ``epoch`` (deprecated, as in PyTorch) jumps to that epoch, with the
        closed form where the schedule has one.
        """
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._step_count += 1
        try:
            self._update_lr(epoch)
        except Exception:
            self._step_count -= 1
            raise

    def _update_lr(self, epoch=None):
        """Set ``last_epoch`` (one more, or ``epoch``) and the rates for it."""
        previous = self.last_epoch
        if epoch is None:
            self.last_epoch += 1
            compute = self.get_lr
        else:
            self.last_epoch = epoch
            compute = getattr(self, "_get_closed_form_lr", self.get_lr)
        try:
            lrs = compute()
        except Exception:
            self.last_epoch = previous
            raise
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

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
        problems = self._state_dict_problems(state_dict)
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + "; ".join(problems))
        for name in self._saved_names():
            setattr(self, name, _copy(state_dict[name]))

    def _state_dict_problems(self, state_dict):
        if not isinstance(state_dict, dict):
            return [f"expected a dict, got {type(state_dict).__name__}"]
        names = set(self._saved_names())
        problems = []
        if names - set(state_dict):
            problems.append(f"missing entries {sorted(names - set(state_dict))}")
        if set(state_dict) - names:
            problems.append(f"unknown entries {sorted(set(state_dict) - names)}")
        groups = len(self.optimizer.param_groups)
        for key in ("base_lrs", "_last_lr", "min_lrs"):
            if key in names and key in state_dict and len(state_dict[key]) != groups:
                problems.append(f"{key} has {len(state_dict[key])} rates, the optimizer has "
                                f"{groups} param groups")
        return problems


def check_optimizer(name, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")


def is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_real(scheduler, name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(
            f"{scheduler}: {name} must be a real number, got {type(value).__name__} {value!r}")


def _copy(value):
    return list(value) if isinstance(value, list) else value
