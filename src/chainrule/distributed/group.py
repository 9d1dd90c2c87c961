"""The process group: which process this is (its rank) among how many (the world size).

chainrule runs data parallelism on MPI, the engine Horovod and ChainerMN run
on: the launcher (``mpiexec -n 4 python train.py``) starts the processes and
tells each its rank, and ``init_process_group`` reads them from MPI. A program
started without a launcher is a world of one process, so the same script runs
with and without ``mpiexec``. MPI moves host memory: tensors on another device
go through host buffers (only the CPU backend is built in today).

MPI itself is started (``MPI_Init``, which happens when ``mpi4py.MPI`` is
imported) only when a program asks for a process group, never by ``import
chainrule``: that is why :func:`_mpi` imports it on first use.

Once a group of more than one process is up, an exception that nothing catches
in any rank ends the whole job (``MPI_Abort``) after its traceback is printed,
instead of leaving the other ranks waiting for it forever in a collective.
"""

import io
import sys
import time

from chainrule.distributed.work import Work

__all__ = ["init_process_group", "is_initialized", "is_available", "is_mpi_available",
           "get_rank", "get_world_size", "get_backend", "barrier", "destroy_process_group",
           "ProcessGroup"]

_BACKENDS = ("mpi", "gloo")  # gloo: PyTorch's CPU backend, accepted so its scripts run unchanged
_ABORT_GRACE_SECONDS = 0.5  # for the launcher to forward a failing rank's traceback


def _mpi():
    """mpi4py's ``MPI`` module, imported (and MPI started) on first use."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            f"chainrule.distributed needs mpi4py and an MPI library ({error}); install them "
            "with pip install 'chainrule[distributed]' (mpi4py and the MPICH wheel, which "
            "brings mpiexec)"
        ) from None
    return MPI


class ProcessGroup:
    """The processes of one job and the MPI communicator that joins them.

    The communicator is a duplicate of ``MPI.COMM_WORLD``, so chainrule's
    messages never mix with those of a program's own mpi4py calls.
    """

    def __init__(self, MPI, backend):
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD.Dup()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.backend = backend

    def free(self):
        if self.comm is not None and not self.MPI.Is_finalized():
            self.comm.Free()
        self.comm = None

    def __repr__(self):
        return f"<ProcessGroup {self.backend}: rank {self.rank} of {self.size}>"


class _World:
    group = None
    previous_excepthook = None


_world = _World()


def is_available():
    """True when mpi4py can be imported (the ``distributed`` extra is installed)."""
    try:
        import mpi4py  # noqa: F401  (the package only: importing it does not start MPI)
    except ImportError:
        return False
    return True


def is_mpi_available():
    """The MPI backend is the one chainrule has: the same as :func:`is_available`."""
    return is_available()


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job: rank and world size come from the MPI launcher.

    ``backend`` is ``"mpi"`` (or ``None``); ``"gloo"``, PyTorch's CPU backend,
    is accepted too and runs on MPI, so a PyTorch script needs no change.
    ``world_size`` and ``rank``, if given, must agree with the launcher's.
    ``init_method``, ``timeout``, ``store``, ``group_name``, ``pg_options`` and
    ``device_id`` are accepted for PyTorch's signature; MPI's launcher does
    the rendezvous, and MPI has no timeout. Run as ``mpiexec -n 4 python
    train.py``, each process then has ``get_rank()`` 0 to 3 and
    ``get_world_size()`` 4; run as ``python train.py``, 0 and 1.
    """
    if _world.group is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if name not in _BACKENDS:
        raise ValueError(
            f"init_process_group: backend {backend!r} is not available; chainrule has 'mpi' "
            "(and accepts 'gloo', PyTorch's CPU backend, which runs on MPI here). There is no "
            "GPU backend such as 'nccl' yet"
        )
    group = ProcessGroup(_mpi(), name)
    for what, given, actual in (("world_size", world_size, group.size), ("rank", rank, group.rank)):
        if given is not None and given != -1 and given != actual:
            group.free()
            raise ValueError(
                f"init_process_group: {what}={given}, but the MPI launcher started this process "
                f"as rank {group.rank} of {group.size}. chainrule's ranks come from MPI: start "
                "the program with mpiexec -n N python script.py (not torchrun or "
                "torch.multiprocessing.spawn), and leave world_size and rank out"
            )
    _world.group = group
    if group.size > 1:
        _world.previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_exception


def _abort_on_exception(kind, value, traceback):
    """Print the uncaught exception as usual, then end the whole job (``MPI_Abort``).

    The launcher forwards each rank's output through a pipe and stops reading
    it once a rank aborts, so the traceback is written in one piece and given
    a moment to leave before the abort.
    """
    previous = _world.previous_excepthook or sys.__excepthook__
    group = _world.group
    if group is None or group.MPI.Is_finalized():
        previous(kind, value, traceback)
        return
    text = io.StringIO()
    stderr, sys.stderr = sys.stderr, text
    try:
        previous(kind, value, traceback)  # the usual report, or another tool's hook
    finally:
        sys.stderr = stderr
    text.write(f"chainrule.distributed: rank {group.rank} of {group.size} raised "
               f"{kind.__name__}; aborting the job (MPI_Abort) so that the other ranks do not "
               "wait for it\n")
    sys.stdout.flush()
    stderr.write(text.getvalue())
    stderr.flush()
    time.sleep(_ABORT_GRACE_SECONDS)
    group.MPI.COMM_WORLD.Abort(1)


def is_initialized():
    """True between ``init_process_group()`` and ``destroy_process_group()``."""
    return _world.group is not None


def _default_group(op, group=None):
    """The process group for ``op``; a clear error before ``init_process_group``."""
    if _world.group is None:
        raise ValueError(
            f"{op}: the default process group has not been initialized; call "
            "chainrule.distributed.init_process_group() first (and start the program with "
            "mpiexec -n N python script.py to run N processes)"
        )
    if group is not None and group is not _world.group:
        raise ValueError(
            f"{op}: group={group!r} is not the default process group; chainrule has only the "
            "world group (new_group is not supported yet), so pass group=None"
        )
    return _world.group


def get_rank(group=None):
    """This process's rank, from 0 to ``get_world_size() - 1``."""
    return _default_group("get_rank", group).rank


def get_world_size(group=None):
    """How many processes the job has (1 for a program started without a launcher)."""
    return _default_group("get_world_size", group).size


def get_backend(group=None):
    """The backend name given to ``init_process_group`` ("mpi" by default)."""
    return _default_group("get_backend", group).backend


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank has reached this call."""
    pg = _default_group("barrier", group)
    work = Work([pg.comm.Ibarrier()], (), None, "barrier")
    if async_op:
        return work
    work.wait()
    return None


def destroy_process_group(group=None):
    """Leave the group: collectives need a new ``init_process_group()`` afterwards.

    MPI itself stays up until the program exits (it cannot be restarted), so
    a program may initialise the group again.
    """
    pg = _default_group("destroy_process_group", group)
    if sys.excepthook is _abort_on_exception:
        sys.excepthook = _world.previous_excepthook or sys.__excepthook__
    _world.previous_excepthook = None
    _world.group = None
    pg.free()
