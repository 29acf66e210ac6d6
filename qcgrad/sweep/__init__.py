"""Sweeps: a study's grid of models, run on any executor into a resumable SQLite store.

>>> import qcgrad.sweep as sw                                  # doctest: +SKIP
>>> report = sw.run("studies/classical_depth.toml", store="results.sqlite",
...                 executor=sw.ProcessPool(2))                # doctest: +SKIP
>>> sw.load("results.sqlite").to_dataframe()                   # doctest: +SKIP
"""
from .config import SweepConfig, load_config
from .executors import Dask, Executor, ProcessPool, Serial, make_executor
from .grid import Point, expand
from .runner import SweepReport, load, run
from .store import Store, StoreNotWritable, UnfinishedStore

__all__ = ["run", "load", "load_config", "SweepConfig", "SweepReport", "Store", "StoreNotWritable",
           "UnfinishedStore", "Point", "expand", "Executor", "Serial", "ProcessPool", "Dask", "make_executor"]
