"""``explore(output)``: watch backward in a browser, one chain-rule step at a time.

``explore`` runs ``output.backward()`` under :func:`trace_backward` and turns
what the engine did into one self-contained HTML page (no network, nothing
to install to view it): the graph as Graphviz laid it out, and a step
control (next, previous, play, a slider, the arrow keys) that walks the
steps in the order the engine ran them. At each step the node is
highlighted and the panel shows its upstream gradient, the local derivative
rule in words and, for ``Value`` s, in numbers (``d(a*b)/db = a = 5``), what
each input receives, and every running ``.grad`` sum, so paths that meet
add up before your eyes (``x * x``: ``x.grad = 3 + 3 = 6``). Hover a node
for its data and gradient (for tensors: shape, norm and heat maps). With
``model=``, modules are drawn as clusters you can collapse (every op of a
module's forward, when the forward ran inside ``record_modules(model)``),
and a doctor view colours each parameter by its gradient norm and marks
those that got none. In Jupyter the returned page displays itself.

    >>> from chainrule import Value
    >>> x = Value(3.0)
    >>> page = explore((x + 2) * x, names={x: "x"})
    >>> x.grad, len(page.trace)
    (8.0, 2)
    >>> page.html.startswith("<!DOCTYPE html>")
    True
"""

import html as html_module
import os
from collections.abc import Mapping
from contextlib import contextmanager
from operator import attrgetter

import numpy as np

from chainrule.autograd.graph import topological_order
from chainrule.autograd.node import is_node, node_of
from chainrule.debug.explore_page import build_page
from chainrule.debug.explore_page.drawing import parameters_of
from chainrule.debug.trace import trace_backward
from chainrule.tensor import Tensor

__all__ = ["explore", "ExplorePage", "record_modules", "ModuleRecord"]


class ExplorePage:
    """An explore page: ``.html`` (the text), ``.trace`` (the steps), ``.save(path)``.

    Jupyter shows it inline (in a sandboxed frame, so several pages never clash).
    """

    def __init__(self, html, trace, path=None):
        self.html = html
        self.trace = trace
        self.path = path

    @property
    def size(self):
        """The page's size in bytes (UTF-8)."""
        return len(self.html.encode("utf-8"))

    def save(self, path):
        """Write the page to ``path``; returns the path."""
        path = os.fspath(path)
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.html)
        self.path = path
        return path

    def _repr_html_(self):
        return (f'<iframe srcdoc="{html_module.escape(self.html, quote=True)}" '
                'sandbox="allow-scripts" style="width:100%;height:640px;border:1px solid #ddd">'
                "</iframe>")

    def __repr__(self):
        where = f" -> {self.path}" if self.path else "; .save(path) writes it"
        steps = len(self.trace)
        return f"<ExplorePage: {steps} step{'s' * (steps != 1)}, {self.size / 1024:.0f} kB{where}>"


class ModuleRecord:
    """Which module's forward made each op: ``members`` maps ``id(node)`` to the module's
    dotted path, the innermost module where several nest."""

    def __init__(self):
        self.members = {}
        self._keep = []  # the nodes themselves, so their ids stay theirs

    def _hook(self, path):
        def hook(module, inputs, output):
            stop = {id(node_of(t)) for t in _tensors(inputs)}
            stack = [t.grad_fn for t in _tensors(output) if t.grad_fn is not None]
            while stack:
                node = stack.pop()
                if id(node) in stop or node.is_leaf or id(node) in self.members:
                    continue  # an inner module's forward, which ran first, claimed it
                self.members[id(node)] = path
                self._keep.append(node)
                stack.extend(node.inputs)
        return hook


@contextmanager
def record_modules(model):
    """Record which of ``model``'s modules made each op of the forwards run inside the block.

        >>> import chainrule as cr
        >>> from chainrule import nn
        >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
        >>> with record_modules(model) as modules:
        ...     loss = model(cr.randn(2, 3)).sum()
        >>> sorted(set(modules.members.values()))
        ['0', '1', '2']
        >>> page = explore(loss, model=model, modules=modules)  # ReLU is a module too
    """
    record = ModuleRecord()
    handles = [module.register_forward_hook(record._hook(path))
               for path, module in model.named_modules() if path]
    try:
        yield record
    finally:
        for handle in handles:
            handle.remove()


def _tensors(value):
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _tensors(item)]
    return []


def explore(output, path=None, names=None, model=None, title=None, modules=None):
    """Run ``output.backward()`` and return the page that steps through it (an ``ExplorePage``).

    ``output`` is a ``Value`` or a one-element ``Tensor`` (a loss). ``path``
    (optional) is where to write the page. ``names`` names nodes, as
    ``trace_backward`` does (``{x: "x"}``; ``{"x": x}`` works too). ``model``
    (an ``nn.Module`` or a ``chainrule.scalar`` model) names its parameters,
    groups the graph by module and adds the doctor's view. Gradients
    accumulate as with any ``backward()``; the page starts from what
    ``.grad`` held before. ``modules`` (from :func:`record_modules`) says which
    module made each op; without it, ops are grouped by the parameters they take.
    """
    root = node_of(output)
    if not is_node(root):
        raise TypeError(f"explore: expected a Value or a Tensor, got {type(output).__name__} "
                        f"{output!r:.60}")
    if hasattr(output, "shape"):
        if not output.requires_grad:
            raise ValueError("explore: the output does not require grad, so backward has "
                             "nothing to do; build it from tensors with requires_grad=True")
        if output.numel() != 1:
            raise ValueError(f"explore: the output must have one element (a loss), got shape "
                             f"{tuple(output.shape)}; explore output.sum() or a loss instead")
    names = _names(names)
    params = parameters_of(model)
    if model is not None and not hasattr(model, "named_parameters"):  # a scalar model
        for name, p in params:
            names.setdefault(p, name)
    before = _grads_now(root)
    with trace_backward(names=names or None,
                        model=model if hasattr(model, "named_parameters") else None) as trace:
        output.backward()
    recorded = modules.members if modules is not None else None
    page = ExplorePage(build_page(trace, root=output, model=model, before=before, title=title,
                                  recorded=recorded), trace)
    if path is not None:
        page.save(path)
    return page


def _names(names):
    """``{node: name}`` from ``{node: name}`` or ``{name: node}``."""
    if names is None:
        return {}
    if not isinstance(names, Mapping):
        raise TypeError(f"explore: names= must be a dict like {{x: 'x'}}, got "
                        f"{type(names).__name__}")
    return {(value if isinstance(key, str) else key): (key if isinstance(key, str) else value)
            for key, value in names.items()}


def _grads_now(root):
    """``{id(node): gradient}`` of every node behind ``root``, before the pass."""
    grads = {}
    for node in topological_order(root, attrgetter("inputs")):
        grad = getattr(node, "grad", None)
        if isinstance(grad, float):
            grads[id(node)] = grad
        elif grad is not None and node.is_leaf:
            grads[id(node)] = np.array(grad.array)
    return grads
