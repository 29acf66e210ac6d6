"""Where points run: in this process, in a local process pool, or on a Dask cluster.

An executor is a context manager with one method, :meth:`Executor.imap_unordered`, that
yields ``(item, result, error)`` as each task completes, so the caller can commit every
result the moment it exists. Items are taken from the iterable only as workers free up
(a few ahead), so a sweep claims a point just before it runs. Workers run torch with one
thread each: the cores are shared between points, not inside one. Local pool workers exit
when the process that started them dies, so a killed sweep leaves no orphans.
"""
from __future__ import annotations

import abc
import concurrent.futures as cf
import ctypes
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import torch

from ..validation import check_int

T = TypeVar("T")
R = TypeVar("R")
#: What ``--dask`` accepts besides "local": a scheduler address with one of these schemes.
DASK_SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://")
#: Seconds between a pool worker's checks that its parent is alive.
PARENT_POLL = 0.5
#: ``prctl`` option (linux/prctl.h): the signal the kernel sends a process when its parent dies.
PR_SET_PDEATHSIG = 1


def limit_threads() -> None:
    """One torch thread per worker process (set in every pool and Dask worker)."""
    torch.set_num_threads(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)


def exit_with_parent(parent: int) -> None:
    """End this process when process ``parent`` dies.

    On Linux the kernel kills it at once (``prctl(PR_SET_PDEATHSIG, SIGKILL)``); everywhere a
    daemon thread checks ``os.getppid()`` every :data:`PARENT_POLL` seconds, which also
    catches a parent that died before the ``prctl`` call (a worker still starting up when
    its parent dies exits as soon as its start-up ends).
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="qcgrad-parent-watch").start()


def _init_pool_worker(parent: int) -> None:
    limit_threads()
    exit_with_parent(parent)


def _windowed(submit: Callable[[Any], Any], completed: Callable[[set], Iterable[Any]], items: Iterable[Any],
              window: int) -> Iterator[tuple[Any, Any, BaseException | None]]:
    """Keep at most ``window`` tasks in flight, taking items only when there is room."""
    items = iter(items)
    futures = {submit(item): item for item in itertools.islice(items, window)}
    while futures:
        for future in completed(set(futures)):
            yield (futures.pop(future), *_outcome(future))
            for item in itertools.islice(items, 1):
                futures[submit(item)] = item


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

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    @abc.abstractmethod
    def imap_unordered(self, fn: Callable[[T], R],
                       items: Iterable[T]) -> Iterator[tuple[T, R | None, BaseException | None]]:
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
        self.pool: Any = None  # a ProcessPoolExecutor inside the context

    def __enter__(self) -> ProcessPool:
        self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_init_pool_worker, initargs=(os.getpid(),))
        return self

    def __exit__(self, *exc: Any) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def imap_unordered(self, fn, items):
        def first_done(futures: set) -> Iterable[Any]:
            return cf.wait(futures, return_when=cf.FIRST_COMPLETED).done

        yield from _windowed(lambda item: self.pool.submit(fn, item), first_done, items, 2 * self.workers)


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
        self.cluster: Any = None  # inside the context: the LocalCluster (or None) and the Client
        self.client: Any = None

    def __enter__(self) -> Dask:
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
        from dask.distributed import wait

        def first_done(futures: set) -> Iterable[Any]:
            return wait(list(futures), return_when="FIRST_COMPLETED").done

        window = 2 * max(1, sum(self.client.nthreads().values()))
        yield from _windowed(lambda item: self.client.submit(fn, item, pure=False), first_done, items, window)


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
