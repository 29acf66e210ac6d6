"""McClean workload benchmark: ∂C/∂θ₀ of S random circuits (L layers, cost zz), n = 2..n_max.

Times, in one run: qcgrad's engine (batched parameter shift, tape recording included), the
PennyLane barren-plateau demo loop (default.qubit, one QNode + qml.grad per sample; n ≤ 6,
fewer samples, scaled per sample), and a lightning.qubit adjoint loop (one QNode per sample,
only θ₀ trainable; fewer samples, scaled); each peer the best of 3 rounds. Also the peak memory of all-parameter adjoint
gradients at L and 4L (RSS high-water mark in a fresh subprocess per point, with a fixed
glibc mmap threshold so RSS follows live tensors), and engine vs lightning.qubit at n=14..18
with few samples. Writes JSON and prints a table. Peers that are not installed are reported
as such.

All partials (``params="all"``, the adjoint path) are timed too: first call in a fresh process
and steady state, beside TensorCircuit-ng's jitted ``vmap(value_and_grad)`` (steady state, and
its first call with compilation for n ≤ 6) when ``jax`` and ``tensorcircuit-ng`` are installed.

    python benchmarks/bench_gradvar.py --out benchmarks/results [--quick] [--n-max 12] [--only allpartials]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch
from timing import interleaved_best

import qcgrad as qg
from qcgrad.quantum import engine

PAULIS = ("RX", "RY", "RZ")


def time_engine(n: int, n_layers: int, s: int, repeats: int) -> float:
    """Best time of at least ``repeats`` calls, and of as many as fit about one second
    (at most 20): a peer's round of samples also spans about a second."""
    model = qg.quantum.circuit("random_pauli", n, n_layers, cost="zz")
    params = model.sample_params(torch.Generator().manual_seed(n), s)
    first = torch.tensor([0])
    t0 = time.perf_counter()
    model.grad(params, first)  # warm-up (allocator, caches)
    best = math.inf
    for _ in range(min(20, max(repeats, int(1.0 / (time.perf_counter() - t0))))):
        t0 = time.perf_counter()
        model.grad(params, first)
        best = min(best, time.perf_counter() - t0)
    return best


_FIRST = """
import sys, time, torch, qcgrad as qg
n, L, s = map(int, sys.argv[1:4])
m = qg.quantum.circuit("random_pauli", n, L, cost="zz")
p = m.sample_params(torch.Generator().manual_seed(n), s)
t0 = time.perf_counter()
m.grad(p)
print(time.perf_counter() - t0)
"""


def _engine_all(n: int, n_layers: int, s: int):
    """A zero-argument timer of ``model.grad(params)`` (all partials), after a warm-up call."""
    model = qg.quantum.circuit("random_pauli", n, n_layers, cost="zz")
    params = model.sample_params(torch.Generator().manual_seed(n), s)
    model.grad(params)
    return lambda: model.grad(params)


def first_call(n: int, n_layers: int, s: int) -> float:
    """Seconds of the first all-partials call in a fresh process (imports excluded)."""
    return float(subprocess.run([sys.executable, "-c", _FIRST, str(n), str(n_layers), str(s)],
                                capture_output=True, text=True, check=True).stdout)


