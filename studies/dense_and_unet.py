"""
Dense connections and U-Net skips keep the first layer close to the loss
========================================================================

A plain deep net reaches its first layer only through every layer above it, so the first layer's
gradient is a product of L Jacobians. DenseNet (Huang et al. 2017) feeds every layer's output to
every later layer and to the readout: the first layer has a path of length one to the output at
any depth. A U-Net (Ronneberger et al. 2015) connects each encoder level to the decoder level of
the same resolution, so the first encoder layer is two layers from the output however deep the
net is. Neither first-layer gradient vanishes with depth — with sigmoid units, where a plain net
loses a factor ≥ 16 per layer, the contrast is starkest.
"""
# %%
import matplotlib.pyplot as plt

import qcgrad as qg
from qcgrad.plot import plot_series

study = qg.Study("dense_and_unet", "First-layer gradient vs depth for DenseNet and U-Net skips")
n_samples = study.pick(100, 400)
depths = study.pick([2, 4, 8, 12], [2, 4, 8, 16, 24])
unet_depths = study.pick([1, 2, 3, 4], [1, 2, 3, 4, 5])


def scan(build, values):
    return qg.scan(build, values, n_samples=n_samples, seed=study.seed, params="layer:0")


# %%
series = {
    "plain MLP, sigmoid": scan(lambda d: qg.classical.mlp(depth=d, width=16, activation="sigmoid", init="xavier"),
                               depths),
    "DenseNet, sigmoid": scan(lambda d: qg.classical.densenet(depth=d, activation="sigmoid", init="xavier"), depths),
    "DenseNet, ReLU/He": scan(lambda d: qg.classical.densenet(depth=d), depths),
    "U-Net, sigmoid": scan(lambda d: qg.classical.unet(depth=d, activation="sigmoid", init="xavier"), unet_depths),
    "U-Net, ReLU/He": scan(lambda d: qg.classical.unet(depth=d), unet_depths),
}
fits = {label: sc.fit("exponential") for label, sc in series.items()}
study.add(qg.claim_base("plain sigmoid MLP: base ≥ 16 per layer", "σ' ≤ 1/4 (Glorot & Bengio 2010)", 16.0,
                        fits["plain MLP, sigmoid"], relation="at_least"))
for label in ("DenseNet, sigmoid", "DenseNet, ReLU/He"):
    study.add(qg.claim_base(f"{label}: no exponential decay with depth (base ≤ 1)",
                            "Huang et al. 2017 (direct paths to the output)", 1.0, fits[label], relation="at_most"))
for label in ("U-Net, sigmoid", "U-Net, ReLU/He"):
    study.add(qg.claim_base(f"{label}: no exponential decay with depth (base ≤ 1)",
                            "Ronneberger et al. 2015 (same-level skips)", 1.0, fits[label], relation="at_most"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for label, sc in series.items():
    ax = axes[1] if label.startswith("U-Net") else axes[0]
    plot_series(ax, sc.records(), label, fits[label])
axes[0].set_xlabel("layers")
axes[1].set_xlabel("U-Net levels")
for ax in axes:
    ax.set_ylabel("Var[∂C/∂W₀]")
    ax.legend(fontsize=7)
study.save_figure(fig)

# %%
study.finish({label: sc.records() for label, sc in series.items()})
