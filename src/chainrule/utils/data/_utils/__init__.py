"""Helpers behind ``chainrule.utils.data``, laid out as ``torch.utils.data._utils``: ``collate``."""

from chainrule.utils.data._utils import collate

__all__ = ["collate"]
