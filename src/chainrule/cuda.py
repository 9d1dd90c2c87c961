"""``chainrule.cuda``, as ``torch.cuda``: no GPU backend is installed, so none is available.

    >>> import chainrule as cr
    >>> cr.cuda.is_available(), cr.cuda.device_count()
    (False, 0)
"""

from chainrule.device import _backends_by_device_type

__all__ = ["is_available", "device_count"]


def is_available():
    """True when a CUDA backend is installed and sees a GPU; chainrule has none built in."""
    return "cuda" in _backends_by_device_type


def device_count():
    return 1 if is_available() else 0
