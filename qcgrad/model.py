"""The one interface every model implements: a deep net and a circuit look the same here."""
from __future__ import annotations

import abc
from typing import Any

import torch


class Model(abc.ABC):
    """A parameterized model whose gradient statistics qcgrad measures.

    A model is a batched, differentiable cost over a flat parameter vector plus the
    distribution its parameters are initialized from. Everything else in qcgrad
    (estimators, scans, sweeps, training, diagnostics) is a function over Models.

    Attributes
    ----------
    n_params : int
        Width of the flat parameter vector.
    param_groups : dict[str, slice]
        Named slices of the parameter vector, e.g. ``"layer:0"``; per-layer statistics
        work the same for nets and circuits through them.
    frozen : tuple[str, ...]
        Names of groups that are structure, not trainable parameters (for example the
        random gate choices of a McClean circuit, drawn with each sample). Their gradient
        is zero by construction; estimators and optimizers leave them out.
    """

    n_params: int
    param_groups: dict[str, slice]
    frozen: tuple[str, ...] = ()

    @abc.abstractmethod
    def sample_params(self, generator: torch.Generator, n: int) -> torch.Tensor:
        """Draw ``n`` parameter vectors from the initialization distribution.

        Deterministic given the state of ``generator``. Returns ``Tensor[n, n_params]``.
        """

    @abc.abstractmethod
    def cost(self, params: torch.Tensor) -> torch.Tensor:
        """Batched, differentiable cost: ``Tensor[n, n_params] -> Tensor[n]``."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """The model's knobs (family, sizes, activation, ansatz, ...), stored with results."""

    def grad(self, params: torch.Tensor, indices: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample gradients ``dC/dparams``.

        Parameters
        ----------
        params : Tensor[n, n_params]
        indices : Tensor[k] of int, optional
            Which partial derivatives; all when omitted. Models that can compute a few
            partials more cheaply than all of them (parameter shift) use this.

        Returns
        -------
        Tensor[n, n_params] or Tensor[n, k]
        """
        # Samples are independent, so the gradient of the summed cost is per-sample.
        p = params.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(self.cost(p).sum(), p)
        return g if indices is None else g[:, indices]

    def structural_zeros(self) -> torch.Tensor | None:
        """Bool mask ``[n_params]``: partials that are zero for every parameter value.

        Zero by the model's structure (for a circuit: outside every observable term's
        backward light cone). None: the model cannot tell.
        """
        return None

    def gradient_tolerance(self) -> float | None:
        """Absolute size below which a computed partial is rounding noise of an exact zero.

        For a circuit e.g. ``1e3 * eps(dtype) * ||O||_1``. None: only exact zeros count, and
        exact zeros the model cannot explain structurally are reported as vanished
        (underflow or saturation), not as zero by construction.
        """
        return None

    @property
    def trainable(self) -> torch.Tensor:
        """Boolean mask over the parameter vector: False inside frozen groups."""
        mask = torch.ones(self.n_params, dtype=torch.bool)
        for name in self.frozen:
            mask[self.param_groups[name]] = False
        return mask

    def __repr__(self) -> str:
        knobs = ", ".join(f"{k}={v!r}" for k, v in self.describe().items())
        return f"{type(self).__name__}({knobs})"
