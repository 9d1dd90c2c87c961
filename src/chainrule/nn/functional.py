"""The functional forms of the layers and losses, as ``torch.nn.functional``.

Nothing is listed here: each name is an op declared with
``@register("nn.functional", ...)`` next to its ``Function`` in
``chainrule.ops``, and this module takes the registry's namespace.

    >>> import chainrule as cr
    >>> from chainrule.nn import functional as F
    >>> F.softmax(cr.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
"""

import chainrule.ops  # noqa: F401  (runs every op's declaration first)
from chainrule import _missing, registry

globals().update(registry.namespace("nn.functional"))

__all__ = sorted(registry.namespace("nn.functional"))

__getattr__ = _missing.module_getattr(__name__, "torch.nn.functional")  # what it lacks says so
