"""The activation registry."""
import pytest
import torch
import torch.nn.functional as F

from qcgrad.classical.activations import ACTIVATIONS, LEAKY_SLOPE, get_activation

Z = torch.linspace(-3, 3, 13, dtype=torch.float64)


@pytest.mark.parametrize("name, reference", [
    ("sigmoid", lambda z: 1 / (1 + torch.exp(-z))), ("tanh", torch.tanh),
    ("relu", lambda z: z.clamp(min=0)), ("leaky_relu", lambda z: torch.where(z > 0, z, LEAKY_SLOPE * z)),
    ("elu", lambda z: torch.where(z > 0, z, torch.exp(z) - 1)), ("linear", lambda z: z)])
def test_activation_values(name, reference):
    torch.testing.assert_close(ACTIVATIONS[name](Z), reference(Z))


def test_linear_slope_and_unknown_name():
    torch.testing.assert_close(get_activation("linear", slope=1.5)(Z), 1.5 * Z)
    assert get_activation("elu") is F.elu
    with pytest.raises(ValueError, match="activation='gelu' is not allowed; use one of: sigmoid"):
        get_activation("gelu")
