"""``Module``: a model as a tree of layers that owns its parameters.

Assigning a ``Parameter`` or a ``Module`` to an attribute registers it, so
``parameters()``, ``named_parameters()`` (dotted names such as
``"layers.0.weight"``), ``state_dict()``, ``train()``/``eval()`` and
``zero_grad()`` reach everything without bookkeeping by hand, as in PyTorch.
``to(device | dtype)``, ``float()``, ``double()``, ``half()``, ``cpu()`` and
``cuda()`` convert the parameters and buffers in place (each keeps its
identity, so an optimizer made before still holds them).

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(2, 4)
    ...         self.out = nn.Linear(4, 1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> model = TwoLayer()
    >>> [name for name, _ in model.named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
"""

from collections import OrderedDict

import numpy as np

from chainrule.device import array_module, backend_for, backend_of, device
from chainrule.nn.hooks import add_hook, call_with_hooks
from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor, _as_dtype

__all__ = ["Module"]


class Module:
    """Base class of every layer and model: override ``__init__`` and ``forward``."""

    training = True

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", [])
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "_backward_hooks", [])
        object.__setattr__(self, "_backward_pre_hooks", [])
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------- registration

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        if name in self._buffers and (value is None or (isinstance(value, Tensor)
                                                        and not isinstance(value, Parameter))):
            self._buffers[name] = value  # a buffer stays a buffer, as in PyTorch
            return
        if name in self._parameters and value is not None and not isinstance(value, Parameter):
            raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                            "(chainrule.nn.Parameter or None expected)")
        if name in self._parameters and value is None:
            self._parameters[name] = None
            return
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            members = self.__dict__.get(registry)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, "
                            f"got {type(param).__name__}")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is part of the module's state but is not trained.

        It moves with ``.to()``; with ``persistent=True`` it is also saved in and
        loaded from ``state_dict`` (``persistent=False``: a cache, rebuilt, not saved).
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        if "." in name or not name:
            raise KeyError(f"register_buffer: buffer name can't be empty or contain '.', "
                           f"got {name!r}")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._modules[name] = module

    def register_module(self, name, module):
        """``add_module`` under its other name."""
        self.add_module(name, module)

    def get_submodule(self, target):
        """The submodule at the dotted path ``target`` ('' is this module)."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"get_submodule: {type(module).__name__} has no submodule "
                                     f"{part!r} (looking for {target!r})")
            module = child
        return module

    def get_parameter(self, target):
        """The parameter at the dotted path ``target`` (``"layer.weight"``)."""
        return self._get_member(target, "_parameters", "parameter")

    def get_buffer(self, target):
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``)."""
        return self._get_member(target, "_buffers", "buffer")

    def _get_member(self, target, registry, kind):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        members = getattr(module, registry)
        if name not in members:
            raise AttributeError(f"get_{kind}: {type(module).__name__} has no {kind} {name!r} "
                                 f"(looking for {target!r})")
        return members[name]

    # ------------------------------------------------------------ calling

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define one")

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)  # the common case, kept cheap
        return call_with_hooks(self, args, kwargs)  # in PyTorch's order: see chainrule.nn.hooks

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` before forward; may return replacement args.

        With ``with_kwargs=True``: ``hook(module, args, kwargs)``, which may
        return ``(args, kwargs)``. ``prepend=True`` runs it before the hooks
        already registered. Returns a handle whose ``remove()`` takes it off.
        """
        return add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output)`` after forward; may return a replacement output.

        With ``with_kwargs=True``: ``hook(module, args, kwargs, output)``.
        ``always_call=True`` runs it even when forward raises (output None).
        """
        return add_hook(self._forward_hooks, hook, prepend, with_kwargs, always_call)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` once the output's gradients are known; may replace them."""
        return add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` when the gradients of this call are known.

        ``grad_output`` holds the gradient of each element of the output and
        ``grad_input`` that of each positional argument (``None`` for those
        that are not tensors or need no gradient), as tuples. Returning a
        tuple replaces ``grad_input``.
        """
        return add_hook(self._backward_hooks, hook, prepend)

    # ----------------------------------------------------------- traversal

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """This module and every submodule, with dotted names ('' for this one); a module
        reachable by several paths comes once unless ``remove_duplicate=False``."""
        seen = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate and id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Every parameter with its dotted name, each once even if shared (tied weights),
        unless ``remove_duplicate=False``."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_name, module in modules:
            for name, member in getattr(module, registry).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield (f"{module_name}.{name}" if module_name else name), member

    def parameters(self, recurse=True):
        """Every parameter, each once: ``named_parameters`` without building the names."""
        seen = set()
        for module in (self._all_modules() if recurse else (self,)):
            for param in module._parameters.values():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield param

    def _all_modules(self):
        modules, stack, seen = [], [self], set()
        while stack:
            module = stack.pop()
            if id(module) not in seen:
                seen.add(id(module))
                modules.append(module)
                stack.extend(reversed([m for m in module._modules.values() if m is not None]))
        return modules

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Every buffer with its dotted name, each once unless ``remove_duplicate=False``."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call ``fn`` on every submodule, then on this one (e.g. to initialise weights)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------- modes

    def train(self, mode=True):
        """Training mode (dropout drops, batch norm uses batch statistics) or not."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient (to None by default, as in PyTorch)."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                zeros = array_module(param.grad.array).zeros_like(param.grad.array)
                param.grad = Tensor._make(zeros, False, None)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    # --------------------------------------------------------------- state

    def _state_items(self):
        """(dotted name, tensor) of every parameter and persistent buffer by every path, in
        PyTorch's order: per module, parameters then buffers; tied tensors under each name."""
        for module_name, module in self.named_modules(remove_duplicate=False):
            prefix = f"{module_name}." if module_name else ""
            for name, tensor in module._parameters.items():
                if tensor is not None:
                    yield prefix + name, tensor
            for name, tensor in module._buffers.items():
                if tensor is not None and name not in module._non_persistent_buffers:
                    yield prefix + name, tensor

    def state_dict(self):
        """Every parameter and persistent buffer by dotted name, as detached tensors sharing
        their data (a tied weight under each of its names, as PyTorch's)."""
        state = OrderedDict()
        for name, tensor in self._state_items():
            state.setdefault(name, tensor.detach())
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy ``state_dict`` into the parameters and buffers, all or nothing.

        Every missing, unexpected and mismatched (shape or dtype) key is
        reported at once, and if anything is wrong nothing is changed.
        With ``strict=False`` missing and unexpected keys are allowed (and
        returned); mismatched shapes never are.
        """
        own = dict(self._state_items())
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        mismatched = []
        arrays = {}
        for name, target in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value.array if isinstance(value, Tensor) else backend_of(value).asarray(value)
            if array.shape != target.array.shape:
                mismatched.append(f"{name}: shape {tuple(array.shape)} in the checkpoint, "
                                  f"{tuple(target.array.shape)} in the model")
            elif array.dtype != target.array.dtype and not np.can_cast(array.dtype, target.array.dtype,
                                                                      "same_kind"):
                mismatched.append(f"{name}: dtype {array.dtype} in the checkpoint, "
                                  f"{target.array.dtype} in the model")
            else:
                arrays[name] = array
        problems = list(mismatched)
        if strict:
            problems += [f"missing key: {name}" for name in missing]
            problems += [f"unexpected key: {name}" for name in unexpected]
        if problems:
            raise ValueError(
                f"load_state_dict: {type(self).__name__} cannot load this state dict "
                f"(nothing was changed):\n  " + "\n  ".join(problems)
            )
        for name, array in arrays.items():
            target = own[name]
            target.array[...] = _moved(array, backend_of(target.array))
            target._version[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------ device and dtype

    def to(self, *args, **kwargs):
        """Move and/or cast the parameters and buffers, in place; returns ``self``.

        As ``torch.nn.Module.to``: ``to(device)``, ``to(dtype)``, ``to(device,
        dtype)``, ``to(tensor)`` (its device and dtype), or by keyword. A dtype
        must be floating point and applies only to floating-point parameters
        and buffers (``num_batches_tracked`` stays int64). Each parameter keeps
        its identity: its ``data`` (and ``grad``) are replaced, and its version
        counter moves on, so a graph that saved the old values refuses to
        backward through them.
        """
        target_device, dtype = _parse_to(args, kwargs)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired "
                            f"dtype={dtype}")
        backend = None if target_device is None else backend_for(target_device)
        return self._convert(lambda array: _converted(array, backend, dtype))

    def cpu(self):
        """Move every parameter and buffer to the CPU."""
        return self.to("cpu")

    def cuda(self, device=None):
        """Move every parameter and buffer to a GPU (an error while no GPU backend is installed)."""
        return self.to("cuda" if device is None else device)  # an int is cuda:int

    def float(self):
        """Cast floating-point parameters and buffers to float32."""
        return self.to(np.float32)

    def double(self):
        """Cast floating-point parameters and buffers to float64."""
        return self.to(np.float64)

    def half(self):
        """Cast floating-point parameters and buffers to float16."""
        return self.to(np.float16)

    def _convert(self, convert):
        """Replace the data of every parameter, gradient and buffer by ``convert(data)``."""
        seen = set()
        for module in self._all_modules():
            for tensor in list(module._parameters.values()) + list(module._buffers.values()):
                if tensor is None or id(tensor) in seen:  # shared ones once
                    continue
                seen.add(id(tensor))
                _replace_data(tensor, convert(tensor.array))
                if tensor.grad is not None:
                    _replace_data(tensor.grad, convert(tensor.grad.array))
        return self

    # ---------------------------------------------------------------- repr

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"


def _parse_to(args, kwargs):
    """(device or None, numpy dtype or None) from ``to``'s arguments, as PyTorch reads them."""
    kwargs = dict(kwargs)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    target_device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    tensor = kwargs.pop("tensor", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    args = list(args)
    if args and isinstance(args[-1], bool):  # to(dtype, non_blocking)
        args.pop()
    if len(args) > 2:
        raise TypeError(f"to() takes a device, a dtype or a tensor, got {len(args)} arguments")
    for arg in args:
        if isinstance(arg, Tensor):
            tensor = arg
        elif isinstance(arg, (str, device)) or (isinstance(arg, int) and not isinstance(arg, bool)):
            target_device = arg
        else:
            dtype = arg
    if tensor is not None:
        target_device, dtype = tensor.device, tensor.dtype
    return target_device, None if dtype is None else _as_dtype(dtype)


def _converted(array, backend, dtype):
    """``array`` on ``backend`` (None: where it is) as ``dtype`` if it is floating point."""
    if backend is not None:
        array = _moved(array, backend)
    if dtype is not None and array.dtype.kind == "f" and array.dtype != dtype:
        array = array.astype(dtype)
    return array


def _moved(array, backend):
    """``array`` as an array of ``backend`` (itself when it is one already)."""
    source = backend_of(array)
    if source is backend:
        return array
    return backend.asarray(source.to_host(array))


def _replace_data(tensor, array):
    if array is not tensor.array:
        tensor.array = array
        tensor._version[0] += 1  # what a saved tensor held is gone


class _IncompatibleKeys:
    """What ``load_state_dict`` returns: the keys it skipped (only with strict=False)."""

    def __init__(self, missing_keys, unexpected_keys):
        self.missing_keys = missing_keys
        self.unexpected_keys = unexpected_keys

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")
