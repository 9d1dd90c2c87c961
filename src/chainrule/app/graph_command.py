"""``chainrule graph``: draw a demo computation graph to a file.

The library part, ``draw_graph``, is ``chainrule.viz`` (``chainrule.debug.graph``);
this is the command's part: which graph, and what to print.
"""

import chainrule as cr
from chainrule import Value, nn
from chainrule.data.datasets import digits
from chainrule.viz import draw_graph

__all__ = ["graph_command"]


def graph_command(out, scalar=False, format=None, print=print):
    """``chainrule graph``: draw a demo graph to ``out``; returns the path written.

    By default: an MLP(64, [32, 10]) on 8 digits with cross-entropy, after
    ``backward()``, so every parameter shows its gradient. With ``scalar``:
    the tutorial's ``(x + 2) * x`` at x = 3 on the scalar engine.
    """
    if scalar:
        x = Value(3.0)
        y = (x + Value(2.0)) * x
        y.backward()
        graph = draw_graph(y, names={"x": x, "y": y})
        what = "the tutorial's (x + 2) * x at x = 3"
    else:
        cr.manual_seed(0)
        model = nn.MLP(64, [32, 10])
        try:
            features, labels = (t[:8] for t in digits("train").tensors)
        except ImportError:
            print("scikit-learn is not installed: drawing with random inputs instead of digits")
            features, labels = cr.randn(8, 64), cr.randint(0, 10, (8,))
        loss = nn.functional.cross_entropy(model(features), labels)
        loss.backward()
        graph = draw_graph(loss, model=model, names={"loss": loss})
        what = "an MLP(64, [32, 10]) on 8 digits with cross-entropy, after backward()"
    path = graph.save(out, format=format)
    print(f"drew {what}: {graph.nodes} nodes, {graph.edges} edges -> {path}")
    return path
