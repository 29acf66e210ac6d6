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


@pytest.mark.slow
def test_fake_ibm_noise_model_through_device_options_and_the_variance_split():
    # A noise model from Qiskit's offline fake IBM backends (FakeManilaV2: its calibrated gate
    # and readout errors) reaches qiskit.aer through device_options.
    fake_provider = pytest.importorskip("qiskit_ibm_runtime.fake_provider")
    noise_model = pytest.importorskip("qiskit_aer.noise").NoiseModel.from_backend(fake_provider.FakeManilaV2())
    n = 4000

    def aer(**options):
        return circuit("tensor_product", 2, cost="zz", device="qiskit.aer", shots=n, device_options=options)

    # At θ = 0 the state is |00⟩: noiseless shots all give ZZ = +1 exactly; readout errors of a few
    # % per qubit lower ⟨ZZ⟩ by ~2(e₀ + e₁), far more than 5 SE (SE ≤ sqrt(1/N) ≈ 0.016).
    zero = torch.zeros(1, 2, dtype=torch.float64)
    assert aer(seed_simulator=3).cost(zero).item() == 1.0
    noisy = aer(noise_model=noise_model)
    assert noisy.cost(zero).item() < 1 - 5 * math.sqrt(1 / n)
    assert noisy.describe()["device_options"] == {"noise_model": "NoiseModel"}
    # Landscape/shot split of ∂C/∂θ₀ over 8 uniform samples. The noiseless gradients on the same
    # θ are -sin θ₀ cos θ₁; noise scales them by f ≈ (1 - 2e₀)(1 - 2e₁) < 1, so the device's
    # landscape variance lies below theirs (ratio ≈ f²), and shot noise is (2 - C₊² - C₋²)/(4N)
    # ≤ 1/(2N) per sample; shot noise in the landscape estimate is ~1e-3 of it here.
    params = noisy.sample_params(torch.Generator().manual_seed(0), 8)
    split = reference.device_decomposition(noisy, params, 0)
    clean = circuit("tensor_product", 2, cost="zz").grad(params)[:, 0].var().item()
    assert 0 < split.shot_noise <= 1 / (2 * n)
    assert 0.5 * clean < split.landscape < clean
    assert split.predicted == pytest.approx(split.measured)
