"""
Optimizers against vanishing gradients: Adam, QNG and clipping
==============================================================

Three remedies that act on the update rather than the model:

- **Adam** (Kingma & Ba 2015) divides each entry of the gradient by a running RMS of itself, so
  its first step is :math:`−lr·g/(|g| + ε)`: every parameter moves by ≈ lr whatever the gradient's
  scale. On a deep sigmoid net whose first layers see gradients 10⁷ times smaller than the last,
  SGD leaves the early layers where they started; Adam moves them.
- **Quantum natural gradient** (Stokes, Izaac, Killoran & Carleo 2020) preconditions with the
  Fubini–Study metric of the circuit's state: the step follows the geometry of the state, not of
  the angles, and reaches low energy in fewer steps than gradient descent at the same rate.
- **Gradient clipping** (Pascanu, Mikolov & Bengio 2013) rescales an exploding gradient to a
  fixed norm and keeps its direction exactly.
"""
# %%
import matplotlib.pyplot as plt
import numpy as np
import pennylane as qml
import torch

import qcgrad as qg
from qcgrad.optim import clip_by_global_norm

study = qg.Study("optimizers", "SGD/momentum/RMSprop/Adam on a deep sigmoid net, QNG on a VQE, clipping")
runs = study.pick(8, 16)
# float64 rounding of one update: a few ulps of the parameters' magnitude.
ROUNDING = 1e-12

# %%
# Adam's first step is scale-free
# -------------------------------
# 20 sigmoid layers of width 8 with N(0, 1) weights: first-layer gradients ~1e-7. The target is
# the first input coordinate, so only the early layers can take the loss below the "floor", the
# variance of the targets, which the last layers reach alone.
net = qg.classical.mlp(depth=20, width=8, activation="sigmoid", init="normal", std=1.0, in_dim=4, batch_size=16)
net.targets = net.inputs[:, :1].clone()
floor = float(((net.targets - net.targets.mean()) ** 2).mean())
first = net.param_groups["layer:0"]
one_step = qg.train(net, "adam", steps=1, n_runs=runs, lr=0.01, seed=study.seed)
g = net.grad(one_step.initial_params)[:, first]
moved = (one_step.params - one_step.initial_params)[:, first].abs() / 0.01
eps = 1e-8  # Adam's default ε
study.add(qg.claim_value("Adam, first step: |Δθ|/lr = |g|/(|g|+ε) on the first layer (mean)",
                         "Kingma & Ba 2015 (closed form)", float((g.abs() / (g.abs() + eps)).mean()),
                         float(moved.mean()), ROUNDING))

steps = study.pick(100, 200)
curves = {name: qg.train(net, name, steps=steps, n_runs=runs, lr=lr, seed=study.seed)
          for name, lr in (("sgd", 0.3), ("momentum", 0.03), ("rmsprop", 0.01), ("adam", 0.01))}
final = {name: r.loss[-1] for name, r in curves.items()}
sem = {name: float(v.std() / len(v) ** 0.5) for name, v in final.items()}
study.add(qg.claim_value("SGD stays at the floor (mean final loss ≥ floor·0.99)", "vanishing early-layer gradients",
                         0.99 * floor, float(final["sgd"].mean()), sem["sgd"], relation="at_least"))
study.add(qg.claim_value("Adam goes below the floor (mean final loss < floor)", "Kingma & Ba 2015",
                         floor, float(final["adam"].mean()), sem["adam"], relation="at_most"))

# %%
# Quantum natural gradient on a VQE
# ---------------------------------
n = 4
hamiltonian = qg.quantum.tfim(n)
e0 = float(np.linalg.eigvalsh(qml.matrix(hamiltonian, wire_order=range(n)))[0])
vqe = qg.quantum.circuit("hardware_efficient", n_qubits=n, n_layers=3, cost=hamiltonian, init="small_angle")
vqe_steps = study.pick(40, 80)
target = e0 + 0.3
gd = qg.train(vqe, "sgd", steps=vqe_steps, n_runs=runs, lr=0.05, seed=study.seed)
qng = qg.train(vqe, "qng", steps=vqe_steps, n_runs=runs, lr=0.05, seed=study.seed, approx="full")
gd_steps, qng_steps = gd.steps_to(target).double(), qng.steps_to(target).double()
gd_steps[gd_steps < 0] = vqe_steps  # not reached: counted as the whole budget (a lower bound)
reached = qng_steps >= 0
ratio = qng_steps[reached] / gd_steps[reached]
study.add(qg.claim_value(f"QNG reaches E₀+0.3 in fewer steps than GD (steps ratio, {int(reached.sum())}/{runs} runs)",
                         "Stokes et al. 2020", 1.0, float(ratio.mean()),
                         float(ratio.std() / max(len(ratio), 1) ** 0.5), relation="at_most"))

# %%
# Clipping an exploding recurrent gradient
# ----------------------------------------
rnn = qg.classical.rnn(seq_len=30, width=16, spectral_radius=1.5, input_scale=0.01)
grads = rnn.grad(rnn.sample_params(torch.Generator().manual_seed(study.seed), runs))
clipped = clip_by_global_norm(grads, 1.0)  # per run (row): each row scaled to norm 1
cosine = (clipped * grads).sum(1) / (clipped.norm(dim=1) * grads.norm(dim=1))
study.add(qg.claim_value("clipping keeps the direction: min cos(clip(g), g) = 1", "Pascanu et al. 2013 (exact)",
                         1.0, float(cosine.min()), ROUNDING))
study.add(qg.claim_value("clipped norm = threshold 1 (max |‖clip(g)‖ − 1|)", "Pascanu et al. 2013 (exact)",
                         0.0, float((clipped.norm(dim=1) - 1).abs().max()), ROUNDING))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for name, r in curves.items():
    axes[0].plot(r.loss.median(1).values.numpy(), label=name)
axes[0].axhline(floor, color="k", ls=":", lw=1, label="floor (targets' variance)")
axes[0].set_xlabel("step")
axes[0].set_ylabel("loss (median over runs)")
axes[0].set_title("deep sigmoid MLP")
for name, r in (("gradient descent", gd), ("QNG", qng)):
    axes[1].plot(r.loss.median(1).values.numpy(), label=name)
axes[1].axhline(e0, color="k", ls=":", lw=1, label="E₀")
axes[1].set_xlabel("step")
axes[1].set_ylabel("energy (median over runs)")
axes[1].set_title(f"TFIM VQE, n={n}")
for ax in axes:
    ax.legend(fontsize=7)
study.save_figure(fig)

# %%
study.finish({"floor": floor, "final_loss": {k: v.tolist() for k, v in final.items()}, "e0": e0,
              "steps_to_target": {"gd": gd.steps_to(target).tolist(), "qng": qng.steps_to(target).tolist()},
              "max_grad_norm_rnn": float(grads.norm(dim=1).max())})