def _tensorcircuit_grad(n: int, n_layers: int):
    """TensorCircuit-ng's jitted ``vmap(value_and_grad)`` of the McClean cost (complex128,
    the engine's precision): the layers run in ``jax.lax.scan`` (compiles in seconds where an
    unrolled circuit takes minutes), each random-axis rotation one 2x2 unitary, as in qcgrad."""
    import jax
    import jax.numpy as jnp
    import tensorcircuit as tc

    jax.config.update("jax_enable_x64", True)
    backend = tc.set_backend("jax")
    tc.set_dtype("complex128")
    eye, px = jnp.eye(2), jnp.array([[0.0, 1.0], [1.0, 0.0]])
    py, pz = jnp.array([[0.0, -1j], [1j, 0.0]]), jnp.diag(jnp.array([1.0, -1.0]))

    def layer(state, xs):
        theta, codes = xs
        c = tc.Circuit(n, inputs=state)
        for w in range(n):
            axis = (codes[w] == 0) * px + (codes[w] == 1) * py + (codes[w] == 2) * pz
            c.unitary(w, unitary=jnp.cos(theta[w] / 2) * eye - 1j * jnp.sin(theta[w] / 2) * axis)
        for w in range(n - 1):
            c.cz(w, w + 1)
        return c.state(), None

    def cost(theta, codes):
        c = tc.Circuit(n)
        for w in range(n):
            c.ry(w, theta=jnp.pi / 4)
        state, _ = jax.lax.scan(layer, c.state(), (theta.reshape(n_layers, n), codes.reshape(n_layers, n)))
        return backend.real(tc.Circuit(n, inputs=state).expectation_ps(z=[0, 1]))

    return jax.jit(jax.vmap(jax.value_and_grad(cost))), jnp


def _tensorcircuit(n: int, n_layers: int, s: int) -> tuple:
    """A zero-argument timer of TensorCircuit-ng's call on the engine's parameter samples, and
    the seconds of its first call (compilation included)."""
    fn, jnp = _tensorcircuit_grad(n, n_layers)
    model = qg.quantum.circuit("random_pauli", n, n_layers, cost="zz")
    params = model.sample_params(torch.Generator().manual_seed(n), s).numpy()
    theta, codes = jnp.asarray(params[:, : n * n_layers]), jnp.asarray(params[:, n * n_layers:].round().astype(int))
    t0 = time.perf_counter()
    fn(theta, codes)[1].block_until_ready()
    return (lambda: fn(theta, codes)[1].block_until_ready()), time.perf_counter() - t0


def all_partials(n_max: int, n_layers: int, s: int, tensorcircuit: bool, save=None) -> list[dict]:
    """All-partials rows: engine first call and steady state, TensorCircuit side by side
    (steady states interleaved call by call, best of 5 rounds; 2 above 8 qubits).
    ``save(rows)`` is called after every row, so a long run keeps what it measured."""
    rows = []
    for n in range(2, n_max + 1):
        row = {"n_qubits": n, "engine_all_first_s": first_call(n, n_layers, s)}
        calls = {"engine_all_s": _engine_all(n, n_layers, s)}
        if tensorcircuit:
            calls["tensorcircuit_s"], compile_s = _tensorcircuit(n, n_layers, s)
            if n <= 6:
                row["tensorcircuit_first_s"] = compile_s
        row.update(interleaved_best(calls, rounds=5 if n <= 8 else 2))
        if tensorcircuit:
            row["steady_ratio_tc_over_engine"] = row["tensorcircuit_s"] / row["engine_all_s"]
        row["engine_first_over_steady"] = row["engine_all_first_s"] / row["engine_all_s"]
        rows.append(row)
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
        if save is not None:
            save(rows)
    return rows


def _demo_circuit(qml, np, n: int, n_layers: int, gates, rest):
    def circuit(theta0):
        for w in range(n):
            qml.RY(np.pi / 4, wires=w)
        for layer in range(n_layers):
            for w in range(n):
                i = layer * n + w
                getattr(qml, gates[i])(theta0 if i == 0 else rest[i], wires=w)
            for w in range(n - 1):
                qml.CZ(wires=[w, w + 1])
        return qml.expval(qml.Z(0) @ qml.Z(1))
    return circuit


def time_pennylane_loop(device: str, n: int, n_layers: int, s: int, rounds: int = 1) -> float:
    """Seconds per sample of a loop that builds one QNode per random circuit and takes qml.grad.

    The best of ``rounds`` loops over ``s`` samples, as the engine takes its best of repeats.
    """
    return min(_loop_once(device, n, n_layers, s) for _ in range(rounds))


