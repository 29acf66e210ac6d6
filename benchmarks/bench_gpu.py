"""GPU benchmark: ∂C/∂θ₀ of S McClean circuits (L layers, cost zz) on CUDA, n = 16..24.

For each n: seconds for the batched parameter-shift gradient (2S states through the circuit,
chunked under ``--max-memory``), and the fraction of the HBM bandwidth bound that this
reaches. The bound assumes each pass over the states reads and writes them once::

    passes  = L · (blocks per layer + 1 diagonal)   (blocks: qcgrad.quantum.engine._chunks)
    bytes   = 2 · 2S · 2^n · bytes per amplitude · passes
    bound_s = bytes / peak bandwidth                 (H100 SXM 3.35 TB/s, H200 4.8 TB/s)

so ``fraction = bound_s / seconds`` (1.0 = memory-bound at peak). Without a CUDA device the
JSON says "no CUDA device" and nothing is timed.

At n = 26..30 one point of S = 200 takes minutes (a 30-qubit complex128 state is 16 GiB):
``--seconds-per-point`` lowers S per n so that the bandwidth bound of a point stays within
it (S is recorded per row; the fraction of the bound does not depend on S).

    python benchmarks/bench_gpu.py --out benchmarks/results [--quick] [--n-min 16 --n-max 24]
    python benchmarks/bench_gpu.py --out benchmarks/results --n-min 26 --n-max 30 --seconds-per-point 30
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

import qcgrad as qg
from qcgrad.quantum import engine

#: Peak HBM bandwidth (bytes/s) by device-name fragment; --peak-bandwidth overrides.
PEAK_BANDWIDTH = {"H200": 4.8e12, "H100": 3.35e12, "A100": 2.0e12}


def passes_per_circuit(n: int, n_layers: int) -> int:
    """State passes of one random_pauli circuit: per layer, one per fused block and one diagonal."""
    return n_layers * (len(engine._chunks(n, engine.block_wires(n, torch.device("cuda")))) + 1)


def time_gpu(n: int, n_layers: int, s: int, dtype: torch.dtype, max_memory: int, repeats: int) -> float:
    model = qg.quantum.circuit("random_pauli", n, n_layers, cost="zz", dtype=dtype, max_memory=max_memory)
    params = model.sample_params(torch.Generator().manual_seed(n), s).cuda()
    first = torch.tensor([0])
    model.grad(params[:2], first)  # warm-up: kernels, allocator
    best = float("inf")
    for _ in range(repeats):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        model.grad(params, first)
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--quick", action="store_true", help="n = 16..18 only, one repeat")
    ap.add_argument("--n-min", type=int, default=16)
    ap.add_argument("--n-max", type=int, default=24)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--layers", type=int, default=50)
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                    help="state precision: float64 = complex128 (default), float32 = complex64")
    ap.add_argument("--max-memory", type=float, default=0.5,
                    help="fraction of free GPU memory for one batch of states")
    ap.add_argument("--peak-bandwidth", type=float, default=None, help="bytes/s; default from the device name")
    ap.add_argument("--seconds-per-point", type=float, default=None,
                    help="lower S per n so that a point's bandwidth bound fits this many seconds (at least 2)")
    args = ap.parse_args(argv)
    workload = {"ansatz": "random_pauli", "cost": "zz", "n_layers": args.layers, "n_samples": args.samples,
                "params": "first", "dtype": args.dtype,
                "engine_method": "batched parameter shift (2S states), chunked under max_memory"}
    result: dict = {"workload": workload, "versions": {"qcgrad": qg.__version__, "torch": torch.__version__,
                                                       "python": platform.python_version()}}
    args.out.mkdir(parents=True, exist_ok=True)
    if not torch.cuda.is_available():
        result["device"] = "no CUDA device"
        (args.out / "bench_gpu.json").write_text(json.dumps(result, indent=2))
        print("no CUDA device: nothing timed")
        return 0
    name = torch.cuda.get_device_name()
    peak = args.peak_bandwidth or next((bw for key, bw in PEAK_BANDWIDTH.items() if key in name), None)
    if peak is None:
        raise ValueError(f"no known peak bandwidth for {name!r}; pass --peak-bandwidth "
                         f"(known: {sorted(PEAK_BANDWIDTH)})")
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    amp_bytes = 16 if dtype == torch.float64 else 8
    free, _ = torch.cuda.mem_get_info()
    max_memory = int(args.max_memory * free)
    n_max = min(args.n_max, 18) if args.quick else args.n_max
    rows = []
    for n in range(args.n_min, n_max + 1):
        # Above n = 20 one run takes seconds and its spread is small: time it once.
        repeats = 1 if args.quick or n > 20 else 3
        passes = passes_per_circuit(n, args.layers)
        per_sample = 2 * 2 * (1 << n) * amp_bytes * passes  # bytes one sample's 2 shifted states move
        samples = args.samples if args.seconds_per_point is None else \
            max(2, min(args.samples, int(args.seconds_per_point * peak / per_sample)))
        seconds = time_gpu(n, args.layers, samples, dtype, max_memory, repeats)
        moved = samples * per_sample
        row = {"n_qubits": n, "n_samples": samples, "seconds": seconds, "passes": passes, "bytes_moved": moved,
               "bandwidth_bound_s": moved / peak, "fraction_of_bandwidth_bound": moved / peak / seconds}
        rows.append(row)
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    result.update({"device": name, "peak_bandwidth_bytes_per_s": peak, "max_memory_bytes": max_memory,
                   "times": rows})
    (args.out / "bench_gpu.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
