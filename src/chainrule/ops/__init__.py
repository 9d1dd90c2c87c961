"""Every op of the tensor engine, one ``Function`` per primitive, one file per kind of op.

Importing this package imports every op module; each op's
``@register(...)`` declaration (``chainrule.registry``) then makes its
public function, its ``Tensor`` method and operators, and its in-place
variant. Nothing else lists the ops.
"""

from chainrule.ops import (activation, arithmetic, comparison, conversion, convolution, creation,
                           dropout, elementwise, embedding, indexing, inplace, joining, linear,
                           loss, padding, pooling, reduction, shape)
from chainrule.ops import attention, normalization

MODULES = (activation, arithmetic, comparison, conversion, convolution, creation, dropout,
           elementwise, embedding, indexing, inplace, joining, linear, loss, padding, pooling,
           reduction, shape, attention, normalization)
