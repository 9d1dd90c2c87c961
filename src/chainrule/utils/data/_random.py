"""The random source behind ``generator=`` in ``chainrule.utils.data``.

Samplers, ``DataLoader`` and ``random_split`` take ``generator=`` as
PyTorch's do: a ``chainrule.Generator`` (or, for convenience, a
``numpy.random.Generator``), or ``None`` for chainrule's
``default_generator``. Index orders are host bookkeeping, so they are drawn
on the host with numpy, whatever device the tensors live on.
"""

import numpy as np

from chainrule.random import Generator, numpy_generator

__all__ = []


def rng_for(generator, op):
    """The numpy generator to draw from now: ``generator``'s, or ``default_generator``'s.

    Read at the time of drawing, since ``manual_seed`` replaces a
    ``Generator``'s stream.
    """
    if generator is None or isinstance(generator, Generator):
        return numpy_generator(generator)
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{op}: generator must be a chainrule.Generator (e.g. "
                    f"chainrule.Generator().manual_seed(0)) or a numpy.random.Generator, "
                    f"got {type(generator).__name__}")


def check_generator(generator, op):
    """``generator`` itself, after checking its type (so bad ones fail at construction)."""
    if generator is not None:
        rng_for(generator, op)
    return generator


def fresh_rng_from_default():
    """A new numpy generator seeded by one draw from ``default_generator``.

    PyTorch's ``RandomSampler`` without a generator does this at every pass:
    it draws a seed from the global generator and shuffles with a generator
    made from it, so each pass costs the global stream one draw.
    """
    seed = int(numpy_generator(None).integers(0, 2**63, dtype=np.int64))
    return np.random.default_rng(seed)
