"""``Function``: one op's forward and backward, side by side.

Every differentiable op in chainrule, built in or yours, is a ``Function``
subclass with two static methods:

- ``forward(ctx, *args, **params)`` computes the result and returns it, or a
  tuple for an op with several outputs (``max`` along a dim gives values and
  indices). It saves what the backward will need: tensors with
  ``ctx.save_for_backward(x, ...)``, anything else as attributes of ``ctx``.
- ``backward(ctx, *grads)`` gets one gradient per output and returns one
  gradient per positional input of ``forward`` (``None`` for inputs that
  are not tensors or need none). It is written with ``Tensor`` ops, so that
  it can itself be differentiated: that is what makes gradients of
  gradients work.

``Function.apply(*args, **params)`` runs the op. When recording, the ``ctx``
becomes the result's ``grad_fn``, the node of the graph that ``backward()``
walks. Outputs of an integer or bool dtype never require grad.

The summary (first paragraph) of an op's docstring states its math, ``f(x);  d/dx = ...``:
tools show it as the op's derivative rule (``node.rule``).

**Your own Function is PyTorch's custom Function.** A subclass defined outside
the chainrule package follows ``torch.autograd.Function``'s protocol, so one
written for PyTorch runs unchanged: ``forward`` runs with grad mode off and may
compute with tensor ops and return tensors (or arrays, as chainrule's own ops
do); ``ctx.needs_input_grad`` is known inside ``forward``; a tensor saved with
``save_for_backward`` that is also an output comes back in ``backward`` as
that output, part of the graph when differentiating twice;
``ctx.mark_non_differentiable(*outputs)``, ``ctx.mark_dirty(*inputs)`` and
``ctx.set_materialize_grads(False)`` work as in PyTorch; a ``forward``
without ``ctx`` plus a ``setup_context(ctx, inputs, output)`` works too; and
``backward`` gets zeros, not ``None``, for outputs that received no gradient
(PyTorch's default, which ``ctx.set_materialize_grads(False)`` turns off).
chainrule's own ops (the subclasses in the chainrule package) take the fast
path instead: ``forward`` computes on the inputs' arrays (``x.array``) and
returns arrays, ``save_result`` keeps the result, and ``backward`` gets
``None`` for outputs without a gradient.

    >>> import chainrule as cr
    >>> class Cube(cr.autograd.Function):
    ...     '''x**3;  d/dx = 3 x**2.'''
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 3 * x**2
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward()
    >>> x.grad
    tensor(12.)

``@once_differentiable`` on a ``backward`` runs it with grad mode off: for a
backward written in array code, which cannot be differentiated again; taking
a second derivative through it raises an error instead of a wrong result.
"""

import functools

from numpy import asarray, generic, ndarray

from chainrule.autograd.anomaly import _state as _anomaly_state
from chainrule.autograd.anomaly import creation_site
from chainrule.autograd.custom_function import SavedOutput, apply_custom, array_of, materialized
from chainrule.autograd.grad_mode import InferenceVersion, _mode, inference_saved_error, no_grad
from chainrule.autograd.graph import OutputGrads
from chainrule.autograd.node import docstring_rule
from chainrule.device import array_module
from chainrule.tensor import Tensor
from chainrule.utils.hooks import RemovableHandle

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

_FREED = object()
_make = Tensor._make
# needs_input_grad of the common cases, shared rather than built for every node
_NEEDS_ONE = (True,)
_NEEDS_TWO = (None, (False, True), (True, False), (True, True))  # by needs_a << 1 | needs_b
_NEEDS = {n: n for n in _NEEDS_TWO[1:]}
# The inputs' (shape, dtype) metadata, shared by every node with inputs alike rather than
# built for each: a long chain then keeps no metadata tuples of its own per node for the
# garbage collector to walk (its passes are what cost most in building long graphs).
# Keyed by the metadata itself, and the patterns of the common one- and two-input cases;
# cleared when it grows past _META_LIMIT entries (programs with ever-changing shapes).
_META = {}
_META_LIMIT = 4096


