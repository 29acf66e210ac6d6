"""`qcgrad variance NAME knob=value ...`: the gradient variance of one model."""
from __future__ import annotations

import argparse
import ast
import json
from typing import Any

from ..registry import build_model
from ..stats import gradient_variance


def parse_knob(text: str) -> tuple[str, Any]:
    """``"n_qubits=6"`` -> ("n_qubits", 6); values are Python literals, else strings."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ValueError(f"knob {text!r} is not of the form name=value (e.g. n_qubits=6)")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return key.replace("-", "_"), value


def parse_params(text: str) -> str | int:
    return int(text) if text.lstrip("-").isdigit() else text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("variance", help="gradient variance of one model",
                       description="Variance of per-sample gradients of one model over its init "
                                   "distribution. NAME is an architecture or an ansatz (see `qcgrad list`).",
                       epilog="examples: qcgrad variance random_pauli n_qubits=6 n_layers=50 cost=zz --json\n"
                              "          qcgrad variance mlp depth=20 width=64 activation=tanh init=xavier\n"
                              "          qcgrad variance hardware_efficient n_qubits=4 n_layers=3 cost=tfim:h=0.5 topology=ring\n"
                              "          qcgrad variance random_pauli n_qubits=3 n_layers=4 noise=depolarizing:0.1 shots=1000",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name")
    p.add_argument("knobs", nargs="*", metavar="knob=value")
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--params", type=parse_params, default="first",
                   help="'first', 'all', an index, or a group such as layer:0 (default: first)")
    p.add_argument("--rel-err", type=float, default=None, help="draw samples until SE/Var ≤ this")
    p.add_argument("--json", action="store_true", help="print the estimate as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = build_model(args.name, **dict(parse_knob(k) for k in args.knobs))
    est = gradient_variance(model, n_samples=args.samples, seed=args.seed, params=args.params,
                            rel_err=args.rel_err)
    if args.json:
        print(json.dumps(est.to_dict(), indent=1))
    else:
        print(f"{model!r}\nVar[∂C/∂θ] = {est.variance:.4g}  95% CI [{est.ci[0]:.4g}, {est.ci[1]:.4g}]  "
              f"SE {est.se:.2g}  kurtosis {est.kurtosis:.2f}  S={est.n_samples}")
    return 0
