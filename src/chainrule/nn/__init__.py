"""Neural-network layers, as in ``torch.nn``: ``Module`` and the layers built on it."""

from chainrule.nn import init
from chainrule.nn.containers import ModuleList, Sequential
from chainrule.nn.layers import (GELU, MLP, Flatten, Identity, LeakyReLU, Linear, ReLU, Sigmoid,
                                 Tanh)
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "Flatten",
           "ReLU", "Tanh", "Sigmoid", "GELU", "LeakyReLU", "MLP", "init"]
