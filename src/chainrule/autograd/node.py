"""The node protocol: what a tool may read of a graph node, the same for both engines.

A graph is made of nodes of three kinds: a scalar ``Value`` (each value is
its own node), a tensor op's ``Function`` (the ``grad_fn`` of its results)
and a leaf ``Tensor`` that requires grad. The trace, the graph drawing and
the gradient doctor read only what every node answers:

- ``inputs``: the input nodes that take a gradient, one per edge, in
  argument order (``x * x`` lists ``x`` twice).
- ``op_name``: the op's short name: ``"Mul"`` for a tensor op; a
  ``Value``'s op symbol, ``"*"``, ``"relu"``, ``"**2"``; ``"leaf"`` for a leaf.
- ``name``: what the trace calls the op: ``"MulBackward"``; for a ``Value``
  its op symbol.
- ``rule``: the op's math and derivative rule, one line of text from the
  op's own declaration: the summary of the ``Function`` class's docstring,
  or of the docstring of the ``Value`` method that implements the op.
  It reads ``f;  derivative.``, e.g. ``"a * b;  d/da = b, d/db = a."``;
  :func:`split_rule` takes it apart.
- ``is_leaf``: True for a node with no inputs (it only receives).
- ``input_shapes``, ``input_dtypes``: the shape and dtype of each of ``inputs``
  (``()`` and ``float64`` for a ``Value``'s).
- ``local_derivatives``: for a ``Value``, d(node)/d(input) for each of
  ``inputs``, as numbers; ``None`` for a tensor op (its local derivatives are
  Jacobians, never formed).
- ``value``: a ``Value``'s data; ``None`` for a tensor op, whose result is
  a separate ``Tensor``.
- ``num_outputs``: 1, or the number of outputs of an op with several
  (``max`` along a dim: values and indices).

Tools watch a backward pass with :func:`chainrule.autograd.graph.observe_backward`:
``callback(node, grad, inputs, input_grads)`` after each chain-rule step.
``grad`` is a float (``Value``), a ``Tensor``, or, for a node with several
outputs, a :class:`chainrule.autograd.graph.OutputGrads` whose ``grads``
hold one gradient per output (``None`` where an output got none). The
engine's own starting node is reported too; it is no op: :func:`is_node`
tells it apart.

    >>> from chainrule import Value
    >>> x = Value(3.0)
    >>> y = x * x
    >>> y.op_name, y.inputs == (x, x), y.local_derivatives, y.is_leaf
    ('*', True, (3.0, 3.0), False)
    >>> y.rule
    'a * b;  d(a*b)/da = b, d(a*b)/db = a.'
    >>> split_rule(y.rule)
    ('a * b', 'd(a*b)/da = b, d(a*b)/db = a')
"""

import re
from typing import Any, Protocol, runtime_checkable

__all__ = ["Node", "node_of", "is_node", "docstring_rule", "split_rule"]


@runtime_checkable
class Node(Protocol):
    """A node of either engine's graph, as tools see it (documentation and type hints)."""

    @property
    def inputs(self) -> tuple: ...
    @property
    def op_name(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def is_leaf(self) -> bool: ...
    @property
    def input_shapes(self) -> tuple: ...
    @property
    def input_dtypes(self) -> tuple: ...
    @property
    def local_derivatives(self) -> tuple | None: ...
    @property
    def value(self) -> Any: ...
    @property
    def num_outputs(self) -> int: ...


def node_of(x):
    """The graph node behind ``x``: a tensor's ``grad_fn`` if it has one, else ``x`` itself."""
    return getattr(x, "grad_fn", None) or x


def is_node(obj):
    """True for a graph node of either engine; False for the engine's own starting node."""
    return hasattr(obj, "op_name")


def docstring_rule(doc):
    """The rule line of an op's docstring: its summary, the first paragraph as one line.

    A summary wrapped over several lines is joined with single spaces; the
    spacing inside a line (the two spaces after ``;``) is kept.
    """
    if not doc or not doc.strip():
        return ""
    paragraph = doc.strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines() if line.strip())


_SENTENCE_END = re.compile(r"\.(?:\s{2,}|\s+(?=[A-Z])|$)")


def split_rule(rule):
    """``(function, derivative)`` from a rule line ``"f;  derivative.  More."``.

    The derivative is what follows the first ``";  "`` (else the first
    ``";"``), up to the end of its first sentence; ``""`` when the line
    states none (no ``;``).

    >>> split_rule("ln(x);  d/dx = 1 / x.  ln(0) = -inf, as in PyTorch.")
    ('ln(x)', 'd/dx = 1 / x')
    >>> split_rule("a @ b, for batched operands")
    ('a @ b, for batched operands', '')
    """
    function, sep, derivative = rule.partition(";  ")
    if not sep:
        function, sep, derivative = rule.partition(";")
    if not sep:
        return rule.strip(), ""
    derivative = _SENTENCE_END.split(derivative.strip(), maxsplit=1)[0]
    return function.strip(), " ".join(derivative.split())
