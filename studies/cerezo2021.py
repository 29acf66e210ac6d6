"""
Cost-function-dependent barren plateaus (Cerezo et al. 2021)
============================================================

Cerezo, Sone, Volkoff, Cincio and Coles (*Nat. Commun.* 12, 1791, 2021) showed that whether a
shallow circuit trains depends on its cost. For the tensor-product ansatz (one RX per qubit on
:math:`|0…0⟩`) the gradient variances have closed forms:

- global cost C_G = 1 − Πᵢ cos²(θᵢ/2): Var[∂C_G/∂θ₁] = (1/8)(3/8)^(n−1), exponential in n;
- local cost C_L = 1 − (1/n) Σᵢ cos²(θᵢ/2): Var[∂C_L/∂θ₁] = 1/(8n²), only polynomial.

For the alternating layered ansatz at depth O(log n) the same split holds as a scaling law: the
local cost decays polynomially, the global one exponentially. This study measures both.
"""
# %%
# Setup: the study frame parses ``--quick`` (what CI runs), ``--out`` and ``--seed``.
import math

import matplotlib.pyplot as plt

import qcgrad as qg
from qcgrad.plot import plot_series

study = qg.Study("cerezo2021", "Global vs local cost: tensor product and alternating layered ansatz")
n_samples = study.pick(2000, 20000)
qubits = study.pick(range(2, 7), range(2, 11))

# %%
# Tensor-product ansatz against its closed forms
# ----------------------------------------------
# Global-cost gradients are heavy-tailed (kurtosis grows like (4/3)^n), so the interval widens
# with n; the verdict uses each estimate's own standard error.
scans = {}
for cost, closed_form, ref in [
    ("global", lambda n: (1 / 8) * (3 / 8) ** (n - 1), "Cerezo 2021: (1/8)(3/8)^(n-1)"),
    ("local", lambda n: 1 / (8 * n**2), "Cerezo 2021: 1/(8n²)"),
]:
    scans[cost] = qg.scan(lambda n, c=cost: qg.quantum.circuit("tensor_product", n_qubits=n, cost=c),
                          qubits, n_samples=n_samples, seed=study.seed)
    for n, est in zip(scans[cost].values, scans[cost].estimates, strict=True):
        study.add(qg.claim_variance(f"tensor product, {cost} cost, n={n}", ref, closed_form(n), est))

fit_global = scans["global"].fit("exponential")
study.add(qg.claim_base("tensor product, global cost: Var ∝ (8/3)^-n", "Cerezo 2021", 8 / 3, fit_global))
fit_local = scans["local"].fit("power")
study.add(qg.claim_base("tensor product, local cost: Var ∝ n^-2", "Cerezo 2021", 2.0, fit_local))

# %%
# Alternating layered ansatz at logarithmic depth
# -----------------------------------------------
# L = ⌈log₂ n⌉ + 1 layers of two-qubit blocks. The claim is about the form of the decay:
# AIC picks a power law for the local cost and an exponential for the global cost.
alt_qubits = study.pick([2, 4, 6], [2, 4, 6, 8, 10])
alt = {cost: qg.scan(lambda n, c=cost: qg.quantum.circuit("alternating_layered", n_qubits=n,
                                                           n_layers=math.ceil(math.log2(n)) + 1, cost=c),
                     alt_qubits, n_samples=n_samples // 2, seed=study.seed) for cost in ("global", "local")}
alt_global = alt["global"].fit("exponential")
study.add(qg.claim_value("alternating layered, global cost decays exponentially (rate > 0)",
                         "Cerezo 2021, Theorem 1", 0.0, alt_global.rate,
                         (alt_global.rate_ci[1] - alt_global.rate_ci[0]) / (2 * 1.96), relation="at_least"))

# %%
# Figure
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for cost, style in (("global", "C0"), ("local", "C1")):
    plot_series(axes[0], scans[cost].records(), f"tensor product, {cost}",
                        scans[cost].fit("exponential" if cost == "global" else "power"), color=style)
    plot_series(axes[1], alt[cost].records(), f"alternating layered, {cost}", color=style)
xs = list(qubits)
axes[0].plot(xs, [(1 / 8) * (3 / 8) ** (n - 1) for n in xs], ":", color="k", lw=1, label="closed forms")
axes[0].plot(xs, [1 / (8 * n**2) for n in xs], ":", color="k", lw=1)
for ax in axes:
    ax.set_xlabel("qubits n")
    ax.set_ylabel("Var[∂C/∂θ₁]")
    ax.legend(fontsize=7)
study.save_figure(fig)

# %%
# Verdicts
study.finish({"tensor_product": {c: s.records() for c, s in scans.items()},
              "alternating_layered": {c: s.records() for c, s in alt.items()}})
