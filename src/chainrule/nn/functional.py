"""The functional forms of the layers and losses, as ``torch.nn.functional``.

Each name is the op itself (defined in ``chainrule.ops``); this module only
gathers them where a PyTorch user looks.
"""

from chainrule.ops.convolution import avg_pool2d, conv2d, fold, max_pool2d, unfold
from chainrule.ops.elementwise import gelu, leaky_relu, relu, sigmoid, softplus, tanh
from chainrule.ops.joining import pad
from chainrule.ops.linear import linear
from chainrule.ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,
                                cross_entropy, huber_loss, l1_loss, mse_loss, nll_loss)
from chainrule.ops.nn import dropout, embedding, log_softmax, softmax

__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "unfold", "fold", "pad", "relu",
           "leaky_relu", "gelu", "tanh", "sigmoid", "softplus", "softmax", "log_softmax",
           "dropout", "embedding", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
           "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]
