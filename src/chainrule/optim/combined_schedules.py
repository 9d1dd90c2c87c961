"""Schedules made of schedules: one after another (``SequentialLR``) or all at once
(``ChainedScheduler``), as in PyTorch.

    >>> import chainrule as cr
    >>> from chainrule.optim import SGD
    >>> from chainrule.optim.lr_scheduler import ExponentialLR, LinearLR
    >>> optimizer = SGD([cr.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> warmup = LinearLR(optimizer, start_factor=0.25, total_iters=3)
    >>> decay = ExponentialLR(optimizer, gamma=0.5)
    >>> scheduler = SequentialLR(optimizer, [warmup, decay], milestones=[3])
    >>> lrs = []
    >>> for epoch in range(6):
    ...     lrs.append(scheduler.get_last_lr()[0])
    ...     optimizer.step()
    ...     scheduler.step()
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 0.5, 0.25]
"""

from bisect import bisect_right

from chainrule.optim.plateau import ReduceLROnPlateau
from chainrule.optim.scheduler import LRScheduler, check_optimizer, is_integer

__all__ = ["SequentialLR", "ChainedScheduler"]


class SequentialLR(LRScheduler):
    """``schedulers[i]`` runs from ``milestones[i - 1]`` to ``milestones[i]``.

    At a milestone the next schedule starts over from epoch 0 (its closed
    form from its ``base_lrs``); between milestones it steps as usual. The
    constructor undoes the first step that each schedule's own constructor
    took, as PyTorch does.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        name = type(self).__name__
        check_optimizer(name, optimizer)
        schedulers = _check_schedulers(name, schedulers, optimizer)
        milestones = list(milestones)
        if not all(is_integer(m) for m in milestones):
            raise TypeError(f"{name}: milestones must be integer epochs, got {milestones!r}")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"{name}: Sequential Schedulers expects number of schedulers provided to be one "
                f"more than the number of milestone points, but got number of schedulers "
                f"{len(schedulers)} and the number of milestones to be equal to {len(milestones)}"
            )
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:  # back to the initial rates
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:  # undo the step each constructor took
            _undo_step(scheduler)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        """One epoch on: the schedule whose span holds it steps (or starts, at a milestone)."""
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        """Its own counters and each schedule's ``state_dict()`` under ``_schedulers``."""
        return {"_milestones": list(self._milestones), "last_epoch": self.last_epoch,
                "_last_lr": list(self._last_lr),
                "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict):
        _load_combined(self, state_dict, ("_milestones", "last_epoch", "_last_lr"))


class ChainedScheduler(LRScheduler):
    """Every schedule steps at each ``step()``, in order: their factors multiply.

    ``optimizer`` defaults to the first schedule's.
    """

    def __init__(self, schedulers, optimizer=None):
        name = type(self).__name__
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{name} expects at least one scheduler to be chained, but got no "
                             "scheduler.")
        optimizer = optimizer or getattr(schedulers[0], "optimizer", None)
        check_optimizer(name, optimizer)
        self._schedulers = _check_schedulers(name, schedulers, optimizer)
        self.optimizer = optimizer
        self._last_lr = self._current_lrs()

    def step(self):
        """Step every schedule, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()

    def state_dict(self):
        """``_last_lr`` and each schedule's ``state_dict()`` under ``_schedulers``."""
        return {"_last_lr": list(self._last_lr),
                "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict):
        _load_combined(self, state_dict, ("_last_lr",))


def _check_schedulers(name, schedulers, optimizer):
    schedulers = list(schedulers)
    if not schedulers:
        raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
    for index, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{name}: the scheduler at index {index} should have `optimizer` as "
                            f"its attribute; got a {type(scheduler).__name__}")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                f"{name} does not support `ReduceLROnPlateau` scheduler as it requires "
                "additional kwargs to be specified when calling `step`, but got one at index "
                f"{index} in the given schedulers sequence.")
        if scheduler.optimizer is not optimizer:
            raise ValueError(
                f"{name} expects all schedulers to belong to the same optimizer, but got "
                f"scheduler {type(scheduler).__name__} at index {index} with another optimizer "
                f"than the {type(optimizer).__name__} given.")
    return schedulers


def _undo_step(scheduler):
    """Take back one epoch from ``scheduler`` (recursively through combined ones), as torch."""
    if hasattr(scheduler, "_schedulers"):
        for inner in scheduler._schedulers:
            _undo_step(inner)
    elif hasattr(scheduler, "last_epoch"):
        scheduler.last_epoch -= 1


def _load_combined(scheduler, state_dict, names):
    """Restore a combined schedule's own entries and each of its schedules' states."""
    where = f"{type(scheduler).__name__}.load_state_dict"
    if not isinstance(state_dict, dict):
        raise ValueError(f"{where}: expected a dict, got {type(state_dict).__name__}")
    missing = sorted(set(names + ("_schedulers",)) - set(state_dict))
    if missing:
        raise ValueError(f"{where}: missing entries {missing}")
    inner = state_dict["_schedulers"]
    if len(inner) != len(scheduler._schedulers):
        raise ValueError(f"{where}: it holds {len(inner)} schedules, this one has "
                         f"{len(scheduler._schedulers)}")
    problems = [f"schedule {i}: {problem}" for i, (schedule, saved) in
                enumerate(zip(scheduler._schedulers, inner))
                for problem in getattr(schedule, "_state_dict_problems", lambda _: [])(saved)]
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))
    for name in names:
        value = state_dict[name]
        setattr(scheduler, name, list(value) if isinstance(value, list) else value)
    for schedule, saved in zip(scheduler._schedulers, inner):
        schedule.load_state_dict(saved)
