import math
import sys
import warnings

import numpy as np
import pytest
import torch
from toy_models import CubeModel, ScaledSine, SineModel

import qcgrad as qg
from qcgrad.stats import (
    DecayFitWarning,
    HeavyTailWarning,
    NonFiniteGradientWarning,
    VanishedGradientWarning,
    ZeroGradientWarning,
    fit_decay,
    summarize,
)

# SineModel: Var[a cos θ] = a²/2 and kurtosis κ = 3/2 exactly, so SE = Var·sqrt((κ−1)/S) = Var·sqrt(0.5/S).
S = 4000
Z = 4.0  # a 4-standard-error band: a false failure has probability ≈ 6e-5


def test_variance_matches_closed_form_within_its_standard_error():
    est = qg.gradient_variance(SineModel((1.0,)), n_samples=S, seed=1, params="first")
    true = 0.5
    se = true * math.sqrt(0.5 / S)
    assert abs(est.variance - true) < Z * se
    assert est.ci[0] < est.variance < est.ci[1]
    assert abs(est.kurtosis - 1.5) < 0.1  # SE of the kurtosis estimate at S=4000 is ≈ 0.02
    # The exact standard deviation of the unbiased sample variance: Var·sqrt((κ − (S−3)/(S−1))/S).
    assert est.se == pytest.approx(est.variance * math.sqrt((est.kurtosis - (S - 3) / (S - 1)) / S))
    assert est.samples.shape == (S, 1)


def test_bootstrap_interval_has_the_width_the_standard_error_predicts():
    est = qg.gradient_variance(SineModel((1.0,)), n_samples=S, seed=2)
    width = est.ci[1] - est.ci[0]
    # Normal-approximation width 2·1.96·SE; the bootstrap width has ≈ 1/sqrt(2·S/κ) relative noise,
    # a few percent here, so 20 % is a generous band that still catches a mis-scaled interval.
    assert width == pytest.approx(2 * 1.96 * est.se, rel=0.2)


class StructuralSine(SineModel):
    """SineModel that declares its zero-amplitude partials structural (zero for every θ)."""

    def structural_zeros(self):
        return self.a == 0


class NoisySine(SineModel):
    """SineModel whose model says |g| ≤ 1e-12 is rounding noise of an exact zero."""

    def gradient_tolerance(self):
        return 1e-12


def test_all_averages_over_partials_and_drops_zero_by_construction():
    with pytest.warns(ZeroGradientWarning, match="1 of 3"):
        est = qg.gradient_variance(StructuralSine((1.0, 0.5, 0.0)), n_samples=S, seed=3, params="all")
    true = (0.5 + 0.125) / 2
    assert est.zero_by_construction == [2] and est.vanished == []
    # Average of two independent estimates, each with SE = Var_j·sqrt(0.5/S).
    se = math.sqrt(0.5**2 + 0.125**2) / 2 * math.sqrt(0.5 / S)
    assert abs(est.variance - true) < Z * se


def test_partials_below_the_models_tolerance_are_zero_by_construction():
    # A 1e-15 amplitude mimics parameter-shift rounding of a dead partial: Var 5e-31, not 0.
    with pytest.warns(ZeroGradientWarning, match="1 of 2"):
        est = qg.gradient_variance(NoisySine((1.0, 1e-15)), n_samples=S, seed=3, params="all")
    assert est.zero_by_construction == [1]
    assert abs(est.variance - 0.5) < Z * 0.5 * math.sqrt(0.5 / S)
    prof = qg.layer_profile(NoisySine((1.0, 1e-15)), n_samples=S, seed=3)
    assert prof.zero_partials == [0, 1] and prof.variance[1] == 0.0 and prof.zero_fraction[1] == 1.0
    with pytest.warns(ZeroGradientWarning, match="all 1 selected"):
        alone = qg.gradient_variance(NoisySine((1.0, 1e-15)), n_samples=10, params=1)
    assert alone.variance == 0.0 and alone.ci == (0.0, 0.0)


