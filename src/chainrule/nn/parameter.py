"""``Parameter``: a tensor that a ``Module`` registers and an optimizer trains."""

import numpy as np

from chainrule.device import backend_for
from chainrule.tensor import Tensor, _to_array

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor that requires grad by default; assigning it to a Module registers it.

    ``Parameter(data)`` shares ``data``'s memory and version counter when
    ``data`` is a Tensor (as ``torch.nn.Parameter`` does), else copies it.
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            param = cls._make(backend_for(None).xp.empty(0, dtype=np.float32), False, None)
        elif isinstance(data, Tensor):
            param = cls._make(data.array, False, None)
            param._version = data._version  # the same memory: in-place changes show in both
        else:
            param = cls._make(_to_array(data, None), False, None)
        return param.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
