"""Batched training (n_runs rows of one tensor) vs a Python loop of single runs, MLP and circuit.

Usage: python benchmarks/bench_train.py [--out benchmarks/results] [--steps 50] [--n-runs 64] [--threads N]

On a shared machine give --threads 1: with every core busy, torch's intra-op threads wait
on each other and a step can run ten times slower than on one thread.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

import qcgrad as qg
from qcgrad.optim import train
from qcgrad.seeding import sample_block


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(name: str, model, steps: int, n_runs: int) -> dict:
    init = sample_block(model, 0, 0, n_runs)
    # one-time costs (lazy imports, the optimizer's first step) would otherwise all land on
    # whichever path runs first
    train(model, "adam", steps=2, n_runs=1, init=init[:1])
    batched = _time(lambda: train(model, "adam", steps=steps, n_runs=n_runs, init=init))
    loop = _time(lambda: [train(model, "adam", steps=steps, n_runs=1, init=init[r:r + 1]) for r in range(n_runs)])
    return {"model": name, "describe": model.describe(), "steps": steps, "n_runs": n_runs,
            "batched_s": batched, "loop_s": loop, "speedup": loop / batched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--n-runs", type=int, default=64)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = [
        bench("mlp", qg.classical.mlp(depth=10, width=32, activation="tanh"), args.steps, args.n_runs),
        bench("circuit", qg.quantum.circuit("random_pauli", n_qubits=6, n_layers=10, cost="zz"), args.steps,
              args.n_runs),
    ]
    report = {"benchmark": "bench_train", "machine": platform.platform(), "threads": torch.get_num_threads(),
              "torch": torch.__version__, "results": results}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_train.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
