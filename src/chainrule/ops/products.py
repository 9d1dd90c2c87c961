"""Products: matrix and vector products, ``einsum``, ``tensordot``, ``kron``, ``trace``.

One primitive: ``Einsum``, whose backward is again an einsum (the gradient
contracted with the other operands onto the operand's own subscripts).
Everything else is composed of it, ``matmul`` (``chainrule.ops.arithmetic``)
and ``Diagonal`` (``chainrule.ops.diagonals``), so no other backward is
written here and every gradient can be differentiated again.

    >>> import chainrule as cr
    >>> a = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> cr.einsum("ij,ij->", a, a).backward()
    >>> a.grad
    tensor([[2., 4.],
            [6., 8.]])
"""

import string

import numpy as np

from chainrule.autograd.function import Function
from chainrule.device import array_module
from chainrule.ops.arithmetic import matmul
from chainrule.ops.diagonals import Diagonal
from chainrule.ops.joining import stack
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.registry import register
from chainrule.tensor import Tensor, _check_dim

LABELS = string.ascii_letters  # einsum's labels: a-z then A-Z, sublist integers 0..51


# ---------------------------------------------------------------- einsum


class Einsum(Function):
    """einsum(subscripts -> output);  d/d operand k = einsum(grad, others -> k's subscripts)."""

    @staticmethod
    def forward(ctx, subscripts, output, *operands):
        ctx.save_for_backward(*operands)
        ctx.subscripts, ctx.output = subscripts, output
        ctx.sizes = {label: n for subs, x in zip(subscripts, operands)
                     for label, n in zip(subs, x.shape)}
        arrays = [x.array for x in operands]
        equation = ",".join(subscripts) + "->" + output
        return array_module(*arrays).einsum(equation, *arrays, optimize=len(arrays) > 2)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        return (None, None) + tuple(
            _einsum_adjoint(ctx, operands, k, grad) if needed else None
            for k, needed in enumerate(ctx.needs_input_grad[2:]))


def _einsum_adjoint(ctx, operands, k, grad):
    """The gradient of operand ``k``: grad and the other operands contracted onto its labels.

    Labels of operand k found nowhere else were summed out of it alone: the gradient is
    constant along them (broadcast). A label repeated in k (a diagonal, ``ii``) gets the
    gradient on that diagonal only.
    """
    subs = ctx.subscripts[k]
    unique = "".join(dict.fromkeys(subs))
    others = [(s, x) for i, (s, x) in enumerate(zip(ctx.subscripts, operands)) if i != k]
    available = set(ctx.output).union(*(set(s) for s, _ in others))
    kept = "".join(label for label in unique if label in available)
    g = Einsum.apply((ctx.output,) + tuple(s for s, _ in others), kept, grad,
                     *(x for _, x in others))
    missing = "".join(label for label in unique if label not in available)
    if missing:
        g = g.reshape(tuple(g.shape) + (1,) * len(missing))
        order = kept + missing
        g = g.permute(tuple(order.index(label) for label in unique))
        g = g.expand(tuple(ctx.sizes[label] for label in unique))
    if len(unique) < len(subs):
        g = _onto_diagonals(g, subs, ctx.sizes)
    return g


def _onto_diagonals(g, subs, sizes):
    """``g`` (an axis per distinct label) spread to ``subs``, 0 off repeated labels' diagonals."""
    first, shape = {}, []
    for position, label in enumerate(subs):
        shape.append(1 if label in first else sizes[label])
        first.setdefault(label, position)
    full = tuple(sizes[label] for label in subs)
    g = g.reshape(tuple(shape)).expand(full)
    xp = array_module(g.array)
    mask = xp.ones(full, dtype=bool)
    for position, label in enumerate(subs):
        if first[label] != position:
            mask &= _axis_range(xp, full, position) == _axis_range(xp, full, first[label])
    return g * Tensor._make(mask.astype(g.dtype), False, None)


def _axis_range(xp, shape, axis):
    return xp.arange(shape[axis]).reshape([n if i == axis else 1 for i, n in enumerate(shape)])


@register("torch")
def einsum(*args):
    """Sum of products over labelled dimensions: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``.

    As PyTorch: operands as arguments or one list, or the sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``; ``...`` for broadcast dimensions; without
    ``->`` the output is the labels used once, in alphabetical order; dimensions of
    size 1 broadcast.
    """
    equation, operands = _einsum_arguments(args)
    subscripts, output = _parse_equation(equation, operands)
    subscripts, operands = _broadcast_labels(subscripts, operands, output, equation)
    return Einsum.apply(tuple(subscripts), output, *operands)


