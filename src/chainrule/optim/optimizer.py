"""``Optimizer``: the base of every optimizer, with PyTorch's API.

An optimizer holds ``param_groups`` (lists of parameters, each group with its
own hyperparameters) and ``state`` (per parameter: momentum buffers, running
averages, step counts: the arrays the update works on, on the parameter's
device, under PyTorch's names). ``step()`` updates every parameter that has a
gradient, in place on its array (with the array module of the parameter's
device, ``chainrule.device.array_module``): the update is bookkeeping, not part of
any graph, but it bumps the parameter's version counter, so a graph that
saved the parameter before the step refuses to backward through it, as in
PyTorch. A subclass writes only ``_update`` (one parameter's rule) and
``_problems`` (which hyperparameter values it refuses).

``state_dict()`` is PyTorch's layout, ``{"state": {index: {name: Tensor}},
"param_groups": [{option: value, ..., "params": [index, ...]}]}``, a copy
whose state entries are chainrule Tensors (``step`` a 0-d float32 one);
``load_state_dict`` checks everything before it changes anything, and casts
each entry as PyTorch does (``step`` keeps its dtype; the rest take the
parameter's dtype and device). The loading itself is in ``state_loading``.
"""

from collections import defaultdict

import numpy as np

from chainrule.autograd.grad_mode import enable_grad
from chainrule.device import array_module
from chainrule.optim.state_loading import is_real, read_state_dict
from chainrule.tensor import Tensor
from chainrule.utils.hooks import RemovableHandle

