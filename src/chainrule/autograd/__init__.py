"""Reverse-mode automatic differentiation.

- ``graph``: the one backward traversal, shared by ``Value`` and ``Tensor``.
- ``Function``: how every tensor op defines its forward and backward, and
  PyTorch's custom Functions (``once_differentiable``).
- ``backward`` and ``grad``: the tensor engine's entry points.
- ``no_grad`` and friends, ``inference_mode``; ``detect_anomaly``;
  ``gradcheck`` and ``gradgradcheck`` (from ``chainrule.testing``).
- ``functional`` (PyTorch's ``torch.autograd.functional``: ``jacobian``,
  ``hessian``, ``vjp``, ``jvp``, ``vhp``, ``hvp``) is built on ``chainrule.func``,
  a layer above, so it is not imported here: ``chainrule/__init__`` imports it.
"""

from chainrule.autograd.anomaly import AnomalyError, detect_anomaly
from chainrule.autograd.engine import backward, grad
from chainrule.autograd.function import Function, once_differentiable
from chainrule.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                          is_inference_mode_enabled, no_grad, set_grad_enabled)
from chainrule.autograd.graph import backpropagate, observe_backward, topological_order
from chainrule.testing import gradcheck, gradgradcheck  # torch.autograd.gradcheck's place

__all__ = ["Function", "once_differentiable", "backward", "grad", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "inference_mode", "is_inference_mode_enabled",
           "gradcheck", "gradgradcheck", "detect_anomaly", "AnomalyError", "backpropagate",
           "observe_backward", "topological_order"]
