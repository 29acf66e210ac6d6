"""layer_profile and zero_fraction: one pass, the same numbers as gradient_variance per group."""
import math
import warnings

import pytest
import torch

import qcgrad as qg
from qcgrad import Model
from qcgrad.profile import layer_profile, zero_fraction


class FrozenToy(Model):
    """C = Σ_j a_j sin θ_j over groups "layer:0" (θ_0), "structure" (θ_1, frozen), "layer:1" (θ_2)."""

    n_params = 3
    param_groups = {"layer:0": slice(0, 1), "structure": slice(1, 2), "layer:1": slice(2, 3)}
    frozen = ("structure",)
    a = torch.tensor([1.0, 0.0, 0.5], dtype=torch.float64)

    def sample_params(self, generator, n):
        return 2 * math.pi * torch.rand(n, 3, generator=generator, dtype=torch.float64)

    def cost(self, params):
        return (self.a * torch.sin(params)).sum(-1)

    def describe(self):
        return {"family": "toy"}


def test_profile_matches_gradient_variance_per_group():
    net = qg.classical.mlp(depth=3, width=6, activation="tanh", init="xavier")
    prof = layer_profile(net, n_samples=30, seed=4)
    assert prof.groups == ["layer:0", "layer:1", "layer:2"]
    for group, var, mean_square in zip(prof.groups, prof.variance, prof.mean_square, strict=True):
        est = qg.gradient_variance(net, n_samples=30, seed=4, params=group)
        assert var == pytest.approx(est.variance, rel=1e-12)
        assert mean_square == pytest.approx((est.samples**2).mean().item(), rel=1e-12)


def test_profile_leaves_structural_zeros_out_like_gradient_variance():
    net = qg.classical.resnet(depth=2, width=4, batchnorm=True, zero_gamma=True)
    prof = layer_profile(net, n_samples=6, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the estimator warns about the zero partials
        est = qg.gradient_variance(net, n_samples=6, seed=1, params="layer:1")
    assert prof.variance[1] == pytest.approx(est.variance, rel=1e-12)


def test_profile_skips_frozen_groups_and_works_for_any_model():
    prof = layer_profile(FrozenToy(), n_samples=4000, seed=0)
    assert prof.groups == ["layer:0", "layer:1"]
    # ∂C/∂θ_j = a_j cos θ_j: Var = E[g²] = a_j²/2; relative SE of both ≈ sqrt((κ−1)/S) with κ = 3/2,
    # i.e. 1.1 % at S = 4000; allow 4 SE.
    tol = 4 * math.sqrt(0.5 / 4000)
    assert prof.variance == pytest.approx([0.5, 0.125], rel=tol)
    assert prof.mean_square == pytest.approx([0.5, 0.125], rel=tol)
    assert prof.zero_fraction == [0.0, 0.0]


def test_zero_gamma_resnet_reports_structural_zeros():
    net = qg.classical.resnet(depth=2, width=4, batchnorm=True, zero_gamma=True)
    prof = layer_profile(net, n_samples=5)
    # With γ₂ = 0 only the last BatchNorm's γ and β (2·width entries) see a gradient.
    assert prof.zero_partials == [n - 2 * 4 for n in prof.n_partials]
    rec = prof.records()[0]
    assert rec["group"] == "layer:0" and rec["zero_fraction"] == pytest.approx(1 - 8 / rec["n_partials"])


def test_zero_fraction_counts_exact_zeros():
    assert zero_fraction(torch.tensor([[0.0, 1e-300], [-0.0, 2.0]], dtype=torch.float64)) == 0.5
    with pytest.raises(ValueError, match="empty"):
        zero_fraction(torch.empty(0, 3))


def test_bad_sample_count():
    with pytest.raises(ValueError, match="n_samples=1"):
        layer_profile(FrozenToy(), n_samples=1)


class DeadToy(FrozenToy):
    """FrozenToy with a = (1, 0, 0): θ_2's partial is identically 0; only the subclass below says so."""

    a = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)


class DeclaredDeadToy(DeadToy):
    def structural_zeros(self):
        return self.a == 0


def test_profile_separates_zero_by_construction_from_vanished():
    # Undeclared exact zeros: vanished, counted in zero_partials and kept in the average (variance 0).
    prof = layer_profile(DeadToy(), n_samples=50, seed=0)
    assert prof.zero_partials == [0, 1] and prof.vanished_partials == [0, 1]
    declared = layer_profile(DeclaredDeadToy(), n_samples=50, seed=0)
    assert declared.zero_partials == [0, 1] and declared.vanished_partials == [0, 0]
    assert declared.records()[1]["vanished_partials"] == 0 and declared.method == "sample"


class NaNToy(FrozenToy):
    def cost(self, params):
        return super().cost(params) / 0.0 * 0.0


@pytest.mark.parametrize("kwargs, match", [
    ({"seed": -1}, "seed=-1"), ({"chunk_size": 0}, "chunk_size=0"), ({"method": "exact"}, "method='exact'")])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layer_profile(FrozenToy(), n_samples=4, **kwargs)


def test_non_finite_gradients_are_one_clear_error():
    with pytest.raises(ValueError, match="4 of 4 gradient samples are not finite"):
        layer_profile(NaNToy(), n_samples=4)
    with pytest.raises(TypeError, match="not a qcgrad Model"):
        layer_profile("mlp")


def test_profile_takes_any_params_form():
    # Only θ_2 (group layer:1): ∂C/∂θ_2 = 0.5 cos θ_2, Var = 1/8; relative SE sqrt(0.5/S) at S = 4000, 4 SE.
    prof = layer_profile(FrozenToy(), n_samples=4000, seed=0, params=[2])
    assert prof.groups == ["layer:1"] and prof.n_partials == [1]
    assert prof.variance == pytest.approx([0.125], rel=4 * math.sqrt(0.5 / 4000))
    with pytest.raises(ValueError, match="frozen"):
        layer_profile(FrozenToy(), n_samples=4, params=1)
    net = qg.classical.mlp(depth=3, width=4)
    part = layer_profile(net, n_samples=10, seed=2, params=["layer:0", "layer:2"])
    assert part.groups == ["layer:0", "layer:2"]
