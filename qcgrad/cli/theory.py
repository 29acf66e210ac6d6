"""`qcgrad theory NAME knob=value ...`: the DLA of a circuit and the predicted variance of a model."""
from __future__ import annotations

import argparse
import json

from ..registry import build_model
from ..theory import dla, predict
from .variance import _params, parse_knob


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("theory", help="DLA and predicted gradient variance of one model",
                       description="Print the dynamical Lie algebra of a circuit (dimension, simple ideals, "
                                   "center, g-purities) and the theory's predicted variance with its formula, "
                                   "assumptions and reference; for a deep net the mean-field quantities. NAME "
                                   "is an ansatz or an architecture (see `qcgrad list`).",
                       epilog="examples: qcgrad theory hardware_efficient n_qubits=4 n_layers=40\n"
                              "          qcgrad theory hva n_qubits=8 n_layers=20 cost=tfim --of cost\n"
                              "          qcgrad theory mlp depth=20 width=128 activation=tanh init=xavier --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name")
    p.add_argument("knobs", nargs="*", metavar="knob=value")
    p.add_argument("--params", type=_params, default="first",
                   help="which partials, as for `qcgrad variance` (default: first)")
    p.add_argument("--of", choices=("gradient", "cost"), default="gradient")
    p.add_argument("--max-dim", type=int, default=4096, help="bound on the DLA dimension (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the DLA and the prediction as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = build_model(args.name, **dict(parse_knob(k) for k in args.knobs))
    circuit = hasattr(model, "cost_spec")
    payload: dict = {"model": model.describe()}
    algebra = dla(model, max_dim=args.max_dim) if circuit else None
    if algebra is not None:
        payload["dla"] = algebra.to_dict()
    try:
        options = {"max_dim": args.max_dim} if circuit else {}
        payload["prediction"] = predict(model, params=args.params, of=args.of, **options).to_dict()
    except ValueError as err:
        payload["prediction"] = {"refused": str(err)}
    if args.json:
        print(json.dumps(payload, indent=1, default=str))
        return 0
    if algebra is not None:
        print(algebra.summary())
    pred = payload["prediction"]
    if "refused" in pred:
        print(pred["refused"])
        return 0
    value = "-" if pred["variance"] is None else f"{pred['variance']:.6g}"
    print(f"predicted Var[{'∂C/∂θ' if args.of == 'gradient' else 'C'}] = {value}"
          + ("" if pred["base"] is None else f"   per-layer base b = {pred['base']:.6g}"))
    print(f"formula: {pred['formula']}\nreference: {pred['reference']}\nassumptions:")
    print("\n".join(f"  - {a}" for a in pred["assumptions"]))
    for key in ("q_star", "chi1", "chi", "depth_scale", "phase"):
        if key in pred["details"]:
            print(f"{key}: {pred['details'][key]}")
    return 0
