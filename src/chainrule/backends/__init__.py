"""``torch.backends``, as far as a CPU-only library answers it: accelerators are absent.

Programs ask ``torch.backends.mps.is_available()`` before choosing a device, and
set ``torch.backends.cudnn.benchmark = True``; both work here (the flags are
accepted and have no effect: chainrule has no cuDNN or Metal backend).

    >>> import chainrule as torch
    >>> torch.backends.mps.is_available(), torch.backends.cudnn.is_available()
    (False, False)
"""

from chainrule.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
