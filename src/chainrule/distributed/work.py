"""Work handles and host buffers: what a collective needs around its MPI call.

A collective started with ``async_op=True`` returns a :class:`Work`; the
tensors hold the result once ``wait()`` returns, as in PyTorch. MPI reads and
writes host memory, so each tensor goes through a :class:`HostBuffer`: the
tensor's own array when it is a C-contiguous numpy array, otherwise a host
copy that is written back when the work is done.
"""

import time
from contextlib import contextmanager

import numpy as np

from chainrule.device import backend_of

__all__ = ["Work", "HostBuffer", "mpi_errors"]


class Work:
    """A collective in flight, as ``torch.distributed.Work``: ``wait()`` until it is done.

    ``requests`` are MPI requests; ``on_done()`` runs once, when they have
    all completed (it copies results into the tensors, divides for AVG, and
    may raise, e.g. when a received message does not fit the tensor).
    """

    def __init__(self, requests, tensors=(), on_done=None, op="collective"):
        self._requests = list(requests)
        self._tensors = list(tensors)
        self._on_done = on_done
        self._op = op
        self._done = False

    def wait(self, timeout=None):
        """Block until the collective is done; returns True.

        ``timeout`` (seconds or a ``timedelta``) raises RuntimeError if it is
        not done by then; the collective is then still in flight.
        """
        if self._done:
            return True
        if timeout is None:
            with mpi_errors(self._op):
                if self._requests:
                    type(self._requests[0]).Waitall(self._requests)
        else:
            seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
            deadline = time.monotonic() + seconds
            while not self._test():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self._op}: not done after {seconds} s (Work.wait "
                                       "timeout); is every rank calling it?")
                time.sleep(1e-4)
        self._finish()
        return True

    def is_completed(self):
        """True once the collective is done (then the tensors hold the result)."""
        if not self._done and self._test():
            self._finish()
        return self._done

    def is_success(self):
        return self._done

    def exception(self):
        return None

    def result(self):
        """The tensors this collective writes (its outputs)."""
        return list(self._tensors)

    def _test(self):
        with mpi_errors(self._op):
            return not self._requests or type(self._requests[0]).Testall(self._requests)

    def _finish(self):
        self._done = True
        self._requests = []
        if self._on_done is not None:
            on_done, self._on_done = self._on_done, None
            on_done()

    def __repr__(self):
        return f"<Work {self._op}: {'done' if self._done else 'in flight'}>"


class HostBuffer:
    """A tensor's data as a C-contiguous host array that MPI can read, and write into.

    ``array`` is the tensor's own numpy array when that is C-contiguous (and
    writeable, for an output); otherwise a host copy, and ``store()`` writes
    it back through the tensor's backend. ``store()`` also moves the
    tensor's version counter on, as every in-place change does.
    """

    def __init__(self, tensor, op, name="tensor", output=True):
        data = tensor.array
        self.tensor = tensor
        self.backend = backend_of(data)
        own = type(data) is np.ndarray and data.flags.c_contiguous
        if output and type(data) is np.ndarray and not data.flags.writeable:
            raise ValueError(
                f"{op}: {name} (shape {tuple(data.shape)}) is read-only (a broadcast view?), "
                "so the result cannot be written into it; pass a tensor that owns its memory, "
                "e.g. t.clone()"
            )
        self.copied = not own
        self.array = data if own else np.ascontiguousarray(self.backend.to_host(data))

    def store(self):
        """The host array's values, now in the tensor."""
        if self.copied:
            self.tensor.array[...] = self.backend.asarray(self.array)
        self.tensor._version[0] += 1


@contextmanager
def mpi_errors(op):
    """An MPI failure as a RuntimeError that names the chainrule call it came from."""
    try:
        yield
    except RuntimeError as error:
        if type(error).__module__.startswith("mpi4py"):
            raise RuntimeError(f"{op}: MPI failed: {error}") from None
        raise
