"""Neural-network layers, as in ``torch.nn``: ``Module`` and the layers built on it."""

from chainrule.nn import functional, init, utils
from chainrule.nn.containers import ModuleList, Sequential
from chainrule.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from chainrule.nn.layers import (GELU, MLP, Dropout, Embedding, Flatten, Identity, LeakyReLU,
                                 Linear, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh, Unflatten)
from chainrule.nn.module import Module
from chainrule.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from chainrule.nn.parameter import Parameter

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "Flatten", "Unflatten",
           "ReLU", "Tanh", "Sigmoid", "GELU", "LeakyReLU", "Softmax", "LogSoftmax", "Dropout",
           "Embedding", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d",
           "LayerNorm", "MLP", "init", "functional", "utils"]
