"""Module hooks, called as PyTorch calls them: forward pre-hooks, forward hooks, backward hooks.

``Module.__call__`` comes here when a module has any hook (else it calls
``forward`` directly). In PyTorch's order:

1. forward pre-hooks: ``hook(module, args)`` (``hook(module, args, kwargs)``
   with ``with_kwargs=True``); a result replaces the inputs;
2. with backward hooks, the tensor inputs that require grad pass through one
   identity node, whose backward delivers their gradients (``grad_input``);
3. ``forward``;
4. forward hooks: ``hook(module, args, output)`` (``hook(module, args, kwargs,
   output)``); a result replaces the output. Those registered with
   ``always_call=True`` run even when ``forward`` raises;
5. with backward hooks, the output tensors pass through another identity node,
   whose backward delivers their gradients (``grad_output``): backward
   pre-hooks ``hook(module, grad_output)`` run then, and may replace them;
   full backward hooks ``hook(module, grad_input, grad_output)`` run once the
   input node has its gradients too, and may replace ``grad_input``.

``grad_input`` has one entry per positional argument of the call and
``grad_output`` one per element of the output (the output itself if it is not
a tuple), ``None`` where there is no tensor or no gradient, as in PyTorch.
"""

import warnings

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.tensor import Tensor
from chainrule.utils.hooks import RemovableHandle

__all__ = ["Hook", "add_hook", "call_with_hooks", "BackwardHookCall"]


class Hook:
    """One registered hook and how to call it (an entry in a module's hook list)."""

    __slots__ = ("fn", "with_kwargs", "always_call")

    def __init__(self, fn, with_kwargs=False, always_call=False):
        self.fn = fn
        self.with_kwargs = with_kwargs
        self.always_call = always_call


def add_hook(hooks, fn, prepend=False, with_kwargs=False, always_call=False):
    """Put ``fn`` in ``hooks`` (first with ``prepend``); the handle takes it out again."""
    entry = Hook(fn, with_kwargs, always_call)
    if prepend:
        hooks.insert(0, entry)
    else:
        hooks.append(entry)
    return RemovableHandle(hooks, entry)


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` with its hooks, in PyTorch's order (see the module docstring)."""
    for hook in list(module._forward_pre_hooks):
        if hook.with_kwargs:
            result = hook.fn(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
                args, kwargs = result
        else:
            result = hook.fn(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    backward_hooks = None
    if module._backward_hooks or module._backward_pre_hooks:
        backward_hooks = BackwardHookCall(module)
        args = backward_hooks.wrap_inputs(args)
    called = set()
    output = None
    try:
        output = module.forward(*args, **kwargs)
        for hook in list(module._forward_hooks):
            called.add(id(hook))
            result = (hook.fn(module, args, kwargs, output) if hook.with_kwargs
                      else hook.fn(module, args, output))
            if result is not None:
                output = result
    except Exception:
        for hook in list(module._forward_hooks):
            if hook.always_call and id(hook) not in called:
                try:
                    hook.fn(module, args, kwargs, output) if hook.with_kwargs else hook.fn(
                        module, args, output)
                except Exception as error:
                    warnings.warn("forward hook with ``always_call=True`` raised an exception "
                                  "that was silenced as another error was raised in forward: "
                                  f"{error}", stacklevel=3)
        raise
    if backward_hooks is not None:
        output = backward_hooks.wrap_output(output)
    return output


class BackwardHookFunction(Function):
    """(x1, ..., xn);  d/dxi = the gradient of output i: a node to catch a module call's gradients.

    The identity on the tensors of a module call (its inputs, or its
    outputs); its backward hands their gradients to the call's hooks and
    passes on what they return.
    """

    @staticmethod
    def forward(ctx, *tensors, on_backward):
        ctx.on_backward = on_backward
        return tuple(t.array for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return ctx.on_backward(grads)


class BackwardHookCall:
    """One module call whose backward hooks wait for gradients, as PyTorch's ``BackwardHook``."""

    def __init__(self, module):
        self.module = module
        self.n_inputs = 0
        self.input_positions = None  # positions of the inputs that pass through the input node
        self.n_outputs = 0
        self.output_positions = None
        self.grad_outputs = None

    def wrap_inputs(self, args):
        self.n_inputs = len(args)
        args, self.input_positions = self._through_node(args, self._on_grad_inputs)
        return args

    def wrap_output(self, output):
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        self.n_outputs = len(outputs)
        outputs, self.output_positions = self._through_node(outputs, self._on_grad_outputs)
        return outputs[0] if single else outputs

    def _through_node(self, values, on_backward):
        """Pass the tensors among ``values`` that require grad through one identity node."""
        positions = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
        if not (positions and is_grad_enabled()):
            return values, None
        passed = BackwardHookFunction.apply(*[values[i] for i in positions],
                                            on_backward=on_backward)
        replaced = list(values)
        for i, tensor in zip(positions, passed):
            replaced[i] = tensor
        if type(values) is not tuple and isinstance(values, tuple):  # a named tuple
            return type(values)(*replaced), positions
        return tuple(replaced), positions

    def _packed(self, positions, grads, size):
        packed = [None] * size
        for i, g in zip(positions, grads):
            packed[i] = g
        return tuple(packed)

    def _on_grad_outputs(self, grads):
        module = self.module
        self.grad_outputs = self._packed(self.output_positions, grads, self.n_outputs)
        for hook in list(module._backward_pre_hooks):
            result = hook.fn(module, self.grad_outputs)
            if result is None:
                continue
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != len(self.grad_outputs):
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(result)}, but expected {len(self.grad_outputs)}")
            self.grad_outputs = result
        grad_outputs = self.grad_outputs
        if self.input_positions is None:  # no input needs a gradient: the hooks fire now
            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients. See "
                          "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in list(module._backward_hooks):
                result = hook.fn(module, grad_inputs, grad_outputs)
                if result is not None and not (isinstance(result, tuple)
                                               and all(r is None for r in result)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_positions)

    def _on_grad_inputs(self, grads):
        if self.grad_outputs is None:  # gradients that did not come through the output
            return grads
        module = self.module
        grad_inputs = self._packed(self.input_positions, grads, self.n_inputs)
        for hook in list(module._backward_hooks):
            result = hook.fn(module, grad_inputs, self.grad_outputs)
            if result is None:
                continue
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != len(grad_inputs):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, got "
                                   f"{len(result)}, but expected {len(grad_inputs)}")
            grad_inputs = result
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_positions)
