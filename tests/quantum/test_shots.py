"""Finite-shot sampling and the shot-noise variance of parameter-shift estimates."""
import math

import pytest
import torch

from qcgrad.quantum import circuit, decompose_variance, shots

ZZ_DIAG = torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=torch.float64)


def test_sample_expectation_is_unbiased_with_variance_sigma2_over_n():
    # R = 4000 repeats of an N = 50-shot estimate of ⟨ZZ⟩ at P(+1) = 0.3, so ⟨ZZ⟩ = −0.4,
    # σ² = 1 − 0.16 = 0.84. Mean: SE = sqrt(σ²/(N R)) ≈ 2.0e-3, allow 5 SE. Sample variance:
    # relative SE ≈ sqrt(2/R) ≈ 2.2 % (binomial mean is near normal at N = 50), allow 5 SE.
    r, n = 4000, 50
    probs = torch.tensor([0.2, 0.5, 0.2, 0.1], dtype=torch.float64).expand(r, 4)
    est = shots.sample_expectation(probs, ZZ_DIAG, n, torch.Generator().manual_seed(0))
    assert abs(est.mean().item() + 0.4) < 5 * math.sqrt(0.84 / (n * r))
    assert abs(est.var().item() / (0.84 / n) - 1) < 5 * math.sqrt(2 / r)
    # Estimates are means of N outcomes in {−1, +1}: multiples of 2/N.
    assert torch.allclose(est * n / 2, (est * n / 2).round())


def test_shot_variance_is_the_pm1_formula():
    probs = torch.tensor([[0.7, 0.1, 0.1, 0.1]], dtype=torch.float64)
    expval = 0.8 - 0.2
    assert shots.shot_variance(probs, ZZ_DIAG, 100).item() == pytest.approx((1 - expval**2) / 100, rel=1e-12)


def test_engine_shot_gradient_variance_matches_the_parameter_shift_formula():
    # One θ repeated R = 3000 times: each row draws its own shots. The spread of ĝ must equal
    # (1 − ⟨ZZ⟩₊²)/(4N) + (1 − ⟨ZZ⟩₋²)/(4N); relative SE of a sample variance ≈ sqrt(2/R) ≈ 2.6 %,
    # allow 5 SE. The mean must equal the exact gradient within 5 SE of the mean.
    r, n = 3000, 64
    qc = circuit("tensor_product", 2, cost="zz", shots=n)
    theta = torch.tensor([[0.7, 2.1]], dtype=torch.float64)
    g = qc.grad(theta.expand(r, 2), indices=[0])[:, 0]
    # ⟨ZZ⟩ = cos θ₀ cos θ₁ for RX on |00⟩.
    plus, minus = math.cos(0.7 + math.pi / 2) * math.cos(2.1), math.cos(0.7 - math.pi / 2) * math.cos(2.1)
    var = (1 - plus**2) / (4 * n) + (1 - minus**2) / (4 * n)
    assert abs(g.var().item() / var - 1) < 5 * math.sqrt(2 / r)
    assert abs(g.mean().item() + math.sin(0.7) * math.cos(2.1)) < 5 * math.sqrt(var / r)


def test_shot_gradients_are_reproducible_and_frozen_safe():
    qc = circuit("random_pauli", 3, n_layers=2, shots=100, shot_seed=3)
    params = qc.sample_params(torch.Generator().manual_seed(0), 4)
    g = qc.grad(params)
    assert torch.equal(g, qc.grad(params))
    assert torch.equal(g[:, ~qc.trainable], torch.zeros(4, int((~qc.trainable).sum()), dtype=torch.float64))
    other = circuit("random_pauli", 3, n_layers=2, shots=100, shot_seed=4).grad(params)
    assert not torch.equal(g, other)


