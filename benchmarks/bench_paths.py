"""Pauli-path gradient variance: exact McClean values, path Monte Carlo to a thousand qubits.

Three parts, measured side by side in one run (the host is shared and noisy; times are wall
clock of single calls, reading the circuit included):

1. ``mcclean``: exact dynamic programming for random_pauli + zz, ∂C/∂θ₀, L = 50, n = 2..10,
   beside the engine's sampled estimate with S = 2000 (relative SE ≈ 5 %) on the same model,
   and the 2-design value d/(3(d²−1)) it approaches with depth.
2. ``local``: alternating_layered + local cost, ∂C/∂θ₀, L = 4..20, n = 10..1000, by path
   Monte Carlo, doubling the paths from 20 000 until the relative SE is ≤ 5 % (at most
   640 000); then one call at that n_paths on a fresh model, timed with the reading of the
   circuit (``seconds_final_n_paths``).
3. ``exact_local``: the exact DP on the same local-cost points at n = 100 (the light cone is
   the same for every n ≥ 2L + 2), to show where exact DP stops paying: its map of strings
   grows as 4^(light-cone width) and it gives up past :data:`qcgrad.quantum.paths.exact.MAX_STRINGS`.

    python benchmarks/bench_paths.py --out benchmarks/results [--quick]
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

import qcgrad as qg
from qcgrad.quantum.paths import paths_variance
from qcgrad.quantum.paths.exact import MAX_STRINGS, TooLarge, second_moment
from qcgrad.quantum.paths.reader import read
from qcgrad.quantum.paths.region import restrict

TARGET_REL_SE = 0.05


def mcclean(n_values: list[int], n_layers: int, samples: int) -> list[dict]:
    rows = []
    for n in n_values:
        model = qg.quantum.circuit("random_pauli", n_qubits=n, n_layers=n_layers, cost="zz")
        t0 = time.perf_counter()
        exact = paths_variance(model)
        t_paths = time.perf_counter() - t0
        t0 = time.perf_counter()
        sampled = qg.gradient_variance(model, n_samples=samples, seed=0)
        t_engine = time.perf_counter() - t0
        d = 2**n
        rows.append({"n_qubits": n, "n_layers": n_layers, "variance": exact.variance, "exact": exact.exact,
                     "paths_s": t_paths, "paths_faster_than_engine": t_paths < t_engine,
                     "engine_variance": sampled.variance, "engine_se": sampled.se,
                     "engine_samples": samples, "engine_s": t_engine, "two_design": d / (3 * (d * d - 1))})
        print(f"mcclean n={n:2d}: exact {exact.variance:.6g} in {t_paths:6.2f} s | engine S={samples} "
              f"{sampled.variance:.6g} ± {sampled.se:.2g} in {t_engine:6.2f} s", flush=True)
    return rows


def local_mc(n_values: list[int], layers: list[int], max_paths: int) -> list[dict]:
    rows = []
    for n_layers in layers:
        for n in n_values:
            model = qg.quantum.circuit("alternating_layered", n_qubits=n, n_layers=n_layers, cost="local")
            n_paths = 20_000
            t0 = time.perf_counter()
            while True:
                est = paths_variance(model, n_paths=n_paths, seed=0)
                if est.rel_err <= TARGET_REL_SE or n_paths >= max_paths:
                    break
                n_paths *= 2
            elapsed = time.perf_counter() - t0
            # One call at the final n_paths on a fresh model (reading the circuit included).
            model = qg.quantum.circuit("alternating_layered", n_qubits=n, n_layers=n_layers, cost="local")
            t0 = time.perf_counter()
            paths_variance(model, n_paths=n_paths, seed=0)
            last = time.perf_counter() - t0
            rows.append({"n_qubits": n, "n_layers": n_layers, "variance": est.variance, "se": est.se,
                         "rel_se": est.rel_err, "n_paths": n_paths, "seconds_with_doubling": elapsed,
                         "seconds_final_n_paths": last})
            print(f"local L={n_layers:2d} n={n:4d}: {est.variance:.4g} ± {est.rel_err:.1%} with {n_paths} paths, "
                  f"{last:5.2f} s (doubling included {elapsed:5.2f} s)", flush=True)
    return rows


def exact_local(layers: list[int], n: int) -> list[dict]:
    rows = []
    for n_layers in layers:
        model = qg.quantum.circuit("alternating_layered", n_qubits=n, n_layers=n_layers, cost="local")
        region = restrict(read(model), 0)
        t0 = time.perf_counter()
        try:
            value: float | None = second_moment(region)
        except TooLarge:
            value = None
        elapsed = time.perf_counter() - t0
        rows.append({"n_qubits": n, "n_layers": n_layers, "light_cone_qubits": region.n, "variance": value,
                     "seconds": elapsed, "gave_up": value is None})
        print(f"exact local L={n_layers:2d}: light cone {region.n} qubits, "
              f"{'gave up' if value is None else f'{value:.6g}'} after {elapsed:6.2f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--quick", action="store_true", help="a small grid (smoke test)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.quick:
        n_mc, layers, n_local, max_paths, exact_layers = [2, 4, 6], [4, 8], [10, 100], 80_000, [4, 8]
    else:
        n_mc, layers, n_local = list(range(2, 11)), [4, 8, 12, 16, 20], [10, 30, 100, 300, 1000]
        max_paths, exact_layers = 640_000, [4, 6, 8, 10, 12, 14, 16]
    t0 = time.perf_counter()
    result = {
        "benchmark": "bench_paths",
        "host": {"platform": platform.platform(), "processor": platform.processor(), "torch": torch.__version__,
                 "threads": torch.get_num_threads(),
                 "note": "shared host (2 cores, other jobs running): times are noisy"},
        "max_strings": MAX_STRINGS,
        "mcclean": mcclean(n_mc, 50, 2000),
        "local": local_mc(n_local, layers, max_paths),
        "exact_local": exact_local(exact_layers, 100),
    }
    result["mcclean_total_paths_s"] = sum(r["paths_s"] for r in result["mcclean"])
    slower = [r["n_qubits"] for r in result["mcclean"] if not r["paths_faster_than_engine"]]
    gave_up = [r for r in result["exact_local"] if r["gave_up"]]
    result["exact_dp_stops_paying"] = {
        "mcclean_first_n_slower_than_engine_s2000": slower[0] if slower else None,
        "local_first_light_cone_qubits_given_up": gave_up[0]["light_cone_qubits"] if gave_up else None,
        "local_first_n_layers_given_up": gave_up[0]["n_layers"] if gave_up else None,
    }
    result["local_max_seconds_final_n_paths"] = max(r["seconds_final_n_paths"] for r in result["local"])
    result["local_max_rel_se"] = max(r["rel_se"] for r in result["local"])
    result["total_s"] = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "bench_paths.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"exact McClean n={n_mc[0]}..{n_mc[-1]}: {result['mcclean_total_paths_s']:.1f} s in total; wrote {path}")


if __name__ == "__main__":
    main()