def _loop_once(device: str, n: int, n_layers: int, s: int) -> float:
    import pennylane as qml
    from pennylane import numpy as np

    rng = __import__("random").Random(n)
    diff = "adjoint" if device.startswith("lightning") else "backprop"
    dev = qml.device(device, wires=n)
    t0 = time.perf_counter()
    for _ in range(s):
        gates = [rng.choice(PAULIS) for _ in range(n * n_layers)]
        rest = [rng.uniform(0, 2 * math.pi) for _ in range(n * n_layers)]
        node = qml.QNode(_demo_circuit(qml, np, n, n_layers, gates, rest), dev, diff_method=diff)
        qml.grad(node)(np.array(rng.uniform(0, 2 * math.pi), requires_grad=True))
    return (time.perf_counter() - t0) / s


_PEAK = """
import sys, torch, qcgrad as qg
n, L, s = map(int, sys.argv[1:4])
torch.set_num_threads(int(sys.argv[4]))
m = qg.quantum.circuit("random_pauli", n, L, cost="zz")
p = m.sample_params(torch.Generator().manual_seed(0), s)
def kib(field):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(field))
before = kib("VmRSS:")
m.grad(p)
print((kib("VmHWM:") - before) * 1024, p.numel() * 8)
"""
#: glibc raises its mmap threshold up to 32 MiB after the first large free, then keeps freed
#: state-sized temporaries in the heap: RSS then measures fragmentation, not live tensors
#: (1.2 GiB vs 0.13 GiB live at n=12, S=200). A fixed threshold keeps big blocks in mmap.
_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}


def peak_memory(n: int, n_layers: int, s: int) -> dict:
    """Extra peak RSS (bytes) of all-parameter adjoint gradients, in a fresh process.

    No warm-up call: the high-water mark is read against the RSS just before the one call,
    so imports and the model are excluded and nothing freed earlier hides in the heap.
    """
    env = {**os.environ, **_MALLOC_ENV}
    out = subprocess.run([sys.executable, "-c", _PEAK, str(n), str(n_layers), str(s), str(torch.get_num_threads())],
                         capture_output=True, text=True, check=True, env=env).stdout.split()
    return {"n_qubits": n, "n_layers": n_layers, "n_samples": s, "peak_rss_delta_bytes": int(out[0]),
            "params_bytes": int(out[1]), "state_bytes": s * (1 << n) * 16}


