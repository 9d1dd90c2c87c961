"""draw_graph: the DOT text is checked structurally; rendering where Graphviz's dot is installed."""

import gc
import re
import shutil
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule import Value, nn
from chainrule.app.graph_command import graph_command
from chainrule.scalar import Neuron
from chainrule.viz import Graph, draw_graph

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")

_NODE = re.compile(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)" (.*)\];$')
_EDGE = re.compile(r"^  (n\d+) -> (n\d+);$")


def parse(source):
    """{id: (label, attributes)} and the [(tail, head)] edges of draw_graph's DOT text."""
    nodes, edges = {}, []
    for line in source.splitlines():
        if node := _NODE.match(line):
            nodes[node.group(1)] = (node.group(2), node.group(3))
        elif edge := _EDGE.match(line):
            edges.append(edge.groups())
    assert source.startswith("digraph chainrule {") and source.rstrip().endswith("}")
    return nodes, edges


def kind(attributes):
    return re.search(r'class="(\w+)"', attributes).group(1)


def by_label(nodes, text):
    """The one node whose label contains ``text``."""
    found = [node_id for node_id, (label, _) in nodes.items() if text in label]
    assert len(found) == 1, (text, found)
    return found[0]


def tutorial_graph(**kwargs):
    x = Value(3.0)
    y = (x + 2) * x
    y.backward()
    return draw_graph(y, names={"x": x}, **kwargs)


# ------------------------------------------------------------------ scalar Values

def test_tutorial_graph_has_a_record_per_value_and_an_oval_per_op():
    nodes, edges = parse(tutorial_graph().source)
    assert len(nodes) == 5 and len(edges) == 5  # x, x+2, y and the ops + and *
    x = by_label(nodes, "{ x | data 3.0 | grad 8.0 }")
    middle = by_label(nodes, "{ data 5.0 | grad 3.0 }")
    y = by_label(nodes, "{ data 15.0 | grad 1.0 }")
    plus = next(n for n, (label, _) in nodes.items() if label == "+")
    times = next(n for n, (label, _) in nodes.items() if label == "*")
    assert sorted(edges) == sorted([(x, plus), (plus, middle), (middle, times), (x, times),
                                    (times, y)])
    assert [kind(nodes[n][1]) for n in (x, middle, y, plus, times)] == [
        "leaf", "value", "output", "op", "op"]
    assert "shape=record" in nodes[x][1] and "shape=ellipse" in nodes[plus][1]


def test_a_value_used_twice_has_an_edge_per_use():
    x = Value(3.0)
    nodes, edges = parse(draw_graph(x * x).source)
    assert len(nodes) == 3 and edges.count(("n0", "n1")) == 2


def test_the_tutorials_constant_value_is_a_leaf_too():
    x = Value(3.0)
    y = (x + Value(2.0)) * x
    nodes, edges = parse(draw_graph(y).source)
    assert len(nodes) == 6 and len(edges) == 6
    assert [kind(a) for label, a in nodes.values() if "data 2.0" in label] == ["leaf"]


def test_show_data_and_show_grad_leave_the_numbers_out():
    source = tutorial_graph(show_data=False).source
    assert "grad 8.0" in source and "data" not in source
    source = tutorial_graph(show_grad=False).source
    assert "data 3.0" in source and "grad" not in source


def test_scalar_model_names_parameters_and_marks_those_the_output_never_reaches():
    neuron = Neuron(2, activation="linear")
    out = neuron.weights[0] * 2.0  # the second weight and the bias are never used
    out.backward()
    nodes, _ = parse(draw_graph(out, model=neuron).source)
    assert kind(nodes[by_label(nodes, "weights.0 | data")][1]) == "parameter"
    for name in ("weights.1", "bias"):
        attributes = nodes[by_label(nodes, f"{{ {name} | ")][1]
        assert kind(attributes) == "unreached" and "dashed" in attributes
        assert "no gradient" in attributes


# ------------------------------------------------------------------ tensors

def product_graph():
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = cr.tensor([4.0, 5.0, 6.0], requires_grad=True)
    y = (a * b).sum()
    y.backward()
    return draw_graph(y, names={"a": a, "b": b}), (a, b, y)


def test_tensor_graph_has_a_box_per_op_and_per_leaf():
    graph, _ = product_graph()
    nodes, edges = parse(graph.source)
    assert len(nodes) == 5 and graph.nodes == 5 and graph.edges == 4
    a = by_label(nodes, r"a\n(3,) float32\ndata [1.0, 2.0, 3.0]\ngrad [4.0, 5.0, 6.0]")
    b = by_label(nodes, r"b\n(3,) float32\ndata [4.0, 5.0, 6.0]\ngrad [1.0, 2.0, 3.0]")
    mul = by_label(nodes, r"Mul\n(3,) float32")
    total = by_label(nodes, r"Sum\nscalar float32")
    out = by_label(nodes, r"output\nscalar float32\ndata 32.0")
    assert sorted(edges) == sorted([(a, mul), (b, mul), (mul, total), (total, out)])
    assert [kind(nodes[n][1]) for n in (a, b, mul, total, out)] == [
        "leaf", "leaf", "op", "op", "output"]
    assert 'tooltip="a * b;  d/da = b, d/db = a."' in nodes[mul][1]
    assert "Backward" not in graph.source


