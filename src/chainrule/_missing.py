"""What is not there says so: the module ``__getattr__`` of chainrule's torch-like namespaces.

A PyTorch program ported by its imports (``import chainrule as torch``) that
reaches for something chainrule lacks should stop at that line with an error
naming the missing thing, not with a bare ``AttributeError`` from deep inside
or, worse, run on with something else. Python calls a module's
``__getattr__`` (PEP 562) only after the normal lookup failed, so names that
exist cost nothing. Each namespace installs one with a single line::

    __getattr__ = _missing.module_getattr(__name__, "torch.nn")

and ``chainrule.nn.LazyLinear`` then raises::

    UnsupportedAttributeError: chainrule.nn has no attribute 'LazyLinear':
    torch.nn.LazyLinear is not supported by chainrule (yet); see docs/porting.md

The error is an ``AttributeError`` (so ``hasattr`` and ``getattr(m, name,
default)`` behave as ever). For a typo the message ends with "Did you mean
'Linear'?", worked out only when the message is shown, so ``hasattr`` probes
stay cheap (Python's own suggestion skips AttributeError subclasses before
3.12, so it is not relied on; ``name`` is left None so that later versions do
not add theirs as well). Private and dunder names (``__wrapped__``,
``__path__``, ``_repr_html_``: what pytest, doctest, IPython and the import
system probe) get the plain message at once. A submodule that exists but was
not imported yet (``chainrule.testing``) is imported and returned, as
``torch.testing`` is there after ``import torch``. torch is never imported:
the message is the same for any missing name.

    >>> import types
    >>> cr = types.ModuleType("cr")
    >>> cr.__getattr__ = module_getattr("cr", "torch")
    >>> try:
    ...     cr.fft
    ... except AttributeError as error:
    ...     print(error)
    cr has no attribute 'fft': torch.fft is not supported by chainrule (yet); see docs/porting.md
    >>> hasattr(cr, "fft"), hasattr(cr, "__wrapped__")
    (False, False)
"""

import difflib
import importlib
import importlib.util
import sys

__all__ = ["UnsupportedAttributeError", "module_getattr"]

PORTING_GUIDE = "docs/porting.md"


class UnsupportedAttributeError(AttributeError):
    """A name that PyTorch's namespace may have and chainrule's lacks.

    ``attribute`` is the name, ``module`` (also ``obj``) the chainrule module, or None.
    """

    def __init__(self, module_name, torch_name, attribute, module=None):
        super().__init__(module_name, torch_name, attribute, name=None, obj=module)
        self.module_name, self.torch_name = module_name, torch_name
        self.attribute, self.module = attribute, module

    def __str__(self):
        text = (f"{self.module_name} has no attribute {self.attribute!r}: {self.torch_name}."
                f"{self.attribute} is not supported by chainrule (yet); see {PORTING_GUIDE}")
        public = [] if self.module is None else [
            name for name in dir(self.module) if not name.startswith("_")]
        # cutoff 0.8: a typo (Linaer), not a torch name that shares a word (LazyLinear)
        close = difflib.get_close_matches(self.attribute, public, n=1, cutoff=0.8)
        return text + (f". Did you mean {close[0]!r}?" if close else "")


def module_getattr(module_name, torch_name):
    """The PEP 562 ``__getattr__`` for module ``module_name``, which stands in for ``torch_name``.

    ``module_name`` is the chainrule module (``__name__`` where it is
    installed); ``torch_name`` the PyTorch namespace it mirrors (``"torch"``,
    ``"torch.nn"``, ``"torch.nn.functional"``).
    """

    def __getattr__(name):
        module = sys.modules.get(module_name)
        if name.startswith("_"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}",
                                 name=name, obj=module)
        if name.isidentifier() and getattr(module, "__path__", None) is not None:
            # a package: a submodule not imported yet is imported, as torch's are by import torch
            submodule = f"{module_name}.{name}"
            if submodule in sys.modules or importlib.util.find_spec(submodule) is not None:
                return importlib.import_module(submodule)
        raise UnsupportedAttributeError(module_name, torch_name, name, module)

    return __getattr__
