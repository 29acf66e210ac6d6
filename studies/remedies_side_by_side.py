"""
Remedies side by side: each classical fix next to its quantum counterpart
=========================================================================

The comparison qcgrad exists for. Deep nets and parameterized circuits lose their gradients for
different reasons — a product of Jacobians against concentration of measure — but the remedies
rhyme. For each pair the study measures the decay base b (Var ∝ b^-knob) of the baseline and of
the remedy, with the same estimator, and checks each against its closed form:

==============  =================================  =====================================
remedy          classical (knob: depth L)          quantum (knob: qubits n)
==============  =================================  =====================================
initialization  Xavier → He for ReLU: b 2 → 1      uniform → identity blocks: b 2 → 1
architecture    plain → residual: b ≥ 16 → ≤ 1     global → local cost: b 8/3 → power n^-2
optimizer       SGD → Adam: scale-free steps       gradient descent → quantum natural gradient
==============  =================================  =====================================

References: He et al. 2015; He et al. 2016; Kingma & Ba 2015; Grant et al. 2019; Cerezo et al.
2021; Stokes et al. 2020; McClean et al. 2018.
"""
# %%
import matplotlib.pyplot as plt
import numpy as np
import pennylane as qml

import qcgrad as qg
from qcgrad.plot import plot_series

study = qg.Study("remedies_side_by_side", "Each classical remedy next to its quantum counterpart")
n_samples = study.pick(200, 800)
depths = study.pick([2, 4, 6], [2, 4, 8, 12, 16])
qubits = study.pick([2, 3, 4], [2, 3, 4, 5, 6, 7, 8])
width = study.pick(64, 128)


def scan(build, values, params="first"):
    return qg.scan(build, values, n_samples=n_samples, seed=study.seed, params=params)


# %%
# Initialization: He ↔ identity blocks
# -------------------------------------
pairs = {
    "init": {
        "classical baseline": scan(lambda d: qg.classical.mlp(depth=d, width=width, activation="relu", init="xavier"),
                                   depths, "layer:0"),
        "classical remedy": scan(lambda d: qg.classical.mlp(depth=d, width=width, activation="relu", init="he"),
                                 depths, "layer:0"),
        "quantum baseline": scan(lambda n: qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=12 * n, cost="zz"),
                                 qubits),
        "quantum remedy": scan(lambda n: qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=12 * n, cost="zz",
                                                            init="identity_block"), qubits),
    },
    "architecture": {
        "classical baseline": scan(lambda d: qg.classical.mlp(depth=d, width=32, activation="sigmoid", init="xavier"),
                                   depths, "layer:0"),
        "classical remedy": scan(lambda d: qg.classical.resnet(depth=d, width=32, activation="sigmoid", init="xavier"),
                                 depths, "layer:0"),
        "quantum baseline": scan(lambda n: qg.quantum.circuit("tensor_product", n_qubits=n, cost="global"), qubits),
        "quantum remedy": scan(lambda n: qg.quantum.circuit("tensor_product", n_qubits=n, cost="local"), qubits),
    },
}
init, arch = pairs["init"], pairs["architecture"]
study.add(qg.claim_base("init, classical: ReLU Xavier b = 2", "He et al. 2015", 2.0,
                        init["classical baseline"].fit("exponential")))
study.add(qg.claim_base("init, classical: ReLU He b = 1", "He et al. 2015", 1.0,
                        init["classical remedy"].fit("exponential")))
study.add(qg.claim_base("init, quantum: uniform b = 2 (2-design)", "McClean et al. 2018", 2.0,
                        init["quantum baseline"].fit("exponential")))
study.add(qg.claim_base("init, quantum: identity blocks b = 1", "Grant et al. 2019", 1.0,
                        init["quantum remedy"].fit("exponential")))
study.add(qg.claim_base("architecture, classical: plain sigmoid b ≥ 16", "σ' ≤ 1/4", 16.0,
                        arch["classical baseline"].fit("exponential"), relation="at_least"))
study.add(qg.claim_base("architecture, classical: residual sigmoid b ≤ 1", "He et al. 2016", 1.0,
                        arch["classical remedy"].fit("exponential"), relation="at_most"))
