import json

import pytest

from qcgrad.seeding import derive_seed
from qcgrad.sweep.config import parse_config
from qcgrad.sweep.grid import expand
from sweep_helpers import study


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
