"""
Noise-induced barren plateaus (Wang et al. 2021)
================================================

Wang, Fontana, Cerezo, Sharma, Sone, Cincio and Coles (*Nat. Commun.* 12, 6961, 2021) showed that
local noise alone flattens the landscape: with a local depolarizing channel of strength p on every
qubit after every layer, the gradient decays exponentially in the depth L, whatever the cost and
however trainable the noiseless circuit is.

In PennyLane's convention ρ → (1−p)ρ + (p/3)(XρX + YρY + ZρZ) every non-identity Pauli component
of the state shrinks by q = 1 − 4p/3 per layer, so :math:`|∂C/∂θ| ≲ q^L` and the variance decays at a
rate of at least 2|ln q| per layer. The study measures the rate for several p at fixed n and
compares it with that bound; without noise the variance of a deep circuit does not decay.
"""
# %%
import math

import matplotlib.pyplot as plt

import qcgrad as qg
from qcgrad.plot import plot_series

study = qg.Study("noise_induced", "Var vs depth under depolarizing noise; decay rate vs p")
n_qubits = 3
n_samples = study.pick(200, 600)
depths = study.pick([2, 4, 6, 8], [2, 4, 6, 8, 10, 12])
strengths = study.pick([0.05, 0.1], [0.02, 0.05, 0.1, 0.2])


def circuit(n_layers: int, noise: str | None):
    return qg.quantum.circuit("random_pauli", n_qubits=n_qubits, n_layers=n_layers, cost="zz", noise=noise)


# %%
# Var against depth for each noise strength
# -----------------------------------------
scans, fits = {}, {}
for p in strengths:
    scans[p] = qg.scan(lambda L, p=p: circuit(L, f"depolarizing:{p}"), depths, n_samples=n_samples,
                       seed=study.seed)
    fits[p] = scans[p].fit("exponential")
    bound = 2 * abs(math.log(1 - 4 * p / 3))
    study.add(qg.claim_value(f"p={p}: decay rate per layer ≥ 2|ln(1−4p/3)| = {bound:.3f}",
                             "Wang et al. 2021, Theorem 1", bound, fits[p].rate,
                             (fits[p].rate_ci[1] - fits[p].rate_ci[0]) / (2 * 1.96), relation="at_least"))

# %%
# Without noise: past the 2-design depth (about 12n layers) the variance is flat
noiseless = qg.scan(lambda L: circuit(L, None), study.pick([36, 48, 60], [36, 60, 90, 120]),
                    n_samples=3 * n_samples, seed=study.seed)
flat = noiseless.fit("exponential")
study.add(qg.claim_value("noiseless: no decay with depth (rate = 0)", "McClean 2018 (2-design limit)", 0.0,
                         flat.rate, (flat.rate_ci[1] - flat.rate_ci[0]) / (2 * 1.96)))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for p, sc in scans.items():
    plot_series(axes[0], sc.records(), f"p = {p}", fits[p])
plot_series(axes[0], noiseless.records(), "noiseless")
axes[0].set_xlabel("layers L")
axes[0].set_ylabel("Var[∂C/∂θ₀]")
axes[0].legend(fontsize=7)
ps = list(strengths)
axes[1].errorbar(ps, [fits[p].rate for p in ps],
                 yerr=[[fits[p].rate - fits[p].rate_ci[0] for p in ps],
                       [fits[p].rate_ci[1] - fits[p].rate for p in ps]],
                 fmt="o", label="measured rate (95 % CI)")
axes[1].plot(ps, [2 * abs(math.log(1 - 4 * p / 3)) for p in ps], "k:", label="bound 2|ln(1−4p/3)|")
axes[1].set_xlabel("depolarizing strength p")
axes[1].set_ylabel("decay rate per layer")
axes[1].legend(fontsize=7)
study.save_figure(fig)

# %%
study.finish({"noisy": {str(p): sc.records() for p, sc in scans.items()}, "noiseless": noiseless.records(),
              "rates": {str(p): f.to_dict() for p, f in fits.items()}})
