"""Where points run: in this process, in a local process pool, or on a Dask cluster.

An executor is a context manager with one method, :meth:`Executor.imap_unordered`, that
yields ``(item, result, error)`` as each task completes, so the caller can commit every
result the moment it exists. Workers run torch with one thread each: the cores are shared
between points, not inside one.
"""
from __future__ import annotations

import abc
import concurrent.futures as cf
import multiprocessing
from typing import Any, Callable, Iterable, Iterator, TypeVar

import torch

from ..validation import check_int

T = TypeVar("T")
R = TypeVar("R")
#: What ``--dask`` accepts besides "local": a scheduler address with one of these schemes.
DASK_SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://")


def limit_threads() -> None:
    """One torch thread per worker process (set in every pool and Dask worker)."""
    torch.set_num_threads(1)


def _outcome(future: Any) -> tuple[Any, BaseException | None]:
    """(result, None), or (None, error) when the task died with its worker or was cancelled."""
    try:
        return future.result(), None
    except Exception as err:  # noqa: BLE001 - reported per task; the other tasks go on
        return None, err


class Executor(abc.ABC):
    """Runs independent tasks; subclasses set up and tear down their workers in the context."""

    #: Whether tasks run in the caller's process (then a progress bar over samples can show).
    in_process = False

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    @abc.abstractmethod
    def imap_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[T, R | None, BaseException | None]]:
        """Yield ``(item, fn(item), None)``, or ``(item, None, error)`` when the task itself
        could not run (a worker died), in completion order."""


class Serial(Executor):
    """In this process, one point after another (the default)."""

    in_process = True

    def imap_unordered(self, fn, items):
        for item in items:
            yield item, fn(item), None


class ProcessPool(Executor):
    """A pool of ``workers`` local processes (started with "spawn": no inherited torch threads).

    Parameters
    ----------
    workers : int
        Number of processes, ≥ 1.
    """

    def __init__(self, workers: int):
        check_int(processes=workers)
        self.workers = workers
        self.pool: cf.ProcessPoolExecutor | None = None

    def __enter__(self) -> "ProcessPool":
        self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=limit_threads)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def imap_unordered(self, fn, items):
        futures = {self.pool.submit(fn, item): item for item in items}
        for future in cf.as_completed(futures):
            yield (futures[future], *_outcome(future))


class Dask(Executor):
    """A Dask distributed cluster: a new LocalCluster (``"local"``) or an existing scheduler.

    Needs the ``dask`` extra. Results come back to this process as futures complete.

    Parameters
    ----------
    address : str
        ``"local"`` or a scheduler address such as ``"tcp://10.0.0.5:8786"``.
    workers : int, optional
        Workers of a LocalCluster (default: one per core).
    processes : bool
        LocalCluster workers are processes (True) or threads of this process (False).
    """

    def __init__(self, address: str = "local", workers: int | None = None, processes: bool = True):
        if not isinstance(address, str) or not (address == "local" or address.startswith(DASK_SCHEMES)):
            raise ValueError(f"dask address {address!r} is not allowed; use 'local' or a scheduler "
                             f"address starting with {', '.join(DASK_SCHEMES)} (e.g. tcp://host:8786)")
        if workers is not None:
            check_int(workers=workers)
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise ImportError("the Dask executor needs dask[distributed]; install the extra: "
                              "pip install 'qcgrad[dask]'") from None
        self.address, self.workers, self.processes = address, workers, processes
        self.cluster = self.client = None

    def __enter__(self) -> "Dask":
        from dask.distributed import Client, LocalCluster

        if self.address == "local":
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                        processes=self.processes, dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(self.address, timeout="15s")
            except (OSError, TimeoutError) as err:
                raise ValueError(f"cannot reach the Dask scheduler at {self.address!r}: {err}") from None
        if self.processes or self.cluster is None:  # thread workers share this process: leave it be
            self.client.run(limit_threads)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def imap_unordered(self, fn, items):
        from dask.distributed import as_completed

        futures = {}
        for item in items:
            futures[self.client.submit(fn, item, pure=False)] = item
        for future in as_completed(list(futures)):
            yield (futures[future], *_outcome(future))
            future.release()


def make_executor(processes: int | None = None, dask: str | None = None) -> Executor:
    """The executor the CLI options ask for: ``--dask ADDRESS``, ``--processes N``, or serial.

    With ``dask="local"``, ``processes`` is the number of LocalCluster workers.

    Examples
    --------
    >>> type(make_executor()).__name__, type(make_executor(processes=2)).__name__
    ('Serial', 'ProcessPool')
    """
    if dask is not None:
        return Dask(dask, workers=processes)
    if processes is not None:
        return ProcessPool(processes)
    return Serial()
