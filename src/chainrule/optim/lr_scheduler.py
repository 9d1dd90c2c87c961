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

The schedules live in ``scheduler`` (the base), ``step_schedules``,
``cosine_schedules``, ``plateau`` and ``combined_schedules``; this module
gathers them under PyTorch's name.
"""

from chainrule.optim.combined_schedules import ChainedScheduler, SequentialLR
from chainrule.optim.cosine_schedules import (CosineAnnealingLR, CosineAnnealingWarmRestarts,
                                              OneCycleLR)
from chainrule.optim.plateau import ReduceLROnPlateau
from chainrule.optim.scheduler import LRScheduler
from chainrule.optim.step_schedules import (ConstantLR, ExponentialLR, LambdaLR, LinearLR,
                                            MultiplicativeLR, MultiStepLR, PolynomialLR, StepLR)

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR",
           "ChainedScheduler"]
