import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from sweep_helpers import KILL_STUDY, TINY, done_points, store_rows, study

from qcgrad import classical
from qcgrad.cli import main
from qcgrad.sweep import run
from qcgrad.sweep.store import Store


def test_a_rerun_skips_finished_points_and_changes_nothing(tmp_path):
    path = tmp_path / "r.sqlite"
    first = run(TINY, store=path)
    rows = store_rows(path)
    again = run(TINY, store=path)
    assert (first.ran, first.skipped, again.ran, again.skipped) == (6, 0, 0, 6)
    assert store_rows(path) == rows
    assert [r["knobs"]["depth"] for r in again.records] == [1, 1, 2, 2, 3, 3]  # grid order


def test_extend_adds_only_the_new_points(tmp_path):
    path = tmp_path / "r.sqlite"
    run(study(grid={"depth": [1, 2]}), store=path)
    with pytest.raises(ValueError, match="different config"):
        run(TINY, store=path)
    report = run(TINY, store=path, extend=True)
    assert (report.ran, report.skipped, len(report.records)) == (2, 4, 6)


def test_a_store_is_required(tmp_path):
    with pytest.raises(ValueError, match="no results store"):
        run(TINY)


class FlakyTower:
    """A tower whose gradients are NaN at depth 2 while ``FlakyTower.broken`` is set."""

    broken = True

    def __init__(self, depth):
        self.model, self.depth = classical.tower(depth=depth), depth

    def __getattr__(self, name):
        return getattr(self.model, name)

    def grad(self, params, indices=None):
        g = self.model.grad(params, indices)
        return torch.full_like(g, math.nan) if self.broken and self.depth == 2 else g


def test_a_failed_point_is_recorded_and_retried_alone(tmp_path, monkeypatch):
    monkeypatch.setitem(classical.ARCHITECTURES, "flaky_tower", FlakyTower)
    config = {"study": {"n_samples": 8}, "model": {"family": "classical", "architecture": "flaky_tower"},
              "grid": {"depth": [1, 2, 3]}}
    path = tmp_path / "r.sqlite"
    report = run(config, store=path)
    assert (report.ran, report.failed) == (3, 1)
    failed = [r for r in report.records if r["status"] == "failed"]
    assert [r["knobs"]["depth"] for r in failed] == [2] and "not finite" in failed[0]["error"]
    assert "failed" in report.table() and "not finite" in report.table()
    done_before = [r for r in report.records if r["status"] == "done"]
    assert run(config, store=path).ran == 0  # a plain rerun leaves failures alone
    monkeypatch.setattr(FlakyTower, "broken", False)
    retry = run(config, store=path, retry_failed=True)
    assert (retry.ran, retry.failed) == (1, 0)
    assert [r for r in retry.records if r["knobs"]["depth"] != 2] == done_before
    assert all(r["status"] == "done" for r in retry.records)


@pytest.mark.slow
def test_a_sweep_killed_mid_run_resumes_to_the_uninterrupted_result(tmp_path):
    config = tmp_path / "kill.toml"
    config.write_text(KILL_STUDY)
    killed, clean = tmp_path / "killed.sqlite", tmp_path / "clean.sqlite"
    command = [sys.executable, "-c", "import sys; from qcgrad.cli import main; sys.exit(main(sys.argv[1:]))",
               "sweep", str(config), "--store", str(killed), "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while done_points(killed) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_at_kill = done_points(killed)
    assert 2 <= finished_at_kill < 8, "the kill must land mid-run for this test to mean anything"
    assert main(command[3:]) == 0  # the restart (in this process: resuming does not depend on where)
    run(config, store=clean)
    rows = store_rows(killed)
    assert len(rows) == 8 and len({r[0] for r in rows}) == 8  # every point exactly once
    assert rows == store_rows(clean)
    with Store.open(killed) as store:
        assert all(r["status"] == "done" for r in store.records())


def test_warnings_name_their_point_and_come_once_per_point(tmp_path):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(TINY, store=tmp_path / "r.sqlite")
    messages = [str(w.message) for w in caught if "heavy-tailed" in str(w.message)]
    assert messages, "TINY's 24-sample points are heavy-tailed"
    assert all(m.startswith("tiny, mlp depth=") and ", activation=" in m for m in messages)
    assert len(set(messages)) == len(messages)
    assert {w.filename for w in caught if "heavy-tailed" in str(w.message)} == {__file__}
