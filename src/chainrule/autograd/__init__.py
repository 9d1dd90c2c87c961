"""Reverse-mode automatic differentiation.

- ``graph``: the one backward traversal, shared by ``Value`` and ``Tensor``.
- ``Function``: how every tensor op defines its forward and backward.
- ``backward`` and ``grad``: the tensor engine's entry points.
- ``no_grad`` and friends; ``detect_anomaly``.
"""

from chainrule.autograd.anomaly import AnomalyError, detect_anomaly
from chainrule.autograd.engine import backward, grad
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from chainrule.autograd.graph import backpropagate, observe_backward, topological_order

__all__ = ["Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "detect_anomaly", "AnomalyError", "backpropagate", "observe_backward",
           "topological_order"]
