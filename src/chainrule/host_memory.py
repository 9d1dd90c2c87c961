"""Freed host memory kept for the next step, rather than returned and faulted back in.

numpy allocates each op's result afresh and frees it with its last
reference, so a training step frees and reallocates the same few megabytes
every time. glibc's malloc serves a block above its mmap threshold with a
fresh mapping (128 KiB at first, raised to the size of each mapped block
freed, up to 32 MiB), and gives the top of its heap back to the system once
more than twice that threshold lies free there. With those defaults most of
a step's memory goes back to the system and returns as page faults: the
digits CNN's training step (float32, batch 64, 2 threads) took 1,800 to
2,900 faults and 11.6 to 18.1 ms (median 14.5, eight fresh processes); with
freed memory kept, one fault and 8.3 to 13.5 ms (median 10.6). PyTorch's own
step took 662 faults, and none kept. PyTorch leaves this to its users (its
CPU tuning guide suggests preloading jemalloc or tcmalloc); chainrule, whose
every op result is a fresh numpy array, sets it on import.

What is set: the two thresholds where glibc's own adjustment would end,
fixed from the start. Blocks below 32 MiB come from the heap, and the heap
is trimmed once more than 64 MiB lie free at its top. A process keeps up
to 64 MiB of freed memory at the top of its heap (plus what fragmentation
holds anyway) instead of returning it at once.

Left alone: C libraries other than glibc (macOS, Windows, musl); a process
whose environment sets ``MALLOC_MMAP_THRESHOLD_`` or
``MALLOC_TRIM_THRESHOLD_`` (its own choice); and
``CHAINRULE_KEEP_FREED_MEMORY=0``, the way to opt out.

    >>> from chainrule import host_memory
    >>> host_memory.settings in (None, {"mmap_threshold": 32 << 20, "trim_threshold": 64 << 20})
    True
"""

import ctypes
import os

__all__ = ["settings", "keep_freed_memory"]

MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # glibc's own rule: twice the mmap threshold
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_ENVIRONMENT_CHOICES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")

settings = None  # what keep_freed_memory() set: None, or the two thresholds in bytes


def keep_freed_memory():
    """Fix glibc malloc's mmap and trim thresholds (see the module's docstring); return the
    settings made, or None where nothing was set (not glibc, the environment's own choice,
    or ``CHAINRULE_KEEP_FREED_MEMORY=0``)."""
    global settings
    if (os.environ.get("CHAINRULE_KEEP_FREED_MEMORY", "1") == "0"
            or any(name in os.environ for name in _ENVIRONMENT_CHOICES) or not _glibc()):
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # setting either threshold ends glibc's adjustment of both: they go together
    if (mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1):  # 1: accepted
        settings = {"mmap_threshold": MMAP_THRESHOLD, "trim_threshold": TRIM_THRESHOLD}
    return settings


def _glibc():
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # no confstr, or a name it does not know
        return False
