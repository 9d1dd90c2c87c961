"""The backward pass, written once for both engines.

Reverse-mode differentiation visits the graph from the output back to the
inputs, in an order where a node comes only after every node computed from
it. Then, when a node is reached, all the paths from the output to it have
already been summed, and the chain rule can be passed on:

    d(out)/d(input) += d(out)/d(node) * d(node)/d(input)

Both the scalar ``Value`` and the tensor engine use :func:`backpropagate`;
they differ only in what a node is, how to find its inputs, and how a node
turns its output gradient into gradients for its inputs.
"""

import threading
from contextlib import contextmanager

__all__ = ["topological_order", "backpropagate", "observe_backward", "OutputGrads"]


class _Observers(threading.local):
    def __init__(self):
        self.active = []


_observers = _Observers()


@contextmanager
def observe_backward(callback):
    """Call ``callback(node, grad, inputs, input_grads)`` after each chain-rule step.

    ``grad`` is the node's whole gradient, ``inputs`` its inputs and
    ``input_grads`` what the step passes to each (before it is added up).
    The backward trace and the gradient tools watch the one engine this way;
    with no observer the cost is one list test per node.
    """
    _observers.active.append(callback)
    try:
        yield callback
    finally:
        _observers.active.remove(callback)


def topological_order(root, inputs_of):
    """Every node reachable from ``root``, each listed after all of its inputs.

    An iterative depth-first search: a node is expanded the first time it is
    popped, and appended to the order once everything pushed after it (its
    inputs, and theirs) is done; in a graph without cycles an input that was
    expanded before is already in the order. An explicit stack instead of recursion means
    a chain of a million nodes needs no recursion limit; time is linear in the
    number of nodes and edges, and the order is the same on every run.

    >>> inputs = {"c": ("a", "b"), "b": ("a",), "a": ()}
    >>> topological_order("c", inputs.__getitem__)
    ['a', 'b', 'c']
    """
    order = []
    expanded = set()
    stack = [root]
    pop, push, extend, expand = stack.pop, stack.append, stack.extend, expanded.add
    while stack:
        node = pop()
        if node is _FINISHED:  # every input of the node below the marker is in order
            order.append(pop())
        elif node is not None and node not in expanded:
            expand(node)
            push(node)
            push(_FINISHED)
            # Inputs that are leaves (no inputs of their own) are pushed first, so popped
            # last: each lands in the order right before the node that reached it, and the
            # backward pass, which runs the order in reverse, delivers a leaf's gradient as
            # soon as its consumers are done rather than at the very end (that is when
            # DistributedDataParallel starts sending it). Nodes already expanded are skipped
            # when popped.
            children = inputs_of(node)
            if len(children) < 2:
                extend(children)  # at most one input: nothing to reorder
                continue
            if len(children) == 2 and (children[0] is None or children[1] is None):
                push(children[1] if children[0] is None else children[0])  # one input, too
                continue
            inner = None
            for child in children:
                if child is None or child in expanded:  # it would be skipped when popped
                    continue
                if not inputs_of(child):
                    push(child)
                elif inner is None:
                    inner = [child]
                else:
                    inner.append(child)
            if inner:
                extend(inner)
    return order


def _add(a, b, owned):
    return a + b


