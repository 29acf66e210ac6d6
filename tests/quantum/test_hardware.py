"""Hardware path: a plugin device selected by name, with shots and parameter shift.

Runs against Qiskit's Aer simulator through pennylane-qiskit (the ``qiskit`` extra); the
same code path reaches IBM or Braket hardware by device name.
"""
import importlib.util
import math

import pytest
import torch

from qcgrad.quantum import circuit, reference

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pennylane_qiskit") is None,
                                reason="pennylane-qiskit is not installed (pip install 'qcgrad[qiskit]')")


@pytest.mark.slow
def test_qiskit_aer_shot_gradients_match_the_closed_form():
    # RX(θ₀) ⊗ RX(θ₁) on |00⟩: ⟨ZZ⟩ = cos θ₀ cos θ₁. With N = 2000 shots per circuit a
    # parameter-shift partial has variance ≤ (1 + 1)/(4N), SE ≤ 0.016, and the cost SE ≤
    # sqrt(1/N) ≈ 0.022; allow 5 SE each.
    n = 2000
    qc = circuit("tensor_product", 2, cost="zz", device="qiskit.aer", shots=n)
    theta = torch.tensor([[0.7, 2.1]], dtype=torch.float64)
    exact_grad = torch.tensor([-math.sin(0.7) * math.cos(2.1), -math.cos(0.7) * math.sin(2.1)], dtype=torch.float64)
    assert reference.diff_method("qiskit.aer", n) == "parameter-shift"
    assert (qc.grad(theta)[0] - exact_grad).abs().max() < 5 * math.sqrt(1 / (2 * n))
    assert abs(qc.cost(theta).item() - math.cos(0.7) * math.cos(2.1)) < 5 * math.sqrt(1 / n)