def test_unexplained_exact_zeros_are_reported_as_vanished_and_kept_in_the_average():
    # No structure, no tolerance: an all-zero column is saturation/underflow, not structure.
    with pytest.warns(VanishedGradientWarning, match="underflow or saturation") as record:
        est = qg.gradient_variance(SineModel((1.0, 0.5, 0.0)), n_samples=S, seed=3, params="all")
    assert not any(issubclass(w.category, ZeroGradientWarning) for w in record)
    assert est.zero_by_construction == [] and est.vanished == [2]
    true = (0.5 + 0.125 + 0.0) / 3
    se = math.sqrt(0.5**2 + 0.125**2) / 3 * math.sqrt(0.5 / S)
    assert abs(est.variance - true) < Z * se
    assert est.to_dict()["vanished"] == 1 and est.to_dict()["zero_by_construction"] == 0


def test_saturated_net_is_not_called_zero_by_construction():
    # A sigmoid tower fed x = 1e300 saturates: every gradient is exactly 0 (issue 16: not "by construction").
    net = qg.classical.tower(depth=3, activation="sigmoid", x=1e300)
    with pytest.warns(VanishedGradientWarning) as record:
        est = qg.gradient_variance(net, n_samples=20, seed=0)
    assert not any(issubclass(w.category, ZeroGradientWarning) for w in record)
    assert est.zero_by_construction == [] and est.vanished == est.indices
    assert est.variance == 0.0 and est.to_dict()["kurtosis"] is None


def test_group_and_index_selection():
    model = SineModel((1.0, 0.5, 0.0))
    by_group = qg.gradient_variance(model, n_samples=100, seed=4, params="layer:1")
    by_index = qg.gradient_variance(model, n_samples=100, seed=4, params=1)
    assert torch.equal(by_group.samples, by_index.samples)


def test_heavy_tails_warn_with_the_sample_count_that_is_needed():
    with pytest.warns(HeavyTailWarning, match="heavy-tailed") as record:
        est = qg.gradient_variance(CubeModel(), n_samples=2000, seed=0)
    assert est.kurtosis > 10
    # SE/Var ≈ sqrt((κ−1)/S) = 10 % at S = (κ−1)/0.01.
    assert f"about S={math.ceil((est.kurtosis - 1) / 0.01)} samples give 10 %" in str(record[0].message)
    assert record[0].filename == __file__  # points at the user's call


def test_adaptive_mode_reaches_the_requested_relative_error():
    est = qg.gradient_variance(SineModel((1.0,)), n_samples=50, seed=5, rel_err=0.02)
    assert est.rel_err <= 0.02
    # The SE formula needs S ≥ (κ−1)/rel_err² = 0.5/0.0004 = 1250 samples.
    assert est.n_samples >= 1250


def test_same_seed_same_numbers_for_any_chunking():
    model = SineModel((1.0, 0.5, 0.2))
    whole = qg.gradient_variance(model, n_samples=150, seed=7, params="all")
    chunked = qg.gradient_variance(model, n_samples=150, seed=7, params="all", chunk_size=17)
    assert torch.equal(whole.samples, chunked.samples)
    assert whole.variance == chunked.variance and whole.ci == chunked.ci
    other = qg.gradient_variance(model, n_samples=150, seed=8, params="all")
    assert not torch.equal(whole.samples, other.samples)


def test_adaptive_run_extends_the_same_stream():
    model = SineModel((1.0,))
    adaptive = qg.gradient_variance(model, n_samples=40, seed=9, rel_err=0.05)
    fixed = qg.gradient_variance(model, n_samples=adaptive.n_samples, seed=9)
    assert torch.equal(adaptive.samples, fixed.samples)


@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, "10", True])
def test_n_samples_must_be_an_int_of_at_least_two(bad):
    with pytest.raises(ValueError, match="n_samples"):
        qg.gradient_variance(SineModel(), n_samples=bad)


@pytest.mark.parametrize("bad, match", [("layer:9", "layer:0"), (7, "out of range"), ("bogus", "first")])
def test_bad_params_spec_names_the_allowed_ones(bad, match):
    with pytest.raises(ValueError, match=match):
        qg.gradient_variance(SineModel(), n_samples=10, params=bad)


