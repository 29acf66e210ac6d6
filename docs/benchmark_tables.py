"""Render ``benchmarks/results/*.json`` as reStructuredText tables for the benchmarks page.

Each JSON file becomes a section: every top-level list of records becomes a table (one column
per key), everything else (workload, peers, versions, machine) a literal block, so a benchmark's
figures are quoted exactly as its script wrote them.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = json.dumps(value, separators=(",", ":")) if isinstance(value, (list, dict)) else str(value)
    # One line per cell (a multi-line value, such as a mutant's diff, would break the table) and
    # at most 80 characters: the JSON file itself has the whole value.
    text = " ".join(text.split())
    text = text if len(text) <= 80 else text[:79] + "…"
    # Escape reST markup characters: a key such as ``n_`` would otherwise be a reference.
    return re.sub(r"([_*`|\\])", r"\\\1", text)


def _table(rows: list[dict[str, Any]]) -> list[str]:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for i, row in enumerate([dict(zip(keys, keys, strict=True)), *rows]):
        for j, key in enumerate(keys):
            text = key if i == 0 else _cell(row.get(key, ""))
            lines.append(f"   {'* -' if j == 0 else '  -'} {text or ' '}")
    return [*lines, ""]


def _section(path: Path) -> list[str]:
    data = json.loads(path.read_text())
    title = f"``{path.name}``"
    lines = [title, "-" * len(title), ""]
    rest: dict[str, Any] = {}
    items = data.items() if isinstance(data, dict) else [("results", data)]
    for key, value in items:
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines += [f"**{key}**", "", *_table(value)]
        else:
            rest[key] = value
    if rest:
        lines += ["**setup**", "", ".. code-block:: json", ""]
        lines += ["   " + line for line in json.dumps(rest, indent=2).splitlines()] + [""]
    return lines


def write_benchmark_page(results: Path, target: Path) -> None:
    """Write one section per ``results/*.json`` into ``target`` (included by benchmarks.rst)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    for path in sorted(results.glob("*.json")):
        lines += _section(path)
    target.write_text("\n".join(lines) + "\n")
