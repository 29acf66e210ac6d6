import math

import numpy as np
import pytest
import torch

import qcgrad as qg
from qcgrad.stats import HeavyTailWarning, ZeroGradientWarning, fit_decay, summarize

from toy_models import CubeModel, ScaledSine, SineModel

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
    assert est.se == pytest.approx(est.variance * math.sqrt((est.kurtosis - 1) / S))
    assert est.samples.shape == (S, 1)


def test_bootstrap_interval_has_the_width_the_standard_error_predicts():
    est = qg.gradient_variance(SineModel((1.0,)), n_samples=S, seed=2)
    width = est.ci[1] - est.ci[0]
    # Normal-approximation width 2·1.96·SE; the bootstrap width has ≈ 1/sqrt(2·S/κ) relative noise,
    # a few percent here, so 20 % is a generous band that still catches a mis-scaled interval.
    assert width == pytest.approx(2 * 1.96 * est.se, rel=0.2)


def test_all_averages_over_partials_and_drops_zero_by_construction():
    model = SineModel((1.0, 0.5, 0.0))
    with pytest.warns(ZeroGradientWarning, match="1 of 3"):
        est = qg.gradient_variance(model, n_samples=S, seed=3, params="all")
    true = (0.5 + 0.125) / 2
    assert est.zero_by_construction == [2]
    # Average of two independent estimates, each with SE = Var_j·sqrt(0.5/S).
    se = math.sqrt(0.5**2 + 0.125**2) / 2 * math.sqrt(0.5 / S)
    assert abs(est.variance - true) < Z * se


def test_group_and_index_selection():
    model = SineModel((1.0, 0.5, 0.0))
    by_group = qg.gradient_variance(model, n_samples=100, seed=4, params="layer:1")
    by_index = qg.gradient_variance(model, n_samples=100, seed=4, params=1)
    assert torch.equal(by_group.samples, by_index.samples)


def test_heavy_tails_warn():
    with pytest.warns(HeavyTailWarning, match="heavy-tailed"):
        est = qg.gradient_variance(CubeModel(), n_samples=2000, seed=0)
    assert est.kurtosis > 10


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


def test_summarize_recomputes_statistics_from_stored_gradients():
    est = qg.gradient_variance(SineModel((1.0,)), n_samples=300, seed=11)
    again = summarize(est.samples, est.indices, seed=11)
    assert again.variance == est.variance and again.ci == est.ci


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


def test_fit_needs_three_positive_points():
    with pytest.raises(ValueError, match="at least 3"):
        fit_decay([1, 2, 3], [1.0, 0.0, 0.5])


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
    decaying = qg.scan(lambda d: ScaledSine(d), values=[1, 2, 3], n_samples=1000, seed=0)
    flat = qg.scan(lambda d: ScaledSine(0), values=[1, 2, 3], n_samples=1000, seed=0, knob="depth")
    assert not decaying.converged()
    assert flat.converged()
