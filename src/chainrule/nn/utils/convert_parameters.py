"""All parameters as one flat vector, and back, as ``torch.nn.utils.parameters_to_vector``
and ``vector_to_parameters``.

    >>> import chainrule as cr
    >>> w, b = cr.zeros(2, 2), cr.zeros(3)
    >>> vector_to_parameters(cr.arange(7.0), [w, b])
    >>> w
    tensor([[0., 1.],
            [2., 3.]])
    >>> parameters_to_vector([w, b]).tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
"""

from chainrule.ops.joining import cat
from chainrule.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """The parameters flattened and joined into one vector: cat(p_1.reshape(-1), ...).

    Differentiable, as in PyTorch: the vector's gradient flows back to each parameter.
    """
    params = _tensors(parameters, "parameters_to_vector")
    if not params:
        raise RuntimeError("parameters_to_vector: expected a non-empty list of parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Give each parameter, in order, the next ``p.numel()`` values of ``vec`` (a 1-d Tensor).

    As in PyTorch this replaces each parameter's data (``p.array = ...``), with
    a view of ``vec``'s in ``p``'s shape (and ``vec``'s dtype), outside any
    graph; values of ``vec`` past the last parameter are left unused.
    """
    name = "vector_to_parameters"
    if not isinstance(vec, Tensor):
        raise TypeError(f"{name}: expected torch.Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise RuntimeError(f"{name}: vec must be a 1-d Tensor, got shape {tuple(vec.shape)}; "
                           "flatten it first (vec.reshape(-1))")
    params = _tensors(parameters, name)
    needed = sum(p.numel() for p in params)
    if needed > vec.numel():
        raise RuntimeError(f"{name}: vec has {vec.numel()} elements but the parameters have "
                           f"{needed} in all (shapes {[tuple(p.shape) for p in params]})")
    _check_one_device(params, name)
    pointer = 0
    for p in params:
        count = p.numel()
        p.array = vec.array[pointer:pointer + count].reshape(p.shape)
        pointer += count


def _tensors(parameters, name):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    for index, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {index} is a {type(p).__name__}, not a Tensor")
    return params


def _check_one_device(params, name):
    for index, p in enumerate(params):
        if p.device != params[0].device:
            raise TypeError(f"{name}: Found two parameters on different devices, this is "
                            f"currently not supported (parameter 0 is on {params[0].device}, "
                            f"parameter {index} on {p.device})")
