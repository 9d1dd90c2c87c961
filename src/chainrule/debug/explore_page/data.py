"""What the explore page shows, as plain data: every step, every running sum, every hover.

Numbers are formatted here (``:.4g``, as the trace's table does) and kept
as text beside their exact ``repr``, so the page shows what Python would
print and JSON never meets a NaN. Arrays become a summary (shape, norm, a
few values) and a heat map: the array folded to at most 32 x 32 cells, each
the mean of its block, scaled to -127..127 and packed as base64 bytes
(-128 marks a cell with no finite value).
"""

import base64
import math

import numpy as np

from chainrule.autograd.node import split_rule

__all__ = ["fmt", "heat", "summary", "steps_data", "SMALL"]

HEAT = 32  # heat maps have at most HEAT x HEAT cells
SMALL = 6  # arrays with at most this many elements show their values


def fmt(x):
    """A number as the trace prints it: ``:.4g``; ``-`` for None."""
    if x is None:
        return "-"
    return f"{float(x):.4g}"


def heat(array):
    """``{"r", "c", "s", "q"}``: rows, columns, the scale and the cells as base64 int8."""
    a = np.asarray(array, dtype=np.float64)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        if a.size > HEAT:  # a long vector wraps into a square
            cols = math.ceil(math.sqrt(a.size))
            a = np.concatenate([a, np.full(cols * cols - a.size, np.nan)]).reshape(cols, cols)
        else:
            a = a.reshape(1, -1)
    else:
        a = a.reshape(a.shape[0], -1)
    if a.size == 0:
        return None
    finite = np.isfinite(a)
    sums, counts = np.where(finite, a, 0.0), finite.astype(np.float64)
    for axis in (0, 1):
        if a.shape[axis] > HEAT:
            starts = np.linspace(0, a.shape[axis], HEAT + 1).round().astype(int)[:-1]
            sums = np.add.reduceat(sums, starts, axis=axis)
            counts = np.add.reduceat(counts, starts, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    known = counts > 0
    scale = float(np.abs(means[known]).max()) if known.any() else 0.0
    cells = np.zeros(means.shape, dtype=np.int8)
    if scale > 0:
        cells[known] = np.round(means[known] / scale * 127).astype(np.int8)
    cells[~known] = -128
    return {"r": int(means.shape[0]), "c": int(means.shape[1]), "s": fmt(scale),
            "q": base64.b64encode(cells.tobytes()).decode("ascii")}


def summary(x, with_heat=True):
    """What the page shows of a gradient or a value: a float, an array, or several outputs'."""
    if x is None:
        return {"text": "none", "value": "nan"}
    if isinstance(x, tuple):  # the gradients of a node with several outputs
        parts = [summary(g, with_heat) for g in x]
        return {"text": "(" + ", ".join(p["text"] for p in parts) + ")", "value": "nan",
                "outputs": parts}
    if not isinstance(x, np.ndarray) or x.ndim == 0:
        return {"text": fmt(x), "value": repr(float(x))}
    values = x.astype(np.float64)
    norm = float(np.linalg.norm(values.ravel()))
    out = {"shape": str(tuple(x.shape)), "norm": fmt(norm), "value": repr(norm),
           "text": f"{tuple(x.shape)} norm {fmt(norm)}"}
    if x.size <= SMALL:
        out["values"] = "[" + ", ".join(fmt(v) for v in values.ravel()) + "]"
    else:
        finite = np.isfinite(values)
        out["values"] = (f"mean {fmt(values[finite].mean() if finite.any() else math.nan)} "
                         f"std {fmt(values[finite].std() if finite.any() else math.nan)}")
        if not finite.all():
            out["values"] += f" ({int((~finite).sum())} nan/inf)"
    if with_heat:
        out["heat"] = heat(x)
    return out


def _scalar(x):
    return x is None or isinstance(x, float) or (isinstance(x, np.ndarray) and x.ndim == 0)


def _add(total, part):
    if total is None:
        return part
    return total + part


def steps_data(trace, box_ids, op_ids, before):
    """``(steps, targets)`` for the page.

    ``box_ids`` / ``op_ids`` map ``id(node)`` to the drawing's ids of the
    node's value and of its op; ``before`` maps ``id(node)`` to the gradient
    it held before the pass (None: none). Each step lists its terms, one per
    edge: the input, the local rule and derivative, the contribution and the
    input's running total after it. ``targets`` lists every node that
    received something, in order of first arrival.
    """
    targets, key_of, starts, sums = [], {}, {}, {}
    steps = []
    for step in trace.steps:
        function, _ = split_rule(step.node.rule)
        clauses = _clauses(step)
        terms = []
        for position, (name, child, part) in enumerate(
                zip(step.inputs, step.input_nodes, step.contributions)):
            key = key_of.get(id(child))
            if key is None:
                key = key_of[id(child)] = len(targets)
                start = starts[key] = before.get(id(child))
                sums[key] = None
                targets.append({"name": name, "leaf": bool(child.is_leaf),
                                "ids": box_ids.get(id(child), []),
                                "before": None if _is_zero(start) else summary(start)})
            term = {"input": name, "ids": box_ids.get(id(child), []), "target": key,
                    "contribution": summary(part)}
            if part is not None:  # the engine sums what arrives, then adds it to .grad
                sums[key] = _add(sums[key], part)
                total = sums[key] if starts[key] is None else starts[key] + sums[key]
                term["total"] = summary(total, with_heat=bool(child.is_leaf))
            if step.local_derivatives is not None:
                local = step.local_derivatives[position]
                term["local"] = repr(float(local))
                term["clause"] = _with_number(clauses[position], local, step.name, name)
                term["formula"] = f"{fmt(step.grad)} \u00d7 {fmt(local)} = {fmt(part)}"
            terms.append(term)
        steps.append({
            "index": step.index, "op": step.op, "name": step.name,
            "label": step.name if step.name == f"#{step.index}" else f"#{step.index} {step.name}",
            "ids": _ids_of(step.node, op_ids, box_ids),
            "function": function, "rule": step.rule, "line": step.node.rule,
            "value": None if step.value is None else summary(step.value),
            "grad": summary(step.grad), "terms": terms,
        })
    return steps, targets


def _ids_of(node, op_ids, box_ids):
    """The drawing's ids of a node: its op, then its value where that is drawn apart."""
    ids = list(op_ids.get(id(node), []))
    return ids + [i for i in box_ids.get(id(node), []) if i not in ids]


def _is_zero(grad):
    return grad is None or (_scalar(grad) and float(grad) == 0.0)


def _clauses(step):
    """The rule's clause for each input, where the rule names one per input; else None each.

    ``"d(a*b)/da = b, d(a*b)/db = a"`` has a clause per operand. A ``Value``
    op on one ``Value`` and a plain number keeps the ``Value`` as its first
    operand (``2 * x`` is ``x * 2``), so its one input takes the first clause.
    """
    n = len(step.inputs)
    parts = [part.strip() for part in step.rule.split(", ") if part.strip().startswith("d")]
    if len(parts) == 3 and all("_i " in p for p in parts[:2]):  # one clause per index
        return _indexed(step, parts) or [None] * n
    if len(parts) == n:
        return parts
    if n == 1 and len(parts) == 2 and step.op in ("+", "*"):
        return parts[:1]
    return [None] * n


def _indexed(step, parts):
    """``w·x+b``'s clauses, one per input: weights ``w_0..``, then the inputs that are
    Values ``x_0..`` (none when they are plain numbers), then the bias; checked against
    the node's value, summed in the op's order. None when neither reading fits."""
    n_in, inputs, local = len(step.inputs), step.input_nodes, step.local_derivatives
    for n, m in (((n_in - 1) // 2, (n_in - 1) // 2), (n_in - 1, 0)):
        if n + m + 1 != n_in:
            continue
        xs = [inputs[n + i].value for i in range(m)] if m else list(local[:n])
        if m and any(local[i] != xs[i] or local[n + i] != inputs[i].value for i in range(n)):
            continue
        total = inputs[-1].value
        for w, x in zip(inputs[:n], xs):
            total += w.value * x
        if total == step.value:
            return ([parts[0].replace("_i", f"_{i}") for i in range(n)]
                    + [parts[1].replace("_i", f"_{i}") for i in range(m)] + [parts[2]])
    return None


def _with_number(clause, local, node_name, input_name):
    """``"d(a*b)/da = b = 5"``; without a clause, ``"d(#1)/d(x) = 5"``."""
    number = fmt(local)
    if clause is None:
        return f"d({node_name})/d({input_name}) = {number}"
    clause, sep, condition = clause.partition(" with ")  # "... with n = 2" stays last
    if clause.rpartition(" = ")[2] != number:  # "d(a+b)/da = 1" needs no "= 1" again
        clause = f"{clause} = {number}"
    return clause + sep + condition
