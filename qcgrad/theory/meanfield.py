r"""Mean-field signal propagation in deep nets at initialization: q*, χ₁, ξ and gradient variances.

For a layer h^{l+1} = W_l φ(h^l) + b_l with weights of variance σ_w²/N (N = fan-in) and
biases of variance σ_b², the pre-activations of a wide net are Gaussian with variance q^l
(Poole et al. 2016, NeurIPS; Schoenholz et al. 2017, ICLR):

    q^{l+1} = σ_w² E_z[φ(√q^l z)²] + σ_b²,        z ~ N(0, 1),

with fixed point q*. A perturbation, and the backpropagated gradient, change per layer by

    χ₁ = σ_w² E_z[φ'(√q* z)²]

(Gauss–Hermite quadrature here): χ₁ < 1 is the ordered phase (gradients vanish as χ₁^L,
per-layer base b = 1/χ₁ of Var ∝ b^-L, depth scale ξ = −1/ln χ₁), χ₁ > 1 the chaotic phase
(they explode), χ₁ = 1 the edge of chaos. Exact special cases: tanh with σ_w² = 1 and no
bias has q* = 0 and χ₁ = φ'(0)² σ_w² = 1; ReLU has χ₁ = σ_w²/2 at any q (He, σ_w² = 2: 1;
Xavier on square layers, σ_w² = 1: 1/2); a linear net has χ₁ = σ_w² (= 1 for orthogonal
weights: dynamical isometry, Pennington et al. 2017, NeurIPS).

**First-layer gradient variance of an MLP** (qcgrad's ``mlp``: MSE cost on a fixed batch
x_b, y_b, biases start at 0). With the covariance recursions over the batch (2-D
Gauss–Hermite for E[φ(u)φ(v)] and E[φ'(u)φ'(v)] at covariance Q^l),

    Q^1 = Var(W_0) X Xᵀ,   Q^{l+1} = Var(W_l) N Φ^l,   Φ^l = E[φ φ],  Ψ^l = E[φ' φ'],
    D^{L−1} = Ψ^{L−1} ⊙ Var(W_{L−1}) · 4(out·Q^L + Y Yᵀ)/(B·out)²,
    D^l = Ψ^l ⊙ Var(W_l) N D^{l+1},

and, by the gradient-independence assumption (weights in the backward pass independent of
the forward pass, Schoenholz 2017), Var[∂C/∂W_l[i, j]] = Σ_{b,b'} D^{l+1}_{bb'} A^l_{bb'} with
A^0 = x_j x_jᵀ and A^l = Φ^l (bias: A = 1), for every layer but the last (whose MSE seed has
a nonzero mean).

**Scalar tower** f = σ∘…∘σ(w x): ∂f/∂w = x Π_k σ'(z_k) is a function of w alone, so its
variance is a one-dimensional Gauss–Hermite integral over the init distribution (exact up
to quadrature). **Vanilla RNN**: the stationary q* of q = Var(W_x)·n_in·s² + σ_h² E[φ(√q z)²]
and the per-step factor χ = σ_h² E[φ'(√q* z)²] (σ_h² = N·Var(W_h)); only the rate is predicted.

Refused: other architectures (ResNet, DenseNet, U-Net, LSTM, GRU, Transformer, user modules:
no mean-field formula implemented here), the last layer's partials, depth 1.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
from scipy.optimize import brentq

from ..classical.activations import LEAKY_SLOPE
from ..classical.inits import SMALL_STD
from ..gradients import resolve_params
from .prediction import Prediction

POOLE = "Poole et al. 2016 (NeurIPS); Schoenholz et al. 2017 (ICLR); Pennington et al. 2017 (NeurIPS)"
NODES = 100  # even: no node at 0, where ReLU's derivative jumps


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


#: Activation name -> (φ, φ') in numpy; φ'(0) of ReLU is 0 as in torch.
PHI: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "leaky_relu": (lambda z: np.where(z > 0, z, LEAKY_SLOPE * z), lambda z: np.where(z > 0, 1.0, LEAKY_SLOPE)),
    "elu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
            lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0)))),
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
}


@cache
def _gauss(n: int = NODES) -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / np.sqrt(2 * np.pi)


def _check_activation(activation: str) -> None:
    if activation not in PHI:
        raise ValueError(f"activation={activation!r} is not allowed; use one of {list(PHI)}")


def gauss_mean(f, q: float) -> float:
    """E_z[f(√q z)], z ~ N(0, 1), by Gauss–Hermite quadrature."""
    z, w = _gauss()
    return float(w @ f(math.sqrt(max(q, 0.0)) * z))


#: Positively homogeneous activations: E[φ(√q z)²] = c·q, E[φ'(√q z)²] = c, so χ₁ does not depend on q.
HOMOGENEOUS = {"relu": 0.5, "leaky_relu": (1 + LEAKY_SLOPE ** 2) / 2, "linear": 1.0}
#: Odd-like activations with φ(0) = 0, φ'(0) = 1 and |φ(z)| ≤ |z|: without bias, q* = 0 for σ_w² ≤ 1.
CONTRACTING = ("tanh", "elu")


def fixed_point(activation: str, sigma_w2: float, sigma_b2: float = 0.0, q0: float = 1.0,
                max_iter: int = 10_000, tol: float = 1e-13) -> float:
    """q* reached from q0 by q ← σ_w² E[φ(√q z)²] + σ_b² (0 when it decays to zero, inf when it diverges).

    Examples
    --------
    >>> fixed_point("tanh", 1.0), fixed_point("relu", 1.0)
    (0.0, 0.0)
    """
    _check_activation(activation)
    if sigma_b2 == 0 and activation in HOMOGENEOUS:
        gain = sigma_w2 * HOMOGENEOUS[activation]
        return 0.0 if gain < 1 else q0 if gain == 1 else math.inf
    if sigma_b2 == 0 and activation in CONTRACTING and sigma_w2 <= 1:
        return 0.0  # q^{l+1} < σ_w² q^l ≤ q^l: the variance decays to the fixed point 0
    phi = PHI[activation][0]
    q = q0
    for _ in range(max_iter):
        new = sigma_w2 * gauss_mean(lambda u: phi(u) ** 2, q) + sigma_b2
        if new > 1e12:
            return math.inf
        done = abs(new - q) <= tol * max(q, 1e-300)
        q = new
        if done:
            break
    return 0.0 if q < 1e-12 else q


def chi1(activation: str, sigma_w2: float, sigma_b2: float = 0.0, q: float | None = None) -> float:
    """χ₁ = σ_w² E[φ'(√q* z)²] at the fixed point (or at ``q`` when given).

    Examples
    --------
    >>> chi1("tanh", 1.0), chi1("relu", 2.0), chi1("relu", 1.0)
    (1.0, 1.0, 0.5)
    """
    _check_activation(activation)
    dphi = PHI[activation][1]
    if activation in HOMOGENEOUS:
        return sigma_w2 * HOMOGENEOUS[activation]  # E[φ'(z)²] = E[φ(z)²] for degree-1 homogeneous φ
    q = fixed_point(activation, sigma_w2, sigma_b2) if q is None else q
    if math.isinf(q):
        return math.inf
    return sigma_w2 * gauss_mean(lambda u: dphi(u) ** 2, q)


def depth_scale(chi: float) -> float:
    """ξ = −1/ln χ₁ (inf at the edge of chaos)."""
    return math.inf if chi == 1 else -1 / math.log(chi)


def phase(chi: float, tol: float = 1e-9) -> str:
    """``"ordered"`` (χ₁ < 1), ``"chaotic"`` (χ₁ > 1) or ``"critical"``."""
    return "critical" if abs(chi - 1) <= tol else "ordered" if chi < 1 else "chaotic"


def critical_std(width: int, activation: str = "tanh", sigma_b2: float = 0.0) -> float:
    """The weight std of ``init="normal"`` at the edge of chaos (χ₁ = 1) for a hidden layer of ``width``.

    Examples
    --------
    >>> round(critical_std(100), 6)  # tanh without bias: σ_w² = 1, std = 1/√N
    0.1
    """
    _check_activation(activation)
    if sigma_b2 == 0 and activation in (*HOMOGENEOUS, *CONTRACTING):
        # χ₁ = σ_w²·E[φ'²] at q* = 0 (tanh, elu: φ'(0) = 1) or at any q (homogeneous): σ_w² = 1/E[φ'²].
        return math.sqrt(1 / (chi1(activation, 1.0) if activation in HOMOGENEOUS else 1.0) / width)
    sigma_w2 = brentq(lambda s: chi1(activation, s, sigma_b2) - 1, 0.05, 20.0, xtol=1e-12)
    return math.sqrt(sigma_w2 / width)


def weight_variance(init: str, fan_in: int, fan_out: int, std: float = 1.0) -> float:
    """Entry variance of a weight of the given fans under one of qcgrad's classical inits."""
    table = {"xavier": 2 / (fan_in + fan_out), "he": 2 / fan_in, "normal": std ** 2, "small": SMALL_STD ** 2,
             "orthogonal": 1 / max(fan_in, fan_out)}
    if init not in table:
        raise ValueError(f"init={init!r} has no mean-field variance; use one of {list(table)}")
    return table[init]


def _pair_means(activation: str, cov: np.ndarray, derivative: bool) -> np.ndarray:
    """E[f(u) f(v)] for every pair of a Gaussian vector with covariance ``cov`` (f = φ or φ')."""
    f = PHI[activation][1 if derivative else 0]
    z, w = _gauss(48)
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    w2 = np.outer(w, w).ravel()
    z1, z2 = z1.ravel(), z2.ravel()
    var = np.clip(np.diag(cov), 0, None)
    sd = np.sqrt(var)
    corr = np.where(np.outer(sd, sd) > 0, cov / np.maximum(np.outer(sd, sd), 1e-300), 0.0)
    corr = np.clip(corr, -1, 1)
    # u = sd_i z1, v = sd_j (r_ij z1 + sqrt(1 − r_ij²) z2) for all pairs at once: [B, B, nodes].
    fu = f(sd[:, None, None] * z1)
    v = sd[None, :, None] * (corr[:, :, None] * z1 + np.sqrt(np.clip(1 - corr ** 2, 0, None))[:, :, None] * z2)
    return np.einsum("ijk,k->ij", fu * f(v), w2)


def _mlp(model, indices: list[int]) -> Prediction:
    k = model.knobs
    depth, width, act, init, std = k["depth"], k["width"], k["activation"], k["init"], k.get("std", 1.0)
    in_dim, out_dim = k["in_dim"], k["out_dim"]
    if depth < 2:
        raise ValueError("no prediction: depth=1 is a linear regression (the MSE seed's mean does not vanish); "
                         "mean-field predictions need depth ≥ 2")
    sizes = [in_dim] + [width] * (depth - 1) + [out_dim]
    var_w = [weight_variance(init, a, b, std) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    x = model.inputs.detach().double().numpy()
    y = model.targets.detach().double().numpy()
    batch = len(x)
    # Forward covariances Q^1..Q^L and the Φ, Ψ of hidden layers 1..L-1.
    q = [var_w[0] * x @ x.T]
    phis, psis = [], []
    for layer in range(1, depth):
        phis.append(_pair_means(act, q[-1], False))
        psis.append(_pair_means(act, q[-1], True))
        q.append(var_w[layer] * sizes[layer] * phis[-1])
    seed = 4 * (out_dim * q[-1] + y @ y.T) / (batch * out_dim) ** 2
    d = {depth - 1: psis[-1] * var_w[depth - 1] * seed}
    for layer in range(depth - 2, 0, -1):  # D^l from D^{l+1}
        d[layer] = psis[layer - 1] * var_w[layer] * sizes[layer + 1] * d[layer + 1]
    slices = model.param_slices
    values = []
    for index in indices:
        name = next(n for n, sl in slices.items() if sl.start <= index < sl.stop)
        layer = int(name.split(".")[1])
        if layer == depth - 1:
            raise ValueError(f"no prediction for params index {index}: it is in the last layer, whose MSE seed has "
                             "a nonzero mean; choose a partial of layers 0..depth-2")
        delta = d[layer + 1]
        if name.endswith("bias"):
            a = np.ones((batch, batch))
        elif layer == 0:
            j = (index - slices[name].start) % in_dim
            a = np.outer(x[:, j], x[:, j])
        else:
            a = phis[layer - 1]
        values.append(float(np.sum(delta * a)))
    sigma_w2 = var_w[1] * sizes[1] if depth > 2 else var_w[0] * sizes[0]
    q_star = fixed_point(act, sigma_w2, 0.0, q0=float(np.mean(np.diag(q[0]))))
    chi = chi1(act, sigma_w2, 0.0, q=q_star)
    assumptions = ["wide layers (mean field: pre-activations Gaussian across the init distribution)",
                   "gradient independence: backward weights treated as independent of the forward pass",
                   f"biases start at 0 (σ_b² = 0); hidden weights σ_w² = N·Var(W) = {sigma_w2:.4g}"]
    if init == "orthogonal":
        assumptions.append("orthogonal weights treated as Gaussian of the same variance (exact for q, approximate "
                           "for the gradient at finite width)")
    details = {"q_star": q_star, "chi1": chi, "depth_scale": depth_scale(chi), "phase": phase(chi),
               "sigma_w2": sigma_w2, "q_layers": [float(np.mean(np.diag(m))) for m in q]}
    formula = ("Var[∂C/∂W] = Σ_bb' D_bb' A_bb' from the forward covariance and backward δ recursions; per-layer "
               "factor χ₁ = σ_w² E[φ'(√q* z)²]")
    return Prediction(float(np.mean(values)), formula, assumptions, POOLE, base=1 / chi if chi > 0 else None,
                      details=details)


def _tower(model) -> Prediction:
    k = model.knobs
    act, depth, x, slope, init, std = k["activation"], k["depth"], k["x"], k["slope"], k["init"], k["std"]
    phi, dphi = PHI[act]
    if act == "linear":
        phi, dphi = (lambda z: slope * z), (lambda z: slope * np.ones_like(z))
    if init == "orthogonal":
        w, p = np.array([-1.0, 1.0]), np.array([0.5, 0.5])
    else:
        z, p = _gauss(160)
        w = math.sqrt(weight_variance(init, 1, 1, std)) * z
    zs, g = w * x, np.full_like(w, float(x))
    for _ in range(depth):
        g = g * dphi(zs)
        zs = phi(zs)
    mean = p @ g
    return Prediction(float(p @ g ** 2 - mean ** 2), "Var[x·Π_k σ'(z_k)] over w by Gauss–Hermite quadrature",
                      ["w drawn from the init distribution (one weight; exact up to quadrature)"], POOLE,
                      details={"mean": float(mean)})


def _rnn(model) -> Prediction:
    k = model.knobs
    if k.get("depth", 1) != 1:
        raise ValueError("no prediction: the RNN per-step factor is implemented for depth=1")
    width, act = k["width"], k["activation"]
    in_dim = k.get("in_dim") or width
    scale = float(k.get("input_scale", 1.0))
    var_x = weight_variance(k["init"], in_dim, width, k.get("std", 1.0))
    if k.get("spectral_radius") is not None:
        sigma_h2 = float(k["spectral_radius"]) ** 2
    else:
        sigma_h2 = width * weight_variance(k["recurrent_init"], width, width, k.get("std", 1.0))
    q_star = fixed_point(act, sigma_h2, var_x * in_dim * scale ** 2)
    chi = chi1(act, sigma_h2, q=q_star)
    return Prediction(None, "per-step factor χ = σ_h² E[φ'(√q* z)²], q* = σ_x² + σ_h² E[φ(√q* z)²]",
                      ["wide hidden state (mean field)", "stationary q* reached within a few steps",
                       "recurrent weights treated as Gaussian of variance σ_h²/N"], POOLE,
                      base=1 / chi if chi > 0 else None,
                      details={"q_star": q_star, "chi": chi, "depth_scale": depth_scale(chi), "phase": phase(chi)})


def predict_net(model, params="first", of: str = "gradient") -> Prediction:
    """Mean-field prediction for a classical model (mlp, deep_linear, tower, rnn).

    Examples
    --------
    >>> import qcgrad as qg
    >>> p = predict_net(qg.classical.mlp(depth=6, width=64, activation="relu", init="he"))
    >>> round(p.details["chi1"], 6), p.details["phase"]
    (1.0, 'critical')
    """
    if of != "gradient":
        raise ValueError(f"of={of!r}: mean-field predictions are for gradients only (of='gradient')")
    architecture = getattr(model, "knobs", {}).get("architecture")
    indices = resolve_params(model, params).tolist()
    if architecture in ("mlp", "deep_linear"):
        return _mlp(model, indices)
    if architecture == "tower":
        return _tower(model)
    if architecture == "rnn":
        return _rnn(model)
    raise ValueError(f"no prediction: architecture={architecture!r} is not covered by the mean-field theory here; "
                     "supported: mlp, deep_linear, tower, rnn (per-step factor)")
