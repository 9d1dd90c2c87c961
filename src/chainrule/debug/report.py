"""``gradient_report``: read a model's gradients after ``loss.backward()`` and say what is wrong.

Per parameter, in ``named_parameters()`` order (registration order, which
for ``Sequential`` and the usual ``__init__`` runs from input to output):
the gradient norm ||g||, the weight norm ||w||, their ratio, and, given the
optimizer, the update-to-weight ratio ||step|| / ||w||, where ``step`` is
exactly what ``optimizer.step()`` would change the weight by (its own
update rule run on copies; for Adam that includes the moments and the bias
correction). Then five checks, each a ``Flag(kind, name, explanation, fix)``:

``"no gradient"``
    ``p.grad is None`` while ``p.requires_grad``: the loss never reached the
    parameter; its layer is disconnected from the loss.
``"vanishing"``
    For each weight (a parameter of 2 or more dimensions; biases and norm
    scales are left out, their size says little about depth), compare
    ||g|| with the largest weight-gradient norm at or after it, nearer the
    output. Below ``vanishing_ratio`` (1e-3) times that, it is flagged: the
    gradient shrank by three orders of magnitude on its way to the input.
``"exploding"``
    ||g|| above ``exploding_norm`` (1e3) for any parameter; or, given the
    optimizer, a weight whose next step would be more than
    ``max_update_ratio`` (1.0) times its own norm.
``"dead relu"``
    Given ``dead_relu_batch`` (or a ``watch_activations`` watch), an
    ``nn.ReLU`` whose units were never active on the batch, for more than
    ``dead_fraction`` (0.5) of them.
``"nan/inf"``
    NaN or Inf in a gradient or a weight.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(4, 8)
    ...         self.extra = nn.Linear(8, 8)  # defined, but forward() never calls it
    ...         self.out = nn.Linear(8, 2)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> model = Net()
    >>> loss = nn.functional.cross_entropy(model(cr.randn(5, 4)), cr.tensor([0, 1, 0, 1, 1]))
    >>> loss.backward()
    >>> report = gradient_report(model)
    >>> [(flag.kind, flag.name) for flag in report.flags]
    [('no gradient', 'extra.weight'), ('no gradient', 'extra.bias')]
    >>> report.ok
    False
"""

import math
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from chainrule.autograd.grad_mode import no_grad
from chainrule.debug.activations import ActivationWatch, watch_activations
from chainrule.debug.plot import plot_reports
from chainrule.tensor import Tensor

__all__ = ["gradient_report", "GradientReport", "ParameterRow", "Flag", "KINDS", "NO_GRADIENT",
           "VANISHING", "EXPLODING", "DEAD_RELU", "NONFINITE"]

NO_GRADIENT, VANISHING, EXPLODING, DEAD_RELU, NONFINITE = (
    "no gradient", "vanishing", "exploding", "dead relu", "nan/inf")
KINDS = (NONFINITE, NO_GRADIENT, EXPLODING, VANISHING, DEAD_RELU)  # the order flags are listed in

FIXES = {
    NO_GRADIENT: "check that forward() uses this layer (and that nothing on the way to the loss "
                 "calls .detach(), .item() or runs under no_grad()); if it is unused on purpose, "
                 "freeze it with requires_grad_(False)",
    VANISHING: "use ReLU instead of sigmoid/tanh, add residual connections (x + f(x)) or "
               "normalisation (nn.LayerNorm, nn.BatchNorm1d), and an init made for the activation "
               "(nn.init.kaiming_normal_ for ReLU)",
    EXPLODING: "clip before optimizer.step(): chainrule.nn.utils.clip_grad_norm_("
               "model.parameters(), max_norm=1.0); lower the learning rate; check the init",
    DEAD_RELU: "lower the learning rate, use nn.LeakyReLU(0.01), or a better init "
               "(nn.init.kaiming_normal_, a small positive bias)",
    NONFINITE: "find the op that made it with chainrule.detect_anomaly(); common causes are "
               "log(0), division by zero and a learning rate so large the weights overflow",
}

Flag = namedtuple("Flag", "kind name explanation fix")
Flag.__doc__ = "One problem: its kind, the parameter or layer, what was seen, and the usual fix."


