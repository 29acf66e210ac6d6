from qcgrad.sweep.report import summary_table


def record(depth, status="done", error=None):
    done = status == "done"
    return {"scanned": ["depth"], "knobs": {"depth": depth}, "name": "mlp", "status": status,
            "variance": 0.25 if done else None, "ci": (0.2, 0.3) if done else (None, None),
            "seconds": 1.5, "error": error}


def test_one_line_per_point_with_the_scanned_knobs():
    lines = summary_table([record(2), record(4)]).splitlines()
    assert lines[0].split() == ["depth", "status", "variance", "95%", "CI", "seconds"]
    assert lines[1].split() == ["2", "done", "0.25", "[0.2,", "0.3]", "1.5"]


def test_failures_show_their_error():
    lines = summary_table([record(2), record(4, "failed", "MemoryError: out")]).splitlines()
    assert lines[0].endswith("error")
    assert lines[2].split()[:3] == ["4", "failed", "-"] and lines[2].endswith("MemoryError: out")


def test_no_points():
    assert summary_table([]) == "(no points)"
