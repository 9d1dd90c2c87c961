"""Function transforms: derivatives of functions, not of tensors, as ``torch.func``.

``backward()`` answers "what is the gradient of this number I computed?". The
transforms here answer "what is the derivative of this *function*?": each
takes a Python function of tensors and gives back a function (or a value)
built from :func:`chainrule.autograd.grad`. Because those gradients are
recorded (``create_graph=True``) whenever an outer transform is watching,
the transforms compose: ``grad(grad(f))`` is the second derivative.

``grad(f, argnums=0, has_aux=False)`` is the function ``x -> df/dx`` for a
``f`` that returns a scalar (a 0-d tensor):

    >>> import chainrule as cr
    >>> from chainrule.func import grad, hessian, jacobian, jvp, value_and_grad, vjp
    >>> x = cr.tensor(3.0, dtype=cr.float64)
    >>> grad(lambda x: x ** 3)(x)            # 3 x**2
    tensor(27., dtype=float64)
    >>> grad(grad(lambda x: x ** 3))(x)      # 6 x
    tensor(18., dtype=float64)

``value_and_grad(f)`` returns ``(f(x), df/dx)`` from one evaluation of ``f``:

    >>> value_and_grad(lambda x: x ** 2)(x)
    (tensor(9., dtype=float64), tensor(6., dtype=float64))

``vjp(f, *primals)`` evaluates ``f`` once and returns ``(output, vjp_fn)``;
``vjp_fn(v)`` is the vector-Jacobian product ``v^T J``, one gradient per
primal (what ``backward(gradient=v)`` computes), and can be called again:

    >>> v = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)
    >>> output, vjp_fn = vjp(lambda v: v * v, v)
    >>> vjp_fn(cr.ones(3, dtype=cr.float64))   # v^T J = 2 v
    (tensor([2., 4., 6.], dtype=float64),)

``jvp(f, primals, tangents)`` returns ``(f(*primals), J t)``, the
Jacobian-vector product (forward mode), here by the double-VJP trick: ``u ->
u^T J`` is linear in ``u``, so its own VJP with ``t`` is ``J t``:

    >>> jvp(lambda v: v * v, (v,), (cr.ones(3, dtype=cr.float64),))
    (tensor([1., 4., 9.], dtype=float64), tensor([2., 4., 6.], dtype=float64))

``jacobian(f, argnums=0)`` is the full Jacobian, by reverse mode (one VJP
per output element), of shape ``output.shape + input.shape``:

    >>> jacobian(lambda v: v[:2] * 2)(v)
    tensor([[2., 0., 0.],
            [0., 2., 0.]], dtype=float64)

``hessian(f, argnums=0)`` is the Jacobian of the Jacobian (of the gradient,
for a scalar ``f``), of shape ``output.shape + input.shape + input.shape``:

    >>> hessian(lambda v: (v ** 3).sum())(v)   # diag(6 v)
    tensor([[ 6.,  0.,  0.],
            [ 0., 12.,  0.],
            [ 0.,  0., 18.]], dtype=float64)

The transforms never touch the tensors they are given: ``f`` runs on fresh
copies in the graph (a tensor that does not require grad gets a new leaf that
shares its data; one that does, say inside an outer ``grad``, a differentiable
copy, so the outer transform sees through), and gradients are returned, never
accumulated into ``.grad``. They run with recording on even inside
``no_grad()``, and return results out of the graph unless the caller's
graph depends on them.
"""

import numpy as np

from chainrule.autograd.engine import grad as autograd_grad
from chainrule.autograd.grad_mode import enable_grad, is_grad_enabled
from chainrule.device import array_module
from chainrule.ops.conversion import clone
from chainrule.ops.joining import stack
from chainrule.tensor import Tensor

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "jacrev", "hessian"]


def grad(func, argnums=0, has_aux=False):
    """The function computing the gradient of ``func`` (scalar-valued) w.r.t. ``argnums``.

    With ``has_aux=True``, ``func`` returns ``(output, aux)`` and the new
    function returns ``(gradient, aux)``. A tuple ``argnums`` gives a tuple of
    gradients.
    """

    def grad_of_func(*args, **kwargs):
        (_, aux), grads = _value_and_grad(func, argnums, has_aux, args, kwargs, "grad")
        return (grads, aux) if has_aux else grads

    return grad_of_func


