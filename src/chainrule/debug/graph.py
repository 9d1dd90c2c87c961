"""Draw a computation graph: what the chain rule will walk, and what it left behind.

``draw_graph(root)`` turns the graph behind a ``Value`` or a ``Tensor`` into
Graphviz's DOT language, inputs on the left, the output on the right:

- for a ``Value``, every value is a box ``data | grad`` (as in micrograd's
  ``draw_dot``), fed by a small oval naming the op that computed it;
- for a ``Tensor``, every op (``Function``) is a grey box with the op's name
  and its result's shape and dtype, and every leaf that requires grad is a box
  with its shape, dtype and a short summary of its data and gradient: the
  values when there are a few, else mean, std and norm.

Leaves are blue, parameters green, the output orange. With ``model=`` the
parameters carry their ``named_parameters()`` names, and a parameter that the
output does not depend on is drawn apart with a red dashed border: it will get
no gradient, which is the tutorial's third bug ("parameters the loss never
reaches").

Both engines are drawn by one walk over the node protocol
(``chainrule.autograd.node``): ``inputs``, ``op_name``, ``rule`` (each op's
tooltip), ``is_leaf``, ``input_shapes`` and ``input_dtypes``. A node that
holds its own ``value`` (a ``Value``) is drawn as that value fed by its op;
a tensor op, whose result is a separate tensor, as one box.

The result keeps only text, never the graph, so drawing does not keep a single
tensor alive. ``.source`` needs nothing installed; turning it into a picture
(``.save("g.svg")``, or Jupyter showing it) runs Graphviz's ``dot`` program.

    >>> from chainrule import Value
    >>> x = Value(3.0)
    >>> y = (x + 2) * x
    >>> y.backward()
    >>> graph = draw_graph(y, names={"x": x})
    >>> graph
    <Graph: 5 nodes, 5 edges; .source is the DOT text>
    >>> line = graph.source.splitlines()[4]
    >>> line[:line.index(" shape")]
    '  n0 [label="{ x | data 3.0 | grad 8.0 }"'
"""

import os
import shutil
import subprocess
from operator import attrgetter

import numpy as np

from chainrule.autograd.grad_mode import no_grad
from chainrule.autograd.graph import topological_order
from chainrule.autograd.node import is_node, node_of
from chainrule.nn.parameter import Parameter
from chainrule.scalar.value import Value
from chainrule.tensor import Tensor

__all__ = ["Graph", "draw_graph"]

FORMATS = ("svg", "png", "pdf", "dot")
RANKDIRS = ("LR", "RL", "TB", "BT")
SMALL = 6  # tensors with at most this many elements show their values

_COLOURS = {"leaf": "#cfe2f3", "parameter": "#d9ead3", "output": "#fce5cd", "op": "#eeeeee",
            "value": "#ffffff", "unreached": "#ffffff"}

_NO_DOT = (
    "draw_graph: rendering SVG/PNG needs Graphviz's `dot` program, which is not installed; "
    "install it (Debian/Ubuntu: apt-get install graphviz) or use graph.source / save as .dot"
)


