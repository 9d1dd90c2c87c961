"""Every op of the tensor engine, one ``Function`` each, grouped by kind.

Each module lists its ops in ``METHODS``, the names they take on ``Tensor``
(``x.exp()``, ``x + y``); :func:`bind_methods` puts them there. The functional
forms (``chainrule.exp(x)``) are the same functions.
"""

from chainrule.ops import (arithmetic, conversion, convolution, elementwise, indexing, inplace,
                           joining, linear, loss, nn, reduction, shape)

MODULES = (arithmetic, conversion, convolution, elementwise, indexing, inplace, joining, linear,
           loss, nn, reduction, shape)


def bind_methods(tensor_class):
    for module in MODULES:
        for name, fn in module.METHODS.items():
            setattr(tensor_class, name, fn)
