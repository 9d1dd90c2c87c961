"""Neuron, Layer and MLP: the tutorial's API, its XOR loop, gradients against PyTorch."""

import random

import pytest
import torch

from chainrule.scalar import MLP, Layer, Neuron, Value


def seed_xor_loop(seed, **mlp_options):
    """The tutorial's training loop, verbatim but for the seeding and the model options."""
    random.seed(seed)
    X = [[0, 0], [0, 1], [1, 0], [1, 1]]
    y = [0, 1, 1, 0]

    model = MLP(n_inputs=2, layer_sizes=[4, 4, 1], **mlp_options)

    learning_rate = 0.1

    for step in range(1000):
        # Forward pass
        predictions = [model(x) for x in X]

        # MSE loss
        loss = sum((pred - target)**2 for pred, target in zip(predictions, y))
        loss = loss * (1 / len(y))

        # Backward pass
        model.zero_grad()
        loss.backward()

        # Gradient descent
        for param in model.parameters():
            param.data -= learning_rate * param.grad

    return all(abs(model(x).data - target) < 0.1 for x, target in zip(X, y))


def test_the_tutorials_xor_loop_learns_on_at_least_18_of_20_seeds():
    learned = [seed for seed in range(20) if seed_xor_loop(seed)]
    assert len(learned) >= 18, f"learned XOR only on seeds {learned}"


def test_the_tutorials_all_relu_network_is_still_available_and_fails_often():
    # Documented in docs/tutorial.md: the seed's network learns on 6 of 20 seeds.
    learned = [s for s in range(20) if seed_xor_loop(s, activation="relu", output_activation="relu")]
    assert len(learned) <= 10


def test_signatures_and_parameter_counts_are_the_tutorials():
    assert len(Neuron(3).parameters()) == 4
    assert len(Layer(3, 2).parameters()) == 8
    model = MLP(n_inputs=2, layer_sizes=[4, 4, 1])
    assert len(model.parameters()) == (2 * 4 + 4) + (4 * 4 + 4) + (4 + 1)
    assert all(isinstance(p, Value) for p in model.parameters())
    neuron = Neuron(n_inputs=2)
    assert len(neuron.weights) == 2 and neuron.bias.data == 0.0
    assert all(-1 <= w.data <= 1 for w in neuron.weights)


def test_the_tutorials_neuron_is_relu_of_the_weighted_sum():
    neuron = Neuron(2)
    neuron.weights[0].data, neuron.weights[1].data, neuron.bias.data = 2.0, -1.0, 0.5
    assert neuron([1.0, 1.0]).data == 1.5
    assert neuron([0.0, 3.0]).data == 0.0  # relu clamps the negative sum


def test_calls_on_numbers_and_values_and_output_shapes():
    model = MLP(2, [3, 2])
    out = model([Value(0.5), 1.0])
    assert isinstance(out, list) and len(out) == 2
    single = MLP(2, [3, 1])([0.5, -1])
    assert isinstance(single, Value)
    layer_out = Layer(2, 3)([1, 2])
    assert len(layer_out) == 3


def test_zero_grad_resets_every_parameter():
    model = MLP(2, [3, 1])
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_mlp_gradients_match_pytorch(activation):
    random.seed(1)
    model = MLP(3, [5, 4, 2], activation=activation)
    x = [0.3, -1.2, 2.0]
    outputs = model([Value(v) for v in x])
    loss = sum((o - t) ** 2 for o, t in zip(outputs, [0.5, -0.5]))
    loss.backward()

    weights = [torch.tensor([[w.data for w in n.weights] for n in layer.neurons],
                            dtype=torch.float64, requires_grad=True) for layer in model.layers]
    biases = [torch.tensor([n.bias.data for n in layer.neurons],
                           dtype=torch.float64, requires_grad=True) for layer in model.layers]
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
           "linear": lambda t: t}[activation]
    h = torch.tensor(x, dtype=torch.float64)
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = w @ h + b
        if i < len(weights) - 1:
            h = act(h)
    torch_loss = ((h - torch.tensor([0.5, -0.5], dtype=torch.float64)) ** 2).sum()
    torch_loss.backward()

    assert loss.data == pytest.approx(torch_loss.item(), rel=1e-12)
    for layer, w, b in zip(model.layers, weights, biases):
        ours_w = [[p.grad for p in n.weights] for n in layer.neurons]
        assert torch.allclose(torch.tensor(ours_w, dtype=torch.float64), w.grad, rtol=1e-9, atol=1e-12)
        assert [n.bias.grad for n in layer.neurons] == pytest.approx(b.grad.tolist(), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: MLP(2, [4], activation="softmax"), ["MLP", "'softmax'", "relu"]),
        (lambda: Neuron(0), ["Neuron", "n_inputs", "0"]),
        (lambda: Layer(2, -1), ["Layer", "n_outputs", "-1"]),
        (lambda: MLP(2, []), ["MLP", "layer_sizes"]),
        (lambda: MLP(2, [3, 1])([1.0, 2.0, 3.0]), ["MLP", "3 inputs", "2"]),
    ],
)
def test_bad_configuration_and_input_errors_name_the_problem(make, words):
    with pytest.raises(ValueError) as info:
        make()
    for word in words:
        assert word in str(info.value)
