"""Mutation testing of qcgrad's core with mutmut (``make mutation``; not in CI).

Mutates the modules in ``TARGETS`` (the statistics core, the classical initialisers, the
optimizers, the sweep store and the engine's gate builders), runs for each mutant the unit tests
that call the mutated function (mutmut's own test selection, over the files listed in
``[tool.mutmut]`` of pyproject.toml), and writes per-module killed / survived / timeout counts,
the score, and every surviving mutant with its diff and, where one was judged, its verdict
(``tools/mutation_verdicts.json``) to ``--out``.

A full run has about 4000 mutants (``--all``: hours); by default ``--sample 25`` draws 25 mutants
per module (seeded, without replacement) and reports each score with its 95 % Wilson interval, so
that a run fits the 30-minute budget on two cores. mutmut 3.8.1 is required
(``pip install mutmut==3.8.1``); the mutant-listing step uses its internals.

Usage::

    python tools/mutation.py --out benchmarks/results/mutation.json            # make mutation
    python tools/mutation.py --out ... --resume    # retest what survived, after adding tests
    python tools/mutation.py --out ... --modules qcgrad/stats.py qcgrad/seeding.py
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Module -> functions to mutate (None: all of them). The engine contributes only its gate builders.
TARGETS: dict[str, tuple[str, ...] | None] = {
    "qcgrad/stats.py": None,
    "qcgrad/seeding.py": None,
    "qcgrad/gradients.py": None,
    "qcgrad/classical/inits.py": None,
    **{str(p.relative_to(ROOT)): None for p in sorted((ROOT / "qcgrad" / "optim").glob("*.py"))
       if p.name != "__init__.py"},
    "qcgrad/sweep/store.py": None,
    "qcgrad/quantum/engine.py": ("_rx", "_ry", "_rz", "_rot", "_phase_shift", "_axis_rotation", "_matrix",
                                 "_half_angle"),
}
VERDICTS = ROOT / "tools" / "mutation_verdicts.json"
# mutmut's exit-code classes, collapsed to what the score needs.
KILLED = {"killed", "caught by type check"}
TIMEOUT = {"timeout"}
SURVIVED = {"survived", "no tests"}

_GENERATE = """
from mutmut.__main__ import copy_also_copy_files, create_mutants, makedirs
from mutmut.utils.file_utils import copy_src_dir
makedirs("mutants", exist_ok=True)
copy_src_dir()
copy_also_copy_files()
create_mutants(1)
"""


def _meta(module: str) -> dict[str, int | None]:
    path = ROOT / "mutants" / (module + ".meta")
    return json.loads(path.read_text())["exit_code_by_key"] if path.exists() else {}


def _function(name: str) -> str:
    """Bare function (or ``Class.method``) name of a mutant key like ``pkg.mod.x__rx__mutmut_3``."""
    mangled = name.partition("__mutmut_")[0].rpartition(".")[2]
    if "ǁ" in mangled:  # methods: xǁClassǁmethod
        _, cls, meth = mangled.split("ǁ")
        return f"{cls}.{meth}"
    return mangled[2:]


def _selected(module: str) -> list[str]:
    keep = TARGETS[module]
    return sorted(k for k in _meta(module) if keep is None or _function(k) in keep)


def _wilson(k: int, n: int, z: float = 1.96) -> list[float] | None:
    if n == 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(centre - half, 4), round(centre + half, 4)]


def _judged(modules: dict) -> float | None:
    """Caught share with equivalent survivors left out and kills outside mutmut's view counted."""
    caught = sum(v["killed"] + v["timeout"] + v.get("killed_outside_mutmut", 0) for v in modules.values())
    tested = sum(v["total"] - v["not_checked"] - v.get("equivalent", 0) for v in modules.values())
    return round(caught / tested, 4) if tested else None


