"""Markdown tables of a bench/quality.py JSON for docs/benchmarks.md: ``python -m bench.quality_report F``."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from statistics import fmean
from typing import Any

LEVELS = ("light", "medium", "heavy")
STRENGTHS = ("0.25", "0.5", "0.75", "1.0", "auto")


def _mean(rows: list[dict[str, Any]], key: str) -> float:
    return fmean(row[key] for row in rows)


def method_table(rows: list[dict[str, Any]], kind: str, record: str) -> list[str]:
    """Per method and level: the record metric at each strength, ΔPSNR vs bicubic at 1 and auto, flicker."""
    cells: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["kind"] == kind:
            cells[(row["method"], row["level"], str(row["strength"]))].append(row)
    methods = list(dict.fromkeys(row["method"] for row in rows))
    title = f"{record} .25/.5/.75/1/auto; ΔPSNR 1/auto; flicker 1"
    head = f"| method | {' | '.join(f'{level}: {title}' for level in LEVELS)} |"
    lines = [head, "|---" * (1 + len(LEVELS)) + "|"]
    for method in methods:
        parts = []
        for level in LEVELS:
            bicubic = _mean(cells[("bicubic", level, "None")], "psnr_db")
            if cells.get((method, level, "None")):
                base = cells[(method, level, "None")]
                gain = _mean(base, "psnr_db") - bicubic
                parts.append(f"{_mean(base, record):.1f}; {gain:+.2f} dB; {_mean(base, 'flicker_rel'):.2f}")
                continue
            scores = "/".join(f"{_mean(cells[(method, level, s)], record):.1f}" for s in STRENGTHS)
            psnr = "/".join(
                f"{_mean(cells[(method, level, s)], 'psnr_db') - bicubic:+.2f}" for s in ("1.0", "auto")
            )
            parts.append(f"{scores}; {psnr} dB; {_mean(cells[(method, level, '1.0')], 'flicker_rel'):.2f}")
        lines.append(f"| {method} | {' | '.join(parts)} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the sanity check, one table per content kind and the auto verdicts."""
    path = Path((argv or sys.argv[1:])[0])
    result = json.loads(path.read_text())
    record, rows = result["metric_of_record"], result["rows"]
    sanity = result["sanity"]
    print("| metric | clean rated better | kept |\n|---|---|---|")
    for name, count in sanity["correct"].items():
        print(f"| {name} | {count}/{sanity['total']} | {'yes' if count == sanity['total'] else 'no'} |")
    for kind in ("photo", "animation"):
        print(f"\n**{kind}**\n")
        print("\n".join(method_table(rows, kind, record)))
    print(f"\n| role | kind | model | best fixed | its {record} | auto {record} | gap | meets |")
    print("|---|---|---|---|---|---|---|---|")
    for c in result["auto"]["classes"]:
        print(
            f"| {c['role']} | {c['kind']} | {c['model']} | {c['best_fixed']} | {c['best_fixed_score']} | "
            f"{c['auto_score']} | {c['gap_pct']:+.1f} % | {'yes' if c['meets'] else '**no**'} |"
        )
    misses = result["auto"]["fidelity_misses"]
    print(f"\nfidelity misses (auto > 0.5 dB below bicubic on light clips): {misses or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
