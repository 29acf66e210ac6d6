"""
Gradients through time: RNN, LSTM and GRU (Bengio 1994; Hochreiter 1997; Pascanu 2013)
======================================================================================

The gradient of the last step's loss with respect to the first input is a product of one
Jacobian per step. For a vanilla RNN with recurrent matrix ρ·Q (Q orthogonal) and inputs small
enough that tanh' ≈ 1, every step multiplies the backward signal by exactly ρ, so
Var[∂C/∂x₁] ∝ ρ^(2T): it vanishes for ρ < 1 (Bengio, Simard & Frasconi 1994) and explodes for
ρ > 1 (Pascanu, Mikolov & Bengio 2013). The LSTM's cell state carries the signal through the
forget gate instead (Hochreiter & Schmidhuber 1997; Gers et al. 2000): with a forget bias b the
gate starts near σ(b), so the decay per step is no faster than σ(b)² — a bias of 1 to 3 keeps
early inputs visible far longer (Jozefowicz et al. 2015).
"""
# %%
import math

import matplotlib.pyplot as plt

import qcgrad as qg
from qcgrad.plot import plot_series

study = qg.Study("recurrent", "Gradient vs sequence length for RNN, LSTM and GRU")
lengths = study.pick([2, 6, 10, 15, 20], [2, 6, 10, 15, 20, 30, 40])
n_samples = study.pick(100, 400)
width = 16


def scan(build, values=lengths):
    return qg.scan(build, values, n_samples=n_samples, seed=study.seed)


# %%
# Vanishing: ρ = 0.9, orthogonal and Gaussian recurrent weights
# --------------------------------------------------------------
rnn_orth = scan(lambda t: qg.classical.rnn(seq_len=t, width=width, spectral_radius=0.9, input_scale=0.01))
fit_orth = rnn_orth.fit("exponential")
study.add(qg.claim_base("RNN, ρ=0.9·orthogonal: Var ∝ ρ^(2T), base 1/0.81", "Bengio et al. 1994 (closed form)",
                        1 / 0.81, fit_orth))
rnn_gauss = scan(lambda t: qg.classical.rnn(seq_len=t, width=width, spectral_radius=0.9, input_scale=0.01,
                                            recurrent_init="normal"))
fit_gauss = rnn_gauss.fit("exponential")
# A Gaussian matrix scaled to spectral radius 0.9 is non-normal: its singular values spread, but
# the long-time rate is set by the spectral radius (Gelfand), so the base is again ≈ 1/0.81 or
# faster at finite T; the claim is the one-sided bound from the radius.
study.add(qg.claim_base("RNN, ρ=0.9·Gaussian: decays at least as fast as ρ^(2T) eventually", "Gelfand's formula",
                        1 / 0.81, fit_gauss, relation="at_least"))

# %%
# Exploding: ρ = 1.5 (short sequences, while tanh stays in its linear range)
short = study.pick([2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7])
rnn_explode = scan(lambda t: qg.classical.rnn(seq_len=t, width=width, spectral_radius=1.5, input_scale=0.001), short)
fit_explode = rnn_explode.fit("exponential")
study.add(qg.claim_base("RNN, ρ=1.5: Var ∝ ρ^(2T) grows, base 1/2.25", "Pascanu et al. 2013 (closed form)",
                        1 / 2.25, fit_explode))

# %%
# Gated cells
# -----------
lstm = {b: scan(lambda t, b=b: qg.classical.lstm(seq_len=t, width=width, spectral_radius=0.9, forget_bias=b))
        for b in (0.0, 3.0)}
for b, sc in lstm.items():
    gate = 1 / (1 + math.exp(-b))
    study.add(qg.claim_base(f"LSTM, forget bias {b:g}: base ≤ 1/σ(b)² = {1 / gate**2:.3g}",
                            "Hochreiter & Schmidhuber 1997; Gers et al. 2000", 1 / gate**2,
                            sc.fit("exponential"), relation="at_most"))
gru = scan(lambda t: qg.classical.gru(seq_len=t, width=width, spectral_radius=0.9))

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
plot_series(ax, rnn_orth.records(), "RNN ρ=0.9 orthogonal", fit_orth)
plot_series(ax, rnn_gauss.records(), "RNN ρ=0.9 Gaussian", fit_gauss)
plot_series(ax, rnn_explode.records(), "RNN ρ=1.5", fit_explode)
for b, sc in lstm.items():
    plot_series(ax, sc.records(), f"LSTM forget bias {b:g}")
plot_series(ax, gru.records(), "GRU")
ax.set_xlabel("sequence length T")
ax.set_ylabel("Var[∂C/∂x₁]")
ax.legend(fontsize=7)
study.save_figure(fig)

# %%
study.finish({"rnn_orthogonal": rnn_orth.records(), "rnn_gaussian": rnn_gauss.records(),
              "rnn_exploding": rnn_explode.records(), "gru": gru.records(),
              **{f"lstm_forget_bias_{b:g}": sc.records() for b, sc in lstm.items()}})
