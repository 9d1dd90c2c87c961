"""Every op of the tensor engine, one ``Function`` each, grouped by kind.

Importing this package imports every op module; each op's
``@register(...)`` declaration (``chainrule.registry``) then makes its
public function, its ``Tensor`` method and operators, and its in-place
variant. Nothing else lists the ops.
"""

from chainrule.ops import (arithmetic, conversion, convolution, elementwise, indexing, inplace,
                           joining, linear, loss, nn, reduction, shape)
from chainrule.tensor import Tensor as _Tensor

MODULES = (arithmetic, conversion, convolution, elementwise, indexing, inplace, joining, linear,
           loss, nn, reduction, shape)

# TEMPORARY while modules move to @register: bind what they still list in METHODS.
for _module in MODULES:
    for _name, _fn in getattr(_module, "METHODS", {}).items():
        setattr(_Tensor, _name, _fn)
