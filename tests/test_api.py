"""The public contract of DESIGN.md: extend it, never break it."""
import json

import pytest
import torch

import qcgrad as qg


def test_design_contract_end_to_end():
    net = qg.classical.mlp(depth=20, width=64, activation="tanh", init="xavier")
    qc = qg.quantum.circuit("random_pauli", n_qubits=6, n_layers=50, cost="zz")
    for model in (net, qc):
        assert isinstance(model, qg.Model)
        assert isinstance(model.n_params, int) and model.n_params > 0
        assert "layer:0" in model.param_groups
        assert isinstance(model.describe(), dict)
    est = qg.gradient_variance(qc, n_samples=200, seed=0, params="first")
    assert isinstance(est.variance, float) and est.variance > 0
    low, high = est.ci
    assert low <= est.variance <= high
    assert est.samples.shape == (200, 1)

    scan = qg.scan(lambda n: qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=20, cost="zz"),
                   values=range(2, 6), n_samples=50, seed=0)
    fit = scan.fit()
    assert isinstance(fit, qg.DecayFit)
    assert fit.kind in ("exponential", "power")
    for name in ("rate", "rate_ci", "base", "r2"):
        assert hasattr(fit, name)
    records = scan.records()
    assert len(records) == 4
    assert {"value", "variance", "ci", "n_samples", "model"} <= records[0].keys()
    assert records[0]["model"]["n_qubits"] == 2


def test_model_interface_shapes():
    tensor_product = qg.quantum.circuit("tensor_product", n_qubits=3, n_layers=1, cost="local")
    for model in (qg.classical.mlp(depth=3, width=8), tensor_product):
        gen = torch.Generator().manual_seed(0)
        theta = model.sample_params(gen, 5)
        assert theta.shape == (5, model.n_params)
        assert model.cost(theta).shape == (5,)
        assert model.grad(theta).shape == (5, model.n_params)
        again = model.sample_params(torch.Generator().manual_seed(0), 5)
        assert torch.equal(theta, again)


def test_params_selectors():
    net = qg.classical.mlp(depth=4, width=8)
    first = qg.gradient_variance(net, n_samples=20, params="first")
    by_group = qg.gradient_variance(net, n_samples=20, params="layer:0")
    every = qg.gradient_variance(net, n_samples=20, params="all")
    assert first.samples.shape[1] == 1
    assert by_group.samples.shape[1] == net.param_groups["layer:0"].stop - net.param_groups["layer:0"].start
    assert every.samples.shape[1] == net.n_params


def test_builders_named_in_the_design_exist():
    for name in ("tower", "deep_linear", "mlp", "resnet", "densenet", "unet", "rnn", "lstm", "gru", "transformer"):
        assert callable(getattr(qg.classical, name)), name
    assert callable(qg.quantum.circuit)


def test_every_params_form_selects_the_same_columns_as_indexing_all():
    net = qg.classical.mlp(depth=4, width=8)
    every = qg.gradient_variance(net, n_samples=20, seed=1, params="all").samples
    mask = torch.zeros(net.n_params, dtype=torch.bool)
    mask[[3, 100]] = True
    forms = [
        ([0, 1, 5], [0, 1, 5]), ((0, 1, 5), [0, 1, 5]), (torch.tensor([7, 2]), [7, 2]),
        (slice(10, 14), [10, 11, 12, 13]), (mask, [3, 100]), (mask.tolist(), [3, 100]),
        (["layer:0", "layer:3"], list(range(72)) + list(range(216, 225))),
        ([-1, "layer:1"], [224] + list(range(72, 144))),
        (lambda model: [model.n_params - 2], [223]),
    ]
    for spec, idx in forms:
        est = qg.gradient_variance(net, n_samples=20, seed=1, params=spec)
        assert est.indices == idx, spec
        assert torch.equal(est.samples, every[:, idx]), spec
        json.dumps(est.to_dict())  # every form records as JSON


