"""Small models with known gradient distributions, for testing the statistics machinery."""
from __future__ import annotations

import math

import torch

from qcgrad import Model


class SineModel(Model):
    """C(θ) = Σ_j a_j sin θ_j, θ ~ U[0, 2π): ∂C/∂θ_j = a_j cos θ_j.

    Var = a_j²/2 and kurtosis E cos⁴/(E cos²)² = (3/8)/(1/4) = 3/2, exactly.
    """

    def __init__(self, amplitudes=(1.0, 0.5, 0.0)):
        self.a = torch.tensor(amplitudes, dtype=torch.float64)
        self.n_params = len(amplitudes)
        self.param_groups = {f"layer:{j}": slice(j, j + 1) for j in range(self.n_params)}

    def sample_params(self, generator, n):
        return 2 * math.pi * torch.rand(n, self.n_params, generator=generator, dtype=torch.float64)

    def cost(self, params):
        return (self.a * torch.sin(params)).sum(-1)

    def describe(self):
        return {"family": "toy", "amplitudes": self.a.tolist()}


class CubeModel(Model):
    """C(θ) = θ⁴/4 with θ ~ N(0, 1): ∂C/∂θ = θ³, Var = 15, kurtosis 10395/225 ≈ 46 (heavy tails)."""

    n_params = 1
    param_groups = {"layer:0": slice(0, 1)}

    def sample_params(self, generator, n):
        return torch.randn(n, 1, generator=generator, dtype=torch.float64)

    def cost(self, params):
        return (params**4 / 4).sum(-1)

    def describe(self):
        return {"family": "toy", "kind": "cube"}


class ScaledSine(SineModel):
    """SineModel whose amplitude decays with a size knob: Var = scale²/2 with scale = base^(-size/2)."""

    def __init__(self, size: int, base: float = 2.0):
        super().__init__((base ** (-size / 2),))
        self.size = size

    def describe(self):
        return {"family": "toy", "depth": self.size}
