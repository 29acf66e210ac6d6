"""
Residual connections, BatchNorm and zero-γ (He et al. 2016; Zhang, Dauphin & Ma 2019)
=====================================================================================

A residual block y = x + F(x) has the Jacobian I + J_F: the identity path carries the gradient
to early layers whatever F does, so a residual net with sigmoid units does not vanish where the
plain sigmoid MLP loses a factor ≥ 16 per layer (He et al. 2016).

The identity path is not free, though. With He-initialized ReLU branches and no normalization,
each block *adds* a branch whose backward gain is 2 (weights 2/n, ReLU mask ½, weights 2/n), so
E‖δ‖² grows by a factor 3 per block and the first block's gradient variance explodes at least as
3^L (Zhang, Dauphin & Ma 2019, the motivation of Fixup). BatchNorm tames the forward pass; a
zero-initialized last BatchNorm scale (zero-γ; Goyal et al. 2017) makes every block exactly the
identity at initialization, so the gradient neither vanishes nor explodes with depth.
"""
# %%
import matplotlib.pyplot as plt

import qcgrad as qg
from qcgrad.plot import plot_series

study = qg.Study("residual", "Plain vs ResNet vs BatchNorm vs zero-γ: per-layer gradient profiles")
n_samples = study.pick(100, 400)
width = study.pick(32, 128)


def scan(build, values):
    return qg.scan(build, values, n_samples=n_samples, seed=study.seed, params="layer:0")


# %%
# Sigmoid units: plain MLP against a residual net
# -----------------------------------------------
sig_depths = study.pick([2, 6, 12, 25], [2, 6, 12, 25, 50])
plain = scan(lambda d: qg.classical.mlp(depth=d, width=width, activation="sigmoid", init="xavier"), sig_depths)
residual = scan(lambda d: qg.classical.resnet(depth=d, width=width, activation="sigmoid", init="xavier"), sig_depths)
fit_plain, fit_res = plain.fit("exponential"), residual.fit("exponential")
study.add(qg.claim_base("plain sigmoid MLP: per-layer base ≥ 16 (σ' ≤ 1/4)", "Glorot & Bengio 2010", 16.0,
                        fit_plain, relation="at_least"))
study.add(qg.claim_base("sigmoid ResNet: no exponential decay (base ≤ 1)", "He et al. 2016, identity shortcut",
                        1.0, fit_res, relation="at_most"))

# %%
# He/ReLU residual nets: none, BatchNorm, zero-γ
# ----------------------------------------------
relu_depths = study.pick([1, 2, 3, 4], [1, 2, 3, 4, 5, 6])
variants = {"no normalization": dict(), "BatchNorm": dict(batchnorm=True),
            "BatchNorm, zero-γ": dict(batchnorm=True, zero_gamma=True)}
relu = {label: scan(lambda d, k=knobs: qg.classical.resnet(depth=d, width=width, activation="relu", init="he", **k),
                    relu_depths) for label, knobs in variants.items()}
fits = {label: sc.fit("exponential") for label, sc in relu.items()}
study.add(qg.claim_base("He/ReLU ResNet without normalization explodes: base ≤ 1/3 per block",
                        "Zhang et al. 2019 (backward gain 1 + 2 per block)", 1 / 3, fits["no normalization"],
                        relation="at_most"))
study.add(qg.claim_base("zero-γ ResNet: identity at init, base = 1", "Goyal et al. 2017; Zhang et al. 2019",
                        1.0, fits["BatchNorm, zero-γ"]))

# %%
# Per-layer profiles at one depth
# -------------------------------
depth = relu_depths[-1]
profiles = {label: qg.layer_profile(qg.classical.resnet(depth=depth, width=width, activation="relu", init="he", **k),
                                    n_samples=n_samples, seed=study.seed) for label, k in variants.items()}

# %%
fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
plot_series(axes[0], plain.records(), "plain sigmoid MLP", fit_plain)
plot_series(axes[0], residual.records(), "sigmoid ResNet", fit_res)
axes[0].set_xlabel("depth")
for label, sc in relu.items():
    plot_series(axes[1], sc.records(), f"He/ReLU ResNet, {label}", fits[label])
axes[1].set_xlabel("blocks")
for label, prof in profiles.items():
    axes[2].semilogy(range(len(prof.variance)), prof.variance, "o-", label=label)
axes[2].set_xlabel(f"block (depth {depth})")
for ax in axes:
    ax.set_ylabel("Var[∂C/∂W]")
    ax.legend(fontsize=7)
study.save_figure(fig)

# %%
study.finish({"plain_sigmoid": plain.records(), "resnet_sigmoid": residual.records(),
              **{f"relu_{label}": sc.records() for label, sc in relu.items()},
              "profiles": {label: [float(v) for v in p.variance] for label, p in profiles.items()}})
