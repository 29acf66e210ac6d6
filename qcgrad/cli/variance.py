"""`qcgrad variance NAME knob=value ...`: the gradient variance of one model."""
from __future__ import annotations

import argparse
import ast
import json
import math
from typing import Any

from ..gradients import parse_params
from ..registry import build_model
from ..stats import METHODS, VarianceEstimate, gradient_variance


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


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("variance", help="gradient variance of one model",
                       description="Variance of per-sample gradients of one model over its init "
                                   "distribution. NAME is an architecture or an ansatz (see `qcgrad list`).",
                       epilog="examples: qcgrad variance random_pauli n_qubits=6 n_layers=50 cost=zz --json\n"
                              "          qcgrad variance random_pauli n_qubits=6 n_layers=50 cost=zz --method paths\n"
                              "          qcgrad variance mlp depth=4 width=8 --params layer:0,layer:3\n"
                              "          qcgrad variance mlp depth=20 width=64 activation=tanh init=xavier\n"
                              "          qcgrad variance hardware_efficient n_qubits=4 n_layers=3 cost=tfim:h=0.5 "
                              "topology=ring\n"
                              "          qcgrad variance random_pauli n_qubits=3 n_layers=4 noise=depolarizing:0.1 "
                              "shots=1000",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name")
    p.add_argument("knobs", nargs="*", metavar="knob=value")
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--params", type=_params, default="first",
                   help="'first', 'all', an index, a group such as layer:0, a slice such as 0:8, or a "
                        "comma-separated list such as 0,1,5 or layer:0,layer:3 (default: first)")
    p.add_argument("--method", choices=METHODS, default="sample",
                   help="sample gradients, Pauli-path propagation (exact or path Monte Carlo), or "
                        "auto: paths where they apply and pay (default: sample)")
    p.add_argument("--n-paths", type=int, default=None, help="paths for path Monte Carlo")
    p.add_argument("--rel-err", type=float, default=None, help="draw samples until SE/Var ≤ this")
    p.add_argument("--json", action="store_true", help="print the estimate as JSON")
    p.set_defaults(func=run)


def _params(text: str) -> Any:
    try:
        return parse_params(text)
    except ValueError as err:  # argparse reports ArgumentTypeError with its message, exit 2
        raise argparse.ArgumentTypeError(str(err)) from None


def summary_line(est: VarianceEstimate) -> str:
    """One human-readable line; raises ValueError rather than print a non-finite number."""
    numbers = (est.variance, *est.ci, est.se)
    if not all(math.isfinite(v) for v in numbers):
        raise ValueError(f"the estimate is not finite (variance {est.variance}, CI {est.ci}); nothing to report")
    if est.exact:
        return f"Var[∂C/∂θ] = {est.variance:.6g}  (exact, {est.method})"
    kurtosis = f"{est.kurtosis:.2f}" if math.isfinite(est.kurtosis) else "n/a (variance 0)"
    size = f"paths={est.n_paths}" if est.method == "paths" else f"S={est.n_samples}"
    return (f"Var[∂C/∂θ] = {est.variance:.4g}  95% CI [{est.ci[0]:.4g}, {est.ci[1]:.4g}]  "
            f"SE {est.se:.2g}  kurtosis {kurtosis}  {size}  method {est.method}")


def run(args: argparse.Namespace) -> int:
    model = build_model(args.name, **dict(parse_knob(k) for k in args.knobs))
    est = gradient_variance(model, n_samples=args.samples, seed=args.seed, params=args.params,
                            rel_err=args.rel_err, method=args.method, n_paths=args.n_paths)
    if args.json:
        print(json.dumps(est.to_dict(), indent=1, allow_nan=False))
    else:
        line = summary_line(est)
        print(f"{model!r}\n{line}")
    return 0