def _einsum_arguments(args):
    if not args:
        raise TypeError("einsum: expected an equation and operands, got no arguments")
    if isinstance(args[0], str):
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = operands[0]
        return args[0], list(operands)
    pairs, rest = args[0::2], args[1::2]
    operands = list(pairs[:len(rest)])
    output = None if len(args) % 2 == 0 else args[-1]
    equation = ",".join(_sublist(s) for s in rest)
    if output is not None:
        equation += "->" + _sublist(output)
    return equation, operands


def _sublist(labels):
    out = ""
    for label in labels:
        if label is Ellipsis:
            out += "..."
        elif isinstance(label, int) and 0 <= label < len(LABELS):
            out += LABELS[label]
        else:
            raise ValueError(f"einsum: sublist labels must be integers in [0, 52) or ..., "
                             f"got {label!r}")
    return out


def _parse_equation(equation, operands):
    """Explicit one-letter subscripts per operand and for the output (``...`` spelled out)."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    for t in operands:
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum: operands must be Tensors, got {type(t).__name__}")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: equation '{equation}' has {len(terms)} operand(s) but "
                         f"{len(operands)} tensor(s) were given")
    for label in lhs + rhs:
        if label not in LABELS and label not in ",.":
            raise ValueError(f"einsum: '{label}' in '{equation}' is not a valid label; "
                             "labels are letters a-z and A-Z")
    ellipsis_dims = []
    for term, t in zip(terms, operands):
        explicit = len(term.replace("...", ""))
        extra = t.ndim - explicit
        if ("..." in term and extra < 0) or ("..." not in term and extra != 0):
            raise ValueError(f"einsum: subscripts '{term}' do not fit an operand of shape "
                             f"{tuple(t.shape)} ({t.ndim} dimensions)")
        ellipsis_dims.append(extra if "..." in term else 0)
    unused = [label for label in LABELS if label not in equation]
    broadcast = "".join(unused[:max(ellipsis_dims, default=0)])
    subscripts = [term.replace("...", broadcast[len(broadcast) - e:] if e else "")
                  for term, e in zip(terms, ellipsis_dims)]
    if arrow:
        output = rhs.replace("...", broadcast)
    else:
        counts = {}
        for term in terms:
            for label in term.replace("...", ""):
                counts[label] = counts.get(label, 0) + 1
        output = broadcast + "".join(sorted(label for label, c in counts.items() if c == 1))
    used = set("".join(subscripts))
    for label in output:
        if label not in used or output.count(label) > 1:
            raise ValueError(f"einsum: output label '{label}' in '{equation}' must appear "
                             "in an operand and only once in the output")
    return subscripts, output


def _broadcast_labels(subscripts, operands, output, equation):
    """Drop size-1 dimensions where the same label has a larger size elsewhere (broadcast)."""
    sizes = {}
    for subs, t in zip(subscripts, operands):
        for label, n in zip(subs, t.shape):
            if n != 1 and sizes.get(label, 1) not in (1, n):
                raise ValueError(f"einsum: label '{label}' in '{equation}' has sizes "
                                 f"{sizes[label]} and {n}; they must match or be 1")
            sizes[label] = n if n != 1 else sizes.get(label, 1)
    new_subscripts, new_operands = [], []
    for subs, t in zip(subscripts, operands):
        keep = [i for i, (label, n) in enumerate(zip(subs, t.shape))
                if not (n == 1 and sizes[label] != 1)]
        if len(keep) < len(subs):
            t = t.reshape(tuple(t.shape[i] for i in keep))
            subs = "".join(subs[i] for i in keep)
        new_subscripts.append(subs)
        new_operands.append(t)
    return new_subscripts, new_operands


# ---------------------------------------------------------------- diagonal


def diagonal_of(input, offset, dim1, dim2, op):
    """The diagonal of the (dim1, dim2) planes, as the last dimension (a copy)."""
    if input.ndim < 2:
        raise ValueError(f"{op}: the input must have at least 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    d1, d2 = _check_dim(dim1, input.ndim, op), _check_dim(dim2, input.ndim, op)
    if d1 == d2:
        raise ValueError(f"{op}: dim1 and dim2 cannot be the same dimension ({dim1}, {dim2})")
    return Diagonal.apply(input, int(offset), d1, d2)


@register("linalg")
def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal of each matrix of ``A`` (``offset`` above it when positive)."""
    return diagonal_of(A, offset, dim1, dim2, "linalg.diagonal")


@register("torch", "Tensor")
def trace(input):
    """The sum of the main diagonal of a matrix (of min(rows, columns) elements)."""
    if input.ndim != 2:
        raise ValueError(f"trace: expected a matrix, got shape {tuple(input.shape)}")
    return reduce_sum(Diagonal.apply(input, 0, 0, 1))


