"""``watch_activations``: which ReLU units never fire.

A ReLU unit whose input is negative for every example outputs 0 and passes
back a gradient of 0: its incoming weights stop learning ("dead ReLU"). A
forward hook on each ``nn.ReLU`` module records, per unit, whether it was
ever positive. A unit is a feature of a Linear layer's output (dimension 1
of an (N, F) output) or a channel of a convolution's (dimension 1 of
(N, C, H, W), over every position); a 1-d output counts each element.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> layer = nn.Linear(2, 3)
    >>> model = nn.Sequential(layer, nn.ReLU())
    >>> _ = nn.init.constant_(layer.weight, 0.0)
    >>> _ = layer.bias.data.copy_(cr.tensor([1.0, -1.0, -1.0]))
    >>> with watch_activations(model) as watch:
    ...     _ = model(cr.randn(8, 2))
    >>> watch.dead_units()
    {'1': (2, 3)}

Only ``nn.ReLU`` modules are seen: a ``relu()`` called inside a
``forward`` has no module to hang a hook on.
"""

from contextlib import contextmanager

import numpy as np

from chainrule.nn.activation import ReLU

__all__ = ["watch_activations", "ActivationWatch"]


class ActivationWatch:
    """The units seen active so far, per ReLU call site, accumulated over forward passes.

    A ReLU module called several times in one ``model(x)`` (one ``self.act``
    shared by every layer, a common pattern) is several sites: ``"act[0]"``,
    ``"act[1]"``, ..., in call order. Calls are counted from the start of each
    ``model(...)`` call.
    """

    def __init__(self, model):
        self.model = model
        self.batches = 0
        self._alive = {}  # (module name, call index) -> bool array, True once a unit fired
        self._calls = {}
        self._handles = []
        self.relu_names = [name for name, module in model.named_modules()
                           if isinstance(module, ReLU)]

    def _start(self):
        self._handles.append(self.model.register_forward_pre_hook(self._new_pass))
        for name, module in self.model.named_modules():
            if isinstance(module, ReLU):
                self._handles.append(module.register_forward_hook(self._hook(name)))

    def _stop(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _new_pass(self, module, inputs):
        self._calls = {}
        self.batches += 1

    def _hook(self, name):
        def record(module, inputs, output):
            call = self._calls.get(name, 0)
            self._calls[name] = call + 1
            values = np.asarray(output.array)
            fired = values > 0 if values.ndim < 2 else np.moveaxis(values > 0, 1, 0).reshape(
                values.shape[1], -1).any(axis=1)
            key = (name, call)
            previous = self._alive.get(key)
            if previous is None or previous.shape != fired.shape:
                self._alive[key] = fired
            else:
                self._alive[key] = previous | fired

        return record

    def dead_units(self):
        """``{site: (units never active, units)}``, sites in the order they were first called."""
        calls_per_name = {}
        for name, call in self._alive:
            calls_per_name[name] = max(calls_per_name.get(name, 0), call + 1)
        result = {}
        for (name, call), alive in self._alive.items():
            site = name or "(model)"
            if calls_per_name[name] > 1:
                site = f"{site}[{call}]"
            result[site] = (int(alive.size - alive.sum()), int(alive.size))
        return result

    def dead_fraction(self):
        """``{site: fraction of its units never active}`` (0.0 to 1.0)."""
        return {site: dead / units if units else 0.0
                for site, (dead, units) in self.dead_units().items()}


@contextmanager
def watch_activations(model):
    """Watch every ``nn.ReLU`` in ``model`` while the block runs; yields an ``ActivationWatch``.

    Pass the watch to ``gradient_report(model, activations=watch)`` to flag
    layers with dead units, with no extra forward pass.
    """
    watch = ActivationWatch(model)
    watch._start()
    try:
        yield watch
    finally:
        watch._stop()
