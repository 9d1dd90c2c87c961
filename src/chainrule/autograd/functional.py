"""``torch.autograd.functional``: derivatives of a function at given inputs, PyTorch's way.

The same computations as :mod:`chainrule.func` (the one implementation:
its fresh leaves, vector-Jacobian products, Jacobian rows and the
double-VJP trick), with ``torch.autograd.functional``'s calling
conventions: the function and its inputs are passed together, a tensor
or a tuple of tensors goes in and the same shape of result comes out.

- ``vjp(func, inputs, v=None)``: ``(func(inputs), v^T J)``, one per input;
- ``jvp(func, inputs, v=None)``: ``(func(inputs), J v)``, one per output;
- ``jacobian(func, inputs)``: ``J[i][j] = d output_i / d input_j``, of shape
  ``output_i.shape + input_j.shape`` (a tensor when both are single);
- ``hessian(func, inputs)``: for a scalar ``func``, ``H[i][j]``, of shape
  ``input_i.shape + input_j.shape``;
- ``vhp(func, inputs, v)`` and ``hvp(func, inputs, v)``: ``(func(inputs), v^T H)``
  and ``(func(inputs), H v)`` for a scalar ``func``.

``v`` may be left out where it has one element to weigh (a scalar output
for ``vjp``, a single-element input for the others). Results are cut out of
the graph unless ``create_graph=True``, which makes them differentiable
(w.r.t. the inputs, where those require grad). ``strict=True`` raises where
an output does not depend on an input, instead of giving zeros.
``vectorize`` and ``strategy`` are accepted for PyTorch's sake; the
results are computed by reverse mode, one VJP per output element, either way.

    >>> import chainrule as cr
    >>> from chainrule.autograd.functional import hessian, jacobian, vjp
    >>> x = cr.tensor([1.0, 2.0], dtype=cr.float64)
    >>> jacobian(lambda x: x ** 2, x)
    tensor([[2., 0.],
            [0., 4.]], dtype=float64)
    >>> vjp(lambda x: (x ** 3).sum(), x)
    (tensor(9., dtype=float64), tensor([ 3., 12.], dtype=float64))
    >>> hessian(lambda x, y: (x * y).sum(), (x, x))[0][1]
    tensor([[1., 0.],
            [0., 1.]], dtype=float64)

NOTE: this module sits in ``autograd`` where PyTorch has it, but it is built
on ``chainrule.func``, one layer up; ``autograd/__init__`` does not import it
(``chainrule/__init__`` does, after ``func``).
"""

