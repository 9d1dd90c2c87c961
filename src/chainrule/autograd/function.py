"""``Function``: one op's forward and backward, side by side.

Every differentiable op in chainrule, built in or yours, is a ``Function``
subclass with two static methods:

- ``forward(ctx, *args, **params)`` computes the result from the inputs'
  numpy arrays (``x.data``) and returns a numpy array. It saves what the
  backward will need: input tensors with ``ctx.save_for_backward(x, ...)``,
  the result with ``return ctx.save_result(out)``, anything else as
  attributes of ``ctx``.
- ``backward(ctx, grad)`` gets the gradient of the final output with respect
  to this op's result and returns one gradient per positional input of
  ``forward`` (``None`` for inputs that are not tensors or need none). It is
  written with ``Tensor`` ops, so that it can itself be differentiated:
  that is what makes gradients of gradients work.

``Function.apply(*args, **params)`` runs the op. When recording, the ``ctx``
becomes the result's ``grad_fn``, the node of the graph that ``backward()``
walks.

    >>> import numpy as np
    >>> import chainrule as cr
    >>> class Cube(cr.autograd.Function):
    ...     '''x**3;  d/dx = 3 x**2.'''
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x.data ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 3 * x**2
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward()
    >>> x.grad
    tensor(12., dtype=float32)
"""

import numpy as np

from chainrule.autograd.grad_mode import _mode

__all__ = ["Function"]

_FREED = object()


