"""
Memory: backprop through deep nets against the adjoint method for circuits
==========================================================================

Training a deep net by backpropagation keeps every layer's activations for the backward pass:
memory O(P + B·L·d) for P parameters, batch B, depth L and width d, against O(P + B·d) for
inference, which frees each activation once the next layer has it. Activation checkpointing
(Chen et al. 2016) keeps only the inputs of √L segments and recomputes the rest, O(P + √L·B·d).

A circuit simulator that differentiates by backpropagation pays the same O(L) price for its
states. The adjoint method (Jones & Gacon 2020) runs the circuit forward once, then walks it
backward applying inverse gates to two state vectors, so its memory is O(S·2^n) for S samples,
independent of the depth. qcgrad's engine uses it for all-parameter gradients.
"""
# %%
import math
from functools import partial

import matplotlib.pyplot as plt
import torch

import qcgrad as qg
from qcgrad.diagnostics import memory_profile, peak_bytes

study = qg.Study("memory", "Backprop memory vs depth for nets, with checkpointing; adjoint memory for circuits")
batch, width = 256, 32
depths = study.pick([4, 16, 64], [4, 8, 16, 32, 64, 128])
activation = batch * width * 8  # bytes of one float64 activation tensor [B, d]

# %%
# Deep nets: training vs inference vs checkpointing
# -------------------------------------------------
records = memory_profile(lambda d: qg.classical.mlp(depth=d, width=width, batch_size=batch), depths,
                         checkpoint=True, seed=study.seed)
first, last = records[0], records[-1]
# Peak bytes are counted exactly by a storage tracker: deterministic, so the standard error is 0.
study.add(qg.claim_value("inference: peak memory independent of depth (ratio deepest / shallowest)",
                         "O(P + B·d)", 1.0, last["inference_bytes"] / first["inference_bytes"], 0.0,
                         relation="at_most"))
per_layer = (last["train_bytes"] - records[-2]["train_bytes"]) / (last["depth"] - records[-2]["depth"])
study.add(qg.claim_value("training: bytes per extra layer ≥ one [B, d] activation", "O(P + B·L·d)",
                         activation, per_layer, 0.0, relation="at_least"))
L = last["depth"]
kept = (last["checkpoint_bytes"] - 2 * last["param_bytes"]) / activation
study.add(qg.claim_value(f"checkpointing, L={L}: activations kept ≤ 2√L", "Chen et al. 2016: O(√L)",
                         2 * math.sqrt(L), kept, 0.0, relation="at_most"))

# %%
# Circuits: the adjoint method's memory does not grow with depth
# ---------------------------------------------------------------
n_qubits, n_samples = study.pick((8, 50), (12, 200))
circuit_depths = study.pick([40, 160], [50, 100, 200, 400])
adjoint = []
for n_layers in circuit_depths:
    qc = qg.quantum.circuit("random_pauli", n_qubits=n_qubits, n_layers=n_layers, cost="zz")
    theta = qc.sample_params(torch.Generator().manual_seed(study.seed), n_samples)
    output = n_samples * qc.n_params * 8  # the returned gradient itself grows with depth
    adjoint.append({"n_layers": n_layers, "peak_bytes": peak_bytes(partial(qc.grad, theta)), "output_bytes": output})
working = [r["peak_bytes"] - r["output_bytes"] for r in adjoint]
study.add(qg.claim_value(f"adjoint gradients, n={n_qubits}: working memory at L={circuit_depths[-1]} / "
                         f"L={circuit_depths[0]} (target ±10 %)", "Jones & Gacon 2020: O(S·2^n)", 1.1,
                         working[-1] / working[0], 0.0, relation="at_most"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
d = [r["depth"] for r in records]
for key, label in (("train_bytes", "training step"), ("checkpoint_bytes", "training, √L checkpoints"),
                   ("inference_bytes", "inference")):
    axes[0].plot(d, [r[key] / 2**20 for r in records], "o-", label=label)
axes[0].set_xlabel(f"depth L (MLP, width {width}, batch {batch})")
axes[0].set_ylabel("peak MiB")
axes[1].plot(circuit_depths, [w / 2**20 for w in working], "o-", label="adjoint working memory")
axes[1].plot(circuit_depths, [r["output_bytes"] / 2**20 for r in adjoint], "s--", label="returned gradient")
axes[1].set_xlabel(f"layers L (random Pauli, n={n_qubits}, S={n_samples})")
for ax in axes:
    ax.legend(fontsize=7)
study.save_figure(fig)

# %%
study.finish({"nets": records, "circuits": adjoint})