@pytest.mark.parametrize("spec, match", [
    (4, r"frozen \(structure\) entries \[4\]"), ("gates", "frozen"), (slice(0, 6), r"entries \[4, 5\]"),
    ([0, 9], r"index 9 is out of range; indices run from 0 to 7"), ([0, 0], "more than once"),
    ([], "selects no parameters"), (torch.tensor([0.5]), "integer or bool dtype"),
    (torch.ones(3, dtype=torch.bool), "n_params=8 entries; got 3"), (1.5, "not allowed"), (True, "not allowed"),
])
def test_bad_params_forms_are_refused_clearly(spec, match):
    qc = qg.quantum.circuit("random_pauli", n_qubits=2, n_layers=2, cost="zz")  # "gates" (4..7) is frozen
    with pytest.raises((ValueError, TypeError), match=match):
        qg.gradient_variance(qc, n_samples=10, params=spec)


def test_scan_and_profile_take_the_same_params_forms():
    build = lambda d: qg.classical.mlp(depth=d, width=4)  # noqa: E731
    scan = qg.scan(build, values=[2, 3], n_samples=10, params=["layer:0", "layer:1"])
    for d, est in zip([2, 3], scan.estimates, strict=True):
        assert est.indices == list(range(build(d).param_groups["layer:1"].stop))
    assert all(r["params"] == ["layer:0", "layer:1"] for r in scan.records())


def test_method_is_part_of_the_estimate():
    est = qg.gradient_variance(qg.classical.mlp(depth=3, width=4), n_samples=10, method="sample")
    assert (est.method, est.exact, est.n_paths) == ("sample", False, None)
    assert {"method", "exact", "n_paths"} <= est.to_dict().keys()


@pytest.mark.parametrize("text, expected", [
    ("2:6", slice(2, 6)), (":4", slice(None, 4)), ("3:", slice(3, None)), ("10:20:2", slice(10, 20, 2)),
    ("::3", slice(None, None, 3)), ("-3:", slice(-3, None)),
], ids=["2_6", "_4", "3_", "10_20_2", "__3", "-3_"])  # a "::" in a test id would break node-id parsing
def test_params_slices_parse_as_python_slice_literals(text, expected):
    # Independent truth: Python's own meaning of the slice written in brackets.
    from qcgrad.gradients import parse_params

    parsed = parse_params(text)
    assert parsed == expected
    assert list(range(30))[parsed] == eval(f"list(range(30))[{text}]")  # noqa: S307 - fixed literals


def test_params_labels_of_numpy_lists_are_plain_json():
    # Records must serialize: numpy integers and booleans in a list become Python int and bool.
    import numpy as np

    from qcgrad.gradients import params_label

    label = params_label([np.int64(3), "layer:0", np.bool_(True), np.int32(-1)])
    assert label == [3, "layer:0", True, -1]
    assert [type(x) for x in label] == [int, str, bool, int]
    assert json.loads(json.dumps(label)) == [3, "layer:0", True, -1]


def test_params_selecting_an_entry_twice_name_every_repeated_index():
    from qcgrad.gradients import resolve_params

    net = qg.classical.mlp(depth=2, width=3)
    # 4 and 7 appear twice, -1 and n_params - 1 name the same entry: all three are reported, 0 is not.
    last = net.n_params - 1
    with pytest.raises(ValueError, match=rf"selects indices \[4, 7, {last}\] more than once"):
        resolve_params(net, [0, 4, 7, 4, 7, -1, last])


def test_params_callable_must_return_a_selection_not_another_callable():
    from qcgrad.gradients import resolve_params

    net = qg.classical.mlp(depth=2, width=3)
    assert resolve_params(net, lambda m: [0, 2]).tolist() == [0, 2]
    with pytest.raises(TypeError, match="is not allowed"):
        resolve_params(net, lambda m: (lambda m2: [0]))


# --- The 0.2 surface: bring your own model, theory, exact paths, claims -------------------------

#: Names each package exports since 0.2 (pinned: removing or renaming one breaks users' scripts).
PUBLIC_0_2 = {
    "qcgrad": ["hybrid", "HybridModel", "Study", "Claim", "claim_value", "claim_variance", "claim_base",
               "verdict_table", "theory", "__version__"],
    "qcgrad.quantum": ["from_qnode", "PerSample", "device_decomposition", "lightcone", "mps"],
    "qcgrad.classical": ["from_module", "ModuleModel"],
    "qcgrad.theory": ["dla", "predict", "DLA", "Prediction", "predicted", "compare_theory", "chi1", "critical_std",
                      "depth_scale", "fixed_point"],
    "qcgrad.optim": ["state_jacobian", "mixed_state_metric", "qng_metric", "parameter_blocks",
                     "OPTIMIZER_DESCRIPTIONS"],
}


