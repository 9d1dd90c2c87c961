"""``torch.set_num_threads`` and its kin: how many threads chainrule's array work may use.

chainrule's parallel work is the BLAS behind numpy (OpenBLAS in numpy's
wheels): matrix products, and through them linear layers, convolutions and
recurrent steps. numpy's elementwise work runs on one thread whatever is set.
``set_num_threads(n)`` limits every BLAS library loaded in the process
(numpy's and scipy's) to ``n`` threads, through threadpoolctl, where
PyTorch limits its OpenMP pool; ``get_num_threads()`` reads the limit back.

chainrule runs no two ops at once, so it has no inter-op threads:
``set_num_interop_threads`` records its number for
``get_num_interop_threads`` (1 until set) and, as in PyTorch, may be
called once.

    >>> import chainrule as torch
    >>> before = torch.get_num_threads()
    >>> torch.set_num_threads(1)
    >>> torch.get_num_threads()
    1
    >>> torch.set_num_threads(before)
"""

import numbers

from threadpoolctl import ThreadpoolController

from chainrule.registry import register

__all__ = []  # the functions are registered

_interop_threads = None  # what set_num_interop_threads recorded


def _check_count(op, n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise RuntimeError(f"{op} expects an int, but got {type(n).__name__} {n!r}")
    if n < 1:
        raise RuntimeError(f"{op} expects a positive integer, got {n}; pass 1 for one thread")
    return int(n)


def _blas():
    """The BLAS libraries loaded now (a library loaded later, such as scipy's, joins then)."""
    return ThreadpoolController().select(user_api="blas")


@register("torch")
def set_num_threads(int):  # noqa: A002 (PyTorch's parameter name)
    """Limit every loaded BLAS library (numpy's matrix products) to ``int`` threads."""
    _blas().limit(limits=_check_count("set_num_threads", int))


@register("torch")
def get_num_threads():
    """The number of threads numpy's matrix products may use (1 without a BLAS that says)."""
    return max((library.num_threads for library in _blas().lib_controllers), default=1)


@register("torch")
def set_num_interop_threads(int):  # noqa: A002 (PyTorch's parameter name)
    """Record the number of inter-op threads; chainrule runs one op at a time, so nothing
    else changes. Once per process, as in PyTorch."""
    global _interop_threads
    count = _check_count("set_num_interop_threads", int)
    if _interop_threads is not None:
        raise RuntimeError("set_num_interop_threads: the number of interop threads was already "
                           f"set to {_interop_threads}; it can be set once per process")
    _interop_threads = count


@register("torch")
def get_num_interop_threads():
    """What ``set_num_interop_threads`` recorded; 1 (chainrule runs one op at a time) until
    then."""
    return 1 if _interop_threads is None else _interop_threads
