"""from_module on a ResNet-18-style net: per-sample gradients by torch.func.vmap vs a per-sample loop.

The net (tests/classical/resnet_style.py: stem, four stages of two BasicBlocks with BatchNorm,
channels w..8w, linear classifier) runs on a fixed batch of 32×32 RGB images with
cross-entropy. Both paths compute the full per-sample gradients of the same S parameter
vectors (qcgrad's seeded stream, the module's own reset_parameters() init): ``model.grad``
(one vmapped pass) and a loop of one autograd call per sample on ``model.sample_cost``.
The JSON records both times (best of repeats, wall and CPU), their ratio, and the largest
difference of the two gradient tensors. The host is shared and noisy: the two paths are
timed side by side in one run, and the ratio is what to read.

On CPU the per-sample loop is not bound by call overhead once the convolutions are large:
vmap turns the S convolutions into one grouped convolution with the same arithmetic, so the
ratio is near 1 at width 8 and grows only where per-call overhead dominates (small widths).

Usage: python benchmarks/bench_module.py --out benchmarks/results [--samples 64] [--batch 8] [--widths 2 8]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import torch
from timing import best_time

import qcgrad as qg
from qcgrad.seeding import sample_block

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "classical"))
from resnet_style import ResNet18Style  # noqa: E402

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def loop_gradients(model, theta: torch.Tensor) -> torch.Tensor:
    """The baseline: one autograd call per sample, no batching."""
    rows = []
    for row in theta:
        p = row.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(model.sample_cost(p), p)
        rows.append(g)
    return torch.stack(rows)


def run(samples: int, batch: int, width: int, dtype: str, seed: int, repeats: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, 3, 32, 32, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 10, (batch,), generator=gen)
    torch.manual_seed(seed)
    model = qg.classical.from_module(ResNet18Style(width), images, labels, loss="cross_entropy",
                                     dtype=DTYPES[dtype])
    theta = sample_block(model, seed, 0, samples)
    model.grad(theta[:2])  # warm-ups: first calls pay one-off dispatch costs
    loop_gradients(model, theta[:2])
    t_vmap, cpu_vmap, g_vmap = best_time(lambda: model.grad(theta), repeats)
    t_loop, cpu_loop, g_loop = best_time(lambda: loop_gradients(model, theta), repeats)
    row = {"dtype": dtype, "width": width, "n_params": model.n_params, "n_samples": samples, "batch": batch,
           "vmap_s": t_vmap, "loop_s": t_loop, "speedup": t_loop / t_vmap,
           "vmap_cpu_s": cpu_vmap, "loop_cpu_s": cpu_loop, "cpu_speedup": cpu_loop / cpu_vmap,
           "max_abs_diff": (g_vmap - g_loop).abs().max().item(),
           "variance_fc": g_vmap[:, model.param_groups["fc"]].var(dim=0).mean().item()}
    print(f"{dtype} width {width} ({model.n_params} params), S={samples}, batch {batch}: vmap {t_vmap:.3f} s, "
          f"loop {t_loop:.3f} s, speedup {t_loop / t_vmap:.1f}x (CPU time {cpu_loop / cpu_vmap:.1f}x), "
          f"max |diff| {row['max_abs_diff']:.1e}", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for bench_module.json")
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--widths", type=int, nargs="+", default=[2, 8],
                        help="channels of the first stage (64: ResNet-18); small widths are overhead-bound")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtype", choices=[*DTYPES, "both"], default="both")
    args = parser.parse_args()
    dtypes = list(DTYPES) if args.dtype == "both" else [args.dtype]
    rows = [run(args.samples, args.batch, w, d, args.seed, args.repeats) for w in args.widths for d in dtypes]
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": "from_module ResNet-18-style per-sample gradients, vmap vs per-sample loop",
              "torch": torch.__version__, "threads": torch.get_num_threads(),
              "machine": platform.processor() or platform.machine(), "results": rows}
    (args.out / "bench_module.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out / 'bench_module.json'}")


if __name__ == "__main__":
    main()
