"""``Tensor``: a numpy array that remembers how it was computed.

The same chain rule as the scalar ``Value``, on n-dimensional arrays, with
PyTorch's names and semantics: ``requires_grad``, ``grad_fn``, ``.grad``,
``backward()``, hooks, ``no_grad()``. This file holds the tensor itself: its
fields, metadata and the in-place mechanism. Its methods and operators
(``x.exp()``, ``x + y``) are the ops of ``chainrule.ops``, bound by their
declarations in ``chainrule.registry``; ``tensor.pyi`` lists them for
editors and type checkers.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
"""

import weakref

import numpy as np

from chainrule.autograd.grad_mode import _mode
from chainrule._printing import tensor_repr
from chainrule.device import backend_for, backend_of, device_of
from chainrule.utils.hooks import RemovableHandle

__all__ = ["Tensor", "tensor", "from_numpy"]


class Tensor:
    """An n-dimensional array with an optional gradient.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data`` (a
    number, nested lists, or an array). Python floats become float32, as in
    PyTorch; numpy arrays keep their dtype unless ``dtype`` is given. Only
    floating-point tensors can require grad.
    """

    __slots__ = ("array", "grad", "requires_grad", "grad_fn", "_version", "_hooks", "_view_of",
                 "_output_nr", "__weakref__")
    __array_priority__ = 1000  # numpy defers to Tensor's reflected operators
    __hash__ = object.__hash__  # == is elementwise, so hash by identity
    # As a graph node (see chainrule.autograd.node), a leaf tensor has no inputs and no rule.
    next_nodes = ()
    inputs = ()
    input_shapes = ()
    input_dtypes = ()
    op_name = "leaf"
    rule = ""
    local_derivatives = None
    _next_slots = None

    def __new__(cls, data=(), requires_grad=False, dtype=None, device=None):
        t = cls._make(_to_array(data, dtype, device), False, None)
        if requires_grad:
            t.requires_grad_(True)
        return t

    @classmethod
    def _make(cls, data, requires_grad, grad_fn, output_nr=None):
        """Wrap an array without copying or checking: the fast path for ops.

        The one place a tensor's fields are set. ``output_nr`` is which
        output of ``grad_fn`` this tensor is (for ops with several outputs).
        """
        t = object.__new__(cls)
        t.array = data
        t.grad = None
        t.requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._version = [0]
        t._hooks = None
        t._view_of = None
        t._output_nr = output_nr
        return t

    # ------------------------------------------------------------------ data

    @property
    def data(self):
        """This tensor's values as a tensor that shares its memory, outside the graph.

        As in PyTorch: ``p.data.normal_(0, 0.02)``, ``p.data.add_(g, alpha=-lr)`` and
        ``p.data += update`` change ``p`` itself, with no graph recorded and no
        version bump seen by autograd (``detach()`` is the safe form; it does bump
        them). The array itself is ``.array`` (numpy's, or the device library's);
        ``.numpy()`` gives a host numpy array.
        """
        return Tensor._make(self.array, False, None)

    @data.setter
    def data(self, value):
        """``p.data = t``: ``p`` now holds ``t``'s values (its memory), any shape or dtype."""
        if isinstance(value, Tensor):
            self.array = value.array
        else:
            self.array = _to_array(value, None, None)

    # -------------------------------------------------------------- metadata

    @property
    def shape(self):
        return self.array.shape

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self):
        """Where the data lives: ``device(type='cpu')`` for numpy arrays."""
        return device_of(self.array)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_leaf(self):
        """True for tensors made by the user, not by an op that recorded a graph."""
        return self.grad_fn is None

    def size(self, dim=None):
        return self.array.shape if dim is None else self.array.shape[_check_dim(dim, self.ndim, "size")]

    def dim(self):
        return self.array.ndim

    def numel(self):
        return self.array.size

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    # ----------------------------------------------------- leaving the graph

    def item(self):
        if self.array.size != 1:
            raise ValueError(
                f"item: only a tensor with one element can be converted to a Python number; "
                f"this one has shape {tuple(self.shape)}"
            )
        return self.array.item()

    def numpy(self):
        """The underlying array (shared, not copied)."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; "
                "use tensor.detach().numpy() instead"
            )
        return self.array

    def tolist(self):
        return self.array.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.array if dtype is None else self.array.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        """An integer tensor of one element as a Python int: ``data[i:i + n]`` with a tensor i."""
        if self.array.size != 1 or self.array.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index; this one is {self.array.dtype} of shape {tuple(self.shape)}")
        return int(self.array.item())

    def __format__(self, format_spec):
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``); others as ``str``."""
        if self.array.ndim == 0:
            return self.array.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with {self.array.size} elements is "
                "ambiguous; use .any() or .all()"
            )
        return bool(self.array.item())

    def detach(self):
        """The same data (shared), cut out of the graph."""
        out = Tensor._make(self.array, False, None)
        out._version = self._version
        return out

    # ------------------------------------------------------------- gradients

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not np.issubdtype(self.array.dtype, np.floating):
            raise RuntimeError(
                f"requires_grad: only tensors of floating point dtype can require gradients; "
                f"this one is {self.array.dtype}. Convert it first, e.g. x.float()"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad of leaf tensors; "
                "use .detach() to get a tensor out of the graph"
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after ``backward()`` (leaves always do)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: can't retain the grad of a tensor that does not require grad")
        if self.grad_fn is not None:
            self.grad_fn.retain_output(weakref.ref(self), self._output_nr)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a return value replaces it."""
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that doesn't require gradient"
            )
        if self.grad_fn is not None:
            return self.grad_fn.register_hook(hook, self._output_nr)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    # ---------------------------------------------------------------- repr

    def __repr__(self):
        """As PyTorch prints tensors (``chainrule._printing``): 4 decimals, the dtype unless
        a default one, ``grad_fn=`` or ``requires_grad=True``."""
        return tensor_repr(self, backend_of(self.array).to_host(self.array))

    # ------------------------------------------------------- in-place changes

    def _modify_in_place(self, op, compute):
        """Replace the data with ``compute(self)``, keeping the graph right.

        Recording, the op is done out of place and this tensor's history
        moves to the new node; a leaf that requires grad refuses. The old
        values are copied only where a new node saved them for its backward
        (``a.mul_(b)`` with ``b`` requiring grad keeps the old ``a``). The
        version counter tells older saved tensors they are out of date.
        """
        recording = _mode.enabled
        if recording and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad (shape {tuple(self.shape)}) is being "
                "used in an in-place operation; do it under chainrule.no_grad() (as optimizers "
                "do), or use the out-of-place op"
            )
        if recording and self._view_of is not None and self._view_of.requires_grad:
            return self._modify_view_in_place(op, compute)
        source = Tensor._make(self.array, self.requires_grad, self.grad_fn, self._output_nr)
        if recording:
            result, new_nodes = _recording_new_nodes(compute, source)
            for node in new_nodes:
                node._keep_own_copy_of(self.array)
        else:
            result = compute(source)
        if result.array.shape != self.array.shape:
            raise RuntimeError(
                f"{op}: the result has shape {tuple(result.shape)}, but the tensor changed in "
                f"place has shape {tuple(self.shape)}; an in-place op cannot change the shape"
            )
        if result.array is not self.array:
            self.array[...] = result.array
        self._version[0] += 1
        if result.requires_grad:
            self.requires_grad = True
            self.grad_fn = result.grad_fn
            self._output_nr = result._output_nr
        return self

    def _modify_view_in_place(self, op, compute):
        """In-place change of a view of a tensor that requires grad: write through to the base."""
        write_back = getattr(self.grad_fn, "write_back", None)
        if write_back is None:
            raise RuntimeError(
                f"{op}: in-place change of this view of a tensor that requires grad is not "
                "supported (only views made by basic indexing, like y[0] or y[:, 1:], are); "
                "clone() the view first"
            )
        result = compute(Tensor._make(self.array.copy(), self.requires_grad, self.grad_fn))
        if result.array.shape != self.array.shape:
            raise RuntimeError(
                f"{op}: the result has shape {tuple(result.shape)}, but the view changed in "
                f"place has shape {tuple(self.shape)}; an in-place op cannot change the shape"
            )
        fresh_view = write_back(self._view_of, result)
        self.grad_fn, self.requires_grad = fresh_view.grad_fn, True
        return self


def _recording_new_nodes(compute, source):
    """``compute(source)``, and the graph nodes it recorded (``Function.apply`` lists them)."""
    outer = _mode.new_nodes
    _mode.new_nodes = new_nodes = []
    try:
        result = compute(source)
    finally:
        _mode.new_nodes = outer
        if outer is not None:
            outer.extend(new_nodes)
    return result, new_nodes


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``, as ``torch.tensor``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor sharing memory with ``array`` (no copy); changes to one show in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array, False, None)


def _to_array(data, dtype, device=None):
    backend = backend_for(device)
    if dtype is not None:
        dtype = _as_dtype(dtype)
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, (np.ndarray, np.generic)):  # numpy data keeps its dtype, as in PyTorch
        return backend.xp.array(data, dtype=dtype, copy=True)
    if isinstance(data, (str, bytes)) or data is None:
        raise TypeError(
            f"Tensor: expected a number, a (nested) list of numbers or an array, got "
            f"{type(data).__name__} {data!r}"
        )
    try:
        array = backend.xp.array(data, dtype=dtype)
    except (ValueError, TypeError) as error:
        raise TypeError(f"Tensor: could not make an array from {type(data).__name__}: {error}") from None
    if array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(f"Tensor: expected numbers, got elements of type {array.dtype}")
    if dtype is None and array.dtype == np.float64:
        array = array.astype(np.float32)  # Python floats are float32, as in PyTorch
    return array


def _as_dtype(dtype):
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: {dtype!r} is not a dtype; use e.g. chainrule.float32") from None
    if dtype.kind not in "fiub":
        raise TypeError(f"dtype: {dtype} is not supported; use a float, int or bool dtype")
    return dtype


def _check_dim(dim, ndim, op):
    rank = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -rank <= dim < rank:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions "
            f"(expected to be in range of [{-rank}, {rank - 1}])"
        )
    return dim % rank
