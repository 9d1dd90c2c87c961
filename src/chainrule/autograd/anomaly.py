"""``detect_anomaly``: find the op whose backward produced NaN or Inf.

Inside ``with chainrule.detect_anomaly():`` every op records the file and line
of the user code that created it, and every backward step checks the
gradients it returns. The first NaN or Inf stops the pass with an error naming
the op and that line, like ``torch.autograd.detect_anomaly``. Outside the
block nothing is recorded or checked: the cost is one flag test per op.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> with cr.detect_anomaly():
    ...     y = (x * x).log().sum()   # log(0) = -inf; its gradient 1/0 = inf
    ...     y.backward()              # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    chainrule.autograd.anomaly.AnomalyError: LogBackward returned inf ...
"""

import os
import threading
import traceback

from chainrule.device import array_module

__all__ = ["detect_anomaly", "AnomalyError"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AnomalyError(RuntimeError):
    """A backward step produced NaN or Inf under ``detect_anomaly()``."""


class _State(threading.local):
    enabled = False


_state = _State()


def creation_site():
    """The innermost frame outside chainrule: where user code called the op."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}, line {frame.lineno}, in {frame.name}: {frame.line}"
    return "<inside chainrule>"


def check_gradients(node, grads):
    """Raise ``AnomalyError`` if any gradient ``node`` returned is NaN or Inf."""
    for position, g in enumerate(grads):
        if g is None:
            continue
        xp = array_module(g.array)
        bad = ~xp.isfinite(g.array)
        if bad.any():
            kind = "nan" if xp.isnan(g.array).any() else "inf"
            site = node._creation_site or "<created outside detect_anomaly()>"
            raise AnomalyError(
                f"{node.name} returned {kind} in its gradient for input {position} "
                f"({int(bad.sum())} of {g.array.size} values). The op was created at:\n"
                f"  {site}"
            )


class detect_anomaly:
    """Record where ops are created and stop backward at the first NaN/Inf gradient."""

    def __enter__(self):
        self.previous = _state.enabled
        _state.enabled = True
        return self

    def __exit__(self, *exc_info):
        _state.enabled = self.previous
        return False