@dataclass
class ParameterRow:
    """One parameter's numbers. ``grad_norm`` is None when it has no gradient,
    ``update_ratio`` when no optimizer was given (or it holds no such parameter)."""

    name: str
    shape: tuple
    grad_norm: float
    weight_norm: float
    update_ratio: float = None

    @property
    def ratio(self):
        """||g|| / ||w||: inf for a zero weight with a non-zero gradient, None with no gradient."""
        if self.grad_norm is None:
            return None
        if self.weight_norm == 0:
            return 0.0 if self.grad_norm == 0 else math.inf
        return self.grad_norm / self.weight_norm

    @property
    def is_weight(self):
        return len(self.shape) >= 2


class GradientReport:
    """What ``gradient_report`` found: ``rows``, ``flags``, ``dead_units``, ``notes``; ``ok``
    when nothing is flagged. ``str(report)`` is a plain-text table; ``report.plot(path)`` a PNG."""

    def __init__(self, model_name, rows, flags, dead_units, notes, update_method, thresholds):
        self.model_name = model_name
        self.thresholds = thresholds  # the keyword arguments the checks ran with
        self.rows = rows
        self.flags = flags
        self.dead_units = dead_units  # {ReLU site: (dead, units)}; empty without a batch
        self.notes = notes
        self.update_method = update_method  # how update_ratio was computed, or None

    @property
    def ok(self):
        return not self.flags

    def flagged(self, kind=None):
        """The names flagged (with ``kind``: only those of that kind), in report order."""
        return [flag.name for flag in self.flags if kind is None or flag.kind == kind]

    def __repr__(self):
        kinds = sorted({flag.kind for flag in self.flags})
        return (f"<GradientReport {self.model_name}: {len(self.rows)} parameters, "
                f"{'ok' if self.ok else 'flags: ' + ', '.join(kinds)}>")

    def __str__(self):
        by_name = {}
        for flag in self.flags:
            by_name.setdefault(flag.name, []).append(flag.kind)
        header = ["parameter", "shape", "|grad|", "|weight|", "|grad|/|w|"]
        if self.update_method is not None:
            header.append("update/|w|")
        header.append("flags")
        table = [header]
        for row in self.rows:
            cells = [row.name, "x".join(map(str, row.shape)) or "scalar", _num(row.grad_norm),
                     _num(row.weight_norm), _num(row.ratio)]
            if self.update_method is not None:
                cells.append(_num(row.update_ratio))
            cells.append(", ".join(dict.fromkeys(by_name.get(row.name, []))))
            table.append(cells)
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        lines = [f"gradient report for {self.model_name} ({len(self.rows)} parameters, "
                 "input to output)"]
        if self.update_method is not None:
            lines.append(f"update/|w|: {self.update_method}")
        for line in table:
            lines.append("  ".join(cell.ljust(w) if i == 0 or i == len(line) - 1 else cell.rjust(w)
                                   for i, (cell, w) in enumerate(zip(line, widths))).rstrip())
        if self.dead_units:
            lines.append("ReLU units never active on the batch:")
            for site, (dead, units) in self.dead_units.items():
                lines.append(f"  {site}: {dead}/{units} ({dead / max(units, 1):.0%})")
        lines += [f"note: {note}" for note in self.notes]
        if self.ok:
            lines.append("ok: no problems found")
            return "\n".join(lines)
        lines.append(f"{len(self.flags)} problem{'s' if len(self.flags) > 1 else ''}:")
        for kind in KINDS:
            flags = [flag for flag in self.flags if flag.kind == kind]
            if flags:
                lines.append(f"[{kind}]")
                lines += [f"  {flag.name}: {flag.explanation}" for flag in flags]
                lines.append(f"  fix: {flags[0].fix}")
        return "\n".join(lines)

    def plot(self, path, title=None):
        """Write a PNG of the gradient norm per parameter (log scale); needs matplotlib."""
        return plot_reports([self], path, titles=[title] if title else None)