# ---------------------------------------------------------------- matrix products


def _check_ndim(op, name, x, ndims):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if x.ndim not in ndims:
        want = " or ".join(f"{n}-d" for n in ndims)
        raise ValueError(f"{op}: {name} must be {want}, got shape {tuple(x.shape)}")


def _check_inner(op, a, b, n, m):
    if n != m:
        raise ValueError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                         f"multiplied ({n} != {m})")


@register("torch", "Tensor")
def mm(input, mat2):
    """The matrix product of two matrices: (n, m) @ (m, p) -> (n, p)."""
    _check_ndim("mm", "input", input, (2,))
    _check_ndim("mm", "mat2", mat2, (2,))
    _check_inner("mm", input, mat2, input.shape[1], mat2.shape[0])
    return matmul(input, mat2)


@register("torch", "Tensor")
def bmm(input, mat2):
    """Batched matrix products: (b, n, m) @ (b, m, p) -> (b, n, p), no broadcasting."""
    _check_ndim("bmm", "input", input, (3,))
    _check_ndim("bmm", "mat2", mat2, (3,))
    if input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: shapes {tuple(input.shape)} and "
                         f"{tuple(mat2.shape)}")
    _check_inner("bmm", input, mat2, input.shape[2], mat2.shape[1])
    return matmul(input, mat2)


@register("torch", "Tensor")
def mv(input, vec):
    """Matrix times vector: (n, m) @ (m,) -> (n,)."""
    _check_ndim("mv", "input", input, (2,))
    _check_ndim("mv", "vec", vec, (1,))
    _check_inner("mv", input, vec, input.shape[1], vec.shape[0])
    return matmul(input, vec)


@register("torch", "Tensor")
def dot(input, tensor):
    """sum_i input_i tensor_i, of two 1-d tensors of the same size."""
    _check_ndim("dot", "input", input, (1,))
    _check_ndim("dot", "tensor", tensor, (1,))
    _check_inner("dot", input, tensor, input.shape[0], tensor.shape[0])
    return matmul(input, tensor)


@register("torch", "Tensor")
def vdot(input, other):
    """sum_i conj(input_i) other_i; for real tensors, ``dot``."""
    _check_ndim("vdot", "input", input, (1,))
    _check_ndim("vdot", "other", other, (1,))
    _check_inner("vdot", input, other, input.shape[0], other.shape[0])
    return matmul(input, other)


@register("torch", "Tensor", aliases=("ger",))
def outer(input, vec2):
    """input_i vec2_j: (n,) and (m,) -> (n, m)."""
    _check_ndim("outer", "input", input, (1,))
    _check_ndim("outer", "vec2", vec2, (1,))
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


@register("torch", "Tensor")
def inner(input, other):
    """Sum over the last dimensions: out[i.., j..] = sum_k input[i.., k] other[j.., k]."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    _check_inner("inner", input, other, input.shape[-1], other.shape[-1])
    a, b = LABELS[:input.ndim - 1], LABELS[input.ndim - 1:input.ndim + other.ndim - 2]
    return Einsum.apply((a + "Z", b + "Z"), a + b, input, other)


def _with_bias(op, input, product, beta, alpha):
    """beta * input + alpha * product; ``input`` is ignored when beta is 0 (nan and inf too)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if np.broadcast_shapes(tuple(input.shape), tuple(product.shape)) != tuple(product.shape):
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} cannot be broadcast to "
                         f"the product's shape {tuple(product.shape)}")
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return (input if beta == 1 else input * beta) + product


@register("torch", "Tensor", inplace=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2)."""
    return _with_bias("addmm", input, mm(mat1, mat2), beta, alpha)


@register("torch", "Tensor", inplace=True)
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    return _with_bias("addmv", input, mv(mat, vec), beta, alpha)


@register("torch", "Tensor", inplace=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2)."""
    return _with_bias("addr", input, outer(vec1, vec2), beta, alpha)


