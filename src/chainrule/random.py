"""Random number generators: ``Generator``, ``default_generator`` and ``manual_seed``.

A ``Generator`` holds the state that random ops draw from, as
``torch.Generator`` does: ``rand``, ``randn``, ``randint``, dropout masks,
``nn.init`` and the data loader's shuffling all draw from
``default_generator`` unless given ``generator=``. ``manual_seed(seed)``
resets that one object in place, so code that holds it keeps drawing from
the reseeded stream. The numbers come from the device's array library
(numpy's PCG64 on the CPU, through the backend's ``default_rng``).

    >>> import chainrule as cr
    >>> g = cr.random.default_generator
    >>> cr.manual_seed(3) is g
    True
    >>> a = cr.rand(2)
    >>> _ = cr.manual_seed(3)
    >>> bool((cr.rand(2) == a).all())
    True
"""

import json
import os

import numpy as np

from chainrule.device import backend_for
from chainrule.registry import register
from chainrule.tensor import Tensor

__all__ = ["Generator", "default_generator", "numpy_generator"]


class Generator:
    """A source of random numbers on a device, seeded and reset in place.

    ``Generator(device="cpu")`` starts from seed 0. ``manual_seed(seed)``
    restarts it (``seed`` an int, or a sequence of ints for a seed made of
    parts) and returns it; ``get_state()``/``set_state(state)`` save and
    restore its exact position as a uint8 tensor.

    Library code draws from it with numpy's ``Generator`` methods
    (``random``, ``standard_normal``, ``integers``, ``permutation``, ...),
    which it forwards to its current state.
    """

    def __init__(self, device="cpu"):
        self._backend = backend_for(device)
        self.device = self._backend.device
        self.manual_seed(0)

    def manual_seed(self, seed):
        """Restart from ``seed``; returns this generator."""
        seed = _check_seed(seed)
        self._rng = self._backend.default_rng(seed)
        self._initial_seed = seed
        return self

    def seed(self):
        """Restart from a seed taken from the operating system's entropy; returns the seed."""
        seed = int.from_bytes(os.urandom(8), "little") >> 1  # a non-negative 63-bit int
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        """The seed this generator was last (re)started from."""
        return self._initial_seed

    def get_state(self):
        """The generator's exact state, as a uint8 tensor for ``set_state``."""
        state = {"seed": self._initial_seed, "bit_generator": self._rng.bit_generator.state}
        encoded = json.dumps(state, sort_keys=True).encode()
        return Tensor._make(np.frombuffer(encoded, np.uint8).copy(), False, None)

    def set_state(self, new_state):
        """Go back to a state from ``get_state`` (a uint8 tensor); returns this generator."""
        array = new_state.array if isinstance(new_state, Tensor) else new_state
        try:
            state = json.loads(np.asarray(array, dtype=np.uint8).tobytes().decode())
            rng = self._backend.default_rng(0)
            rng.bit_generator.state = state["bit_generator"]
            seed = state["seed"]
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
            raise ValueError(f"set_state: expected a state from Generator.get_state(), "
                             f"got one that does not decode: {error}") from None
        self._rng, self._initial_seed = rng, seed
        return self

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._rng, name)

    def __repr__(self):
        return f"<chainrule.Generator device={self.device} seed={self._initial_seed}>"


def _check_seed(seed):
    """An int seed as a non-negative int (negatives wrap, as PyTorch's); sequences of ints pass."""
    if isinstance(seed, (list, tuple)):
        return [_check_seed(part) for part in seed]
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: expected an int seed (or a sequence of ints), "
                        f"got {type(seed).__name__} {seed!r}")
    return int(seed) % 2**64


default_generator = Generator()


def numpy_generator(generator=None):
    """The array library's generator that draws for ``generator`` (default: ``default_generator``).

    Read it at the time of drawing: ``manual_seed`` replaces it.
    """
    if generator is None:
        generator = default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a chainrule.Generator, got {type(generator).__name__}")
    return generator._rng


@register("torch")
def manual_seed(seed):
    """Reseed ``default_generator`` in place; returns it."""
    return default_generator.manual_seed(seed)


@register("torch")
def seed():
    """Reseed ``default_generator`` from the operating system's entropy; returns the seed."""
    return default_generator.seed()


@register("torch")
def initial_seed():
    """The seed ``default_generator`` was last (re)started from."""
    return default_generator.initial_seed()


@register("torch")
def get_rng_state():
    """``default_generator``'s state, a uint8 tensor."""
    return default_generator.get_state()


@register("torch")
def set_rng_state(new_state):
    """Return ``default_generator`` to a state from ``get_rng_state``."""
    default_generator.set_state(new_state)
