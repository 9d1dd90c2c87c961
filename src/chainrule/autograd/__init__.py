"""Reverse-mode automatic differentiation: the one backward traversal."""

from chainrule.autograd.graph import backpropagate, topological_order

__all__ = ["backpropagate", "topological_order"]
