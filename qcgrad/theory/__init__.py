"""Theory next to every measurement: Lie algebras for circuits, mean field for deep nets.

- :func:`dla` — the dynamical Lie algebra of a circuit (:mod:`qcgrad.theory.lie_algebra`).
- :func:`predict` — the predicted variance of a model's partial derivatives (or cost), with
  its formula, assumptions and reference: circuits through :mod:`qcgrad.theory.circuits`
  (Ragone et al. 2024; Fontana et al. 2024; McClean et al. 2018; Cerezo et al. 2021), deep
  nets through :mod:`qcgrad.theory.meanfield` (Poole et al. 2016; Schoenholz et al. 2017;
  Pennington et al. 2017). Where no formula applies it raises ValueError naming the failed
  assumption; it never returns a number it cannot justify.
- :func:`predicted`, :func:`compare_theory` — measured vs predicted over a scan
  (:mod:`qcgrad.theory.compare`).
"""
from __future__ import annotations

from .circuits import predict_circuit
from .compare import compare_theory, predicted
from .lie_algebra import DLA, Ideal, dla
from .meanfield import chi1, critical_std, depth_scale, fixed_point, predict_net
from .prediction import Prediction


def predict(model, params="first", of: str = "gradient", **options) -> Prediction:
    """The theory value of Var[∂C/∂θ] (``of="gradient"``) or Var[C] (``of="cost"``) for ``model``.

    Parameters
    ----------
    model : Model
        A circuit (:func:`qcgrad.quantum.circuit`) or a classical net (mlp, deep_linear,
        tower, rnn).
    params : ParamSpec
        Which partials, as in :func:`qcgrad.gradient_variance` (several are averaged).
    of : {"gradient", "cost"}
    **options
        ``max_dim``, ``seed`` for circuits.

    Returns
    -------
    Prediction

    Raises
    ------
    ValueError
        When no formula applies; the message names the failed assumption and what is supported.

    Examples
    --------
    >>> import qcgrad as qg
    >>> p = predict(qg.quantum.circuit("tensor_product", n_qubits=4, cost="global"))
    >>> round(p.variance * 8 * (8 / 3) ** 3, 12), p.reference.split(",")[0]  # (1/8)(3/8)^(n-1)
    (1.0, 'Cerezo et al. 2021')
    """
    if hasattr(model, "cost_spec"):
        return predict_circuit(model, params=params, of=of, **options)
    if options:
        raise TypeError(f"options {sorted(options)} apply to circuits only")
    if hasattr(model, "knobs"):
        return predict_net(model, params=params, of=of)
    raise ValueError(f"no prediction: {type(model).__name__} is neither a qcgrad circuit nor a built-in classical "
                     "architecture; supported: qcgrad.quantum.circuit models and mlp, deep_linear, tower, rnn")


__all__ = ["DLA", "Ideal", "Prediction", "dla", "predict", "predict_circuit", "predict_net", "predicted",
           "compare_theory", "chi1", "critical_std", "depth_scale", "fixed_point"]
