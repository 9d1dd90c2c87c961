"""``chainrule.viz``: pictures of the chain rule. ``draw_graph(root)`` draws the graph
behind a ``Value`` or a ``Tensor``; ``explore(output)`` makes a page that steps through
its backward pass (``record_modules`` groups a model's ops by module for it). They live
with the other gradient tools in ``chainrule.debug``.
"""

from chainrule.debug.explore import ExplorePage, explore, record_modules
from chainrule.debug.graph import Graph, draw_graph

__all__ = ["Graph", "draw_graph", "explore", "ExplorePage", "record_modules"]