def test_large_tensors_are_summarised_by_mean_std_and_norm():
    x = cr.tensor(np.arange(100.0), requires_grad=True)
    (x * 2).sum().backward()
    nodes, _ = parse(draw_graph((x * 2).sum()).source)
    label = nodes[by_label(nodes, "leaf")][0]
    assert r"(100,) float64\ndata mean 49.5 std 28.87 norm 573.0\ngrad mean 2.0 std 0.0 norm 20.0" \
        in label


def test_nan_gradients_are_counted_in_the_summary():
    x = cr.tensor(np.ones(10), requires_grad=True)
    x.grad = cr.tensor(np.array([np.nan] * 3 + [1.0] * 7))
    assert "(3 nan/inf)" in draw_graph(x * 2).source


def test_intermediate_results_show_what_is_still_there():
    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    h = cr.relu(x)
    y = h.sum()
    nodes, _ = parse(draw_graph(y).source)
    assert nodes[by_label(nodes, "ReLU")][0] == r"ReLU\n(2,) float32\ndata [0.0, 2.0]"  # saved
    h.retain_grad()
    y.backward()  # frees the saved result; the retained tensor still has data and grad
    nodes, _ = parse(draw_graph(y).source)
    assert nodes[by_label(nodes, "ReLU")][0] == \
        r"ReLU\n(2,) float32\ndata [0.0, 2.0]\ngrad [1.0, 1.0]"
    nodes, _ = parse(draw_graph(y, names={"hidden": h}).source)
    assert nodes[by_label(nodes, "ReLU")][0].startswith(r"hidden = ReLU\n(2,)")
    del h
    nodes, _ = parse(draw_graph(y).source)
    assert nodes[by_label(nodes, "ReLU")][0] == r"ReLU\n(2,) float32"


def test_model_names_parameters_and_marks_those_the_output_never_reaches():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    out = model[0](cr.ones(4, 3)).sum()  # the second layer is never used
    out.backward()
    nodes, edges = parse(draw_graph(out, model=model).source)
    assert len(nodes) == 7 and len(edges) == 4  # 2 params, Linear, Sum, output; 2 unreached
    for name in ("0.weight", "0.bias"):
        assert kind(nodes[by_label(nodes, f"{name}\\n")][1]) == "parameter"
    for name, shape in (("1.weight", "(1, 2)"), ("1.bias", "(1,)")):
        node = by_label(nodes, f"{name}\\n")
        assert kind(nodes[node][1]) == "unreached" and nodes[node][0].endswith("grad None")
        assert shape in nodes[node][0] and node not in {n for edge in edges for n in edge}


def test_parameters_are_marked_even_without_a_model():
    layer = nn.Linear(2, 1)
    nodes, _ = parse(draw_graph(layer(cr.ones(1, 2))).source)
    assert sorted(kind(a) for _, a in nodes.values()) == ["op", "output", "parameter",
                                                           "parameter"]


def test_a_root_without_a_graph_is_one_node():
    nodes, edges = parse(draw_graph(cr.tensor([1.0, 2.0])).source)
    assert len(nodes) == 1 and edges == [] and "data [1.0, 2.0]" in nodes["n0"][0]
    leaf = cr.tensor(5.0, requires_grad=True)
    nodes, edges = parse(draw_graph(leaf).source)
    assert len(nodes) == 1 and kind(nodes["n0"][1]) == "output"


def test_the_graph_keeps_no_tensor_alive():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.relu(x * 3).sum()
    graph = draw_graph(y)
    alive = weakref.ref(x), weakref.ref(y.grad_fn)
    del x, y
    gc.collect()
    assert [ref() for ref in alive] == [None, None]
    assert "ReLU" in graph.source


# ------------------------------------------------------------------ DOT text

def test_the_same_computation_gives_the_same_source():
    assert tutorial_graph().source == tutorial_graph().source
    assert product_graph()[0].source == product_graph()[0].source
    assert str(tutorial_graph()) == tutorial_graph().source


def test_rankdir_is_written():
    assert "rankdir=TB" in tutorial_graph(rankdir="TB").source


def test_labels_are_escaped_for_dot():
    name = 'a"{b}|<c>\\d'
    x = Value(1.0)
    record = draw_graph(x * 2, names={name: x}).source
    assert r'label="{ a\"\{b\}\|\<c\>\\d | data 1.0' in record
    t = cr.tensor([1.0], requires_grad=True)
    box = draw_graph(t * 2, names={name: t}).source
    assert r'label="a\"{b}|<c>\\d\n(1,) float32' in box


