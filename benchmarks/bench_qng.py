"""Quantum natural gradient: qcgrad's batched QNG step vs its Adam step vs PennyLane's QNGOptimizer.

Workload (issue #14): 4-qubit TFIM VQE, hardware_efficient with L = 4 (32 angles), 8 runs.
Measured side by side in one run on one machine:

- qcgrad ``train(..., "adam")`` and ``train(..., "qng", approx=...)`` for "block-diag",
  "full" and "diag": seconds per step for all 8 runs, after a warm-up;
- PennyLane's ``qml.QNGOptimizer`` (``qml.metric_tensor`` on default.qubit, block-diagonal and
  full) looping over the same 8 initializations, fewer steps (it is slow), per step for all 8;
- a correctness check in the same run: one QNG step of qcgrad vs PennyLane from the same
  parameters (same damping λ), largest absolute difference.

Usage: python benchmarks/bench_qng.py [--out benchmarks/results] [--steps 40] [--pl-steps 3]
       [--pl-full-steps 1] [--threads 1]

PennyLane's full metric runs O(P²) Hadamard-test circuits per run and step (about 100 s per
step of 8 runs here), hence its own, smaller step count.

The host is shared and noisy: ratios are only meaningful within one run.
"""
from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import pennylane as qml
import torch
from timing import best_time

import qcgrad as qg
from qcgrad.optim import train
from qcgrad.seeding import sample_block

DAMPING = 1e-3
LR = 0.05


def _pennylane_node(qc, approx: str):
    wires = qc.n_qubits + (1 if approx == "full" else 0)  # the full metric's Hadamard tests need an ancilla
    dev = qml.device("default.qubit", wires=wires)
    observable = qc.cost_spec.observable(qc.wires)

    @qml.qnode(dev)
    def node(p):
        qc.ansatz.qfunc(p, qc.wires, qc.n_layers)
        return qml.expval(observable)
    return node


def _pennylane_steps(qc, init: torch.Tensor, approx: str, steps: int) -> tuple[float, torch.Tensor]:
    """Seconds for ``steps`` QNGOptimizer steps of every run (a Python loop over runs), and the params after one."""
    node = _pennylane_node(qc, approx)
    first = []

    def run() -> None:
        first.clear()
        for row in init:
            opt = qml.QNGOptimizer(stepsize=LR, approx=None if approx == "full" else approx, lam=DAMPING)
            p = qml.numpy.array(row.numpy(), requires_grad=True)
            for s in range(steps):
                p = opt.step(node, p)
                if s == 0:
                    first.append(torch.as_tensor(p.numpy()))
    return best_time(run, 1)[0], torch.stack(first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--pl-steps", type=int, default=3)
    parser.add_argument("--pl-full-steps", type=int, default=1)
    parser.add_argument("--n-runs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    qc = qg.quantum.circuit("hardware_efficient", n_qubits=4, n_layers=4, cost="tfim")
    init = sample_block(qc, 0, 0, args.n_runs)

    def qcgrad_run(optimizer: str, approx: str | None, steps: int) -> qg.optim.TrainResult:
        options = {} if optimizer != "qng" else {"damping": DAMPING}
        return train(qc, optimizer, steps=steps, n_runs=args.n_runs, init=init, lr=LR, approx=approx,
                     optimizer_options=options)

    sides = {"adam": ("adam", None), "qng_block_diag": ("qng", "block-diag"), "qng_full": ("qng", "full"),
             "qng_diag": ("qng", "diag")}
    per_step = {}
    for name, (optimizer, approx) in sides.items():
        qcgrad_run(optimizer, approx, 2)  # warm-up: lazy imports, cached matrices, the block structure
        wall = best_time(lambda o=optimizer, a=approx: qcgrad_run(o, a, args.steps), 3)[0]
        per_step[name] = wall / args.steps

    pennylane = {}
    for approx, steps in (("block-diag", args.pl_steps), ("full", args.pl_full_steps)):
        seconds, first = _pennylane_steps(qc, init, approx, steps)
        ours = qcgrad_run("qng", approx, 1).params
        pennylane[approx] = {"steps": steps, "s_per_step": seconds / steps,
                             "first_step_max_abs_diff": (ours - first).abs().max().item()}

    report = {
        "benchmark": "bench_qng", "machine": platform.platform(), "threads": torch.get_num_threads(),
        "torch": torch.__version__, "pennylane": qml.__version__,
        "workload": {"model": qc.describe(), "n_params": qc.n_params, "n_runs": args.n_runs, "lr": LR,
                     "damping": DAMPING, "steps": args.steps},
        "qcgrad_s_per_step": per_step,
        "pennylane_qngoptimizer": pennylane,
        "ratios": {
            "qng_block_diag_over_adam": per_step["qng_block_diag"] / per_step["adam"],
            "qng_full_over_adam": per_step["qng_full"] / per_step["adam"],
            "qng_diag_over_adam": per_step["qng_diag"] / per_step["adam"],
            "pennylane_block_diag_over_qcgrad": pennylane["block-diag"]["s_per_step"] / per_step["qng_block_diag"],
            "pennylane_full_over_qcgrad": pennylane["full"]["s_per_step"] / per_step["qng_full"],
        },
        "note": "shared, noisy host: each qcgrad time is the best of 3 runs; ratios hold within this run only",
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_qng.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