@pytest.mark.parametrize("package", sorted(PUBLIC_0_2))
def test_the_0_2_names_are_exported(package):
    import importlib

    module = importlib.import_module(package)
    missing = [name for name in PUBLIC_0_2[package] if not hasattr(module, name)]
    assert not missing, f"{package} lost {missing}"
    listed = getattr(module, "__all__", None)
    if listed is not None:
        assert not [name for name in PUBLIC_0_2[package] if name not in listed]


def test_the_0_2_keywords_of_the_builders():
    import inspect

    keywords = set(inspect.signature(qg.quantum.circuit).parameters)
    assert {"angles_per_layer", "shape", "structure", "state_prep", "device_options", "lightcone"} <= keywords
    module_keywords = set(inspect.signature(qg.classical.from_module).parameters)
    assert {"inputs", "targets", "loss", "init", "groups"} <= module_keywords
    assert {"angles", "head", "inputs"} <= set(inspect.signature(qg.hybrid).parameters)
    for name in ("gradient_variance", "scan", "layer_profile"):
        assert "method" in inspect.signature(getattr(qg, name)).parameters, name


def test_a_user_circuit_through_theory_paths_and_sampling_meets_the_closed_form():
    # The tensor-product ansatz written by a user: the Cerezo local-cost closed form
    # Var[∂C/∂θ₁] = 1/(8n²) comes out of the theory, of the exact Pauli paths, and (within 4 SE,
    # SE = Var·sqrt((κ−1)/S), κ = 3/2 for sin θ) of sampling.
    import pennylane as qml

    n = 3

    def rx_layer(angles, wires):
        for q, w in enumerate(wires):
            qml.RX(angles[q], wires=w)

    qc = qg.quantum.circuit(rx_layer, n_qubits=n, n_layers=1, angles_per_layer=n, cost="local")
    exact = 1 / (8 * n**2)
    paths = qg.gradient_variance(qc, method="paths")
    assert paths.exact and paths.variance == pytest.approx(exact, rel=1e-12)
    sampled = qg.gradient_variance(qc, n_samples=4000, seed=0)
    assert abs(sampled.variance - exact) < 4 * exact * (0.5 / 4000) ** 0.5
    assert qg.theory.dla(qc).dim == n  # abelian: one generator per qubit


def test_from_module_and_hybrid_are_models():
    from torch import nn

    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    model = qg.classical.from_module(net, torch.randn(5, 3, dtype=torch.float64))
    assert isinstance(model, qg.Model) and model.n_params == sum(p.numel() for p in net.parameters())
    assert set(model.param_groups) == {"layer:0", "layer:2"}
    qc = qg.quantum.circuit("tensor_product", n_qubits=2, cost="local")
    both = qg.hybrid(qc, angles=nn.Linear(2, 2), inputs=torch.ones(1, 2, dtype=torch.float64))
    assert isinstance(both, qg.Model)
    assert both.cost(both.sample_params(torch.Generator().manual_seed(0), 3)).shape == (3,)


def test_the_routes_a_circuit_runs_are_named_in_describe():
    # lightcone="auto": cones for a brickwork, the MPS route for the CNOT staircase (bond 2^L), nothing
    # named for the full engine (lightcone=False, and up to six qubits).
    routes = {
        ("alternating_layered", 40, "auto"): "cones of <= 4 qubits",
        ("hardware_efficient", 40, "auto"): "mps, bond <= 4",
        ("hardware_efficient", 40, False): None,
        ("hardware_efficient", 6, "auto"): None,
    }
    for (name, n, lightcone), route in routes.items():
        qc = qg.quantum.circuit(name, n_qubits=n, n_layers=2, cost="local", lightcone=lightcone)
        assert qc.describe().get("lightcone") == route, (name, n, lightcone)
    # each CNOT of the chain crosses one cut per layer: every bond is 2^L
    assert qg.quantum.mps.mps_plan(qg.quantum.circuit("hardware_efficient", 12, 3, cost="local")).bonds == (8,) * 11
