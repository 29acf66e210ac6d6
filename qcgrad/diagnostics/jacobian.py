"""Input-output Jacobians of classical models: singular spectra, isometry, per-layer norms.

Works on models that expose ``forward(theta, inputs)`` and their data batch ``inputs`` (as
:class:`qcgrad.classical.TorchModel` does); per-layer quantities also need the layer list
``model.module.layers``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast

import torch
from torch.func import jacrev, vmap

from ..model import Model
from ..seeding import sample_block
from ..validation import check_int
from .checks import check_params, check_tensor


@dataclass
class JacobianSpectrum:
    """Singular values of the input-output Jacobian at ``n_inits`` initializations.

    Attributes
    ----------
    singular_values : Tensor[n_inits, k]
        Decreasing, per init, of ∂f(x)/∂x at the first input of the model's batch.
    condition : Tensor[n_inits]
        σ_max/σ_min (1 for a perfect isometry).
    isometry : Tensor[n_inits]
        Dynamical-isometry score: standard deviation of ln σ_i (0 when all singular values
        are equal; grows as the spectrum spreads).
    """

    singular_values: torch.Tensor
    condition: torch.Tensor
    isometry: torch.Tensor


class _Forward(Protocol):
    """What the Jacobian diagnostics use of a classical model."""

    inputs: torch.Tensor

    def forward(self, theta: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor: ...


def _check_forward(model: Model) -> _Forward:
    """``model`` typed as what it was just checked to have: ``forward(theta, inputs)`` and ``inputs``."""
    if not callable(getattr(model, "forward", None)) or getattr(model, "inputs", None) is None:
        raise TypeError(f"{type(model).__name__} has no forward(theta, inputs) and inputs; "
                        "Jacobian diagnostics need a classical model (qcgrad.classical builders)")
    return cast(_Forward, model)


def jacobian_spectrum(model: Model, n_inits: int = 16, seed: int = 0) -> JacobianSpectrum:
    """Input-output Jacobian spectrum at init, batched over ``n_inits`` samples.

    Examples
    --------
    >>> import qcgrad as qg
    >>> spec = jacobian_spectrum(qg.classical.deep_linear(depth=8, width=4), n_inits=2)
    >>> torch.allclose(spec.condition, torch.ones(2, dtype=torch.float64))
    True
    """
    net = _check_forward(model)
    check_int(n_inits=n_inits)
    check_int(0, seed=seed)
    params = sample_block(model, seed, 0, n_inits)
    x0 = net.inputs[0]

    def output(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return net.forward(theta, x[None])[0].reshape(-1)

    jac = vmap(jacrev(output, argnums=1), in_dims=(0, None))(params, x0).reshape(n_inits, -1, x0.numel())
    sv = torch.linalg.svdvals(check_tensor("input-output Jacobian", jac))
    return JacobianSpectrum(sv, sv[:, 0] / sv[:, -1], torch.log(sv).std(dim=1, unbiased=False))


def layer_jacobians(model: Model, params: torch.Tensor) -> list[torch.Tensor]:
    """Jacobian of each layer's output w.r.t. the previous layer's output (the first layer:
    w.r.t. the input), at the first input of the batch and parameter vector ``params[P]``.
    The activation between layers is part of the next layer's Jacobian.
    """
    net = _check_forward(model)
    params = check_params(model, params, batched=False)
    layers = getattr(getattr(model, "module", None), "layers", None)
    if layers is None:
        raise TypeError(f"{type(model).__name__} has no module.layers; per-layer Jacobians need a layered model")
    outputs: list[torch.Tensor] = []
    handles = [layer.register_forward_hook(lambda mod, inp, out: outputs.append(out)) for layer in layers]
    try:
        x = net.inputs[:1].clone().requires_grad_(True)
        with torch.enable_grad():
            net.forward(params.detach(), x)
            chain = [x] + outputs
            jacs: list[torch.Tensor] = []
            for prev, out in zip(chain[:-1], chain[1:], strict=True):
                flat = out.reshape(-1)
                rows = [torch.autograd.grad(flat[i], prev, retain_graph=True)[0].reshape(-1)
                        for i in range(flat.numel())]
                jacs.append(check_tensor(f"Jacobian of layer {len(jacs)}", torch.stack(rows)))
    finally:
        for h in handles:
            h.remove()
    return jacs


def layer_norms(model: Model, params: torch.Tensor) -> dict[str, object]:
    """Per-layer Jacobian spectral norms, their product bound ∏‖J_l‖₂, and the true ‖J‖₂.

    The product bounds the input-output Jacobian norm from above; how loose it is shows
    how much the layers' directions decorrelate.

    Returns
    -------
    dict
        ``norms`` (Tensor[L]), ``product_bound`` (float), ``true_norm`` (float).
    """
    jacs = layer_jacobians(model, params)
    norms = torch.stack([torch.linalg.matrix_norm(j, ord=2) for j in jacs])
    total = jacs[0]
    for j in jacs[1:]:
        total = j @ total
    return {"norms": norms, "product_bound": norms.prod().item(),
            "true_norm": torch.linalg.matrix_norm(total, ord=2).item()}
