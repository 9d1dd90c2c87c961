"""Backward for tensors: ``backward()`` and ``grad()`` over the one traversal.

Both run :func:`chainrule.autograd.graph.backpropagate`, the same pass as the
scalar engine. A graph node is either a ``Function`` (an op's ``grad_fn``) or
a leaf tensor that requires grad. The only difference between the two entry
points is what happens when a node has received its whole gradient:
``backward`` adds it to the leaves' ``.grad``; ``grad`` hands it back.

Backward rules run with recording switched to ``create_graph``: off by
default, so the pass builds no graph; on, so the gradients are themselves
differentiable (gradients of gradients, Hessian-vector products).
"""

import threading
from operator import attrgetter

from chainrule.autograd.anomaly import _state as _anomaly_state
from chainrule.autograd.anomaly import check_gradients
from chainrule.autograd.broadcasting import sum_to_shape
from chainrule.autograd.grad_mode import InferenceVersion, set_grad_enabled
from chainrule.autograd.graph import OutputGrads, backpropagate
from chainrule.device import array_module
from chainrule.registry import register
from chainrule.tensor import Tensor

__all__ = ["backward", "grad", "queue_callback"]

_next_nodes = attrgetter("next_nodes")


class _Callbacks(threading.local):
    def __init__(self):
        self.passes = []  # one list of queued callbacks per backward pass running, innermost last


_callbacks = _Callbacks()


def queue_callback(callback):
    """Call ``callback()`` once the backward pass now running has finished.

    For code that runs during backward, in a hook, and must act after the
    whole pass (PyTorch's ``Variable._execution_engine.queue_callback``):
    ``DistributedDataParallel`` waits there for the gradient all-reduces it
    started from its hooks, so they are done when ``backward()`` returns.
    Callbacks run in the order queued, after every ``.grad`` is written; a
    pass that raises runs none.
    """
    if not _callbacks.passes:
        raise RuntimeError("queue_callback: no backward pass is running; call it from a hook "
                           "while backward() or grad() runs")
    _callbacks.passes[-1].append(callback)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Add the gradient of ``tensors`` to the ``.grad`` of every leaf they depend on.

    With ``inputs`` (tensors), only those get a ``.grad``, leaves or not, and
    only the part of the graph that leads to them is run.
    """
    if grad_variables is not None:  # PyTorch's old name for grad_tensors
        if grad_tensors is not None:
            raise RuntimeError("backward: 'grad_tensors' and 'grad_variables' (deprecated) "
                               "arguments both passed; pass only 'grad_tensors'")
        grad_tensors = grad_variables
    outputs, seeds = _outputs_and_seeds(tensors, grad_tensors, "backward")
    taken = {_base_id(seed.array) for seed in seeds}  # arrays that must not become a .grad as is
    only = None if inputs is None else _tensors_by_node(inputs)

    def receive(node, grad):
        if node._hooks:
            grad = _run_hooks(node._hooks, grad)
        if only is not None:
            for tensor in only.get(node, ()):
                g = grad if tensor._output_nr is None else grad.grads[tensor._output_nr]
                if g is not None:
                    _accumulate(tensor, g, taken)
        elif isinstance(node, Tensor):
            _accumulate(node, grad, taken)
        elif node._retained is not None:
            for output_nr, tensor in node.retained_outputs():
                g = grad if output_nr is None else grad.grads[output_nr]
                if g is not None:
                    _accumulate(tensor, g, taken)
        return grad

    _run(outputs, seeds, retain_graph, create_graph, receive,
         targets=None if only is None else set(only))


@register("Tensor", name="backward")
def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Add d(self)/d(leaf) to ``leaf.grad`` for every leaf that requires grad.

    ``gradient`` is needed when self is not a scalar: backward then
    computes the vector-Jacobian product ``gradient . d(self)/d(leaf)``.
    With ``inputs``, only those tensors get a ``.grad``.
    """
    backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)


@register("Tensor", name="is_inference")
def tensor_is_inference(self):
    """True for a tensor an op made inside ``inference_mode()`` (it cannot join a graph later)."""
    return type(self._version) is InferenceVersion


