"""``trace_backward``: watch the chain rule run, one step at a time.

``backward()`` visits every node of the graph once, from the output back to
the inputs. At each node it takes the node's gradient (the *upstream*
gradient, d(output)/d(node), already summed over every path) and passes it
on to each input through the node's local derivative:

    contribution to input = upstream gradient * d(node)/d(input)

Inside ``with trace_backward() as t:`` every such step is recorded, for both
engines, by watching the one engine (:func:`chainrule.autograd.graph.observe_backward`);
nothing about the pass changes. Nodes are read through the node protocol
(``chainrule.autograd.node``) only: ``inputs``, ``name``, ``rule``,
``is_leaf``, ``value`` and ``local_derivatives``, the same for ``Value`` s
and tensor ops. The rule shown is the derivative part of the op's own rule
line, the one its docstring states.

    >>> from chainrule import Value
    >>> x = Value(3.0)
    >>> y = (x + 2) * x
    >>> with trace_backward(names={x: "x"}) as t:
    ...     y.backward()
    >>> print(t)
    step  op  value  grad  rule                          contributions
    #1    *   15     1     d(a*b)/da = b, d(a*b)/db = a  #2 += 3, x += 5
    #2    +   5      3     d(a+b)/da = 1, d(a+b)/db = 1  x += 3
    leaves:
      x.grad += 5 + 3 = 8

A step is listed for every node that passes a gradient on; leaves (nodes
with no inputs) pass nothing on and get no step of their own: what they
received is summed up under ``leaves:`` instead. Inputs are named by
``names=`` or ``model=``, unnamed leaves get letters (a, b, ...) in order of
first appearance, and an inner node is called by the step that runs it
(``#2``). Tracing costs nothing when off (the engine tests one empty list);
when on, it keeps each step's numbers (tensor gradients are copied, so a
later ``.grad +=`` or ``zero_grad()`` cannot change the record) and formats
them only when asked.
"""

from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from chainrule.autograd.graph import OutputGrads, observe_backward
from chainrule.autograd.node import is_node, node_of, split_rule
from chainrule.debug.explore_page import build_page

__all__ = ["trace_backward", "BackwardTrace", "Step"]


@dataclass(frozen=True)
class Step:
    """One chain-rule step: a node passes its gradient on to its inputs.

    - ``index``: 1-based position in execution order (output first).
    - ``op``: the node's ``name``: a ``Value``'s op symbol (``"*"``, ``"relu"``)
      or a tensor op's name (``"MulBackward"``).
    - ``name``: how the trace calls this node: its ``names=`` entry, else ``"#index"``.
    - ``value``: a ``Value``'s data; ``None`` for a tensor op, whose result
      is not kept by the graph (its shape is ``grad.shape``).
    - ``grad``: the upstream gradient d(output)/d(node), summed over every
      path: a float, or a numpy array of the node's shape; for a node with
      several outputs a tuple, one per output (``None`` where none arrived).
    - ``rule``: the local derivative rule, in words: the derivative part of
      ``node.rule`` (the op's name where its docstring states none).
    - ``inputs``: the inputs' names, one per edge; an input used twice (``x * x``)
      is listed twice. Tensor inputs that need no gradient are left out.
    - ``contributions``: what this step adds to each input's gradient, aligned
      with ``inputs`` (``None`` where no gradient flows).
    - ``node``, ``input_nodes``: the graph nodes themselves.
    - ``local_derivatives``: a ``Value``'s d(node)/d(input) for each input, as
      numbers (``contribution = grad * local derivative``); ``None`` for a tensor op.
    """

    index: int
    op: str
    name: str
    value: float | None
    grad: float | np.ndarray | tuple
    rule: str
    inputs: tuple
    contributions: tuple
    node: object = field(repr=False, compare=False)
    input_nodes: tuple = field(repr=False, compare=False)
    local_derivatives: tuple | None = field(default=None, repr=False, compare=False)


