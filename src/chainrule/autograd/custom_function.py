"""PyTorch's custom-Function protocol: what ``Function.apply`` does for your own Functions.

A ``Function`` subclass defined outside the chainrule package is run as
``torch.autograd.Function`` runs one (see ``chainrule.autograd.function``):
``forward`` with grad mode off, on tensors, returning tensors; its outputs
made differentiable here, except those marked non-differentiable; inputs
marked dirty rebased onto the node; saved outputs kept as outputs; and
gradients of outputs that received none materialized as zeros.

chainrule's own ops never come here: their ``apply`` is the fast path.
"""

from numpy import generic, ndarray

from chainrule.autograd.grad_mode import InferenceVersion, _mode, no_grad
from chainrule.device import array_module
from chainrule.tensor import Tensor

__all__ = ["apply_custom", "array_of", "SavedOutput", "materialized"]


def apply_custom(cls, args, params):
    """``Function.apply`` for a custom Function: PyTorch's protocol (see the module docstring)."""
    ctx = cls()
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    recording = ctx._recording = bool(_mode.enabled) and any(ctx.needs_input_grad)
    with no_grad():
        if cls._forward_takes_ctx:
            outputs = cls.forward(ctx, *args, **params)
        else:  # forward(*args), then setup_context(ctx, inputs, output)
            outputs = cls.forward(*args, **params)
            cls.setup_context(ctx, args, outputs)
    several = type(outputs) is tuple
    returned = outputs if several else (outputs,)
    arrays = [array_of(o) for o in returned]
    if recording:
        ctx._connect(args)  # before a dirty input is rebased onto this node
        ctx._num_outputs = len(returned) if several else 1
        ctx._output_meta = [None if a is None else (a.shape, a.dtype) for a in arrays]
    results = [_custom_output(ctx, args, o, a, nr if several else None, recording)
               for nr, (o, a) in enumerate(zip(returned, arrays))]
    if recording and ctx._saved:
        _link_saved_outputs(ctx, args, returned, results)
    return tuple(results) if several else results[0]


def array_of(output):
    """The array behind what ``forward`` returned; None for what is not a tensor or an array."""
    if isinstance(output, Tensor):
        return output.array
    if isinstance(output, (ndarray, generic)) or (hasattr(output, "dtype")
                                                  and hasattr(output, "shape")):
        return array_module(output).asarray(output)
    return None


def _custom_output(ctx, args, returned, array, output_nr, recording):
    """The tensor a custom Function gives back for one of the values its forward returned."""
    if array is None:  # not a tensor: returned as it is
        return returned
    differentiable = (recording and array.dtype.kind in "fc"
                      and not any(returned is t for t in ctx._non_differentiable))
    if any(returned is t for t in ctx._dirty):  # an input changed in place becomes the output
        if recording:
            if returned.requires_grad and returned.grad_fn is None:
                raise RuntimeError(
                    f"{ctx.name}: a leaf Variable that requires grad has been used in an in-place "
                    f"operation: forward changed input of shape {tuple(returned.shape)} in place "
                    "(ctx.mark_dirty); pass a clone() of it, or do it out of place"
                )
            returned.requires_grad = differentiable
            returned.grad_fn = ctx if differentiable else None
            returned._output_nr = output_nr if differentiable else None
        return returned
    out = Tensor._make(array, differentiable, ctx if differentiable else None,
                       output_nr if differentiable else None)
    for a in args:  # an input returned as it is: the output shares its version counter
        if isinstance(a, Tensor) and a.array is array:
            out._version = a._version
            break
    else:
        if _mode.inference:
            out._version = InferenceVersion(out._version)
    return out


class SavedOutput:
    """An output of a custom Function kept by ``save_for_backward``, without a reference cycle.

    Unpacked in ``backward``, it is the output again: with this node as its
    ``grad_fn`` when recording (differentiating twice), checked for in-place changes.
    """

    __slots__ = ("array", "output_nr", "version", "expected", "differentiable")

    def __init__(self, tensor):
        self.array = tensor.array
        self.output_nr = tensor._output_nr
        self.version = tensor._version
        self.expected = tensor._version[0]
        self.differentiable = tensor.requires_grad

    def unpack(self, node):
        if self.version[0] != self.expected:
            raise RuntimeError(
                f"{node.name}: one of the variables needed for gradient computation has been "
                f"modified by an in-place operation: an output of shape {tuple(self.array.shape)} "
                f"is at version {self.version[0]}; expected version {self.expected} instead. Use "
                "an out-of-place op or clone() the output before changing it."
            )
        recording = bool(_mode.enabled) and self.differentiable
        t = Tensor._make(self.array, recording, node if recording else None,
                         self.output_nr if recording else None)
        t._version = self.version
        return t


def _link_saved_outputs(ctx, args, returned, results):
    """Saved tensors that ``forward`` also returned: keep them as outputs; take versions now.

    An input returned as it is (not changed in place) stays an input, as in PyTorch.
    """
    saved = []
    for t, version in ctx._saved:
        if isinstance(t, Tensor):
            for nr, o in enumerate(returned):
                if (t is o and isinstance(results[nr], Tensor) and results[nr].requires_grad
                        and (results[nr] is o or not any(o is a for a in args))):
                    t = SavedOutput(results[nr])
                    break
            else:
                version = t._version[0]  # as PyTorch, the version when forward is done
        saved.append((t, version if isinstance(t, Tensor) else None))
    ctx._saved = saved


def materialized(grads, output_meta):
    """Zeros in place of None for each tensor output, as PyTorch gives a custom backward."""
    if output_meta is None or all(g is not None for g in grads):
        return grads
    zeros = array_module(*[g.array for g in grads if g is not None])
    return [Tensor._make(zeros.zeros(meta[0], meta[1]), False, None)
            if g is None and meta is not None else g for g, meta in zip(grads, output_meta)]
