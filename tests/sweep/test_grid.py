import json

import pytest
from sweep_helpers import study

from qcgrad.seeding import derive_seed
from qcgrad.sweep.config import parse_config
from qcgrad.sweep.grid import expand


def test_every_combination_once_with_its_derived_seed():
    cfg = parse_config(study())
    points = expand(cfg)
    assert len(points) == 3 * 2
    assert len({p.point_id for p in points}) == 6
    for p in points:
        assert p.seed == derive_seed(cfg.seed, p.key)
        assert json.loads(p.key) == {"family": "classical", "architecture": "mlp", **p.knobs}
        assert p.scanned == ("depth", "activation")


def test_the_key_does_not_depend_on_which_knobs_are_fixed():
    scanned = {p.key: p.seed for p in expand(parse_config(study(grid={"activation": ["tanh"]})))}
    moved = study(model={"activation": "tanh"})
    moved["grid"] = {"depth": [1, 2, 3]}
    fixed = {p.key: p.seed for p in expand(parse_config(moved))}
    assert scanned == fixed


def test_point_id_changes_with_sample_settings():
    a = expand(parse_config(study()))[0]
    b = expand(parse_config(study(study={"n_samples": 25})))[0]
    assert a.key == b.key and a.point_id != b.point_id


@pytest.mark.parametrize("sections, message", [
    ({"model": {"colour": "red"}}, "cannot be built from knobs"),
    ({"grid": {"depth": [1, 0]}}, "depth=0"),
    ({"study": {"params": "layer:99"}}, "params='layer:99'"),
])
def test_points_are_checked_by_their_builder(sections, message):
    with pytest.raises(ValueError, match=message):
        expand(parse_config(study(**sections)))


def _peak_rss_growth_mb(work):
    """Growth of this process's peak resident memory while ``work()`` runs (Linux /proc)."""
    import re
    from pathlib import Path

    def peak():
        return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024

    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current size
    except OSError:
        pytest.skip("needs Linux /proc/self/clear_refs to measure peak memory")
    before = peak()
    work()
    return peak() - before


def test_thirty_qubit_points_are_checked_without_allocating_their_states():
    # A 2^30 state or cost diagonal is 8-16 GB; checking every ansatz × cost at n = 30 must stay small.
    from qcgrad import quantum

    cfg = parse_config({"study": {"n_samples": 8}, "model": {"family": "quantum", "n_qubits": 30, "n_layers": 2},
                        "grid": {"ansatz": sorted(quantum.ANSATZE), "cost": sorted(quantum.COSTS)}})
    points = []
    growth = _peak_rss_growth_mb(lambda: points.extend(expand(cfg)))
    assert len(points) == len(quantum.ANSATZE) * len(quantum.COSTS)
    assert growth < 256, f"validating 30-qubit points grew peak memory by {growth:.0f} MB"