def gradient_report(model, optimizer=None, dead_relu_batch=None, *, activations=None,
                    vanishing_ratio=1e-3, exploding_norm=1e3, max_update_ratio=1.0,
                    dead_fraction=0.5):
    """Check ``model``'s gradients after ``loss.backward()``; returns a ``GradientReport``.

    ``optimizer`` (optional) adds the update-to-weight ratio, from the step it
    would really take. ``dead_relu_batch`` (optional, the model's input) is
    run once through ``model`` under ``no_grad()`` in eval mode, so nothing
    changes (no gradients, no batch-norm statistics, no random numbers),
    to count the ReLU units that never fire; or pass ``activations=``, a
    watch from ``watch_activations(model)`` that saw the training forward.
    The thresholds are described in the module docstring.

    Called before any backward, when no parameter has a gradient at all, it
    raises ``RuntimeError`` instead of flagging every parameter.
    """
    name = "gradient_report"
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"{name}: model must be an nn.Module, got {type(model).__name__}")
    for argument, value, low in (("vanishing_ratio", vanishing_ratio, 0),
                                 ("exploding_norm", exploding_norm, 0),
                                 ("max_update_ratio", max_update_ratio, 0),
                                 ("dead_fraction", dead_fraction, 0)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > low:
            raise ValueError(f"{name}: {argument} must be a positive number, got {value!r}")
    if dead_fraction > 1:
        raise ValueError(f"{name}: dead_fraction is a fraction of units, in (0, 1], "
                         f"got {dead_fraction!r}")
    model_name = type(model).__name__
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"{name}: {model_name} has no parameter that requires grad; nothing to "
                         "report")
    if all(p.grad is None for _, p in params):
        raise RuntimeError(
            f"{name}: none of the {len(params)} parameters of {model_name} has a gradient. Call "
            "loss.backward() first, and the report before optimizer.zero_grad(); if you did, the "
            "loss depends on no parameter of this model"
        )

    steps, update_method = _optimizer_steps(optimizer, params, name)
    rows, flags = [], []
    for pname, p in params:
        grad = None if p.grad is None else np.asarray(p.grad.array)
        weight_norm = _norm(p.array)
        row = ParameterRow(pname, tuple(p.shape), None if grad is None else _norm(grad),
                           weight_norm)
        if pname in steps and np.isfinite(weight_norm) and weight_norm > 0:
            row.update_ratio = _norm(steps[pname]) / weight_norm
        rows.append(row)
        if grad is None:
            flags.append(Flag(NO_GRADIENT, pname, ".grad is None after backward: the loss does "
                              "not depend on it, it is disconnected from the loss",
                              FIXES[NO_GRADIENT]))
            continue
        for what, array in (("gradient", grad), ("weight", p.array)):
            bad = int(array.size - np.isfinite(array).sum())
            if bad:
                flags.append(Flag(NONFINITE, pname, f"its {what} holds {bad} NaN/Inf value"
                                  f"{'s' if bad > 1 else ''} of {array.size}", FIXES[NONFINITE]))
    flags += _exploding(rows, exploding_norm, max_update_ratio, optimizer)
    flags += _vanishing(rows, vanishing_ratio)

    notes, dead = [], {}
    if dead_relu_batch is not None:
        if activations is not None:
            raise ValueError(f"{name}: pass dead_relu_batch or activations, not both")
        activations = _watch_batch(model, dead_relu_batch, name)
    if activations is not None:
        if not isinstance(activations, ActivationWatch):
            raise TypeError(f"{name}: activations must come from watch_activations(model), got "
                            f"{type(activations).__name__}")
        dead = activations.dead_units()
        if not activations.relu_names:
            notes.append("no nn.ReLU modules, so no dead units to count (a relu() called "
                         "inside forward() is not seen)")
        for site, (n_dead, units) in dead.items():
            if units and n_dead / units > dead_fraction:
                flags.append(Flag(DEAD_RELU, site, f"{n_dead} of {units} units "
                                  f"({n_dead / units:.0%}) never active on the batch "
                                  f"(dead_fraction {dead_fraction:g}): they pass back no gradient",
                                  FIXES[DEAD_RELU]))
    if all(row.grad_norm == 0 for row in rows if row.grad_norm is not None):
        notes.append("every gradient is exactly zero: was optimizer.zero_grad(set_to_none=False) "
                     "called after backward, or is the loss constant?")
    order = {row.name: i for i, row in enumerate(rows)}
    flags.sort(key=lambda flag: (KINDS.index(flag.kind), order.get(flag.name, len(order))))
    thresholds = {"vanishing_ratio": vanishing_ratio, "exploding_norm": exploding_norm,
                  "max_update_ratio": max_update_ratio, "dead_fraction": dead_fraction}
    return GradientReport(model_name, rows, flags, dead, notes, update_method, thresholds)