@needs_dot
def test_escaped_labels_survive_rendering():
    name = 'a"{b}|<c>\\d & e'
    x, t = Value(1.0), cr.tensor([1.0], requires_grad=True)
    for graph in (draw_graph(x * 2, names={name: x}), draw_graph(t * 2, names={name: t})):
        assert "a&quot;{b}|&lt;c&gt;\\d &amp; e</text>" in graph._repr_svg_()


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("call, error, message", [
    (lambda: draw_graph(3.0), TypeError, "draw_graph: expected a Value or a Tensor as root, got "
                                         "float 3.0"),
    (lambda: draw_graph(Value(1.0), format="jpg"), ValueError, "format must be one of"),
    (lambda: draw_graph(Value(1.0), rankdir="up"), ValueError, "rankdir must be one of"),
    (lambda: draw_graph(Value(1.0), model=object()), TypeError, "model must be an nn.Module"),
    (lambda: draw_graph(Value(1.0), model=nn.Linear(1, 1)), TypeError,
     "the root is a Value but model's parameter 'weight' is not"),
    (lambda: draw_graph(Value(1.0), names={"x": 1.0}), TypeError, "names['x'] is a float"),
    (lambda: tutorial_graph().save("graph.jpg"), ValueError,
     "cannot tell the format of 'graph.jpg' from its suffix '.jpg'; use one of .svg, .png"),
])
def test_bad_input_is_a_clear_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


# ------------------------------------------------------------------ rendering

def test_without_dot_the_source_and_dot_files_still_work(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    graph = tutorial_graph()
    assert graph.save(tmp_path / "g.dot") == str(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == graph.source
    message = ("draw_graph: rendering SVG/PNG needs Graphviz's `dot` program, which is not "
               "installed; install it (Debian/Ubuntu: apt-get install graphviz) or use "
               "graph.source / save as .dot")
    for render in (lambda: graph.save(tmp_path / "g.svg"), graph._repr_svg_,
                   lambda: graph.save(tmp_path / "g.png")):
        with pytest.raises(RuntimeError) as raised:
            render()
        assert str(raised.value) == message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot"]  # no empty files left


@needs_dot
def test_renders_svg_png_and_pdf_by_suffix(tmp_path):
    graph = tutorial_graph()
    svg = graph._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "data 3.0" in svg and "grad 8.0" in svg
    assert (tmp_path / "g.png").exists() is False
    assert graph.save(tmp_path / "g.png") == str(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    graph.render(tmp_path / "g.pdf")
    assert (tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    assert graph.save(tmp_path / "noext") == str(tmp_path / "noext.svg")  # draw_graph's format
    assert "<svg" in (tmp_path / "noext.svg").read_text()


@needs_dot
def test_a_dot_failure_is_reported_with_its_message():
    with pytest.raises(RuntimeError, match=r"`dot -Tsvg` failed with exit code \d+: .*syntax"):
        Graph("digraph { a -> }").pipe("svg")


# ------------------------------------------------------------------ the command

def test_graph_command_draws_the_tutorial_and_the_mlp(tmp_path):
    lines = []
    path = graph_command(tmp_path / "scalar.dot", scalar=True, print=lines.append)
    nodes, _ = parse(open(path).read())
    assert len(nodes) == 6 and by_label(nodes, "{ x | data 3.0 | grad 8.0 }")
    path = graph_command(tmp_path / "mlp", format="dot", print=lines.append)
    assert path == str(tmp_path / "mlp")
    nodes, edges = parse(open(path).read())
    assert len(nodes) == 9 and len(edges) == 8
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert kind(nodes[by_label(nodes, f"{name}\\n")][1]) == "parameter"
    assert nodes[by_label(nodes, "CrossEntropy")][0] == r"CrossEntropy\nscalar float32"
    assert r"loss\nscalar float32\ndata " in nodes[by_label(nodes, "loss")][0]
    assert "grad None" not in open(path).read()  # every parameter got a gradient
    assert lines[0].startswith("drew the tutorial's (x + 2) * x") and "9 nodes, 8 edges" in lines[1]


def test_chainrule_graph_command_line(tmp_path, monkeypatch, capsys):
    from chainrule.app import cli

    assert cli.main(["graph", "--scalar", "--out", str(tmp_path / "g.dot")]) == 0
    assert len(parse((tmp_path / "g.dot").read_text())[0]) == 6
    assert cli.main(["graph", "--out", str(tmp_path / "g.jpg")]) == 2
    assert "cannot tell the format of" in capsys.readouterr().err
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert cli.main(["graph", "--scalar", "--out", str(tmp_path / "g.svg")]) == 1
    assert "needs Graphviz's `dot` program" in capsys.readouterr().err
    assert not (tmp_path / "g.svg").exists()
