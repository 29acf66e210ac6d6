"""Timing helpers shared by the benchmarks (run as scripts: ``benchmarks/`` is on ``sys.path``).

On a shared machine the minimum over repeats is the least disturbed run; calls compared side by
side are interleaved round by round, so that load hits all of them alike.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Best wall time and best CPU time of ``repeats`` calls, and the last result (CPU time is
    less sensitive to other processes than wall time)."""
    wall, cpu, out = math.inf, math.inf, None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu, out


def interleaved_best(calls: dict[str, Callable[[], Any]], rounds: int, warm_up: bool = False) -> dict[str, float]:
    """Best seconds per name over ``rounds`` rounds that run every call once, in turn;
    ``warm_up`` runs one untimed round first."""
    if warm_up:
        for fn in calls.values():
            fn()
    best = dict.fromkeys(calls, math.inf)
    for _ in range(rounds):
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best