def test_decomposition_adds_up():
    # Law of total variance: Var[ĝ] = Var_θ[g] + E_θ[shot var]. With S = 2000 samples the
    # measured sample variance has relative SE ≈ sqrt((κ − 1)/S); the gradient of RX circuits
    # is bounded, κ ≲ 3, so SE ≲ 3.2 %: allow 5 SE = 16 %.
    qc = circuit("tensor_product", 3, cost="local", shots=2)
    params = qc.sample_params(torch.Generator().manual_seed(1), 2000)
    dec = shots.decompose_variance(qc, params, 0, 2)
    exact = circuit("tensor_product", 3, cost="local").grad(params)[:, 0]
    assert dec.landscape == pytest.approx(exact.var().item(), rel=1e-10)
    assert dec.shot_noise > dec.landscape / 2  # the regime where shot noise matters
    assert abs(dec.measured / dec.predicted - 1) < 0.16
    assert dec.shots_to_resolve() == math.ceil(round(dec.shot_noise * 2 / dec.landscape, 9))


def test_shots_to_resolve_scales_as_one_over_n():
    dec = shots.ShotDecomposition(landscape=1e-6, shot_noise=1e-3, measured=0.0, shots=10)
    assert dec.shots_to_resolve() == 10_000
    assert dec.shots_to_resolve(ratio=0.1) == 100_000
    with pytest.raises(ValueError, match="ratio=0 is out of range"):
        dec.shots_to_resolve(ratio=0)


@pytest.mark.parametrize("value, err", [(0, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_shots(value, err):
    with pytest.raises(err, match="shots="):
        circuit("tensor_product", 2, shots=value)


def test_shots_on_noisy_circuits_sample_the_density_matrix():
    # Noise and shots together: finite-shot estimates from the density mode's probabilities.
    # R = 2000 repeats of one θ, N = 100 shots; the local cost's levels lie in [0, 1], so each
    # shifted value has variance ≤ 1/(4N) and ĝ ≤ 1/(8N): SE of the mean ≤ 7.9e-4, allow 5 SE.
    r, n = 2000, 100
    theta = torch.tensor([[0.4, 1.3]], dtype=torch.float64)
    kw = dict(ansatz="tensor_product", n_qubits=2, cost="local", noise="amplitude_damping:0.3")
    exact = circuit(**kw).grad(theta)
    sampled = circuit(**kw, shots=n).grad(theta.expand(r, 2))
    assert (sampled.mean(0) - exact[0]).abs().max() < 5 * math.sqrt(1 / (8 * n * r))


def test_shot_noise_results_do_not_depend_on_chunking_or_sample_count():
    # #15.4: variance 0.006826 / 0.007474 / 0.007295 for chunk None / 1 / 16 when shots were
    # seeded per batch. Seeded per shifted circuit, every split gives the same numbers.
    import qcgrad as qg

    qc = circuit("hardware_efficient", n_qubits=3, n_layers=2, cost="local", shots=100)
    variances = {chunk: qg.gradient_variance(qc, n_samples=48, seed=1, chunk_size=chunk).variance
                 for chunk in (None, 1, 16)}
    assert variances[None] == variances[1] == variances[16]
    params = qc.sample_params(torch.Generator().manual_seed(0), 80)
    assert torch.equal(qc.grad(params)[:40], qc.grad(params[:40]))
    assert torch.equal(qc.grad(params, indices=[3])[40:], qc.grad(params[40:], indices=[3]))


def test_each_shifted_circuit_has_its_own_shots():
    # Two partials of one sample, and the + and − shifts, must not share draws: with a
    # constant circuit (all shifts give the same probabilities) shared draws would give ĝ = 0.
    qc = circuit("tensor_product", 2, cost="zz", shots=10)
    g = qc.grad(torch.full((1, 2), math.pi / 2, dtype=torch.float64).expand(200, 2).contiguous())
    assert (g != 0).float().mean() > 0.5


def test_decompose_variance_refuses_an_index_out_of_range_or_frozen():
    qc = circuit("random_pauli", n_qubits=2, n_layers=1, cost="zz", shots=100)
    params = qc.sample_params(torch.Generator().manual_seed(0), 4)
    with pytest.raises(ValueError, match=r"index 7 is out of range; indices run from 0 to 3"):
        decompose_variance(qc, params, 7, 100)
    with pytest.raises(ValueError, match=r"frozen"):
        decompose_variance(qc, params, qc.n_params - 1, 100)  # the last entry is a gate code
    with pytest.raises(TypeError, match=r"index=0.5 must be an int"):
        decompose_variance(qc, params, 0.5, 100)