def value_and_grad(func, argnums=0, has_aux=False):
    """As :func:`grad`, returning ``(value, gradient)``, or ``((value, aux), gradient)``."""

    def value_and_grad_of_func(*args, **kwargs):
        (value, aux), grads = _value_and_grad(func, argnums, has_aux, args, kwargs,
                                              "value_and_grad")
        return ((value, aux) if has_aux else value), grads

    return value_and_grad_of_func


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``, or with ``has_aux`` ``(output, vjp_fn, aux)``.

    ``vjp_fn(cotangents)`` takes one tensor per output (a tuple when ``func``
    returns a tuple) and returns a tuple with one gradient per primal.
    """
    op = "vjp"
    recording = is_grad_enabled()
    with enable_grad():
        leaves = [_fresh_leaf(x, recording, op, f"primals[{i}]") for i, x in enumerate(primals)]
        output, aux = _split_aux(func(*leaves), has_aux, op)
    outputs = _tensors(output, op)

    def vjp_fn(cotangents):
        cotangents = _tensors(cotangents, "vjp_fn", "cotangents")
        if len(cotangents) != len(outputs):
            raise RuntimeError(f"vjp_fn: got {len(cotangents)} cotangents for {len(outputs)} "
                               "outputs; pass one per output of the function, in a tuple")
        for i, (o, c) in enumerate(zip(outputs, cotangents)):
            if c.shape != o.shape:
                raise RuntimeError(f"vjp_fn: cotangent {i} has shape {tuple(c.shape)}, but "
                                   f"output {i} has shape {tuple(o.shape)}; they must be equal")
        keep = recording and (_reaches_outside(outputs, leaves)
                              or any(c.requires_grad for c in cotangents))
        with enable_grad():
            return _gradients(outputs, leaves, cotangents, create_graph=keep, retain_graph=True)

    output = _release(output, leaves, recording)
    if has_aux:
        return output, vjp_fn, _release(aux, leaves, recording)
    return output, vjp_fn


def jvp(func, primals, tangents, has_aux=False):
    """``(func(*primals), J @ tangents)``: the Jacobian-vector product, by two VJPs.

    ``primals`` and ``tangents`` are tuples of tensors of equal shapes. With
    ``has_aux``, returns ``(output, jvp_out, aux)``.
    """
    op = "jvp"
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple):
            raise TypeError(f"jvp: {name} must be a tuple of tensors (func is called as "
                            f"func(*primals)), got {type(value).__name__}; e.g. jvp(f, (x,), (t,))")
    if len(primals) != len(tangents):
        raise RuntimeError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents; "
                           "give one tangent per primal")
    recording = is_grad_enabled()
    with enable_grad():
        leaves = [_fresh_leaf(x, recording, op, f"primals[{i}]") for i, x in enumerate(primals)]
        tangents = _tensors(tangents, op, "tangents")
        for i, (x, t) in enumerate(zip(leaves, tangents)):
            if t.shape != x.shape:
                raise RuntimeError(f"jvp: tangents[{i}] has shape {tuple(t.shape)}, but "
                                   f"primals[{i}] has shape {tuple(x.shape)}; they must be equal")
        output, aux = _split_aux(func(*leaves), has_aux, op)
        outputs = _tensors(output, op)
        keep = recording and (_reaches_outside(outputs, leaves)
                              or any(t.requires_grad for t in tangents))
        tangents = [t.to(x.dtype) for t, x in zip(tangents, leaves)]
        jvps = _double_vjp(outputs, leaves, tangents, create_graph=keep)
    jvp_out = jvps if isinstance(output, tuple) else jvps[0]
    output = _release(output, leaves, recording)
    if has_aux:
        return output, jvp_out, _release(aux, leaves, recording)
    return output, jvp_out


def jacobian(func, argnums=0, has_aux=False):
    """The function computing the Jacobian of ``func`` w.r.t. ``argnums``, by reverse mode.

    For an output of shape ``O`` and an input of shape ``I`` the Jacobian has
    shape ``O + I``: ``J[o][i] = d output[o] / d input[i]``, one VJP per output
    element. A tuple output gives a tuple (per output); a tuple ``argnums``
    gives, per output, a tuple (per argument). As ``torch.func.jacrev``.
    """

    def jacobian_of_func(*args, **kwargs):
        op = "jacobian"
        positions, single = _argnums(argnums, len(args), op)
        recording = is_grad_enabled()
        with enable_grad():
            args, leaves = _with_fresh_leaves(args, positions, recording, op)
            output, aux = _split_aux(func(*args, **kwargs), has_aux, op)
            outputs = _tensors(output, op)
            keep = recording and _reaches_outside(outputs, leaves)
            per_output = tuple(_jacobian_rows(o, leaves, keep) for o in outputs)
        per_output = tuple(j[0] if single else j for j in per_output)
        result = per_output if isinstance(output, tuple) else per_output[0]
        return (result, _release(aux, leaves, recording)) if has_aux else result

    return jacobian_of_func


jacrev = jacobian


def hessian(func, argnums=0):
    """The function computing the Hessian: the Jacobian of the Jacobian of ``func``.

    For a scalar ``func`` of an input of shape ``I``, the Hessian has shape
    ``I + I``. A tuple ``argnums`` gives nested tuples ``H[i][j]``.
    """
    return jacobian(jacobian(func, argnums), argnums)


# ---------------------------------------------------------------- machinery


def _value_and_grad(func, argnums, has_aux, args, kwargs, op):
    positions, single = _argnums(argnums, len(args), op)
    recording = is_grad_enabled()
    with enable_grad():
        args, leaves = _with_fresh_leaves(args, positions, recording, op)
        value, aux = _split_aux(func(*args, **kwargs), has_aux, op)
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}: the function must return a Tensor, got "
                            f"{type(value).__name__}")
        if value.ndim != 0:
            raise RuntimeError(
                f"{op}: the function must return a scalar (a 0-d tensor) to have a gradient; it "
                f"returned a tensor of shape {tuple(value.shape)}. Reduce it (e.g. .sum()), or "
                "use jacobian() or vjp() for a non-scalar output"
            )
        keep = recording and _reaches_outside([value], leaves)
        grads = _gradients([value], leaves, [None], create_graph=keep, retain_graph=keep)
    grads = grads[0] if single else grads
    return (_release(value, leaves, recording), _release(aux, leaves, recording)), grads


def _double_vjp(outputs, leaves, tangents, create_graph, check_vjp=None, check=None):
    """``J t``, the Jacobian-vector product (forward mode), by two VJPs.

    ``u -> u^T J`` is linear in ``u``, so its own VJP with ``t`` is ``J t``:
    the first VJP is recorded so that it can be differentiated w.r.t. ``u``
    (whose value is irrelevant). ``check_vjp`` and ``check`` see the raw
    gradients of each step (see :func:`_gradients`).
    """
    dummies = [_zeros_like(o, True) for o in outputs]
    vjps = _gradients(outputs, leaves, dummies, create_graph=True, retain_graph=True,
                      check=check_vjp)
    # d<u^T J, t>/du = J t
    return _gradients(vjps, dummies, tangents, create_graph=create_graph,
                      retain_graph=create_graph, check=check)


def _jacobian_rows(output, leaves, keep, check=None):
    """d output / d leaf for each leaf, one VJP per element of ``output``."""
    rows = []
    for k in range(output.numel()):
        one_hot = array_module(output.array).zeros(output.numel(), output.dtype)
        one_hot[k] = 1
        cotangent = Tensor._make(one_hot.reshape(output.shape), False, None)
        rows.append(_gradients([output], leaves, [cotangent], create_graph=keep,
                               retain_graph=True, check=check))
    jacobians = []
    for i, leaf in enumerate(leaves):
        shape = tuple(output.shape) + tuple(leaf.shape)
        if rows:
            jacobians.append(stack([row[i] for row in rows]).reshape(shape))
        else:  # an output with no elements
            jacobians.append(Tensor._make(array_module(leaf.array).zeros(shape, leaf.dtype),
                                          False, None))
    return tuple(jacobians)


def _gradients(outputs, inputs, cotangents, create_graph, retain_graph, check=None):
    """autograd.grad, with zeros (as torch.func) where an input does not affect the outputs.

    Outputs that do not require grad are left out. ``check(i, g)``, if
    given, sees each input's gradient before a None becomes zeros (the
    ``strict`` checks of ``chainrule.autograd.functional``).
    """
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    grads = (None,) * len(inputs)
    if pairs:
        grads = autograd_grad([o for o, _ in pairs], list(inputs), [c for _, c in pairs],
                              retain_graph=retain_graph, create_graph=create_graph,
                              allow_unused=True)
    if check is not None:
        for i, g in enumerate(grads):
            check(i, g)
    return tuple(_zeros_like(x, False) if g is None else g for x, g in zip(inputs, grads))


def _zeros_like(x, requires_grad):
    """A new leaf of zeros shaped like ``x``, on its device."""
    return Tensor._make(array_module(x.array).zeros_like(x.array), requires_grad, None)


def _fresh_leaf(x, recording, op, what):
    """A stand-in for ``x`` that requires grad; connected to ``x`` if an outer graph needs it."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {what} is a {type(x).__name__}; the differentiated arguments "
                        "must be Tensors (wrap numbers with chainrule.tensor)")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{op}: {what} has dtype {x.dtype}; only floating point tensors can be "
                        "differentiated. Convert it first, e.g. x.double()")
    if recording and x.requires_grad:
        return clone(x)  # a differentiable copy: an outer grad() sees through it
    return x.detach().requires_grad_()


