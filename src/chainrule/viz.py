"""``chainrule.viz``: pictures of the chain rule. ``draw_graph(root)`` draws the graph
behind a ``Value`` or a ``Tensor``; it lives with the other gradient tools in
``chainrule.debug.graph``.
"""

from chainrule.debug.graph import Graph, draw_graph

__all__ = ["Graph", "draw_graph"]