def backpropagate(root, root_grad, inputs_of, chain_rule, receive, targets=None, add=_add):
    """Run the chain rule from ``root`` back through the whole graph.

    ``chain_rule(node, grad)`` returns, for each of ``inputs_of(node)`` in
    turn, the gradient of the root with respect to that input along the edge
    through ``node`` (``None`` where no gradient flows; an input may itself be
    ``None``, an input that needs no gradient). Rules only return gradients;
    this loop alone adds them up. ``receive(node, grad)`` is called once per
    node with ``grad``, the gradient of the root with respect to that node
    summed over every path; what it returns is what the node passes on (a
    hook may change it).

    With ``targets`` (a set of nodes), only the part of the graph between
    the root and the targets is run: a node passes gradients on only to
    inputs from which some target can be reached.

    A node with several outputs (``max`` along a dim: values and indices)
    says which output each edge into it comes from in ``node._next_slots``
    (one ``(output_nr, num_outputs)`` or None per input; None for a node
    with no such inputs): what flows along such edges is gathered into an
    :class:`OutputGrads`, one gradient per output, which the node receives
    whole.

    Where paths meet, ``add(a, b, owned)`` sums their gradients; ``owned``
    is True when ``a`` is a sum this pass made itself, so an engine may add
    into it in place.

    Each node's gradient is dropped as soon as it has been passed on, so
    memory is released while the pass runs.
    """
    order = topological_order(root, inputs_of)
    on_path = None
    if targets is not None:
        on_path = set()
        for node in order:  # inputs first, so each node's inputs are already decided
            if node in targets or any(child in on_path for child in inputs_of(node)):
                on_path.add(node)
    pending = {root: root_grad}
    if add is _add and on_path is None and not _observers.active:
        _plain_pass(order, pending, inputs_of, chain_rule, receive)
        return
    take = pending.pop
    summed = set()  # nodes whose pending gradient is a sum made here
    observers = _observers.active
    for node in reversed(order):
        grad = take(node, None)
        if grad is None:  # reachable only through edges that carry no gradient
            continue
        if summed:
            summed.discard(node)
        grad = receive(node, grad)
        children = inputs_of(node)
        if on_path is not None and not any(child in on_path for child in children):
            continue
        child_grads = chain_rule(node, grad)
        if observers:
            for observer in observers:
                observer(node, grad, children, child_grads)
        if node._next_slots is not None:
            child_grads = _tagged(child_grads, node._next_slots)
        for child, child_grad in zip(children, child_grads):
            if child_grad is None or child is None or (on_path is not None and child not in on_path):
                continue
            earlier = pending.get(child)  # pending gradients are never None
            if earlier is None:
                pending[child] = child_grad
            else:
                pending[child] = add(earlier, child_grad, child in summed)
                summed.add(child)


def _plain_pass(order, pending, inputs_of, chain_rule, receive):
    """The loop of ``backpropagate`` for the common case, the same steps with less
    bookkeeping: the whole graph, no observer, and sums made with ``+`` (no in-place
    adds, so no record of which sums are owned). A node with several outputs still gets
    an ``OutputGrads``."""
    take, get = pending.pop, pending.get
    for node in reversed(order):
        grad = take(node, None)
        if grad is None:
            continue
        grad = receive(node, grad)
        child_grads = chain_rule(node, grad)
        if node._next_slots is not None:
            child_grads = _tagged(child_grads, node._next_slots)
        for child, child_grad in zip(inputs_of(node), child_grads):
            if child_grad is None or child is None:
                continue
            earlier = get(child)
            pending[child] = child_grad if earlier is None else earlier + child_grad


def _tagged(child_grads, slots):
    """Each gradient bound for one of several outputs of its child, as an ``OutputGrads``
    saying which (``slots``: one ``(output_nr, num_outputs)`` or None per child)."""
    return [g if slot is None or g is None else OutputGrads.one(g, *slot)
            for g, slot in zip(child_grads, slots)]


class OutputGrads:
    """The gradients of a node's several outputs, one per output (None: received none).

    Edges carry the output they come from; ``+`` adds two of these output by
    output, which is how the pass sums paths that meet at such a node.
    """

    __slots__ = ("grads",)

    def __init__(self, grads):
        self.grads = grads

    @classmethod
    def one(cls, grad, output_nr, num_outputs):
        grads = [None] * num_outputs
        grads[output_nr] = grad
        return cls(grads)

    def __add__(self, other):
        return OutputGrads([b if a is None else a if b is None else a + b
                            for a, b in zip(self.grads, other.grads)])

    def __repr__(self):
        return f"OutputGrads({self.grads!r})"


_FINISHED = object()