def test_summarize_against_hand_computed_moments():
    # g = ±1, ±3: mean 0, Σg² = 20, unbiased Var = 20/3; m2 = 5, m4 = (1+1+81+81)/4 = 41, κ = 41/25.
    est = summarize(torch.tensor([[1.0], [-1.0], [3.0], [-3.0]], dtype=torch.float64), [0])
    assert est.variance == pytest.approx(20 / 3, rel=1e-14)
    assert est.kurtosis == pytest.approx(41 / 25, rel=1e-14)
    assert est.se == pytest.approx(20 / 3 * math.sqrt((41 / 25 - 1 / 3) / 4), rel=1e-14)
    assert est.mean == 0.0


def test_variance_estimator_is_unbiased():
    # M independent samples of size S = 5 from N(0, 1), one per column: the column-averaged
    # variance is the mean of M unbiased estimates, E = 1 exactly; the biased m2 has E = 4/5.
    # Var(s²) = 2σ⁴/(S−1) = 1/2 for a normal, so the mean of M = 4000 has SE = sqrt(0.5/M) ≈ 0.011;
    # 4 SE = 0.045 is far inside the 0.2 gap to the biased estimator.
    M, n = 4000, 5
    g = torch.randn(n, M, generator=torch.Generator().manual_seed(19), dtype=torch.float64)
    est = summarize(g, range(M), n_boot=100)
    assert abs(est.variance - 1.0) < 4 * math.sqrt(0.5 / M)


