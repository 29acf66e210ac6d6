"""
Vanishing gradients and barren plateaus on one figure
=====================================================

The comparison qcgrad exists for. A deep net's gradient is a product of L layer Jacobians and
decays as b^-L with a base set by the activation and the initialization; a parameterized
circuit's gradient concentrates as b^-n in the number of qubits once the circuit is a 2-design,
or polynomially when the cost is local and the circuit shallow. The same estimator, the same
intervals and the same decay fit measure both:

- MLPs against depth: ReLU with He init keeps the gain at 1 (b = 1; He et al. 2015), sigmoid with
  Xavier init loses at least a factor 16 per layer (σ' ≤ 1/4), tanh with Xavier sits near the
  edge of chaos (Poole et al. 2016), where the decay is slow;
- circuits against qubits: McClean's random circuits at depth 12n (b = 2), Cerezo's tensor-product
  ansatz with the global cost (b = 8/3) and the local cost (Var = 1/(8n²), a power law).
"""
# %%
import matplotlib.pyplot as plt

import qcgrad as qg
from qcgrad.compare import headline_series, run_series
from qcgrad.plot import plot_series
from qcgrad.theory.compare import theory_fit

study = qg.Study("vanishing_vs_barren", "Deep nets vs depth and circuits vs qubits on one figure, with fitted rates")
n_samples = study.pick(200, 1000)
series = headline_series(max_depth=study.pick(16, 64), max_qubits=study.pick(5, 10), width=study.pick(32, 64))
results = {s.label: run_series(s, n_samples=n_samples, seed=study.seed) for s in series}

# %%
# Claims: each fitted base against its closed form
# ------------------------------------------------
expected = {
    "MLP ReLU, He": (1.0, "equals", "He et al. 2015: gain 1 per layer"),
    "MLP sigmoid, Xavier": (16.0, "at_least", "σ' ≤ 1/4: base ≥ 16 per layer"),
    "random Pauli, ZZ, L=12n": (2.0, "equals", "McClean et al. 2018: 2-design, 2^-n"),
    "tensor product, global cost": (8 / 3, "equals", "Cerezo et al. 2021: (1/8)(3/8)^(n-1)"),
}
for label, (value, relation, reference) in expected.items():
    fit = results[label].scan.fit("exponential")
    study.add(qg.claim_base(f"{label}: base b (Var ∝ b^-knob)", reference, value, fit, relation=relation))
local = results["tensor product, local cost"].scan.fit("power")
study.add(qg.claim_base("tensor product, local cost: Var ∝ n^-2", "Cerezo et al. 2021: 1/(8n²)", 2.0, local))

# %%
# Claims: the theory next to each measurement
# -------------------------------------------
# qcgrad.theory predicts every point it can (mean field for the MLPs, the Lie algebra for the
# circuits); the fitted base of the predictions is the theory's decay base.
for label in ("MLP tanh, Xavier", "MLP sigmoid, Xavier"):
    r = results[label]
    theory = theory_fit(r.scan.values, [t["predicted"] for t in r.theory], "exponential", r.scan.knob)
    study.add(qg.claim_base(f"{label}: base = mean-field prediction {theory.base:.3g}",
                            "Poole et al. 2016; Schoenholz et al. 2017", theory.base, r.scan.fit("exponential")))

# %%
fig, axes = plt.subplots(1, 3, figsize=(17, 4.5))
panels = {"classical: depth": axes[0], "quantum: qubits": axes[1], "quantum: layers (convergence)": axes[2]}
for r in results.values():
    ax = panels[r.series.panel]
    plot_series(ax, r.records(), r.series.label, r.fit)  # dashed: the theory at each point
    ax.set_xlabel(r.scan.knob)
    ax.set_title(r.series.panel)
for ax in axes:
    ax.set_ylabel("Var[∂C/∂θ] (95 % CI)")
    ax.legend(fontsize=6)
axes[2].set_xscale("log")
study.save_figure(fig)

# %%
study.finish({label: {"records": r.records(), **r.row()} for label, r in results.items()})