def _diff(name: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    return get_diff_for_mutant(name)


def _mutated_line(diff: str) -> str:
    return " | ".join(line[1:].strip() for line in diff.splitlines() if line.startswith("+") and
                      not line.startswith("+++"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--modules", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    # 25 per module (~325 mutants) fit the 30-minute budget: ~4.5 s a mutant on the shared 2-core host.
    parser.add_argument("--sample", type=int, default=25, help="mutants drawn per module (default 25)")
    parser.add_argument("--all", action="store_true", help="every mutant (~4000: hours on two cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-children", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other modules' entries of an existing --out (runs at different code states)")
    parser.add_argument("--report-only", action="store_true",
                        help="only read mutants/ (a finished run) and write --out, e.g. after editing the verdicts")
    parser.add_argument("--resume", action="store_true",
                        help="keep mutants/ and mutmut's cached results and retest only the mutants not yet "
                        "caught (default: start from a fresh copy of the tree)")
    args = parser.parse_args(argv)
    if args.sample < 1:
        parser.error(f"--sample must be a positive number of mutants per module, got {args.sample}")

    os.chdir(ROOT)
    missing = [m for m in args.modules if not (ROOT / m).is_file()]
    if missing:  # e.g. a module turned into a package: update TARGETS and [tool.mutmut] only_mutate
        print(f"skipping {missing}: not files in this tree", file=sys.stderr)
        args.modules = [m for m in args.modules if m not in missing]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    start = time.perf_counter()
    if not (args.resume or args.report_only):
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    # The code state each module was mutated at (other work may change the tree during a run).
    copied_at = None if args.report_only or args.resume else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    hashes = {m: hashlib.sha256((ROOT / m).read_bytes()).hexdigest()[:16] for m in args.modules}
    if not args.report_only:
        subprocess.run([sys.executable, "-c", _GENERATE], check=True, env=env, stdout=subprocess.DEVNULL)

    from mutmut.stats import status_by_exit_code

    chosen: dict[str, list[str]] = {}
    for module in args.modules:
        names = _selected(module)
        if not args.all and len(names) > args.sample:
            # one generator per module: a larger --sample extends a smaller one's draw
            names = sorted(random.Random(f"{args.seed}:{module}").sample(names, args.sample))
        chosen[module] = names
    names = [n for module in args.modules for n in chosen[module]]
    if args.resume:  # retest only what is not yet caught (e.g. survivors, after new tests)
        codes = {k: v for module in args.modules for k, v in _meta(module).items()}
        names = [n for n in names if status_by_exit_code[codes.get(n)] not in KILLED | TIMEOUT]
    log = ROOT / "mutants" / "mutmut-run.log"
    returncode = 0
    if names and not args.report_only:
        mutmut = [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children), *names]
        with log.open("w") as out:
            returncode = subprocess.run(mutmut, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - start
    if returncode != 0:
        print(f"mutmut run failed with exit code {returncode}; its output: {log}", file=sys.stderr)

    verdicts = json.loads(VERDICTS.read_text()) if VERDICTS.exists() else {}
    modules, survivors = {}, []
    all_killed = all_tested = 0
    for module in args.modules:
        codes = _meta(module)
        counts = {"killed": 0, "survived": 0, "timeout": 0, "other": 0, "not_checked": 0}
        for name in chosen[module]:
            status = status_by_exit_code[codes.get(name)]
            if status in KILLED:
                counts["killed"] += 1
            elif status in TIMEOUT:
                counts["timeout"] += 1
            elif status in SURVIVED:
                counts["survived"] += 1
                diff = _diff(name)
                line = _mutated_line(diff)
                verdict = verdicts.get(f"{module}::{_function(name)}::{line}")
                survivors.append({"mutant": name, "module": module, "status": status, "mutated": line,
                                  "diff": diff, "verdict": verdict})
            elif status == "not checked":
                counts["not_checked"] += 1
            else:
                counts["other"] += 1
        tested = counts["killed"] + counts["timeout"] + counts["survived"] + counts["other"]
        caught = counts["killed"] + counts["timeout"]
        judged = [s["verdict"] or "" for s in survivors if s["module"] == module]
        equivalent = sum(v.startswith("equivalent") for v in judged)
        by_hand = sum(v.startswith("killed") for v in judged)
        modules[module] = {**counts, "sha256": hashes[module], "copied_at": copied_at,
                           "total": len(chosen[module]), "population": len(_selected(module)),
                           "score": round(caught / tested, 4) if tested else None,
                           "score_ci95": _wilson(caught, tested),
                           # equivalent survivors left out; "killed ..." verdicts (a test kills the mutant
                           # where mutmut cannot see it: forked children, import time) counted as caught
                           "score_judged": round((caught + by_hand) / (tested - equivalent), 4)
                           if tested - equivalent else None}
        all_killed += caught
        all_tested += tested
        modules[module]["equivalent"], modules[module]["killed_outside_mutmut"] = equivalent, by_hand
    if args.merge and args.out.exists():
        old = json.loads(args.out.read_text())
        modules = {**{m: v for m, v in old["modules"].items() if m not in modules}, **modules}
        survivors = [s for s in old["survivors"] if s["module"] not in args.modules] + survivors
        all_tested = sum(v["total"] - v["not_checked"] for v in modules.values())
        all_killed = sum(v["killed"] + v["timeout"] for v in modules.values())
        wall += old.get("wall_s", 0.0)
    result = {
        "tool": "mutmut 3.8.1",
        "sample_per_module": None if args.all else args.sample,
        "seed": args.seed,
        "max_children": args.max_children,
        "wall_s": round(wall, 1),
        "host": "shared and noisy: 2 cores, other jobs running; wall time is indicative only",
        "score": round(all_killed / all_tested, 4) if all_tested else None,
        "score_ci95": _wilson(all_killed, all_tested),
        "score_judged": _judged(modules),
        "modules": modules,
        "survivors": survivors,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({m: (v["score"], v["total"]) for m, v in modules.items()}), f"wall {wall:.0f} s")
    return returncode


if __name__ == "__main__":
    sys.exit(main())