class BackwardTrace:
    """The steps recorded by :func:`trace_backward`; ``str()`` gives the table.

    ``t.steps`` (also ``len(t)``, ``t[i]``, ``for step in t``) lists them in
    execution order; ``t.contributions_to(x)`` lists what reached ``x`` and
    ``t.leaves()`` every leaf with its contributions.
    """

    def __init__(self, names=None, model=None):
        self._names = _check_names(names, model)
        self._raw = []  # (node, value, grad, inputs, input_grads, locals) per step, as recorded
        self._built = None

    # ------------------------------------------------------------ recording

    def _record(self, node, grad, inputs, input_grads):
        # A leaf receives and passes nothing on; the engine's own starting node is no op.
        if not inputs or not is_node(node):
            return
        kept = [(child, _snapshot(g)) for child, g in zip(inputs, input_grads)
                if child is not None]  # None: a tensor input that takes no gradient
        self._raw.append((node, node.value, _snapshot(grad), tuple(c for c, _ in kept),
                          tuple(g for _, g in kept), node.local_derivatives))

    # ------------------------------------------------------------ reading

    @property
    def steps(self):
        """Every recorded step, a :class:`Step`, in the order the engine ran them."""
        if self._built is None or self._built[0] != len(self._raw):
            self._built = (len(self._raw), self._build())
        return self._built[1]

    def _build(self):
        step_of = {id(node): index for index, (node, *_) in enumerate(self._raw, 1)}
        names = dict(self._names)
        used = set(names.values())
        letters = _letters()

        def name_of(node):
            key = id(node)
            if key not in names:
                if key in step_of:
                    names[key] = f"#{step_of[key]}"
                elif node.is_leaf:
                    names[key] = next(name for name in letters if name not in used)
                else:  # an op the pass never ran (off the path to grad()'s inputs)
                    names[key] = node.name
            return names[key]

        return [
            Step(index, node.name, name_of(node), value, grad, _rule_of(node),
                 tuple(name_of(child) for child in inputs), tuple(input_grads),
                 node, tuple(inputs), local)
            for index, (node, value, grad, inputs, input_grads, local)
            in enumerate(self._raw, 1)
        ]

    def __len__(self):
        return len(self._raw)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, index):
        return self.steps[index]

    def contributions_to(self, node):
        """What each step added to ``node``'s gradient, in order (a ``Value``, a
        ``Tensor``, or a graph node). For a leaf they sum to what this pass added to its ``.grad``.
        For one output of an op with several, what reached any of that op's outputs."""
        node = node_of(node)
        return [g for step in self.steps for child, g in zip(step.input_nodes, step.contributions)
                if child is node and g is not None]

    def leaves(self):
        """``[(name, node, contributions)]`` for every leaf reached, in order of first appearance."""
        found = {}
        for step in self.steps:
            for name, child, g in zip(step.inputs, step.input_nodes, step.contributions):
                if child.is_leaf:
                    entry = found.setdefault(id(child), (name, child, []))
                    if g is not None:
                        entry[2].append(g)
        return list(found.values())

    # ------------------------------------------------------------ formatting

    def to_text(self, max_inputs=8):
        """The table ``str()`` shows; a step lists at most ``max_inputs`` contributions (None: all)."""
        if not self._raw:
            return _EMPTY
        rows = [_row(step, max_inputs) for step in self.steps]
        header = ["step", "op", "value", "grad", "rule", "contributions"]
        widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                 for row in [header] + rows]
        return "\n".join(lines + self._leaf_lines(max_inputs))

    def to_markdown(self, max_inputs=8):
        """The same table in Markdown; ops and rules are set as code so ``*`` stays literal."""
        if not self._raw:
            return _EMPTY
        lines = ["| step | op | value | grad | rule | contributions |",
                 "|---:|---|---:|---:|---|---|"]
        for step in self.steps:
            index, op, value, grad, rule, contributions = (
                cell.replace("|", "\\|") for cell in _row(step, max_inputs))
            lines.append(f"| {index} | `{op}` | {value} | {grad} | `{rule}` | {contributions} |")
        leaves = self._leaf_lines(max_inputs)
        if leaves:
            lines += ["", "Leaves:", ""] + [f"- {line.strip()}" for line in leaves[1:]]
        return "\n".join(lines)

    def to_html(self, path=None, model=None, title=None):
        """The steps as an explore page (see ``chainrule.viz.explore``): one self-contained HTML
        file with the graph and a step control. ``path`` (optional) is where to write it;
        ``model`` names parameters, groups modules and adds the doctor's view."""
        text = build_page(self, model=model, title=title)
        if path is not None:
            with open(path, "w", encoding="utf-8") as file:
                file.write(text)
        return text

    def _leaf_lines(self, max_inputs):
        lines = []
        for name, _, grads in self.leaves():
            few = max_inputs is None or len(grads) <= max_inputs
            if grads and few and all(isinstance(g, float) for g in grads):
                parts = " + ".join(_fmt(g) for g in grads)
                total = f"{parts} = {_fmt(sum(grads))}" if len(grads) > 1 else parts
            elif grads:
                total = f"{len(grads)} contribution{'s' * (len(grads) > 1)}, total {_fmt(sum(grads))}"
            else:
                total = "nothing"
            lines.append(f"  {name}.grad += {total}")
        return ["leaves:"] + lines if lines else []

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        return f"<BackwardTrace: {len(self)} step{'s' * (len(self) != 1)}>"


