"""Whether ops record the graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, and more.

The switches are per thread, as in PyTorch: turning recording off in one
thread (say, an evaluation loop) does not affect training in another. Each
works as a context manager and as a decorator (``@no_grad()`` and bare
``@no_grad``).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False

``inference_mode()`` is ``no_grad()`` for code that will never be
differentiated: nothing is recorded inside it, even under ``enable_grad()``,
and the results of ops made inside are *inference tensors*, which refuse
later to take part in a recorded graph, as PyTorch's do:

    >>> from chainrule.autograd import inference_mode
    >>> with inference_mode():
    ...     z = x * 2
    >>> z.requires_grad, z.is_inference()
    (False, True)
    >>> (x * z).sum()
    Traceback (most recent call last):
    ...
    RuntimeError: Inference tensors cannot be saved for backward. ...

NOTE: what is marked is the result of an op (``x * 2``, a layer's output);
tensors that factory functions (``cr.ones``, ``cr.tensor``) create inside
the block are ordinary tensors.
"""

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]


class _GradMode(threading.local):
    enabled = True  # ops record the graph: grad mode on, inference mode off (None: inference)
    grad = True  # the grad mode itself, what is_grad_enabled() says
    inference = False
    new_nodes = None  # a list while an in-place op watches which nodes it records


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when grad mode is on: ops on tensors that require grad record the graph."""
    return _mode.grad


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return _mode.inference


def _set(grad, inference):
    _mode.grad = grad
    _mode.inference = inference
    _mode.enabled = None if inference else grad


class _ModeContext:
    """Base of the switches: set the mode on entry, restore it on exit; also a decorator.

    A subclass says what it switches to in ``_target()``: ``(grad, inference)``.
    """

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        if not kwargs and len(args) == 1 and callable(args[0]) and not isinstance(args[0], bool):
            self.__init__()
            return self(args[0])  # used as a bare decorator: return the wrapped function
        return self

    def _target(self):
        raise NotImplementedError

    def __enter__(self):
        self.previous = (_mode.grad, _mode.inference)
        _set(*self._target())
        return self

    def __exit__(self, *exc_info):
        _set(*self.previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        """A fresh context of the same kind and setting (one per call of a decorated function)."""
        return type(self)()


class no_grad(_ModeContext):
    """Ops inside record nothing and return tensors that do not require grad."""

    def _target(self):
        return False, _mode.inference


class enable_grad(_ModeContext):
    """Record the graph again inside a ``no_grad`` block (not inside ``inference_mode``)."""

    def _target(self):
        return True, _mode.inference


class set_grad_enabled(_ModeContext):
    """Turn grad mode on or off now; used as a context, restore it when the block ends.

    As a decorator, it switches only while the decorated function runs.
    """

    def __new__(cls, mode):
        return super().__new__(cls)

    def __init__(self, mode: bool):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {type(mode).__name__}")
        self.mode = mode
        self.previous = (_mode.grad, _mode.inference)
        _mode.grad = mode
        _mode.enabled = None if _mode.inference else mode

    def _target(self):
        return self.mode, _mode.inference

    def __enter__(self):
        return self  # the mode was set when the object was made

    def __call__(self, fn):
        _set(*self.previous)  # a decorator changes nothing until the function is called
        return super().__call__(fn)

    def clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(_ModeContext):
    """``no_grad()`` for code never differentiated; what ops make inside are inference tensors.

    ``inference_mode(False)`` turns it off again inside (and grad mode on), as in PyTorch.
    """

    def __init__(self, mode=True):
        if not isinstance(mode, bool):
            raise TypeError(f"inference_mode: mode must be a bool, got {type(mode).__name__}")
        self.mode = mode

    def _target(self):
        return (not self.mode), self.mode

    def clone(self):
        return inference_mode(self.mode)


class InferenceVersion(list):
    """The version counter of an inference tensor: it can change only inside ``inference_mode``.

    ``Tensor._version`` is a one-element list shared by a tensor and its
    views; this kind marks the tensor as made in inference mode, and
    ``Function.save_for_backward`` refuses such tensors.
    """

    def __setitem__(self, index, value):
        if not _mode.inference:
            raise RuntimeError(
                "Inplace update to inference tensor outside InferenceMode is not allowed. You can "
                "make a clone to get a normal tensor before doing inplace update."
            )
        super().__setitem__(index, value)


def inference_saved_error():
    return RuntimeError(
        "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
        "inference mode in computation tracked by autograd. To work around this, you can make a "
        "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
        "`torch.inference_mode()`."
    )
