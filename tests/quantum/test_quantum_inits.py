"""Circuit initializations: ranges and moments of the angle draws, spec parsing, mirroring."""
import math

import pytest
import torch

from qcgrad.quantum import circuit
from qcgrad.quantum.inits import SMALL_ANGLE_SIGMA, draw_angles, mirror_layers, parse_init

S = 40_000


def test_uniform_covers_zero_to_two_pi_with_the_uniform_mean():
    a = draw_angles("uniform", torch.Generator().manual_seed(0), (S,))
    assert a.min() >= 0 and a.max() < 2 * math.pi
    # mean of U[0, 2π) is π with SD π/√3; 5 SE of S draws: 5·(π/√3)/√S ≈ 0.045.
    assert abs(a.mean().item() - math.pi) < 5 * (math.pi / math.sqrt(3)) / math.sqrt(S)


@pytest.mark.parametrize("spec, sigma", [("small_angle", SMALL_ANGLE_SIGMA), ("small_angle:sigma=0.02", 0.02)])
def test_small_angle_is_normal_with_sigma(spec, sigma):
    a = draw_angles(spec, torch.Generator().manual_seed(1), (S,))
    # Sample SD of a normal has relative SE 1/√(2S) ≈ 0.0035; allow 5 SE. Mean SE σ/√S; allow 5 SE.
    assert abs(a.std().item() / sigma - 1) < 5 / math.sqrt(2 * S)
    assert abs(a.mean().item()) < 5 * sigma / math.sqrt(S)


def test_draws_are_reproducible_from_the_generator():
    a = draw_angles("uniform", torch.Generator().manual_seed(7), (3, 4))
    b = draw_angles("uniform", torch.Generator().manual_seed(7), (3, 4))
    assert torch.equal(a, b) and a.dtype == torch.float64


def test_mirror_layers_copies_even_layers_into_odd_ones():
    p = torch.arange(12.0).view(1, 12)
    layer = lambda k: torch.tensor([k, 4 + k, 8 + k])  # noqa: E731 (layers interleaved on purpose)
    out = mirror_layers(p, layer, 4)
    assert out[0].tolist() == [0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10]


@pytest.mark.parametrize("spec, match", [
    ("gaussian", "not known"), ("small_angle:sigma=-1", "sigma"), ("small_angle:sigma=0", "sigma"),
    ("uniform:sigma=0.1", "knobs"), ("small_angle:sigma", "key=value"),
])
def test_bad_init_specs_name_the_allowed_values(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_init(spec)


def test_identity_block_names_the_one_condition_that_fails():
    # Two separate conditions, two separate messages: an odd depth, or an ansatz of fixed depth.
    with pytest.raises(ValueError, match=r"n_layers=3 is odd; use an even n_layers ≥ 2"):
        circuit("random_pauli", n_qubits=2, n_layers=3, init="identity_block")
    with pytest.raises(ValueError, match=r"ansatz='tensor_product' has a fixed depth of 1 layer"):
        circuit("tensor_product", n_qubits=2, n_layers=2, init="identity_block")
