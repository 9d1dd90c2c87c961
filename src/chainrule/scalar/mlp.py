"""A small neural-network library on ``Value``: Neuron, Layer, MLP.

The signatures are the tutorial's: ``Neuron(n_inputs)``, ``Layer(n_inputs,
n_outputs)``, ``MLP(n_inputs, layer_sizes)``. One thing differs on purpose:
the tutorial applies ReLU to every neuron, the output one included. A ReLU
output is 0 with gradient 0 whenever its input is negative; when that holds
for every example, often from the very first step, no gradient reaches the
network and it never learns (the tutorial's XOR loop learns on 6 of 20 random
seeds). ``MLP`` therefore uses ``tanh`` in its hidden layers and a linear
output, which learns XOR on 20 of 20 seeds (docs/tutorial.md shows the numbers);
``activation="relu"`` gives the tutorial's hidden layers back.

    >>> import random; random.seed(0)
    >>> model = MLP(n_inputs=2, layer_sizes=[4, 4, 1])
    >>> len(model.parameters())
    37
"""

import random

from chainrule.scalar.value import Value, weighted_sum, weighted_sums

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATIONS"]

ACTIVATIONS = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": None,
}


class Module:
    """What every model shares: its parameters, and resetting their gradients."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self):
        """Set every parameter's ``.grad`` to 0, ready for the next backward()."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """activation(w . x + b), with weights drawn from U(-1, 1) and the bias at 0.

    ``activation`` is ``"relu"`` (the tutorial's), ``"tanh"``, ``"sigmoid"``
    or ``"linear"`` (none).
    """

    def __init__(self, n_inputs: int, activation: str = "relu"):
        _check_count(n_inputs, "Neuron", "n_inputs")
        self._activate = _activation(activation, "Neuron")
        self.activation = activation
        self.weights = [Value(random.uniform(-1, 1)) for _ in range(n_inputs)]
        self.bias = Value(0.0)

    def __call__(self, inputs) -> Value:
        pre_activation = weighted_sum(self.weights, inputs, self.bias)
        return pre_activation if self._activate is None else self._activate(pre_activation)

    def parameters(self) -> list[Value]:
        return self.weights + [self.bias]

    def __repr__(self):
        return f"Neuron({len(self.weights)}, activation={self.activation!r})"


class Layer(Module):
    """``n_outputs`` neurons, each seeing all ``n_inputs`` inputs."""

    def __init__(self, n_inputs: int, n_outputs: int, activation: str = "relu"):
        _check_count(n_outputs, "Layer", "n_outputs")
        self.neurons = [Neuron(n_inputs, activation) for _ in range(n_outputs)]

    def __call__(self, x) -> list[Value]:
        """``[neuron(x) for neuron in self.neurons]``, the weighted sums made together."""
        neurons = self.neurons
        for neuron in neurons:
            if type(neuron) is not Neuron:  # a neuron of another kind computes its own
                return [neuron(x) for neuron in neurons]
        sums = weighted_sums([n.weights for n in neurons], x, [n.bias for n in neurons])
        return [s if n._activate is None else n._activate(s) for n, s in zip(neurons, sums)]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self):
        n = self.neurons[0]
        return f"Layer({len(n.weights)}, {len(self.neurons)}, activation={n.activation!r})"


class MLP(Module):
    """Layers of sizes ``layer_sizes`` on ``n_inputs`` inputs.

    Hidden layers use ``activation`` (``"tanh"`` by default); the last layer
    uses ``output_activation`` (``"linear"`` by default, so the output can take
    any value). Called on a list of numbers or ``Value`` s, it returns a
    ``Value`` when the last layer has one neuron, else a list.
    """

    def __init__(self, n_inputs: int, layer_sizes: list[int], activation: str = "tanh",
                 output_activation: str = "linear"):
        _check_count(n_inputs, "MLP", "n_inputs")
        if not layer_sizes:
            raise ValueError("MLP: layer_sizes is empty; give at least the output size, e.g. [1]")
        _activation(activation, "MLP")
        _activation(output_activation, "MLP")
        sizes = [n_inputs] + list(layer_sizes)
        last = len(sizes) - 2
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation)
            for i in range(len(sizes) - 1)
        ]

    def __call__(self, x):
        if len(x) != len(self.layers[0].neurons[0].weights):
            raise ValueError(
                f"MLP: got {len(x)} inputs, but the model was built for "
                f"{len(self.layers[0].neurons[0].weights)} (n_inputs)"
            )
        out = x
        for layer in self.layers:
            out = layer(out)
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return "MLP(\n" + "".join(f"  {layer!r},\n" for layer in self.layers) + ")"


def _activation(name, owner):
    if name not in ACTIVATIONS:
        raise ValueError(
            f"{owner}: unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}"
        )
    return ACTIVATIONS[name]


def _check_count(n, owner, what):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{owner}: {what} must be a positive int, got {n!r}")
