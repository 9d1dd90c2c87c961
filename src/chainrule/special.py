"""Special functions, as ``torch.special``: ``erf``, ...

Nothing is listed here: each name is an op declared with
``@register("special", ...)`` next to its ``Function`` in ``chainrule.ops``,
and this module takes the registry's namespace.

    >>> import chainrule as cr
    >>> from chainrule import special
    >>> special.erf(cr.tensor([0.0], dtype=cr.float64))
    tensor([0.], dtype=float64)
"""

import chainrule.ops  # noqa: F401  (runs every op's declaration first)
from chainrule import registry

globals().update(registry.namespace("special"))

__all__ = sorted(registry.namespace("special"))
