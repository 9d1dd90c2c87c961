"""How a tensor prints: PyTorch's layout, so printed output reads the same in a port.

- Floats print with 4 decimals (``0.7311``); floats that are all whole print
  as ``1.`` and ``2.``; a wide range (largest / smallest nonzero above 1000,
  above 1e8, or below 1e-4) switches to scientific notation (``1.0000e-05``).
- The dtype is shown unless it is a default one (float32, int64, bool), as
  ``dtype=float64``; ``grad_fn=<MulBackward>`` or ``requires_grad=True`` follow.
- More than 1000 elements are summarized with ``...`` (3 at each edge); an
  empty tensor that is not 1-d shows its ``size=``.

    >>> import chainrule as cr
    >>> cr.tensor([0.5, 2.25, 3.0])
    tensor([0.5000, 2.2500, 3.0000])
    >>> cr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=cr.float64, requires_grad=True)
    tensor([[1., 2.],
            [3., 4.]], dtype=float64, requires_grad=True)
"""

import math

import numpy as np

PRECISION = 4
THRESHOLD = 1000
EDGE_ITEMS = 3
LINE_WIDTH = 81  # numpy counts the closing bracket in; torch's 80 does not
_DEFAULT_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))


def _float_formatter(values):
    """A function formatting each float as PyTorch prints this tensor's floats."""
    finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
    if finite.size == 0:
        whole, scientific = True, False
    else:
        magnitude = np.abs(finite)
        largest, smallest = magnitude.max(), magnitude.min()
        whole = bool(np.all(finite == np.ceil(finite)))
        scientific = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4

    def text(value):
        if scientific:
            return f"{value:.{PRECISION}e}"
        if whole:
            return f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        return f"{value:.{PRECISION}f}"

    shown = [text(float(v)) for v in finite] or ["0."]
    width = max(len(s) for s in shown)
    return lambda value: text(float(value)).rjust(width)


def _body(array, indent):
    kwargs = {"separator": ", ", "prefix": " " * indent, "threshold": THRESHOLD,
              "edgeitems": EDGE_ITEMS, "max_line_width": LINE_WIDTH}
    if array.dtype.kind == "f":
        kwargs["formatter"] = {"float_kind": _float_formatter(array)}
    elif array.dtype.kind == "b":
        width = 5 if (~array).any() else 4
        kwargs["formatter"] = {"bool": lambda v: ("True" if v else "False").rjust(width)}
    return np.array2string(array, **kwargs)


def tensor_repr(tensor, array, prefix="tensor("):
    """``tensor(...)`` as PyTorch prints it (``array``: the tensor's values on the host)."""
    extras = []
    if array.size == 0 and array.ndim != 1:
        body = "[]"
        extras.append(f"size={tuple(array.shape)}")
    else:
        body = _body(array, len(prefix))
    if np.dtype(array.dtype) not in _DEFAULT_DTYPES:
        extras.append(f"dtype={array.dtype}")
    if tensor.grad_fn is not None:
        extras.append(f"grad_fn={tensor.grad_fn!r}")
    elif tensor.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