@contextmanager
def trace_backward(names=None, model=None):
    """Record every chain-rule step of the backward passes run inside the block.

    ``names`` maps ``Value`` s or ``Tensor`` s (leaves or inner results) to the
    names the trace should use; ``model`` (a ``chainrule.nn.Module``) names its
    parameters as ``named_parameters()`` does. Works for ``backward()`` and
    ``chainrule.autograd.grad`` on both engines, in the thread that entered.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> with trace_backward(names={x: "x"}) as t:
        ...     (x * x).sum().backward()
        >>> [step.op for step in t]
        ['SumBackward', 'MulBackward']
        >>> t[1].rule, t[1].inputs
        ('d/da = b, d/db = a', ('x', 'x'))
        >>> sum(t.contributions_to(x))
        array([2., 4.], dtype=float32)
    """
    trace = BackwardTrace(names, model)
    with observe_backward(trace._record):
        yield trace


# ------------------------------------------------------------------ helpers

_EMPTY = "no backward steps recorded: call .backward() inside the with-block"


def _check_names(names, model):
    """``{id(node): name}`` from ``names`` and ``model``, with clear errors for bad input."""
    out = {}
    if model is not None:
        if not callable(getattr(model, "named_parameters", None)):
            raise TypeError(
                f"trace_backward: model= must be a chainrule.nn.Module (something with "
                f"named_parameters()), got {type(model).__name__} {model!r}; for Values, "
                "pass names={value: 'name'} instead"
            )
        out.update((id(p), name) for name, p in model.named_parameters())
    if names is None:
        return out
    if not isinstance(names, Mapping):
        raise TypeError(
            f"trace_backward: names= must be a dict from Value or Tensor to str, got "
            f"{type(names).__name__} {names!r}; e.g. names={{x: 'x'}}"
        )
    for key, name in names.items():
        node = node_of(key)
        if not is_node(node):
            raise TypeError(
                f"trace_backward: names= keys must be Values or Tensors, got "
                f"{type(key).__name__} {key!r} (named {name!r}); use the object itself, "
                "e.g. names={x: 'x'}, not its name or value"
            )
        if not isinstance(name, str):
            raise TypeError(
                f"trace_backward: names= values must be str, got {type(name).__name__} "
                f"{name!r} for {key!r}; e.g. names={{x: 'x'}}"
            )
        out[id(node)] = name
    # The caller's dict keeps the keys alive while the trace is used, so ids stay theirs.
    return out


def _rule_of(node):
    """The derivative part of the node's rule line; its name where the line states none."""
    return split_rule(node.rule)[1] or node.name


def _snapshot(grad):
    """A gradient as the trace keeps it: floats as they are, tensors copied to arrays,
    and the gradients of a node with several outputs as a tuple (None: none arrived)."""
    if grad is None or isinstance(grad, float):
        return grad
    if type(grad) is OutputGrads:
        return tuple(_snapshot(g) for g in grad.grads)
    return np.array(grad.array)


def _letters():
    """a, b, ..., z, aa, ab, ...: names for unnamed leaves."""
    width = 1
    while True:
        for number in range(26**width):
            name = ""
            for _ in range(width):
                number, digit = divmod(number, 26)
                name = chr(ord("a") + digit) + name
            yield name
        width += 1


def _fmt(x):
    """A float as ``:.4g``; an array as its shape and norm (0-d arrays as their value);
    the gradients of several outputs as a tuple of those."""
    if x is None:
        return "none"
    if isinstance(x, tuple):
        return "(" + ", ".join(_fmt(g) for g in x) + ")"
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return f"{float(x):.4g}"
        return f"{tuple(x.shape)} norm {float(np.linalg.norm(x)):.4g}"
    return f"{x:.4g}"


def _row(step, max_inputs):
    if step.value is not None:
        value = _fmt(step.value)
    elif isinstance(step.grad, tuple):  # several outputs: the shape of each
        value = "(" + ", ".join("-" if g is None else _shape(g) for g in step.grad) + ")"
    else:
        value = _shape(step.grad)
    parts = [f"{name} += {_fmt(g)}"
             for name, g in zip(step.inputs, step.contributions)]
    if max_inputs is not None and len(parts) > max_inputs:
        parts = parts[:max_inputs] + [f"... {len(parts) - max_inputs} more"]
    index = f"#{step.index}" if step.name == f"#{step.index}" else f"#{step.index} {step.name}"
    return [index, step.op, value, _fmt(step.grad), step.rule, ", ".join(parts)]


def _shape(grad):
    return str(tuple(np.shape(grad))) if np.ndim(grad) else "scalar"
