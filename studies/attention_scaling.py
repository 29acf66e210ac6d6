"""
Softmax saturation and the 1/√d of scaled dot-product attention (Vaswani et al. 2017)
=====================================================================================

Attention weights are softmax(q·kᵀ/√d). For queries and keys with unit-variance entries the
logits q·k have variance d: without the 1/√d they grow with the width, the softmax tends to
one-hot and its Jacobian diag(p) − ppᵀ — the factor every gradient through attention passes —
vanishes. The norm is ≈ √2·e^(−gap) with gap the distance between the two largest logits,
√d times an O(1) gap whose density is finite at 0, so E‖J‖ ∝ d^(−1/2) (Vaswani et al. 2017,
footnote 4). With the scaling the logits have unit variance at every d and the Jacobian's norm
does not depend on d. A temperature T < 1 saturates the softmax the same way. With two keys the
whole curve has a closed form: ‖J‖_F = 2p(1−p) with p = σ(Δ) and Δ = (s₁ − s₂)/T ~ N(0, 2/T²) for
scaled logits, so E‖J‖_F = 2·E[σ(Δ)σ(−Δ)], a one-dimensional Gaussian integral.
"""
# %%
import math

import matplotlib.pyplot as plt
import torch
from scipy import integrate, special
from scipy.stats import norm as standard_normal

import qcgrad as qg

study = qg.Study("attention_scaling", "Softmax Jacobian vs width with and without 1/√d, and vs temperature")
n_draws = study.pick(1000, 4000)
dims = [64, 256, 1024, 4096]
temperatures = [0.01, 0.1, 1.0, 10.0]
# Few keys: the gap between the two largest logits is O(1) wide, so the d^(-1/2) law holds from d ≈ 64.
N_KEYS = 4


def jacobian_norms(d: int, scale: bool, temperature: float = 1.0, n_keys: int = N_KEYS) -> tuple[float, float]:
    """Mean Frobenius norm of ∂softmax/∂logits over random q, k, and its standard error."""
    gen = torch.Generator().manual_seed(study.seed * 100003 + d)
    q = torch.randn(n_draws, 1, d, generator=gen, dtype=torch.float64)
    k = torch.randn(n_draws, n_keys, d, generator=gen, dtype=torch.float64)
    p = qg.classical.attention_weights(q, k, scale=scale, temperature=temperature)[:, 0]
    norms = torch.linalg.matrix_norm(torch.diag_embed(p) - p[:, :, None] * p[:, None, :])
    return norms.mean().item(), norms.std().item() / math.sqrt(n_draws)


def two_key_norm(temperature: float) -> float:
    """2·E[σ(Δ)σ(−Δ)], Δ ~ N(0, 2/T²): the exact mean Jacobian norm with two keys."""
    sd = math.sqrt(2) / temperature
    value, _ = integrate.quad(lambda z: special.expit(sd * z) * special.expit(-sd * z) * standard_normal.pdf(z),
                              -12.0, 12.0, points=[0.0], limit=200)  # N(0,1) mass beyond ±12: < 1e-32
    return 2 * value


def power_fit(x, stats):
    return qg.fit_decay(x, [m for m, _ in stats], [se / m for m, se in stats], kind="power", knob="x")


# %%
unscaled = [jacobian_norms(d, scale=False) for d in dims]
scaled = [jacobian_norms(d, scale=True) for d in dims]
cold = [jacobian_norms(4096, scale=True, temperature=t, n_keys=2) for t in temperatures]
study.add(qg.claim_base("unscaled logits: E‖J‖ ∝ d^-1/2", "Vaswani et al. 2017 (gap argument)", 0.5,
                        power_fit(dims, unscaled)))
study.add(qg.claim_base("scaled logits: E‖J‖ independent of d (exponent 0)", "Vaswani et al. 2017", 0.0,
                        power_fit(dims, scaled)))
for t, (mean, se) in zip(temperatures, cold, strict=True):
    study.add(qg.claim_value(f"two keys, T={t:g}: E‖J‖_F = 2E[σ(Δ)σ(−Δ)]", "closed form (Gaussian integral)",
                             two_key_norm(t), mean, se))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for stats, label in ((unscaled, "q·k (unscaled)"), (scaled, "q·k/√d")):
    axes[0].errorbar(dims, [m for m, _ in stats], yerr=[2 * se for _, se in stats], fmt="o-", label=label)
axes[0].set_xscale("log")
axes[0].set_yscale("log")
axes[0].set_xlabel("width d")
axes[1].errorbar(temperatures, [m for m, _ in cold], yerr=[2 * se for _, se in cold], fmt="o-")
axes[1].set_xscale("log")
axes[1].set_yscale("log")
axes[1].plot(temperatures, [two_key_norm(t) for t in temperatures], "k:", label="closed form")
axes[1].set_xlabel("temperature T (two keys, d = 4096, scaled)")
for ax in axes:
    ax.set_ylabel("E‖∂softmax/∂logits‖_F")
axes[0].legend(fontsize=8)
study.save_figure(fig)

# %%
study.finish({"dims": dims, "unscaled": unscaled, "scaled": scaled, "temperatures": temperatures, "cold": cold})