class Graph:
    """A drawn graph: ``.source`` is the DOT text; ``.save(path)`` renders it.

    ``str(graph)`` is the source; Jupyter shows the graph through
    ``_repr_svg_``. ``format`` is what ``pipe()`` makes and what ``save`` uses
    for a path without a suffix.
    """

    def __init__(self, source, format="svg", nodes=0, edges=0):
        self.source = source
        self.format = format
        self.nodes = nodes
        self.edges = edges

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<Graph: {self.nodes} nodes, {self.edges} edges; .source is the DOT text>"

    def pipe(self, format=None):
        """The graph rendered by ``dot``, as bytes (the DOT text itself for ``"dot"``)."""
        format = _check_format(format or self.format, "Graph.pipe")
        if format == "dot":
            return self.source.encode("utf-8")
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(_NO_DOT)
        done = subprocess.run([dot, f"-T{format}"], input=self.source.encode("utf-8"),
                              capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"draw_graph: `dot -T{format}` failed with exit code "
                               f"{done.returncode}: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def render(self, path, format=None):
        """Write the graph to ``path`` in the format its suffix names; returns the path.

        ``.svg``, ``.png`` and ``.pdf`` run ``dot``; ``.dot`` (or ``.gv``)
        writes the source and needs nothing. A path without a suffix gets
        ``self.format``'s; ``format=`` overrides the suffix.
        """
        path = os.fspath(path)
        suffix = os.path.splitext(path)[1].lower().lstrip(".")
        suffix = "dot" if suffix == "gv" else suffix
        if format is None:
            if not suffix:
                format = self.format
                path = f"{path}.{format}"
            elif suffix in FORMATS:
                format = suffix
            else:
                raise ValueError(
                    f"Graph.save: cannot tell the format of {path!r} from its suffix "
                    f"'.{suffix}'; use one of {', '.join('.' + f for f in FORMATS)} "
                    "or pass format='svg'"
                )
        data = self.pipe(format)  # before opening the file, so a failure leaves none behind
        with open(path, "wb") as file:
            file.write(data)
        return path

    save = render

    def _repr_svg_(self):
        return self.pipe("svg").decode("utf-8")


def draw_graph(root, show_data=True, show_grad=True, format="svg", model=None, rankdir="LR",
               names=None):
    """The computation graph behind ``root`` (a ``Value`` or a ``Tensor``) as a ``Graph``.

    ``show_data`` / ``show_grad`` put values and gradients in the labels.
    ``model`` (an ``nn.Module``, or a scalar ``chainrule.scalar`` model)
    names and marks its parameters; ``names`` (a dict ``{label: value}``)
    names any other node, e.g. ``{"x": x, "hidden": h, "loss": loss}`` (an
    intermediate tensor's name goes on the op that made it: ``hidden = ReLU``).
    ``rankdir`` is Graphviz's direction: ``"LR"`` (left to right) or ``"TB"``.

    Node ids follow the engine's topological order, so the same computation
    gives the same DOT text on every run.
    """
    if not is_node(node_of(root)):
        raise TypeError(f"draw_graph: expected a Value or a Tensor as root, got "
                        f"{type(root).__name__} {root!r:.60}")
    _check_format(format, "draw_graph")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    drawing = _Drawing(show_data, show_grad)
    params = _parameters(model, Value if isinstance(root, Value) else Tensor)
    labels = {id(p): name for name, p in params}
    for name, obj in (names or {}).items():
        node = node_of(obj)
        if not is_node(node):
            raise TypeError(f"draw_graph: names[{name!r}] is a {type(obj).__name__}; "
                            "names maps labels to the Values or Tensors to label")
        labels[id(obj)] = str(name)
        if node is not obj and obj is not root:
            labels[id(node)] = str(name)  # an intermediate tensor lives on as its op
    is_param = {id(p) for _, p in params}
    drawn = _draw(drawing, root, labels, is_param)
    for name, p in params:  # parameters the output never reached
        if id(p) not in drawn:
            drawing.add(_data_box(p, name, drawing), "unreached",
                        extra='color="#cc0000" penwidth=2 tooltip="not reached from the output: '
                              'it gets no gradient"')
    return Graph(drawing.source(rankdir), format, len(drawing.nodes), len(drawing.edges))


# ------------------------------------------------------------------ the walk

_inputs = attrgetter("inputs")


def _draw(drawing, root, labels, is_param):
    """Draw every node behind ``root``, inputs first; returns ``{id(node): drawn id}``."""
    top = node_of(root)
    order = topological_order(top, _inputs)
    results = _results(order, root, top)
    ids = {}
    for node in order:
        label = labels.get(id(node))
        if node.is_leaf:
            kind = ("output" if node is root else "parameter"
                    if id(node) in is_param or isinstance(node, Parameter) else "leaf")
            ids[id(node)] = drawing.add(_data_box(node, label, drawing), kind)
            continue
        tooltip = f'tooltip="{_escape(node.rule or node.name)}"'
        if node.value is None:  # a tensor op: one box, its result's shape inside
            op = ids[id(node)] = drawing.add(_op_box(node, results.get(node), label, drawing),
                                             "op", extra=tooltip)
        else:  # a node that is its own result (a Value): an oval for the op, then the value
            op = drawing.add(_escape(node.op_name), "op", shape="ellipse", extra=tooltip)
            ids[id(node)] = drawing.add(_data_box(node, label, drawing),
                                        "output" if node is root else "value")
        for child in node.inputs:
            drawing.edge(ids[id(child)], op)
        if node.value is not None:
            drawing.edge(op, ids[id(node)])
    if top is not root:  # a tensor made by an op: its own box after the op's
        out = drawing.add(_data_box(root, labels.get(id(root), "output"), drawing), "output")
        drawing.edge(ids[id(top)], out)
        ids[id(root)] = out
    return ids


def _results(order, root, top):
    """``{op node: (shape, dtype)}`` of what each op returned.

    A tensor op keeps neither its result nor a reference to it; the shape and
    dtype of what it returned are recorded by every op that used that result.
    """
    results = {} if top is root else {top: (root.shape, root.dtype)}
    for node in reversed(order):
        for child, shape, dtype in zip(node.inputs, node.input_shapes, node.input_dtypes):
            if not child.is_leaf:
                results.setdefault(child, (shape, dtype))
    return results


def _data_box(x, name, drawing):
    """The box of a ``Value`` (a record: name | data | grad) or of a ``Tensor``."""
    return _value_box(x, name, drawing) if isinstance(x, Value) else _tensor_box(x, name, drawing)


def _value_box(v, name, drawing):
    fields = [name] if name else []
    if drawing.show_data:
        fields.append(f"data {_num(v.data)}")
    if drawing.show_grad:
        fields.append(f"grad {_num(v.grad)}")
    return "{ " + " | ".join(_escape_record(f) for f in fields or [v.op_name]) + " }"


def _tensor_box(t, name, drawing):
    lines = [name or ("parameter" if isinstance(t, Parameter) else "leaf"),
             _shape(t.array.shape, t.dtype)]
    if drawing.show_data:
        lines.append("data " + _summary(t.array))
    if drawing.show_grad and (t.grad is not None or t.is_leaf):
        # a leaf's None is news (no gradient reached it); an intermediate's is the default
        lines.append("grad " + ("None" if t.grad is None else _summary(t.grad.array)))
    return "\\n".join(_escape(line) for line in lines)


def _op_box(node, result, label, drawing):
    lines = [f"{label} = {node.op_name}" if label else node.op_name]
    if result is not None:
        lines.append(_shape(*result))
    retained = next((t for _, t in node.retained_outputs()), None)
    if drawing.show_data:
        data = retained.array if retained is not None else _saved_result(node)
        if data is not None:
            lines.append("data " + _summary(data))
    if drawing.show_grad and retained is not None and retained.grad is not None:
        lines.append("grad " + _summary(retained.grad.array))
    return "\\n".join(_escape(line) for line in lines)


# ------------------------------------------------------------------ DOT text

class _Drawing:
    """Nodes and edges in the order they are added, written out as DOT."""

    def __init__(self, show_data, show_grad):
        self.show_data, self.show_grad = show_data, show_grad
        self.nodes, self.edges = [], []

    def add(self, label, kind, shape=None, extra=""):
        """Add a node (``label`` already escaped); returns its id."""
        node_id = f"n{len(self.nodes)}"
        shape = shape or ("record" if label.startswith("{") else "box")
        style = {"op": "rounded,filled", "unreached": "filled,dashed"}.get(kind, "filled")
        self.nodes.append(f'  {node_id} [label="{label}" shape={shape} class="{kind}" '
                          f'style="{style}" fillcolor="{_COLOURS[kind]}"'
                          + (f" {extra}" if extra else "") + "];")
        return node_id

    def edge(self, tail, head):
        self.edges.append(f"  {tail} -> {head};")

    def source(self, rankdir):
        return "\n".join([
            "digraph chainrule {",
            f"  graph [rankdir={rankdir}];",
            '  node [fontname="Helvetica" fontsize=11 height=0.3];',
            '  edge [color="#555555" arrowsize=0.7];',
            *self.nodes, *self.edges, "}", ""])


def _escape(text):
    """Text safe inside a double-quoted DOT string; newlines become spaces."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _escape_record(text):
    """Text safe as one field of a record label, where { } | < > are structure."""
    text = _escape(text)
    for char in "{}|<>":
        text = text.replace(char, "\\" + char)
    return text


def _num(x):
    text = f"{float(x):.4g}"
    return text + ".0" if text.lstrip("-").isdigit() else text


def _shape(shape, dtype):
    return f"{tuple(shape) if shape else 'scalar'} {np.dtype(dtype).name}"


def _summary(array):
    """A few values when there are few, else mean, std and norm; nan/inf counted."""
    array = np.asarray(array)
    if array.size <= SMALL:
        return _nested(array.astype(np.float64).tolist())
    values = array.astype(np.float64)
    finite = np.isfinite(values)
    text = (f"mean {_num(values.mean())} std {_num(values.std())} "
            f"norm {_num(np.linalg.norm(values.ravel()))}")
    return text if finite.all() else f"{text} ({(~finite).sum()} nan/inf)"


def _nested(values):
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return _num(values)


def _saved_result(node):
    """What the op saved of its result for backward; None when it saved none or it was freed."""
    try:
        with no_grad():
            data = node.result.array
    except RuntimeError:
        return None
    return data if isinstance(data, np.ndarray) else None


def _check_format(format, op):
    if format not in FORMATS:
        raise ValueError(f"{op}: format must be one of {FORMATS}, got {format!r}")
    return format


# ------------------------------------------------------------------ parameters

def _parameters(model, kind):
    """``[(name, parameter)]`` of a tensor ``nn.Module`` or a scalar model."""
    if model is None:
        return []
    if hasattr(model, "named_parameters"):
        params = list(model.named_parameters())
    elif hasattr(model, "parameters"):
        found = {id(p): name for name, p in _walk(model, "")}
        params = [(found.get(id(p), f"parameters()[{i}]"), p)
                  for i, p in enumerate(model.parameters())]
    else:
        raise TypeError(f"draw_graph: model must be an nn.Module (or a chainrule.scalar model), "
                        f"got {type(model).__name__}")
    wrong = [name for name, p in params if not isinstance(p, kind)]
    if wrong:
        raise TypeError(
            f"draw_graph: the root is a {kind.__name__} but model's parameter {wrong[0]!r} is "
            f"not; draw a Tensor output with an nn.Module, a Value with a chainrule.scalar model"
        )
    return params


def _walk(obj, prefix):
    """Dotted names of the Values held in a scalar model's attributes and lists."""
    if isinstance(obj, Value):
        yield prefix, obj
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _walk(item, f"{prefix}.{i}" if prefix else str(i))
    elif hasattr(obj, "parameters") and hasattr(obj, "__dict__"):
        for key, item in vars(obj).items():
            if not key.startswith("_"):
                yield from _walk(item, f"{prefix}.{key}" if prefix else key)
