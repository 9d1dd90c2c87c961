"""Reading a saved optimizer state dict: every check first, then PyTorch's casts.

``read_state_dict(optimizer, state_dict)`` returns ``(problems, param_groups,
state)`` and changes nothing; ``Optimizer.load_state_dict`` installs the
result only when ``problems`` is empty. As in ``torch.optim.Optimizer``:

- saved parameters are matched to this optimizer's by position (the ids in
  each group's ``params``), group by group;
- each group's options come from the state dict (with ``params`` replaced),
  so extra keys such as a scheduler's ``initial_lr`` come back too; torch's
  implementation flags (``foreach``, ``capturable``, ...) are filled in from
  the defaults when missing, as torch's ``__setstate__`` fills them;
- ``step`` keeps its own dtype (a number becomes a float32 0-d tensor), unless
  the group is ``capturable`` or ``fused`` (then float32); every other entry
  takes its parameter's dtype (when the parameter is floating) and device.
"""

import numbers

import numpy as np

from chainrule.device import array_module, backend_of
from chainrule.tensor import Tensor

__all__ = ["read_state_dict", "is_real", "IMPLEMENTATION_FLAGS"]

# Options that change how torch runs an update, never its result.
IMPLEMENTATION_FLAGS = ("foreach", "capturable", "differentiable", "fused")


def read_state_dict(optimizer, state_dict):
    """(problems, new param_groups, new state) from ``state_dict``, changing nothing."""
    if not _has_state_dict_layout(state_dict):
        layout = "expected a dict with 'state' (a dict) and 'param_groups' (a list of dicts)"
        return [layout], None, None
    saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
    problems = []
    if len(saved_groups) != len(optimizer.param_groups):
        problems.append(
            f"loaded state dict has a different number of parameter groups: it has "
            f"{len(saved_groups)} param groups, this optimizer has {len(optimizer.param_groups)}"
        )
    param_of, options_of, groups = {}, {}, []
    for index, (group, saved) in enumerate(zip(optimizer.param_groups, saved_groups)):
        where = f"param group {index}"
        ids = saved.get("params", [])
        if len(ids) != len(group["params"]):
            problems.append(
                f"loaded state dict contains a parameter group that doesn't match the size of "
                f"optimizer's group: {where} has {len(ids)} parameters, this optimizer's has "
                f"{len(group['params'])}"
            )
        options = {key: tuple(value) if isinstance(value, list) and key != "param_names" else value
                   for key, value in saved.items() if key != "params"}
        for flag in IMPLEMENTATION_FLAGS:
            if flag in optimizer.defaults:
                options.setdefault(flag, optimizer.defaults[flag])
        missing = sorted(set(optimizer.defaults) - set(options))
        if missing:
            problems.append(f"{where} lacks the options {missing}")
            continue
        problems += [f"{where}: {problem}" for problem in optimizer._problems(options)]
        if options.get("differentiable"):
            problems.append(f"{where}: differentiable=True is not supported by chainrule")
        if "param_names" not in options and "param_names" in group:
            options["param_names"] = group["param_names"]
        for i, p in zip(ids, group["params"]):
            param_of[i], options_of[i] = p, options
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
        entry_problems, state[p] = _read_param_state(optimizer, p, entries, options_of[index])
        problems += [f"state of parameter {index}: {problem}" for problem in entry_problems]
    return problems, groups, state


def _read_param_state(optimizer, param, entries, options):
    """(problems, state) for one parameter's saved entries: arrays on its device."""
    problems, state = [], {}
    xp = array_module(param.array)
    floating = param.dtype.kind == "f"
    for name, value in entries.items():
        array = _host_array(value)
        if name in optimizer._scalar_state:
            if array is None or array.ndim != 0 or array.dtype.kind not in "fiu":
                problems.append(f"{name} must be a number, got {type(value).__name__}")
                continue
            if name == "step":
                kept = isinstance(value, Tensor) or hasattr(value, "dtype")
                dtype = array.dtype if kept else np.float32
                if options.get("capturable") or options.get("fused"):
                    dtype = np.float32
            else:
                dtype = param.dtype if floating else array.dtype
            state[name] = xp.array(array, dtype=dtype)
        elif name in optimizer._array_state:
            if array is None or array.dtype.kind not in "fiu":
                kind = type(value).__name__ if array is None else f"dtype {array.dtype}"
                problems.append(f"{name} must be an array of numbers, got {kind}")
            elif array.shape != param.shape:
                problems.append(
                    f"{name} has shape {array.shape}, the parameter has shape "
                    f"{tuple(param.shape)}"
                )
            else:
                dtype = param.dtype if floating else array.dtype
                state[name] = xp.array(array, dtype=dtype)
        else:
            known = sorted(optimizer._array_state + optimizer._scalar_state)
            problems.append(f"unknown entry {name!r} (a {type(optimizer).__name__} keeps {known})")
    return problems, state


def _host_array(value):
    """``value`` (a Tensor, an array of any backend, a number, nested lists) as a numpy array
    in host memory, to check; None when it is none of those."""
    if isinstance(value, Tensor):
        value = value.array
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return np.asarray(backend_of(value).to_host(value))
    if isinstance(value, (str, bytes)) or value is None:
        return None
    try:
        return np.asarray(value)
    except (TypeError, ValueError):
        return None


def _has_state_dict_layout(state_dict):
    return (isinstance(state_dict, dict) and isinstance(state_dict.get("state"), dict)
            and isinstance(state_dict.get("param_groups"), list)
            and all(isinstance(group, dict) for group in state_dict["param_groups"]))


def is_real(value):
    """A real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
