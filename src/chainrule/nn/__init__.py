"""Neural-network layers, as in ``torch.nn``: ``Module`` and the layers built on it."""

from chainrule import _missing
from chainrule.nn import functional, init, utils
from chainrule.nn import parallel
from chainrule.nn import activation, containers, conv, layers, loss, normalization, padding
from chainrule.nn import pooling, upsampling
from chainrule.nn.activation import *  # noqa: F401,F403  (each file's __all__)
from chainrule.nn.attention import MultiheadAttention
from chainrule.nn.containers import *  # noqa: F401,F403
from chainrule.nn.conv import *  # noqa: F401,F403
from chainrule.nn.layers import *  # noqa: F401,F403
from chainrule.nn.loss import *  # noqa: F401,F403
from chainrule.nn.module import Module
from chainrule.nn.normalization import *  # noqa: F401,F403
from chainrule.nn.padding import *  # noqa: F401,F403
from chainrule.nn.parameter import Parameter
from chainrule.nn.pooling import *  # noqa: F401,F403
from chainrule.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from chainrule.nn.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                                      TransformerEncoder, TransformerEncoderLayer)
from chainrule.nn.upsampling import *  # noqa: F401,F403

__all__ = (["Module", "Parameter", "MultiheadAttention", "RNNBase", "RNN", "LSTM", "GRU",
            "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "Transformer", "TransformerEncoder",
            "TransformerDecoder", "TransformerEncoderLayer", "TransformerDecoderLayer",
            "init", "functional", "utils"]
           + activation.__all__ + containers.__all__ + conv.__all__ + layers.__all__
           + loss.__all__ + normalization.__all__ + padding.__all__ + pooling.__all__
           + upsampling.__all__)

__getattr__ = _missing.module_getattr(__name__, "torch.nn")  # what torch.nn has and this lacks
