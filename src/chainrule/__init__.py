"""chainrule: the chain rule, made real.

Two engines on one backward pass:

- ``chainrule.Value`` (``chainrule.scalar``): the tutorial's scalar engine,
  with ``Neuron``, ``Layer`` and ``MLP``.
- ``chainrule.Tensor``: the same chain rule on numpy arrays, with PyTorch's
  names and semantics, higher-order gradients and ``chainrule.func``.

The op functions here (``chainrule.exp``, ``chainrule.zeros``, ...) are not
listed in this file: each is declared once, next to its ``Function``, and
``chainrule.registry`` hands them to this namespace.
"""

import numpy as _np

from chainrule import ops, random, threads  # every declaration runs: the registry is complete
from chainrule import (_missing, autograd, backends, cuda, data, debug, func, linalg, nn,
                       optim, safetensors, special, utils, viz)
from chainrule.autograd import functional as _autograd_functional  # noqa: F401  (autograd.functional)
from chainrule.autograd.anomaly import detect_anomaly
from chainrule.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                          is_inference_mode_enabled, no_grad, set_grad_enabled)
from chainrule.debug import trace_backward
from chainrule.device import device
from chainrule.random import Generator, default_generator
from chainrule.registry import namespace as _namespace
from chainrule.scalar import Value
from chainrule.serialization import load, save
from chainrule.tensor import Tensor, from_numpy, tensor

__version__ = "0.1.0"

# dtypes are numpy's scalar types, under PyTorch's names (numpy has no bfloat16).
float16, float32, float64 = _np.float16, _np.float32, _np.float64
uint8, int8, int16, int32, int64 = _np.uint8, _np.int8, _np.int16, _np.int32, _np.int64
bool = bool_ = _np.bool_  # noqa: A001 (torch.bool; the builtin is shadowed only in this file)
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

_OPS = _namespace("torch")
globals().update(_OPS)

#: What is not an op: modules, classes, grad modes, dtypes and the few functions that
#: are not declared in the registry (tests/test_registry.py checks this list).
_API = [
    "Value", "Tensor", "tensor", "from_numpy", "device", "Generator", "default_generator",
    "autograd", "backends", "cuda", "data", "debug", "func", "linalg", "nn", "optim", "random",
    "safetensors", "special", "utils", "viz",
    "save", "load", "trace_backward",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly",
    "inference_mode", "is_inference_mode_enabled",
    "float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool", "bool_",
    "half", "float", "double", "short", "int", "long",
    "__version__",
]
__all__ = sorted(_OPS) + _API

# A name PyTorch has and chainrule lacks says so, instead of a bare AttributeError.
__getattr__ = _missing.module_getattr(__name__, "torch")
