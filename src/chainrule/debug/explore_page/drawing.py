"""The explore page's graph: ``draw_graph``'s drawing, matched node by node, modules as clusters.

``draw_graph`` numbers its nodes ``n0, n1, ...`` as it walks the engine's
topological order: one box per leaf and per tensor op, an oval and a box
per ``Value`` op, then the output tensor, then parameters the output never
reached. :func:`drawing_ids` walks the same order to know which drawn node
is which graph node, and checks each against the kind the drawing gave it.

A model's modules become Graphviz clusters: a parameter belongs to the
module that holds it. An op belongs to the module whose forward made it,
when that was recorded (``chainrule.debug.explore.record_modules``); else to
the module whose parameter it takes, or, for an op that takes none (a
transpose inside ``Linear``), to the module every one of its consumers
belongs to, when it depends on that module's parameters. Other ops (a
``ReLU`` module's, a ``relu()`` called in ``forward``) then stay outside.
"""

import re
from operator import attrgetter

from chainrule.autograd.graph import topological_order
from chainrule.autograd.node import node_of
from chainrule.debug.graph import Graph

__all__ = ["parameters_of", "modules_of", "drawing_ids", "module_of_nodes", "with_clusters",
           "collapsed", "render_svg"]

_inputs = attrgetter("inputs")
_NODE_LINE = re.compile(r'^  (n\d+) \[label="(?:[^"\\]|\\.)*" shape=\S+ class="(\w+)"', re.M)
_EDGE_LINE = re.compile(r"^  (n\d+) -> (n\d+);$")
_KINDS = {"leaf": {"leaf", "parameter", "output"}, "op": {"op"}, "value": {"value", "output"},
          "output": {"output"}, "unreached": {"unreached"}}


def parameters_of(model):
    """``[(name, parameter)]`` of an ``nn.Module`` or a ``chainrule.scalar`` model."""
    if model is None:
        return []
    if hasattr(model, "named_parameters"):
        return list(model.named_parameters())
    found = {id(p): name for name, p in _walk(model, "") if not name.endswith("/")}
    return [(found.get(id(p), f"parameters()[{i}]"), p) for i, p in enumerate(model.parameters())]


def modules_of(model):
    """``{dotted path: type name}`` of the model's modules (``""`` is the model itself)."""
    if model is None:
        return {}
    if hasattr(model, "named_modules"):
        return {name: type(module).__name__ for name, module in model.named_modules()}
    return {name[:-1]: kind for name, kind in _walk(model, "") if name.endswith("/")}


def _walk(obj, prefix):
    """A scalar model's ``(dotted name, Value)`` per parameter, ``(path/, type)`` per module."""
    if hasattr(obj, "parameters") and hasattr(obj, "__dict__") and not hasattr(obj, "grad"):
        yield prefix + "/", type(obj).__name__
        items = ((key, item) for key, item in vars(obj).items() if not key.startswith("_"))
    elif isinstance(obj, (list, tuple)):
        items = ((str(i), item) for i, item in enumerate(obj))
    else:
        if hasattr(obj, "grad") and hasattr(obj, "data"):
            yield prefix, obj
        return
    for key, item in items:
        yield from _walk(item, f"{prefix}.{key}" if prefix else key)


def drawing_ids(root, params, source):
    """``(box_ids, op_ids, output_id)``: ``{id(node): [drawn ids]}`` of each node's value and op.

    Returns empty maps when the drawing does not match the walk (a drawing
    made some other way), so the page still works, without highlights.
    """
    top = node_of(root)
    order = topological_order(top, _inputs)
    box_ids, op_ids, expected = {}, {}, []

    def new(kind):
        expected.append(kind)
        return f"n{len(expected) - 1}"

    for node in order:
        if node.is_leaf:
            box_ids[id(node)] = [new("leaf")]
        elif node.value is None:  # a tensor op: one box
            box_ids[id(node)] = op_ids[id(node)] = [new("op")]
        else:  # a Value op: its oval, then its value's box
            op_ids[id(node)] = [new("op")]
            box_ids[id(node)] = [new("value")]
    output_id = new("output") if top is not root else None
    for _, p in params:
        if id(p) not in box_ids:
            box_ids[id(p)] = [new("unreached")]
    drawn = dict(_NODE_LINE.findall(source))
    if len(drawn) != len(expected) or any(
            drawn.get(f"n{i}") not in _KINDS[kind] for i, kind in enumerate(expected)):
        return {}, {}, None
    return box_ids, op_ids, output_id


