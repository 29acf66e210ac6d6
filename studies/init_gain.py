"""
Initialization and the per-layer gradient gain (He et al. 2015; Glorot & Bengio 2010)
=====================================================================================

For a ReLU layer with weights of variance Var(W) the mean squared backward signal changes by the
gain n·Var(W)/2 per layer: He initialization (Var = 2/n) keeps it at 1, Xavier (Var = 1/n for a
square layer) halves it, so the first layer's gradient variance decays as 2^-L. A sigmoid has
σ' ≤ 1/4, so with Xavier weights the gain is at most 1/16 per layer: Var ∝ b^-L with b ≥ 16.

The study measures the first layer's gradient variance of MLPs against depth and reads the
per-layer base b (Var ∝ b^-L) off an exponential fit.
"""
# %%
import matplotlib.pyplot as plt

import qcgrad as qg
from qcgrad.plot import plot_series

study = qg.Study("init_gain", "He vs Xavier for ReLU, Xavier for sigmoid: per-layer gradient gain")
width = study.pick(64, 128)
depths = study.pick([2, 4, 6, 8, 10], [2, 4, 6, 8, 12, 16, 20])
n_samples = study.pick(200, 1000)

# %%
# Scans over depth
# ----------------
# The first layer's weights ("layer:0") are the classical counterpart of a circuit's first angle.
series = {
    "ReLU, He": (dict(activation="relu", init="he"), 1.0, "He et al. 2015: gain n·Var(W)/2 = 1"),
    "ReLU, Xavier": (dict(activation="relu", init="xavier"), 2.0, "Glorot & Bengio 2010 / He 2015: gain 1/2"),
    "sigmoid, Xavier": (dict(activation="sigmoid", init="xavier"), 16.0, "σ' ≤ 1/4: gain ≤ 1/16"),
}
scans, fits = {}, {}
for label, (knobs, expected, reference) in series.items():
    scans[label] = qg.scan(lambda d, k=knobs: qg.classical.mlp(depth=d, width=width, **k), depths,
                           n_samples=n_samples, seed=study.seed, params="layer:0")
    fits[label] = scans[label].fit("exponential")
    relation = "at_least" if label.startswith("sigmoid") else "equals"
    study.add(qg.claim_base(f"{label}: per-layer base b (Var ∝ b^-L)", reference, expected, fits[label],
                            relation=relation))

# %%
# Figure: the fitted lines through the measured variances
fig, ax = plt.subplots(figsize=(6.5, 4.5))
for label, sc in scans.items():
    plot_series(ax, sc.records(), label, fits[label])
ax.set_xlabel("depth L")
ax.set_ylabel("Var[∂C/∂W₀] (mean over the first layer)")
ax.legend(fontsize=7)
study.save_figure(fig)

# %%
study.finish({label: sc.records() for label, sc in scans.items()})
