"""
Jacobian spectra, Lyapunov exponents and transient growth (Saxe 2014; Pennington 2017)
======================================================================================

A deep net's input–output Jacobian is a product of layer Jacobians; what its singular values do
decides whether signals survive depth.

- A deep *linear* net with orthogonal weights is an exact isometry: every singular value is 1
  at any depth (dynamical isometry; Saxe, McClelland & Ganguli 2014). With Gaussian (Xavier)
  weights the log singular values spread like √L, and the condition number explodes
  (Pennington, Schoenholz & Ganguli 2017).
- For products of N(0, s²/n) matrices the Lyapunov exponents are known in closed form:
  λ_i = ½[ln(2s²/n) + ψ((n−i+1)/2)] (Newman 1986).
- A spectral radius below one does not keep a product small: the non-normal matrix
  W = [[0.9, 5], [0, 0.9]] has ρ(W) = 0.9 but ‖W^t‖ ≥ 5t·0.9^(t−1), which peaks near 19.4 at
  t = 9–10 before it decays (Trefethen & Embree 2005).
"""
# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.special import digamma

import qcgrad as qg
from qcgrad import diagnostics

study = qg.Study("signal_propagation", "Jacobian singular values, Lyapunov spectra and transient growth")
depth = study.pick(16, 64)
width = 16
# Exact arithmetic up to float64 rounding: ~L·n·eps per product of orthogonal matrices.
ROUNDING = 1e-10

# %%
# Dynamical isometry
# ------------------
orthogonal = diagnostics.jacobian_spectrum(qg.classical.deep_linear(depth=depth, width=width, init="orthogonal"),
                                           n_inits=8, seed=study.seed)
gaussian = diagnostics.jacobian_spectrum(qg.classical.deep_linear(depth=depth, width=width, init="xavier"),
                                         n_inits=8, seed=study.seed)
worst = float((orthogonal.singular_values - 1).abs().max())
study.add(qg.claim_value(f"orthogonal deep linear net, L={depth}: all singular values = 1 (max |σ−1|)",
                         "Saxe et al. 2014 (exact)", 0.0, worst, ROUNDING))
cond = gaussian.condition.log10()
study.add(qg.claim_value(f"Gaussian (Xavier) deep linear net, L={depth}: log10 condition number ≫ 0",
                         "Pennington et al. 2017", 1.0, float(cond.mean()),
                         float(cond.std() / len(cond) ** 0.5), relation="at_least"))

# %%
# Lyapunov spectrum of a Gaussian matrix product
# ----------------------------------------------
n, s = 4, 1.5
steps, repeats = study.pick((300, 4), (1000, 16))
mats = s / np.sqrt(n) * torch.randn(repeats, steps, n, n, dtype=torch.float64,
                                    generator=torch.Generator().manual_seed(study.seed))
lam = diagnostics.lyapunov_spectrum(mats)
closed = 0.5 * (np.log(2 * s**2 / n) + digamma((n - np.arange(1, n + 1) + 1) / 2))
for i in range(n):
    # The mean over repeats has the SE of repeats·steps independent ln|R_ii| terms.
    se = float(lam[:, i].std() / repeats**0.5)
    study.add(qg.claim_value(f"Lyapunov exponent λ_{i + 1}, n={n}, s={s}", "Newman 1986 (closed form)",
                             closed[i], float(lam[:, i].mean()), se))

# %%
# Transient growth below spectral radius one
# ------------------------------------------
w = torch.tensor([[0.9, 5.0], [0.0, 0.9]], dtype=torch.float64)
growth = diagnostics.transient_growth(w, t_max=60)
bound = max(5 * t * 0.9 ** (t - 1) for t in range(1, 61))
study.add(qg.claim_value("ρ(W)=0.9 yet max_t ‖W^t‖ ≥ max_t 5t·0.9^(t−1)", "Trefethen & Embree 2005 (exact)",
                         bound, growth.peak, 0.0, relation="at_least"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].hist(torch.log10(gaussian.singular_values).flatten().numpy(), bins=30, alpha=0.7, label="Gaussian")
axes[0].axvline(0, color="k", ls="--", label="orthogonal (all σ = 1)")
axes[0].set_xlabel("log10 singular value of the input–output Jacobian")
axes[0].legend(fontsize=8)
axes[1].semilogy(growth.norms.numpy(), label="‖W^t‖₂")
axes[1].semilogy(0.9 ** np.arange(61), "--", label="ρ^t")
axes[1].set_xlabel("t")
axes[1].legend(fontsize=8)
study.save_figure(fig)

# %%
study.finish({"lyapunov_measured": lam.mean(0).tolist(), "lyapunov_closed_form": closed.tolist(),
              "transient_peak": growth.peak, "transient_peak_t": growth.peak_t})
