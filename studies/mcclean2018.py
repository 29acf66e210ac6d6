"""
Barren plateaus in random circuits (McClean et al. 2018)
========================================================

McClean, Boixo, Smelyanskiy, Babbush and Neven (*Nat. Commun.* 9, 4812, 2018) showed that the
gradient of a random parameterized circuit concentrates exponentially in the number of qubits.
Their circuits: an RY(π/4) layer, then layers of single-qubit rotations about random axes
(X, Y or Z, drawn per gate) followed by a chain of CZ gates; the cost ⟨Z₀Z₁⟩.

When the circuit after the first rotation is a unitary 2-design, the variance of ∂C/∂θ₀ has the
closed form (Haar average of Tr(A U X U†)² for traceless A, X, with Tr O² = d and
Tr X² = (1 − ⟨P⟩²)/2 averaged over the random axis P of the first gate, = 1/3):

.. math::  \\operatorname{Var}[\\partial_{\\theta_0} C] = \\frac{d}{3(d^2-1)}, \\qquad d = 2^n,

so Var ∝ 2^-n. Reaching the 2-design takes depth: at these sizes about 12n layers. The study
first shows Var against depth flattening onto the closed form (their Fig. 3), then Var against n
at converged depth (their Fig. 4).
"""
# %%
import matplotlib.pyplot as plt

import qcgrad as qg
from qcgrad.plot import plot_series

study = qg.Study("mcclean2018", "Random Pauli circuits: Var vs depth converging, Var vs n at 2-design depth")
n_samples = study.pick(300, 1000)
qubits = study.pick(range(2, 7), range(2, 11))
LAYERS_PER_QUBIT = 12


def two_design(n: int) -> float:
    d = 2**n
    return d / (3 * (d**2 - 1))


def circuit(n: int, n_layers: int):
    return qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=n_layers, cost="zz")


# %%
# Var against depth converges to the 2-design value
# -------------------------------------------------
depth_n = study.pick([4], [4, 6, 8])
depths = study.pick([2, 5, 10, 20, 48], [2, 5, 10, 20, 50, 100, 200])
depth_scans = {n: qg.scan(lambda L, n=n: circuit(n, L), depths, n_samples=n_samples, seed=study.seed)
               for n in depth_n}
for n, sc in depth_scans.items():
    study.add(qg.claim_variance(f"n={n}, L={depths[-1]}: Var[∂θ₀] = d/(3(d²−1))", "McClean 2018, 2-design",
                                two_design(n), sc.estimates[-1]))

# %%
# Var against qubits at depth 12n
# -------------------------------
width_scan = qg.scan(lambda n: circuit(n, LAYERS_PER_QUBIT * n), qubits, n_samples=n_samples, seed=study.seed)
for n, est in zip(width_scan.values, width_scan.estimates, strict=True):
    study.add(qg.claim_variance(f"n={n}, L=12n: Var[∂θ₀] = d/(3(d²−1))", "McClean 2018, 2-design",
                                two_design(n), est))
fit = width_scan.fit("exponential")
# The closed form is (1/3)·d/(d²−1): its log-slope in n is ln 2 only asymptotically; over n ≥ 2 the
# exact base of a least-squares line through the closed form is a little above 2.
study.add(qg.claim_base("Var ∝ b^-n with b = 2", "McClean 2018", 2.0, fit))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for n, sc in depth_scans.items():
    plot_series(axes[0], sc.records(), f"n={n}")
    axes[0].axhline(two_design(n), ls=":", color="k", lw=1)
axes[0].set_xscale("log")
axes[0].set_xlabel("layers L (dotted: 2-design value)")
plot_series(axes[1], width_scan.records(), "random Pauli, L = 12n", fit)
axes[1].plot(list(qubits), [two_design(n) for n in qubits], ":", color="k", lw=1, label="d/(3(d²−1))")
axes[1].set_xlabel("qubits n")
for ax in axes:
    ax.set_ylabel("Var[∂C/∂θ₀]")
    ax.legend(fontsize=7)
study.save_figure(fig)

# %%
study.finish({"depth": {n: sc.records() for n, sc in depth_scans.items()}, "qubits": width_scan.records()})
