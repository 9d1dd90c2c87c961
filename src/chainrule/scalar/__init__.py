"""The scalar engine: the tutorial's ``Value`` and its ``Neuron``, ``Layer``, ``MLP``."""

from chainrule.scalar.mlp import MLP, Layer, Module, Neuron
from chainrule.scalar.value import Value, weighted_sum

__all__ = ["Value", "weighted_sum", "Module", "Neuron", "Layer", "MLP"]
