"""The op registry: every public op is declared once, next to its ``Function``.

One ``@register(...)`` line above an op's function makes everything users
call, as PyTorch's ``native_functions.yaml`` does from one entry:

- ``chainrule.NAME`` (namespace ``"torch"``), ``chainrule.nn.functional.NAME``
  (``"nn.functional"``), ``chainrule.linalg.NAME``, ``chainrule.special.NAME``;
- the ``Tensor`` method (``"Tensor"``), its operators (``x + y``,
  ``2 + x``), and, with ``inplace=True``, the in-place variant ``NAME_``.

The package's ``__all__`` lists are derived from here, never typed by hand.

    >>> from chainrule.registry import entries
    >>> add = next(e for e in entries() if e.name == "add")
    >>> sorted(add.namespaces), add.inplace
    (['Tensor', 'torch'], 'add_')
"""

from dataclasses import dataclass

from chainrule.tensor import Tensor

__all__ = ["register", "entries", "namespace", "NAMESPACES", "OpEntry"]

#: Where a declared name can appear, as in PyTorch.
NAMESPACES = ("torch", "Tensor", "nn.functional", "linalg", "special")


@dataclass(frozen=True)
class OpEntry:
    """One declared op: its public name, function, namespaces and ``Tensor`` attributes."""

    name: str
    fn: object
    namespaces: tuple
    module: str
    tensor_names: tuple = ()  # Tensor attributes bound to fn (the method, aliases, operators)
    reflected: tuple = ()  # operators bound with the operands swapped (__radd__)
    inplace: str = None  # the in-place method's name (add_), if any
    is_property: bool = False


_entries = []
_by_namespace = {ns: {} for ns in NAMESPACES}


def register(*namespaces, name=None, aliases=(), operators=(), reflected=(), inplace=False,
             inplace_operators=(), method_name=None, is_property=False):
    """Declare the function below as a public op in ``namespaces``.

    - ``name``: the public name (default: the function's ``__name__``);
      ``aliases``: other names for the same op (``clip`` for ``clamp``).
    - ``operators``: ``Tensor`` operators bound to it (``"__add__"``);
      ``reflected``: operators that take the operands swapped (``"__radd__"``).
    - ``inplace``: also make the ``Tensor`` method ``NAME_`` (and
      ``inplace_operators`` such as ``"__iadd__"``), which computes the op
      and writes the result into the tensor (``Tensor._modify_in_place``).
    - ``method_name``: the ``Tensor`` method's name where it differs from
      ``name``; ``is_property``: bind it as a ``Tensor`` property (``x.T``).
    """
    unknown = set(namespaces) - set(NAMESPACES)
    if unknown:
        raise ValueError(f"register: unknown namespace(s) {sorted(unknown)}; use {NAMESPACES}")

    def declare(fn):
        public = name or fn.__name__
        tensor_names = ()
        if "Tensor" in namespaces:
            tensor_names = (method_name or public,) + tuple(aliases)
        tensor_names += tuple(operators)
        in_place = None
        if inplace:
            in_place = (method_name or public) + "_"
        entry = OpEntry(public, fn, tuple(namespaces), fn.__module__, tensor_names,
                        tuple(reflected), in_place, is_property)
        _add(entry, aliases)
        _bind(entry, inplace_operators, aliases)
        return fn

    return declare


def _add(entry, aliases):
    for ns in entry.namespaces:
        if ns == "Tensor":
            continue
        table = _by_namespace[ns]
        for public in (entry.name, *aliases):
            if public in table and table[public] is not entry.fn:
                raise ValueError(f"register: {ns}.{public} is declared twice "
                                 f"({table[public].__module__} and {entry.module})")
            table[public] = entry.fn
    _entries.append(entry)


def _bind(entry, inplace_operators, aliases):
    fn = entry.fn
    for attribute in entry.tensor_names:
        setattr(Tensor, attribute, property(fn) if entry.is_property else fn)
    for attribute in entry.reflected:
        setattr(Tensor, attribute, _swapped(fn, attribute))
    if entry.inplace:
        method = _in_place(fn, entry.inplace)
        for attribute in (entry.inplace, *(a + "_" for a in aliases), *inplace_operators):
            setattr(Tensor, attribute, method)


def _swapped(fn, attribute):
    def reflected(self, other):
        return fn(other, self)

    reflected.__name__ = attribute
    reflected.__qualname__ = f"Tensor.{attribute}"
    reflected.__doc__ = f"``other {attribute}`` with the operands swapped: ``{fn.__name__}(other, self)``."
    return reflected


def _in_place(fn, public):
    def method(self, *args, **kwargs):
        return self._modify_in_place(public, lambda source: fn(source, *args, **kwargs))

    method.__name__ = public
    method.__qualname__ = f"Tensor.{public}"
    method.__doc__ = f"In-place ``{fn.__name__}``: the result is written into this tensor."
    return method


def entries():
    """Every declared op, in declaration order."""
    return tuple(_entries)


def namespace(ns):
    """``{public name: function}`` of one namespace (``"torch"``, ``"nn.functional"``, ...)."""
    return dict(_by_namespace[ns])
