"""The explore page: one self-contained HTML file that steps through a recorded backward pass.

:func:`build_page` turns a :class:`chainrule.debug.trace.BackwardTrace` (and,
optionally, the output it started from and the model) into the page:
``draw_graph``'s drawing laid out by Graphviz as inline SVG, the steps in
the order the engine ran them, the running ``.grad`` sums, hovers with heat
maps, modules as collapsible clusters, and for a model the gradient
doctor's view. No network, no library: the script and the style are inline.
"""

import re

import numpy as np

from chainrule.autograd.node import is_node, node_of
from chainrule.debug.explore_page.data import fmt, heat, steps_data, summary
from chainrule.debug.explore_page.drawing import (collapsed, drawing_ids, module_of_nodes,
                                                  modules_of, parameters_of, render_svg,
                                                  with_clusters)
from chainrule.debug.explore_page.layout import page
from chainrule.debug.graph import draw_graph
from chainrule.debug.report import NO_GRADIENT, gradient_report

__all__ = ["build_page"]

COLLAPSE_ABOVE = 60  # drawn nodes; above this, modules start collapsed
RANKDIRS = ("LR", "TB")
AREA = (920, 620)  # the graph's share of a 1400 x 800 window, in px
MAX_SCALE = 1.6  # the page never blows a small graph up more than this


def build_page(trace, root=None, model=None, before=None, title=None, recorded=None):
    """The page's HTML, as a string.

    ``root`` is the output the pass started from (default: the first step's
    node); ``model`` names parameters, draws modules as clusters and adds the
    doctor's view; ``before`` maps ``id(node)`` to the gradient each node held
    before the pass (default: what ``.grad`` holds now, less this pass's
    contributions, for leaves); ``recorded`` maps ``id(node)`` to the module
    path whose forward made it.
    """
    steps = trace.steps
    if root is None and steps:
        root = steps[0].node
    params = parameters_of(model)
    names = _names(trace, params)
    if before is None:
        before = _before_from_now(trace)
    views, note, count = {}, None, 0
    box_ids, op_ids, output_id, clusters, module_of = {}, {}, None, [], {}
    if root is not None and is_node(node_of(root)):
        labels = {name: node for node, name in names.values()}
        best = None
        for rankdir in RANKDIRS:  # the direction that fits the page's graph area best
            graph = draw_graph(root, model=model, names=labels, rankdir=rankdir)
            drawn = _drawing(graph.source, root, params, model, recorded)
            scale = _fit_scale(drawn[0].get("expanded"))
            if best is None or scale > best[0] * 1.1:
                best = (scale, drawn)
            if not drawn[0]:  # no Graphviz: one try is enough
                break
        views, note, box_ids, op_ids, output_id, clusters, module_of = best[1]
        count = graph.nodes
    else:
        note = "nothing to draw: no backward steps were recorded"
    step_list, targets = steps_data(trace, box_ids, op_ids, before)
    step_of = {id(step.node): step.index for step in steps}
    for target, node in zip(targets, _target_nodes(trace)):
        target["passes_on_at"] = step_of.get(id(node))
    engine = "value" if steps and steps[0].local_derivatives is not None else "tensor"
    data = {"engine": engine, "steps": step_list, "targets": targets, "clusters": clusters,
            "moduleOf": module_of, "maxScale": MAX_SCALE,
            "collapsed": count > COLLAPSE_ABOVE and "collapsed" in views,
            "nodes": _hovers(trace, root, names, box_ids, op_ids, output_id, targets),
            "doctor": (_doctor(model, params, box_ids, {id(n) for n in _target_nodes(trace)})
                       if model is not None else None)}
    what = "Value" if engine == "value" else "Tensor"
    summary_text = (f"{len(steps)} chain-rule step{'s' * (len(steps) != 1)}, {what} engine"
                    + (f", {type(model).__name__}" if model is not None else ""))
    return page(title or "chainrule: backward, step by step", summary_text, views, note, data)


def _drawing(source, root, params, model, recorded):
    """``(views, note, box_ids, op_ids, output_id, clusters, module_of)`` for one drawing.

    ``views`` holds the SVG of the whole graph (``"expanded"``) and, for a
    model, of the graph with each module as one box (``"collapsed"``).
    """
    box_ids, op_ids, output_id = drawing_ids(root, params, source)
    modules = modules_of(model)
    members = {}
    for key, path in module_of_nodes(root, params, modules, recorded).items():
        members.setdefault(path, []).extend(op_ids.get(key, []) + [
            i for i in box_ids.get(key, []) if i not in op_ids.get(key, [])])
    clustered, clusters = with_clusters(source, members, modules)
    views = {}
    svg, note = render_svg(clustered)
    if svg is None:
        return views, note, box_ids, op_ids, output_id, [], {}
    views["expanded"] = svg
    small, module_of = collapsed(source, clusters)
    if small is not None:
        views["collapsed"] = render_svg(small)[0]
    return views, note, box_ids, op_ids, output_id, clusters, module_of


def _fit_scale(svg):
    """How much the drawing must shrink (< 1) or may grow to fit ``AREA``; 0 without one."""
    found = svg and re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if not found:
        return 0.0
    width, height = (float(v) * 4 / 3 for v in found.groups())
    return min(AREA[0] / width, AREA[1] / height, MAX_SCALE)


