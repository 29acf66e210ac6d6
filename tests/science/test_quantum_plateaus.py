"""Barren plateaus of the circuit ansätze, measured on the engine.

- McClean 2018: random_pauli with the zz cost. At fixed n, Var[∂C/∂θ₀] falls with depth L
  and flattens once the circuit is deep enough to approximate a 2-design (order 12n layers
  here); the flattened values decay ≈ 2^-n.
- Cerezo 2021: the alternating layered ansatz at depth O(log n) keeps a local cost's
  gradient variance polynomial in n, while a global cost's decays exponentially.

Tolerances come from the estimator's own standard errors (SE = Var·sqrt((κ−1)/S), S
samples, κ the kurtosis) through the χ² convergence test and the fits' 95 % intervals.
"""
import math

import pytest

import qcgrad as qg

pytestmark = pytest.mark.filterwarnings("ignore::qcgrad.stats.HeavyTailWarning")


@pytest.fixture(scope="module")
def depth_scans():
    """Var vs L for n = 4, 6, 8 at L = 2, 12n, 18n (S = 600 each: SE ≈ 6 % per point)."""
    return {n: qg.scan(lambda L, n=n: qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=L, cost="zz"),
                       [2, 12 * n, 18 * n], n_samples=600, seed=0)
            for n in (4, 6, 8)}


@pytest.mark.slow
def test_random_pauli_variance_flattens_with_depth(depth_scans):
    for n, s in depth_scans.items():
        assert s.knob == "n_layers"
        # Three χ² tests (one per n) at a family-wise 5 %: Bonferroni level 0.05 / 3.
        assert s.converged(tail=2, level=0.05 / 3), f"n={n}: Var at 12n and 18n layers differ beyond their errors"
        shallow, deep = s.estimates[0], s.estimates[-1]
        # Shallow circuits are far from the plateau: above it by more than 5 standard errors.
        assert shallow.variance - deep.variance > 5 * (shallow.se + deep.se)


@pytest.mark.slow
def test_random_pauli_plateau_decays_as_two_to_the_minus_n(depth_scans):
    ns = sorted(depth_scans)
    plateau = qg.Scan(knob="n_qubits", values=ns, estimates=[depth_scans[n].estimates[-1] for n in ns])
    fit = plateau.fit(kind="exponential")
    # Var ∝ b^-n with b = 2: ln 2 inside the 95 % interval of the rate.
    assert fit.rate_ci[0] < math.log(2) < fit.rate_ci[1], fit
    # And each plateau is the 2-design value of ∂θ₀ (McClean 2018; the circuit after the first
    # gate is a unitary 2-design): Var = d/(3(d²−1)), d = 2^n, within 4 of the estimate's own SE.
    for n, est in zip(ns, plateau.estimates, strict=True):
        d = 2**n
        assert abs(est.variance - d / (3 * (d**2 - 1))) < 4 * est.se, (n, est.variance, est.se)


@pytest.mark.slow
@pytest.mark.parametrize("cost, kind", [("local", "power"), ("global", "exponential")])
def test_alternating_layered_log_depth_local_is_polynomial_global_exponential(cost, kind):
    s = qg.scan(lambda n: qg.quantum.circuit("alternating_layered", n_qubits=n, n_layers=math.ceil(math.log2(n)),
                                             cost=cost),
                [2, 4, 6, 8, 10], n_samples=600, seed=0)
    assert s.fit().kind == kind