__all__ = ["Optimizer"]


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs (as
    ``module.named_parameters()`` gives them; the names are kept in the
    group's ``param_names``), or of dicts ``{"params": [...], "lr": ...,
    ...}`` (param groups) whose missing options are taken from ``defaults``.
    Parameters that do not require grad are accepted and never change, as in
    PyTorch (a frozen layer's weights).
    """

    # The per-parameter state entries: arrays shaped like the parameter, and
    # 0-d ones ("step", a float32 count as in torch; others in the parameter's dtype).
    _array_state = ()
    _scalar_state = ()

    def __init__(self, params, defaults):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params argument given to the optimizer should be an iterable of Tensors "
                f"or dicts, but got a single Tensor; wrap it in a list: [tensor]"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: optimizer parameters need to be organized in ordered collections (the "
                "order of a set changes between runs), not a set; use a list")
        _check_implementation_flags(name, defaults)
        self._raise_if_any(self._problems(defaults), "")
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._step_pre_hooks, self._step_post_hooks = [], []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items())
                      if key not in ("params", "param_names")]
        return "\n".join(lines) + "\n)"

    # --------------------------------------------------------------- groups

    def add_param_group(self, param_group):
        """Add a group of parameters, with options that override ``defaults``.

        The dict is copied; nothing changes when any parameter or option is refused.
        """
        name = type(self).__name__
        index = len(self.param_groups)
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: a param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: param group {index} has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: param group {index}: params must be ordered, not a set; use a list")
        else:
            params = list(params)
        if not params:
            raise ValueError(f"{name}: param group {index} has an empty parameter list")
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) and len(p) == 2 else p for p in params]
        if names and len(names) != len(params):
            raise ValueError(f"{name}: all optimizer params should be with/without names. Some "
                             f"param names are missing in param group {index}")
        if self.param_groups and bool(names) != ("param_names" in self.param_groups[0]):
            raise ValueError(
                f"{name}: all optimizer param groups should be with/without names. cannot add "
                f"param group {'with' if names else 'without'} names to the optimizer")
        self._check_params(params, index)

        group = dict(self.defaults)
        group.update(param_group)
        group["params"] = params
        if names:
            group["param_names"] = names
        self._raise_if_any(self._problems(group), f" param group {index}:")
        self.param_groups.append(group)

    def _check_params(self, params, index):
        name = type(self).__name__
        owner = {p: i for i, group in enumerate(self.param_groups) for p in group["params"]}
        for position, p in enumerate(params):
            where = f"parameter {position} of param group {index}"
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: optimizer can only optimize Tensors, but {where} is a "
                    f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    f"{name}: can't optimize a non-leaf Tensor: {where} (shape "
                    f"{tuple(p.shape)}) is not a leaf tensor (it was computed by an op); "
                    "optimize the leaf it comes from"
                )
            if p in owner:
                raise ValueError(
                    f"{name}: some parameters appear in more than one parameter group: {where} "
                    f"(shape {tuple(p.shape)}) is already in param group {owner[p]}; each "
                    "parameter may appear in only one group, once"
                )
            owner[p] = index

    # ----------------------------------------------------------------- steps

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad``: to None (the default), or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad.grad_fn is None and p.grad.array.flags.writeable:
                    p.grad.array[...] = 0
                    p.grad._version[0] += 1
                else:  # part of a graph, or a read-only view: a fresh zero tensor
                    zeros = array_module(p.grad.array).zeros_like(p.grad.array)
                    p.grad = Tensor._make(zeros, False, None)

    def step(self, closure=None):
        """Update every parameter that has a gradient; return ``closure()``'s loss, if given.

        ``closure`` (optional) recomputes the loss and the gradients; it runs
        with gradient recording on.
        """
        args, kwargs = (() if closure is None else (closure,)), {}
        for hook in list(self._step_pre_hooks):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{type(self).__name__}.step: a step pre-hook must return None or a "
                        f"tuple (new_args, new_kwargs), but got {result!r}")
                args, kwargs = result
        closure = args[0] if args else kwargs.get("closure")
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_grads()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p.array, p.grad.array, group, self.state[p])
                    p._version[0] += 1  # tensors saved for a backward pass are now stale
        for hook in list(self._step_post_hooks):
            hook(self, args, kwargs)
        return loss

    def register_step_pre_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``; it may return new
        ``(args, kwargs)``. Returns a handle whose ``remove()`` takes it off."""
        self._step_pre_hooks.append(hook)
        return RemovableHandle(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``; returns a handle."""
        self._step_post_hooks.append(hook)
        return RemovableHandle(self._step_post_hooks, hook)

    def _update(self, param, grad, group, state):
        """Update ``param`` (an array, in place) from ``grad``; subclasses implement it.

        ``state`` is the parameter's dict of state arrays; ``_update`` makes
        them on first use (``state_zeros``, ``new_scalar``) and changes them in place.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    def _check_grads(self):
        """Refuse, before any parameter changes, a gradient whose shape is not its parameter's."""
        for index, group in enumerate(self.param_groups):
            for position, p in enumerate(group["params"]):
                if p.grad is not None and p.grad.shape != p.shape:
                    raise ValueError(
                        f"{type(self).__name__}.step: parameter {position} of param group {index} "
                        f"has shape {tuple(p.shape)} but its grad has shape {tuple(p.grad.shape)}"
                    )

    # ---------------------------------------------------- hyperparameters

    def _problems(self, settings):
        """What is wrong with the hyperparameters in ``settings``, as phrases (none: valid)."""
        return []

    def _raise_if_any(self, problems, where):
        if problems:
            raise ValueError(f"{type(self).__name__}:{where} " + "; ".join(problems))

    # ----------------------------------------------------------- save, load

    def state_dict(self):
        """The optimizer's state as plain data: a copy, in PyTorch's layout.

        ``{"state": {index: {name: Tensor}}, "param_groups": [{option: value, ...,
        "params": [index, ...]}]}``, parameters numbered in group order; the
        state's Tensors are copies (``step`` a 0-d float32 Tensor, as in torch).
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index_of.setdefault(p, len(index_of)) for p in group["params"]]
            groups.append(packed)
        state = {
            index_of[p]: {key: _as_tensor(value) for key, value in entries.items()}
            for p, entries in self.state.items() if p in index_of and entries
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``: the same number of groups and of parameters per group.

        Everything is checked first; a ValueError lists every mismatch and
        leaves the optimizer unchanged. Entries may be chainrule Tensors,
        arrays, numbers or nested lists (a state dict that went through
        JSON, whose string keys "0" become ints again and lists of options
        tuples). Each entry is copied onto its parameter's device, in its
        dtype, except ``step``, which keeps its own (float32 from a number).
        """
        problems, groups, state = read_state_dict(self, state_dict)
        if problems:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state dict does not match this "
                "optimizer:\n  - " + "\n  - ".join(problems)
            )
        self.param_groups = groups
        self.state = defaultdict(dict, state)


def _check_implementation_flags(name, defaults):
    """torch's refusals of its implementation flags; what chainrule cannot do says so."""
    for flag in ("foreach", "fused"):
        if defaults.get(flag) not in (None, True, False):
            raise TypeError(f"{name}: {flag} must be None, True or False, got {defaults[flag]!r}")
    if defaults.get("fused") and defaults.get("foreach"):
        raise RuntimeError(f"{name}: `fused` and `foreach` cannot be `True` together.")
    if defaults.get("differentiable"):
        raise NotImplementedError(
            f"{name}: differentiable=True (an optimizer step recorded in the autograd graph) is "
            "not supported by chainrule; leave it False")


def _as_tensor(value):
    """A state array as a new chainrule Tensor holding a copy (on its device)."""
    if hasattr(value, "shape") and hasattr(value, "copy"):
        return Tensor._make(value.copy(), False, None)
    return value


def state_zeros(state, name, param):
    """``state[name]``, made an array of zeros shaped like ``param`` the first time."""
    if name not in state:
        state[name] = array_module(param).zeros_like(param)
    return state[name]


def new_scalar(param, value=0.0, dtype=np.float32):
    """A 0-d array on ``param``'s device: torch's ``step`` (float32) or another scalar."""
    return array_module(param).full((), value, dtype=dtype)


def advance_step(state):
    """Add 1 to ``state["step"]`` (in place) and return the new count as a Python float."""
    step = state["step"]
    step += 1
    return float(step)


def at_least_zero(settings, *names):
    """Problems for each of ``names`` that is not a real number >= 0."""
    problems = []
    for name in names:
        value = settings[name]
        if not is_real(value):
            problems.append(f"{name} must be a real number, got {type(value).__name__} {value!r}")
        elif not value >= 0:
            problems.append(f"{name} must be >= 0, got {value!r}")
    return problems


def betas_in_unit_interval(settings):
    """Problems with ``settings["betas"]``: a pair of numbers, each in [0, 1)."""
    betas = settings["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        return [f"betas must be a pair (beta1, beta2), got {betas!r}"]
    return [
        f"betas[{i}] must be in [0, 1), got {beta!r}"
        for i, beta in enumerate(betas) if not (is_real(beta) and 0 <= beta < 1)
    ]


def lerp_(start, end, weight):
    """start += weight * (end - start), in place, rounded as ``torch.lerp_`` rounds it."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def adam_gradient(param, grad, group):
    """The gradient an Adam-family step uses: negated under ``maximize``, plus weight decay.

    L2 decay adds ``wd * theta`` to the gradient; with ``decoupled_weight_decay``
    (AdamW's way) the parameter itself is shrunk in place by ``1 - lr * wd`` instead.
    """
    if group["maximize"]:
        grad = -grad
    weight_decay = group["weight_decay"]
    if weight_decay != 0:
        if group.get("decoupled_weight_decay", False):
            param *= 1 - group["lr"] * weight_decay
        else:
            grad = grad + weight_decay * param
    return grad


def update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2):
    """m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g**2, both in place."""
    lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
