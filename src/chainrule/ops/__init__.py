"""Every op of the tensor engine, one ``Function`` per primitive, one file per kind of op.

Importing this package imports every module in it (in name order); each
op's ``@register(...)`` declaration (``chainrule.registry``) then makes its
public function, its ``Tensor`` method and operators, and its in-place
variant. Nothing else lists the ops, nor the modules: a new file of ops is
picked up by being here.
"""

import importlib
import pkgutil

MODULES = tuple(importlib.import_module(f"{__name__}.{info.name}")
                for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
                if not info.name.startswith("_"))
