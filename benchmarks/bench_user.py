"""User circuits vs built-in ansätze: the McClean workload written as a user's layer function.

A user layer that rebuilds ``random_pauli`` (random-axis rotations drawn as a per-sample
``structure=``, a CZ chain, the RY(π/4) prefix as ``state_prep=``) and the built-in ansatz run
the same gradients side by side in one process: S samples, L layers, cost zz, n qubits;
``params="first"`` (∂C/∂θ₀, batched parameter shift) and ``params="all"`` (adjoint), recording
included. Each timing is the best of many rounds that alternate the two (the host is shared and
noisy: compare the ratios, not the absolute times). Writes ``bench_user.json`` and prints a table.

    python benchmarks/bench_user.py --out benchmarks/results [--quick]
"""
from __future__ import annotations

import argparse
import json
import math
import platform
from pathlib import Path

import pennylane as qml
import torch
from timing import interleaved_best

import qcgrad as qg
from qcgrad.quantum import AxisRotation


def mcclean_layer(angles, codes, wires):
    """One McClean layer for ONE sample: rotation about axis codes[q] on every qubit, then CZs."""
    for q, w in enumerate(wires):
        AxisRotation(angles[q], codes[q], wires=w)
    for a, b in zip(wires[:-1], wires[1:], strict=True):
        qml.CZ(wires=[a, b])


def user_model(n: int, n_layers: int):
    def codes(gen: torch.Generator, s: int) -> torch.Tensor:
        return torch.randint(0, 3, (s, n_layers, n), generator=gen)

    def ry_quarter(wires):
        for w in wires:
            qml.RY(math.pi / 4, wires=w)

    return qg.quantum.circuit(mcclean_layer, n, n_layers=n_layers, angles_per_layer=n, structure=codes,
                              state_prep=ry_quarter, cost="zz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--quick", action="store_true", help="n = 4, 6 only, fewer repeats")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--layers", type=int, default=50)
    args = parser.parse_args()
    qubits = (4, 6) if args.quick else (4, 6, 8, 10)
    repeats = 5 if args.quick else 15
    rows = []
    for n in qubits:
        built_in = qg.quantum.circuit("random_pauli", n, args.layers, cost="zz")
        user = user_model(n, args.layers)
        params = built_in.sample_params(torch.Generator().manual_seed(n), args.samples)
        assert torch.equal(params, user.sample_params(torch.Generator().manual_seed(n), args.samples))
        for which, indices in (("first", torch.tensor([0])), ("all", None)):
            times = interleaved_best({name: (lambda m=model, p=params, i=indices: m.grad(p, i))
                                for name, model in (("built_in", built_in), ("user", user))}, repeats)
            diff = (built_in.grad(params, indices) - user.grad(params, indices)).abs().max().item()
            rows.append({"n_qubits": n, "params": which, "built_in_s": times["built_in"], "user_s": times["user"],
                         "ratio": times["user"] / times["built_in"], "max_abs_diff": diff})
            r = rows[-1]
            print(f"n={n:2d} params={which:5s} built-in {r['built_in_s'] * 1e3:8.1f} ms  user "
                  f"{r['user_s'] * 1e3:8.1f} ms  ratio {r['ratio']:.3f}  |Δgrad| {diff:.1e}", flush=True)
    result = {"benchmark": "bench_user", "workload": {"ansatz": "random_pauli (McClean 2018)", "cost": "zz",
                                                      "n_samples": args.samples, "n_layers": args.layers},
              "timing": f"best of {repeats} alternating rounds; shared noisy host (2 cores, 8 agents), compare ratios",
              "torch_threads": torch.get_num_threads(), "platform": platform.platform(),
              "torch": torch.__version__, "pennylane": qml.__version__, "rows": rows,
              "max_ratio": max(r["ratio"] for r in rows)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_user.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"max ratio user/built-in: {result['max_ratio']:.3f}; wrote {args.out / 'bench_user.json'}")


if __name__ == "__main__":
    main()