def test_tiny_variances_keep_their_standard_error():
    # Issue 15: m2² underflows for Var < 1e-154 unless moments are taken on rescaled samples.
    g = torch.randn(64, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    unit, tiny = summarize(g, [0]), summarize(g * 1e-100, [0])
    assert tiny.variance == pytest.approx(unit.variance * 1e-200, rel=1e-12)
    assert tiny.rel_err == pytest.approx(unit.rel_err, rel=1e-12) and tiny.rel_err > 0
    assert tiny.kurtosis == pytest.approx(unit.kurtosis, rel=1e-12)
    assert tiny.ci[0] == pytest.approx(unit.ci[0] * 1e-200, rel=1e-12)


def test_scan_fit_keeps_points_with_tiny_variances():
    # Var = base^-size / 2 with base 1e40 reaches 1e-200 at size 5; all five points must enter the fit.
    # The rate is tested at 4 of its standard errors, read off its own 95 % interval (half-width 1.96 SE).
    scan = qg.scan(lambda d: ScaledSine(d, base=1e40), values=range(1, 6), n_samples=500, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DecayFitWarning)
        fit = scan.fit(kind="exponential")
    sd = (fit.rate_ci[1] - fit.rate_ci[0]) / (2 * 1.96)
    assert abs(fit.rate - math.log(1e40)) < 4 * sd


def test_non_finite_samples_raise_or_are_reported():
    g = torch.tensor([[1.0], [math.nan], [-1.0], [math.inf], [3.0], [-3.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match="2 of 6 gradient samples are not finite"):
        summarize(g, [0])
    with pytest.warns(NonFiniteGradientWarning, match=r"2 of 6 .*33.3%"):
        est = summarize(g, [0], nonfinite="report")
    assert est.variance == pytest.approx(20 / 3) and est.n_samples == 4 and est.n_nonfinite == 2
    assert est.to_dict()["nonfinite_fraction"] == pytest.approx(1 / 3)


class NaNModel(SineModel):
    def cost(self, params):
        return super().cost(params) * math.nan


def test_gradient_variance_refuses_nan_gradients():
    with pytest.raises(ValueError, match="10 of 10 gradient samples are not finite"):
        qg.gradient_variance(NaNModel((1.0,)), n_samples=10)


def test_exponential_fit_reads_off_the_base():
    n = np.arange(2, 11)
    fit = fit_decay(n, 2.0 ** -n)
    assert fit.kind == "exponential"
    assert fit.base == pytest.approx(2.0, rel=1e-12)
    assert fit.r2 == pytest.approx(1.0)


def test_power_law_is_selected_for_power_law_data():
    n = np.arange(2, 21)
    fit = fit_decay(n, 0.125 / n**2)
    assert fit.kind == "power"
    assert fit.rate == pytest.approx(2.0, rel=1e-10)
    assert fit.base is None


def test_rate_interval_covers_the_truth_at_the_nominal_rate():
    # 400 synthetic scans with log-normal noise of known size; the 95 % interval must cover the true
    # rate in 95 % ± 3·sqrt(0.95·0.05/400) ≈ ±3.3 % of them.
    rng = np.random.default_rng(0)
    n = np.arange(2, 12)
    rel = np.full(n.shape, 0.1)
    hits = 0
    for _ in range(400):
        v = 2.0 ** -n * np.exp(rng.normal(0, rel))
        fit = fit_decay(n, v, rel, kind="exponential")
        hits += fit.rate_ci[0] <= math.log(2) <= fit.rate_ci[1]
    assert abs(hits / 400 - 0.95) < 0.033


def test_fit_needs_three_positive_points_and_names_the_dropped_ones():
    with pytest.warns(DecayFitWarning, match=r"depth=2 \(variance 0\)"), pytest.raises(ValueError, match="at least 3"):
        fit_decay([1, 2, 3], [1.0, 0.0, 0.5], knob="depth")


def test_scan_infers_the_knob_and_fits_the_decay():
    scan = qg.scan(lambda d: ScaledSine(d), values=range(1, 9), n_samples=2000, seed=0)
    assert scan.knob == "depth"
    fit = scan.fit()
    assert fit.kind == "exponential"
    # One scan: its 95 % interval misses 5 % of the time by design, so test at 4 standard errors
    # (the interval's half-width is 1.96 of them; coverage itself is tested above).
    sd = (fit.rate_ci[1] - fit.rate_ci[0]) / (2 * 1.96)
    assert abs(fit.rate - math.log(2)) < 4 * sd
    rec = scan.records()[0]
    assert {"knob", "value", "variance", "ci", "n_samples", "model"} <= rec.keys()
    assert rec["value"] == 1 and rec["model"]["depth"] == 1


def test_scan_rejects_an_empty_grid():
    with pytest.raises(ValueError, match="empty"):
        qg.scan(lambda d: ScaledSine(d), values=[])


def test_converged_tells_a_plateau_from_a_slope():
    # ScaledSine: Var halves per unit of the knob (not converged); a constant-amplitude model is.
    # At S = 1000 each variance has relative SE sqrt(0.5/1000) ≈ 2.2 %, so a factor-2 step is ~30 SE
    # (χ² in the thousands); the flat series fails the 5 % χ² test with probability 5 % (fixed seed).
    decaying = qg.scan(lambda d: ScaledSine(d), values=[1, 2, 3], n_samples=1000, seed=0)
    flat = qg.scan(lambda d: ScaledSine(0), values=[1, 2, 3], n_samples=1000, seed=0, knob="depth")
    assert not decaying.converged()
    assert flat.converged()


class HeavyCube(CubeModel):
    """CubeModel (κ ≈ 46) with a size knob, for scans."""

    def __init__(self, depth):
        self.depth = depth

    def describe(self):
        return {"family": "toy", "depth": self.depth}


def test_scan_warnings_name_the_point_and_come_once_each():
    with pytest.warns(HeavyTailWarning) as record:
        qg.scan(HeavyCube, values=[1, 2, 3], n_samples=500, seed=0, rel_err=0.01, max_samples=1000)
    messages = [str(w.message) for w in record if issubclass(w.category, HeavyTailWarning)]
    for depth in (1, 2, 3):
        assert sum(m.startswith(f"depth={depth} (HeavyCube") for m in messages) == 1, messages
    assert {w.filename for w in record} == {__file__}


@pytest.mark.parametrize("bad, error, match", [
    ("mlp", TypeError, "not a qcgrad Model"), (None, TypeError, "not a qcgrad Model")])
def test_gradient_variance_needs_a_model(bad, error, match):
    with pytest.raises(error, match=match):
        qg.gradient_variance(bad)


@pytest.mark.parametrize("kwargs, match", [
    ({"chunk_size": 0}, "chunk_size=0"), ({"chunk_size": -1}, "chunk_size=-1"),
    ({"seed": -1}, "seed=-1"), ({"seed": 1.5}, "seed=1.5"),
    ({"n_boot": 0}, "n_boot=0"), ({"n_boot": 1}, "n_boot=1"),
    ({"level": 1.0}, "level=1.0"), ({"rel_err": 0}, "rel_err=0"),
    ({"method": "exact"}, "method='exact' .* sample, paths, auto"), ({"n_paths": 0}, "n_paths=0"),
    ({"nonfinite": "drop"}, "nonfinite='drop'"), ({"max_samples": 5}, "max_samples=5")])
def test_bad_options_are_refused_before_sampling(kwargs, match):
    with pytest.raises(ValueError, match=match):
        qg.gradient_variance(SineModel(), n_samples=10, **kwargs)


def test_scan_refuses_bad_grids():
    with pytest.raises(TypeError, match="values=None"):
        qg.scan(ScaledSine, values=None)
    with pytest.raises(ValueError, match=r"values repeat \[2\]"):
        qg.scan(ScaledSine, values=[1, 2, 2])
    with pytest.raises(TypeError, match="not callable"):
        qg.scan("mlp", values=[1, 2])


@pytest.mark.parametrize("args, kwargs, match", [
    (([1, 2, 3], [1.0, 0.5]), {}, "equal length; got lengths 3, 2"),
    (([1, 2, 3], [1.0, 0.5, 0.2], [0.1, 0.1]), {}, "got lengths 3, 3, 2"),
    (([2, 2, 2], [1.0, 0.5, 0.2]), {}, r"3 distinct x values .* got \[2.0\]"),
    (([1, 2, 2], [1.0, 0.5, 0.5]), {}, "3 distinct"),
    (([1, 2, 3], [1.0, 0.5, 0.2], [0.1, 0.0, 0.1]), {}, r"rel_errs must be finite and > 0 .*got \[0.0\] at x=\[2.0\]"),
    (([1, 2, 3], [1.0, 0.5, 0.2], [0.1, math.nan, 0.1]), {}, "rel_errs must be finite"),
    (([1, 2, 3], [1.0, 0.5, 0.2]), {"level": 0.0}, "level=0.0"),
    (([1, 2, 3], [1.0, 0.5, 0.2]), {"level": 1.5}, "level=1.5"),
])
def test_fit_decay_refuses_bad_input(args, kwargs, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DecayFitWarning)
        with pytest.raises(ValueError, match=match):
            fit_decay(*args, **kwargs)


def test_fit_decay_warns_about_repeated_knob_values():
    with pytest.warns(DecayFitWarning, match=r"repeated x values \[2.0\]"):
        fit_decay([1, 2, 2, 3], 2.0 ** -np.array([1, 2, 2, 3]))


def test_exact_points_are_fitted_with_their_scatter_as_the_error():
    # Unknown error bars: the interval comes from the residuals, so exact data give a zero-width one.
    fit = fit_decay([2, 3, 4, 5], [(3 / 8) ** n for n in [2, 3, 4, 5]], kind="exponential")
    assert fit.base == pytest.approx(8 / 3, rel=1e-12)
    assert fit.rate_ci[1] - fit.rate_ci[0] == pytest.approx(0, abs=1e-9)


class FakePaths:
    """Stands in for qcgrad.quantum.paths: records calls, returns an exact estimate of 1/8."""

    def __init__(self, reason=None, recommended=True):
        self.reason, self.recommended, self.calls = reason, recommended, []

    def paths_reason(self, model):
        return self.reason

    def paths_recommended(self, model):
        return self.recommended

    def paths_variance(self, model, params="first", *, n_paths=None, seed=0, level=0.95):
        self.calls.append((params, n_paths, seed, level))
        idx = qg.resolve_params(model, params).tolist()
        return qg.VarianceEstimate(variance=0.125, ci=(0.125, 0.125), se=0.0, kurtosis=math.nan, mean=0.0,
                                   n_samples=0, samples=torch.empty(0, len(idx)), indices=idx,
                                   zero_by_construction=[], seed=seed, params=params, method="paths",
                                   exact=True)


@pytest.fixture
def fake_paths(monkeypatch):
    def install(**kwargs):
        fake = FakePaths(**kwargs)
        monkeypatch.setitem(sys.modules, "qcgrad.quantum.paths", fake)
        return fake
    return install


def test_method_paths_dispatches_to_the_paths_module(fake_paths):
    fake = fake_paths()
    est = qg.gradient_variance(SineModel(), seed=4, params=[0, 1], method="paths", n_paths=100, level=0.9)
    assert fake.calls == [([0, 1], 100, 4, 0.9)]
    assert est.method == "paths" and est.exact and est.to_dict()["method"] == "paths"


def test_method_paths_refuses_with_the_reason(fake_paths):
    fake_paths(reason="gate 'T' in the middle of the circuit is not Clifford")
    with pytest.raises(ValueError, match="does not apply to this model: gate 'T'"):
        qg.gradient_variance(SineModel(), method="paths")


@pytest.mark.parametrize("reason, recommended, used", [
    (None, True, "paths"), (None, False, "sample"), ("noise", True, "sample")])
def test_method_auto_falls_back_to_sampling_and_records_it(fake_paths, reason, recommended, used):
    fake = fake_paths(reason=reason, recommended=recommended)
    est = qg.gradient_variance(SineModel((1.0,)), n_samples=10, method="auto")
    assert est.method == used and len(fake.calls) == (used == "paths")


def test_scan_and_profile_take_the_method(fake_paths):
    fake = fake_paths()
    scan = qg.scan(lambda d: ScaledSine(d), values=[1, 2, 3], method="paths")
    assert [e.method for e in scan.estimates] == ["paths"] * 3 and len(fake.calls) == 3
    prof = qg.layer_profile(SineModel((1.0, 0.5)), method="paths")
    assert prof.method == "paths" and prof.variance == [0.125, 0.125]
    assert [c[0] for c in fake.calls[3:]] == ["layer:0", "layer:1"]
    # Exact points: the fit weighs them equally and takes its interval from their scatter.
    assert scan.fit(kind="exponential").rate == pytest.approx(0.0, abs=1e-12)


def test_dead_circuit_partials_are_left_out_issue_15():
    # hardware_efficient n=3, L=1, zz: which angles can move the cost is checked independently by
    # shifting each angle by 1 rad in 50 random points (a dead partial leaves C unchanged to rounding).
    qc = qg.quantum.circuit("hardware_efficient", n_qubits=3, n_layers=1, cost="zz")
    theta = qc.sample_params(torch.Generator().manual_seed(0), 50)
    base = qc.cost(theta)
    dead = []
    for k in range(qc.n_params):
        shifted = theta.clone()
        shifted[:, k] += 1.0
        if (qc.cost(shifted) - base).abs().max() < 1e-12:
            dead.append(k)
    assert dead  # the reproduction has dead partials
    with pytest.warns(ZeroGradientWarning, match="all 1 selected partials"):
        first = qg.gradient_variance(qc, n_samples=50, params=dead[0])
    assert first.variance == 0.0 and first.zero_by_construction == [dead[0]]
    with pytest.warns(ZeroGradientWarning, match=f"{len(dead)} of {qc.n_params}"):
        every = qg.gradient_variance(qc, n_samples=50, params="all")
    assert every.zero_by_construction == dead
    live = [k for k in range(qc.n_params) if k not in dead]
    prof = qg.layer_profile(qc, n_samples=50)
    assert prof.zero_partials == [len(dead)] and prof.n_partials == [qc.n_params]
    # The average runs over the live partials only (no dilution by the dead ones).
    assert every.variance == pytest.approx(every.samples[:, live].var(dim=0).mean().item(), rel=1e-12)


def test_a_scan_mixing_exact_and_sampled_points_is_not_fitted_as_one():
    sampled = [qg.gradient_variance(ScaledSine(d), n_samples=50, seed=d) for d in (1, 2)]
    exact = qg.VarianceEstimate(variance=2.0**-4, ci=(2.0**-4,) * 2, se=0.0, kurtosis=math.nan, mean=0.0,
                                n_samples=0, samples=torch.empty(0, 1), indices=[0], zero_by_construction=[],
                                method="paths", exact=True)
    with pytest.raises(ValueError, match="mixes exact"):
        qg.Scan(knob="depth", values=[1, 2, 3], estimates=[*sampled, exact]).fit()


def test_fit_refuses_non_finite_knob_values_naming_them():
    with pytest.raises(ValueError, match=r"depth values must be finite numbers; got \[1.0, nan, 3.0\]"):
        fit_decay([1, math.nan, 3], [0.5, 0.25, 0.125], knob="depth")
