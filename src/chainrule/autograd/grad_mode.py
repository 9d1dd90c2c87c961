"""Whether ops record the graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The switch is per thread, as in PyTorch: turning recording off in one thread
(say, an evaluation loop) does not affect training in another. Each works as a
context manager and as a decorator.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
"""

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]


class _GradMode(threading.local):
    enabled = True
    new_nodes = None  # a list while an in-place op watches which nodes it records


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when ops on tensors that require grad record the graph."""
    return _mode.enabled


class _GradModeContext:
    """Base of ``no_grad`` and ``enable_grad``: set the mode on entry, restore it on exit.

    Usable as ``with no_grad():``, ``@no_grad()`` and bare ``@no_grad``.
    """

    mode = True

    def __new__(cls, *args):
        self = super().__new__(cls)
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return self(args[0])  # used as a bare decorator: return the wrapped function
        return self

    def __enter__(self):
        self.previous = _mode.enabled
        _mode.enabled = self.mode
        return self

    def __exit__(self, *exc_info):
        _mode.enabled = self.previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class set_grad_enabled(_GradModeContext):
    """Turn recording on or off now; used as a context, restore it when the block ends.

    As a decorator, it switches only while the decorated function runs.
    """

    def __init__(self, mode: bool):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {type(mode).__name__}")
        self.mode = mode
        self.previous = _mode.enabled
        _mode.enabled = mode

    def __enter__(self):
        return self

    def __call__(self, fn):
        _mode.enabled = self.previous  # a decorator changes nothing until called
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Ops inside record nothing and return tensors that do not require grad."""

    mode = False


class enable_grad(_GradModeContext):
    """Record the graph again inside a ``no_grad`` block."""

    mode = True
