"""Module backward hooks: ``hook(module, grad_input, grad_output)``.

The module's tensor inputs and its output each pass through an identity op;
hooks on those ops' nodes see the gradient of the output (``grad_output``)
and then those of the inputs (``grad_input``), when backward reaches them.
"""

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.tensor import Tensor

__all__ = ["BackwardHookCall"]


class Identity(Function):
    """x;  d/dx = 1. A node of its own, to hang a gradient hook on."""

    @staticmethod
    def forward(ctx, x):
        return x.data

    @staticmethod
    def backward(ctx, grad):
        return grad


class BackwardHookCall:
    """The state of one module call whose backward hooks are waiting for gradients."""

    def __init__(self, module, args):
        self.module = module
        self.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.grad_input = [None] * len(self.tensor_positions)
        self.waiting = set()
        self.grad_output = None

    def wrap_inputs(self, args):
        if not is_grad_enabled():
            return args
        args = list(args)
        for slot, position in enumerate(self.tensor_positions):
            if args[position].requires_grad:
                wrapped = Identity.apply(args[position])
                wrapped.grad_fn.register_hook(self._input_hook(slot))
                self.waiting.add(slot)
                args[position] = wrapped
        return tuple(args)

    def wrap_output(self, output):
        if not (isinstance(output, Tensor) and output.requires_grad):
            return output
        wrapped = Identity.apply(output)
        wrapped.grad_fn.register_hook(self._on_grad_output)
        return wrapped

    def _on_grad_output(self, grad):
        self.grad_output = (grad,)
        if not self.waiting:  # no input needs a gradient: the hook fires now
            self._call_hooks()

    def _input_hook(self, slot):
        def on_grad_input(grad):
            self.grad_input[slot] = grad
            self.waiting.discard(slot)
            if self.waiting:
                return None
            replaced = self._call_hooks()
            if replaced is None:
                return None
            if len(self.tensor_positions) != 1:
                raise RuntimeError(
                    f"{type(self.module).__name__}: a backward hook may replace grad_input only "
                    "for a module with a single tensor input"
                )
            return replaced[0]

        return on_grad_input

    def _call_hooks(self):
        replaced = None
        for hook in list(self.module._backward_hooks):
            result = hook(self.module, tuple(self.grad_input), self.grad_output)
            if result is not None:
                replaced = tuple(result)
                self.grad_input = list(replaced)
        return replaced
