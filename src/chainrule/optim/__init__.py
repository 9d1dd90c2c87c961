"""Optimizers and learning-rate schedules, as ``torch.optim``.

    >>> import chainrule as cr
    >>> from chainrule.optim import SGD
    >>> w = cr.tensor([3.0], requires_grad=True)
    >>> optimizer = SGD([w], lr=0.25)
    >>> for _ in range(20):
    ...     optimizer.zero_grad()
    ...     loss = (w * w).sum()
    ...     loss.backward()
    ...     optimizer.step()
    >>> round(w.item(), 6)  # each step halves w
    3e-06
"""

from chainrule.optim import lr_scheduler
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.adamax import Adamax
from chainrule.optim.nadam import NAdam
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.radam import RAdam
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "NAdam", "RAdam", "Adamax", "RMSprop", "Adagrad",
           "lr_scheduler"]