def _exploding(rows, exploding_norm, max_update_ratio, optimizer):
    flags = []
    for row in rows:
        if row.grad_norm is None or not np.isfinite(row.grad_norm):
            continue
        if row.grad_norm > exploding_norm:
            flags.append(Flag(EXPLODING, row.name, f"|grad| {row.grad_norm:.2g} is above "
                              f"exploding_norm {exploding_norm:g}", FIXES[EXPLODING]))
        elif row.is_weight and row.update_ratio is not None and row.update_ratio > max_update_ratio:
            flags.append(Flag(EXPLODING, row.name, f"one {type(optimizer).__name__} step would "
                              f"move it by {row.update_ratio:.2g} x its own norm, above "
                              f"max_update_ratio {max_update_ratio:g}", FIXES[EXPLODING]))
    return flags


def _vanishing(rows, vanishing_ratio):
    """Flag each weight whose gradient norm is tiny next to the largest one nearer the output."""
    weights = [row for row in rows if row.is_weight and row.grad_norm is not None
               and np.isfinite(row.grad_norm)]
    flags, largest = [], None
    for row in reversed(weights):  # from the output back to the input
        if largest is None or row.grad_norm > largest.grad_norm:
            largest = row
        elif largest.grad_norm > 0 and row.grad_norm < vanishing_ratio * largest.grad_norm:
            drop = row.grad_norm / largest.grad_norm
            flags.append(Flag(VANISHING, row.name, f"|grad| {row.grad_norm:.2g} is {drop:.1g} x "
                              f"the {largest.grad_norm:.2g} of {largest.name} nearer the output "
                              f"(vanishing_ratio "
                              f"{vanishing_ratio:g}): it vanished on the way back",
                              FIXES[VANISHING]))
    return flags


def _optimizer_steps(optimizer, params, name):
    """({parameter name: the step optimizer.step() would take}, how it was computed).

    chainrule's optimizers keep their rule in ``_update(param, grad, group,
    state)``, so the step is that rule run on copies of the weight and the
    state: exact, and nothing changes. Another optimizer gets the
    approximation lr * g.
    """
    if optimizer is None:
        return {}, None
    if not hasattr(optimizer, "param_groups"):
        raise TypeError(f"{name}: optimizer must be an optimizer (with param_groups), got "
                        f"{type(optimizer).__name__}")
    group_of = {id(p): group for group in optimizer.param_groups for p in group["params"]}
    exact = callable(getattr(optimizer, "_update", None)) and hasattr(optimizer, "state")
    steps = {}
    for pname, p in params:
        group = group_of.get(id(p))
        if group is None or p.grad is None:
            continue
        grad = np.array(p.grad.array)
        if exact:
            before = np.array(p.array)
            after = before.copy()
            state = {key: value.copy() if isinstance(value, np.ndarray) else value
                     for key, value in optimizer.state.get(p, {}).items()}
            with no_grad():
                optimizer._update(after, grad, group, state)
            steps[pname] = after - before
        else:
            steps[pname] = group["lr"] * grad
    kind = type(optimizer).__name__
    method = (f"the exact step {kind}.step() would take, over the weight norm" if exact else
              f"lr * |grad| / |w|, an approximation of {kind}'s step")
    return steps, method


def _watch_batch(model, batch, name):
    if isinstance(batch, np.ndarray):
        batch = Tensor(batch)
    if not isinstance(batch, Tensor):
        raise TypeError(f"{name}: dead_relu_batch must be the model's input, a Tensor, got "
                        f"{type(batch).__name__}; pass the features, e.g. dead_relu_batch=features")
    was_training = model.training
    model.eval()
    try:
        with no_grad(), watch_activations(model) as watch:
            model(batch)
    finally:
        model.train(was_training)
    return watch


def _norm(array):
    """The 2-norm over all elements, in float64 (float32 squares overflow above ~1e19)."""
    values = np.asarray(array, dtype=np.float64).ravel()
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sqrt(np.dot(values, values)))


def _num(value):
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return f"{value:.2e}" if np.isfinite(value) else str(value)