def module_of_nodes(root, params, modules, recorded=None):
    """``{id(node): module path}`` for the graph's nodes that belong to one module.

    ``recorded`` (``{id(node): path}``, from watching each module's forward)
    is used as it is; without it, ops are placed by the parameters they take.
    """
    owner = {id(p): _module_path(name, modules) for name, p in params}
    owner = {key: path for key, path in owner.items() if path}
    if recorded is not None:
        return {**{key: path for key, path in recorded.items() if path}, **owner}
    if not owner:
        return {}
    order = topological_order(node_of(root), _inputs)
    depends, consumers = {}, {}
    for node in order:  # inputs first: which modules' parameters each node depends on
        found = {owner[id(node)]} if id(node) in owner else set()
        for child in node.inputs:
            found |= depends[id(child)]
            consumers.setdefault(id(child), []).append(node)
        depends[id(node)] = found
    member = {key: path for key, path in owner.items()}
    for node in reversed(order):  # output first, so consumers are decided before their inputs
        if node.is_leaf:
            continue
        direct = {owner[id(c)] for c in node.inputs if id(c) in owner}
        if len(direct) == 1:
            member[id(node)] = direct.pop()
        elif not direct:
            after = {member.get(id(c)) for c in consumers.get(id(node), [])}
            if len(after) == 1:
                path = after.pop()
                if path is not None and path in depends[id(node)]:
                    member[id(node)] = path
    return member


def _module_path(name, modules):
    """The deepest module path that holds parameter ``name``; ``""`` for the model itself."""
    parts = name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        path = ".".join(parts[:end])
        if path in modules:
            return path
    return ""


def with_clusters(source, members, modules):
    """``(source, clusters)``: DOT with a cluster per module that holds drawn nodes.

    ``members`` maps a module path to its drawn ids. Clusters nest as modules
    do; ``clusters`` lists ``{"key", "path", "label", "parent", "ids"}``.
    """
    paths = set()
    for path in members:
        parts = path.split(".")
        paths |= {".".join(parts[:end]) for end in range(1, len(parts) + 1)
                  if ".".join(parts[:end]) in modules}
    paths.discard("")
    if not paths:
        return source, []
    ordered = sorted(paths, key=lambda p: (p.count("."), _natural(p)))
    clusters = []
    for key, path in enumerate(ordered):
        parents = [q for q in ordered if path.startswith(q + ".")]
        clusters.append({"key": key, "path": path, "label": f"{path}: {modules[path]}",
                         "parent": ordered.index(max(parents, key=len)) if parents else None,
                         "ids": list(members.get(path, []))})

    def emit(cluster, indent):
        pad = "  " * indent
        lines = [f'{pad}subgraph cluster_{cluster["key"]} {{',
                 f'{pad}  label="{_escape(cluster["label"])}"; class="module"; '
                 'style="rounded,dashed"; color="#7f9cc7"; fontcolor="#3d5a80"; '
                 'fontname="Helvetica"; fontsize=10; labeljust=l;']
        lines += [f"{pad}  {node};" for node in cluster["ids"]]
        for child in clusters:
            if child["parent"] == cluster["key"]:
                lines += emit(child, indent + 1)
        return lines + [f"{pad}}}"]

    body = source.rstrip().rsplit("}", 1)[0]
    lines = [line for cluster in clusters if cluster["parent"] is None
             for line in emit(cluster, 1)]
    return body + "\n".join(lines) + "\n}\n", clusters


def collapsed(source, clusters):
    """``(source, {drawn id: module key})``: the drawing with each outermost module as one box.

    ``source`` is ``draw_graph``'s DOT (without clusters). Edges into and out
    of a module go to its box; edges inside it are dropped.
    """
    module_of = {}
    for cluster in clusters:
        top = cluster
        while top["parent"] is not None:
            top = clusters[top["parent"]]
        module_of.update((i, top["key"]) for i in cluster["ids"])
    if not module_of:
        return None, {}
    lines, edges = [], set()
    for line in source.rstrip().splitlines()[:-1]:  # the last line closes the graph
        node, edge = _NODE_LINE.match(line), _EDGE_LINE.match(line)
        if node and node.group(1) in module_of:
            continue
        if edge:
            tail, head = (f"m{module_of[i]}" if i in module_of else i for i in edge.groups())
            if tail == head or (tail, head) in edges:
                continue
            edges.add((tail, head))
            line = f"  {tail} -> {head};"
        lines.append(line)
    for cluster in clusters:
        if cluster["parent"] is None:
            count = sum(1 for key in module_of.values() if key == cluster["key"])
            nodes = f"{count} node{'s' * (count != 1)}"
            lines.append(f'  m{cluster["key"]} [label="{_escape(cluster["label"])}\\n{nodes}: '
                         'click to expand" shape=box class="module" style="rounded,filled" '
                         'fillcolor="#e7eef8" color="#7f9cc7"];')
    return "\n".join(lines + ["}", ""]), module_of


def render_svg(source):
    """``(svg, note)``: the SVG element Graphviz lays out, or ``(None, why not)``."""
    try:
        svg = Graph(source, "svg").pipe("svg").decode("utf-8")
    except RuntimeError as error:  # Graphviz's dot is missing or failed
        return None, str(error)
    return svg[svg.index("<svg"):], None


def _natural(path):
    """``layers.10`` after ``layers.9``."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in path.split(".")]


def _escape(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"')