from chainrule.autograd.grad_mode import enable_grad
from chainrule.func import _double_vjp, _fresh_leaf, _gradients, _jacobian_rows
from chainrule.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T J)``: the vector-Jacobian product, one gradient per input."""
    with enable_grad():
        is_inputs_tuple, inputs = _prepare(inputs, create_graph, "vjp")
        is_outputs_tuple, outputs = _outputs(func(*inputs), "vjp", strict)
        v = _vector(v, outputs, is_outputs_tuple, create_graph, "vjp", "returns")
        grads = _gradients(outputs, inputs, v, create_graph=create_graph,
                           retain_graph=create_graph, check=_filled("back", strict, create_graph))
    return (_tuple_postprocess(_detached(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_detached(grads, create_graph), is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), J v)``: the Jacobian-vector product, one per output (two VJPs)."""
    with enable_grad():
        is_inputs_tuple, inputs = _prepare(inputs, create_graph, "jvp")
        v = _vector(v, inputs, is_inputs_tuple, create_graph, "jvp", "input")
        is_outputs_tuple, outputs = _outputs(func(*inputs), "jvp", strict)
        jvps = _double_vjp(outputs, inputs, v, create_graph,
                           check_vjp=_requiring_grad("grad_inputs", strict),
                           check=_filled("back_trick", strict, create_graph))
    return (_tuple_postprocess(_detached(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_detached(jvps, create_graph), is_outputs_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: ``J[i][j] = d output_i / d input_j``.

    Each block has shape ``output_i.shape + input_j.shape``; a single output
    and a single (non-tuple) input give one tensor, as in PyTorch.
    """
    _check_strategy(strategy, create_graph, strict, vectorize)
    with enable_grad():
        is_inputs_tuple, inputs = _prepare(inputs, create_graph, "jacobian")
        is_outputs_tuple, outputs = _outputs(func(*inputs), "jacobian", strict)
        jac = tuple(_jacobian_rows(out, inputs, create_graph,
                                   check=_independent(i, strict, create_graph))
                    for i, out in enumerate(outputs))
    return _tuple_postprocess(_detached(jac, create_graph), (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func`` at ``inputs``: the Jacobian of its gradient.

    ``H[i][j]`` has shape ``input_i.shape + input_j.shape``; a single input
    gives one tensor.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar_func(*inp):
        out = func(*inp)
        is_out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        if is_out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze()

    def jacobian_func(*inp):
        jac = jacobian(scalar_func, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jacobian_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T H)`` for a scalar ``func``: the VJP of its gradient."""
    with enable_grad():
        is_inputs_tuple, inputs, outputs, jac, v = _gradient_of_scalar(
            func, inputs, v, create_graph, strict, "vhp")
        vhps = _gradients(jac, inputs, v, create_graph=create_graph, retain_graph=create_graph,
                          check=_filled("double_back", strict, create_graph))
    return (_detached(outputs, create_graph)[0],
            _tuple_postprocess(_detached(vhps, create_graph), is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), H v)`` for a scalar ``func``, by the double-VJP trick on its gradient.

    H is symmetric for a twice-differentiable ``func``, so this equals
    :func:`vhp`, which is cheaper; PyTorch computes it this way, and so does chainrule.
    """
    with enable_grad():
        is_inputs_tuple, inputs, outputs, jac, v = _gradient_of_scalar(
            func, inputs, v, create_graph, strict, "hvp")
        hvps = _double_vjp(jac, inputs, v, create_graph,
                           check=_filled("double_back_trick", strict, create_graph))
    return (_detached(outputs, create_graph)[0],
            _tuple_postprocess(_detached(hvps, create_graph), is_inputs_tuple))


# ---------------------------------------------------------------- machinery


def _gradient_of_scalar(func, inputs, v, create_graph, strict, fn):
    """What vhp and hvp share: the inputs, ``func``'s scalar output, its gradient (recorded), v."""
    is_inputs_tuple, inputs = _prepare(inputs, create_graph, fn)
    v = _vector(v, inputs, is_inputs_tuple, create_graph, fn, "input")
    is_outputs_tuple, outputs = _outputs(func(*inputs), fn, strict)
    if is_outputs_tuple:
        raise RuntimeError(f"The function given to {fn} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain a "
                           "single element")
    jac = _gradients(outputs, inputs, (None,), create_graph=True, retain_graph=True,
                     check=_requiring_grad("jacobian", strict))
    return is_inputs_tuple, inputs, outputs, jac, v


def _as_tuple(value, what, fn):
    """``(is_tuple, tensors)``; anything but a tensor or a tuple of tensors is refused."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = (f"the value at index {i} has type {type(item)}" if is_tuple
                     else f"the given {what} has type {type(item)}")
            raise TypeError(f"The {what} given to {fn} must be either a Tensor or a tuple of "
                            f"Tensors but {where}.")
    return is_tuple, items


def _prepare(inputs, create_graph, fn):
    """Fresh leaves for the inputs; connected to them with ``create_graph`` if they require grad."""
    is_tuple, inputs = _as_tuple(inputs, "inputs", fn)
    return is_tuple, tuple(_fresh_leaf(x, create_graph, fn, f"inputs[{i}]")
                           for i, x in enumerate(inputs))


def _outputs(outputs, fn, strict):
    is_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", fn)
    _check_requires_grad(outputs, "outputs", strict)
    return is_tuple, outputs


def _vector(v, like, is_tuple, create_graph, fn, role):
    """``v`` as a tuple matching ``like`` (outputs for vjp, inputs otherwise), or ``(None,)``."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            which = ("the user-provided function returns" if role == "returns"
                     else "the input to the user-provided function is")
            raise RuntimeError(f"The vector v can only be None if {which} a single Tensor with a "
                               "single element.")
        return (None,)
    _, v = _as_tuple(v, "v", fn)
    if len(v) != len(like):
        if is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (vi, ref) in enumerate(zip(v, like)):
        if vi.shape != ref.shape:
            prefix = f"Entry {i} in " if is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {tuple(ref.shape)} but got "
                               f"{tuple(vi.shape)}.")
    return tuple(vi if create_graph and vi.requires_grad else vi.detach() for vi in v)


def _detached(values, create_graph):
    """Results out of the graph, unless ``create_graph`` (nested tuples too)."""
    if create_graph:
        return tuple(values)
    return tuple(_detached(v, False) if isinstance(v, tuple) else v.detach() for v in values)


def _tuple_postprocess(res, to_unpack):
    """Unwrap the tuples PyTorch would not return: for a single output and/or a single input."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(r[0] for r in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _check_strategy(strategy, create_graph, strict, vectorize):
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if strict and vectorize:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("jacobian: `create_graph=True` and "
                                      '`strategy="forward-mode"` are not supported together')
        if strict:
            raise RuntimeError('jacobian: `strict=True` and `strategy="forward-mode"` are not '
                               "supported together")
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-"
                                      "reverse Hessian is only implemented for `vectorize=True`.")


# --------------------------------------------- strict mode: PyTorch's checks and messages


def _check_requires_grad(tensors, kind, strict):
    if strict:
        check = _requiring_grad(kind, True)
        for i, t in enumerate(tensors):
            check(i, t)


def _requiring_grad(kind, strict):
    """A check that each tensor (a result, or a raw gradient) exists and requires grad."""
    if not strict:
        return None
    messages = {
        "outputs": "Output {i} of the user-provided function does not require gradients. The "
                   "outputs must be computed in a differentiable manner from the input when "
                   "running in strict mode.",
        "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of "
                       "the user-provided function. This is not allowed in strict mode.",
        "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
                    "function with respect to input {i} is independent of the input. This is not "
                    "allowed in strict mode. You should ensure that your function is twice "
                    "differentiable and that the jacobian depends on the inputs (this would be "
                    "violated by a linear function for example).",
    }

    def check(i, t):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(messages[kind].format(i=i))

    return check


def _filled(stage, strict, create_graph):
    """The check of a final gradient: none missing, and recorded when ``create_graph``."""
    if not strict:
        return None
    missing = {
        "back": "The output of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode.",
        "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                      "grad_outputs when using the double backward trick to compute forward mode "
                      "gradients. This is not allowed in strict mode.",
        "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                       "This is not allowed in strict mode.",
        "double_back_trick": "The hessian of the user-provided function is independent of entry "
                             "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                             "prevents from using the double backward trick to replace forward "
                             "mode AD.",
    }[stage]
    what = "hessian" if "double" in stage else "jacobian"

    def check(i, g):
        if g is None:
            raise RuntimeError(missing.format(i=i))
        if create_graph and not g.requires_grad:
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")

    return check


def _independent(output_index, strict, create_graph):
    """jacobian's check of each row: the output depends on every input."""
    if not strict:
        return None

    def check(j, g):
        if g is None:
            raise RuntimeError(f"Output {output_index} of the user-provided function is "
                               f"independent of input {j}. This is not allowed in strict mode.")
        if create_graph and not g.requires_grad:
            raise RuntimeError(f"The jacobian of the user-provided function is independent of "
                               f"input {j}. This is not allowed in strict mode when "
                               "create_graph=True.")

    return check
