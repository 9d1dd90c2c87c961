"""Utilities for training, as ``torch.nn.utils``: gradient clipping, parameters as one
vector, and padding sequences of different lengths (``rnn``).

    >>> import chainrule as cr
    >>> from chainrule.nn.utils import parameters_to_vector
    >>> a, b = cr.tensor([1.0, 2.0]), cr.tensor([[3.0], [4.0]])
    >>> parameters_to_vector([a, b])
    tensor([1., 2., 3., 4.])
"""

from chainrule.nn.utils import rnn
from chainrule.nn.utils.clip_grad import (clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,
                                          get_total_norm)
from chainrule.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "rnn"]
