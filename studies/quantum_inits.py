"""
Initialization strategies against barren plateaus (Grant 2019; Skolik 2021)
===========================================================================

Uniformly random angles turn a deep circuit into a 2-design and its gradient into 2^-n noise
(McClean et al. 2018). Three remedies change where training starts:

- **identity blocks** (Grant, Wossnig, Ostaszewski & Benedetti 2019): every second layer starts as
  the inverse of the one before, so the whole circuit starts as the identity. The gradient of the
  first angle then involves only the gates on its own qubit and the cost's support, so it does not
  depend on n at all;
- **small angles** (σ = 0.1): the circuit starts near a Clifford circuit that keeps Z₀Z₁ local,
  and the gradient stays far above the 2-design value;
- **layerwise training** (Skolik, McClean, Mohseni, van der Smagt & Leib 2021): train a few layers
  at a time, so every stage optimizes a shallow circuit.
"""
# %%
import matplotlib.pyplot as plt
import torch

import qcgrad as qg
from qcgrad.plot import plot_series

study = qg.Study("quantum_inits", "Identity blocks, small angles and layerwise training vs uniform init")
n_samples = study.pick(300, 1000)
qubits = study.pick([2, 3, 4, 5], [2, 4, 6, 8, 10])


def two_design(n: int) -> float:
    d = 2**n
    return d / (3 * (d**2 - 1))


def circuit(n: int, init: str, n_layers: int | None = None):
    return qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=n_layers or 12 * n, cost="zz", init=init)


# %%
# Gradient variance at initialization against n
# ----------------------------------------------
scans = {init: qg.scan(lambda n, i=init: circuit(n, i), qubits, n_samples=n_samples, seed=study.seed)
         for init in ("uniform", "identity_block", "small_angle:sigma=0.1")}
fits = {init: sc.fit("exponential") for init, sc in scans.items()}
study.add(qg.claim_base("uniform: Var ∝ 2^-n", "McClean et al. 2018", 2.0, fits["uniform"]))
study.add(qg.claim_base("identity blocks: Var independent of n (base 1)", "Grant et al. 2019", 1.0,
                        fits["identity_block"]))
n_max, small = qubits[-1], scans["small_angle:sigma=0.1"].estimates[-1]
study.add(qg.claim_variance(f"small angles, n={n_max}: Var above the plateau's 2-design value d/(3(d²−1))",
                            "McClean 2018 (2-design); Zhang et al. 2022", two_design(n_max), small,
                            relation="at_least"))
small_fit = fits["small_angle:sigma=0.1"]
study.add(qg.claim_base("small angles: slower decay than the 2-design's 2^-n (base < 2)",
                        "Zhang et al. 2022 (Gaussian initialization)", 2.0, small_fit, relation="at_most"))

# %%
# Layerwise training against training all layers at once
# -------------------------------------------------------
# A VQE-style task: minimize ⟨Z₀Z₁⟩ (minimum −1) with Adam, the same number of steps in total.
n, n_layers, steps, runs = study.pick((4, 8, 40, 4), (6, 12, 80, 8))
vqe = circuit(n, "uniform", n_layers)
full = qg.train(vqe, "adam", steps=steps, n_runs=runs, lr=0.1, seed=study.seed)
layerwise = qg.quantum.layerwise_train(vqe, "adam", layers_per_stage=2, steps_per_stage=steps // (n_layers // 2),
                                       n_runs=runs, lr=0.1, seed=study.seed)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for init, sc in scans.items():
    plot_series(axes[0], sc.records(), init, fits[init])
axes[0].plot(qubits, [two_design(q) for q in qubits], "k:", lw=1, label="2-design d/(3(d²−1))")
axes[0].set_xlabel("qubits n (L = 12n)")
axes[0].set_ylabel("Var[∂C/∂θ₀] at init")
axes[0].legend(fontsize=7)
axes[1].plot(full.loss.mean(1).numpy(), label="all layers, uniform init")
axes[1].plot(layerwise.loss.mean(1).numpy(), label="layerwise (2 layers per stage)")
axes[1].set_xlabel("step")
axes[1].set_ylabel("⟨Z₀Z₁⟩ (mean over runs)")
axes[1].legend(fontsize=7)
study.save_figure(fig)

# %%
study.finish({init: sc.records() for init, sc in scans.items()} | {
    "train_full_final": full.loss[-1].tolist(), "train_layerwise_final": layerwise.loss[-1].tolist(),
    "layerwise_minus_full": float(torch.mean(layerwise.loss[-1] - full.loss[-1]))})