study.add(qg.claim_base("architecture, quantum: global cost b = 8/3", "Cerezo et al. 2021", 8 / 3,
                        arch["quantum baseline"].fit("exponential")))
study.add(qg.claim_base("architecture, quantum: local cost ∝ n^-2", "Cerezo et al. 2021", 2.0,
                        arch["quantum remedy"].fit("power")))

# %%
# Optimizer: Adam ↔ quantum natural gradient
# -------------------------------------------
runs, steps = study.pick((4, 30), (8, 80))
net = qg.classical.mlp(depth=20, width=8, activation="sigmoid", init="normal", std=1.0, in_dim=4, batch_size=16)
net.targets = net.inputs[:, :1].clone()
floor = float(((net.targets - net.targets.mean()) ** 2).mean())
sgd = qg.train(net, "sgd", steps=2 * steps, n_runs=runs, lr=0.3, seed=study.seed)
adam = qg.train(net, "adam", steps=2 * steps, n_runs=runs, lr=0.01, seed=study.seed)
adam_final = adam.loss[-1]
study.add(qg.claim_value("optimizer, classical: Adam below the floor SGD cannot leave", "Kingma & Ba 2015", floor,
                         float(adam_final.mean()), float(adam_final.std() / runs**0.5), relation="at_most"))
n = 4
hamiltonian = qg.quantum.tfim(n)
e0 = float(np.linalg.eigvalsh(qml.matrix(hamiltonian, wire_order=range(n)))[0])
vqe = qg.quantum.circuit("hardware_efficient", n_qubits=n, n_layers=3, cost=hamiltonian, init="small_angle")
gd = qg.train(vqe, "sgd", steps=steps, n_runs=runs, lr=0.05, seed=study.seed)
qng = qg.train(vqe, "qng", steps=steps, n_runs=runs, lr=0.05, seed=study.seed, approx="full")
gd_steps = gd.steps_to(e0 + 0.3).double()
gd_steps[gd_steps < 0] = steps
qng_steps = qng.steps_to(e0 + 0.3).double()
ratio = qng_steps[qng_steps >= 0] / gd_steps[qng_steps >= 0]
study.add(qg.claim_value("optimizer, quantum: QNG reaches E₀+0.3 in fewer steps (ratio to GD)", "Stokes et al. 2020",
                         1.0, float(ratio.mean()), float(ratio.std() / max(len(ratio), 1) ** 0.5), relation="at_most"))

# %%
fig, axes = plt.subplots(2, 3, figsize=(16, 8))
for col, (name, scans) in enumerate(pairs.items()):
    for side, row in (("classical", 0), ("quantum", 1)):
        ax = axes[row, col]
        for kind in ("baseline", "remedy"):
            sc = scans[f"{side} {kind}"]
            plot_series(ax, sc.records(), f"{kind}: {sc.estimates[0].model.get('init', '')}"
                        f" {sc.estimates[0].model.get('architecture', sc.estimates[0].model.get('cost', ''))}")
        ax.set_title(f"{name}, {side}")
        ax.set_xlabel(sc.knob)
        ax.legend(fontsize=6)
axes[0, 2].plot(sgd.loss.median(1).values.numpy(), label="SGD")
axes[0, 2].plot(adam.loss.median(1).values.numpy(), label="Adam")
axes[0, 2].axhline(floor, color="k", ls=":", lw=1)
axes[0, 2].set_title("optimizer, classical: deep sigmoid MLP")
axes[1, 2].plot(gd.loss.median(1).values.numpy(), label="gradient descent")
axes[1, 2].plot(qng.loss.median(1).values.numpy(), label="QNG")
axes[1, 2].axhline(e0, color="k", ls=":", lw=1)
axes[1, 2].set_title(f"optimizer, quantum: TFIM VQE, n={n}")
for ax in axes[:, 2]:
    ax.set_xlabel("step")
    ax.legend(fontsize=7)
fig.tight_layout()
study.save_figure(fig)

# %%
study.finish({name: {k: sc.records() for k, sc in scans.items()} for name, scans in pairs.items()}
             | {"floor": floor, "e0": e0})
