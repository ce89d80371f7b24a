"""Does strength=auto meet issue 17's targets? Compared per clip class on the report clips (and tune ones).

Target 1: on the metric of record (lower is better), auto's mean over a class's clips is within 5 % of the
best *fixed* strength's mean over the same clips, per model. Target 2: on clean ("light") inputs, auto's
PSNR is never more than 0.5 dB below encoded bicubic's on the same clip.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

FIXED = (0.25, 0.5, 0.75, 1.0)
WITHIN = 0.05
PSNR_SLACK_DB = 0.5


def verdicts(table: list[dict[str, Any]], record: str) -> dict[str, Any]:
    """Per (role, kind, model): auto vs the best fixed strength; plus every clean clip that loses > 0.5 dB."""
    by_group: dict[tuple[str, str, str], dict[Any, list[float]]] = defaultdict(lambda: defaultdict(list))
    bicubic_psnr = {
        (row["source"], row["level"]): row["psnr_db"] for row in table if row["method"] == "bicubic"
    }
    fidelity_misses = []
    for row in table:
        if row["strength"] is None:
            continue
        by_group[(row["role"], row["kind"], row["method"])][row["strength"]].append(row[record])
        if row["strength"] == "auto" and row["level"] == "light":
            loss = bicubic_psnr[(row["source"], row["level"])] - row["psnr_db"]
            if loss > PSNR_SLACK_DB:
                fidelity_misses.append(
                    {"model": row["method"], "source": row["source"], "below_bicubic_db": round(loss, 2)}
                )
    classes = []
    for (role, kind, model), scores in sorted(by_group.items()):
        means = {strength: sum(values) / len(values) for strength, values in scores.items()}
        best = min(FIXED, key=lambda s: means[s])
        gap = (means["auto"] - means[best]) / abs(means[best])
        classes.append(
            {
                "role": role,
                "kind": kind,
                "model": model,
                "best_fixed": best,
                "best_fixed_score": round(means[best], 2),
                "auto_score": round(means["auto"], 2),
                "gap_pct": round(100 * gap, 1),
                "meets": gap <= WITHIN,
            }
        )
    return {
        "metric": record,
        "classes": classes,
        "missed_classes": [c for c in classes if not c["meets"]],
        "fidelity_misses": fidelity_misses,
    }
