"""Light-cone benchmark: local-cost gradient variance scans to n = 100 (Cerezo et al. 2021).

For ``alternating_layered`` (brickwork of 2-qubit blocks) with the local cost at L = 2 and 4,
each point n = 4, 8, ..., 100 draws S parameter samples and takes ∂C/∂θ₀ by light cones (only
the cones that contain θ₀ are simulated, each on its own qubits); the whole scan is timed. For
n ≤ 14 the full engine runs beside it (seconds, and the largest difference of the partials,
which must be ≤ 1e-10). ``hardware_efficient`` is reported with its cone width: its CNOT
ladder spreads every term's cone over the register, so light cones do not apply there; its
scans at L = 1..4 run what ``lightcone="auto"`` picks (the exact MPS route of
``qcgrad.quantum.mps`` with bonds 2^L, or the full engine where that does not pay; all
partials in one backward pass, θ₀ kept), and at n = 12 the MPS route and the full engine
run side by side for all partials.

    python benchmarks/bench_lightcone.py --out benchmarks/results [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

import qcgrad as qg
from qcgrad.quantum import lightcone, mps


def scan(ansatz: str, n_layers: int, ns: list[int], s: int, full_max: int, route: str = "cones") -> dict:
    """``route="cones"``: the light-cone plan; ``"auto"``: what ``lightcone="auto"`` picks."""
    points, t_scan, t_routes, cpu_routes = [], time.perf_counter(), 0.0, 0.0
    for n in ns:
        model = qg.quantum.circuit(ansatz, n, n_layers, cost="local")
        params = model.sample_params(torch.Generator().manual_seed(n), s)
        t0, c0 = time.perf_counter(), time.process_time()
        plan = lightcone.lightcone_plan(model) if route == "cones" else lightcone.use_lightcone(model, "auto")
        g = (model.grad(params)[:, 0] if plan is None
             else lightcone.model_grad(model, plan, params, indices=[0])[:, 0])
        point = {"n_qubits": n, "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
                 "variance": float(g.var())}
        t_routes += point["seconds"]
        cpu_routes += point["cpu_seconds"]
        if route == "cones":
            point.update(cone_width=plan.width, groups=len(plan.groups), pays=plan.pays)
        else:
            point["route"] = "full engine" if plan is None else plan.summary
        if n <= full_max:
            t0 = time.perf_counter()
            full = qg.quantum.circuit(ansatz, n, n_layers, cost="local", lightcone=False).grad(params)[:, 0]
            point["full_engine_s"] = time.perf_counter() - t0
            point["max_abs_diff_vs_full"] = float((full - g).abs().max())
        points.append(point)
        print(ansatz, n_layers, " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                         for k, v in point.items()), flush=True)
    return {"ansatz": ansatz, "n_layers": n_layers, "n_samples": s, "route": route,
            "scan_seconds": time.perf_counter() - t_scan, "route_seconds": t_routes, "route_cpu_seconds": cpu_routes,
            "points": points}


def side_by_side(n: int, n_layers: int, s: int) -> dict:
    """All partials at one point by the MPS route and by the full engine, in the same run."""
    model = qg.quantum.circuit("hardware_efficient", n, n_layers, cost="local", lightcone=False)
    params = model.sample_params(torch.Generator().manual_seed(n), s)
    t0 = time.perf_counter()
    plan = mps.mps_plan(model)
    g = mps.model_grad(model, plan, params)
    t_mps = time.perf_counter() - t0
    t0 = time.perf_counter()
    full = model.grad(params)
    t_full = time.perf_counter() - t0
    row = {"ansatz": "hardware_efficient", "n_qubits": n, "n_layers": n_layers, "n_samples": s,
           "params": "all", "bond": plan.max_bond, "auto_pays": plan.pays, "mps_s": t_mps, "full_engine_s": t_full,
           "full_over_mps": t_full / t_mps, "max_abs_diff": float((g - full).abs().max())}
    print("side by side", " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                   for k, v in row.items()), flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--quick", action="store_true", help="n = 4..40, S = 50")
    ap.add_argument("--samples", type=int, default=200)
    args = ap.parse_args(argv)
    s = 50 if args.quick else args.samples
    ns = list(range(4, 41 if args.quick else 101, 4))
    scans = [scan("alternating_layered", layers, ns, s, full_max=14) for layers in (2, 4)]
    he_scans = [scan("hardware_efficient", layers, ns, s, full_max=12, route="auto") for layers in (1, 2, 3, 4)]
    pairs = [side_by_side(12, layers, s) for layers in (1, 2, 3, 4)]
    he = [{"n_qubits": n, "n_layers": 2,
           "cone_width": lightcone.lightcone_plan(qg.quantum.circuit("hardware_efficient", n, 2, cost="local")).width}
          for n in (8, 16)]
    result = {"workload": {"cost": "local", "params": "first (theta_0)", "method": "light cones + adjoint"},
              "scans": scans, "hardware_efficient_cone_width": he,
              "hardware_efficient_scans": he_scans,
              "hardware_efficient_scan_total_s": sum(sc["scan_seconds"] for sc in he_scans),
              "hardware_efficient_route_cpu_total_s": sum(sc["route_cpu_seconds"] for sc in he_scans),
              "mps_vs_full_engine": pairs,
              "versions": {"qcgrad": qg.__version__, "torch": torch.__version__,
                           "python": platform.python_version()},
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "torch_threads": torch.get_num_threads(), "load_avg": os.getloadavg(),
                          "note": "shared 2-core host (other work running beside it: see load_avg)"}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_lightcone.json").write_text(json.dumps(result, indent=2))
    for sc in scans + he_scans:
        print(f"{sc['ansatz']} L={sc['n_layers']}: scan n=4..{ns[-1]} in {sc['scan_seconds']:.1f} s "
              f"({sc['route_seconds']:.1f} s in the routes, {sc['route_cpu_seconds']:.1f} s of CPU time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
