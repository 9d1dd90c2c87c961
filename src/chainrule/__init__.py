"""chainrule: the chain rule, made real.

A scalar autograd engine you can read in one sitting (``chainrule.scalar``),
built the way the tutorial "Backpropagation Explained for Programmers" builds
it, then made correct, deep-graph safe and fast.
"""

from chainrule.scalar import Value

__version__ = "0.1.0"

__all__ = ["Value", "__version__"]
