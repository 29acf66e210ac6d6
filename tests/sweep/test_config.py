import pytest
from sweep_helpers import TINY, study

from qcgrad.sweep.config import load_config, parse_config


def test_a_valid_study_parses_with_defaults(tmp_path):
    cfg = parse_config({"study": {"n_samples": 4}, "model": {"family": "classical", "architecture": "tower"},
                        "grid": {"depth": [1, 2]}}, base=tmp_path)
    assert (cfg.name, cfg.seed, cfg.params, cfg.chunk_size, cfg.store) == ("study", 0, "first", None, None)
    assert cfg.fixed == {"architecture": "tower"}


def test_toml_file_names_the_study_and_anchors_the_store(tmp_path):
    path = tmp_path / "depth.toml"
    path.write_text('[study]\nn_samples = 4\n[model]\nfamily = "classical"\narchitecture = "tower"\n'
                    '[grid]\ndepth = [1, 2]\n[output]\nstore = "out.sqlite"\n')
    cfg = load_config(path)
    assert cfg.name == "depth"
    assert cfg.store == tmp_path / "out.sqlite"


def test_fingerprint_ignores_the_store_but_not_the_grid(tmp_path):
    a = parse_config({**TINY, "output": {"store": "a.sqlite"}})
    b = parse_config({**TINY, "output": {"store": "b.sqlite"}})
    assert a.fingerprint == b.fingerprint
    assert parse_config(study(grid={"depth": [1, 2]})).fingerprint != a.fingerprint


def test_the_model_name_may_be_scanned():
    cfg = parse_config({"study": {"n_samples": 4}, "model": {"family": "classical", "width": 3},
                        "grid": {"architecture": ["mlp", "deep_linear"], "depth": [1, 2]}})
    assert cfg.grid["architecture"] == ["mlp", "deep_linear"]


@pytest.mark.parametrize("sections, message", [
    ({"study": {"n_samples": 1}}, "study.n_samples=1"),
    ({"study": {"seed": -1}}, "study.seed=-1"),
    ({"study": {"chunk_size": 0}}, "study.chunk_size=0"),
    ({"study": {"params": 1.5}}, "study.params=1.5"),
    ({"study": {"bogus": 1}}, "unknown key study.bogus"),
    ({"model": {"family": "photonic"}}, "model.family='photonic'"),
    ({"model": {"activation": "swish"}}, "model.activation='swish'"),
    ({"grid": {"depth": []}}, "grid.depth=[]"),
    ({"grid": {"depth": [1, 1]}}, "distinct"),
    ({"grid": {"width": [2]}}, "width is both fixed"),
    ({"model": {"ansatz": "random_pauli"}}, "ansatz does not belong to family 'classical'"),
])
def test_bad_values_name_the_key(sections, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        parse_config(study(**sections))


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.toml"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config(bad)


@pytest.mark.parametrize("params", [[0, 2], ["layer:0", "layer:1"], [0, "layer:1"], "0:2", "0,2", "all"])
def test_params_take_the_forms_of_resolve_params(params):
    cfg = parse_config(study(study={"params": params}))
    assert cfg.params == params and cfg.to_dict()["study"]["params"] == params


@pytest.mark.parametrize("sections, message", [
    ({"study": {"params": []}}, "study.params=[]"),
    ({"study": {"params": [0, 1.5]}}, "study.params=[0, 1.5]"),
    ({"study": {"params": [True]}}, "study.params=[True]"),
    ({"study": {"params": "0,,1"}}, "study.params='0,,1'"),
    ({"study": {"method": "exact"}}, "study.method='exact'.*sample, paths, auto"),
    ({"study": {"n_paths": 0}}, "study.n_paths=0"),
    ({"study": {"theory": "yes"}}, "study.theory='yes'"),
])
def test_bad_new_study_keys_name_the_key(sections, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config(study(**sections))


def test_defaults_of_the_new_keys_keep_old_fingerprints():
    # Stores written before method/n_paths/theory existed must still match their configs.
    cfg = parse_config(TINY)
    assert set(cfg.to_dict()["study"]) == {"name", "seed", "n_samples", "params", "chunk_size"}
    assert parse_config(study(study={"method": "sample", "theory": False})).fingerprint == cfg.fingerprint
    assert parse_config(study(study={"theory": True})).fingerprint != cfg.fingerprint


def test_a_huge_grid_is_refused_with_its_size_before_any_point_is_built():
    axis = list(range(1, 41))
    config = {"study": {"n_samples": 4}, "model": {"family": "classical", "architecture": "mlp"},
              "grid": {"depth": axis, "width": axis, "batch_size": axis, "out_dim": axis}}
    with pytest.raises(ValueError, match=r"2,560,000 points \(40 depth × 40 width × 40 batch_size × 40 out_dim\)"
                                         r".*at most 20,000.*--extend"):
        parse_config(config)
