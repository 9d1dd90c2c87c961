"""``Optimizer``: the base of every optimizer, with PyTorch's API.

An optimizer holds ``param_groups`` (lists of parameters, each group with its
own hyperparameters) and ``state`` (per parameter: momentum buffers, running
averages, step counts). ``step()`` updates every parameter that has a
gradient, in place on its array (with the array module of the parameter's
device, ``chainrule.device.array_module``): the update is bookkeeping, not
part of any graph, but it bumps the parameter's version counter, so a graph
that saved the parameter before the step refuses to backward through it, as
in PyTorch. A subclass writes only ``_update`` (one parameter's rule) and
``_problems`` (which hyperparameter values it refuses).

``state_dict()`` holds arrays (on the parameters' device) and Python numbers
only, so it can be saved as JSON or ``.npz`` without pickle; ``load_state_dict``
checks everything before it changes anything, and copies arrays onto the
device of their parameter.
"""

import numbers
from collections import defaultdict

import numpy as np

from chainrule.autograd.grad_mode import enable_grad
from chainrule.device import array_module, backend_of
from chainrule.tensor import Tensor

__all__ = ["Optimizer"]


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors that require grad, or of dicts
    ``{"params": [...], "lr": ..., ...}`` (param groups) whose missing
    options are taken from ``defaults``.
    """

    # The names of the per-parameter state entries that are arrays shaped like
    # the parameter, and of those that are plain numbers (checked on load).
    _array_state = ()
    _number_state = ()

    def __init__(self, params, defaults):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of param-group dicts, got a "
                f"single Tensor; wrap it in a list: [tensor]"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: params must be an ordered collection, not a set; use a list")
        self._raise_if_any(self._problems(defaults), "")
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
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
                      if key != "params"]
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

        owner = {p: i for i, group in enumerate(self.param_groups) for p in group["params"]}
        for position, p in enumerate(params):
            where = f"{name}: parameter {position} of param group {index}"
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{where} is a {type(p).__name__}; an optimizer can only optimize Tensors")
            if not p.requires_grad:
                raise ValueError(
                    f"{where} (shape {tuple(p.shape)}) does not require grad; call "
                    f"requires_grad_() on it or leave it out"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{where} (shape {tuple(p.shape)}) is not a leaf tensor (it was computed "
                    f"by an op); optimize the leaf it comes from"
                )
            if p in owner:
                raise ValueError(
                    f"{where} (shape {tuple(p.shape)}) is already in param group {owner[p]}; "
                    f"each parameter may appear in only one group, once"
                )
            owner[p] = index

        group = dict(self.defaults)
        group.update(param_group)
        group["params"] = params
        self._raise_if_any(self._problems(group), f" param group {index}:")
        self.param_groups.append(group)

    # ----------------------------------------------------------------- steps

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad``: to None (the default), or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad.grad_fn is None and p.grad.data.flags.writeable:
                    p.grad.data[...] = 0
                    p.grad._version[0] += 1
                else:  # part of a graph, or a read-only view: a fresh zero tensor
                    zeros = array_module(p.grad.data).zeros_like(p.grad.data)
                    p.grad = Tensor._make(zeros, False, None)

    def step(self, closure=None):
        """Update every parameter that has a gradient; return ``closure()``'s loss, if given.

        ``closure`` (optional) recomputes the loss and the gradients; it runs
        with gradient recording on.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_grads()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p.data, p.grad.data, group, self.state[p])
                    p._version[0] += 1  # tensors saved for a backward pass are now stale
        return loss

    def _update(self, param, grad, group, state):
        """Update ``param`` (an ndarray, in place) from ``grad``; subclasses implement it."""
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

        ``{"state": {index: {name: ndarray or number}}, "param_groups": [{option:
        value, ..., "params": [index, ...]}]}``, parameters numbered in group order.
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index_of.setdefault(p, len(index_of)) for p in group["params"]]
            groups.append(packed)
        state = {
            index_of[p]: {key: _copy_value(value) for key, value in entries.items()}
            for p, entries in self.state.items() if p in index_of and entries
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``: the same number of groups and of parameters per group.

        Everything is checked first; a ValueError lists every mismatch and
        leaves the optimizer unchanged. Arrays are copied, in each
        parameter's dtype. JSON's changes are undone: string keys
        ("0") become ints, lists of options become tuples.
        """
        problems, groups, state = self._read_state_dict(state_dict)
        if problems:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state dict does not match this "
                "optimizer:\n  - " + "\n  - ".join(problems)
            )
        self.param_groups = groups
        self.state = defaultdict(dict, state)

    def _read_state_dict(self, state_dict):
        """(problems, new param_groups, new state) from ``state_dict``, changing nothing."""
        if not _has_state_dict_layout(state_dict):
            layout = "expected a dict with 'state' (a dict) and 'param_groups' (a list of dicts)"
            return [layout], None, None
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        problems = []
        if len(saved_groups) != len(self.param_groups):
            problems.append(
                f"it has {len(saved_groups)} param groups, this optimizer has "
                f"{len(self.param_groups)}"
            )
        param_of, groups = {}, []
        for index, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            where = f"param group {index}"
            ids = saved.get("params", [])
            if len(ids) != len(group["params"]):
                problems.append(
                    f"{where} has {len(ids)} parameters, this optimizer's has "
                    f"{len(group['params'])}"
                )
            param_of.update(zip(ids, group["params"]))
            missing = sorted(set(self.defaults) - set(saved))
            if missing:
                problems.append(f"{where} lacks the options {missing}")
                continue
            options = {key: tuple(value) if isinstance(value, list) else value
                       for key, value in saved.items() if key != "params"}
            problems += [f"{where}: {problem}" for problem in self._problems(options)]
            groups.append({**options, "params": group["params"]})

        state = {}
        for key, entries in saved_state.items():
            index = int(key) if isinstance(key, str) and key.isdigit() else key
            if index not in param_of:
                problems.append(f"state entry {key!r} names no parameter of this optimizer")
                continue
            if not isinstance(entries, dict):
                problems.append(f"state of parameter {index} is a {type(entries).__name__}, "
                                "not a dict")
                continue
            p = param_of[index]
            entry_problems, state[p] = self._read_param_state(p, entries)
            problems += [f"state of parameter {index}: {problem}" for problem in entry_problems]
        return problems, groups, state

    def _read_param_state(self, param, entries):
        """(problems, state) for one parameter's saved entries."""
        problems, state = [], {}
        for name, value in entries.items():
            if name in self._number_state:
                if getattr(value, "ndim", None) == 0:  # a 0-d array or a numpy scalar
                    value = value.item()
                if not _is_real(value):
                    problems.append(f"{name} must be a number, got {type(value).__name__}")
                state[name] = value
            elif name in self._array_state:
                array = np.asarray(backend_of(value).to_host(value))  # to check; copied below
                if array.dtype.kind not in "fiu":
                    problems.append(f"{name} must be an array of numbers, got dtype {array.dtype}")
                elif array.shape != param.shape:
                    problems.append(
                        f"{name} has shape {array.shape}, the parameter has shape "
                        f"{tuple(param.shape)}"
                    )
                else:
                    state[name] = array_module(param.data).array(array, dtype=param.data.dtype)
            else:
                known = sorted(self._array_state + self._number_state)
                problems.append(f"unknown entry {name!r} (a {type(self).__name__} keeps {known})")
        return problems, state


def _has_state_dict_layout(state_dict):
    return (isinstance(state_dict, dict) and isinstance(state_dict.get("state"), dict)
            and isinstance(state_dict.get("param_groups"), list)
            and all(isinstance(group, dict) for group in state_dict["param_groups"]))


def _copy_value(value):
    """A copy of an array (of any backend); numbers as they are."""
    return value.copy() if hasattr(value, "copy") else value


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def at_least_zero(settings, *names):
    """Problems for each of ``names`` that is not a real number >= 0."""
    problems = []
    for name in names:
        value = settings[name]
        if not _is_real(value):
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
        for i, beta in enumerate(betas) if not (_is_real(beta) and 0 <= beta < 1)
    ]


def lerp_(start, end, weight):
    """start += weight * (end - start), in place, rounded as ``torch.lerp_`` rounds it."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)