def _with_fresh_leaves(args, positions, recording, op):
    args = list(args)
    leaves = []
    for p in positions:
        args[p] = _fresh_leaf(args[p], recording, op, f"argument {p}")
        leaves.append(args[p])
    return args, leaves


def _argnums(argnums, n_args, op):
    """``argnums`` as a tuple of non-negative positions, and whether it was a single int."""
    single = isinstance(argnums, int) and not isinstance(argnums, bool)
    positions = (argnums,) if single else argnums
    if not isinstance(positions, tuple) or not all(
            isinstance(p, int) and not isinstance(p, bool) for p in positions):
        raise TypeError(f"{op}: argnums must be an int or a tuple of ints, got {argnums!r}")
    if not positions:
        raise RuntimeError(f"{op}: argnums must be non-empty")
    for p in positions:
        if not -n_args <= p < n_args:
            raise RuntimeError(
                f"{op}: argnums={argnums!r} is out of range: the function was called with "
                f"{n_args} positional argument(s), so argnums must be in [{-n_args}, {n_args - 1}]"
            )
    positions = tuple(p % n_args for p in positions)
    if len(set(positions)) != len(positions):
        raise RuntimeError(f"{op}: argnums={argnums!r} names an argument twice; "
                           "they must be unique")
    return positions, single


