"""autograd/graph.py on graphs of its own: the backward pass's plain loop and its general
loop give the same gradients as summing over every path, and the topological order is the
one the traversal has always given (inputs first, leaves just before their first consumer)."""

import random

import pytest

from chainrule.autograd import graph


class Node:
    """A node of a test graph: inputs (None: an input that needs no gradient), one local
    derivative per input, and, for nodes with several outputs, which output each edge is."""

    def __init__(self, name, inputs=(), locals_=(), slots=None, outputs=1):
        self.name, self.inputs, self.locals = name, tuple(inputs), tuple(locals_)
        self._next_slots, self.outputs = slots, outputs

    def __repr__(self):
        return self.name


def random_graph(rng, size):
    """A random DAG: some leaves, then nodes reading 1 to 4 earlier nodes (with repeats and
    None inputs); a few nodes have two outputs, and edges into them name one."""
    nodes = [Node(f"leaf{i}") for i in range(3)]
    for i in range(size):
        inputs, locals_, slots = [], [], []
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.1:
                inputs.append(None)
                locals_.append(0.0)
                slots.append(None)
                continue
            child = rng.choice(nodes)
            inputs.append(child)
            locals_.append(rng.choice([0.5, -1.0, 2.0, 0.25, 3.0]))
            slots.append((rng.randrange(child.outputs), child.outputs) if child.outputs > 1
                         else None)
        nodes.append(Node(f"n{i}", inputs, locals_,
                          tuple(slots) if any(s is not None for s in slots) else None,
                          outputs=2 if rng.random() < 0.15 else 1))
    root = Node("root", [nodes[-1], nodes[-2]], [1.0, -2.0])
    return root, nodes


def inputs_of(node):
    return node.inputs


def total(grad):
    """A node's gradient summed over its outputs (an OutputGrads holds one per output)."""
    if isinstance(grad, graph.OutputGrads):
        return sum(g for g in grad.grads if g is not None)
    return grad


def chain_rule(node, grad):
    g = total(grad)
    return [None if child is None else local * g for child, local in zip(node.inputs, node.locals)]


def run(root, observe):
    received = {}

    def receive(node, grad):
        assert node not in received, f"{node} received twice"
        received[node] = total(grad)
        return grad

    if observe:
        with graph.observe_backward(lambda *step: None):  # forces the general loop
            graph.backpropagate(root, 1.0, inputs_of, chain_rule, receive)
    else:
        graph.backpropagate(root, 1.0, inputs_of, chain_rule, receive)
    return received


def path_sums(root):
    """d(root)/d(node) by summing the product of local derivatives over every path."""
    sums = {}

    def visit(node, weight):
        sums[node] = sums.get(node, 0.0) + weight
        for child, local in zip(node.inputs, node.locals):
            if child is not None:
                visit(child, weight * local)

    visit(root, 1.0)
    return sums


@pytest.mark.parametrize("seed", range(20))
def test_plain_and_general_loops_equal_the_sum_over_paths(seed):
    root, _ = random_graph(random.Random(seed), 25)
    expected = path_sums(root)
    plain, general = run(root, observe=False), run(root, observe=True)
    assert plain.keys() == general.keys() == expected.keys()
    for node, value in expected.items():
        assert plain[node] == pytest.approx(value, rel=1e-12, abs=1e-12), node
        assert general[node] == pytest.approx(value, rel=1e-12, abs=1e-12), node


def reference_order(root):
    """The traversal as first written: every input pushed, expanded nodes skipped when
    popped (the current one skips them when pushed; the order must not change)."""
    order, expanded, stack, finished = [], set(), [root], object()
    while stack:
        node = stack.pop()
        if node is finished:
            order.append(stack.pop())
        elif node is not None and node not in expanded:
            expanded.add(node)
            stack += [node, finished]
            children = [c for c in node.inputs if c is not None]
            stack += [c for c in children if not c.inputs]
            stack += [c for c in children if c.inputs]
    return order


@pytest.mark.parametrize("seed", range(20))
def test_the_topological_order_is_unchanged(seed):
    root, _ = random_graph(random.Random(seed), 40)
    order = graph.topological_order(root, inputs_of)
    assert order == reference_order(root)
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        assert all(position[c] < position[node] for c in node.inputs if c is not None)
