"""Noise-induced barren plateaus (Wang et al. 2021): at fixed n, local depolarizing noise
after every layer makes Var[∂C/∂θ] decay exponentially with depth; without noise it does not.

Closed-form bound: depolarizing noise of strength p shrinks every non-identity Pauli
component of the state by q = 1 − 4p/3 per layer, so |∂C/∂θ| ≲ q^L and the variance decays
at rate ≥ 2|ln q| per layer (0.286 at p = 0.1; ≈ 0.57 for the weight-2 ZZ cost).
"""
import math

from qcgrad.quantum import circuit
from qcgrad.stats import fit_decay, gradient_variance


def depth_fit(noise, depths, n_samples):
    est = [gradient_variance(circuit("random_pauli", 3, n_layers=depth, cost="zz", noise=noise),
                             n_samples=n_samples, seed=0, params=0) for depth in depths]
    return fit_decay(depths, [e.variance for e in est], [e.se / e.variance for e in est], kind="exponential")


def test_depolarizing_noise_decays_exponentially_with_depth():
    p = 0.1
    bound = 2 * abs(math.log(1 - 4 * p / 3))
    # 200 samples per depth: relative SE of each variance ≈ sqrt((κ − 1)/200) ≈ 12 %, which
    # the fit's interval carries; the whole 95 % interval must clear the bound.
    fit = depth_fit(f"depolarizing:{p}", [2, 4, 6, 8], 200)
    assert fit.rate_ci[0] > bound


def test_noiseless_variance_does_not_decay_with_depth():
    # p = 0 (the state-vector engine; the density mode equals it, see test_density). Past the
    # 2-design depth the variance is flat: the rate's interval contains 0 and stays below the
    # noisy bound at p = 0.1.
    fit = depth_fit(None, [8, 16, 24, 32], 600)
    assert fit.rate_ci[0] <= 0 <= fit.rate_ci[1]
    assert fit.rate_ci[1] < 2 * abs(math.log(1 - 4 * 0.1 / 3))