@register("torch", "Tensor", inplace=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _with_bias("baddbmm", input, bmm(batch1, batch2), beta, alpha)


@register("torch", "Tensor", inplace=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    _check_ndim("addbmm", "batch1", batch1, (3,))
    _check_ndim("addbmm", "batch2", batch2, (3,))
    if batch1.shape[0] != batch2.shape[0]:
        raise ValueError(f"addbmm: batch sizes differ: shapes {tuple(batch1.shape)} and "
                         f"{tuple(batch2.shape)}")
    _check_inner("addbmm", batch1, batch2, batch1.shape[2], batch2.shape[1])
    product = Einsum.apply(("bij", "bjk"), "ik", batch1, batch2)
    return _with_bias("addbmm", input, product, beta, alpha)


@register("linalg")
def multi_dot(tensors):
    """tensors[0] @ tensors[1] @ ...; the first and the last may be 1-d (a row, a column)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}")
    for position, t in enumerate(tensors):
        ends = (1, 2) if position in (0, len(tensors) - 1) else (2,)
        _check_ndim("linalg.multi_dot", f"tensor {position}", t, ends)
    out = tensors[0]
    for t in tensors[1:]:
        _check_inner("linalg.multi_dot", out, t, out.shape[-1], t.shape[0])
        out = matmul(out, t)
    return out


@register("linalg")
def vecdot(x, y, *, dim=-1):
    """sum over ``dim`` of x * y (broadcast); x is conjugated for complex numbers."""
    product = x * y
    return reduce_sum(product, _check_dim(dim, product.ndim, "linalg.vecdot"))


@register("torch")
def tensordot(a, b, dims=2, out=None):
    """Contract the last ``dims`` dimensions of a with the first of b, or the listed pairs."""
    if out is not None:
        raise TypeError("tensordot: out= is not supported; use the returned tensor")
    if isinstance(dims, Tensor):
        dims = dims.tolist() if dims.ndim else int(dims.item())
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} must be in [0, {min(a.ndim, b.ndim)}] "
                             f"for shapes {tuple(a.shape)} and {tuple(b.shape)}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise ValueError(f"tensordot: {len(dims_a)} dims of a but {len(dims_b)} of b")
    dims_a = [_check_dim(d, a.ndim, "tensordot") for d in dims_a]
    dims_b = [_check_dim(d, b.ndim, "tensordot") for d in dims_b]
    labels_a = list(LABELS[:a.ndim])
    labels_b = list(LABELS[a.ndim:a.ndim + b.ndim])
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db] and 1 not in (a.shape[da], b.shape[db]):
            raise ValueError(f"tensordot: dimension {da} of a (size {a.shape[da]}) and {db} of "
                             f"b (size {b.shape[db]}) are contracted but differ")
        labels_b[db] = labels_a[da]
    output = ("".join(l for i, l in enumerate(labels_a) if i not in dims_a)
              + "".join(l for i, l in enumerate(labels_b) if i not in dims_b))
    subscripts, operands = _broadcast_labels(["".join(labels_a), "".join(labels_b)], [a, b],
                                             output, "tensordot")
    return Einsum.apply(tuple(subscripts), output, *operands)


@register("torch", "Tensor")
def kron(input, other):
    """The Kronecker product: out[i*m + k, ...] = input[i, ...] * other[k, ...]."""
    ndim = max(input.ndim, other.ndim)
    shape_a = (1,) * (ndim - input.ndim) + tuple(input.shape)
    shape_b = (1,) * (ndim - other.ndim) + tuple(other.shape)
    a = input.reshape(tuple(n for pair in zip(shape_a, (1,) * ndim) for n in pair))
    b = other.reshape(tuple(n for pair in zip((1,) * ndim, shape_b) for n in pair))
    return (a * b).reshape(tuple(m * n for m, n in zip(shape_a, shape_b)))


# ---------------------------------------------------------------- cross product


def _cross(input, other, dim, op):
    """The cross product of the size-3 vectors along ``dim`` (after broadcasting)."""
    shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    d = _check_dim(dim, len(shape), op)
    positions = (d - len(shape) + input.ndim, d - len(shape) + other.ndim)
    sizes = tuple(t.shape[k] if k >= 0 else 1 for t, k in zip((input, other), positions))
    if sizes != (3, 3):
        raise ValueError(f"{op}: dimension {dim} must have size 3 in both inputs, got shapes "
                         f"{tuple(input.shape)} and {tuple(other.shape)}")
    x = input.broadcast_to(shape)
    y = other.broadcast_to(shape)
    at = (slice(None),) * d
    x0, x1, x2 = (x[at + (i,)] for i in range(3))
    y0, y1, y2 = (y[at + (i,)] for i in range(3))
    return stack([x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, x0 * y1 - x1 * y0], dim=d)


@register("torch", "Tensor")
def cross(input, other, dim=None):
    """The cross product along ``dim`` (default: the first dimension of size 3)."""
    if dim is None:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dimension of size 3 in shapes {tuple(input.shape)} "
                             f"and {tuple(other.shape)}")
    return _cross(input, other, dim, "cross")


@register("linalg", name="cross")
def linalg_cross(input, other, *, dim=-1):
    """The cross product of the size-3 vectors along ``dim``, with broadcasting."""
    return _cross(input, other, dim, "linalg.cross")

