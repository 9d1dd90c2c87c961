"""The gradient doctor: is something wrong with this model's gradients?

After ``loss.backward()``, ``gradient_report(model, optimizer)`` lists each
parameter's gradient norm, weight norm and update-to-weight ratio, input to
output, and flags the classic bugs with their usual fixes: parameters the
loss never reaches (``"no gradient"``), gradients that shrink towards the
input (``"vanishing"``) or blow up (``"exploding"``), ReLU units that never
fire (``"dead relu"``, with ``dead_relu_batch=`` or ``watch_activations``),
and NaN or Inf (``"nan/inf"``). ``report.plot(path)`` draws the norms.

``examples/vanishing_gradients.py``, ``examples/exploding_gradients.py``
and ``examples/disconnected_layer.py`` plant each bug and fix it.

The other gradient tools live here too: ``trace_backward`` (``trace``), the
chain rule step by step, ``draw_graph`` (``graph``, also ``chainrule.viz``) and
``explore`` (``explore``, also ``chainrule.viz``), a page that steps through backward.
All of them read a graph through the node protocol
(``chainrule.autograd.node``) and watch the one backward pass.
"""

from chainrule.debug.activations import ActivationWatch, watch_activations
from chainrule.debug.doctor import doctor_for_run, train_doctor
from chainrule.debug.explore import ExplorePage, explore, record_modules
from chainrule.debug.graph import Graph, draw_graph
from chainrule.debug.plot import plot_reports
from chainrule.debug.report import (DEAD_RELU, EXPLODING, KINDS, NO_GRADIENT, NONFINITE,
                                    VANISHING, Flag, GradientReport, ParameterRow,
                                    gradient_report)
from chainrule.debug.trace import BackwardTrace, Step, trace_backward

__all__ = ["gradient_report", "GradientReport", "ParameterRow", "Flag", "watch_activations",
           "ActivationWatch", "plot_reports", "doctor_for_run", "train_doctor", "KINDS",
           "NO_GRADIENT", "VANISHING", "EXPLODING", "DEAD_RELU", "NONFINITE", "trace_backward",
           "BackwardTrace", "Step", "draw_graph", "Graph", "explore", "ExplorePage",
           "record_modules"]
