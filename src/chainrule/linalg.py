"""Linear algebra, as ``torch.linalg``: ``inv``, ``solve``, ``svd``, ``norm``, ...

Nothing is listed here: each name is an op declared with
``@register("linalg", ...)`` next to its ``Function`` in ``chainrule.ops``
(``linalg_decompositions``, ``linalg_solvers``), and this module takes the
registry's namespace.
"""

import chainrule.ops  # noqa: F401  (runs every op's declaration first)
from chainrule import registry

globals().update(registry.namespace("linalg"))

__all__ = sorted(registry.namespace("linalg"))
