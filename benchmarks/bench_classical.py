"""First-layer gradient variance over S init samples: torch.func.vmap path vs a Python loop.

For a tanh/Xavier MLP and a fully-connected ReLU/He ResNet with BatchNorm (width 64) at
depths 2..64, both paths compute the per-sample gradients of the same S parameter vectors
(qcgrad's seeded stream) and the variance of the first layer's partials; the JSON records
both times (best of repeats, wall and CPU), their ratio and both variances (which must agree).
The loop is one autograd call per sample on ``model.sample_cost``: the same function the
vmap path batches. Both precisions run by default: float64 (the builders' default) and
float32, where the batched GEMMs are several times faster on CPU while the loop is bound
by per-call overhead either way.

Usage: python benchmarks/bench_classical.py --out benchmarks/results [--samples 200] [--dtype both]
"""
from __future__ import annotations

import argparse
import json
import platform
from functools import partial
from pathlib import Path

import torch
from timing import best_time

import qcgrad as qg
from qcgrad.seeding import sample_block

DEPTHS = (2, 4, 8, 16, 32, 64)
WIDTH = 64
BUILDERS = {
    "mlp": lambda d, dtype: qg.classical.mlp(depth=d, width=WIDTH, activation="tanh", init="xavier", dtype=dtype),
    "resnet": lambda d, dtype: qg.classical.resnet(depth=d, width=WIDTH, activation="relu", init="he",
                                                   batchnorm=True, dtype=dtype),
}
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def loop_gradients(model, theta: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """The baseline: one autograd call per sample, no batching."""
    rows = []
    for row in theta:
        p = row.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(model.sample_cost(p), p)
        rows.append(g[indices])
    return torch.stack(rows)


def run(samples: int, seed: int, dtype: str) -> list[dict]:
    rows = []
    for name, build in BUILDERS.items():
        for depth in DEPTHS:
            model = build(depth, DTYPES[dtype])
            theta = sample_block(model, seed, 0, samples)
            idx = qg.resolve_params(model, "layer:0")
            model.grad(theta[:2], idx)  # warm-ups: first calls pay one-off dispatch costs
            loop_gradients(model, theta[:2], idx)
            t_vmap, cpu_vmap, g_vmap = best_time(partial(model.grad, theta, idx), repeats=3)
            t_loop, cpu_loop, g_loop = best_time(partial(loop_gradients, model, theta, idx), repeats=3)
            var_vmap = g_vmap.var(dim=0).mean().item()
            var_loop = g_loop.var(dim=0).mean().item()
            rows.append({"model": name, "dtype": dtype, "depth": depth, "width": WIDTH, "n_samples": samples,
                         "vmap_s": t_vmap, "loop_s": t_loop, "speedup": t_loop / t_vmap,
                         "vmap_cpu_s": cpu_vmap, "loop_cpu_s": cpu_loop, "cpu_speedup": cpu_loop / cpu_vmap,
                         "variance_vmap": var_vmap, "variance_loop": var_loop,
                         "max_abs_diff": (g_vmap - g_loop).abs().max().item()})
            print(f"{name:7} {dtype} depth {depth:3}: vmap {t_vmap:7.3f} s  loop {t_loop:7.3f} s  "
                  f"speedup {t_loop / t_vmap:6.1f}× (CPU time {cpu_loop / cpu_vmap:6.1f}×)  "
                  f"Var(layer:0) {var_vmap:.3e}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for bench_classical.json")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=[*DTYPES, "both"], default="both",
                        help="parameter and data precision (float64 is the builders' default)")
    args = parser.parse_args()
    dtypes = list(DTYPES) if args.dtype == "both" else [args.dtype]
    rows = [row for dtype in dtypes for row in run(args.samples, args.seed, dtype)]
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": "classical first-layer gradient variance, vmap vs per-sample loop",
              "torch": torch.__version__, "threads": torch.get_num_threads(),
              "machine": platform.processor() or platform.machine(),
              "results": rows}
    (args.out / "bench_classical.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out / 'bench_classical.json'}")


if __name__ == "__main__":
    main()