def _shared_meta(key):
    """The one tuple ``key`` (a tuple of shapes, dtypes and ``None``) stands for, built once."""
    meta = _META.get(key)
    if meta is None:
        if len(_META) > _META_LIMIT:
            _META.clear()
        if len(key) == 2:  # one input that needs a gradient
            meta = ((key[0], key[1]),)
        elif key[0] is None:  # (None, None, shape_b, dtype_b)
            meta = (None, _shared_meta((key[2], key[3]))[0])
        elif key[2] is None:  # (shape_a, dtype_a, None, None)
            meta = (_shared_meta((key[0], key[1]))[0], None)
        else:
            meta = (_shared_meta((key[0], key[1]))[0], _shared_meta((key[2], key[3]))[0])
        _META[key] = meta
    return meta


class Function:
    """Base class of every op; an instance is both the op's ``ctx`` and its graph node.

    As a node it follows the protocol every tool reads (``inputs``,
    ``op_name``, ``rule``, ``is_leaf``, ``input_shapes``), the same as a
    scalar ``Value``'s: see ``chainrule.autograd.node``.
    """

    next_nodes = ()  # graph nodes of the inputs, one per positional input (None: no gradient)
    needs_input_grad = ()
    is_leaf = False
    local_derivatives = None  # a tensor op's local derivatives are Jacobians, not kept
    value = None  # a tensor op does not keep its result for tools
    _next_slots = None  # per input: (output_nr, num_outputs) where it is one of several outputs
    _num_outputs = 1
    _input_meta = ()
    _recording = False
    _saved = ()
    _result = None
    _result_version = None
    _hooks = None
    _retained = None  # weak reference(s) to result tensors that retain their grad
    _creation_site = None  # where the op was called, under detect_anomaly()
    # PyTorch's custom-Function protocol (see the module docstring): True for a subclass
    # defined outside the chainrule package, False for chainrule's own ops.
    _custom = False
    _materialize_grads = True  # a custom Function's backward gets zeros for missing gradients
    _non_differentiable = ()
    _dirty = ()
    _output_meta = None  # a custom Function's outputs: (shape, dtype) each, None for non-tensors
    _forward_takes_ctx = True  # False: forward(*args) with a separate setup_context(ctx, ...)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_custom" not in cls.__dict__:
            cls._custom = not cls.__module__.startswith("chainrule.")
        cls._forward_takes_ctx = cls.setup_context is Function.setup_context
        if cls._custom and "apply" not in cls.__dict__:
            cls.apply = _apply_custom  # chainrule's own ops keep the fast path below

    @staticmethod
    def forward(ctx, *args, **params):
        raise NotImplementedError(f"{type(ctx).__name__}.forward is not written")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError(
            f"{type(ctx).__name__}.backward is not written: this op is not differentiable"
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        """For a ``forward`` without ``ctx``: save what backward needs of ``inputs``, ``output``."""
        raise NotImplementedError("setup_context is not written: forward takes ctx")

    @classmethod
    def apply(cls, *args, **params):
        ctx = cls()
        recording = _mode.enabled  # None in inference mode
        if recording:
            ctx._set_edges(args)  # before forward, which may read needs_input_grad
        data = cls.forward(ctx, *args, **params) if params else cls.forward(ctx, *args)
        if type(data) is not ndarray:
            if type(data) is tuple:
                return ctx._wrap_outputs(data, args)
            if isinstance(data, generic):  # numpy gives scalars for 0-d results; keep arrays
                data = asarray(data)
            elif isinstance(data, Tensor):  # a forward written with tensor ops
                data = data.array
        if not ctx._recording:  # nothing recorded: the array and its wrapper, no graph node
            out = _make(data, False, None)
            if recording is None:  # made in inference mode
                out._version = InferenceVersion(out._version)
            return out
        if _anomaly_state.enabled or _mode.new_nodes is not None:
            ctx._announce()
        out = _make(data, True, ctx)
        if ctx._result is not None:
            ctx._result_version = out._version  # the result's counter, now at 0
        return out

    def _connect(self, args):
        """Record the edges to the inputs, and announce the node (anomaly mode, in-place ops)."""
        self._set_edges(args)
        self._announce()

    def _set_edges(self, args):
        """The edges to the inputs: the graph node each came from, and its shape and dtype.

        Nothing is recorded (``_recording`` stays False) when no input
        requires grad; the common one- and two-input cases build their
        tuples directly.
        """
        if len(args) == 1:
            a = args[0]
            if not (isinstance(a, Tensor) and a.requires_grad):
                return
            self._recording = True
            array = a.array
            self.needs_input_grad = _NEEDS_ONE
            self.next_nodes = (a.grad_fn or a,)
            key = (array.shape, array.dtype)
            self._input_meta = _META.get(key) or _shared_meta(key)
            if a._output_nr is not None:
                self._next_slots = ((a._output_nr, a.grad_fn._num_outputs),)
            return
        if len(args) == 2:
            a, b = args
            needs_a = isinstance(a, Tensor) and a.requires_grad
            needs_b = isinstance(b, Tensor) and b.requires_grad
            if not (needs_a or needs_b):
                return
            self._recording = True
            self.needs_input_grad = _NEEDS_TWO[needs_a << 1 | needs_b]
            if needs_a and needs_b:
                self.next_nodes = (a.grad_fn or a, b.grad_fn or b)
                array, other = a.array, b.array
                key = (array.shape, array.dtype, other.shape, other.dtype)
            elif needs_a:
                self.next_nodes = (a.grad_fn or a, None)
                array = a.array
                key = (array.shape, array.dtype, None, None)
            else:
                self.next_nodes = (None, b.grad_fn or b)
                array = b.array
                key = (None, None, array.shape, array.dtype)
            self._input_meta = _META.get(key) or _shared_meta(key)
            if ((needs_a and a._output_nr is not None)
                    or (needs_b and b._output_nr is not None)):
                self._next_slots = tuple(
                    (t._output_nr, t.grad_fn._num_outputs) if needed and t._output_nr is not None
                    else None for t, needed in ((a, needs_a), (b, needs_b)))
            return
        for a in args:
            if isinstance(a, Tensor) and a.requires_grad:
                break
        else:
            return
        self._recording = True
        needs, next_nodes, input_meta, several = [], [], [], False
        for a in args:
            if isinstance(a, Tensor) and a.requires_grad:
                needs.append(True)
                next_nodes.append(a.grad_fn or a)
                array = a.array
                key = (array.shape, array.dtype)
                input_meta.append((_META.get(key) or _shared_meta(key))[0])
                if a._output_nr is not None:  # one of several outputs of its op
                    several = True
            else:
                needs.append(False)
                next_nodes.append(None)
                input_meta.append(None)
        self.needs_input_grad = _NEEDS.get(tuple(needs)) or tuple(needs)
        self.next_nodes = tuple(next_nodes)
        self._input_meta = tuple(input_meta)
        if several:
            self._next_slots = tuple(
                (a._output_nr, a.grad_fn._num_outputs) if needed and a._output_nr is not None
                else None for a, needed in zip(args, self.needs_input_grad))

    def _announce(self):
        """A recorded node's creation site (under ``detect_anomaly``), and in-place ops' list."""
        if _anomaly_state.enabled:
            self._creation_site = creation_site()
        if _mode.new_nodes is not None:
            _mode.new_nodes.append(self)

    def _wrap_outputs(self, arrays, args):
        """Tensors for an op with several outputs; only floating-point ones join the graph."""
        if not self._recording:
            outs = tuple(Tensor._make(a, False, None) for a in arrays)
            if _mode.inference:
                for out in outs:
                    out._version = InferenceVersion(out._version)
            return outs
        self._announce()  # apply set the edges
        self._num_outputs = len(arrays)
        return tuple(Tensor._make(a, True, self, nr) if a.dtype.kind in "fc"
                     else Tensor._make(a, False, None)
                     for nr, a in enumerate(arrays))

    # ------------------------------------------------------ saving for backward

    def save_for_backward(self, *tensors):
        """Keep inputs for ``backward``; tensors among them are checked for in-place changes.

        Plain numbers may be saved too (``x * 2`` saves the 2); they come back as they are.
        Tensors made in ``inference_mode`` cannot be saved.
        """
        if self._recording:  # nothing to keep when no graph is recorded
            saved = []
            for t in tensors:
                if isinstance(t, Tensor):
                    version = t._version
                    if type(version) is not list:
                        raise inference_saved_error()
                    saved.append((t, version[0]))
                else:
                    saved.append((t, None))
            self._saved = saved

    def mark_non_differentiable(self, *outputs):
        """Say which outputs of ``forward`` have no gradient: they will not require grad.

        ``backward`` still gets a gradient for each (zeros, or None without
        materialized gradients), as in PyTorch.
        """
        self._non_differentiable = outputs

    def mark_dirty(self, *inputs):
        """Say which inputs ``forward`` changed in place (and returns): they become its outputs."""
        self._dirty = inputs

    def set_materialize_grads(self, value):
        """With False, ``backward`` gets None (not zeros) for outputs that received no gradient."""
        self._materialize_grads = bool(value)

    def save_for_forward(self, *tensors):
        raise NotImplementedError("save_for_forward: chainrule has no forward-mode AD; "
                                  "compute Jacobian-vector products with chainrule.func.jvp")

    def save_result(self, data):
        """Keep the result (an array) for ``backward``; returns it, for ``forward`` to return."""
        self._result = data
        return data

    @property
    def saved_tensors(self):
        """What ``save_for_backward`` kept; a custom Function's saved outputs come back as such."""
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(_freed_message(self))
        if self._custom:
            saved = [(t.unpack(self), None) if type(t) is SavedOutput else (t, v) for t, v in saved]
        for position, (tensor, version) in enumerate(saved):
            if version is not None and tensor._version[0] != version:
                raise RuntimeError(
                    f"{self.name}: one of the variables needed for gradient computation has "
                    f"been modified by an in-place operation: input {position} of shape "
                    f"{tuple(tensor.shape)} is at version {tensor._version[0]}; expected version "
                    f"{version} instead. Use an out-of-place op (x = x + 1, not x += 1) or clone() "
                    "the tensor before changing it."
                )
        return tuple([tensor for tensor, _ in saved])

    @property
    def result(self):
        """The forward's result as a tensor; part of the graph when differentiating twice."""
        if self._result is None:
            raise RuntimeError(_freed_message(self) if self._saved is _FREED else
                               f"{self.name}: forward did not save its result (ctx.save_result)")
        if self._result_version is not None and self._result_version[0] != 0:
            raise RuntimeError(
                f"{self.name}: one of the variables needed for gradient computation has been "
                f"modified by an in-place operation: the result of shape {self._result.shape} "
                f"is at version {self._result_version[0]}; expected version 0 instead. Use an "
                "out-of-place op or clone() the result before changing it."
            )
        if _mode.enabled:
            return Tensor._make(self._result, True, self)
        return Tensor._make(self._result, False, None)

    def _keep_own_copy_of(self, array):
        """Copy what this node saved from ``array``, which an in-place op is about to overwrite."""
        saved = self._saved
        if saved and saved is not _FREED:
            xp = array_module(array)
            for position, (t, version) in enumerate(saved):
                if isinstance(t, Tensor) and xp.may_share_memory(t.array, array):
                    copy = Tensor._make(t.array.copy(), t.requires_grad, t.grad_fn, t._output_nr)
                    saved[position] = (copy, 0)

    # ------------------------------------------------------- the node protocol

    @property
    def name(self):
        """The op's name, PyTorch-style: ``MulBackward`` for ``Mul``."""
        return type(self).__name__ + "Backward"

    @property
    def op_name(self):
        """The op's short name: ``Mul``."""
        return type(self).__name__

    @property
    def rule(self):
        """The op's math and derivative rule: its docstring's summary, as one line."""
        return docstring_rule(type(self).__doc__) or self.name

    @property
    def inputs(self):
        """The graph nodes of the inputs that take a gradient (a leaf tensor or a ``grad_fn``)."""
        return tuple(node for node in self.next_nodes if node is not None)

    @property
    def input_shapes(self):
        """The shape of each of ``inputs``."""
        return tuple(tuple(meta[0]) for meta in self._input_meta if meta is not None)

    @property
    def input_dtypes(self):
        """The dtype of each of ``inputs``."""
        return tuple(meta[1] for meta in self._input_meta if meta is not None)

    @property
    def num_outputs(self):
        return self._num_outputs

    def register_hook(self, hook, output_nr=None):
        """Call ``hook(grad)`` with the gradient of this node's result (of output ``output_nr``)."""
        if self._hooks is None:
            self._hooks = []
        entry = hook if output_nr is None else (output_nr, hook)
        self._hooks.append(entry)
        return RemovableHandle(self._hooks, entry)

    def retain_output(self, reference, output_nr=None):
        """Keep the gradient of the output behind ``reference`` (a weakref) after backward."""
        if output_nr is None:
            self._retained = reference
        else:
            if self._retained is None:
                self._retained = {}
            self._retained[output_nr] = reference

    def retained_outputs(self):
        """``(output_nr, tensor)`` for each live output that retains its gradient."""
        retained = self._retained
        if retained is None:
            return ()
        if not isinstance(retained, dict):
            t = retained()
            return () if t is None else ((None, t),)
        return tuple((nr, ref()) for nr, ref in retained.items() if ref() is not None)

    def __repr__(self):
        return f"<{self.name}>"

    # --------------------------------------------------------- for the engine

    def _run_backward(self, grad, retain_graph):
        """Run ``backward`` on this node's gradient(s); one gradient per input comes back.

        The engine then checks each against its input's shape and dtype
        (``chainrule.autograd.engine``), where broadcasting is undone.
        """
        backward = type(self).backward
        if type(grad) is OutputGrads:
            output_grads = grad.grads
            if self._custom and self._materialize_grads:
                output_grads = materialized(output_grads, self._output_meta)
            grads = backward(self, *output_grads)
        else:
            grads = backward(self, grad)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(self.next_nodes):
            grads = self._one_grad_per_input(grads)
        if not retain_graph and (self._saved or self._result is not None):
            # Free what forward kept. A node that kept nothing is left as it is: as in
            # PyTorch, running its backward again is no error, and writing to it would
            # give every such node of a long chain a __dict__ of its own.
            self._saved = _FREED
            self._result = None
        return grads

    def _one_grad_per_input(self, grads):
        n = len(self.next_nodes)
        if len(grads) > n and all(g is None for g in grads[n:]):  # extra Nones, as PyTorch allows
            return grads[:n]
        raise RuntimeError(
            f"{self.name}: backward returned {len(grads)} gradients, but forward took "
            f"{n} positional inputs; return one per input (None for none)"
        )


def _freed_message(node):
    return (
        f"{node.name}: trying to backward through the graph a second time (or to read saved "
        "tensors after they were freed). The saved values of a graph are freed when you call "
        ".backward() or autograd.grad(); pass retain_graph=True to the first call if you need "
        "to go through the graph again."
    )


@classmethod
def _apply_custom(cls, *args, **params):
    """``apply`` of a custom Function: PyTorch's protocol (``autograd.custom_function``)."""
    return apply_custom(cls, args, params)


#: The type of ``ctx`` (for annotations, as ``torch.autograd.function.FunctionCtx``):
#: in chainrule the ctx is the ``Function`` instance itself.
FunctionCtx = Function


# ------------------------------------------------------------ once_differentiable


class DelayedError(Function):
    """x;  d/dx raises: the backward this came from was marked @once_differentiable."""

    @staticmethod
    def forward(ctx, x, origin):
        ctx.origin = origin
        return x.array

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable "
            f"({ctx.origin}); its backward is not differentiable. Remove the decorator if the "
            "backward is written with differentiable tensor ops"
        )


def once_differentiable(backward):
    """Decorate a ``backward``: run it with grad mode off, and refuse to differentiate it again.

    For a backward that cannot be differentiated (array code, say): a
    second derivative through it raises ``RuntimeError`` ("trying to
    differentiate twice a function that was marked with @once_differentiable")
    instead of silently giving zero, as in PyTorch.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *args, **kwargs):
        with no_grad():
            outputs = backward(ctx, *args, **kwargs)
        if not _mode.enabled or not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            return outputs
        several = type(outputs) is tuple
        origin = ctx.name if isinstance(ctx, Function) else type(ctx).__name__
        wrapped = tuple(_raising_on_second_use(g, origin) for g in (outputs if several
                                                                  else (outputs,)))
        return wrapped if several else wrapped[0]

    return wrapper


def _raising_on_second_use(grad, origin):
    array = array_of(grad)
    if array is None or array.dtype.kind not in "fc":
        return grad
    fake_leaf = Tensor._make(array, True, None)
    return DelayedError.apply(fake_leaf, origin=origin)
