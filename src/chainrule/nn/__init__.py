"""Neural-network layers, as in ``torch.nn``: ``Module`` and the layers built on it."""

from chainrule import _missing
from chainrule.nn import functional, init, utils
from chainrule.nn import parallel
from chainrule.nn.containers import ModuleList, Sequential
from chainrule.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from chainrule.nn.layers import (GELU, MLP, Dropout, Embedding, Flatten, Identity, LeakyReLU,
                                 Linear, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh, Unflatten)
from chainrule.nn.module import Module
from chainrule.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from chainrule.nn.parameter import Parameter
from chainrule.nn.attention import MultiheadAttention
from chainrule.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from chainrule.nn.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                                      TransformerEncoder, TransformerEncoderLayer)

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "Flatten", "Unflatten",
           "ReLU", "Tanh", "Sigmoid", "GELU", "LeakyReLU", "Softmax", "LogSoftmax", "Dropout",
           "Embedding", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d",
           "LayerNorm", "MLP", "init", "functional", "utils"]

__all__ += ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
            "MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerDecoder",
            "TransformerEncoderLayer", "TransformerDecoderLayer"]

__getattr__ = _missing.module_getattr(__name__, "torch.nn")  # what torch.nn has and this lacks
