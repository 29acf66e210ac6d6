"""Sweeps killed at the worst moments: during store creation, and with worker processes.

Each test SIGKILLs a real `qcgrad sweep` process and then checks what a user relies on: the
store opens, the resumed sweep equals an uninterrupted one bit for bit, and no worker
process outlives the sweep that started it.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qcgrad.cli import main
from qcgrad.sweep import load, run

sys.path.insert(0, str(Path(__file__).parent / "sweep"))
from sweep_helpers import KILL_POINTS, KILL_STUDY, TINY, done_points, store_rows  # noqa: E402

PYTHON_CLI = "import sys; from qcgrad.cli import main; sys.exit(main(sys.argv[1:]))"


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (psutil if installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [pid]
        while todo:
            kids = children.get(todo.pop(), [])
            found += kids
            todo += kids
        return found
    return [p.pid for p in psutil.Process(pid).children(recursive=True)]


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.slow
def test_a_kill_during_store_creation_leaves_a_store_the_next_sweep_completes(tmp_path):
    # The child is killed inside the creation transaction: tables made, not committed.
    path = tmp_path / "r.sqlite"
    code = ("import os, signal, sys; import qcgrad.sweep.store as s; "
            "s._now = lambda: os.kill(os.getpid(), signal.SIGKILL); s.Store.open(sys.argv[1], create=True)")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert path.exists()
    report = run(TINY, store=path)
    assert (report.ran, report.failed) == (6, 0)
    with load(path) as store:
        assert len(store.records("done")) == 6


@pytest.mark.slow
def test_a_killed_process_pool_sweep_leaves_no_workers_and_resumes_exactly(tmp_path):
    config = tmp_path / "study.toml"
    config.write_text(KILL_STUDY)
    killed, clean = tmp_path / "killed.sqlite", tmp_path / "clean.sqlite"
    argv = ["sweep", str(config), "--store", str(killed), "--quiet", "--processes", "2"]
    proc = subprocess.Popen([sys.executable, "-c", PYTHON_CLI, *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    workers: set[int] = set()
    while done_points(killed) < 1 and proc.poll() is None and time.monotonic() < deadline:
        workers |= set(_descendants(proc.pid))
        time.sleep(0.02)
    workers |= set(_descendants(proc.pid))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_at_kill = done_points(killed)
    assert 1 <= finished_at_kill < KILL_POINTS, "the kill must land mid-run for this test to mean anything"
    assert len(workers) >= 2, f"expected the pool's worker processes, found {sorted(workers)}"
    # A started worker notices its parent's death at once (or within PARENT_POLL); one still
    # importing torch on a loaded machine does as soon as its start-up ends.
    deadline = time.monotonic() + 90
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if _alive(p)], "worker processes outlived the killed sweep"
    assert main(argv[:-2]) == 0  # resume (in this process: resuming does not depend on the executor)
    run(config, store=clean)
    rows = store_rows(killed)
    assert len(rows) == KILL_POINTS and len({r[0] for r in rows}) == KILL_POINTS  # every point exactly once
    assert rows == store_rows(clean)
