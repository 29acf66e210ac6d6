"""Theory-layer benchmark: how fast qcgrad builds dynamical Lie algebras (DLAs).

Times, in one run (best of ``--repeats``; the host is shared and noisy, so read ratios, not
absolute seconds):

- the free-fermion circuit (RX on every qubit, IsingZZ on the chain pairs, each its own
  parameter) at n = 12: so(24), dim 276 — the closure alone, and the whole ``dla()`` (circuit
  reading, closure, ideals, center, purities); beside it PennyLane's ``lie_closure`` on the
  same generators;
- ``hva`` at n = 12 (TFIM Hamiltonian variational ansatz: generators are Pauli sums);
- random_pauli at n = 6: su(2^6) (dim 4095) recognised after how many elements, and the time;
  at n = 4 beside PennyLane's ``lie_closure``, which enumerates all 255 elements.

    python benchmarks/bench_theory.py --out benchmarks/results [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import pennylane as qml
from pennylane.liealg import lie_closure
from timing import best_time

import qcgrad as qg
from qcgrad.theory import dla, pauli
from qcgrad.theory.heisenberg import read_circuit
from qcgrad.theory.lie_algebra import _closure

# The free-fermion (matchgate) user circuit of the theory tests, measured here as there.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "theory"))
from freefermion import free_fermion  # noqa: E402


def case(name: str, model, repeats: int, peer: bool) -> dict:
    reading = read_circuit(model)
    t_read, _, _ = best_time(lambda: read_circuit(model), repeats)
    t_closure, _, (elements, full) = best_time(lambda: _closure(reading.generators, model.n_qubits, 10 ** 7), repeats)
    t_dla, _, g = best_time(lambda: dla(model, max_dim=10 ** 7), repeats)
    row = {"case": name, "n_qubits": model.n_qubits, "dim": g.dim, "full": g.full,
           "ideals": [i.kind for i in g.ideals], "center_dim": g.center_dim,
           "elements_enumerated": len(elements), "seconds_read": t_read, "seconds_closure": t_closure,
           "seconds_dla": t_dla}
    if peer:
        gens = [pauli.to_pennylane(s, model.n_qubits) for s in reading.generators]
        t_pl, _, out = best_time(lambda: lie_closure(gens, pauli=True), 1)
        row.update(pennylane_lie_closure_seconds=t_pl, pennylane_dim=len(out), speedup_closure=t_pl / t_closure)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = [
        case("free_fermion", free_fermion(12, 3), args.repeats, peer=True),
        case("hva", qg.quantum.circuit("hva", n_qubits=12, n_layers=4, cost="tfim"), args.repeats, peer=False),
        case("random_pauli_su", qg.quantum.circuit("random_pauli", n_qubits=6, n_layers=12), args.repeats, peer=False),
        case("random_pauli_su_small", qg.quantum.circuit("random_pauli", n_qubits=4, n_layers=12), args.repeats,
             peer=True),
    ]
    payload = {"benchmark": "theory", "qcgrad": qg.__version__, "pennylane": qml.__version__,
               "python": platform.python_version(), "machine": platform.machine(),
               "note": "shared, noisy host: best of --repeats; compare within one run", "cases": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_theory.json").write_text(json.dumps(payload, indent=1))
    print(f"{'case':24} {'n':>3} {'dim':>8} {'enumerated':>10} {'closure s':>10} {'dla() s':>9} {'PL closure s':>12}")
    for r in rows:
        pl = r.get("pennylane_lie_closure_seconds")
        print(f"{r['case']:24} {r['n_qubits']:3d} {r['dim']:8d} {r['elements_enumerated']:10d} "
              f"{r['seconds_closure']:10.3f} {r['seconds_dla']:9.3f} {'-' if pl is None else f'{pl:12.3f}':>12}")
    print(f"wrote {out / 'bench_theory.json'}")


if __name__ == "__main__":
    main()
