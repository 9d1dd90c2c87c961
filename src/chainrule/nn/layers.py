"""Layers without their own math: Linear, Flatten, the activations, and MLP.

Each is a thin ``Module`` around a function of ``chainrule.nn.functional``;
the derivatives live with those ops.
"""

from chainrule.ops import creation
from chainrule.nn import init
from chainrule.nn.containers import Sequential
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops.elementwise import gelu, leaky_relu, relu, sigmoid, tanh
from chainrule.ops.linear import linear
from chainrule.ops.activation import log_softmax, softmax
from chainrule.ops.dropout import dropout
from chainrule.ops.embedding import embedding

__all__ = ["Linear", "Identity", "Flatten", "Unflatten", "ReLU", "Tanh", "Sigmoid", "GELU", "LeakyReLU",
           "Softmax", "LogSoftmax", "Dropout", "Embedding", "MLP"]


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features).

    Initialised as PyTorch does: W and b from U(-1/sqrt(in), 1/sqrt(in))
    (``kaiming_uniform_`` with a = sqrt(5)), so a model ported from PyTorch
    starts from the same distribution.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {n!r}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x):
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    def forward(self, x):
        return x


class Flatten(Module):
    """Merge dimensions ``start_dim``..``end_dim`` (all but the batch by default)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``sizes``: (N, 64) -> (N, 1, 8, 8) for Unflatten(1, (1, 8, 8))."""

    def __init__(self, dim, sizes):
        super().__init__()
        self.dim, self.sizes = dim, tuple(sizes)

    def forward(self, x):
        d = self.dim % x.ndim
        return x.reshape(tuple(x.shape[:d]) + self.sizes + tuple(x.shape[d + 1:]))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.sizes}"


class ReLU(Module):
    def forward(self, x):
        return relu(x)


class Tanh(Module):
    def forward(self, x):
        return tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return sigmoid(x)


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return log_softmax(x, self.dim)


class Dropout(Module):
    """Zero elements with probability ``p`` in training (scaling the rest); identity in eval."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be between 0 and 1, got {p}")
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by index.

    Initialised from N(0, 1) as in PyTorch; the ``padding_idx`` row starts at 0
    and gets no gradient.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(creation.empty(num_embeddings, embedding_dim, dtype=dtype))
        init.normal_(self.weight)
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    def forward(self, indices):
        return embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            "" if self.padding_idx is None else f", padding_idx={self.padding_idx}")


_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "gelu": GELU,
                "leaky_relu": LeakyReLU}


class MLP(Sequential):
    """The tutorial's ``MLP(n_inputs, layer_sizes)`` on batches: Linear layers with
    ``activation`` between them and a linear output.

    >>> import chainrule as cr
    >>> model = MLP(2, [16, 16, 1])
    >>> model(cr.randn(5, 2)).shape
    (5, 1)
    """

    def __init__(self, n_inputs, layer_sizes, activation="relu"):
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"MLP: unknown activation {activation!r}; choose one of {sorted(_ACTIVATIONS)}"
            )
        if not layer_sizes:
            raise ValueError("MLP: layer_sizes is empty; give at least the output size, e.g. [1]")
        sizes = [n_inputs] + list(layer_sizes)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(_ACTIVATIONS[activation]())
        super().__init__(*layers)