def _tensors_by_node(inputs):
    """``backward(inputs=...)``: the tensors to give a ``.grad``, by their graph node."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not inputs:
        raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty; leave it "
                           "out to accumulate into every leaf")
    by_node = {}
    for t in _checked_inputs(inputs, "backward"):
        by_node.setdefault(t.grad_fn or t, []).append(t)
    return by_node


def _checked_inputs(inputs, op):
    for position, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: inputs[{position}] is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(
                f"{op}: inputs[{position}] (shape {tuple(t.shape)}) does not require grad; "
                "create it with requires_grad=True or call .requires_grad_()"
            )
    return inputs


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` w.r.t. ``inputs``, returned as a tuple, not accumulated.

    One gradient per input, in a tuple even for a single input tensor, as in
    PyTorch: ``(g,) = grad(y, x)``. ``grad_outputs`` weights each output
    (the vector of a vector-Jacobian product); it may be left out for scalar
    outputs. With ``create_graph=True`` the returned gradients can be
    differentiated again. An input the outputs do not depend on is an error,
    unless ``allow_unused=True`` (its gradient is then None) or
    ``materialize_grads=True`` (zeros). ``only_inputs`` is ignored, as in PyTorch.

        >>> import chainrule as cr
        >>> x = cr.tensor(3.0, requires_grad=True)
        >>> cr.autograd.grad(x ** 2, x)
        (tensor(6.),)
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("grad: expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got allow_unused=False")
    if allow_unused is None:
        allow_unused = materialize_grads
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported by chainrule; "
                                  "call grad once per row of grad_outputs (retain_graph=True)")
    inputs = _checked_inputs((inputs,) if isinstance(inputs, Tensor) else tuple(inputs), "grad")
    outputs, seeds = _outputs_and_seeds(outputs, grad_outputs, "grad")
    wanted = {t.grad_fn or t for t in inputs}
    captured = {}

    def receive(node, grad):
        if node._hooks:
            grad = _run_hooks(node._hooks, grad)
        if node in wanted:
            captured[node] = grad
        return grad

    _run(outputs, seeds, retain_graph, create_graph, receive, targets=wanted)
    results = []
    for position, t in enumerate(inputs):
        g = captured.get(t.grad_fn or t)
        if type(g) is OutputGrads:
            g = g.grads[t._output_nr]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: inputs[{position}] (shape {tuple(t.shape)}) was not used to compute the "
                "outputs, so it has no gradient; pass allow_unused=True to get None for it"
            )
        if g is None and materialize_grads:
            g = Tensor._make(array_module(t.array).zeros_like(t.array), False, None)
        results.append(g)
    return tuple(results)


class _Outputs:
    """The pass's starting node: its inputs are the outputs, its rule hands out their seeds.

    It is internal to the engine: tools watching the pass never see it.
    """

    _hooks = None
    _retained = None

    def __init__(self, outputs, seeds):
        self.next_nodes = tuple(t.grad_fn or t for t in outputs)
        slots = tuple(None if t._output_nr is None else (t._output_nr, t.grad_fn._num_outputs)
                      for t in outputs)
        self._next_slots = None if all(s is None for s in slots) else slots
        self.seeds = seeds


def _run(outputs, seeds, retain_graph, create_graph, receive, targets=None):
    if retain_graph is None:
        retain_graph = create_graph
    check = _anomaly_state.enabled

    def chain_rule(node, grad):
        if node is root:
            return root.seeds
        if not node.next_nodes:  # a leaf
            return ()
        checked = []  # each gradient as a Tensor of its input's shape and dtype
        for g, meta in zip(node._run_backward(grad, retain_graph), node._input_meta):
            if g is None or meta is None:
                g = None
            elif type(g) is not Tensor:
                g = _conform(node, g, meta, len(checked))
            else:
                array = g.array
                if array.shape != meta[0] or (array.dtype is not meta[1]
                                              and array.dtype != meta[1]):
                    g = _conform(node, g, meta, len(checked))
            checked.append(g)
        if check:
            check_gradients(node, checked)
        return checked

    root = _Outputs(outputs, seeds)
    queued = []
    _callbacks.passes.append(queued)
    try:
        with set_grad_enabled(create_graph):
            backpropagate(root, True, _next_nodes, chain_rule, receive, targets,
                          _add if create_graph else _add_unrecorded)
    finally:
        _callbacks.passes.pop()
    for callback in queued:
        callback()


def _outputs_and_seeds(tensors, grad_tensors, op):
    outputs = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,) * len(outputs) if grad_tensors is None else (grad_tensors,)
    grad_tensors = tuple(grad_tensors)
    if len(grad_tensors) != len(outputs):
        raise ValueError(f"{op}: got {len(outputs)} outputs but {len(grad_tensors)} gradients")
    seeds = []
    for position, (out, seed) in enumerate(zip(outputs, grad_tensors)):
        if not isinstance(out, Tensor):
            raise TypeError(f"{op}: outputs[{position}] is a {type(out).__name__}, not a Tensor")
        if not out.requires_grad:
            raise RuntimeError(
                f"{op}: element {position} of tensors does not require grad and does not have a "
                "grad_fn: nothing that requires grad was used to compute it (was it computed "
                "under no_grad(), or from tensors without requires_grad=True?)"
            )
        if seed is None:
            if out.array.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs; this output "
                    f"has shape {tuple(out.shape)}. Pass gradient= (a tensor of that shape), or "
                    "reduce it first, e.g. out.sum().backward()"
                )
            seed = Tensor._make(array_module(out.array).ones_like(out.array), False, None)
        else:
            if not isinstance(seed, Tensor):
                seed = Tensor(seed, dtype=out.dtype)
            if seed.array.shape != out.array.shape:
                raise RuntimeError(
                    f"{op}: gradient has shape {tuple(seed.shape)} but the output has shape "
                    f"{tuple(out.shape)}; they must be equal"
                )
        seeds.append(seed)
    return outputs, tuple(seeds)


def _add(a, b, owned):
    return a + b


def _add_unrecorded(a, b, owned):
    """Sum two gradients where no graph is recorded: a numpy add, in place into our own sums."""
    if type(a) is OutputGrads:
        return a + b
    if owned:
        a.array += b.array
        return a
    return Tensor._make(a.array + b.array, False, None)


def _conform(node, grad, meta, position):
    """``grad`` as a Tensor of its input's shape and dtype.

    A gradient in a broadcast of the input's shape is summed back to it
    here, the one place broadcasting is undone for every op.
    """
    if not isinstance(grad, Tensor):
        grad = Tensor._make(array_module(grad).asarray(grad), False, None)
    shape, dtype = meta
    if grad.array.shape != shape:
        grad = _reduce_to_shape(node, grad, shape, position)
    if grad.array.dtype != dtype:
        grad = grad.to(dtype)
    return grad


def _reduce_to_shape(node, grad, shape, position):
    got = grad.array.shape
    if len(shape) > len(got) or any(n != m and n != 1 for n, m in zip(shape[::-1], got[::-1])):
        raise RuntimeError(
            f"{node.name}: backward returned a gradient of shape {tuple(got)} for input "
            f"{position}, which has shape {tuple(shape)}; the shapes must match (or the gradient "
            "be a broadcast of the input's shape)"
        )
    return sum_to_shape(grad, shape)


def _run_hooks(hooks, grad):
    """Run tensor hooks; a hook may replace the gradient by returning a new one.

    For a node with several outputs, hooks are ``(output_nr, hook)`` pairs,
    each seeing the gradient of its own output.
    """
    several = type(grad) is OutputGrads
    if several:
        grad = OutputGrads(list(grad.grads))
    for hook in list(hooks):
        if several:
            output_nr, hook = hook
            g = grad.grads[output_nr]
            if g is not None:
                replaced = hook(g)
                if replaced is not None:
                    grad.grads[output_nr] = replaced
            continue
        replaced = hook(grad)
        if replaced is not None:
            grad = replaced
    return grad


def _base_id(array):
    return id(array if array.base is None else array.base)


def _accumulate(tensor, grad, taken):
    """tensor.grad += grad, never storing an array that another .grad or the caller holds."""
    if not grad.requires_grad:
        base = _base_id(grad.array)
        if base in taken:
            grad = Tensor._make(grad.array.copy(), False, None)
        else:
            taken.add(base)
    if tensor.grad is None:
        tensor.grad = grad
    elif tensor.grad.requires_grad or grad.requires_grad:  # gradients with a graph: out of place
        tensor.grad = tensor.grad + grad
    else:  # in place, as PyTorch: a reference to .grad taken earlier stays current
        tensor.grad.array += grad.array
        tensor.grad._version[0] += 1