def _installed(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--quick", action="store_true", help="n ≤ 6, fewer peer samples, small memory points")
    ap.add_argument("--n-max", type=int, default=12)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--layers", type=int, default=50)
    ap.add_argument("--large-samples", type=int, default=20, help="S for the n=14..18 lightning comparison")
    ap.add_argument("--only", choices=["allpartials"], help="run only these rows (JSON: bench_gradvar_<rows>.json)")
    args = ap.parse_args(argv)
    n_max = min(args.n_max, 6) if args.quick else args.n_max
    s, L = args.samples, args.layers
    demo_s, light_s = (2, 4) if args.quick else (4, 10)
    versions = {"qcgrad": qg.__version__, "torch": torch.__version__, "python": platform.python_version(),
                "pennylane": _installed("pennylane"), "pennylane_lightning": _installed("pennylane-lightning"),
                "jax": _installed("jax"), "tensorcircuit_ng": _installed("tensorcircuit-ng")}
    tensorcircuit = bool(versions["jax"] and versions["tensorcircuit_ng"])
    machine = {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
               "torch_threads": torch.get_num_threads(), "load_avg_before": os.getloadavg(),
               "engine_min_amplitudes_per_thread": engine.MIN_AMPLITUDES_PER_THREAD}
    all_result: dict = {"workload": {"ansatz": "random_pauli", "cost": "zz", "n_layers": L, "n_samples": s,
                               "params": "all", "engine_method": "adjoint (CircuitModel.grad)",
                               "engine_timing": "first: fresh process, imports excluded; steady: best of 5 "
                                                "calls (2 for n > 8) after a warm-up, interleaved with TensorCircuit's",
                               "tensorcircuit": "jax.jit(vmap(value_and_grad)), complex128, layers in lax.scan; "
                                                "first call (compilation) for n <= 6, steady: best of 5 (2 for n > 8)"
                               if tensorcircuit else "not installed"}}

    def save(rows: list[dict]) -> None:
        all_result["times"] = rows
        if args.only == "allpartials":
            args.out.mkdir(parents=True, exist_ok=True)
            result = {"all_partials": all_result, "versions": versions,
                      "machine": {**machine, "load_avg_after": os.getloadavg(),
                                  "note": "shared 2-core host: ratios are from one run, side by side"}}
            (args.out / "bench_gradvar_allpartials.json").write_text(json.dumps(result, indent=2))

    all_partials(n_max, L, s, tensorcircuit, save)
    if args.only == "allpartials":
        return 0
    rows = []
    for n in range(2, n_max + 1):
        row = {"n_qubits": n, "engine_s": time_engine(n, L, s, repeats=3)}
        if versions["pennylane"] and n <= 6:
            row["demo_loop_s"] = time_pennylane_loop("default.qubit", n, L, demo_s, rounds=3) * s
            row["demo_ratio"] = row["demo_loop_s"] / row["engine_s"]
        if versions["pennylane_lightning"]:
            row["lightning_adjoint_loop_s"] = time_pennylane_loop("lightning.qubit", n, L, light_s, rounds=3) * s
            row["lightning_ratio"] = row["lightning_adjoint_loop_s"] / row["engine_s"]
        rows.append(row)
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    # Large states, CPU, against lightning.qubit: few samples so the whole table takes minutes.
    large_s, large_light_s = (4, 1) if args.quick else (args.large_samples, 2)
    large = []
    for n in ([14] if args.quick else range(14, 19)):
        row = {"n_qubits": n, "n_samples": large_s, "engine_s": time_engine(n, L, large_s, repeats=1)}
        if versions["pennylane_lightning"]:
            row["lightning_adjoint_loop_s"] = time_pennylane_loop("lightning.qubit", n, L, large_light_s) * large_s
            row["lightning_ratio"] = row["lightning_adjoint_loop_s"] / row["engine_s"]
        large.append(row)
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    mem_n, mem_s = (8, 50) if args.quick else (12, s)
    memory = [peak_memory(mem_n, layers, mem_s) for layers in (L, 4 * L)]
    result = {
        "workload": {"ansatz": "random_pauli", "cost": "zz", "n_layers": L, "n_samples": s, "params": "first",
                     "engine_method": "batched parameter shift (2S states in one forward pass)",
                     "engine_timing": "best of >= 3 calls, as many as fit about 1 s (at most 20), after a warm-up"},
        "peers": {
            "demo_loop": {"device": "default.qubit", "diff_method": "backprop", "n_max": 6,
                          "samples_timed": demo_s, "rounds": 3, "note": "best round, seconds per sample x S"}
            if versions["pennylane"] else "not installed",
            "lightning_adjoint_loop": {"device": "lightning.qubit", "diff_method": "adjoint",
                                       "samples_timed": light_s, "rounds": 3,
                                       "note": "best round, seconds per sample x S, only theta0 trainable"}
            if versions["pennylane_lightning"] else "not installed",
            "qiskit_aer": "not installed" if not _installed("qiskit-aer") else "installed, not timed",
            "tensorcircuit": "see all_partials" if tensorcircuit else "not installed",
        },
        "times": rows,
        "all_partials": all_result,
        "large_n_cpu": {"n_samples": large_s, "lightning_samples_timed": large_light_s,
                        "note": "S kept small so n=14..18 finishes in minutes; lightning scaled per sample",
                        "times": large},
        "memory_all_params_adjoint": memory,
        "memory_ratio_4L_over_L": memory[1]["peak_rss_delta_bytes"] / max(1, memory[0]["peak_rss_delta_bytes"]),
        "versions": versions,
        "machine": {**machine, "load_avg_after": os.getloadavg()},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_gradvar.json").write_text(json.dumps(result, indent=2))
    print(f"memory (n={mem_n}, S={mem_s}): L={L}: {memory[0]['peak_rss_delta_bytes'] / 2**20:.1f} MiB, "
          f"L={4 * L}: {memory[1]['peak_rss_delta_bytes'] / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