def _names(trace, params):
    """``{id(node): (node, name)}``: what the trace calls each node, and the parameters' names."""
    names = {id(p): (p, name) for name, p in params}
    for step in trace.steps:
        names.setdefault(id(step.node), (step.node, step.name))
        for name, child in zip(step.inputs, step.input_nodes):
            names.setdefault(id(child), (child, name))
    return names


def _target_nodes(trace):
    """The nodes that received something, in order of first arrival, as ``steps_data`` has them."""
    seen, out = set(), []
    for step in trace.steps:
        for child in step.input_nodes:
            if id(child) not in seen:
                seen.add(id(child))
                out.append(child)
    return out


def _before_from_now(trace):
    """Each leaf's gradient before the pass: ``.grad`` now, less what the pass added."""
    before = {}
    for name, leaf, grads in trace.leaves():
        grad = getattr(leaf, "grad", None)
        if grad is None or not grads:
            continue
        now = grad if isinstance(grad, float) else np.asarray(grad.array)
        added = sum(grads[1:], grads[0])
        rest = now - added
        if np.max(np.abs(rest)) > 1e-6 * max(1.0, float(np.max(np.abs(now)))):
            before[id(leaf)] = rest
    return before


def _hovers(trace, root, names, box_ids, op_ids, output_id, targets):
    """``{drawn id: {"title", "lines", "heat", "target"}}``: what hovering a drawn node shows."""
    target_of = {}
    for key, target in enumerate(targets):
        for i in target["ids"]:
            target_of[i] = key
    grads = {id(step.node): step.grad for step in trace.steps}
    nodes = {}
    for key, (node, name) in names.items():
        for i in op_ids.get(key, []):
            nodes[i] = _op_hover(node, name, grads.get(key))
        for i in box_ids.get(key, []):
            if i not in nodes:
                nodes[i] = _data_hover(node, name)
            nodes[i]["target"] = target_of.get(i)
    if output_id is not None:
        nodes[output_id] = _data_hover(root, "output")
    return nodes


def _op_hover(node, name, grad):
    lines = [node.rule or node.name]
    heats = []
    if node.value is None:  # a tensor op: its result is a separate tensor, not kept here
        if grad is not None:
            s = summary(grad)
            lines.append(f"gradient at its step: {s['text']}")
            if s.get("heat"):
                heats.append({"label": "grad", "h": s["heat"]})
    return {"title": f"{name} = {node.op_name}", "lines": lines, "heat": heats, "target": None}


def _data_hover(x, name):
    """A Value's data and grad; a tensor's shape, norms and heat maps of data and grad."""
    if not hasattr(x, "shape"):  # a Value
        lines = [f"data {fmt(x.data)}", f"grad {fmt(x.grad)} after the pass"]
        return {"title": name, "lines": lines, "heat": [], "target": None}
    data = np.asarray(x.array)
    lines = [f"shape {tuple(data.shape)}, {data.dtype}", "data " + _describe(data)]
    heats = [{"label": "data", "h": heat(data)}]
    if x.grad is None:
        lines.append("grad None" + (": it gets no gradient" if x.is_leaf else ""))
    else:
        grad = np.asarray(x.grad.array)
        lines.append("grad " + _describe(grad) + " after the pass")
        heats.append({"label": "grad", "h": heat(grad)})
    return {"title": name, "lines": lines, "heat": heats, "target": None}


def _describe(array):
    s = summary(array, with_heat=False)
    return s["text"] if "values" not in s else f"norm {s['norm']}, {s['values']}"


def _doctor(model, params, box_ids, reached):
    """The doctor's view: each parameter's gradient norm and status, and the report's flags."""
    flags, notes, norms = [], [], {}
    if hasattr(model, "named_parameters"):
        try:
            report = gradient_report(model)
        except RuntimeError as error:  # no parameter has a gradient at all
            report, notes = None, [str(error)]
        if report is not None:
            flags = [{"kind": f.kind, "name": f.name, "explanation": f.explanation, "fix": f.fix}
                     for f in report.flags]
            notes = list(report.notes)
            norms = {row.name: row.grad_norm for row in report.rows}
    else:  # a chainrule.scalar model: |grad| of each Value; unreached ones get none
        notes = ["a chainrule.scalar model: norms are |grad|; the doctor's checks need an "
                 "nn.Module"]
        norms = {name: abs(p.grad) if id(p) in reached else None for name, p in params}
    kinds = {}
    for flag in flags:
        kinds.setdefault(flag["name"], []).append(flag["kind"])
    rows = []
    for name, p in params:
        norm = norms.get(name)
        status = (NO_GRADIENT if norm is None else ", ".join(kinds.get(name, [])) or
                  ("zero" if norm == 0 else "ok"))
        rows.append({"name": name, "ids": box_ids.get(id(p), []), "status": status,
                     "norm": "-" if norm is None else fmt(norm),
                     "value": "nan" if norm is None else repr(float(norm))})
    positive = [n for n in norms.values() if n is not None and np.isfinite(n) and n > 0]
    low, high = (min(positive), max(positive)) if positive else (0.0, 0.0)
    verdict = "ok" if not flags and all(r["status"] in ("ok", "zero") for r in rows) else (
        f"{len(flags) or sum(r['status'] == NO_GRADIENT for r in rows)} finding(s)")
    return {"params": rows, "flags": flags, "notes": notes, "verdict": verdict,
            "min": low, "max": high, "min_text": fmt(low), "max_text": fmt(high)}
