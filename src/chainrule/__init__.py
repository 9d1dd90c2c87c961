"""chainrule: the chain rule, made real.

Two engines on one backward pass:

- ``chainrule.Value`` (``chainrule.scalar``): the tutorial's scalar engine,
  with ``Neuron``, ``Layer`` and ``MLP``.
- ``chainrule.Tensor``: the same chain rule on numpy arrays, with PyTorch's
  names and semantics, higher-order gradients and ``chainrule.func``.
"""

import numpy as _np

from chainrule import autograd, cuda, data, debug, func, nn, ops, optim, viz
from chainrule.device import device
from chainrule.registry import namespace as _namespace
from chainrule.autograd.anomaly import detect_anomaly
from chainrule.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from chainrule.creation import (arange, empty, eye, full, full_like, linspace, manual_seed, ones,
                                ones_like, rand, rand_like, randint, randn, randn_like, zeros,
                                zeros_like)
from chainrule.ops.indexing import gather, index_select
from chainrule.ops.nn import log_softmax, softmax
from chainrule.ops.joining import cat, chunk, split, stack
from chainrule.ops.elementwise import (abs, clamp, cos, exp, gelu, leaky_relu, log, maximum,
                                       minimum, relu, sigmoid, sin, softplus, sqrt, tanh, where)
from chainrule.ops.reduction import (all, amax, amin, any, argmax, argmin, cumsum, logsumexp, max,
                                     mean, min, prod, std, sum, var)
from chainrule.ops.shape import (broadcast_to, expand, flatten, permute, reshape, squeeze,
                                 transpose, unsqueeze)
from chainrule.scalar import Value
from chainrule.serialization import load, save
from chainrule.tensor import Tensor, from_numpy, tensor
from chainrule.trace import trace_backward

__version__ = "0.1.0"

float16, float32, float64 = _np.float16, _np.float32, _np.float64
int32, int64, bool_ = _np.int32, _np.int64, _np.bool_
float, double, long = float32, float64, int64

globals().update(_namespace("torch"))

__all__ = sorted(_namespace("torch")) + [ "device", "cuda",
    "Value", "Tensor", "tensor", "from_numpy", "autograd", "func", "nn", "optim", "data", "debug", "viz",
    "save", "load", "trace_backward", "softmax", "log_softmax",
    "cat", "stack", "split", "chunk", "gather", "index_select",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly",
    "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "rand", "randn", "randint",
    "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "manual_seed",
    "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu", "gelu",
    "softplus", "clamp", "maximum", "minimum", "where",
    "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "logsumexp",
    "prod", "all", "any", "cumsum", "reshape", "flatten", "transpose", "permute", "squeeze", "unsqueeze",
    "expand", "broadcast_to",
    "float16", "float32", "float64", "int32", "int64", "bool_", "__version__",
]