class Function:
    """Base class of every op; an instance is both the op's ``ctx`` and its graph node."""

    next_nodes = ()  # graph nodes of the inputs, one per positional input (None: no gradient)
    needs_input_grad = ()
    _recording = False
    _saved = ()
    _result = None
    _result_version = None
    _hooks = None
    _retained = None  # weak reference to the result tensor, if it retains its grad
    _creation_site = None  # where the op was called, under detect_anomaly()

    @staticmethod
    def forward(ctx, *args, **params):
        raise NotImplementedError(f"{type(ctx).__name__}.forward is not written")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError(
            f"{type(ctx).__name__}.backward is not written: this op is not differentiable"
        )

    @classmethod
    def apply(cls, *args, **params):
        ctx = cls()
        if _mode.enabled:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    ctx._recording = True
                    break
        data = cls.forward(ctx, *args, **params)
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        if not ctx._recording:
            return Tensor._make(data, False, None)
        needs, next_nodes, input_meta = [], [], []
        for a in args:
            if isinstance(a, Tensor) and a.requires_grad:
                needs.append(True)
                next_nodes.append(a.grad_fn or a)
                input_meta.append((a.data.shape, a.data.dtype))
            else:
                needs.append(False)
                next_nodes.append(None)
                input_meta.append(None)
        ctx.needs_input_grad = tuple(needs)
        ctx.next_nodes = tuple(next_nodes)
        ctx._input_meta = input_meta
        if _anomaly_state.enabled:
            ctx._creation_site = creation_site()
        out = Tensor._make(data, True, ctx)
        if ctx._result is not None:
            ctx._result_version = out._version  # the result's counter, now at 0
        return out

    # ------------------------------------------------------ saving for backward

    def save_for_backward(self, *tensors):
        """Keep inputs for ``backward``; tensors among them are checked for in-place changes.

        Plain numbers may be saved too (``x * 2`` saves the 2); they come back as they are.
        """
        if self._recording:  # nothing to keep when no graph is recorded
            self._saved = [(t, t._version[0]) if isinstance(t, Tensor) else (t, None)
                           for t in tensors]

    def save_result(self, data):
        """Keep the result (a numpy array) for ``backward``; returns it, for ``forward`` to return."""
        self._result = data
        return data

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(_freed_message(self))
        for position, (tensor, version) in enumerate(saved):
            if version is not None and tensor._version[0] != version:
                raise RuntimeError(
                    f"{self.name}: one of the variables needed for gradient computation has "
                    f"been modified by an in-place operation: input {position} of shape "
                    f"{tuple(tensor.shape)} is at version {tensor._version[0]}; expected version "
                    f"{version} instead. Use an out-of-place op (x = x + 1, not x += 1) or clone() "
                    "the tensor before changing it."
                )
        return tuple(tensor for tensor, _ in saved)

    @property
    def result(self):
        """The forward's result as a tensor; part of the graph when differentiating twice."""
        if self._result is None:
            raise RuntimeError(_freed_message(self) if self._saved is _FREED else
                               f"{self.name}: forward did not save its result (ctx.save_result)")
        if self._result_version is not None and self._result_version[0] != 0:
            raise RuntimeError(
                f"{self.name}: one of the variables needed for gradient computation has been "
                f"modified by an in-place operation: the result of shape {self._result.shape} "
                f"is at version {self._result_version[0]}; expected version 0 instead. Use an "
                "out-of-place op or clone() the result before changing it."
            )
        if _mode.enabled:
            return Tensor._make(self._result, True, self)
        return Tensor._make(self._result, False, None)

    # ----------------------------------------------------------- introspection

    @property
    def name(self):
        """The op's name, PyTorch-style: ``MulBackward`` for ``Mul``."""
        return type(self).__name__ + "Backward"

    @property
    def inputs(self):
        """The graph nodes this op's inputs came from (a leaf tensor, or its ``grad_fn``)."""
        return tuple(node for node in self.next_nodes if node is not None)

    def register_hook(self, hook):
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _RemovableHandle(self._hooks, hook)

    def __repr__(self):
        return f"<{self.name}>"

    # --------------------------------------------------------- for the engine

    def _backward_step(self, grad, retain_graph):
        """Run ``backward`` for this node and check what it returns.

        A gradient of a broadcast input's shape is summed back to the input's
        shape here, the one place broadcasting is undone: rules such as
        ``Mul``'s return ``grad * b`` and need not know that ``a`` was broadcast.
        """
        grads = type(self).backward(self, grad)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(self.next_nodes):
            raise RuntimeError(
                f"{self.name}: backward returned {len(grads)} gradients, but forward took "
                f"{len(self.next_nodes)} positional inputs; return one per input (None for none)"
            )
        if not retain_graph:
            self._saved = _FREED
            self._result = None
        checked = []
        for g, meta in zip(grads, self._input_meta):
            if g is None or meta is None:
                checked.append(None)
                continue
            if type(g) is not Tensor:
                g = g if isinstance(g, Tensor) else Tensor._make(np.asarray(g), False, None)
            data = g.data
            if data.shape != meta[0]:
                g = self._reduce_to_input_shape(g, meta[0], len(checked))
            elif data.dtype != meta[1]:
                g = g.to(meta[1])
            checked.append(g)
        return checked

    def _reduce_to_input_shape(self, grad, shape, position):
        from chainrule.ops.shape import sum_to_shape  # shape ops are Functions themselves

        try:
            np.broadcast_shapes(grad.data.shape, shape)
            if len(shape) > grad.ndim:
                raise ValueError
            reduced = sum_to_shape(grad, shape)
            dtype = self._input_meta[position][1]
            return reduced if reduced.dtype == dtype else reduced.to(dtype)
        except ValueError:
            raise RuntimeError(
                f"{self.name}: backward returned a gradient of shape {tuple(grad.data.shape)} "
                f"for input {position}, which has shape {tuple(shape)}; the shapes must match "
                "(or the gradient be a broadcast of the input's shape)"
            ) from None


class _RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook off again."""

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _freed_message(node):
    return (
        f"{node.name}: trying to backward through the graph a second time (or to read saved "
        "tensors after they were freed). The saved values of a graph are freed when you call "
        ".backward() or autograd.grad(); pass retain_graph=True to the first call if you need "
        "to go through the graph again."
    )


from chainrule.autograd.anomaly import _state as _anomaly_state  # noqa: E402
from chainrule.autograd.anomaly import creation_site  # noqa: E402
from chainrule.tensor import Tensor  # noqa: E402  (Tensor's ops are Functions)
