"""``RemovableHandle``: what every ``register_*hook`` returns."""

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """``handle.remove()`` takes the hook off again; removing twice is harmless.

    Works as a context manager too: the hook is removed on exit.
    """

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()
