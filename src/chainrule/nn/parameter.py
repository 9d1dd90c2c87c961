"""``Parameter``: a tensor that a ``Module`` registers and an optimizer trains."""

import numpy as np

from chainrule.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor that requires grad by default; assigning it to a Module registers it.

    ``Parameter(data)`` shares ``data``'s memory when ``data`` is a Tensor
    (as ``torch.nn.Parameter`` does), else copies it.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            self.data = data.data
            self.grad = None
            self.grad_fn = None
            self._version = data._version
            self._hooks = None
            self._view_of = None
            self.requires_grad = False
            self.requires_grad_(requires_grad)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