def _split_aux(result, has_aux, op):
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        got = (f"a tuple of length {len(result)}" if isinstance(result, tuple)
               else f"a {type(result).__name__}")
        raise RuntimeError(f"{op}: with has_aux=True the function must return a pair "
                           f"(output, aux); it returned {got}")
    return result


def _tensors(value, op, what="the function's output"):
    """``value`` (a tensor or a tuple/list of tensors) as a tuple of tensors."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = what if len(items) == 1 else f"element {i} of {what}"
            raise TypeError(f"{op}: {where} is a {type(t).__name__}, not a Tensor")
    return items


def _reaches_outside(outputs, own_leaves):
    """Whether the outputs' graph reaches a leaf that requires grad other than ``own_leaves``.

    If not, nobody outside this transform can differentiate its results, and the
    gradients need not be recorded.
    """
    own = set(own_leaves)
    to_visit = [o.grad_fn or o for o in outputs if o.requires_grad]
    seen = set()
    while to_visit:
        node = to_visit.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if isinstance(node, Tensor):
            if node not in own:
                return True
        else:
            to_visit.extend(node.next_nodes)
    return False


def _release(value, leaves, recording):
    """Tensors in ``value`` out of the graph, unless a graph outside this transform needs them."""
    if isinstance(value, Tensor):
        if value.requires_grad and not (recording and _reaches_outside([value], leaves)):
            return value.detach()
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(_release(v, leaves, recording) for v in value)
    if isinstance(value, dict):
        return {k: _release(v, leaves, recording) for k, v in value.items()}
    return value
